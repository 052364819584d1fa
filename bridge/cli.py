"""``blender -b scene.blend --command scenario_upscale [...]``: a batch from the command line.

Progress lines go to stderr, the JSON summary to stdout (and to ``--json FILE``). Exit codes:
0 nothing failed, 1 an image failed or was cancelled, 2 nothing could start.
"""

from __future__ import annotations

import json
import sys
from typing import Any, TextIO

import bpy

from ..api.errors import ScenarioError
from ..api.wording import counted
from ..core import cli_args
from ..core.batch import Batch, exit_code, progress_line, refused_summary
from ..core.refusal import Refusal
from ..core.states import ItemStatus, ViewStatus
from . import batch_conclude, batch_list, batch_start, connection, runtime

COMMAND = "scenario_upscale"
_handle: Any = None


def register() -> None:
    global _handle
    # Blender 4.2 added command-line commands; a missing API only costs the command.
    if _handle is None and hasattr(bpy.utils, "register_cli_command"):
        _handle = bpy.utils.register_cli_command(COMMAND, execute)


def unregister() -> None:
    global _handle
    if _handle is not None:
        bpy.utils.unregister_cli_command(_handle)
        _handle = None


def execute(argv: list[str]) -> int:
    """The registered command: parse, run the batch to the end, print, return the exit code."""
    try:
        options = cli_args.parse(list(argv))
    except cli_args.CliUsage as usage:
        print(str(usage).rstrip(), file=sys.stdout if usage.code == 0 else sys.stderr)
        return usage.code
    return run(options)


def run(options: cli_args.CliOptions, out: TextIO | None = None, err: TextIO | None = None) -> int:
    out, err = out or sys.stdout, err or sys.stderr
    blend = bpy.data.filepath
    if options.save and not blend:
        return _emit(options, out, refused_summary(
            options.scope, "--save needs a saved .blend: open one (blender -b scene.blend ...)."))
    overrides = batch_start.Overrides(options.factor, options.preset, options.data_maps)
    try:
        batch = batch_start.start(bpy.context, options.scope, overrides)
    except (Refusal, ScenarioError) as exc:
        message = str(exc)
        if message == connection.ONLINE_ACCESS_MESSAGE:
            message += " From the command line: add --online-mode before --command."
        return _emit(options, out, refused_summary(options.scope, message, blend))
    _say(options, err, f"{COMMAND}: {counted(len(batch.items), 'image')}, "
                       f"{len(batch.job_ids)} to upscale, {len(batch.skipped)} skipped")
    _follow(runtime.get(), batch, options, err)
    summary = batch.summary(blend)
    if options.save and batch.counts()[ItemStatus.DONE]:
        bpy.ops.wm.save_mainfile()
        summary["saved"] = blend
    return _emit(options, out, summary)


def _follow(rt: runtime.Runtime, batch: Batch, options: cli_args.CliOptions, err: TextIO) -> None:
    """Blocks until every job has ended, printing a line whenever an image's status changes.
    Ctrl+C stops waiting for the running jobs (their results stay recoverable)."""
    shown: dict[int, str] = {}
    while True:
        _print_changes(rt, batch, options, err, shown)
        if not batch.pending:
            break
        try:
            _tick(rt, batch)
        except KeyboardInterrupt:
            _say(options, err, f"{COMMAND}: interrupted; stopping the running jobs")
            batch_conclude.cancel(rt, batch)
    batch.finish_if_done()


def _tick(rt: runtime.Runtime, batch: Batch) -> None:
    rt.pump(timeout=0.05)
    for item in batch.pending:
        view = rt.view(item.local_id)
        if view is None:
            continue
        if getattr(view, "question", None) is not None:
            rt.answer(item.local_id, False)  # nobody is there to confirm a price
        if view.status != ViewStatus.RUNNING:
            batch_conclude.conclude(rt, batch, view)


def _print_changes(rt: runtime.Runtime, batch: Batch, options: cli_args.CliOptions,
                   err: TextIO, shown: dict[int, str]) -> None:
    total = len(batch.items)
    for index, item in enumerate(batch.items):
        text = batch_list.status_text(rt, item, step=10)
        if shown.get(index) != text:
            shown[index] = text
            _say(options, err, progress_line(index + 1, total, item, text))


def _say(options: cli_args.CliOptions, err: TextIO, line: str) -> None:
    if not options.quiet:
        print(line, file=err, flush=True)


def _emit(options: cli_args.CliOptions, out: TextIO, summary: dict[str, Any]) -> int:
    text = json.dumps(summary, indent=2, sort_keys=False)
    print(text, file=out, flush=True)
    code = exit_code(summary)
    if options.json_path:
        try:
            with open(options.json_path, "w", encoding="utf-8") as handle:
                handle.write(text + "\n")
        except OSError as exc:
            print(f"{COMMAND}: could not write {options.json_path}: {exc}", file=sys.stderr)
            code = code or 1
    return code
