"""resource_manager, following Prefect 1: structure, failure matrix, nesting, restarts, and
Outfitter's improvements (no leaked setup, cleanup on Ctrl-C, warnings, early rejection)."""

from __future__ import annotations

import warnings
from typing import Any

import pytest

import outfitter as of
from outfitter import Flow, Parameter, Task, resource_manager, task
from outfitter.exceptions import DefinitionError

EVENTS: list[str] = []


@resource_manager
class MyResource:
    def __init__(self, a: Any = None) -> None:
        self.a = a

    def setup(self) -> str:
        EVENTS.append("setup")
        return "resource"

    def cleanup(self, resource: Any) -> None:
        EVENTS.append(f"cleanup {resource}")


@resource_manager
class NoSetup:
    def __init__(self) -> None:
        pass

    def cleanup(self, resource: Any) -> None:
        EVENTS.append(f"cleanup {resource}")


@task
def inc(x: int) -> int:
    return x + 1


@task
def add(x: Any, y: int) -> int:
    assert x == "resource"
    return y + 10


class Inc(Task):
    def run(self, x: int) -> int:
        return x + 1


class Add(Task):
    def run(self, x: Any, y: int) -> int:
        assert x == "resource"
        return y + 10


@pytest.fixture(autouse=True)
def _clear() -> None:
    EVENTS.clear()


def functional(manager: Any = MyResource) -> tuple[Flow, dict[str, Any]]:
    with Flow("structure") as flow:
        a = inc(1)
        ctx = manager(a) if manager is MyResource else manager()
        with ctx as resource:
            b = add(resource, a)
            c = inc(b)
            d = inc(2)
            e = inc(d)
            f = inc(3)
        g = inc(f)
    return flow, {"a": a, "b": b, "c": c, "d": d, "e": e, "f": f, "g": g, "ctx": ctx}


def imperative() -> tuple[Flow, dict[str, Any]]:
    flow = Flow("structure")
    a = Inc().bind(1, flow=flow)
    ctx = MyResource(a, flow=flow)
    with ctx as resource:
        b = Add().bind(resource, a, flow=flow)
        c = Inc().bind(b, flow=flow)
        d = Inc().bind(2, flow=flow)
        e = Inc().bind(d, flow=flow)
        f = Inc().bind(3, flow=flow)
    g = Inc().bind(f, flow=flow)
    return flow, {"a": a, "b": b, "c": c, "d": d, "e": e, "f": f, "g": g, "ctx": ctx}


@pytest.mark.parametrize("build", [functional, imperative], ids=["functional", "imperative"])
def test_classic_structure_has_prefects_exact_edges(build: Any) -> None:
    """Setup feeds the in-block roots; cleanup follows init, setup and the in-block leaves."""
    flow, t = build()
    ctx = t["ctx"]
    init, setup, cleanup = ctx.init_task, ctx.setup_task, ctx.cleanup_task
    assert flow.upstream_tasks(init) == {t["a"]}
    assert flow.upstream_tasks(setup) == {init}
    assert flow.upstream_tasks(t["b"]) == {setup, t["a"]}
    assert flow.upstream_tasks(t["d"]) == {setup}
    assert flow.upstream_tasks(t["f"]) == {setup}
    assert flow.upstream_tasks(t["c"]) == {t["b"]}
    assert flow.upstream_tasks(cleanup) == {init, setup, t["c"], t["e"], t["f"]}
    assert flow.upstream_tasks(t["g"]) == {t["f"]}
    assert flow.reference_tasks() == {t["c"], t["e"], t["g"]}
    assert (init.name, setup.name, cleanup.name) == (
        "MyResource",
        "MyResource.setup",
        "MyResource.cleanup",
    )
    state = flow.run()
    assert state.is_successful()
    assert state.result[t["b"]].result == 12
    assert state.result[t["c"]].result == 13
    assert state.result[t["g"]].result == 5
    assert EVENTS == ["setup", "cleanup resource"]


