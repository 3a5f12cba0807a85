"""Flows on the multiprocess executor, and Ctrl-C / SIGTERM during runs on worker processes."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import threading
from pathlib import Path
from typing import Any

import pytest
from executor_helpers import Db, Opens, opens, wait_for_files  # noqa: F401 (opens: a fixture)

import outfitter as of
from outfitter._instance import EventType, RunStatus

MP = of.multiprocess_executor(max_concurrent=2)


@of.task
def double(x: int, db: Db) -> tuple[int, int]:
    return x * 2, os.getpid()


@of.task
def total(pairs: list[tuple[int, int]]) -> int:
    return sum(p[0] for p in pairs)


def test_mapped_flow_tasks_share_one_resource_per_worker(opens: Opens, tmp_path: Path) -> None:
    """Mapped children run on 2 workers; each worker opens Db once for the run and closes it;
    results come back to the coordinator for the reduce step."""
    with of.Flow("mapped", resources={"db": Db(log=str(opens.path))}) as flow:
        pairs = double.map(list(range(8)))
        result = total(pairs)
    with of.Instance.local(tmp_path) as instance:
        state = flow.run(executor=MP, instance=instance)
        [run] = instance.get_runs()
        events = instance.all_events(run.run_id)
    assert state.is_successful()
    assert state.result[result].result == 56
    pids = {p[1] for p in state.result[pairs].result}
    assert os.getpid() not in pids
    assert opens.pids("open") == sorted(pids)
    assert opens.pids("close") == opens.pids("open")
    closes = [e for e in events if e.event_type is EventType.RESOURCE_CLOSE]
    assert sorted(e.message for e in closes) == sorted(f"pid {p}" for p in pids)


class Flaky(of.Task):
    """Fails on its first attempt (a marker file remembers across processes)."""

    def run(self, marker: str) -> str:
        path = Path(marker)
        if not path.exists():
            path.touch()
            raise ConnectionError("first attempt fails")
        return "second attempt"


def test_retries_failures_and_triggers_keep_their_meaning_on_workers(tmp_path: Path) -> None:
    """A retried task succeeds on a worker; a failing task fails its downstream's trigger."""

    @of.task
    def boom() -> int:
        raise ValueError("no data")

    @of.task
    def after(x: int) -> int:
        return x

    with of.Flow("semantics") as flow:
        retried = Flaky(max_retries=1, retry_delay=0)(str(tmp_path / "marker"))
        failed = boom()
        blocked = after(failed)
    with of.Instance.local(tmp_path) as instance:
        state = flow.run(executor=MP, instance=instance)
        [run] = instance.get_runs()
        retries = [
            e for e in instance.all_events(run.run_id) if e.event_type is EventType.STEP_RETRY
        ]
    assert state.result[retried].result == "second attempt"
    assert "ConnectionError: first attempt fails" in retries[0].message
    assert state.result[failed].is_failed()
    assert "ValueError: no data" in (state.result[failed].message or "")
    assert type(state.result[blocked]).__name__ == "TriggerFailed"
    assert state.is_failed()


def test_resource_manager_runs_in_the_coordinator(tmp_path: Path) -> None:
    """A resource manager's setup and cleanup run once, in the coordinating process; the tasks
    in its block run on workers and get its (picklable) resource."""
    calls: list[tuple[str, int]] = []

    @of.resource_manager
    class Scratch:
        def setup(self) -> str:
            calls.append(("setup", os.getpid()))
            return str(tmp_path / "scratch")

        def cleanup(self, path: str) -> None:
            calls.append(("cleanup", os.getpid()))

    @of.task
    def where(path: str) -> tuple[str, int]:
        return path, os.getpid()

    with of.Flow("managed") as flow, Scratch() as scratch:
        out = where(scratch)
    state = flow.run(executor=MP)
    assert state.is_successful()
    path, pid = state.result[out].result
    assert path == str(tmp_path / "scratch")
    assert pid != os.getpid()
    assert calls == [("setup", os.getpid()), ("cleanup", os.getpid())]


def test_a_result_that_cannot_cross_processes_names_the_task_and_type() -> None:
    """A task returning a lock fails with a message naming the task and the type."""

    @of.task
    def make_lock() -> Any:
        return threading.Lock()

    with of.Flow("unpicklable") as flow:
        lock = make_lock()
    state = flow.run(executor=MP)
    message = state.result[lock].message or ""
    assert "task 'make_lock' returned a _thread.lock" in message
    assert "cannot be sent back to the coordinating process" in message
    assert "Hint: return something picklable" in message


SCRIPT = """
import sys, time
from pathlib import Path
sys.path.insert(0, {tests!r})
import outfitter as of
from executor_helpers import Db

def make(i):
    def step(db: Db) -> int:
        Path({flags!r}, f"started-{{i}}").touch()
        for _ in range(12000):  # a Dask step is interrupted between Python instructions
            time.sleep(0.01)
        return i
    return of.asset(name=f"s{{i}}")(step)

if __name__ == "__main__":  # Dask's worker processes import this module again
    executor = of.multiprocess_executor(max_concurrent=2) if sys.argv[1] == "multiprocess" else (
        of.dask_executor(n_workers=2)
    )
    defs = of.Definitions(
        assets=[make(0), make(1)], resources={{"db": Db(log={log!r})}}, executor=executor
    )
    with of.Instance.local({home!r}) as instance:
        defs.get_implicit_global_asset_job_def().execute(instance=instance)
"""


@pytest.mark.parametrize("executor", ["multiprocess", "dask"])
@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_a_signal_cancels_the_run_and_every_worker_closes(
    executor: str, signum: int, opens: Opens, tmp_path: Path
) -> None:
    """SIGTERM or Ctrl-C to the coordinator while steps run on workers: the run is recorded
    as canceled and every worker closes its resources."""
    if executor == "dask":
        pytest.importorskip("distributed", reason="the `dask` extra is not installed")
    flags = tmp_path / "flags"
    flags.mkdir()
    script = tmp_path / "run.py"
    script.write_text(
        textwrap.dedent(
            SCRIPT.format(
                tests=str(Path(__file__).parent),
                flags=str(flags),
                log=str(opens.path),
                home=str(tmp_path / "home"),
            )
        )
    )
    proc = subprocess.Popen(
        [sys.executable, str(script), executor],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        started = wait_for_files(
            [flags / "started-0", flags / "started-1"], timeout=120, alive=proc
        )
        assert started, proc.stderr.read() if proc.stderr and proc.poll() is not None else ""
        proc.send_signal(signum)
        _, stderr = proc.communicate(timeout=120)
    finally:
        proc.kill()
    assert proc.returncode != 0
    assert "KeyboardInterrupt" in stderr or "RunCanceled" in stderr
    with of.Instance.local(tmp_path / "home") as instance:
        [run] = instance.get_runs()
    assert run.status is RunStatus.CANCELED
    assert len(opens.pids("open")) == 2
    assert opens.pids("close") == opens.pids("open")
