"""Command line: parse options, serve until SIGTERM/SIGINT, announce the URL on stdout.

The only line written to stdout is ``EMULATOR_READY http://127.0.0.1:<port>/v1``; a parent
process reads it to learn the port. Request logs go to stderr.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import threading
import time
from pathlib import Path
from typing import Any

from . import formats
from .faults import FaultPlanError, parse_plan
from .model_catalog import parse_input_changes
from .options import DEFAULT_TEAM_PARALLEL_JOBS, EmulatorOptions
from .server import EmulatorServer

READY_PREFIX = "EMULATOR_READY "


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m emulator",
        description="Local emulator of Scenario's API for the texture upscale model.")
    parser.add_argument("--port", type=int, default=8765, help="0 picks a free port")
    parser.add_argument("--host", default="127.0.0.1", help="loopback address only")
    parser.add_argument("--api-key", default="demo-key")
    parser.add_argument("--api-secret", default="demo-secret")
    parser.add_argument("--job-seconds", type=float, default=3.0)
    parser.add_argument("--max-concurrent-jobs", type=int, default=4,
                        help="jobs rendering at once; later ones stay queued")
    parser.add_argument("--team-parallel-jobs", type=int, default=DEFAULT_TEAM_PARALLEL_JOBS,
                        help="Scenario's team limit: a generate is refused with 429 while this "
                             "many jobs have not ended (0: no limit)")
    parser.add_argument("--keep-alpha", action="store_true",
                        help="keep RGBA in results (default: alpha dropped)")
    parser.add_argument("--break-tiling", action="store_true",
                        help="add a visible seam so results no longer tile")
    parser.add_argument("--result-format", default="png", choices=sorted(formats.CONVERTIBLE),
                        help="the format results are made in (default: png)")
    parser.add_argument("--accept-cancel", action="store_true",
                        help="cancel running jobs when asked (default: refused, 400)")
    parser.add_argument("--url-ttl-seconds", type=float, default=3600.0)
    parser.add_argument("--upload-seconds", type=float, default=0.6,
                        help="time from 'complete' to 'imported' for multipart uploads")
    parser.add_argument("--min-part-bytes", type=int, default=5 * 1024 * 1024,
                        help="minimum size of every multipart part but the last")
    parser.add_argument("--model-missing", action="store_true",
                        help="the upscale model is gone: 404 on its description and on generate")
    parser.add_argument("--model-inputs", type=Path,
                        help="JSON file changing the model's inputs: {name: {field: value} or "
                             "null to remove it}")
    parser.add_argument("--faults", help="fault plan as JSON (see README.md)")
    parser.add_argument("--faults-file", type=Path, help="fault plan in a JSON file")
    parser.add_argument("--quiet", action="store_true", help="do not log requests to stderr")
    return parser


def _fault_plan(args: argparse.Namespace) -> list[dict[str, Any]]:
    rules: list[dict[str, Any]] = []
    texts = [args.faults] if args.faults else []
    if args.faults_file:
        texts.append(args.faults_file.read_text(encoding="utf-8"))
    for text in texts:
        raw = json.loads(text)
        parse_plan(raw)  # fail early, at start-up, on a bad plan
        if isinstance(raw, dict):
            raw = raw.get("rules", [raw])
        rules.extend(raw)
    return rules


def _input_changes(args: argparse.Namespace) -> dict[str, Any]:
    if not args.model_inputs:
        return {}
    return parse_input_changes(json.loads(args.model_inputs.read_text(encoding="utf-8")))


def options_from(args: argparse.Namespace) -> EmulatorOptions:
    return EmulatorOptions(
        port=args.port, host=args.host, api_key=args.api_key, api_secret=args.api_secret,
        job_seconds=args.job_seconds, max_concurrent_jobs=args.max_concurrent_jobs,
        team_parallel_jobs=args.team_parallel_jobs,
        keep_alpha=args.keep_alpha, break_tiling=args.break_tiling, result_format=args.result_format,
        accept_cancel=args.accept_cancel,
        url_ttl_seconds=args.url_ttl_seconds, upload_seconds=args.upload_seconds,
        min_part_bytes=args.min_part_bytes, faults=_fault_plan(args),
        model_missing=args.model_missing, model_input_changes=_input_changes(args),
        log_requests=not args.quiet,
    )


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    # The handlers only note the request. Anything that takes a lock (Event.set, print, logging)
    # can deadlock when a signal lands while the main thread holds that same lock, and GNU make
    # forwards a fatal signal to its child, so two arrive together. The main loop polls the note.
    stop_requested: list[int] = []

    def _on_signal(signum: int, _frame: object) -> None:
        stop_requested.append(signum)

    signal.signal(signal.SIGINT, _on_signal)
    signal.signal(signal.SIGTERM, _on_signal)
    try:
        server = EmulatorServer(options_from(args))
        server.start()
    except (ValueError, FaultPlanError, OSError) as exc:  # a bad plan, option or input file
        print(f"emulator: {exc}", file=sys.stderr)
        return 2
    if not stop_requested:
        print(f"{READY_PREFIX}{server.base_url}", flush=True)
    while not stop_requested:
        time.sleep(_POLL_SECONDS)
    _stop_within(server, STOP_SECONDS - _POLL_SECONDS)
    print("[emulator] stopped", file=sys.stderr, flush=True)
    return 0


# How often the main loop looks for a stop request, and the promise: gone within a second.
_POLL_SECONDS = 0.05
STOP_SECONDS = 1.0


def _stop_within(server: EmulatorServer, seconds: float) -> None:
    """Stops the server cleanly, or leaves at once if that takes longer than ``seconds``: every
    thread the emulator runs is a daemon and holds nothing that must outlive the process."""
    stopper = threading.Thread(target=server.stop, name="emulator-stop", daemon=True)
    stopper.start()
    stopper.join(seconds)
    if stopper.is_alive():
        sys.stderr.write("[emulator] stop took too long; leaving without waiting\n")
        sys.stderr.flush()
        os._exit(0)
