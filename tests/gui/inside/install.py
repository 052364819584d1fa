"""blender -b --factory-startup --python install.py -- ZIP PREFS_JSON

Installs the built zip as a user does (Install from Disk, online access on), sets the add-on's
preferences, turns the splash off and saves the user preferences, so a later windowed Blender
with the same BLENDER_USER_RESOURCES starts with the extension enabled."""

import json
import sys

import bpy

zip_path, prefs_json = sys.argv[sys.argv.index("--") + 1:][:2]
preferences = bpy.context.preferences
preferences.system.use_online_access = True
preferences.view.show_splash = False
result = bpy.ops.extensions.package_install_files(
    filepath=zip_path, repo="user_default", enable_on_install=True
)
assert result == {"FINISHED"}, result
addon = preferences.addons["bl_ext.user_default.scenario_texture_upscale"].preferences
for name, value in json.loads(prefs_json).items():
    setattr(addon, name, value)
preferences.use_preferences_save = True
bpy.ops.wm.save_userpref()
print("INSTALLED", bpy.app.version_string)
