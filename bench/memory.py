"""Python-side peak allocation (tracemalloc) of the add-on's api client while it uploads and
downloads a texture, relative to the file size. Run in its own process (no bpy, nothing else
allocating): ``python bench/memory.py BASE_URL FILE [FILE ...]``; prints one JSON object.
"""

from __future__ import annotations

import json
import sys
import tempfile
import threading
import time
import tracemalloc
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def _import_api() -> tuple[object, object]:
    sys.path.insert(0, str(REPO))
    from tools.dev_addon import link_package

    root = link_package()
    sys.path.insert(0, str(root))
    from scenario_texture_upscale.api.client import ScenarioClient
    from scenario_texture_upscale.api.config import Credentials

    return ScenarioClient, Credentials


def _peak(action: object) -> tuple[float, object]:
    """Runs ``action()`` and returns the peak of traced memory above the start, in bytes."""
    tracemalloc.reset_peak()
    base, _ = tracemalloc.get_traced_memory()
    result = action()  # type: ignore[operator]
    _, peak = tracemalloc.get_traced_memory()
    return float(peak - base), result


def measure(base_url: str, files: list[Path]) -> dict[str, object]:
    client_class, credentials = _import_api()
    client = client_class.open(credentials("demo-key", "demo-secret"), base_url)  # type: ignore[attr-defined]
    tracemalloc.start()
    out: dict[str, object] = {}
    # Warm-up: imports, the connection pool and the first TLS/HTTP set-up are not per-file costs.
    client.upload_image(files[0])  # type: ignore[attr-defined]
    with tempfile.TemporaryDirectory() as tmp:
        for path in files:
            size = path.stat().st_size
            t0 = time.perf_counter()
            up_peak, asset = _peak(lambda p=path: client.upload_image(p))  # type: ignore[attr-defined]
            t1 = time.perf_counter()
            dest = Path(tmp) / f"down-{path.name}"
            down_peak, _ = _peak(lambda a=asset, d=dest: client.download_asset(a.id, d))  # type: ignore[attr-defined]
            t2 = time.perf_counter()
            assert dest.stat().st_size == size
            out[path.name] = {
                "file_bytes": size,
                "upload_peak_bytes": up_peak,
                "upload_peak_ratio": up_peak / size,
                "upload_way": "inline (data URL)" if size <= 3_500_000 else "multipart",
                "upload_s": t1 - t0,
                "download_peak_bytes": down_peak,
                "download_peak_ratio": down_peak / size,
                "download_s": t2 - t1,
            }
    tracemalloc.stop()
    client.close()  # type: ignore[attr-defined]
    out["threads"] = threading.active_count()
    return out


if __name__ == "__main__":
    print(json.dumps(measure(sys.argv[1], [Path(p) for p in sys.argv[2:]])))
