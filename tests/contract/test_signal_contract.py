"""Ctrl-C and SIGTERM end every front-end's run the same way on every executor: the run process
(a real subprocess) gets the signal while step ``a`` runs; every resource that opened closes
exactly once, the run is recorded CANCELED, and the process stops with KeyboardInterrupt."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pipelines as p
import pytest

import outfitter as of
from outfitter._instance import EventType, RunStatus

HERE = Path(__file__).parent

SCRIPT = """
import sys
sys.path.insert(0, {here!r})
import pipelines as p
import outfitter as of

front, executor_name, log, mark, home, address = sys.argv[1:7]
executors = {{
    "in_process": of.in_process_executor,
    "multiprocess": of.multiprocess_executor(max_concurrent=2),
    "dask": of.dask_executor(address=address),  # the session's cluster: it stays up after
}}
if __name__ == "__main__":
    with of.Instance.local(home) as instance:
        resources = {{"db": p.Rec(log=log, mark=mark)}}
        p.run(front, p.build(front), resources, instance, executors[executor_name])
"""


def wait_for(path: Path, proc: subprocess.Popen[bytes], timeout: float = 120.0) -> bool:
    """True once ``path`` exists; False if the process ended first or after ``timeout``."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if path.exists():
            return True
        if proc.poll() is not None:
            return False
        time.sleep(0.02)
    return False


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM], ids=["ctrl-c", "sigterm"])
@pytest.mark.parametrize("executor_name", ["in_process", "multiprocess", "dask"])
@pytest.mark.parametrize("front", p.FRONTS)
def test_a_signal_cancels_the_run_and_closes_everything(
    front: str,
    executor_name: str,
    sig: signal.Signals,
    tmp_path: Path,
    request: pytest.FixtureRequest,
) -> None:
    address = request.getfixturevalue("dask_address") if executor_name == "dask" else "-"
    log, mark, home = tmp_path / "resources.log", tmp_path / "running", tmp_path / "home"
    log.write_text("")
    script = tmp_path / "run.py"
    script.write_text(SCRIPT.format(here=str(HERE)))
    proc = subprocess.Popen(
        [
            sys.executable,
            str(script),
            front,
            executor_name,
            str(log),
            str(mark),
            str(home),
            address,
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        started = wait_for(mark, proc)
        if not started:
            _, err = proc.communicate(timeout=60)
            pytest.fail(f"step a never started:\n{err.decode()[-3000:]}")
        os.kill(proc.pid, sig)
        _, err = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
    stderr = err.decode()
    assert proc.returncode != 0
    assert "KeyboardInterrupt" in stderr or "RunCanceled" in stderr, stderr[-3000:]
    lines = p.opens_and_closes(log)
    opens = sorted(pid for kind, _, pid in lines if kind == "open")
    assert opens, lines
    assert sorted(pid for kind, _, pid in lines if kind == "close") == opens
    with of.Instance.local(home) as instance:
        [run] = instance.get_runs()
        assert run.status is RunStatus.CANCELED
        events = instance.all_events(run.run_id)
        assert events[-1].event_type is EventType.RUN_CANCELED
