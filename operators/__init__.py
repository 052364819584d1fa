"""One operator per module; ``classes`` lists them in registration order."""

from .add_previews import SCENARIO_OT_add_previews
from .answer_price import SCENARIO_OT_answer_price
from .apply_result import SCENARIO_OT_apply_result
from .cancel_job import SCENARIO_OT_cancel_job
from .clear_previews import SCENARIO_OT_clear_previews
from .compare_images import SCENARIO_OT_compare_images
from .edit_settings_list import SCENARIO_OT_edit_settings_list
from .forget_job import SCENARIO_OT_forget_job
from .open_folder import SCENARIO_OT_open_folder
from .open_log import SCENARIO_OT_open_log
from .preview_upscale import SCENARIO_OT_preview_upscale
from .price_image import SCENARIO_OT_price_image
from .recover_jobs import SCENARIO_OT_recover_jobs
from .revert_image import SCENARIO_OT_revert_image
from .save_defaults import SCENARIO_OT_save_defaults
from .show_preview import SCENARIO_OT_show_preview
from .test_connection import SCENARIO_OT_test_connection
from .tiled_preview import SCENARIO_OT_tiled_preview
from .upscale_image import SCENARIO_OT_upscale_image
from .upscale_materials import SCENARIO_OT_upscale_materials
from .use_preview_settings import SCENARIO_OT_use_preview_settings

classes = (
    SCENARIO_OT_apply_result,
    SCENARIO_OT_upscale_image,
    SCENARIO_OT_price_image,
    SCENARIO_OT_upscale_materials,
    SCENARIO_OT_cancel_job,
    SCENARIO_OT_revert_image,
    SCENARIO_OT_test_connection,
    SCENARIO_OT_recover_jobs,
    SCENARIO_OT_forget_job,
    SCENARIO_OT_answer_price,
    SCENARIO_OT_compare_images,
    SCENARIO_OT_tiled_preview,
    SCENARIO_OT_save_defaults,
    SCENARIO_OT_edit_settings_list,
    SCENARIO_OT_open_folder,
    SCENARIO_OT_open_log,
    SCENARIO_OT_add_previews,
    SCENARIO_OT_preview_upscale,
    SCENARIO_OT_show_preview,
    SCENARIO_OT_use_preview_settings,
    SCENARIO_OT_clear_previews,
)
