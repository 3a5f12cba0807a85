"""The Flow API of Prefect 1 that flow authors meet: iteration, sorting from roots, validation
switches, constants, and the checks Prefect 1 makes while a flow is built. Each test cites the
Prefect 1.4.1 source it pins (PrefectHQ/prefect, src/prefect/core/flow.py unless said)."""

from __future__ import annotations

from typing import Any

import pytest

from outfitter import Flow, Parameter, Task, task
from outfitter._flows.task import Edge
from outfitter.exceptions import DefinitionError


@task
def inc(x: int) -> int:
    return x + 1


@task
def add(a: int, b: int) -> int:
    return a + b


def test_iterating_a_flow_gives_its_sorted_tasks() -> None:
    """Flow.__iter__ yields from sorted_tasks()."""
    with Flow("iter") as flow:
        b = inc(inc(1))
        c = add(b, 2)
    assert list(flow) == list(flow.sorted_tasks())
    assert list(flow)[-1] is c
    assert len(list(flow)) == 3


def test_sorted_tasks_from_root_tasks_keeps_what_lies_downstream() -> None:
    """Flow.sorted_tasks(root_tasks=...): those roots and every task downstream, sorted."""
    with Flow("roots") as flow:
        a = inc(1)
        b = inc(a)
        c = inc(b)
        other = inc(10)
        joined = add(c, other)
    assert flow.sorted_tasks(root_tasks=[b]) == (b, c, joined)
    assert flow.sorted_tasks(root_tasks=[other]) == (other, joined)
    assert set(flow.sorted_tasks()) == {a, b, c, other, joined}
    with pytest.raises(ValueError, match="is not in flow 'roots'"):
        flow.sorted_tasks(root_tasks=[Task(name="stranger")])


def test_constants_hold_the_values() -> None:
    """Flow.add_edge: a keyed constant is kept in flow.constants[task][key] as the value
    itself (mapped ones too)."""
    with Flow("constants") as flow:
        one = add(1, 2)
        mapped = inc.map([1, 2, 3])
    assert flow.constants[one] == {"a": 1, "b": 2}
    assert flow.constants[mapped] == {"x": [1, 2, 3]}
    state = flow.run()
    assert state.result[one].result == 3
    assert state.result[mapped].result == [2, 3, 4]


def test_flow_validate_false_defers_the_cycle_check_to_sorting() -> None:
    """Flow(..., validate=...) is passed to add_edge for the edges given; unvalidated, a cycle
    is found when the flow is sorted (Flow.validate / sorted_tasks raise ValueError)."""
    a, b = Task(name="a"), Task(name="b")
    edges = [Edge(a, b), Edge(b, a)]
    with pytest.raises(ValueError, match="cycle among tasks"):
        Flow("eager", tasks=[a, b], edges=edges)
    flow = Flow("lazy", tasks=[a, b], edges=edges, validate=False)
    with pytest.raises(ValueError, match="Flow 'lazy' has a cycle among tasks: 'a' -> 'b' -> 'a'"):
        flow.sorted_tasks()
    with pytest.raises(ValueError, match="cycle"):
        flow.run()


def test_add_edge_to_an_input_the_task_lacks_is_refused_when_validating() -> None:
    """Flow.add_edge(validate=True): the edge keys are bound to run()'s signature, a TypeError
    for a name run() lacks."""
    flow = Flow("keys")
    one, two = inc.copy(), inc.copy()
    with pytest.raises(TypeError, match="task 'inc' has no input 'y'") as err:
        flow.add_edge(one, two, key="y", validate=True)
    assert "its inputs are ['x']" in str(err.value)
    flow.add_edge(one, two, key="x", validate=True)
    unchecked = Flow("unchecked")
    unchecked.add_edge(one, two, key="y", validate=False)  # as Prefect 1: not checked


def test_an_input_fed_twice_is_a_value_error() -> None:
    """Flow.add_edge: ValueError when the key is already assigned in the flow."""
    flow = Flow("twice")
    one, two, three = inc.copy(), inc.copy(), inc.copy()
    flow.add_edge(one, three, key="x")
    with pytest.raises(ValueError, match="already receives input 'x' from 'inc'"):
        flow.add_edge(two, three, key="x")


def test_a_parameter_cannot_have_upstream_tasks() -> None:
    """Flow.add_edge: ValueError("Parameters must be root tasks ...")."""
    n = Parameter("n")
    flow = Flow("roots")
    with pytest.raises(ValueError, match="Parameter 'n' cannot have upstream tasks"):
        flow.add_edge(Task(name="before"), n)
    with pytest.raises(ValueError, match="Parameter 'n' cannot have upstream tasks"):
        n.set_upstream(Task(name="before"), flow=flow)


def test_graph_queries_on_a_task_not_in_the_flow_are_value_errors() -> None:
    """Flow.edges_to / edges_from (and upstream_tasks / downstream_tasks through them):
    ValueError("Task ... was not found in Flow ...")."""
    flow = Flow("queries")
    flow.add_task(Task(name="member"))
    stranger = Task(name="stranger")
    for query in (flow.edges_to, flow.edges_from, flow.upstream_tasks, flow.downstream_tasks):
        with pytest.raises(ValueError, match="task 'stranger' is not in flow 'queries'"):
            query(stranger)


@pytest.mark.parametrize("name", [None, ""])
def test_a_flow_needs_a_name(name: Any) -> None:
    """Flow.__init__: ValueError("A name must be provided for the flow.")."""
    with pytest.raises(ValueError, match="a Flow needs a name") as err:
        Flow(name)
    assert isinstance(err.value, DefinitionError)


