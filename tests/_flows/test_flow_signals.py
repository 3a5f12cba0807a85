"""Ctrl-C / SIGTERM during a flow: pending resource cleanups run (Prefect 1 leaked them), and
the run is recorded canceled. Real subprocesses and signals."""

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
from outfitter import Flow, resource_manager, task
import outfitter as of

log = Path(sys.argv[2])

def note(text):
    log.write_text(log.read_text() + text + "\\n")

@resource_manager
class Cluster:
    def setup(self):
        note("setup")
        return "cluster"
    def cleanup(self, cluster):
        note("cleanup " + cluster)

@task
def slow(cluster):
    note("task started")
    time.sleep(60)

log.write_text("")
with Flow("interrupted") as flow:
    with Cluster() as cluster:
        slow(cluster)

with of.Instance.local(sys.argv[1]) as instance:
    try:
        flow.run(instance=instance)
    except KeyboardInterrupt:
        note("interrupted")
        sys.exit(130)
"""


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_interrupt_runs_pending_cleanup(sig: signal.Signals, tmp_path: Path) -> None:
    """The resource whose setup succeeded is cleaned up; the run is CANCELED."""
    script = tmp_path / "flow.py"
    script.write_text(SCRIPT)
    log = tmp_path / "log.txt"
    home = tmp_path / "home"
    proc = subprocess.Popen([sys.executable, str(script), str(home), str(log)])
    try:
        deadline = time.monotonic() + 60
        while "task started" not in (log.read_text() if log.exists() else ""):
            assert proc.poll() is None, "the flow ended early"
            assert time.monotonic() < deadline, "the task never started"
            time.sleep(0.05)
        os.kill(proc.pid, sig)
        assert proc.wait(timeout=60) == 130
    finally:
        if proc.poll() is None:
            proc.kill()
    assert log.read_text().splitlines() == [
        "setup",
        "task started",
        "cleanup cluster",
        "interrupted",
    ]
    with Instance.local(home) as instance:
        [run] = instance.get_runs()
        assert run.status is RunStatus.CANCELED
