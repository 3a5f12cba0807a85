"""One small pipeline written in each front-end, for the contract tests: step ``a`` then step
``b(a)``, both using the run-scoped resource ``db``; ``b`` also uses ``tx`` when the pipeline is
built with a step-scoped one. Resources log ``open KEY PID`` / ``close KEY PID`` lines to a
file every process can append to, and fail where their config says (``fail_on``), so one test
body checks every front-end on every executor.

Defined at module level so Dask workers can unpickle them (they share the test's sys.path).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import SecretStr

import outfitter as of
from outfitter._instance import EventRecord, EventType, RunStatus

FRONTS = ("asset job", "op job", "functional flow", "imperative flow")


def note(log: str, text: str) -> None:
    with open(log, "a") as f:
        f.write(f"{text} {os.getpid()}\n")


class Rec(of.ConfigurableResource):
    """Logs its open and close; ``fail_on`` = "open", "close" or "a" (step ``a`` raises).
    Its failures quote ``token`` and ``password`` (secrets) when they are set, as careless
    code does."""

    log: str
    key: str = "db"
    fail_on: str = ""
    mark: str = ""
    """A file step ``a`` creates while it runs (a barrier for signal tests), then waits on."""
    token: SecretStr | None = None
    password: str = ""

    def quoted(self) -> str:
        """What a careless error message says about the credentials."""
        token = self.token.get_secret_value() if self.token is not None else ""
        return f" (token {token!r}, password {self.password})" if token or self.password else ""

    def setup_for_execution(self, context: Any) -> None:
        if self.fail_on == "open":
            raise ConnectionError(f"{self.key} is down{self.quoted()}")
        note(self.log, f"open {self.key}")

    def teardown_after_execution(self, context: Any) -> None:
        note(self.log, f"close {self.key}")
        if self.fail_on == "close":
            raise OSError(f"{self.key} commit failed{self.quoted()}")


class StepRec(Rec, scope="step"):
    """The same, opened and closed around each step that uses it."""


class AsyncRec(of.ConfigurableResource):
    """An async resource (opened on the run's or the worker's event loop)."""

    log: str
    key: str = "db"
    fail_on: str = ""
    mark: str = ""

    @contextlib.asynccontextmanager
    async def yield_for_execution(self, context: Any) -> AsyncIterator[AsyncRec]:
        await asyncio.sleep(0)
        if self.fail_on == "open":
            raise ConnectionError(f"{self.key} is down")
        note(self.log, f"open {self.key}")
        try:
            yield self
        finally:
            note(self.log, f"close {self.key}")
        if self.fail_on == "close":
            raise OSError(f"{self.key} commit failed")


# -- step bodies shared by every front-end --------------------------------------------------------


def body_a(db: Any) -> int:
    if db.mark:
        Path(db.mark).write_text("running")
        for _ in range(6000):  # until the test's signal arrives (at most a minute)
            __import__("time").sleep(0.01)
    if db.fail_on == "a":
        raise ValueError("a failed on purpose" + (db.quoted() if hasattr(db, "quoted") else ""))
    return 1


def body_b(a: int, db: Any, tx: Any = None) -> int:
    return a + 1


async def abody_a(db: Any) -> int:
    await asyncio.sleep(0)
    return body_a(db)


async def abody_b(a: int, db: Any, tx: Any = None) -> int:
    await asyncio.sleep(0)
    return body_b(a, db, tx)


# -- the four front-ends ------------------------------------------------------------------------


@of.asset(name="a")
def asset_a(db: of.ResourceParam[Any]) -> int:
    return body_a(db)


@of.asset(name="b")
def asset_b(a: int, db: of.ResourceParam[Any]) -> int:
    return body_b(a, db)


@of.asset(name="b")
def asset_b_tx(a: int, db: of.ResourceParam[Any], tx: of.ResourceParam[Any]) -> int:
    return body_b(a, db, tx)


@of.asset(name="a")
async def async_asset_a(db: of.ResourceParam[Any]) -> int:
    return await abody_a(db)


@of.asset(name="b")
async def async_asset_b(a: int, db: of.ResourceParam[Any]) -> int:
    return await abody_b(a, db)


@of.op(name="a")
def op_a(db: of.ResourceParam[Any]) -> int:
    return body_a(db)


@of.op(name="b")
def op_b(a: int, db: of.ResourceParam[Any]) -> int:
    return body_b(a, db)


@of.op(name="b")
def op_b_tx(a: int, db: of.ResourceParam[Any], tx: of.ResourceParam[Any]) -> int:
    return body_b(a, db, tx)


@of.op(name="a")
async def async_op_a(db: of.ResourceParam[Any]) -> int:
    return await abody_a(db)


@of.op(name="b")
async def async_op_b(a: int, db: of.ResourceParam[Any]) -> int:
    return await abody_b(a, db)


@of.task(name="a")
def task_a(db: of.ResourceParam[Any]) -> int:
    return body_a(db)


@of.task(name="b")
def task_b(a: int, db: of.ResourceParam[Any]) -> int:
    return body_b(a, db)


@of.task(name="b")
def task_b_tx(a: int, db: of.ResourceParam[Any], tx: of.ResourceParam[Any]) -> int:
    return body_b(a, db, tx)


@of.task(name="a")
async def async_task_a(db: of.ResourceParam[Any]) -> int:
    return await abody_a(db)


@of.task(name="b")
async def async_task_b(a: int, db: of.ResourceParam[Any]) -> int:
    return await abody_b(a, db)


class TaskA(of.Task):
    def run(self, db: of.ResourceParam[Any]) -> int:
        return body_a(db)


class TaskB(of.Task):
    def run(self, a: int, db: of.ResourceParam[Any]) -> int:
        return body_b(a, db)


class TaskBTx(of.Task):
    def run(self, a: int, db: of.ResourceParam[Any], tx: of.ResourceParam[Any]) -> int:
        return body_b(a, db, tx)


class AsyncTaskA(of.Task):
    async def run(self, db: of.ResourceParam[Any]) -> int:  # type: ignore[override]
        return await abody_a(db)


class AsyncTaskB(of.Task):
    async def run(self, a: int, db: of.ResourceParam[Any]) -> int:  # type: ignore[override]
        return await abody_b(a, db)


# -- building and running ---------------------------------------------------------------------


@dataclass
class Ended:
    """What a run of any front-end came to, in one shape."""

    status: RunStatus
    ok: bool
    error: BaseException | None
    """What the front-end surfaced: the exception jobs raise (and keep on the result), or the
    exception a flow's Failed state carries."""
    failed_steps: set[str]
    skipped_steps: set[str]
    events: list[EventRecord]
    message: str = ""
    values: dict[str, Any] = field(default_factory=dict)
    surfaced: list[Any] = field(default_factory=list)
    """Everything else handed back: a flow's task states (messages and results), a job's
    step failures."""


