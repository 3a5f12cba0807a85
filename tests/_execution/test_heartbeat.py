"""Run monitoring from the run's side: the heartbeat thread, who owns SIGTERM, and a real
``kill -9`` of the process coordinating a run (in process, multiprocess, Dask): while it lives,
other processes that look leave its run STARTED; once it is killed, the next process that looks
(opening the instance, ``outfitter runs list``) records the run FAILURE, saying the process
died."""

from __future__ import annotations

import logging
import os
import signal
import socket
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path
from typing import Any

import pytest
from executor_helpers import wait_for_files
from typer.testing import CliRunner

import outfitter as of
from outfitter._execution import heartbeat as hb
from outfitter._execution.driver import sigterm_as_cancel
from outfitter._instance import EventType, Instance, RunStatus
from outfitter.cli import app


def wait_until(predicate: Any, timeout: float = 30.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.01)
    return False


def heartbeat_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name.startswith("outfitter-heartbeat")]


def test_the_heartbeat_stamps_the_run_while_the_block_runs(tmp_path: Path) -> None:
    """Beats move the run's heartbeat on; after the block the thread is gone."""
    with Instance.local(tmp_path) as instance:
        run = instance.create_run("j")
        instance.set_run_status(run.run_id, RunStatus.STARTED)
        first = instance.get_run(run.run_id).heartbeat_time  # type: ignore[union-attr]
        with hb.heartbeat(instance, run.run_id, interval=0.01):
            assert heartbeat_threads()
            assert wait_until(
                lambda: instance.get_run(run.run_id).heartbeat_time != first  # type: ignore[union-attr]
            )
        assert wait_until(lambda: not heartbeat_threads())


def test_no_heartbeat_for_stand_ins_and_in_memory_instances() -> None:
    """An object without heartbeats, and an in-memory instance (no one else can read it),
    get no thread."""
    with hb.heartbeat(object(), "run"):
        assert not heartbeat_threads()
    with Instance.ephemeral() as instance, hb.heartbeat(instance, "run", interval=0.01):
        assert not heartbeat_threads()


class Flaky:
    """An instance whose heartbeats fail."""

    in_memory = False

    def __init__(self) -> None:
        self.calls = 0

    def record_heartbeat(self, run_id: str) -> None:
        self.calls += 1
        raise OSError("disk full")


def test_a_failing_heartbeat_is_logged_and_the_next_one_tried(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """The run never fails for its heartbeat."""
    flaky = Flaky()
    with (
        caplog.at_level(logging.WARNING, "outfitter.heartbeat"),
        hb.heartbeat(flaky, "abc", interval=0.01),
    ):
        assert wait_until(lambda: flaky.calls >= 2)
    assert "heartbeat of run abc failed: OSError: disk full" in caplog.text


def test_a_host_that_handles_sigterm_keeps_its_handler_during_runs() -> None:
    """Inside host_handles_sigterm(), a run leaves SIGTERM to the host's handler."""

    def host_handler(signum: int, frame: Any) -> None:
        return None

    previous = signal.signal(signal.SIGTERM, host_handler)
    try:
        with sigterm_as_cancel():
            assert signal.getsignal(signal.SIGTERM) is not host_handler
        with hb.host_handles_sigterm(), sigterm_as_cancel():
            assert hb.sigterm_handled_by_host()
            assert signal.getsignal(signal.SIGTERM) is host_handler
        assert not hb.sigterm_handled_by_host()
    finally:
        signal.signal(signal.SIGTERM, previous)


def test_helper_threads_leave_signals_to_the_main_thread() -> None:
    """A thread started under signals_stay_with_main_thread() blocks Ctrl-C and SIGTERM, so
    the main thread's hold on them (while resources close) is not bypassed."""
    masks: list[set[int]] = []

    def record() -> None:
        masks.append(set(signal.pthread_sigmask(signal.SIG_BLOCK, [])))

    with hb.signals_stay_with_main_thread():
        thread = threading.Thread(target=record)
        thread.start()
    thread.join()
    assert {signal.SIGINT, signal.SIGTERM} <= masks[0]
    assert signal.SIGTERM not in signal.pthread_sigmask(signal.SIG_BLOCK, [])


def test_an_in_process_run_records_heartbeats(tmp_path: Path) -> None:
    """A run's record names its process; its heartbeat thread ends with the run."""

    @of.asset
    def one() -> int:
        return 1

    with Instance.local(tmp_path) as instance:
        result = of.materialize([one], instance=instance)
        assert result.run is not None
        assert (result.run.pid, result.run.host) == (os.getpid(), socket.gethostname())
        assert result.run.heartbeat_time is not None
    assert wait_until(lambda: not heartbeat_threads())


# -- kill -9 of the coordinating process ----------------------------------------------------------

SCRIPT = """
import sys, time
from pathlib import Path
import outfitter as of

def make(i):
    def step() -> int:
        Path({flags!r}, f"started-{{i}}").touch()
        for _ in range(12000):  # until the test kills the coordinator (at most two minutes)
            time.sleep(0.01)
        return i
    return of.asset(name=f"s{{i}}")(step)

if __name__ == "__main__":  # Dask's processes import this module again
    executors = {{
        "in_process": of.in_process_executor,
        "multiprocess": of.multiprocess_executor(max_concurrent=2),
        "dask": of.dask_executor(n_workers=1),
    }}
    defs = of.Definitions(assets=[make(0)], executor=executors[sys.argv[1]])
    with of.Instance.local({home!r}) as instance:
        defs.get_implicit_global_asset_job_def().execute(instance=instance)
"""


@pytest.mark.parametrize("executor", ["in_process", "multiprocess", "dask"])
def test_a_killed_coordinator_leaves_a_run_the_next_process_fails(
    executor: str, tmp_path: Path
) -> None:
    """kill -9 of the coordinating process mid-step: other processes looking while it lives
    leave the run STARTED; once it is dead, the CLI and any instance opened see FAILURE with
    the process named."""
    if executor == "dask":
        pytest.importorskip("distributed", reason="the `dask` extra is not installed")
    flags, home = tmp_path / "flags", tmp_path / "home"
    flags.mkdir()
    script = tmp_path / "run.py"
    script.write_text(textwrap.dedent(SCRIPT.format(flags=str(flags), home=str(home))))
    proc = subprocess.Popen(
        [sys.executable, str(script), executor], stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    try:
        if not wait_for_files([flags / "started-0"], timeout=120, alive=proc):
            _, err = proc.communicate(timeout=60)
            pytest.fail(f"the step never started:\n{err.decode()[-3000:]}")
        for _ in range(3):  # looking at a live run never marks it
            with Instance.local(home) as instance:
                [run] = instance.get_runs()
                assert run.status is RunStatus.STARTED
                assert run.pid == proc.pid
        os.kill(proc.pid, signal.SIGKILL)
        proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate(timeout=60)
    listed = CliRunner().invoke(app, ["runs", "list"], env={"OUTFITTER_HOME": str(home)})
    assert listed.exit_code == 0, listed.output
    assert "FAILURE" in listed.output
    assert "STARTED" not in listed.output
    with Instance.local(home) as instance:
        [run] = instance.get_runs()
        assert run.status is RunStatus.FAILURE
        events = instance.all_events(run.run_id)
    assert events[-1].event_type is EventType.RUN_FAILURE
    assert events[-1].message.startswith(
        f"the process running this run (pid {proc.pid} on {socket.gethostname()}) stopped "
        "without finishing it"
    )
