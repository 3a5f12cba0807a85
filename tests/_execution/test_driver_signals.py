"""Ctrl-C and SIGTERM during a run: every open resource closes, the run is recorded canceled.

Real subprocesses and real signals."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from outfitter._instance import Instance, RunStatus

SCRIPT = """
import sys, time
from pathlib import Path
import outfitter as of

log = Path(sys.argv[2])

@of.resource
def conn(context):
    log.write_text(log.read_text() + "open conn\\n")
    yield "conn"
    log.write_text(log.read_text() + "close conn\\n")

@of.resource(required_resource_keys={"conn"})
def session(context):
    log.write_text(log.read_text() + "open session\\n")
    yield "session"
    log.write_text(log.read_text() + "close session\\n")

@of.asset(required_resource_keys={"session"})
def slow(context):
    context.resources.session
    log.write_text(log.read_text() + "step started\\n")
    time.sleep(60)
    return 1

log.write_text("")
with of.Instance.local(sys.argv[1]) as instance:
    try:
        of.materialize([slow], resources={"conn": conn, "session": session},
                       instance=instance)
    except KeyboardInterrupt:
        log.write_text(log.read_text() + "interrupted\\n")
        sys.exit(130)
"""


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_signal_closes_resources_and_records_cancel(sig: signal.Signals, tmp_path: Path) -> None:
    """The signal stops the step, closes resources in reverse, and the run is CANCELED."""
    script = tmp_path / "run.py"
    script.write_text(SCRIPT)
    log = tmp_path / "log.txt"
    home = tmp_path / "home"
    proc = subprocess.Popen([sys.executable, str(script), str(home), str(log)])
    try:
        deadline = time.monotonic() + 60
        while "step started" not in (log.read_text() if log.exists() else ""):
            assert proc.poll() is None, "the run ended before the step started"
            assert time.monotonic() < deadline, "the step never started"
            time.sleep(0.05)
        os.kill(proc.pid, sig)
        assert proc.wait(timeout=60) == 130
    finally:
        if proc.poll() is None:
            proc.kill()
    lines = log.read_text().splitlines()
    assert lines == [
        "open conn",
        "open session",
        "step started",
        "close session",
        "close conn",
        "interrupted",
    ]
    with Instance.local(home) as instance:
        [run] = instance.get_runs()
        assert run.status is RunStatus.CANCELED
