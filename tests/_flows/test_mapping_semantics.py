"""Mapping, triggers and skips as Prefect 1.4.1 runs them, on every executor.

Prefect 1.4.1 sources pinned here:
- ``src/prefect/engine/task_runner.py``: ``check_upstream_finished`` / ``check_upstream_skipped``
  flatten a mapped upstream into its children only for an edge that is not mapped;
  ``check_task_ready_to_map`` fails a parent with nothing to map over; the trigger runs per
  mapped child.
- ``src/prefect/utilities/executors.py`` ``prepare_upstream_states_for_mapping``: each child
  sees the child of the same index of a mapped upstream.
- ``src/prefect/engine/flow_runner.py`` ``get_flow_run_state``: the children of a mapped
  reference task decide the flow's state; a ``Mapped`` restart state re-runs the children
  without a finished state.
- ``src/prefect/tasks/core/resource_manager.py``: without ``setup`` no edge joins the init task
  to the block's tasks.
"""

from __future__ import annotations

from datetime import UTC
from pathlib import Path
from typing import Any

import pytest

import outfitter as of
from outfitter import signals, triggers
from outfitter._instance import EventType, RunStatus

# the executors as fixtures (from a helper module: one conftest.py per test tree)


@of.task
def extract(x: int) -> int:
    if x == 2:
        raise ValueError(f"bad element {x}")
    return x


@of.task
def transform(x: int) -> int:
    return x * 10


@of.task
def load(x: int) -> int:
    return x + 1


@of.task
def collect(xs: list[Any]) -> list[Any]:
    return list(xs)


@of.task
def skip_two(x: int) -> int:
    if x == 2:
        raise signals.SKIP(f"nothing to do for {x}")
    return x


@of.task(trigger=triggers.all_failed)
def recover(x: Any) -> str:
    return f"recovered {type(x).__name__}"


def kinds(state: of.State) -> list[str]:
    assert isinstance(state, of.Mapped)
    return [type(s).__name__ for s in state.map_states]


def test_a_failed_child_fails_the_flow_its_mapped_reference_task_is_in(executor: Any) -> None:
    """The parent stays Mapped (a success, as in Prefect 1) but its failed child fails the
    flow: flow_runner.py counts a mapped reference task's children."""
    with of.Flow("child-fails") as flow:
        extracted = extract.map([1, 2, 3])
    state = flow.run(executor=executor)
    assert state.is_failed()
    assert state.message == "Some reference tasks failed."
    parent = state.result[extracted]
    assert parent.is_mapped()
    assert parent.is_successful()
    assert kinds(parent) == ["Success", "Failed", "Success"]
    assert isinstance(parent.map_states[1].result, ValueError)


def test_one_bad_element_fails_only_its_own_branch(executor: Any) -> None:
    """load.map(transform.map(extract.map(xs))): element 2 fails, its transform and load
    children are TriggerFailed; the other branches run through (the trigger runs per child)."""
    with of.Flow("branches") as flow:
        loaded = load.map(transform.map(extract.map([1, 2, 3])))
    state = flow.run(executor=executor)
    assert state.is_failed()
    assert kinds(state.result[loaded]) == ["Success", "TriggerFailed", "Success"]
    results = state.result[loaded].result
    assert results[0] == 11
    assert results[2] == 31


def test_a_mapped_all_failed_task_runs_for_each_failed_child(executor: Any) -> None:
    """A mapped task with all_failed maps: only the child whose upstream element failed runs
    (and sees the exception as its input); the others are TriggerFailed."""
    with of.Flow("all-failed") as flow:
        recovered = recover.map(extract.map([1, 2, 3]))
    state = flow.run(executor=executor)
    assert kinds(state.result[recovered]) == ["TriggerFailed", "Success", "TriggerFailed"]
    assert state.result[recovered].map_states[1].result == "recovered ValueError"


def test_skip_in_a_child_skips_its_branch_and_a_reducing_task(executor: Any) -> None:
    """SKIP in one child skips the same element downstream and a task reducing over the
    mapped task (check_upstream_skipped flattens its children); the flow succeeds."""
    with of.Flow("skips") as flow:
        kept = skip_two.map([1, 2, 3])
        loaded = load.map(kept)
        reduced = collect(kept)
    state = flow.run(executor=executor)
    assert state.is_successful()
    assert kinds(state.result[kept]) == ["Success", "Skipped", "Success"]
    assert kinds(state.result[loaded]) == ["Success", "Skipped", "Success"]
    assert state.result[loaded].result == [2, None, 4]
    assert state.result[reduced].is_skipped()


def test_a_reducing_task_that_does_not_skip_gets_none_for_a_skipped_child() -> None:
    """With skip_on_upstream_skip=False the reducing task runs; a skipped child's result is
    None."""
    with of.Flow("no-skip") as flow:
        reduced = collect(skip_two.map([1, 2, 3]), task_args={"skip_on_upstream_skip": False})
    state = flow.run()
    assert state.result[reduced].result == [1, None, 3]


def test_a_mapped_task_over_a_failed_task_fails_with_nothing_to_map() -> None:
    """check_task_ready_to_map: no successful upstream to map over fails the parent (it is
    not TriggerFailed and runs no child)."""

    @of.task
    def broken() -> list[int]:
        raise ValueError("no list")

    with of.Flow("nothing") as flow:
        mapped = load.map(broken())
    state = flow.run()
    assert type(state.result[mapped]) is of.Failed
    assert state.result[mapped].message == "No upstream states can be mapped over."


