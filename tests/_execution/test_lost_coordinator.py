"""Workers that lose their coordinator close their resources: ``kill -9`` of the process
coordinating a run, at seeded random moments (while workers open resources, run steps, sit
idle between steps, or close), on the multiprocess executor, on a Dask ``LocalCluster`` made
for the run, and on a Dask cluster at an address. After each kill, every resource a worker
opened is closed (the resource log pairs each ``open PID`` with a ``close PID``), busy workers
included, and the run's record is not left STARTED.

``OUTFITTER_FAULT_TRIALS`` sets the number of trials per executor (default: 20 for
multiprocess, 4 for each Dask setup, whose clusters take seconds to start); two run at a time.
"""

from __future__ import annotations

import collections
import concurrent.futures
import os
import random
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from executor_helpers import Opens

from outfitter._instance import Instance, RunStatus

HERE = Path(__file__).parent

SCRIPT = """
import random, sys, time
sys.path.insert(0, {here!r})
import outfitter as of
from executor_helpers import Db, note

def make(i, seconds, steps):
    def step(db: Db) -> int:
        note(steps, f"start-{{i}}")
        try:
            end = time.monotonic() + seconds
            while time.monotonic() < end:
                time.sleep(0.005)
        except BaseException:
            note(steps, f"interrupted-{{i}}")
            raise
        return i
    return of.asset(name=f"s{{i}}")(step)

if __name__ == "__main__":  # Dask's processes import this module again
    kind, seed, log, steps, home, address = sys.argv[1:7]
    rng = random.Random(int(seed))
    executor = (
        of.multiprocess_executor(max_concurrent=2)
        if kind == "multiprocess"
        else of.dask_executor(address=address or None, n_workers=2)
    )
    defs = of.Definitions(
        assets=[make(i, rng.uniform(0.0, 0.3), steps) for i in range(8)],
        resources={{"db": Db(log=log)}},
        executor=executor,
    )
    with of.Instance.local(home) as instance:
        defs.get_implicit_global_asset_job_def().execute(instance=instance)
"""


def trials(default: int) -> int:
    return int(os.environ.get("OUTFITTER_FAULT_TRIALS", default))


