"""Blender-free core of the add-on: image files, pixel maths, naming and the job pipeline."""

# The add-on's package as Blender imported it (bl_ext.<repository>.scenario_texture_upscale; the
# bare name in tests that import the tree directly): the one place it is worked out.
ADDON_PACKAGE = (__package__ or "").rpartition(".")[0]
