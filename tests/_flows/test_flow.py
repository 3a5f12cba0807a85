"""Flows: building (both styles), errors, parameters, states, triggers, signals, retries,
mapping, reference tasks, restarts, container resources and run records."""

from __future__ import annotations

from typing import Any

import pytest

import outfitter as of
from outfitter import Flow, Parameter, Task, signals, task, triggers
from outfitter.exceptions import ConfigError, DefinitionError, InvocationError


@task
def inc(x: int) -> int:
    return x + 1


@task
def fail() -> None:
    raise ValueError("boom")


def test_calling_a_task_copies_and_binds_it() -> None:
    """Each call adds a new task; tasks hash by identity; edges carry input keys."""
    with Flow("f") as flow:
        a = inc(1)
        b = inc(a)
    assert a is not inc
    assert b is not a
    assert flow.tasks == {a, b}
    [edge] = flow.edges
    assert (edge.upstream_task, edge.downstream_task, edge.key) == (a, b, "x")
    assert flow.root_tasks() == {a}
    assert flow.terminal_tasks() == {b}
    assert flow.sorted_tasks() == (a, b)
    assert (a.slug, b.slug) == ("inc-1", "inc-2")


def test_imperative_api_and_graph_queries() -> None:
    """add_task, add_edge, set_dependencies, chain, set_upstream/downstream."""
    flow = Flow("imperative")
    t1, t2, t3, t4 = (inc.copy() for _ in range(4))
    flow.add_task(t1)
    t1.bind(1, flow=flow)
    flow.add_edge(t1, t2, key="x")
    flow.set_dependencies(t3, upstream_tasks=[t2], keyword_tasks={"x": 5})
    t4.set_upstream(t3, flow=flow, key="x")
    flow.chain(t1, t3)
    assert flow.upstream_tasks(t3) == {t1, t2}
    assert flow.downstream_tasks(t1) == {t2, t3}
    assert flow.run().result[t4].result == 7
    with pytest.raises(DefinitionError, match="cycle"):
        flow.add_edge(t4, t1)
    assert flow.sorted_tasks()[0] is t1


def test_task_outside_a_flow_explains_the_fix() -> None:
    """Binding without a flow names the missing context and the ways out."""
    with pytest.raises(DefinitionError) as info:
        inc(1)
    assert "Could not infer an active Flow context" in str(info.value)
    assert "task.run(...)" in str(info.value)


def test_bad_task_signatures_are_rejected() -> None:
    """*args and reserved argument names in run are definition errors."""
    with pytest.raises(DefinitionError, match=r"Star.run has \*values"):

        class Star(Task):
            def run(self, *values: int) -> None:
                pass

    with pytest.raises(DefinitionError, match="'upstream_tasks', which is reserved"):

        @task
        def reserved(upstream_tasks: int) -> None:
            pass


def test_run_inside_the_with_block_is_an_error() -> None:
    """flow.run() must come after the block."""
    with Flow("f") as flow:
        inc(1)
        with pytest.raises(InvocationError, match="inside `with Flow"):
            flow.run()


def test_unused_task_in_block_warns() -> None:
    """A task created in the block but never added is reported."""

    class Lonely(Task):
        def run(self) -> None:
            pass

    with pytest.warns(UserWarning, match="'Lonely' were created inside the flow block"), Flow("f"):
        Lonely()


def test_parameters_are_validated_before_anything_runs() -> None:
    """Unknown and missing required parameters are named; defaults apply."""
    ran: list[int] = []

    @task
    def record(n: int, m: int) -> None:
        ran.append(n + m)

    with Flow("p") as flow:
        record(Parameter("n"), Parameter("m", default=10))
    with pytest.raises(ConfigError) as info:
        flow.run(parameters={"nn": 1})
    assert "unknown parameter 'nn'. Did you mean 'n'?" in str(info.value)
    assert "required parameter 'n' was not given" in str(info.value)
    assert ran == []
    flow.run(n=1)
    flow.run(parameters={"n": 1, "m": 2})
    assert ran == [11, 3]
    assert {p.name for p in flow.parameters()} == {"n", "m"}
    with pytest.raises(DefinitionError, match="already has a Parameter named 'n'"):
        flow.add_task(Parameter("n"))


