"""The run driver (``outfitter._execution.driver``) and its entry points
(``outfitter._execution.launch``): one lifecycle for jobs and flows.

The first tests are the drift the two old runners had (issue "One run engine for jobs and
flows"); each failed before the driver was shared and passes now. The rest pin the driver's own
promises: nothing recorded for invalid config, never a STARTED record left behind, plans built
once per set of bindings, where Python-API runs are recorded.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest

import outfitter as of
from outfitter._daemon import Daemon
from outfitter._execution import policies
from outfitter._instance import EventType, RunStatus
from outfitter._resources import spec
from outfitter.exceptions import ConfigError, InvocationError, TeardownError


class Db(of.ConfigurableResource):
    url: str = "sqlite://"


class Partial(of.ConfigurableResource):
    """Bound with configure_at_launch() and used by no selected step."""

    token: str


@of.asset
def users(db: Db) -> list[str]:
    return ["ada"]


@of.asset
def orders(partial: Partial) -> int:
    return 1


# -- the drift the two runners had ----------------------------------------------------------


def test_step_scoped_resources_are_fresh_for_each_flow_task() -> None:
    """scope="step": two flow tasks get two instances (they shared one before)."""
    opened: list[int] = []

    @of.resource(scope="step")
    def tx(context: Any) -> Iterator[int]:
        opened.append(len(opened) + 1)
        yield len(opened)

    @of.task
    def first(tx: of.ResourceParam[int]) -> int:
        return tx

    @of.task
    def second(tx: of.ResourceParam[int]) -> int:
        return tx

    with of.Flow("tx", resources={"tx": tx}) as flow:
        one, two = first(), second()
    state = flow.run()
    assert sorted([state.result[one].result, state.result[two].result]) == [1, 2]
    assert opened == [1, 2]


def test_async_resources_work_in_flows() -> None:
    """An async resource opens on the flow run's event loop (flows refused them before)."""
    events: list[str] = []

    @of.resource
    @contextlib.asynccontextmanager
    async def session(context: Any) -> AsyncIterator[str]:
        events.append("open")
        yield "session"
        events.append("close")

    @of.task
    async def use(session: of.ResourceParam[str]) -> str:
        return session.upper()

    with of.Flow("async", resources={"session": session}) as flow:
        out = use()
    assert flow.run().result[out].result == "SESSION"
    assert events == ["open", "close"]


def test_a_failed_teardown_ends_a_flow_failed_and_recorded() -> None:
    """A resource that fails to close: flow.run returns Failed (it raised and left the record
    STARTED before), the record is FAILURE with a RUN_FAILURE event naming the key."""

    @of.resource
    def leaky(context: Any) -> Iterator[int]:
        yield 1
        raise RuntimeError("close failed")

    @of.task
    def use(leaky: of.ResourceParam[int]) -> int:
        return leaky

    with of.Flow("leaky", resources={"leaky": leaky}) as flow:
        out = use()
    with of.Instance.ephemeral() as instance:
        state = flow.run(instance=instance)
        [run] = instance.get_runs()
        last = instance.all_events(run.run_id)[-1]
    assert state.is_failed()
    assert state.message.startswith("1 resource(s) failed to close: 'leaky'")
    assert state.result[out].result == 1
    assert run.status is RunStatus.FAILURE
    assert last.event_type is EventType.RUN_FAILURE
    assert "leaky: RuntimeError: close failed" in last.message


def test_missing_launch_config_in_a_flow_records_nothing_and_hints_run_config() -> None:
    """A flow's missing launch config: one ConfigError before any record (the run stayed
    STARTED before), whose hint shows a RunConfig that flow.run(run_config=...) accepts."""

    @of.task
    def use(partial: Partial) -> str:
        return partial.token

    with of.Flow("launch", resources={"partial": Partial.configure_at_launch()}) as flow:
        out = use()
    with of.Instance.ephemeral() as instance:
        with pytest.raises(ConfigError) as info:
            flow.run(instance=instance)
        assert instance.get_runs() == []
        state = flow.run(
            instance=instance, run_config=of.RunConfig(resources={"partial": Partial(token="t")})
        )
    assert "resource 'partial' needs launch config for: token" in str(info.value)
    assert "RunConfig(resources={'partial': Partial(token=...)})" in str(info.value)
    assert state.result[out].result == "t"