def alive(pid: int) -> bool:
    """Whether ``pid`` is a running process (a zombie has exited)."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            stat = f.read()
    except OSError:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return False
        return True
    return stat[stat.rindex(")") + 2] not in "ZX"


def wait_for_lines(path: Path, proc: subprocess.Popen[bytes], timeout: float = 120.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if path.exists() and path.read_text().strip():
            return True
        if proc.poll() is not None:
            return False
        time.sleep(0.005)
    return False


def unclosed(opens: Opens) -> list[int]:
    """Pids with more opens than closes."""
    count = collections.Counter(opens.pids("open"))
    count.subtract(opens.pids("close"))
    return sorted(pid for pid, n in count.items() if n > 0)


def kill_trials(
    kind: str, tmp_path: Path, n: int, seed: int, window: float, address: str = ""
) -> tuple[list[str], dict[str, int]]:
    """``n`` runs, each coordinator killed (SIGKILL) a random time within ``window`` seconds
    after its first resource opened, two trials at a time; returns the violations and what
    the trials covered."""
    script = tmp_path / "run.py"
    script.write_text(SCRIPT.format(here=str(HERE)))
    with concurrent.futures.ThreadPoolExecutor(2) as pool:
        results = list(
            pool.map(
                lambda trial: kill_trial(kind, script, tmp_path, trial, seed, window, address),
                range(n),
            )
        )
    violations = [v for found, _ in results for v in found]
    seen = collections.Counter[str]()
    for _, covered in results:
        seen.update(covered)
    return violations, dict(seen)


def kill_trial(
    kind: str, script: Path, tmp_path: Path, trial: int, seed: int, window: float, address: str
) -> tuple[list[str], dict[str, int]]:
    rng = random.Random(seed + trial)
    violations: list[str] = []
    seen = {"opens": 0, "interrupted steps": 0, "kills mid-run": 0}
    root = tmp_path / f"trial-{trial}"
    root.mkdir()
    opens = Opens(root / "opens.log")
    steps = root / "steps.log"
    steps.write_text("")
    home = root / "home"
    args = [kind, str(seed + trial), str(opens.path), str(steps), str(home), address]
    proc = subprocess.Popen(
        [sys.executable, str(script), *args],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        if not wait_for_lines(opens.path, proc):
            _, err = proc.communicate(timeout=60)
            return [f"trial {trial}: no resource opened:\n{err.decode()[-2000:]}"], seen
        time.sleep(rng.uniform(0.0, window))
        if proc.poll() is None:
            seen["kills mid-run"] += 1
            os.kill(proc.pid, signal.SIGKILL)
        proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate(timeout=60)
    # workers notice within a second or so; they may still be closing under load
    deadline = time.monotonic() + 60
    while unclosed(opens) and time.monotonic() < deadline:
        time.sleep(0.05)
    left = unclosed(opens)
    if left:
        violations.append(f"trial {trial} (seed {seed + trial}): pids {left} never closed")
    if kind == "multiprocess":  # forked workers exit once closed
        deadline = time.monotonic() + 60
        pids = set(opens.pids("open"))
        while any(alive(p) for p in pids) and time.monotonic() < deadline:
            time.sleep(0.05)
        if any(alive(p) for p in pids):
            violations.append(f"trial {trial}: workers {sorted(pids)} still running")
    seen["opens"] += len(opens.pids("open"))
    seen["interrupted steps"] += steps.read_text().count("interrupted-")
    with Instance.local(home) as instance:
        for run in instance.get_runs():
            if run.status is RunStatus.STARTED:
                violations.append(f"trial {trial}: run left STARTED")
    return violations, seen


def test_multiprocess_workers_close_when_their_coordinator_is_killed(tmp_path: Path) -> None:
    """Every worker, busy or idle, closes what it opened and exits."""
    n = trials(20)
    violations, seen = kill_trials("multiprocess", tmp_path, n, seed=1000, window=1.2)
    print(f"multiprocess: {n} trials, {seen}, violations: {len(violations)}")
    assert violations == []
    assert seen["interrupted steps"] > 0  # some kills found workers busy


@pytest.fixture(scope="module")
def external_cluster() -> Iterator[str]:
    """A cluster at an address, outliving the coordinators: the scheduler's default
    allowed-failures, so only Outfitter keeps a step from running twice."""
    distributed = pytest.importorskip("distributed", reason="the `dask` extra is not installed")
    with distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0"
    ) as cluster:
        yield str(cluster.scheduler_address)


def test_dask_workers_close_when_the_coordinator_of_a_cluster_it_made_is_killed(
    tmp_path: Path,
) -> None:
    """The LocalCluster made for the run outlives its killed coordinator long enough to end
    the run on every worker (steps stopped, resources closed), then shuts down."""
    pytest.importorskip("distributed", reason="the `dask` extra is not installed")
    n = trials(4)
    violations, seen = kill_trials("dask", tmp_path, n, seed=2000, window=1.5)
    print(f"dask (own cluster): {n} trials, {seen}, violations: {len(violations)}")
    assert violations == []


def test_dask_workers_close_when_their_coordinator_leaves_an_external_cluster(
    external_cluster: str, tmp_path: Path
) -> None:
    """The scheduler forgets the killed coordinator's marker; each worker sees it within a
    second, stops the run's steps and closes its resources; the cluster serves the next run."""
    n = trials(4)
    violations, seen = kill_trials(
        "dask", tmp_path, n, seed=3000, window=0.7, address=external_cluster
    )
    print(f"dask (external cluster): {n} trials, {seen}, violations: {len(violations)}")
    assert violations == []


def test_the_run_s_failure_reaches_context_manager_resources(tmp_path: Path) -> None:
    """A worker closing after its coordinator died passes that failure to its resources."""
    script = tmp_path / "run.py"
    log = tmp_path / "tx.log"
    script.write_text(
        f"""
import contextlib, os, sys, time
sys.path.insert(0, {str(HERE)!r})
import outfitter as of

class Tx(of.ConfigurableResource):
    @contextlib.contextmanager
    def yield_for_execution(self, context):
        with open({str(log)!r}, "a") as f:
            f.write("open\\n")
        try:
            yield self
        except BaseException as exc:
            with open({str(log)!r}, "a") as f:
                f.write(f"rollback: {{exc}}\\n")
            raise

@of.asset
def busy(tx: Tx) -> int:
    for _ in range(12000):
        time.sleep(0.01)
    return 1

if __name__ == "__main__":
    defs = of.Definitions(assets=[busy], resources={{"tx": Tx()}},
                          executor=of.multiprocess_executor)
    with of.Instance.local({str(tmp_path / "home")!r}) as instance:
        defs.get_implicit_global_asset_job_def().execute(instance=instance)
"""
    )
    proc = subprocess.Popen([sys.executable, str(script)], stderr=subprocess.PIPE)
    try:
        assert wait_for_lines(log, proc)  # type: ignore[arg-type]
        os.kill(proc.pid, signal.SIGKILL)
        proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate(timeout=60)
    deadline = time.monotonic() + 60
    while "rollback" not in log.read_text() and time.monotonic() < deadline:
        time.sleep(0.05)
    text: Any = log.read_text()
    assert f"rollback: the coordinating process (pid {proc.pid}) died before the run ended" in (
        text
    )