def test_state_relations() -> None:
    """Skipped and Mapped are successes; TriggerFailed is a failure."""
    assert of.Skipped().is_successful()
    assert of.Mapped().is_successful()
    assert of.TriggerFailed().is_failed()
    assert of.Retrying().is_pending()
    assert not of.Cancelled().is_failed()


def test_failure_propagates_as_trigger_failed_and_fails_the_flow() -> None:
    """Downstream of a failure is TriggerFailed; the flow fails from its reference tasks."""
    with Flow("f") as flow:
        a = fail()
        b = inc(1, upstream_tasks=[a])
    state = flow.run()
    assert state.is_failed()
    assert state.message == "Some reference tasks failed."
    assert isinstance(state.result[a].result, ValueError)
    assert isinstance(state.result[b], of.TriggerFailed)


@pytest.mark.parametrize(
    ("trigger", "runs"),
    [
        (triggers.all_finished, True),
        (triggers.always_run, True),
        (triggers.any_failed, True),
        (triggers.all_failed, False),
        (triggers.any_successful, True),
        (triggers.all_successful, False),
        (triggers.some_failed(at_least=1), True),
        (triggers.some_successful(at_least=2), False),
    ],
)
def test_triggers(trigger: Any, runs: bool) -> None:
    """Each trigger decides from one failed and one successful upstream."""

    @task(trigger=trigger)
    def after() -> str:
        return "ran"

    with Flow("t") as flow:
        after(upstream_tasks=[fail(), inc(1)])
    [target] = [t for t in flow.tasks if t.name == "after"]
    state = flow.run().result[target]
    assert (state.result == "ran") is runs
    if not runs:
        assert isinstance(state, of.TriggerFailed)


def test_manual_only_pauses_and_the_flow_is_still_running() -> None:
    """A manual_only task waits; the flow's terminal tasks are unfinished."""

    @task(trigger=triggers.manual_only)
    def approve() -> None:
        pass

    with Flow("m") as flow:
        approve()
    state = flow.run()
    assert isinstance(state, of.Running)


def test_signals_set_states_and_skips_propagate() -> None:
    """SKIP, SUCCESS and FAIL set states; downstream of a skip is skipped unless told not."""

    @task
    def skipper() -> None:
        raise signals.SKIP("nothing new")

    @task
    def early() -> None:
        raise signals.SUCCESS("early", result=7)

    @task
    def failer() -> None:
        raise signals.FAIL("nope")

    @task(skip_on_upstream_skip=False, trigger=triggers.all_finished)
    def always() -> str:
        return "ran"

    with Flow("s") as flow:
        s = skipper()
        after_skip = inc(1, upstream_tasks=[s])
        runs_anyway = always(upstream_tasks=[s])
        e = early()
        f = failer()
    result = flow.run().result
    assert result[s].is_skipped()
    assert result[after_skip].is_skipped()
    assert result[runs_anyway].result == "ran"
    assert result[e].result == 7
    assert result[f].is_failed()
    assert result[f].message == "nope"


def test_retries_rerun_a_failing_task() -> None:
    """max_retries reruns a task; it succeeds on the third try and the flow succeeds."""
    attempts: list[int] = []

    @task(max_retries=2, retry_delay=0)
    def flaky() -> str:
        attempts.append(1)
        if len(attempts) < 3:
            raise RuntimeError("not yet")
        return "ok"

    with Flow("r") as flow:
        out = flaky()
    with of.Instance.ephemeral() as instance:
        state = flow.run(instance=instance)
        [run] = instance.get_runs()
        retries = [e for e in instance.all_events(run.run_id) if e.event_type.value == "STEP_RETRY"]
    assert state.result[out].result == "ok"
    assert len(attempts) == 3
    assert len(retries) == 2


def test_mapping_with_unmapped_arguments() -> None:
    """map runs once per element; unmapped values are passed whole; results collect."""

    @task
    def scale(x: int, factor: int) -> int:
        return x * factor

    @task
    def numbers() -> list[int]:
        return [1, 2, 3]

    with Flow("map") as flow:
        scaled = scale.map(numbers(), of.unmapped(10))
        total = task(lambda values: sum(values), name="total")(scaled)
    state = flow.run()
    assert isinstance(state.result[scaled], of.Mapped)
    assert state.result[scaled].result == [10, 20, 30]
    assert state.result[total].result == 60


