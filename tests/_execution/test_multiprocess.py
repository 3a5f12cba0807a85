"""The multiprocess executor with real worker processes: resources once per worker per run,
closed on every worker after success and failure, parallel steps, a killed worker, values
crossing through the I/O manager."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import threading
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

import outfitter as of
from outfitter._instance import EventType
from outfitter.exceptions import InvocationError, TeardownError

LOG = Path(os.environ.get("PYTEST_TMP_LOG", "/tmp")) / f"outfitter-mp-{os.getpid()}.log"


def note(text: str) -> None:
    with LOG.open("a") as f:
        f.write(f"{text} {os.getpid()}\n")


class Db(of.ConfigurableResource):
    url: str

    def setup_for_execution(self, context: Any) -> None:
        note("open")

    def teardown_after_execution(self, context: Any) -> None:
        note("close")


def lines() -> list[tuple[str, int]]:
    return [(a, int(b)) for a, b in (line.split() for line in LOG.read_text().splitlines())]


@pytest.fixture(autouse=True)
def _fresh_log() -> None:
    LOG.write_text("")


def fan_out(n: int, body: Any) -> list[of.AssetsDefinition]:
    def make(i: int) -> of.AssetsDefinition:
        def step(db: Db) -> int:
            return body(i)

        return of.asset(name=f"s{i}")(step)

    return [make(i) for i in range(n)]


def run(assets: list[Any], **kw: Any) -> Any:
    defs = of.Definitions(
        assets=assets,
        resources={"db": Db(url="x")},
        executor=of.multiprocess_executor(max_concurrent=2),
    )
    return defs.get_implicit_global_asset_job_def().execute(**kw)


def test_resources_open_once_per_worker_and_close_on_every_worker(tmp_path: Path) -> None:
    """8 steps on 2 workers: each worker pid opens Db once and closes it once."""
    with of.Instance.local(tmp_path) as instance:
        result = run(fan_out(8, lambda i: os.getpid()), instance=instance)
        assert result.success
        pids = {result.output_for_node(f"s{i}") for i in range(8)}
        events = [e for e in result.all_events if e.event_type is EventType.RESOURCE_OPEN]
    assert os.getpid() not in pids
    opens = [pid for kind, pid in lines() if kind == "open"]
    closes = [pid for kind, pid in lines() if kind == "close"]
    assert sorted(opens) == sorted(set(opens))  # once per worker
    assert set(opens) == pids
    assert sorted(closes) == sorted(opens)
    assert {e.resource_key for e in events} >= {"db"}


def test_values_cross_processes_through_the_io_manager(tmp_path: Path) -> None:
    """A downstream step in another worker reads its input through the I/O manager."""

    @of.asset
    def numbers(db: Db) -> list[int]:
        return [1, 2, 3]

    @of.asset
    def total(numbers: list[int]) -> int:
        return sum(numbers)

    with of.Instance.local(tmp_path) as instance:
        assert run([numbers, total], instance=instance).asset_value("total") == 6


def test_independent_steps_run_in_parallel(tmp_path: Path) -> None:
    """Two steps wait for each other through files: this only succeeds if they overlap."""
    barrier = tmp_path / "barrier"

    def meet(i: int) -> int:
        (barrier / f"{i}").touch()
        deadline = time.monotonic() + 30
        while len(list(barrier.iterdir())) < 2:
            assert time.monotonic() < deadline, "the other step never started"
            time.sleep(0.01)
        return i

    barrier.mkdir()
    with of.Instance.local(tmp_path) as instance:
        assert run(fan_out(2, meet), instance=instance).success


def test_step_failure_still_closes_every_worker(tmp_path: Path) -> None:
    """A failing step fails the run; every worker that opened Db closes it."""

    def maybe_fail(i: int) -> int:
        if i == 3:
            raise ValueError("bad row")
        return i

    with of.Instance.local(tmp_path) as instance:
        result = run(fan_out(6, maybe_fail), instance=instance, raise_on_error=False)
        assert not result.success
        assert "ValueError: bad row" in result.failures["s3"].message
        with pytest.raises(ValueError, match="bad row"):
            run(fan_out(6, maybe_fail), instance=instance)
    opens = sorted(pid for kind, pid in lines() if kind == "open")
    closes = sorted(pid for kind, pid in lines() if kind == "close")
    assert opens == closes


def test_a_killed_worker_fails_its_step_and_the_run_cleanly(tmp_path: Path) -> None:
    """SIGKILL of a worker: its step fails naming the exit code; the other worker closes."""

    def die(i: int) -> int:
        if i == 0:
            os.kill(os.getpid(), signal.SIGKILL)
        time.sleep(0.2)
        return i

    with of.Instance.local(tmp_path) as instance:
        result = run(fan_out(4, die), instance=instance, raise_on_error=False)
        assert not result.success
        [failure] = result.failures.values()
        assert "died (exit code -9) while running step 's0'" in failure.message
        assert "Hint: a worker process ends like this when it is killed" in failure.message
        assert isinstance(failure.error, InvocationError)
        assert result.run is not None
        assert result.run.status.value == "FAILURE"
    survivors = {pid for kind, pid in lines() if kind == "open"} - {
        pid for kind, pid in lines() if kind == "close"
    }
    assert len(survivors) <= 1  # only the killed worker could not close


def test_unpicklable_output_names_the_step_and_type(tmp_path: Path) -> None:
    """Values cross processes pickled; an unpicklable one is an error naming step and type."""

    @of.asset
    def lock(db: Db) -> Any:
        return threading.Lock()

    with of.Instance.local(tmp_path) as instance:
        result = run([lock], instance=instance, raise_on_error=False)
    assert (
        "the output of asset 'lock' (a lock) cannot be pickled" in result.failures["lock"].message
    )


def test_in_memory_io_manager_is_refused() -> None:
    """Worker memory is not shared, so the in-memory I/O manager cannot be used."""

    @of.asset
    def one() -> int:
        return 1

    job = of.Definitions(
        assets=[one],
        resources={"io_manager": of.InMemoryIOManager()},
        executor=of.multiprocess_executor,
    ).get_implicit_global_asset_job_def()
    with pytest.raises(InvocationError, match="cannot pass values through the in-memory"):
        job.execute()


def test_run_config_selects_the_executor(tmp_path: Path) -> None:
    """{"execution": {"multiprocess": {...}}} runs the job on workers."""

    @of.asset
    def where() -> int:
        return os.getpid()

    job = of.Definitions(assets=[where]).get_implicit_global_asset_job_def()
    with of.Instance.local(tmp_path) as instance:
        result = job.execute(
            run_config={"execution": {"multiprocess": {"max_concurrent": 1}}}, instance=instance
        )
        assert result.asset_value("where") != os.getpid()
        assert job.execute(instance=instance).asset_value("where") == os.getpid()
    with pytest.raises(of.exceptions.ConfigError, match="executor 'warp'"):
        job.execute(run_config={"execution": {"warp": {}}})


class Tx(of.ConfigurableResource, scope="step"):
    """A step-scoped resource: opened and closed around every step that uses it."""

    log: str

    def setup_for_execution(self, context: Any) -> None:
        with open(self.log, "a") as f:
            f.write(f"tx-open {os.getpid()}\n")

    def teardown_after_execution(self, context: Any) -> None:
        with open(self.log, "a") as f:
            f.write(f"tx-close {os.getpid()}\n")


def test_async_steps_and_step_scoped_resources_on_workers(tmp_path: Path) -> None:
    """Async steps run on workers; a step-scoped resource opens and closes once per step."""
    log = tmp_path / "tx.log"

    @of.asset
    async def first(tx: Tx) -> int:
        return 1

    @of.asset
    def second(first: int, tx: Tx) -> int:
        return first + 1

    defs = of.Definitions(
        assets=[first, second],
        resources={"tx": Tx(log=str(log))},
        executor=of.multiprocess_executor(max_concurrent=2),
    )
    with of.Instance.local(tmp_path / "home") as instance:
        result = defs.get_implicit_global_asset_job_def().execute(instance=instance)
        assert result.asset_value("second") == 2
    kinds = [line.split()[0] for line in log.read_text().splitlines()]
    assert kinds == ["tx-open", "tx-close", "tx-open", "tx-close"]


def test_a_teardown_failure_on_a_worker_fails_the_run(tmp_path: Path) -> None:
    """A resource whose teardown raises on a worker fails the run with the same TeardownError
    an in-process run raises, naming the key and the worker."""

    class Leaky(of.ConfigurableResource):
        def teardown_after_execution(self, context: Any) -> None:
            raise OSError("socket already closed")

    @of.asset
    def uses(leaky: Leaky) -> int:
        return 1

    defs = of.Definitions(
        assets=[uses], resources={"leaky": Leaky()}, executor=of.multiprocess_executor
    )
    job = defs.get_implicit_global_asset_job_def()
    with of.Instance.local(tmp_path) as instance:
        with pytest.raises(TeardownError, match="failed to close: 'leaky'") as info:
            job.execute(instance=instance)
        assert info.value.keys == ("leaky",)
        assert "socket already closed (worker pid" in str(info.value)
        [run] = instance.get_runs()
        assert run.status.value == "FAILURE"


def test_a_run_on_its_own_ephemeral_instance_keeps_its_events() -> None:
    """Without an instance, the run's events are read before its ephemeral instance closes."""

    @of.asset
    def where() -> int:
        return os.getpid()

    result = of.materialize([where], executor=of.multiprocess_executor)
    assert result.asset_value("where") != os.getpid()
    kinds = [e.event_type for e in result.all_events]
    assert kinds[0] is EventType.RUN_START
    assert EventType.STEP_SUCCESS in kinds
    assert kinds[-1] is EventType.RUN_SUCCESS


