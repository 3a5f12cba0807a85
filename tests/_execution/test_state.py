"""The pure side of a run (``outfitter._execution.state`` and ``policies``): readiness, and what
the job and flow policies decide, tested without running anything or touching an instance."""

from __future__ import annotations

import outfitter as of
from outfitter import signals
from outfitter._definitions.selection import asset_graph
from outfitter._execution.policies import FlowPolicy, JobPolicy, flow_state
from outfitter._execution.state import Resolved, RunState
from outfitter._execution.step import Outcome
from outfitter._flows.context import MAP_INDEX
from outfitter._instance import EventType


@of.asset
def a() -> int:
    return 1


@of.asset
def b(a: int) -> int:
    return a


@of.asset
def c(a: int) -> int:
    return a


@of.asset
def d(b: int, c: int) -> int:
    return b + c


GRAPH = asset_graph([a, b, c, d], None, "diamond")


def ok(value: object) -> Outcome:
    return Outcome(value, None, "", 0, 1_000, [])


def failed(error: BaseException) -> Outcome:
    return Outcome(None, error, f"{type(error).__name__}: {error}", 0, 1_000, [])


def test_a_node_is_ready_once_all_its_upstream_nodes_finished() -> None:
    state = RunState(GRAPH)
    assert state.next().key == "a"
    assert not state.has_ready
    state.finish("a", 1)
    assert [state.next().key, state.next().key] == ["b", "c"]
    state.finish("b", 1)
    assert state.pop() is None  # d still waits for c
    state.finish("c", 1)
    assert state.next().key == "d"
    assert state.unfinished() == ["d"]
    state.finish("d", 2)
    assert state.done


def test_the_job_policy_hands_outputs_over_in_memory_and_skips_after_a_failure() -> None:
    policy = JobPolicy(in_memory=True)
    state = RunState(GRAPH, policy.results)
    assert policy.decide(state.next()) == {}
    result, event, message = policy.settle(GRAPH.by_key["a"], [ok(1)], False)
    assert (result, event, message) == (1, EventType.STEP_SUCCESS, "")
    state.finish("a", result)
    assert policy.decide(state.next()) == {"a": 1}
    error = ValueError("boom")
    _, event, message = policy.settle(GRAPH.by_key["b"], [failed(error)], False)
    assert (event, message) == (EventType.STEP_FAILURE, "ValueError: boom")
    state.finish("b", None)
    assert policy.first_error() is error
    assert policy.decide(state.next()) == {"a": 1}  # c does not depend on b
    state.finish("c", 1)
    skipped = policy.decide(state.next())
    assert isinstance(skipped, Resolved)
    assert skipped.event is EventType.STEP_SKIPPED
    assert skipped.message == "upstream step 'b' did not succeed"
    assert policy.failed()


def test_on_workers_the_job_policy_gives_no_values() -> None:
    """Inputs then come through the I/O manager, on the worker."""
    policy = JobPolicy(in_memory=False)
    policy.results["a"] = 1
    assert policy.decide(GRAPH.by_key["b"]) == {}


def _flow() -> tuple[of.Flow, of.Task, of.Task, of.Task]:
    @of.task
    def numbers() -> list[int]:
        return [1, 2, 3]

    @of.task
    def double(x: int) -> int:
        return 2 * x

    @of.task(trigger=of.triggers.any_failed)
    def alert(x: list[int]) -> str:
        return "alert"

    with of.Flow("f") as flow:
        n = numbers()
        doubled = double.map(n)
        alarm = alert(doubled)
    return flow, n, doubled, alarm


def test_the_flow_policy_maps_and_evaluates_triggers() -> None:
    flow, n, doubled, alarm = _flow()
    plan = flow._plan()
    policy = FlowPolicy(plan, {}, {})
    node = plan.graph.by_key[n.slug or ""]
    assert policy.decide(node) == {}
    state, _, _ = policy.settle(node, [ok([1, 2, 3])], False)
    policy.results[node.key] = state
    mapped = plan.graph.by_key[doubled.slug or ""]
    calls = policy.decide(mapped)
    # each child's call also carries its index, for outfitter.context.map_index
    assert calls == [{"x": 1, MAP_INDEX: 0}, {"x": 2, MAP_INDEX: 1}, {"x": 3, MAP_INDEX: 2}]
    parent, event, message = policy.settle(mapped, [ok(2), ok(4), ok(6)], True)
    assert parent.is_mapped()
    assert parent.result == [2, 4, 6]
    assert (event, message) == (EventType.STEP_SUCCESS, "Mapped 3 run(s).")
    policy.results[mapped.key] = parent
    refused = policy.decide(plan.graph.by_key[alarm.slug or ""])
    assert isinstance(refused, Resolved)
    assert type(refused.result).__name__ == "TriggerFailed"
    assert refused.event is EventType.STEP_FAILURE


def test_signals_and_errors_become_states() -> None:
    """A task's outcome as a Prefect 1 state: value -> Success, SKIP -> Skipped, FAIL ->
    Failed with the signal's message, an exception -> Failed naming it."""
    assert flow_state(ok(3)).result == 3
    assert flow_state(failed(signals.SKIP("nothing new"))).is_skipped()
    fail = flow_state(failed(signals.FAIL("bad input")))
    assert fail.is_failed()
    assert fail.message == "bad input"
    crash = flow_state(failed(KeyError("x")))
    assert crash.message == "Error during execution of task: KeyError: 'x'"


def test_reused_states_and_parameters_resolve_without_running() -> None:
    @of.task
    def inc(x: int) -> int:
        return x + 1

    with of.Flow("p") as flow:
        out = inc(of.Parameter("x", default=1))
    plan = flow._plan()
    policy = FlowPolicy(plan, {"x": 5}, {out.slug or "": of.Success(result=9)})
    param = policy.decide(plan.graph.by_key["x"])
    assert isinstance(param, Resolved)
    assert param.result.result == 5
    reused = policy.decide(plan.graph.by_key[out.slug or ""])
    assert isinstance(reused, Resolved)
    assert reused.result.result == 9
    assert reused.event is None