def test_reference_tasks_decide_the_flow_state() -> None:
    """set_reference_tasks narrows what decides success."""
    with Flow("ref") as flow:
        ok = inc(1)
        fail()
    flow.set_reference_tasks([ok])
    assert flow.reference_tasks() == {ok}
    assert flow.run().is_successful()


def test_task_states_restart_skips_finished_tasks() -> None:
    """Given states are reused; the rest run."""
    calls: list[str] = []

    @task
    def track(name: str) -> str:
        calls.append(name)
        return name

    with Flow("restart") as flow:
        a = track("a")
        b = track("b", upstream_tasks=[a])
    flow.run(task_states={a: of.Success(result="a")})
    assert calls == ["b"]
    assert flow.run().result[b].result == "b"


def test_tasks_receive_container_resources_by_annotation() -> None:
    """ResourceParam / resource-class parameters come from Flow(resources=...) or run()."""

    class Client(of.ConfigurableResource):
        prefix: str

    class Fetch(Task):
        def run(self, item: str, client: Client) -> str:
            return f"{client.prefix}{item}"

    @task
    def shout(text: str, suffix: of.ResourceParam[str]) -> str:
        return text.upper() + suffix

    with Flow("res", resources={"client": Client(prefix="api:"), "suffix": "!"}) as flow:
        out = shout(Fetch()("x"))
    assert flow.run().result[out].result == "API:X!"
    assert flow.run(resources={"suffix": "?"}).result[out].result == "API:X?"
    with Flow("missing") as bare:
        Fetch()("x")
    with pytest.raises(of.exceptions.MissingResourceError, match="'client'"):
        bare.run()


def test_flow_runs_are_recorded_like_asset_runs() -> None:
    """A flow run appears in the instance with step events, and in `runs list`."""
    with Flow("recorded") as flow:
        inc(1)
    with of.Instance.ephemeral() as instance:
        flow.run(instance=instance)
        [run] = instance.get_runs()
        assert run.job_name == "recorded"
        assert run.status.value == "SUCCESS"
        kinds = [e.event_type.value for e in instance.all_events(run.run_id)]
    assert kinds == ["RUN_START", "STEP_START", "STEP_SUCCESS", "RUN_SUCCESS"]


def test_retry_signal_asks_for_another_run() -> None:
    """RETRY reruns the task (within max_retries)."""
    tries: list[int] = []

    @task(max_retries=1, retry_delay=0)
    def again() -> int:
        tries.append(1)
        if len(tries) == 1:
            raise signals.RETRY("try once more")
        return len(tries)

    with Flow("retry-signal") as flow:
        out = again()
    assert flow.run().result[out].result == 2


def test_flow_run_shows_in_the_cli(tmp_path: Any) -> None:
    """A flow run recorded in the local instance is listed by `outfitter runs list`."""
    import os
    import subprocess
    import sys

    with Flow("listed-flow") as flow:
        inc(1)
    with of.Instance.local(tmp_path) as instance:
        flow.run(instance=instance)
    env = {**os.environ, "OUTFITTER_HOME": str(tmp_path), "COLUMNS": "200"}
    proc = subprocess.run(
        [sys.executable, "-m", "outfitter.cli", "runs", "list"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 0, proc.stderr
    assert "listed-flow" in proc.stdout


def test_unknown_executor_is_refused() -> None:
    """An executor must be an executor definition; anything else is refused clearly."""
    with Flow("exec") as flow:
        out = inc(1)
    assert flow.run(executor=of.in_process_executor).result[out].result == 2
    with pytest.raises(InvocationError, match="flow 'exec': 'dask' is not an executor"):
        flow.run(executor="dask")


@task
def _double(n: int) -> int:
    return 2 * n


def test_a_flow_takes_parameters_from_its_run_config_too() -> None:
    """The run config's ``parameters`` section (what the UI's launchpad and ``outfitter
    run-flow --config`` write) gives parameters; ``parameters=`` wins over it."""
    with Flow("scale") as flow:
        doubled = _double(Parameter("n"))
    state = flow.run(run_config={"parameters": {"n": 4}})
    assert state.result[doubled].result == 8
    state = flow.run(parameters={"n": 1}, run_config={"parameters": {"n": 4}})
    assert state.result[doubled].result == 2
    with pytest.raises(ConfigError, match="'parameters' must be a mapping of names, got list"):
        flow.run(run_config={"parameters": [4]})