def test_reference_tasks_outside_the_flow_are_a_value_error() -> None:
    """Flow.set_reference_tasks: ValueError("reference tasks must be part of the flow.")."""
    with pytest.raises(ValueError, match="not in flow"):
        Flow("ref").set_reference_tasks([Task()])


def test_flow_run_refuses_keywords_that_are_no_parameter() -> None:
    """Flow.run: keywords that name a Parameter are parameters; the others go to
    FlowRunner.run(), which has no such argument (TypeError)."""
    with Flow("kw") as flow:
        out = inc(Parameter("x", default=1))
    with pytest.raises(TypeError, match=r"unexpected keyword argument\(s\) 'colour'") as err:
        flow.run(colour="red")
    assert "the flow's parameters are ['x']" in str(err.value)
    assert flow.run(x=4).result[out].result == 5


def test_flow_run_with_unknown_or_missing_parameters_is_a_value_error() -> None:
    """Flow.run: ValueError for parameters the flow lacks and for required ones not given."""
    with Flow("params") as flow:
        inc(Parameter("x"))
    with pytest.raises(ValueError, match="unknown parameter 'y'"):
        flow.run(parameters={"x": 1, "y": 2})
    with pytest.raises(ValueError, match="required parameter 'x' was not given"):
        flow.run()


def test_building_a_long_flow_adds_each_edge_without_resorting() -> None:
    """A flow of 2,000 chained tasks is built edge by edge without sorting the flow again per
    edge (issue 17); the cycle check still catches a back edge at once."""
    calls = 0
    original = Flow.sorted_tasks

    def counting(self: Flow, root_tasks: Any = None) -> tuple[Task, ...]:
        nonlocal calls
        calls += 1
        return original(self, root_tasks)

    Flow.sorted_tasks = counting  # type: ignore[method-assign]
    try:
        with Flow("long") as flow:
            first = value = inc(0)
            for _ in range(2_000):
                value = inc(value)
    finally:
        Flow.sorted_tasks = original  # type: ignore[method-assign]
    assert calls == 0
    assert len(flow.tasks) == 2_001
    with pytest.raises(ValueError, match="cycle among tasks"):
        flow.add_edge(value, first)


def test_get_tasks_and_validate() -> None:
    """Flow.get_tasks keeps the tasks matching every condition; Flow.validate sorts the flow
    (a cycle is a ValueError) and checks its reference tasks."""
    with Flow("query") as flow:
        a = inc(1, task_args={"tags": ["load"]})
        b = add(a, 2, task_args={"name": "sum", "tags": ["load", "x"]})
    assert flow.get_tasks(name="inc") == [a]
    assert flow.get_tasks(tags=["load"]) == [a, b]
    assert flow.get_tasks(tags=["load", "x"], task_type=Task) == [b]
    assert flow.get_tasks(slug=b.slug) == [b]
    flow.validate()
    flow.add_edge(b, a, validate=False)
    with pytest.raises(ValueError, match="cycle among tasks"):
        flow.validate()


def test_the_cycle_check_walks_only_when_a_cycle_is_possible() -> None:
    """Building top-down or bottom-up never walks the graph (an edge from a root or into a
    leaf closes no cycle); a self-loop and a real back edge are still caught (issue 17)."""
    walks = 0
    original = Flow._path

    def counting(self: Flow, start: Task, goal: Task) -> Any:
        nonlocal walks
        walks += 1
        return original(self, start, goal)

    tasks = [Task(name=f"t{i}") for i in range(500)]
    flow = Flow("bottom-up")
    Flow._path = counting  # type: ignore[method-assign]
    try:
        for i in range(len(tasks) - 1, 0, -1):
            flow.add_edge(tasks[i - 1], tasks[i])
        flow.chain(Task(name="x"), Task(name="y"), Task(name="z"))
        assert walks == 0
        with pytest.raises(ValueError, match="'t0' -> 't0'"):
            flow.add_edge(tasks[0], tasks[0])
        with pytest.raises(ValueError, match="cycle among tasks: 't499' -> 't0'"):
            flow.add_edge(tasks[-1], tasks[0])
    finally:
        Flow._path = original  # type: ignore[method-assign]


def test_update_takes_in_another_flow() -> None:
    """Flow.update: every task, edge and constant of the other flow is added (shared)."""
    with Flow("extract") as first:
        raw = inc.map([1, 2])
    with Flow("whole") as whole:
        n = Parameter("n", default=1)
        base = inc(n)
    whole.update(first)
    whole.add_edge(base, raw)  # ordering: raw runs after base
    assert raw in whole.tasks
    assert whole.constants[raw] == {"x": [1, 2]}
    assert whole.upstream_tasks(raw) == {base}
    state = whole.run(n=3)
    assert state.result[raw].result == [2, 3]
    assert state.result[base].result == 4
    with Flow("clash") as clash:
        inc(Parameter("n"))
    with pytest.raises(ValueError, match="already has a Parameter named 'n'"):
        whole.update(clash)


def test_slugs_are_unique_in_a_flow() -> None:
    """core/flow.py, add_task: ValueError('A task with the slug ... already exists in this
    flow'); a made-up slug from another flow is made again instead."""
    flow = Flow("slugs")
    flow.add_task(Task(name="a", slug="load"))
    with pytest.raises(ValueError, match="already has a task with the slug 'load'"):
        flow.add_task(Task(name="b", slug="load"))
    other = Flow("other")
    shared = other.add_task(Task(name="a"))
    mine = flow.add_task(Task(name="a"))
    assert (shared.slug, mine.slug) == ("a-1", "a-1")
    flow.add_task(shared)
    assert shared.slug == "a-2"
    assert len({t.slug for t in flow.tasks}) == 3
