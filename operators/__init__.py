"""One operator per module; ``classes`` lists them in registration order."""

from .cancel_job import SCENARIO_OT_cancel_job
from .forget_job import SCENARIO_OT_forget_job
from .recover_jobs import SCENARIO_OT_recover_jobs
from .revert_image import SCENARIO_OT_revert_image
from .test_connection import SCENARIO_OT_test_connection
from .upscale_image import SCENARIO_OT_upscale_image

classes = (
    SCENARIO_OT_upscale_image,
    SCENARIO_OT_cancel_job,
    SCENARIO_OT_revert_image,
    SCENARIO_OT_test_connection,
    SCENARIO_OT_recover_jobs,
    SCENARIO_OT_forget_job,
)
