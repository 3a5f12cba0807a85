"""The process that runs a launch of the UI: ``python -m outfitter.ui.launch_child -f FILE |
-m MODULE --kind job|select|flow --target NAME --run-id ID``, with ``{"config": YAML text,
"tags": {...}}`` as JSON on stdin and ``OUTFITTER_HOME`` naming the UI's instance.

It loads the code, runs the job, asset selection or flow with its executor, recorded in the
instance under the run id the UI made (the record the UI left QUEUED), and exits 0 when the run
succeeded. When it fails before the run starts (the code does not import, the target is gone,
the config no longer fits the code), it records the run FAILURE with the error, masked: the UI
never waits for a run that will not come.

Example:
    >>> main(["--help"])  # doctest: +SKIP
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from .._config.redaction import Redactor
from .._definitions.definitions import Definitions
from .._execution.tracebacks import failure_details
from .._instance import Instance, RunStatus
from .._loading import find_definitions, find_flows, load_module
from .launcher import KINDS, Target, config_redactor, parse_run_config, record_failure

__all__ = ["QueuedRun", "main"]


class QueuedRun:
    """An instance whose first ``create_run`` is the run the UI recorded as QUEUED under
    ``run_id``: the run then starts on that record (a record made anew gets that id).

    Example:
        >>> with Instance.ephemeral() as instance:
        ...     queued = instance.create_run("nightly").run_id
        ...     QueuedRun(instance, queued).create_run("nightly").run_id == queued
        True
    """

    def __init__(self, instance: Instance, run_id: str) -> None:
        self._instance = instance
        self.run_id = run_id
        self.used = False

    def create_run(self, job_name: str, **kwargs: Any) -> Any:
        """The queued record (or a new one under the run id), the first time."""
        if self.used:
            return self._instance.create_run(job_name, **kwargs)
        self.used = True
        record = self._instance.get_run(self.run_id)
        if record is not None and record.status is RunStatus.QUEUED:
            return record
        return self._instance.create_run(job_name, **{**kwargs, "run_id": self.run_id})

    def __getattr__(self, name: str) -> Any:
        return getattr(self._instance, name)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m outfitter.ui.launch_child",
        description="Run a launch of the Outfitter UI (run config and tags as JSON on stdin).",
    )
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("-f", "--file", type=Path, help="Python file defining the code.")
    source.add_argument("-m", "--module", help="Module defining the code.")
    parser.add_argument("--kind", choices=KINDS, required=True)
    parser.add_argument("--target", required=True, help="Job name, selection, or flow name.")
    parser.add_argument("--run-id", required=True, help="The id the UI recorded the run under.")
    return parser


def _target(args: argparse.Namespace) -> Target:
    module, where = load_module(args.file, args.module, debug=False)
    defs = find_definitions(module, where)  # `defs`, or the @definitions function's
    flows = {flow.name: flow for _, flow in find_flows(module)}
    return Target.resolve(
        defs if isinstance(defs, Definitions) else None, flows, args.kind, args.target
    )


def main(argv: Sequence[str] | None = None) -> int:
    """Run one launch; the exit code is 0 when the run succeeded."""
    args = _parser().parse_args(argv)
    payload = json.loads(sys.stdin.read() or "{}")
    text = str(payload.get("config") or "")
    tags = {str(k): str(v) for k, v in dict(payload.get("tags") or {}).items()}
    with Instance.get() as instance:
        data, problems = parse_run_config(text)
        redact: Redactor = config_redactor(data)
        recording = QueuedRun(instance, args.run_id)
        try:
            if problems:
                raise ValueError("; ".join(str(p) for p in problems))
            target = _target(args)
            redact = config_redactor(data, target.bindings())
            ok = target.run(data, tags, recording)
        except BaseException as exc:
            if _finished(instance, args.run_id):  # the run recorded its own end
                return 130 if isinstance(exc, KeyboardInterrupt) else 1
            details = failure_details(exc, redact)
            message = f"the run could not start: {details['message']}"
            record_failure(instance, args.run_id, message, details)
            print(message, file=sys.stderr)
            return 1
        if not _finished(instance, args.run_id):  # e.g. a flow that failed to begin its run
            record_failure(instance, args.run_id, "the run ended without a record of its end")
        return 0 if ok else 1


def _finished(instance: Instance, run_id: str) -> bool:
    record = instance.get_run(run_id)
    return record is not None and record.status.is_finished


if __name__ == "__main__":
    sys.exit(main())
