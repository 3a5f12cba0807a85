"""case / merge / switch / ifelse (Prefect 1.4.1: src/prefect/tasks/control_flow/case.py and
conditional.py) and apply_map (src/prefect/utilities/tasks.py)."""

from __future__ import annotations

import pytest

from outfitter import Flow, Parameter, apply_map, case, ifelse, merge, switch, task, unmapped
from outfitter._flows.control_flow import CompareValue


@task
def kind(x: str) -> str:
    return x


@task
def read_csv() -> str:
    return "csv rows"


@task
def read_json() -> str:
    return "json rows"


@task
def count(rows: str) -> int:
    return len(rows)


@task
def inc(x: int) -> int:
    return x + 1


@task
def is_even(x: int) -> bool:
    return x % 2 == 0


@task
def half(x: int) -> int:
    return x // 2


@task
def triple(x: int) -> int:
    return 3 * x


def branching_flow() -> tuple[Flow, dict[str, object]]:
    with Flow("branches") as flow:
        k = kind(Parameter("kind", default="csv"))
        with case(k, "csv"):
            csv = read_csv()
            csv_count = count(csv)
        with case(k, "json"):
            json = read_json()
        rows = merge(csv, json)
    return flow, {"csv": csv, "csv_count": csv_count, "json": json, "rows": rows}


def test_tasks_in_a_false_case_are_skipped_and_merge_takes_the_other_branch() -> None:
    """case.py: tasks in the block run only if the task's result equals the value; the others
    are Skipped (CompareValue raises SKIP). conditional.py, Merge: the first non-None result."""
    flow, t = branching_flow()
    state = flow.run()
    assert state.is_successful()
    assert state.result[t["csv"]].result == "csv rows"
    assert state.result[t["csv_count"]].result == 8
    assert state.result[t["json"]].is_skipped()
    assert state.result[t["rows"]].result == "csv rows"
    other = flow.run(kind="json")
    assert other.result[t["csv"]].is_skipped()
    assert other.result[t["csv_count"]].is_skipped()  # downstream of a skipped task
    assert other.result[t["rows"]].result == "json rows"


def test_only_the_roots_of_the_block_get_the_comparison_upstream() -> None:
    """case.__exit__: a CompareValue task fed by the case's task goes upstream of each block task
    that has no upstream task in the block."""
    flow, t = branching_flow()
    [compare] = [u for u in flow.upstream_tasks(t["csv"]) if isinstance(u, CompareValue)]
    assert compare.name == "case(csv)"
    assert flow.upstream_tasks(t["csv_count"]) == {t["csv"]}


def test_merge_is_skipped_when_every_branch_was() -> None:
    """conditional.py, Merge: trigger not_all_skipped, skip_on_upstream_skip=False."""
    flow, t = branching_flow()
    state = flow.run(kind="xml")
    assert state.result[t["csv"]].is_skipped()
    assert state.result[t["json"]].is_skipped()
    assert state.result[t["rows"]].is_skipped()
    assert state.is_successful()  # skips count as success for the flow


def test_cases_nest() -> None:
    """case.py: a case inside a case; the inner comparison task belongs to the outer block."""
    with Flow("nested") as flow:
        outer = kind(Parameter("a", default="x"))
        inner = kind(Parameter("b", default="y"))
        with case(outer, "x"), case(inner, "y"):
            both = read_csv()
    assert flow.run().result[both].result == "csv rows"
    assert flow.run(b="n").result[both].is_skipped()
    assert flow.run(a="n").result[both].is_skipped()


def test_case_value_cannot_be_a_task() -> None:
    """case.py: TypeError("`value` cannot be a task")."""
    with Flow("bad"), pytest.raises(TypeError, match="must be a plain value"):
        case(read_csv(), read_json())


def test_a_case_with_tasks_of_two_flows_is_a_value_error() -> None:
    """case.py, case.add_task: ValueError for a second flow."""
    block = case(read_csv.copy(), True)
    block.add_task(read_csv.copy(), Flow("one"))
    with pytest.raises(ValueError, match="has tasks of two flows"):
        block.add_task(read_csv.copy(), Flow("two"))


def test_switch_and_ifelse_run_one_branch() -> None:
    """conditional.py: switch runs the task whose key matches; ifelse on the truthiness."""
    with Flow("switch") as flow:
        a, b = read_csv(), read_json()
        switch(kind(Parameter("k", default="b")), {"a": a, "b": b})
        yes, no = inc(1), inc(2)
        ifelse(kind(Parameter("flag", default="")), yes, no)
    state = flow.run()
    assert state.result[a].is_skipped()
    assert state.result[b].result == "json rows"
    assert state.result[yes].is_skipped()
    assert state.result[no].result == 3
    assert flow.run(flag="on").result[yes].result == 2


def test_apply_map_maps_a_chain_of_tasks_element_by_element() -> None:
    """utilities/tasks.py, apply_map: the tasks the function builds run once per element;
    unmapped arguments are passed whole."""

    @task
    def add(a: int, b: int) -> int:
        return a + b

    def branch(x: int, offset: int) -> object:
        return add(inc(x), offset)

    with Flow("apply") as flow:
        out = apply_map(branch, [1, 2, 3], offset=unmapped(10))
    state = flow.run()
    assert state.result[out].is_mapped()
    assert state.result[out].result == [12, 13, 14]


def test_apply_map_with_a_case_branches_per_element() -> None:
    """utilities/tasks.py, apply_map: a case in the function decides per element."""

    def branch(x: int) -> object:
        even = is_even(x)
        with case(even, True):
            h = half(x)
        with case(even, False):
            t = triple(x)
        return merge(h, t)

    with Flow("apply-case") as flow:
        numbers = inc.map([0, 1, 2, 3])  # 1, 2, 3, 4
        out = apply_map(branch, numbers)
    assert flow.run().result[out].result == [3, 1, 9, 2]


def test_apply_map_refuses_map_inside_and_needs_a_flow() -> None:
    """utilities/tasks.py / core/flow.py: mapped=True inside apply_map is a ValueError; no flow
    is a ValueError."""
    with Flow("inner-map"), pytest.raises(ValueError, match="mapped inside apply_map"):
        apply_map(lambda x: inc.map(x), [1, 2])
    with pytest.raises(ValueError, match="no active flow"):
        apply_map(lambda x: inc(x), [1, 2])
    with Flow("set"), pytest.raises(TypeError, match="cannot map over set"):
        apply_map(lambda x: inc(x), {1, 2})