def test_unused_partial_resources_need_no_launch_config(tmp_path: Path) -> None:
    """A configure_at_launch() resource that no selected step uses needs no config: in
    materialize(selection=), define_asset_job subsets and jobs launched by the daemon (each
    failed before, and under the daemon left one more STARTED run per tick)."""
    resources = {"db": Db(), "partial": Partial.configure_at_launch()}
    assert of.materialize_to_memory(
        [users, orders], resources=resources, selection=["users"]
    ).success

    only_users = of.define_asset_job("only_users", selection=["users"])

    @of.sensor(job=only_users, minimum_interval_seconds=1)
    def every_tick() -> Any:
        return of.RunRequest()

    defs = of.Definitions(
        assets=[users, orders],
        jobs=[only_users],
        sensors=[every_tick],
        resources=resources,
    )
    assert defs.get_job_def("only_users").execute_in_process().success
    with of.Instance.local(tmp_path) as instance:
        instance.set_instigator("every_tick", "sensor", status="RUNNING")
        [run_id] = Daemon(defs, instance, clock=lambda: 100.0).tick()
        assert instance.get_run(run_id).status is RunStatus.SUCCESS  # type: ignore[union-attr]
        assert [r.status for r in instance.get_runs()] == [RunStatus.SUCCESS]


def test_the_cli_select_needs_no_config_for_unused_partials(tmp_path: Path) -> None:
    """`outfitter materialize --select` of assets that do not use the partial resource."""
    from typer.testing import CliRunner

    from outfitter.cli.app import app

    code = tmp_path / "defs.py"
    code.write_text(
        "import outfitter as of\n"
        "class Partial(of.ConfigurableResource):\n    token: str\n"
        "@of.asset\ndef users() -> int:\n    return 1\n"
        "@of.asset\ndef orders(partial: Partial) -> int:\n    return 2\n"
        "defs = of.Definitions(assets=[users, orders], "
        "resources={'partial': Partial.configure_at_launch()})\n"
    )
    result = CliRunner().invoke(
        app,
        ["materialize", "-f", str(code), "--select", "users"],
        env={"OUTFITTER_HOME": str(tmp_path / "home")},
    )
    assert result.exit_code == 0, result.output
    assert "SUCCESS" in result.output


def test_dict_resources_are_planned_once(monkeypatch: pytest.MonkeyPatch) -> None:
    """Runs of the same bindings reuse one resource plan, for jobs and flows alike (each run
    re-planned them before); a new object at a key makes a new plan."""
    built: list[int] = []
    original = spec.ResourcePlan.__init__

    def counting(self: Any, *args: Any, **kwargs: Any) -> None:
        built.append(1)
        original(self, *args, **kwargs)

    monkeypatch.setattr(spec.ResourcePlan, "__init__", counting)
    db = Db()
    job = of.Definitions(assets=[users], resources={"db": db}).get_implicit_global_asset_job_def()
    after_definitions = len(built)
    for _ in range(3):
        assert job.execute_in_process().success
    assert len(built) == after_definitions  # Definitions planned what its jobs run with

    @of.task
    def use(db: Db) -> str:
        return db.url

    with of.Flow("planned", resources={"db": db}) as flow:
        use()
    for _ in range(3):
        assert flow.run().is_successful()
    assert len(built) == after_definitions + 1
    assert flow.run(resources={"db": Db(url="other")}).is_successful()
    assert len(built) == after_definitions + 2


# -- the driver's own promises -----------------------------------------------------------------


def test_invalid_op_config_records_nothing() -> None:
    """Op config is validated with launch config, before any record; all problems at once."""

    class Limits(of.Config):
        limit: int

    @of.asset
    def limited(config: Limits) -> int:
        return config.limit

    resources = {"partial": Partial.configure_at_launch()}
    with of.Instance.ephemeral() as instance:
        with pytest.raises(ConfigError) as info:
            of.materialize(
                [limited, orders],
                resources=resources,
                instance=instance,
                run_config={"ops": {"limited": {"config": {"limit": "x"}}, "limted": {}}},
            )
        assert instance.get_runs() == []
    problems = info.value.problems
    # each problem line starts with its path in the run config (issue 12)
    assert "resources.partial.config.token: resource 'partial' needs launch config for: token" in (
        problems
    )
    assert any("step 'limited', config field 'limit'" in line for line in problems)
    assert any("step 'limted', which is not part of this run" in line for line in problems)
    assert "Did you mean 'limited'?" in str(info.value)


