"""A flow compiled for the run engine (``outfitter._flows.compile``): its tasks as NodeSpecs in
the same NodeGraph form jobs use, built once per shape of the flow."""

from __future__ import annotations

import outfitter as of
from outfitter import signals


@of.task(max_retries=2, retry_delay=0.5)
def load(x: int, db: of.ResourceParam[str]) -> int:
    return x


@of.task
def report(value: int) -> None:
    return None


def test_tasks_become_nodes_with_their_rules() -> None:
    with of.Flow("etl") as flow:
        n = of.Parameter("n", default=1)
        loaded = load(n)
        report(loaded, upstream_tasks=[n])
    plan = flow._plan()
    node = plan.graph.by_key[loaded.slug or ""]
    assert node.kind == "task"
    assert node.name == "load"
    assert [(i.name, i.upstream) for i in node.inputs] == [("x", "n")]
    assert node.resource_keys == frozenset({"db"})
    assert node.io_manager_key is None  # values are handed over in memory
    assert (node.max_retries, node.retry_delay) == (2, 0.5)
    assert signals.SKIP.__mro__[1] in node.no_retry  # SUCCESS (and so SKIP) ends a task
    assert plan.graph.by_key["n"].kind == "parameter"
    assert plan.graph.keys()[0] == "n"
    assert plan.parameters == {"n": n}


@of.task
def scale(x: int, factor: int) -> int:
    return x * factor


def test_constants_and_mapped_inputs_are_inputs_too() -> None:
    with of.Flow("m") as flow:
        mapped = scale.map([1, 2], factor=of.unmapped(10))
    node = flow._plan().graph.by_key[mapped.slug or ""]
    assert node.mapped
    assert sorted((i.name, i.mapped, i.value) for i in node.inputs) == [
        ("factor", False, 10),
        ("x", True, [1, 2]),
    ]


def test_the_plan_is_rebuilt_only_when_the_flow_changes() -> None:
    with of.Flow("c") as flow:
        first = load(1)
    plan = flow._plan()
    assert flow._plan() is plan
    report(first, flow=flow)
    assert flow._plan() is not plan
    assert len(flow._plan().graph) == 2


def test_resource_manager_tasks_run_in_the_coordinating_process() -> None:
    @of.resource_manager
    class Scratch:
        def setup(self) -> list[int]:
            return []

        def cleanup(self, buffer: list[int]) -> None:
            buffer.clear()

    @of.task
    def fill(buffer: list[int]) -> int:
        return len(buffer)

    with of.Flow("rm") as flow, Scratch() as buffer:
        filled = fill(buffer)
    plan = flow._plan()
    local = {n.name for n in plan.graph.nodes if n.local}
    assert local == {"Scratch", "Scratch.setup", "Scratch.cleanup"}
    assert not plan.graph.by_key[filled.slug or ""].local
    [block] = plan.blocks
    assert block.name == "Scratch"