def test_no_setup_variant_yields_none_and_cleans_up_with_none() -> None:
    """Without setup the block yields None, its roots get no edge from init (Prefect 1,
    tasks/core/resource_manager.py ResourceContext.__exit__ wires only a setup task) and
    cleanup gets None."""
    with Flow("nosetup") as flow:
        ctx = NoSetup()
        with ctx as resource:
            assert resource is None
            x = inc(1)
    assert ctx.setup_task is None
    assert flow.upstream_tasks(x) == set()
    assert flow.upstream_tasks(ctx.cleanup_task) == {ctx.init_task, x}
    assert flow.run().is_successful()
    assert EVENTS == ["cleanup None"]


def test_kwargs_defaults_and_user_overrides() -> None:
    """Prefect's task defaults, with user kwargs winning and dicts copied."""
    given = {"name": "custom-cleanup"}
    manager = of.ResourceManager(MyResource.resource_class, cleanup_task_kwargs=given)
    assert manager.cleanup_task_kwargs["name"] == "custom-cleanup"
    assert manager.cleanup_task_kwargs["trigger"] is of.triggers.resource_cleanup_trigger
    assert manager.cleanup_task_kwargs["skip_on_upstream_skip"] is False
    assert given == {"name": "custom-cleanup"}
    named = resource_manager(name="Cluster")(MyResource.resource_class)
    assert named.setup_task_kwargs["name"] == "Cluster.setup"


class Boom(Exception):
    pass


def _manager(fail: str) -> Any:
    class Fragile:
        def __init__(self) -> None:
            if fail == "init":
                raise Boom("init")

        def setup(self) -> str:
            if fail == "setup":
                raise Boom("setup")
            return "r"

        def cleanup(self, resource: Any) -> None:
            EVENTS.append("cleanup")
            if fail == "cleanup":
                raise Boom("cleanup")

    return resource_manager(Fragile)


@pytest.mark.parametrize(
    ("fail", "cleanup_state", "block_state", "flow_ok"),
    [
        ("init", "Resource manager init failed", of.TriggerFailed, False),
        ("setup", "Resource manager setup failed", of.TriggerFailed, False),
        ("cleanup", None, of.Success, True),
        ("task", None, of.Failed, False),
    ],
)
def test_failure_matrix(fail: str, cleanup_state: Any, block_state: Any, flow_ok: bool) -> None:
    """init/setup failures skip cleanup and trigger-fail the block; cleanup failure keeps the
    flow successful; a block task failure fails the flow but cleanup still runs."""

    @task
    def work(r: Any) -> str:
        if fail == "task":
            raise Boom("task")
        return "done"

    with Flow("matrix") as flow:
        ctx = _manager(fail)()
        with ctx as r:
            w = work(r)
    state = flow.run()
    assert state.is_successful() is flow_ok
    assert isinstance(state.result[w], block_state)
    cleanup = state.result[ctx.cleanup_task]
    if cleanup_state is None:
        assert EVENTS == ["cleanup"]
        assert cleanup.is_failed() is (fail == "cleanup")
    else:
        assert cleanup.is_skipped()
        assert cleanup.message == cleanup_state
        assert EVENTS == []


def test_nesting_order() -> None:
    """outer setup < inner setup < inner tasks < inner cleanup < outer cleanup."""
    order: list[str] = []

    def make(label: str) -> Any:
        class Named:
            def setup(self) -> str:
                order.append(f"{label} setup")
                return label

            def cleanup(self, resource: Any) -> None:
                order.append(f"{label} cleanup")

        return resource_manager(Named, name=label)

    @task
    def note(x: Any) -> None:
        order.append(f"task {x}")

    with Flow("nested") as flow, make("outer")(), make("inner")() as inner:
        note(inner)
    assert flow.run().is_successful()
    assert order == ["outer setup", "inner setup", "task inner", "inner cleanup", "outer cleanup"]


def test_mapped_tasks_in_a_block_finish_before_cleanup() -> None:
    """Every mapped run ends before the cleanup."""

    @task
    def each(x: int, r: Any) -> int:
        EVENTS.append(f"item {x}")
        return x

    with Flow("mapped") as flow, MyResource() as r:
        out = each.map([1, 2, 3], of.unmapped(r))
    state = flow.run()
    assert state.result[out].result == [1, 2, 3]
    assert EVENTS == ["setup", "item 1", "item 2", "item 3", "cleanup resource"]


