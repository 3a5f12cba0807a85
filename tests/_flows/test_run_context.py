"""``outfitter.context``: Prefect 1's ``prefect.context`` for flow tasks (the keys a task run
sees: src/prefect/engine/flow_runner.py and task_runner.py put flow_name, flow_run_id,
parameters, task_name, task_slug, task_full_name, task_tags, map_index, task_run_count and
logger in it), in process, on multiprocess workers and on Dask workers.

(Named test_run_context.py: tests/_resources/test_context.py already uses the other name.)"""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

import outfitter as of
from outfitter import Flow, Parameter, context, task

KEYS = ("flow_name", "flow_run_id", "parameters", "task_name", "task_full_name", "map_index")


@task(tags=["ctx"])
def snapshot(x: int) -> dict[str, Any]:
    values = {key: context[key] for key in KEYS}
    values["task_tags"] = context.task_tags
    values["task_run_count"] = context.get("task_run_count")
    values["pid"] = os.getpid()
    context.logger.info("element %s of %s", x, context.flow_name)
    return values


@task(max_retries=1, retry_delay=timedelta(0))
def retried(marker: str) -> int:
    path = Path(marker)
    if not path.exists():
        path.touch()
        raise ConnectionError("first attempt fails")
    return int(context.task_run_count)


def ctx_flow(tmp_path: Path) -> tuple[Flow, Any, Any, Any]:
    with Flow("ctx") as flow:
        n = Parameter("n", default=2)
        Parameter("label", default="nightly")()
        mapped = snapshot.map([10, 20])
        single = snapshot(n)
        again = retried(str(tmp_path / "marker"))
    return flow, mapped, single, again


def check(flow: Flow, mapped: Any, single: Any, again: Any, **run: Any) -> set[int]:
    with of.Instance.ephemeral() as instance:
        state = flow.run(n=5, instance=instance, **run)
        [record] = instance.get_runs()
        logs = [e.message for e in instance.all_events(record.run_id)]
    assert state.is_successful(), state
    children = state.result[mapped].result
    assert [c["map_index"] for c in children] == [0, 1]
    assert [c["task_full_name"] for c in children] == ["snapshot[0]", "snapshot[1]"]
    one = state.result[single].result
    for values in [*children, one]:
        assert values["flow_name"] == "ctx"
        assert values["flow_run_id"] == record.run_id
        assert values["parameters"] == {"n": 5, "label": "nightly"}  # defaults included
        assert values["task_name"] == "snapshot"
        assert values["task_tags"] == {"ctx"}
        assert values["task_run_count"] == 1
    assert one["map_index"] is None
    assert one["task_full_name"] == "snapshot"
    assert state.result[again].result == 2  # the second attempt
    assert "element 10 of ctx" in logs
    return {values["pid"] for values in [*children, one]}


def test_a_task_reads_its_run_context_in_process(tmp_path: Path) -> None:
    """flow_runner.py / task_runner.py: the context of each task run (in process)."""
    flow, mapped, single, again = ctx_flow(tmp_path)
    assert check(flow, mapped, single, again) == {os.getpid()}


def test_the_run_context_on_multiprocess_workers(tmp_path: Path) -> None:
    """The same context when the calls run on worker processes."""
    flow, mapped, single, again = ctx_flow(tmp_path)
    pids = check(flow, mapped, single, again, executor=of.multiprocess_executor(max_concurrent=2))
    assert os.getpid() not in pids


def test_the_run_context_on_dask_workers(tmp_path: Path) -> None:
    """The same context when the calls run on Dask workers."""
    pytest.importorskip("distributed", reason="the `dask` extra is not installed")
    flow, mapped, single, again = ctx_flow(tmp_path)
    pids = check(flow, mapped, single, again, executor=of.dask_executor(n_workers=1))
    assert os.getpid() not in pids


def test_outside_a_task_run_the_context_holds_only_a_logger() -> None:
    """prefect.context outside a run: no flow keys; get() gives the default."""
    assert context.get("flow_name") is None
    assert context.get("map_index", "none") == "none"
    assert "flow_name" not in context
    assert list(context) == ["logger"]
    assert context.logger.name == "outfitter.user"
    with pytest.raises(AttributeError, match="no 'flow_name' outside a flow task run"):
        _ = context.flow_name
    with pytest.raises(KeyError):
        context["task_name"]


def test_the_context_is_a_mapping_and_a_dot_dict_inside_a_task() -> None:
    """prefect.context is a DotDict: attribute and key access, .get(), `in`."""

    @task
    def read() -> dict[str, Any]:
        return {
            "attr": context.task_slug,
            "item": context["task_slug"],
            "has": "map_index" in context,
            "dict": sorted(context.to_dict()),
            "repr": repr(context),
        }

    with Flow("dot") as flow:
        out = read()
    got = flow.run().result[out].result
    assert got["attr"] == got["item"] == out.slug
    assert got["has"] is True
    dates = ["date", "scheduled_start_time", "today", "today_nodash", "yesterday"]
    dates += ["yesterday_nodash", "tomorrow", "tomorrow_nodash"]
    extra = ["task_slug", "task_tags", "task_run_count", "logger", *dates]
    assert got["dict"] == sorted([*KEYS, *extra])
    assert got["repr"] == "<Context of task 'read' in flow 'dot'>"
    assert of.context is context


def test_the_run_start_dates_are_in_the_context() -> None:
    """flow_runner.py puts the run's date and today/yesterday/tomorrow (and _nodash forms) in
    the context; here they come from the run's start, in UTC, the same for every task."""

    @task
    def dates() -> dict[str, Any]:
        return {k: context[k] for k in ("date", "today", "today_nodash", "yesterday", "tomorrow")}

    with Flow("dates") as flow:
        first, second = dates(), dates()
    state = flow.run()
    one, two = state.result[first].result, state.result[second].result
    assert one == two
    start = one["date"]
    assert start.tzinfo is not None
    assert one["today"] == start.strftime("%Y-%m-%d")
    assert one["today_nodash"] == start.strftime("%Y%m%d")
    assert one["yesterday"] == (start - timedelta(days=1)).strftime("%Y-%m-%d")
    assert one["tomorrow"] == (start + timedelta(days=1)).strftime("%Y-%m-%d")
