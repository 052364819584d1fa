"""Fixed facts about the Scenario service and this client, in one place."""

from __future__ import annotations

MODEL_ID = "model_sc-upscale-flux-texture"

DEFAULT_BASE_URL = "https://api.cloud.scenario.com/v1"
ENV_API_KEY = "SCENARIO_SDK_API_KEY"
ENV_API_SECRET = "SCENARIO_SDK_API_SECRET"  # noqa: S105 - a variable name, not a secret
ENV_BASE_URL = "SCENARIO_BASE_URL"

CLIENT_VERSION = "0.1.0"
USER_AGENT = f"scenario-texture-upscale-blender/{CLIENT_VERSION}"

# (connect, read) seconds, as the official SDK uses; the add-on passes Blender's network timeout.
DEFAULT_TIMEOUT: tuple[float, float] = (5.0, 60.0)
DEFAULT_MAX_RETRIES = 3