class Store(of.ConfigurableResource):
    table: str


@of.asset
def table_name(store: Store) -> str:
    return store.table


def test_launch_config_reaches_the_workers(tmp_path: Path) -> None:
    """configure_at_launch() resources get the run config's values on the workers."""
    defs = of.Definitions(
        assets=[table_name],
        resources={"store": Store.configure_at_launch()},
        executor=of.multiprocess_executor,
    )
    run_config = {"resources": {"store": {"config": {"table": "sales"}}}}
    with of.Instance.local(tmp_path) as instance:
        result = defs.get_implicit_global_asset_job_def().execute(run_config, instance=instance)
        assert result.asset_value("table_name") == "sales"


def test_a_flow_whose_workers_cannot_start_is_recorded_as_failed(tmp_path: Path) -> None:
    """An error before any task runs (here: no fork on this 'platform') fails the run record;
    the flow ends Failed with the error as its result, as Prefect 1 ends a flow run whose
    runner raised (src/prefect/engine/flow_runner.py, FlowRunner.run: "Unexpected error while
    running flow")."""

    @of.task
    def one() -> int:
        return 1

    with of.Flow("no-workers") as flow:
        one()
    with of.Instance.local(tmp_path) as instance:
        with pytest.MonkeyPatch.context() as mp:
            mp.setattr("multiprocessing.get_all_start_methods", lambda: ["spawn"])
            state = flow.run(executor=of.multiprocess_executor, instance=instance)
        assert state.is_failed()
        assert isinstance(state.result, InvocationError)
        assert "needs the 'fork' start method" in str(state.message)
        [run] = instance.get_runs()
        assert run.status.value == "FAILURE"


