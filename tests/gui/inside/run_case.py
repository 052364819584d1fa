"""blender --python run_case.py -- CASE_FILE FUNCTION CASE_DIR RESULT_JSON

Loads the case module and starts its generator from a timer once the window is up."""

import importlib.util
import sys
import traceback
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
sys.path.insert(0, str(Path(__file__).parent.parent / "cases"))
import harness  # noqa: E402

case_file, function, case_dir, result = sys.argv[sys.argv.index("--") + 1:][:4]
spec = importlib.util.spec_from_file_location("gui_case", case_file)
assert spec is not None and spec.loader is not None
module = importlib.util.module_from_spec(spec)
try:
    spec.loader.exec_module(module)
    steps = getattr(module, function)
except Exception:  # fail at once rather than at the case's timeout
    steps = harness.failing(traceback.format_exc())
harness.run(steps, Path(case_dir), Path(result))
