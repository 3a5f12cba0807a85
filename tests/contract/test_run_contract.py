"""The run contract, the same for every front-end on every executor (DESIGN §1, §4, §6).

Each test runs one small pipeline (``a`` then ``b(a)``, both using the resource ``db``; see
``pipelines.py``) written as an asset job, an op job, a functional flow and an imperative flow,
on the in-process, multiprocess and Dask executors, and checks one documented outcome
(docs/concepts.md, "How a run ends"):

- resources open once per run per process and close in reverse order, exactly once;
- ``scope="step"`` resources open and close around each step; async resources and steps work;
- launch config comes in the same RunConfig / dict for jobs and flows, only for what a run opens;
- a failed setup, a failed step and a failed teardown each end the same way for jobs and flows;
- the run record's final status is never STARTED.
"""

from __future__ import annotations

import threading
from collections import defaultdict
from pathlib import Path
from typing import Any

import pipelines as p
import pytest

import outfitter as of
from outfitter._instance import EventType, RunStatus
from outfitter._resources.markers import Scope
from outfitter._resources.scope import PROCESS_SCOPE, RunScope
from outfitter.exceptions import ConfigError, ResourceInitError, TeardownError

FRONTS = p.FRONTS


def balanced(log: Path) -> dict[int, list[tuple[str, str]]]:
    """Check the resource log: in every process, each key opened once and everything closed
    exactly once in the reverse order of opening. Returns the lines by pid."""
    by_pid: dict[int, list[tuple[str, str]]] = defaultdict(list)
    for kind, key, pid in p.opens_and_closes(log):
        by_pid[pid].append((kind, key))
    for pid, lines in by_pid.items():
        opens = [k for kind, k in lines if kind == "open"]
        closes = [k for kind, k in lines if kind == "close"]
        assert len(opens) == len(set(opens)), f"pid {pid} opened a key twice: {lines}"
        assert closes == opens[::-1], f"pid {pid} did not close LIFO exactly once: {lines}"
    return dict(by_pid)


def kinds(ended: p.Ended, *types: EventType) -> list[Any]:
    return [e for e in ended.events if e.event_type in types]


@pytest.mark.parametrize("front", FRONTS)
def test_resources_open_once_per_process_and_close_lifo(
    front: str, executor: Any, log: Path, instance: of.Instance
) -> None:
    """Success: both steps ran, each process opened what its steps needed once, closed LIFO."""
    pipeline = p.build(front, step_tx=True)
    resources = {"db": p.Rec(log=str(log)), "tx": p.Rec(log=str(log), key="tx")}
    ended = p.run(front, pipeline, resources, instance, executor)
    assert ended.ok, ended
    assert ended.status is RunStatus.SUCCESS
    assert ended.values == {"a": 1, "b": 2}
    by_pid = balanced(log)
    assert {k for lines in by_pid.values() for _, k in lines} == {"db", "tx"}
    if executor.name == "in_process":
        assert list(by_pid.values()) == [
            [("open", "db"), ("open", "tx"), ("close", "tx"), ("close", "db")]
        ]
    [run] = instance.get_runs()
    assert run.status is RunStatus.SUCCESS
    assert kinds(ended, EventType.RUN_SUCCESS)


@pytest.mark.parametrize("front", FRONTS)
def test_step_scoped_resources_open_and_close_around_each_step(
    front: str, executor: Any, log: Path, instance: of.Instance
) -> None:
    """scope="step": one open and one close per step that asks, the close right after it."""
    pipeline = p.build(front)
    ended = p.run(front, pipeline, {"db": p.StepRec(log=str(log))}, instance, executor)
    assert ended.ok, ended
    lines = p.opens_and_closes(log)
    assert [kind for kind, _, _ in lines] == ["open", "close", "open", "close"]


@pytest.mark.parametrize("front", FRONTS)
def test_async_resources_and_async_steps(
    front: str, executor: Any, log: Path, instance: of.Instance
) -> None:
    """An async resource and async steps run on every front-end and executor."""
    pipeline = p.build(front, is_async=True)
    ended = p.run(front, pipeline, {"db": p.AsyncRec(log=str(log))}, instance, executor)
    assert ended.ok, ended
    assert ended.values == {"a": 1, "b": 2}
    balanced(log)