class AsyncPool(of.ConfigurableResource):
    """An async resource: opened and closed on the worker's event loop."""

    log: str

    @contextlib.asynccontextmanager
    async def yield_for_execution(self, context: Any) -> AsyncIterator[AsyncPool]:
        with open(self.log, "a") as f:
            f.write(f"open {os.getpid()}\n")
        yield self
        with open(self.log, "a") as f:
            f.write(f"close {os.getpid()}\n")


@of.asset
async def fetched(pool: AsyncPool) -> int:
    await asyncio.sleep(0)
    return os.getpid()


def test_async_resources_open_and_close_on_the_workers_loop(tmp_path: Path) -> None:
    """An async resource opens once on the worker that needs it and closes there."""
    log = tmp_path / "pool.log"
    defs = of.Definitions(
        assets=[fetched],
        resources={"pool": AsyncPool(log=str(log))},
        executor=of.multiprocess_executor,
    )
    with of.Instance.local(tmp_path / "home") as instance:
        result = defs.get_implicit_global_asset_job_def().execute(instance=instance)
        worker = result.asset_value("fetched")
    assert log.read_text().split("\n")[:2] == [f"open {worker}", f"close {worker}"]


def test_a_worker_stopped_while_idle_hands_its_work_to_another(tmp_path: Path) -> None:
    """SIGTERM to an idle worker (not from the coordinator): it closes its resources and exits;
    the next step sent its way runs on another worker instead of failing the run, and the
    stopped worker's close reply is kept for the end of the run."""
    from outfitter._execution.multiprocess import ProcessPool
    from outfitter._execution.remote import RunPayload
    from outfitter._resources.bindings import plan_of_bindings

    @of.asset
    def where() -> int:
        return os.getpid()

    job = of.Definitions(assets=[where]).get_implicit_global_asset_job_def()
    [node] = job.graph.nodes
    plan = plan_of_bindings({"io_manager": of.FilesystemIOManager(base_dir=str(tmp_path))})
    payload = RunPayload("run", plan, str(tmp_path), nodes={node.key: node}, configs={})
    pool = ProcessPool(payload, 2)
    try:
        first = pool._procs[0].pid
        assert first is not None
        os.kill(first, signal.SIGTERM)
        pool._procs[0].join(timeout=60)
        assert pool._procs[0].exitcode == 0  # it closed and returned
        token = pool.submit(("call", node.key, {}, True, "asset 'where'"))
        replies: list[Any] = []
        deadline = time.monotonic() + 60
        while not replies and time.monotonic() < deadline:
            replies = pool.wait(0.5)
        [(got, reply)] = replies
        assert got == token
        assert reply.ok, reply.message
    finally:
        closes = pool.shutdown(None)
    assert len(closes) == 2
    assert all(c.ok for c in closes)
