"""Scenario Texture Upscale: upscale image textures with Scenario without leaving Blender.

Blender imports this package and calls register()/unregister(). Everything that needs bpy is
imported inside them, so the bpy-free parts (api/, core/) can be imported and tested without
Blender.
"""


def register() -> None:
    from . import registration

    registration.register()


def unregister() -> None:
    from . import registration

    registration.unregister()