def test_parameters_and_task_results_as_init_arguments() -> None:
    """Init arguments may be Parameters or task results."""
    seen: list[Any] = []

    @resource_manager
    class Sized:
        def __init__(self, n: int, label: str) -> None:
            seen.append((n, label))

        def cleanup(self, resource: Any) -> None:
            pass

    @task
    def label() -> str:
        return "L"

    with Flow("init-args") as flow, Sized(Parameter("n"), label()):
        inc(0)
    assert flow.run(n=4).is_successful()
    assert seen == [(4, "L")]


def test_restart_reuses_init_and_reruns_setup_and_cleanup() -> None:
    """task_states from a previous run: init is reused, setup and cleanup run again."""
    inits: list[int] = []

    @resource_manager
    class Counted:
        def __init__(self) -> None:
            inits.append(1)

        def setup(self) -> str:
            EVENTS.append("setup")
            return "resource"

        def cleanup(self, resource: Any) -> None:
            EVENTS.append("cleanup")

    with Flow("restart") as flow:
        ctx = Counted()
        with ctx as r:
            w = add(r, 1)
    first = flow.run()
    assert first.is_successful()
    states = dict(first.result)
    del states[w]
    second = flow.run(task_states=states)
    assert second.is_successful()
    assert inits == [1]
    assert EVENTS == ["setup", "cleanup", "setup", "cleanup"]


def test_block_membership_errors_and_warnings() -> None:
    """One flow per block; a task after the block using the resource is warned about."""
    other = Flow("other")
    stray = Inc()
    with Flow("one"):
        with pytest.raises(DefinitionError, match="Multiple flows cannot be used"):  # noqa: SIM117
            with MyResource() as r:
                stray.bind(1, flow=other)
        ctx = MyResource()
        with ctx as r:
            inc(1)
        with pytest.warns(UserWarning, match="created after its `with` block"):
            add(r, 1)


def test_class_without_cleanup_is_rejected_at_decoration() -> None:
    """Prefect accepted it and failed at run time; we reject it at once."""
    with pytest.raises(DefinitionError, match="has no cleanup"):

        @resource_manager
        class NoCleanup:
            def setup(self) -> int:
                return 1


def test_manager_outside_a_flow_is_a_container_resource() -> None:
    """Bound to a key, a resource manager lives in the run scope like any resource."""

    class UsesCluster(Task):
        def run(self, x: int, cluster: of.ResourceParam[str]) -> str:
            return f"{cluster}:{x}"

    with Flow("bound", resources={"cluster": MyResource("a")}) as flow:
        out = UsesCluster()(1)
    state = flow.run()
    assert state.result[out].result == "resource:1"
    assert EVENTS == ["setup", "cleanup resource"]
    with pytest.raises(DefinitionError, match="Could not infer an active Flow context"):  # noqa: SIM117
        with MyResource("a"):
            pass


def test_no_unused_task_warning_for_normal_use() -> None:
    """Building the classic flows warns about nothing."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        functional()
        imperative()


def test_a_retry_inside_the_block_never_runs_setup_twice() -> None:
    """A block task that fails and retries uses the same resource; one setup, one cleanup."""
    tries: list[int] = []

    @task(max_retries=2, retry_delay=0)
    def flaky(r: Any) -> str:
        tries.append(1)
        if len(tries) < 3:
            raise RuntimeError("transient")
        return r

    with Flow("retry") as flow, MyResource() as r:
        out = flaky(r)
    state = flow.run()
    assert state.result[out].result == "resource"
    assert EVENTS == ["setup", "cleanup resource"]


def test_manager_bound_in_definitions_is_an_asset_resource() -> None:
    """A resource-manager binding works as a Definitions resource for assets too."""

    @of.asset
    def uses(cluster: of.ResourceParam[str]) -> str:
        return cluster.upper()

    defs = of.Definitions(assets=[uses], resources={"cluster": MyResource("x")})
    result = defs.get_implicit_global_asset_job_def().execute_in_process()
    assert result.asset_value("uses") == "RESOURCE"
    assert EVENTS == ["setup", "cleanup resource"]
