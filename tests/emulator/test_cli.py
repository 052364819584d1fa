"""The command line, run in a real subprocess through emulator.process."""

from __future__ import annotations

import json
import subprocess
import sys

import requests
from emulator_support import MODEL_ID

from emulator.process import REPO_ROOT, start_emulator_process, stop_emulator_process


def test_start_process_prints_ready_and_serves():
    proc, base_url = start_emulator_process(
        ["--job-seconds", "0.2", "--api-key", "k", "--api-secret", "s", "--quiet"])
    try:
        assert base_url.startswith("http://127.0.0.1:") and base_url.endswith("/v1")
        assert requests.get(f"{base_url}/models/{MODEL_ID}", timeout=5).status_code == 401
        answer = requests.get(f"{base_url}/models/{MODEL_ID}", auth=("k", "s"), timeout=5)
        assert answer.status_code == 200
    finally:
        code = stop_emulator_process(proc)
    assert code == 0  # SIGTERM is a clean shutdown


def test_faults_from_the_command_line_and_stderr_log(tmp_path):
    plan = tmp_path / "plan.json"
    plan.write_text(json.dumps([{"kind": "status", "status": 500, "path": "^/v1/jobs"}]))
    log = (tmp_path / "stderr.log").open("w")
    proc, base_url = start_emulator_process(
        ["--faults", json.dumps({"kind": "status", "status": 503, "path": "^/v1/models"}),
         "--faults-file", str(plan)], stderr=log)
    try:
        auth = ("demo-key", "demo-secret")
        assert requests.get(f"{base_url}/models/{MODEL_ID}", auth=auth,
                            timeout=5).status_code == 503
        assert requests.get(f"{base_url}/jobs/job_a", auth=auth, timeout=5).status_code == 500
        assert requests.get(f"{base_url}/jobs/job_a", auth=auth, timeout=5).status_code == 404
    finally:
        stop_emulator_process(proc)
        log.close()
    text = (tmp_path / "stderr.log").read_text()
    assert f"GET /v1/models/{MODEL_ID} -> 503" in text
    assert "demo-secret" not in text and "Authorization" not in text


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "emulator", *args], cwd=REPO_ROOT,
                          capture_output=True, text=True, timeout=30)


def test_refuses_non_loopback_hosts():
    result = _run("--port", "0", "--host", "0.0.0.0")  # noqa: S104 - the point of the test
    assert result.returncode == 2
    assert "loopback" in result.stderr
    assert "EMULATOR_READY" not in result.stdout


def test_refuses_a_bad_fault_plan():
    result = _run("--port", "0", "--faults", '[{"kind": "nope"}]')
    assert result.returncode == 2 and "fault kind" in result.stderr