def build(front: str, *, step_tx: bool = False, is_async: bool = False) -> Any:
    """The pipeline in ``front``: a Definitions-bound asset job, an op job, or a flow."""
    if front == "asset job":
        if is_async:
            assets = [async_asset_a, async_asset_b]
        else:
            assets = [asset_a, asset_b_tx if step_tx else asset_b]
        return assets
    if front == "op job":
        a, b = (async_op_a, async_op_b) if is_async else (op_a, op_b_tx if step_tx else op_b)

        @of.job(name="pipeline")
        def pipeline() -> None:
            b(a())

        return pipeline
    if front == "functional flow":
        ta, tb = (
            (async_task_a, async_task_b) if is_async else (task_a, task_b_tx if step_tx else task_b)
        )
        with of.Flow("pipeline") as flow:
            tb(ta())
        return flow
    assert front == "imperative flow"
    flow = of.Flow("pipeline")
    ca, cb = (AsyncTaskA, AsyncTaskB) if is_async else (TaskA, TaskBTx if step_tx else TaskB)
    a_task, b_task = ca(name="a"), cb(name="b")
    a_task.bind(flow=flow)
    b_task.bind(a_task, flow=flow)
    return flow


def run(
    front: str,
    pipeline: Any,
    resources: dict[str, Any],
    instance: of.Instance,
    executor: Any,
    run_config: Any = None,
) -> Ended:
    """Run ``pipeline`` (as :func:`build` made it) and describe how it ended."""
    if front.endswith("flow"):
        state = pipeline.run(
            resources=resources, instance=instance, executor=executor, run_config=run_config
        )
        [record] = instance.get_runs(limit=1)
        states = state.result if isinstance(state.result, dict) else {}
        by_name = {t.name: s for t, s in states.items()}
        error = state.result if isinstance(state.result, BaseException) else None
        return Ended(
            record.status,
            state.is_successful(),
            error,
            {n for n, s in by_name.items() if s.is_failed()},
            {
                n
                for n, s in by_name.items()
                if s.is_failed() and type(s).__name__ == "TriggerFailed"
            },
            instance.all_events(record.run_id),
            state.message or "",
            {n: s.result for n, s in by_name.items() if s.is_successful()},
            [x for s in by_name.values() for x in (s.message, s.result)],
        )
    if front == "asset job":
        defs = of.Definitions(assets=pipeline, resources=resources, executor=executor)
        job = defs.get_implicit_global_asset_job_def()
    else:
        job = of.Definitions(jobs=[pipeline], resources=resources, executor=executor).get_job_def(
            "pipeline"
        )
    result = job.execute(run_config=run_config, instance=instance, raise_on_error=False)
    error: BaseException | None = result.run_error or result.teardown_error
    if error is None:
        for failure in result.failures.values():
            error = failure.error
            break
    skipped = {
        e.step_key or "" for e in result.all_events if e.event_type is EventType.STEP_SKIPPED
    }
    values = {}
    for key in ("a", "b"):
        with contextlib.suppress(Exception):
            values[key] = result.output_for_node(key)
    return Ended(
        result.run.status if result.run else RunStatus.STARTED,
        result.success,
        error,
        set(result.failures),
        skipped,
        result.all_events,
        "",
        values,
        [x for f in result.failures.values() for x in (f.message, f.error)],
    )


def opens_and_closes(log: Path) -> list[tuple[str, str, int]]:
    """``(kind, key, pid)`` lines of a resource log, in order."""
    if not log.exists():
        return []
    out = []
    for line in log.read_text().splitlines():
        kind, key, pid = line.split()
        out.append((kind, key, int(pid)))
    return out


Check = Callable[[list[tuple[str, str, int]]], None]