@pytest.mark.parametrize("front", FRONTS)
def test_launch_config_is_the_same_for_jobs_and_flows(
    front: str, executor: Any, log: Path, instance: of.Instance
) -> None:
    """A RunConfig completes a configure_at_launch() resource; another partial resource that
    no step uses needs no config (DESIGN §4: unused resources are never opened)."""
    pipeline = p.build(front)
    resources = {"db": p.Rec.configure_at_launch(), "unused": p.Rec.configure_at_launch()}
    launch = of.RunConfig(resources={"db": p.Rec(log=str(log))})
    ended = p.run(front, pipeline, resources, instance, executor, run_config=launch)
    assert ended.ok, ended
    as_dict = {"resources": {"db": {"config": {"log": str(log)}}}}
    assert p.run(front, pipeline, resources, instance, executor, run_config=as_dict).ok
    assert {k for _, k, _ in p.opens_and_closes(log)} == {"db"}


@pytest.mark.parametrize("front", FRONTS)
def test_missing_launch_config_records_nothing(front: str, instance: of.Instance) -> None:
    """Missing launch config is one ConfigError naming the key and field, with an example of
    valid config, raised before anything is recorded."""
    pipeline = p.build(front)
    resources = {"db": p.Rec.configure_at_launch()}
    with pytest.raises(ConfigError) as info:
        p.run(front, pipeline, resources, instance, None)
    text = str(info.value)
    assert "resource 'db' needs launch config for: log" in text
    assert "RunConfig(resources={'db': Rec(log=...)})" in text
    assert "Nothing was run." in text
    assert instance.get_runs() == []


@pytest.mark.parametrize("front", FRONTS)
def test_a_failed_setup_fails_the_run_with_the_key(
    front: str, executor: Any, log: Path, instance: of.Instance
) -> None:
    """A resource that fails to open: FAILURE, the ResourceInitError naming the key (raised by
    jobs, the result of a flow's Failed state), no step succeeds, nothing left open."""
    pipeline = p.build(front)
    ended = p.run(front, pipeline, {"db": p.Rec(log=str(log), fail_on="open")}, instance, executor)
    assert ended.status is RunStatus.FAILURE
    assert not ended.ok
    assert isinstance(ended.error, ResourceInitError), ended
    assert ended.error.key == "db"
    assert "resource 'db' (Rec) failed to open: ConnectionError: db is down" in str(ended.error)
    assert not kinds(ended, EventType.STEP_SUCCESS)
    assert kinds(ended, EventType.RESOURCE_FAILURE)
    [final] = kinds(ended, EventType.RUN_FAILURE)
    assert "'db'" in final.message
    assert p.opens_and_closes(log) == []


@pytest.mark.parametrize("front", FRONTS)
def test_a_failed_step_fails_the_run_and_stops_its_downstream(
    front: str, executor: Any, log: Path, instance: of.Instance
) -> None:
    """A step that raises: FAILURE, the step's own exception surfaced, its downstream step not
    run (skipped in jobs, TriggerFailed in flows), every resource closed."""
    pipeline = p.build(front)
    ended = p.run(front, pipeline, {"db": p.Rec(log=str(log), fail_on="a")}, instance, executor)
    assert ended.status is RunStatus.FAILURE
    assert not ended.ok
    assert "a" in ended.failed_steps
    assert "b" in ended.skipped_steps
    if front.endswith("job"):
        assert isinstance(ended.error, ValueError)
        assert str(ended.error) == "a failed on purpose"
    else:
        assert ended.message == "Some reference tasks failed."
    failures = kinds(ended, EventType.STEP_FAILURE)
    assert any("ValueError: a failed on purpose" in e.message for e in failures)
    balanced(log)