def test_a_mapped_task_over_a_number_fails_with_an_unmappable_result() -> None:
    """A successful upstream whose result cannot be iterated fails the parent."""

    @of.task
    def number() -> int:
        return 3

    with of.Flow("unmappable") as flow:
        mapped = load.map(number())
    state = flow.run()
    assert state.result[mapped].message == "At least one upstream state has an unmappable result."


def test_a_mapped_step_with_a_failed_child_is_recorded_as_failed(tmp_path: Path) -> None:
    """The step's event is STEP_FAILURE (its message counts failed children) and the run is
    FAILURE, though the task's state is Mapped."""
    with of.Flow("recorded") as flow:
        extract.map([1, 2, 3])
    with of.Instance.local(tmp_path) as instance:
        flow.run(instance=instance)
        [run] = instance.get_runs()
        failures = instance.all_events(run.run_id, event_type=EventType.STEP_FAILURE)
    assert run.status is RunStatus.FAILURE
    assert [e.message for e in failures] == ["Mapped 3 run(s). 1 failed."]


@of.task
def remember(x: int, log: str) -> int:
    with open(log, "a") as f:  # a file: children may run in other processes
        f.write(f"{x}\n")
    return x * 2


def ran(log: Path) -> list[int]:
    return sorted(int(line) for line in log.read_text().splitlines()) if log.exists() else []


def test_a_partial_mapped_restart_runs_only_the_missing_children(
    executor: Any, tmp_path: Path
) -> None:
    """task_states={t: Mapped(map_states=[None, Success(...), None])} keeps the finished child
    and runs the others."""
    log = tmp_path / "ran.log"
    with of.Flow("restart") as flow:
        doubled = remember.map([1, 2, 3], log=of.unmapped(str(log)))
    given = of.Mapped(map_states=[None, of.Success(result=40), None])
    state = flow.run(task_states={doubled: given}, executor=executor)
    assert ran(log) == [1, 3]
    assert state.result[doubled].result == [2, 40, 6]


def test_a_mapped_restart_with_n_map_states_runs_every_child(tmp_path: Path) -> None:
    """Mapped(n_map_states=2) without children states: two children run again."""
    log = tmp_path / "ran.log"
    with of.Flow("restart-n") as flow:
        doubled = remember.map([1, 2, 3], log=of.unmapped(str(log)))
    state = flow.run(task_states={doubled: of.Mapped(n_map_states=2)})
    assert ran(log) == [1, 2]
    assert state.result[doubled].result == [2, 4]


@of.task(trigger=triggers.manual_only)
def approve() -> str:
    return "approved"


@of.task
def after(x: str) -> str:
    return f"{x}, then done"


def test_a_manual_only_task_pauses_stays_paused_and_runs_on_resume(executor: Any) -> None:
    """manual_only pauses the task (its downstream waits, Pending; the flow is Running);
    given back Paused it stays paused (task_runner.py check_task_reached_start_time: no start
    time, not ready); Resume() approves it (manual_only reads the resume flag)."""
    with of.Flow("approval") as flow:
        approved = approve()
        done = after(approved)
    first = flow.run(executor=executor)
    assert first.is_running()
    assert first.result[approved].is_paused()
    assert type(first.result[done]) is of.Pending
    again = flow.run(task_states={approved: first.result[approved]}, executor=executor)
    assert again.result[approved].is_paused()
    resumed = flow.run(task_states={approved: of.Resume()}, executor=executor)
    assert resumed.is_successful()
    assert resumed.result[done].result == "approved, then done"


def test_a_paused_state_whose_start_time_passed_resumes() -> None:
    """Paused(start_time=<past>) resumes (task_runner.py initialize_run)."""
    from datetime import datetime, timedelta

    with of.Flow("due") as flow:
        approved = approve()
    past = datetime.now(UTC) - timedelta(seconds=1)
    state = flow.run(task_states={approved: of.Paused(start_time=past)})
    assert state.result[approved].result == "approved"


@of.resource_manager
class Fragile:
    """A resource manager without setup whose __init__ fails."""

    def __init__(self, fail: bool) -> None:
        if fail:
            raise RuntimeError("cannot start")

    def cleanup(self, resource: Any) -> None:
        pass


def test_a_block_without_setup_runs_after_a_failed_init(executor: Any) -> None:
    """No edge joins init to the block: the block's task runs and the flow succeeds (init and
    cleanup are not reference tasks); the cleanup is Skipped."""
    with of.Flow("fragile") as flow:
        manager = Fragile(True)
        with manager:
            done = load(1)
    state = flow.run(executor=executor)
    assert state.is_successful()
    assert state.result[done].result == 2
    assert state.result[manager.init_task].is_failed()
    assert state.result[manager.cleanup_task].is_skipped()


@pytest.mark.parametrize("given", [of.Success(result=[5]), of.Failed("x")])
def test_a_finished_state_given_for_a_mapped_task_is_reused(given: of.State) -> None:
    """A finished state that is not Mapped is kept as it is."""
    with of.Flow("reuse") as flow:
        doubled = remember.map([1], log=of.unmapped("unused"))
    assert flow.run(task_states={doubled: given}).result[doubled] is given
