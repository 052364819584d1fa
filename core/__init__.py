"""Blender-free core of the add-on: image files, pixel maths, naming and the job pipeline."""
