"""Local emulator of the parts of Scenario's cloud API that the texture-upscale client uses.

Test and development tool only; it is not shipped with the Blender extension. Start it with
``python -m emulator --port 0`` or ``emulator.server.EmulatorServer``; see README.md.
"""

__version__ = "1.0.0"