@pytest.mark.parametrize("front", ["job", "flow"])
def test_a_failure_of_the_engine_itself_still_finishes_the_record(
    front: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """If the driver itself raises, the record is FAILURE with the reason and the error
    propagates (never a STARTED record)."""

    def broken(self: Any, node: Any, outcomes: Any, mapped: bool) -> Any:
        raise RuntimeError("engine bug")

    policy = policies.JobPolicy if front == "job" else policies.FlowPolicy
    monkeypatch.setattr(policy, "settle", broken)

    @of.task
    def one() -> int:
        return 1

    with of.Flow("f") as flow:
        one()
    with of.Instance.ephemeral() as instance:
        with pytest.raises(RuntimeError, match="engine bug"):
            if front == "job":
                of.materialize([users], resources={"db": Db()}, instance=instance)
            else:
                flow.run(instance=instance)
        [run] = instance.get_runs()
        last = instance.all_events(run.run_id)[-1]
    assert run.status is RunStatus.FAILURE
    assert last.message == "the run engine failed: RuntimeError: engine bug"
    # its traceback is kept, as for every failure event (masked by the run's redactor)
    assert last.data["error_type"] == "RuntimeError"
    assert "in broken" in last.data["traceback"]
    assert last.data["traceback"].rstrip().endswith("RuntimeError: engine bug")


def test_a_pool_that_cannot_start_fails_the_record() -> None:
    """No Dask scheduler at the address: InvocationError naming the executor, record FAILURE."""
    import dask

    with (
        dask.config.set({"distributed.comm.timeouts.connect": "1s"}),
        of.Instance.ephemeral() as instance,
    ):
        result = of.materialize(
            [users],
            resources={"db": Db()},
            instance=instance,
            executor=of.dask_executor(address="tcp://127.0.0.1:9"),
            raise_on_error=False,
        )
        [run] = instance.get_runs()
    assert run.status is RunStatus.FAILURE
    assert isinstance(result.run_error, InvocationError)
    assert "the dask executor could not start" in str(result.run_error)


def test_teardown_errors_are_one_error_for_jobs_too() -> None:
    """In process, a failed close is the same TeardownError a worker's is."""

    @of.resource
    def leaky(context: Any) -> Iterator[int]:
        yield 1
        raise OSError("socket closed")

    @of.asset
    def uses(leaky: of.ResourceParam[int]) -> int:
        return leaky

    with pytest.raises(TeardownError, match="failed to close: 'leaky'") as info:
        of.materialize_to_memory([uses], resources={"leaky": leaky})
    assert info.value.keys == ("leaky",)


def test_python_api_runs_go_to_an_ephemeral_instance_unless_record_runs_is_set(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Dagster's default (an ephemeral instance when none is passed), and one opt-in setting,
    OUTFITTER_RECORD_RUNS, that records every Python-API run (jobs and flows) in the local
    instance at OUTFITTER_HOME."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("OUTFITTER_HOME", str(tmp_path / "home"))

    @of.task
    def one() -> int:
        return 1

    with of.Flow("recorded-flow") as flow:
        one()
    of.materialize([users], resources={"db": Db()})
    flow.run()
    with of.Instance.get() as instance:
        assert instance.get_runs() == []
    monkeypatch.setenv("OUTFITTER_RECORD_RUNS", "1")
    of.materialize([users], resources={"db": Db()})
    flow.run()
    with of.Instance.get() as instance:
        names = sorted(r.job_name for r in instance.get_runs())
    assert names == ["__materialize__", "recorded-flow"]


def test_record_runs_can_come_from_the_env_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The setting is read through the OUTFITTER_ settings, so a .env file sets it too."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("OUTFITTER_RECORD_RUNS", raising=False)
    monkeypatch.setenv("OUTFITTER_HOME", str(tmp_path / "home"))
    (tmp_path / ".env").write_text("OUTFITTER_RECORD_RUNS=true\n")
    of.materialize([users], resources={"db": Db()})
    with of.Instance.get() as instance:
        assert len(instance.get_runs()) == 1


def test_cycles_name_the_path_for_jobs_and_flows() -> None:
    """The one topological sort names the actual cycle, for op jobs and flows alike."""

    @of.task
    def step(x: int) -> int:
        return x

    flow = of.Flow("loop")
    a, b, c = step.copy(name="a"), step.copy(name="b"), step.copy(name="c")
    flow.add_edge(a, b, key="x")
    flow.add_edge(b, c, key="x")
    with pytest.raises(of.exceptions.DefinitionError) as info:
        flow.add_edge(c, a, key="x")
    assert "has a cycle among tasks: 'c' -> 'a' -> 'b' -> 'c'" in str(info.value)
    assert flow.sorted_tasks() == (a, b, c)  # the refused edge was not added


def test_an_executor_that_is_not_one_is_refused_before_anything_runs() -> None:
    """`@job(executor_def="dask")` ran in process silently; it is an InvocationError naming
    the job (as flow.run(executor="dask") already was), before any record."""

    @of.op
    def one() -> int:
        return 1

    @of.job(executor_def="dask")
    def misconfigured() -> None:
        one()

    with of.Instance.ephemeral() as instance:
        with pytest.raises(InvocationError, match="job 'misconfigured': 'dask' is not an executor"):
            misconfigured.execute(instance=instance)
        assert instance.get_runs() == []