@pytest.mark.parametrize("front", FRONTS)
def test_a_failed_teardown_fails_the_run_naming_the_key(
    front: str, executor: Any, log: Path, instance: of.Instance
) -> None:
    """A resource that fails to close: the steps' results stand, the run is FAILURE (Dagster
    reports success here; a failed commit is not hidden), the TeardownError names the key."""
    pipeline = p.build(front)
    ended = p.run(front, pipeline, {"db": p.Rec(log=str(log), fail_on="close")}, instance, executor)
    assert ended.status is RunStatus.FAILURE
    assert not ended.ok
    assert ended.values == {"a": 1, "b": 2}
    if front.endswith("job"):
        assert isinstance(ended.error, TeardownError)
        assert ended.error.keys == ("db",)
    else:
        assert ended.message.startswith("1 resource(s) failed to close: 'db'")
    [final] = kinds(ended, EventType.RUN_FAILURE)
    assert "failed to close: 'db'" in final.message
    assert "OSError: db commit failed" in final.message
    balanced(log)


@pytest.mark.parametrize("front", FRONTS)
def test_jobs_raise_and_flows_return_what_failed(
    front: str, log: Path, instance: of.Instance
) -> None:
    """With the defaults, a job raises what failed it and a flow returns a Failed state
    carrying it (Prefect 1's FlowRunner.run turns unexpected errors into Failed,
    src/prefect/engine/flow_runner.py); the record is FAILURE either way."""
    pipeline = p.build(front)
    resources = {"db": p.Rec(log=str(log), fail_on="open")}
    if front.endswith("flow"):
        state = pipeline.run(resources=resources, instance=instance)
        assert state.is_failed()
        assert isinstance(state.result, ResourceInitError)
        assert state.message.startswith("Unexpected error while running flow: resource 'db'")
    else:
        defs = (
            of.Definitions(assets=pipeline, resources=resources)
            if front == "asset job"
            else of.Definitions(jobs=[pipeline], resources=resources)
        )
        job = defs.get_job_def("__ASSET_JOB" if front == "asset job" else "pipeline")
        with pytest.raises(ResourceInitError, match="resource 'db'"):
            job.execute_in_process(instance=instance)
    [run] = instance.get_runs()
    assert run.status is RunStatus.FAILURE


@pytest.mark.parametrize("front", FRONTS)
@pytest.mark.parametrize("executor_name", ["in_process", "multiprocess"])
def test_runs_started_at_once_from_threads_do_not_mix(
    front: str, executor_name: str, tmp_path: Path
) -> None:
    """Two threads start runs of the same job or flow at the same moment: each run has its own
    record, its own resources and its own result (plans and graphs are shared, never mutated)."""
    pipeline = p.build(front)
    executor = (
        of.in_process_executor
        if executor_name == "in_process"
        else of.multiprocess_executor(max_concurrent=2)
    )
    barrier = threading.Barrier(2)
    ended: dict[int, p.Ended] = {}
    errors: list[BaseException] = []

    def one(i: int) -> None:
        log = tmp_path / f"log{i}"
        log.write_text("")
        try:
            with of.Instance.local(tmp_path / f"home{i}") as inst:
                barrier.wait()
                ended[i] = p.run(front, pipeline, {"db": p.Rec(log=str(log))}, inst, executor)
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=one, args=(i,)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors
    assert all(e.ok and e.values == {"a": 1, "b": 2} for e in ended.values())
    for i in range(2):
        assert {k for _, k, _ in p.opens_and_closes(tmp_path / f"log{i}")} == {"db"}
        balanced(tmp_path / f"log{i}")


@pytest.mark.parametrize("front", FRONTS)
def test_process_scoped_resources_live_as_long_as_the_process_scope(
    front: str, log: Path, instance: of.Instance
) -> None:
    """scope="process" (as under the daemon): two runs share one open, closed with the process
    scope, not by either run."""

    class Pool(p.Rec, scope="process"):
        pass

    pipeline = p.build(front)
    resources = {"db": Pool(log=str(log))}
    process = RunScope(resources, level=Scope.PROCESS)
    token = PROCESS_SCOPE.set(process)
    try:
        for _ in range(2):
            assert p.run(front, pipeline, resources, instance, None).ok
        assert [k for k, _, _ in p.opens_and_closes(log)] == ["open"]
    finally:
        PROCESS_SCOPE.reset(token)
        process.close()
    assert [k for k, _, _ in p.opens_and_closes(log)] == ["open", "close"]
    assert [r.status for r in instance.get_runs()] == [RunStatus.SUCCESS] * 2
