"""RunScope: lazy opening, ordering, closing, rollback, scopes, plan validation, concurrency, and
the lifecycle invariant (every opened resource closes once, in reverse) over random graphs."""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import outfitter as of
from outfitter._resources.markers import Scope
from outfitter._resources.scope import RunScope
from outfitter._resources.spec import ResourcePlan
from outfitter.exceptions import (
    ConfigError,
    DefinitionError,
    InvocationError,
    MissingResourceError,
    ResourceInitError,
    TeardownError,
)
from outfitter.testing import ResourceRecorder

# -- helpers ---------------------------------------------------------------------------------------


class Boom(Exception):
    """The exception the tests' resources and blocks raise."""


def res(log: list[tuple[str, str]], name: str, *deps: str, **kwargs: Any) -> of.ResourceDefinition:
    """A generator resource appending ("open", name) / ("close", name) to ``log``."""

    def fn(context: of.InitResourceContext) -> Iterator[str]:
        log.append(("open", name))
        yield name
        log.append(("close", name))

    fn.__name__ = name
    return of.ResourceDefinition(fn, required_resource_keys=deps, **kwargs)


def opened(log: list[tuple[str, str]]) -> list[str]:
    return [k for e, k in log if e == "open"]


def closed(log: list[tuple[str, str]]) -> list[str]:
    return [k for e, k in log if e == "close"]


@pytest.fixture(autouse=True)
def _no_dotenv(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """EnvVars resolve against the real environment only (no stray .env file)."""
    monkeypatch.setenv("OUTFITTER_ENV_FILE", str(tmp_path / "absent.env"))


# -- lazy opening and order ------------------------------------------------------------------------


def test_only_requested_keys_and_their_dependencies_open() -> None:
    """Asking for one key opens its transitive dependencies and nothing else."""
    log: list[tuple[str, str]] = []
    resources = {
        "c": res(log, "c", "b"),
        "b": res(log, "b", "a"),
        "a": res(log, "a"),
        "unused": res(log, "unused"),
        "also_unused": res(log, "also_unused", "a"),
    }
    with RunScope(resources) as scope:
        assert scope.get("c") == "c"
        assert scope.opened == ("a", "b", "c")
    assert log == [
        ("open", "a"),
        ("open", "b"),
        ("open", "c"),
        ("close", "c"),
        ("close", "b"),
        ("close", "a"),
    ]


def test_unused_resources_never_read_their_env_vars(monkeypatch: pytest.MonkeyPatch) -> None:
    """An unused resource with an unset EnvVar does not stop the others from opening."""
    monkeypatch.delenv("OUTFITTER_TEST_NEVER_SET", raising=False)

    class Api(of.ConfigurableResource):
        token: str

    resources = {"api": Api(token=of.EnvVar("OUTFITTER_TEST_NEVER_SET")), "n": 3}
    with RunScope(resources) as scope:
        assert scope.get("n") == 3
        assert scope.opened == ("n",)


def test_open_order_is_dependency_order_with_ties_by_key_name() -> None:
    """open() follows dependencies first, then key names, whatever order keys are given in."""
    log: list[tuple[str, str]] = []
    resources = {
        "top": res(log, "top", "right", "left"),
        "right": res(log, "right", "base"),
        "left": res(log, "left", "base"),
        "base": res(log, "base", "zzz"),
        "zzz": res(log, "zzz"),
        "alpha": res(log, "alpha"),
    }
    with RunScope(resources) as scope:
        values = scope.open(["top", "alpha"])
        assert values == {"alpha": "alpha", "top": "top"}
    assert opened(log) == ["alpha", "zzz", "base", "left", "right", "top"]
    assert closed(log) == ["top", "right", "left", "base", "zzz", "alpha"]


def test_plan_order_and_closures_are_topological_with_name_ties() -> None:
    """The plan's order is dependency order with ties by name; closures list deps first."""
    resources = {
        "b": of.ResourceDefinition(lambda: 1, required_resource_keys=["z"]),
        "a": of.ResourceDefinition(lambda: 1, required_resource_keys=["z", "y"]),
        "y": 1,
        "z": 2,
        "c": 3,
    }
    plan = ResourcePlan(resources)
    assert plan.order == ("c", "y", "z", "a", "b")
    assert plan.closure["a"] == ("y", "z", "a")
    assert plan.closure["b"] == ("z", "b")
    assert plan.closure["c"] == ("c",)


def test_close_is_the_exact_reverse_of_actual_opening() -> None:
    """Closing reverses the order keys were actually opened in, not the plan's order."""
    log: list[tuple[str, str]] = []
    resources = {"a": res(log, "a"), "b": res(log, "b", "a"), "z": res(log, "z")}
    with RunScope(resources) as scope:
        scope.get("z")
        scope.get("b")
    assert opened(log) == ["z", "a", "b"]
    assert closed(log) == ["b", "a", "z"]


def test_close_happens_exactly_once() -> None:
    """A second close (or exiting after an explicit close) closes nothing again."""
    log: list[tuple[str, str]] = []
    resources = {"a": res(log, "a"), "b": res(log, "b", "a")}
    with RunScope(resources) as scope:
        scope.get("b")
        scope.close()
        scope.close()
    assert closed(log) == ["b", "a"]


def test_a_key_opens_once_per_scope_and_returns_the_same_value() -> None:
    """Asking twice for a key returns the very same object, opened once."""
    calls: list[int] = []

    @of.resource
    def thing() -> object:
        calls.append(1)
        return object()

    with RunScope({"thing": thing}) as scope:
        assert scope.get("thing") is scope.get("thing")
        assert scope.resources.thing is scope.resources["thing"]
    assert calls == [1]


def test_each_scope_gets_its_own_copy_and_the_definition_is_untouched() -> None:
    """Configurable resources are copied per scope; the definition object is never handed out."""

    class Counter(of.ConfigurableResource):
        start: int = 0

    definition = Counter(start=5)
    with RunScope({"c": definition}) as one, RunScope({"c": definition}) as two:
        first, second = one.get("c"), two.get("c")
        assert first is not second
        assert first is not definition
        assert first.start == second.start == 5


def test_resources_view_opens_lazily() -> None:
    """scope.resources opens a key on first attribute access only."""
    log: list[tuple[str, str]] = []
    with RunScope({"a": res(log, "a"), "b": res(log, "b")}) as scope:
        view = scope.resources
        assert sorted(view) == ["a", "b"]
        assert len(view) == 2
        assert log == []
        assert view.b == "b"
        assert scope.opened == ("b",)


def test_repr_shows_state_and_opened_keys() -> None:
    """The repr tells whether the scope is open and what it opened."""
    scope = RunScope({"a": 1})
    scope.get("a")
    assert repr(scope) == "RunScope(open, opened=['a'])"
    scope.close()
    assert repr(scope).startswith("RunScope(closed")


# -- teardown failures -----------------------------------------------------------------------------


def test_closing_continues_past_failing_teardowns_and_names_every_key() -> None:
    """Every resource closes; TeardownError lists each failed key in closing order."""
    log: list[str] = []

    def failing_gen(name: str, *deps: str) -> of.ResourceDefinition:
        def fn() -> Iterator[str]:
            yield name
            log.append(name)
            raise Boom(f"{name} teardown")

        return of.ResourceDefinition(fn, required_resource_keys=deps)

    class Hooks(of.ConfigurableResource):
        def teardown_after_execution(self, context: of.InitResourceContext) -> None:
            log.append("hooks")
            raise Boom("hooks teardown")

    @of.resource(required_resource_keys=["hooks"])
    @contextlib.contextmanager
    def cm(context: of.InitResourceContext) -> Iterator[str]:
        yield "cm"
        log.append("cm")

    resources = {
        "first": failing_gen("first"),
        "hooks": Hooks(),
        "cm": cm,
        "last": failing_gen("last", "first", "cm"),
    }
    with pytest.raises(TeardownError) as info, RunScope(resources) as scope:
        scope.get("last")
    assert log == ["last", "cm", "hooks", "first"]
    err = info.value
    assert err.keys == ("last", "hooks", "first")
    assert set(err.errors) == {"last", "hooks", "first"}
    assert all(isinstance(e, Boom) for e in err.errors.values())
    text = str(err)
    assert "3 resource(s) failed to close: 'last', 'hooks', 'first'" in text
    assert "last: Boom: last teardown" in text
    assert text.splitlines()[-1].startswith("Hint: ")


def test_teardown_failure_after_a_failed_block_is_a_note_on_the_block_error() -> None:
    """The block's exception wins; the teardown failure is attached to it as a note."""
    rec = ResourceRecorder()
    with pytest.raises(Boom) as info, RunScope({"a": rec.resource("a", fail_on="close")}) as s:
        s.get("a")
        raise Boom("step failed")
    assert rec.closed == ["a"]
    notes = "\n".join(getattr(info.value, "__notes__", []))
    assert "1 resource(s) failed to close: 'a'" in notes


def test_keyboard_interrupt_in_teardown_still_closes_the_rest() -> None:
    """A Ctrl-C raised by one teardown does not stop the others; it propagates afterwards."""
    log: list[str] = []

    @of.resource(required_resource_keys=["a"])
    def interrupting() -> Iterator[str]:
        yield "i"
        log.append("i")
        raise KeyboardInterrupt

    @of.resource
    def a() -> Iterator[str]:
        yield "a"
        log.append("a")

    with pytest.raises(KeyboardInterrupt), RunScope({"a": a, "i": interrupting}) as scope:
        scope.get("i")
    assert log == ["i", "a"]


# -- open failures ---------------------------------------------------------------------------------


def test_failed_open_rolls_back_lifo_and_names_the_key() -> None:
    """A setup failure closes what is open in reverse and raises ResourceInitError chained to it."""
    log: list[tuple[str, str]] = []
    original = Boom("cannot connect")

    @of.resource(required_resource_keys=["b"])
    def broken() -> str:
        raise original

    resources = {"a": res(log, "a"), "b": res(log, "b", "a"), "z": res(log, "z"), "c": broken}
    scope = RunScope(resources)
    scope.get("z")
    with pytest.raises(ResourceInitError) as info:
        scope.get("c")
    err = info.value
    assert err.key == "c"
    assert err.__cause__ is original
    text = str(err)
    assert "resource 'c' (@resource broken) failed to open: Boom: cannot connect" in text
    assert "closed in reverse order: b, a, z" in text
    assert closed(log) == ["b", "a", "z"]
    with pytest.raises(InvocationError, match="after the scope was closed"):
        scope.get("z")


def test_rollback_continues_past_failing_teardowns() -> None:
    """A teardown failing during rollback is noted on the original error; the rest still close."""
    rec = ResourceRecorder()
    resources = {
        "a": rec.resource("a"),
        "b": rec.resource("b", requires=["a"], fail_on="close"),
        "c": rec.resource("c", requires=["b"], fail_on="open"),
    }
    with pytest.raises(ResourceInitError) as info, RunScope(resources) as scope:
        scope.get("c")
    assert rec.closed == ["b", "a"]
    cause = info.value.__cause__
    assert isinstance(cause, RuntimeError)
    assert "failed to close: 'b'" in "\n".join(cause.__notes__)


def test_setup_failure_skips_that_resources_own_teardown() -> None:
    """teardown_after_execution is not called when setup_for_execution raised."""
    calls: list[str] = []

    class Flaky(of.ConfigurableResource):
        def setup_for_execution(self, context: of.InitResourceContext) -> None:
            calls.append("setup")
            raise Boom("setup")

        def teardown_after_execution(self, context: of.InitResourceContext) -> None:
            calls.append("teardown")

    with (
        pytest.raises(ResourceInitError, match="resource 'flaky' \\(Flaky\\) failed to open"),
        RunScope({"flaky": Flaky()}) as scope,
    ):
        scope.get("flaky")
    assert calls == ["setup"]


def test_config_error_while_opening_propagates_unwrapped(monkeypatch: pytest.MonkeyPatch) -> None:
    """An unset EnvVar raises ConfigError naming key, field and variable, after a rollback."""
    monkeypatch.delenv("OUTFITTER_TEST_UNSET_DSN", raising=False)
    log: list[tuple[str, str]] = []

    class Warehouse(of.ConfigurableResource):
        dsn: str

    resources = {
        "first": res(log, "first"),
        "warehouse": Warehouse(dsn=of.EnvVar("OUTFITTER_TEST_UNSET_DSN")),
    }
    with RunScope(resources) as scope:
        scope.get("first")
        with pytest.raises(ConfigError) as info:
            scope.get("warehouse")
    assert not isinstance(info.value, ResourceInitError)
    text = str(info.value)
    assert "resource 'warehouse', field 'dsn'" in text
    assert "OUTFITTER_TEST_UNSET_DSN is not set" in text
    assert closed(log) == ["first"]


def test_outfitter_errors_from_setup_keep_their_own_cause() -> None:
    """An OutfitterError raised by a resource propagates as itself with its original cause."""
    root = ValueError("root cause")

    @of.resource
    def strict() -> str:
        raise ConfigError("bad settings", hint="fix them") from root

    with RunScope({"strict": strict}) as scope, pytest.raises(ConfigError) as info:
        scope.get("strict")
    assert info.value.__cause__ is root


def test_keyboard_interrupt_during_setup_rolls_back_and_propagates() -> None:
    """Ctrl-C while opening closes what was open and propagates as KeyboardInterrupt."""
    log: list[tuple[str, str]] = []

    @of.resource(required_resource_keys=["a"])
    def interrupted() -> str:
        raise KeyboardInterrupt

    scope = RunScope({"a": res(log, "a"), "i": interrupted})
    with pytest.raises(KeyboardInterrupt) as info:
        scope.get("i")
    assert info.value.__cause__ is not info.value
    assert log == [("open", "a"), ("close", "a")]
    with pytest.raises(InvocationError):
        scope.get("a")


# -- the block's exception ------------------------------------------------------------------------


def test_context_manager_resources_see_the_block_exception() -> None:
    """A @contextmanager resource sees the block's exception and re-raising it is no teardown
    failure; on success it sees none."""
    seen: list[str] = []

    @of.resource
    @contextlib.contextmanager
    def tx() -> Iterator[str]:
        try:
            yield "tx"
        except Boom as exc:
            seen.append(f"rollback: {exc}")
            raise
        else:
            seen.append("commit")

    with pytest.raises(Boom) as info, RunScope({"tx": tx}) as scope:
        scope.get("tx")
        raise Boom("step failed")
    assert not getattr(info.value, "__notes__", None)
    with RunScope({"tx": tx}) as scope:
        scope.get("tx")
    assert seen == ["rollback: step failed", "commit"]


def test_yield_for_execution_sees_the_block_exception() -> None:
    """A ConfigurableResource overriding yield_for_execution gets the exception at its yield."""
    seen: list[BaseException | None] = []

    class Session(of.ConfigurableResource):
        @contextlib.contextmanager
        def yield_for_execution(self, context: of.InitResourceContext) -> Iterator[Session]:
            try:
                yield self
            except BaseException as exc:
                seen.append(exc)
                raise
            seen.append(None)

    error = Boom("x")
    with pytest.raises(Boom), RunScope({"s": Session()}) as scope:
        scope.get("s")
        raise error
    assert seen == [error]


def test_close_passes_an_explicit_exception_to_exits() -> None:
    """scope.close(exc) hands exc to exits; re-raising it is not a teardown failure."""
    seen: list[Any] = []

    class Cm:
        def __enter__(self) -> str:
            return "cm"

        def __exit__(self, *args: Any) -> None:
            seen.append(args[1])

    @of.resource
    @contextlib.contextmanager
    def wrapped() -> Iterator[str]:
        with Cm() as value:
            yield value

    scope = RunScope({"w": wrapped})
    scope.get("w")
    error = Boom("given")
    scope.close(error)  # an exit re-raising the given exception is not a teardown failure
    assert seen == [error]


# -- misuse ----------------------------------------------------------------------------------------


def test_using_a_closed_scope_raises_invocation_error() -> None:
    """get, aget and open after close all raise InvocationError with a hint."""
    scope = RunScope({"a": 1, "b": 2})
    scope.get("a")
    scope.close()
    with pytest.raises(InvocationError) as info:
        scope.get("b")
    assert "resource 'b' was asked for after the scope was closed" in str(info.value)
    assert "Hint:" in str(info.value)
    with pytest.raises(InvocationError):
        scope.open(["a"])
    with pytest.raises(InvocationError):
        asyncio.run(scope.aget("a"))


def test_unknown_key_raises_missing_resource_error_with_did_you_mean() -> None:
    """An unbound key names the bound keys and suggests the closest one."""
    with RunScope({"warehouse": 1, "api": 2}) as scope, pytest.raises(MissingResourceError) as info:
        scope.get("warehose")
    err = info.value
    assert err.keys == ("warehose",)
    assert isinstance(err, DefinitionError)
    text = str(err)
    assert "asks for resource 'warehose', which is not bound (bound: 'api', 'warehouse')" in text
    assert "Did you mean 'warehouse'?" in text


def test_async_resource_from_sync_code_is_an_invocation_error() -> None:
    """Opening an async resource synchronously says to use async with / aget."""

    @of.resource
    async def client() -> str:
        return "c"

    with RunScope({"client": client}) as scope, pytest.raises(InvocationError) as info:
        scope.get("client")
    assert "resource 'client'" in str(info.value)
    assert "await scope.aget(key)" in str(info.value)


def test_sync_close_of_an_async_exit_is_a_teardown_error() -> None:
    """Closing an async generator resource synchronously reports it instead of leaking silently."""

    @of.resource
    async def conn() -> AsyncIterator[str]:
        yield "conn"

    async def open_it() -> RunScope:
        scope = RunScope({"conn": conn})
        await scope.aget("conn")
        return scope

    scope = asyncio.run(open_it())
    with pytest.raises(TeardownError) as info:
        scope.close()
    assert info.value.keys == ("conn",)
    assert isinstance(info.value.errors["conn"], InvocationError)
    assert "needs an async close" in str(info.value)


def test_garbage_collected_open_scope_warns() -> None:
    """A scope dropped with open resources emits a ResourceWarning naming them."""
    rec = ResourceRecorder()
    scope = RunScope({"leaky": rec.resource("leaky")})
    scope.get("leaky")
    with pytest.warns(ResourceWarning, match="open resources \\(leaky\\)"):
        del scope  # the last reference: CPython finalizes the scope here


# -- listener --------------------------------------------------------------------------------------


def test_listener_receives_open_and_close_events_in_order() -> None:
    """The listener hears ("open", key, seconds, None) and ("close", ...) in actual order."""
    events: list[tuple[str, str, float, BaseException | None]] = []
    log: list[tuple[str, str]] = []
    resources = {"a": res(log, "a"), "b": res(log, "b", "a"), "value": 5}
    with RunScope(resources, listener=lambda *e: events.append(e)) as scope:
        scope.get("b")
        scope.get("value")
    assert [(kind, key, err) for kind, key, _, err in events] == [
        ("open", "a", None),
        ("open", "b", None),
        ("open", "value", None),
        ("close", "b", None),
        ("close", "a", None),
    ]
    assert all(isinstance(seconds, float) and seconds >= 0 for _, _, seconds, _ in events)


def test_listener_hears_failures() -> None:
    """A failed open and a failed close are reported with their exceptions."""
    events: list[tuple[str, str, BaseException | None]] = []
    rec = ResourceRecorder()
    resources = {
        "a": rec.resource("a", fail_on="close"),
        "b": rec.resource("b", requires=["a"], fail_on="open"),
    }
    scope = RunScope(resources, listener=lambda kind, key, _, err: events.append((kind, key, err)))
    with pytest.raises(ResourceInitError):
        scope.get("b")
    assert [(kind, key) for kind, key, _ in events] == [
        ("open", "a"),
        ("close", "a"),
        ("open", "b"),
    ]
    assert events[0][2] is None
    assert isinstance(events[1][2], RuntimeError)
    assert isinstance(events[2][2], RuntimeError)
    assert "b failed to open" in str(events[2][2])


def test_step_scopes_report_to_the_run_listener() -> None:
    """A step scope inherits its run scope's listener."""
    events: list[tuple[str, str]] = []
    resources = {"tx": of.ResourceDefinition(lambda: "tx", scope="step")}
    with (
        RunScope(resources, listener=lambda kind, key, *_: events.append((kind, key))) as run,
        run.step_scope() as step,
    ):
        step.get("tx")
    assert events == [("open", "tx")]


# -- redaction -------------------------------------------------------------------------------------


def test_secret_values_are_redacted_from_errors(monkeypatch: pytest.MonkeyPatch) -> None:
    """A resolved EnvVar value never appears in init or teardown error messages."""
    monkeypatch.setenv("OUTFITTER_TEST_TOKEN", "s3cr3t-value")

    class Api(of.ConfigurableResource):
        token: str

        def setup_for_execution(self, context: of.InitResourceContext) -> None:
            raise Boom(f"rejected token {self.token}")

    class Closer(of.ConfigurableResource):
        token: str

        def teardown_after_execution(self, context: of.InitResourceContext) -> None:
            raise Boom(f"logout failed for {self.token}")

    token = of.EnvVar("OUTFITTER_TEST_TOKEN")
    with RunScope({"api": Api(token=token)}) as scope, pytest.raises(ResourceInitError) as info:
        scope.get("api")
    assert "s3cr3t-value" not in str(info.value)
    assert "rejected token ***" in str(info.value)

    with pytest.raises(TeardownError) as teardown, RunScope({"c": Closer(token=token)}) as scope:
        assert scope.get("c").token == "s3cr3t-value"
        assert scope.redact("x s3cr3t-value y") == "x *** y"
    assert "s3cr3t-value" not in str(teardown.value)
    assert "logout failed for ***" in str(teardown.value)


# -- step and process scopes -----------------------------------------------------------------------


def test_step_scoped_function_resources_are_fresh_per_step() -> None:
    """A scope="step" resource opens in each step scope and closes at its end; run ones stay."""
    log: list[tuple[str, str]] = []
    values: list[object] = []

    @of.resource(scope="step", required_resource_keys=["db"])
    def tx() -> Iterator[object]:
        log.append(("open", "tx"))
        value = object()
        yield value
        log.append(("close", "tx"))

    with RunScope({"tx": tx, "db": res(log, "db")}) as run:
        for _ in range(2):
            with run.step_scope() as step:
                values.append(step.get("tx"))
                assert step.get("db") is run.get("db")
            assert ("close", "db") not in log
    assert values[0] is not values[1]
    assert log == [
        ("open", "db"),
        ("open", "tx"),
        ("close", "tx"),
        ("open", "tx"),
        ("close", "tx"),
        ("close", "db"),
    ]


def test_step_scoped_configurable_resources_are_fresh_per_step() -> None:
    """A ConfigurableResource declared with scope="step" is set up and torn down per step."""
    log: list[str] = []

    class Transaction(of.ConfigurableResource, scope="step"):
        name: str = "tx"

        def setup_for_execution(self, context: of.InitResourceContext) -> None:
            log.append("begin")

        def teardown_after_execution(self, context: of.InitResourceContext) -> None:
            log.append("end")

    with RunScope({"tx": Transaction()}) as run:
        seen = []
        for _ in range(3):
            with run.step_scope() as step:
                seen.append(step.get("tx"))
        assert len({id(s) for s in seen}) == 3
    assert log == ["begin", "end"] * 3


def test_run_scoped_resource_first_asked_by_a_step_lives_in_the_run() -> None:
    """A run-scoped key first opened by a step scope is opened by the run and outlives the step."""
    log: list[tuple[str, str]] = []
    with RunScope({"db": res(log, "db")}) as run:
        with run.step_scope() as step:
            step.get("db")
            assert step.opened == ()
        assert run.opened == ("db",)
        assert log == [("open", "db")]
    assert log == [("open", "db"), ("close", "db")]


def test_failing_step_resource_rolls_back_only_the_step() -> None:
    """A step-scoped resource failing to open closes the step scope; the run scope keeps going."""
    rec = ResourceRecorder()
    resources = {
        "db": rec.resource("db"),
        "tx": rec.resource("tx", requires=["db"], scope="step"),
        "bad": rec.resource("bad", requires=["tx"], scope="step", fail_on="open"),
    }
    with RunScope(resources) as run:
        with pytest.raises(ResourceInitError) as info, run.step_scope() as step:
            step.get("bad")
        assert info.value.key == "bad"
        assert rec.events == [("open", "db"), ("open", "tx"), ("close", "tx")]
        with run.step_scope() as step:
            assert step.get("tx") == "tx"
    assert rec.closed == ["tx", "tx", "db"]


def test_process_scoped_resource_is_shared_by_child_run_scopes() -> None:
    """A process-scoped resource opens once for two runs and closes only with the process."""
    log: list[tuple[str, str]] = []
    resources = {
        "pool": res(log, "pool", scope="process"),
        "session": res(log, "session", "pool"),
    }
    pools = []
    with RunScope(resources, level=Scope.PROCESS) as process:
        for _ in range(2):
            with RunScope(resources, parent=process) as run:
                run.get("session")
                pools.append(run.get("pool"))
                assert run.get("pool") is process.get("pool")
        assert log == [
            ("open", "pool"),
            ("open", "session"),
            ("close", "session"),
            ("open", "session"),
            ("close", "session"),
        ]
    assert log[-1] == ("close", "pool")
    assert closed(log).count("pool") == 1


def test_process_scope_is_reached_from_a_step_scope() -> None:
    """A step scope asks through its run scope for a process-scoped resource."""
    log: list[tuple[str, str]] = []
    resources = {
        "pool": res(log, "pool", scope="process"),
        "tx": res(log, "tx", "pool", scope="step"),
    }
    with RunScope(resources, level=Scope.PROCESS) as process:
        with RunScope(resources, parent=process) as run, run.step_scope() as step:
            assert step.get("tx") == "tx"
            assert run.opened == ()
        assert log == [("open", "pool"), ("open", "tx"), ("close", "tx")]
    assert log[-1] == ("close", "pool")


def test_without_a_process_parent_process_resources_live_in_the_run() -> None:
    """A run scope with no parent opens (and closes) process-scoped resources itself."""
    log: list[tuple[str, str]] = []
    with RunScope({"pool": res(log, "pool", scope="process")}) as run:
        run.get("pool")
    assert log == [("open", "pool"), ("close", "pool")]


def test_run_resource_depending_on_a_step_resource_is_a_definition_error() -> None:
    """The captive rule names both keys and both scopes."""
    log: list[tuple[str, str]] = []
    resources = {"tx": res(log, "tx", scope="step"), "repo": res(log, "repo", "tx")}
    with pytest.raises(DefinitionError) as info:
        RunScope(resources)
    text = str(info.value)
    assert "resource 'repo' (scope run) depends on 'tx' (scope step)" in text
    assert "give 'tx' scope 'run' or longer, or 'repo' scope 'step'" in text
    assert log == []


def test_captive_rule_covers_nested_and_process_resources() -> None:
    """A nested step resource under a run one, and a process one holding a run one, are errors."""

    class Tx(of.ConfigurableResource, scope="step"):
        pass

    class Repo(of.ConfigurableResource):
        tx: Tx

    with pytest.raises(DefinitionError, match=r"'repo' \(scope run\) depends on 'repo\.tx'"):
        RunScope({"repo": Repo(tx=Tx())})

    log: list[tuple[str, str]] = []
    resources = {"pool": res(log, "pool", "cfg", scope="process"), "cfg": res(log, "cfg")}
    with pytest.raises(DefinitionError, match="'pool' \\(scope process\\) depends on 'cfg'"):
        RunScope(resources)


def test_unknown_scope_name_is_a_definition_error() -> None:
    """Only run, step and process are scopes."""
    with pytest.raises(DefinitionError, match="unknown scope 'request'"):
        of.ResourceDefinition(lambda: 1, scope="request")


# -- plan validation -------------------------------------------------------------------------------


def test_cycle_is_reported_with_its_path() -> None:
    """a -> b -> a is named as such."""
    log: list[tuple[str, str]] = []
    with pytest.raises(DefinitionError) as info:
        RunScope({"a": res(log, "a", "b"), "b": res(log, "b", "a")})
    assert info.value.problems == ("resource dependency cycle: 'a' -> 'b' -> 'a'",)
    assert "1 problem(s) in the resource definitions" in str(info.value)


def test_self_and_longer_cycles_are_all_listed() -> None:
    """A self-dependency and a three-cycle are both reported."""
    log: list[tuple[str, str]] = []
    resources = {
        "x": res(log, "x", "y"),
        "y": res(log, "y", "z"),
        "z": res(log, "z", "x"),
        "s": res(log, "s", "s"),
        "ok": res(log, "ok"),
    }
    with pytest.raises(DefinitionError) as info:
        ResourcePlan(resources)
    problems = info.value.problems
    assert "resource dependency cycle: 's' -> 's'" in problems
    assert "resource dependency cycle: 'x' -> 'y' -> 'z' -> 'x'" in problems
    assert len(problems) == 2


def test_all_problems_are_reported_in_one_error() -> None:
    """A cycle, a missing key (with did-you-mean) and a scope violation come together."""
    log: list[tuple[str, str]] = []
    resources = {
        "a": res(log, "a", "b"),
        "b": res(log, "b", "a"),
        "client": res(log, "client", "warehose"),
        "warehouse": res(log, "warehouse"),
        "tx": res(log, "tx", scope="step"),
        "repo": res(log, "repo", "tx"),
    }
    with pytest.raises(DefinitionError) as info:
        RunScope(resources)
    err = info.value
    assert not isinstance(err, MissingResourceError)
    assert len(err.problems) == 3
    text = str(err)
    assert "3 problem(s) in the resource definitions" in text
    assert "resource dependency cycle: 'a' -> 'b' -> 'a'" in text
    assert (
        "resource 'client' needs resource 'warehose', which is not bound. Did you mean 'warehouse'?"
    ) in text
    assert "resource 'repo' (scope run) depends on 'tx' (scope step)" in text
    assert text.splitlines()[-1].startswith("Hint: ")
    assert log == []


def test_only_missing_keys_raise_missing_resource_error() -> None:
    """When every problem is a missing key, the error is a MissingResourceError with the keys."""
    log: list[tuple[str, str]] = []
    resources = {"a": res(log, "a", "nope"), "b": res(log, "b", "gone", "nope")}
    with pytest.raises(MissingResourceError) as info:
        ResourcePlan(resources)
    assert sorted(info.value.keys) == ["gone", "nope", "nope"]
    assert len(info.value.problems) == 3


def test_nested_resources_open_inner_first_and_close_outer_first() -> None:
    """A nested resource opens before its owner and closes after it."""
    log: list[str] = []

    class Credentials(of.ConfigurableResource):
        user: str

        def setup_for_execution(self, context: of.InitResourceContext) -> None:
            log.append("open credentials")

        def teardown_after_execution(self, context: of.InitResourceContext) -> None:
            log.append("close credentials")

    class Client(of.ConfigurableResource):
        credentials: Credentials

        def setup_for_execution(self, context: of.InitResourceContext) -> None:
            log.append(f"open client as {self.credentials.user}")

        def teardown_after_execution(self, context: of.InitResourceContext) -> None:
            log.append("close client")

    with RunScope({"client": Client(credentials=Credentials(user="ada"))}) as scope:
        client = scope.get("client")
        assert scope.opened == ("client.credentials", "client")
        assert client.credentials is scope.get("client.credentials")
    assert log == ["open credentials", "open client as ada", "close client", "close credentials"]


# -- concurrency -----------------------------------------------------------------------------------


def test_scopes_in_two_threads_never_share_an_instance() -> None:
    """Two threads with their own scopes over the same definitions get distinct instances."""

    class Conn(of.ConfigurableResource):
        dsn: str = "x"

    @of.resource
    def session() -> Iterator[object]:
        yield object()

    resources = {"conn": Conn(), "session": session}
    seen: dict[int, dict[str, Any]] = {}
    barrier = threading.Barrier(2)

    def worker(n: int) -> None:
        with RunScope(resources) as scope:
            seen[n] = scope.open(["conn", "session"])
            barrier.wait()

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert seen[0]["conn"] is not seen[1]["conn"]
    assert seen[0]["session"] is not seen[1]["session"]


def test_eight_threads_asking_one_scope_open_the_key_once() -> None:
    """Concurrent get() on one scope opens a key (and its dependency) exactly once."""
    rec = ResourceRecorder()
    release = threading.Event()

    @of.resource
    def slow() -> Iterator[str]:
        rec.record("open", "slow")
        release.wait(timeout=5)
        yield "slow"
        rec.record("close", "slow")

    resources = {"slow": slow, "r": rec.resource("r", requires=["slow"])}
    results: list[Any] = []
    with RunScope(resources) as scope:
        barrier = threading.Barrier(8)

        def ask() -> None:
            barrier.wait()
            results.append(scope.get("r"))

        threads = [threading.Thread(target=ask) for _ in range(8)]
        for t in threads:
            t.start()
        release.set()
        for t in threads:
            t.join()
    assert results == ["r"] * 8
    assert rec.events == [("open", "slow"), ("open", "r"), ("close", "r"), ("close", "slow")]


def test_two_tasks_awaiting_one_async_resource_open_it_once() -> None:
    """Concurrent aget() calls share one opening of an async resource."""
    log: list[str] = []

    @of.resource
    @contextlib.asynccontextmanager
    async def client() -> AsyncIterator[object]:
        log.append("open")
        await asyncio.sleep(0)
        yield object()
        log.append("close")

    async def main() -> list[Any]:
        async with RunScope({"client": client}) as scope:
            return list(await asyncio.gather(scope.aget("client"), scope.aget("client")))

    first, second = asyncio.run(main())
    assert first is second
    assert log == ["open", "close"]


def test_async_scope_opens_sync_and_async_resources_in_order() -> None:
    """aopen() handles both shapes, dependencies first, and aclose() closes in reverse."""
    log: list[tuple[str, str]] = []

    @of.resource(required_resource_keys=["sync_dep"])
    async def conn() -> AsyncIterator[str]:
        log.append(("open", "conn"))
        yield "conn"
        log.append(("close", "conn"))

    resources = {"conn": conn, "sync_dep": res(log, "sync_dep"), "later": res(log, "later", "conn")}

    async def main() -> dict[str, Any]:
        async with RunScope(resources) as scope:
            return await scope.aopen(["later"])

    assert asyncio.run(main()) == {"later": "later"}
    assert opened(log) == ["sync_dep", "conn", "later"]
    assert closed(log) == ["later", "conn", "sync_dep"]


def test_async_open_failure_rolls_back_and_chains() -> None:
    """A failing async open rolls back (awaiting async exits) and raises ResourceInitError."""
    log: list[tuple[str, str]] = []
    original = Boom("async setup")

    @of.resource
    async def first() -> AsyncIterator[str]:
        log.append(("open", "first"))
        yield "first"
        log.append(("close", "first"))

    @of.resource(required_resource_keys=["first"])
    async def second() -> str:
        raise original

    async def main() -> None:
        async with RunScope({"first": first, "second": second}) as scope:
            await scope.aget("second")

    with pytest.raises(ResourceInitError) as info:
        asyncio.run(main())
    assert info.value.key == "second"
    assert info.value.__cause__ is original
    assert log == [("open", "first"), ("close", "first")]


def test_async_teardown_failures_are_collected() -> None:
    """aclose() continues past failing async teardowns and names every key."""
    log: list[str] = []

    def failing(name: str) -> of.ResourceDefinition:
        async def fn() -> AsyncIterator[str]:
            yield name
            log.append(name)
            raise Boom(name)

        return of.ResourceDefinition(fn)

    async def main() -> None:
        async with RunScope({"a": failing("a"), "b": failing("b")}) as scope:
            await scope.aopen(["a", "b"])

    with pytest.raises(TeardownError) as info:
        asyncio.run(main())
    assert info.value.keys == ("b", "a")
    assert log == ["b", "a"]


# -- opening, closing, scopes and concurrency, with ResourceRecorder -------------------------------


def chain(rec: ResourceRecorder) -> dict[str, Any]:
    return {
        "c": rec.resource("c", requires=["b"]),
        "b": rec.resource("b", requires=["a"]),
        "a": rec.resource("a"),
        "z": rec.resource("z"),
    }


def test_only_requested_resources_and_their_dependencies_open() -> None:
    """Asking for b opens a then b; c and z never open."""
    rec = ResourceRecorder()
    with RunScope(chain(rec)) as scope:
        assert scope.get("b") == "b"
    assert rec.events == [("open", "a"), ("open", "b"), ("close", "b"), ("close", "a")]


def test_open_order_is_dependency_order_with_ties_by_name() -> None:
    """Opening several keys follows dependencies, then key names."""
    rec = ResourceRecorder()
    resources = {
        "y": rec.resource("y"),
        "x": rec.resource("x"),
        "w": rec.resource("w", requires=["y"]),
    }
    with RunScope(resources) as scope:
        scope.open(["w", "x", "y"])
    assert rec.opened == ["x", "y", "w"]
    assert rec.closed == ["w", "y", "x"]


def test_close_is_exactly_once() -> None:
    """A second close does nothing."""
    rec = ResourceRecorder()
    scope = RunScope(chain(rec))
    scope.get("c")
    scope.close()
    scope.close()
    assert rec.closed == ["c", "b", "a"]


def test_teardown_failures_are_collected_and_every_resource_closes() -> None:
    """Closing continues past failures and names every failed key."""
    rec = ResourceRecorder()
    resources = {
        "a": rec.resource("a", fail_on="close"),
        "b": rec.resource("b", requires=["a"]),
        "c": rec.resource("c", requires=["b"], fail_on="close"),
    }
    with pytest.raises(TeardownError) as info, RunScope(resources) as scope:
        scope.get("c")
    assert info.value.keys == ("c", "a")
    assert rec.closed == ["c", "b", "a"]
    assert "2 resource(s) failed to close: 'c', 'a'" in str(info.value)


def test_failed_open_rolls_back_and_names_the_key() -> None:
    """A setup failure closes what is open (LIFO) and raises ResourceInitError."""
    rec = ResourceRecorder()
    resources = {
        "a": rec.resource("a"),
        "b": rec.resource("b", requires=["a"]),
        "c": rec.resource("c", requires=["b"], fail_on="open"),
    }
    scope = RunScope(resources)
    with pytest.raises(ResourceInitError) as info:
        scope.get("c")
    assert info.value.key == "c"
    assert isinstance(info.value.__cause__, RuntimeError)
    assert "resource 'c' (@resource recording_c) failed to open: RuntimeError" in str(info.value)
    assert "closed in reverse order: b, a" in str(info.value)
    assert rec.closed == ["b", "a"]
    with pytest.raises(InvocationError, match="after the scope was closed"):
        scope.get("a")


def test_keyboard_interrupt_during_setup_rolls_back() -> None:
    """Ctrl-C while opening still closes what was open and propagates as is."""
    rec = ResourceRecorder()

    @of.resource
    def interrupted(context: Any) -> Any:
        raise KeyboardInterrupt

    resources = {
        "a": rec.resource("a"),
        "i": of.ResourceDefinition(interrupted.resource_fn, required_resource_keys={"a"}),
    }
    with pytest.raises(KeyboardInterrupt), RunScope(resources) as scope:
        scope.get("i")
    assert rec.closed == ["a"]


def test_config_errors_propagate_unwrapped(monkeypatch: pytest.MonkeyPatch) -> None:
    """A ConfigError while opening is raised as such, not as ResourceInitError."""
    monkeypatch.delenv("NOPE_NOT_SET", raising=False)

    class Needs(of.ConfigurableResource):
        value: str

    with pytest.raises(ConfigError), RunScope({"n": Needs(value=of.EnvVar("NOPE_NOT_SET"))}) as s:
        s.get("n")


def test_context_manager_resources_see_the_block_exception_once() -> None:
    """The run's exception is passed to context-manager exits."""
    seen: list[Any] = []

    @of.resource
    @contextlib.contextmanager
    def tx(context: Any) -> Iterator[str]:
        try:
            yield "tx"
        except ValueError as exc:
            seen.append(exc)
            raise

    with pytest.raises(ValueError, match="boom"), RunScope({"tx": tx}) as scope:
        scope.get("tx")
        raise ValueError("boom")
    assert len(seen) == 1


def test_unknown_key_suggests_a_close_name() -> None:
    """Asking for an unbound key names the bound ones with a did-you-mean."""
    with RunScope({"database": 1}) as scope, pytest.raises(MissingResourceError) as info:
        scope.get("databse")
    assert "Did you mean 'database'?" in str(info.value)
    assert info.value.keys == ("databse",)


def test_listener_receives_open_and_close_events() -> None:
    """The listener hears each open and close, in order."""
    events: list[tuple[str, str]] = []
    rec = ResourceRecorder()
    with RunScope(chain(rec), listener=lambda kind, key, s, e: events.append((kind, key))) as sc:
        sc.get("b")
    assert events == [("open", "a"), ("open", "b"), ("close", "b"), ("close", "a")]


def test_step_scoped_resources_are_fresh_per_step() -> None:
    """Step resources open in each step scope and close at its end; run ones persist."""
    rec = ResourceRecorder()
    resources = {"tx": rec.resource("tx", requires=["db"], scope="step"), "db": rec.resource("db")}
    with RunScope(resources) as run:
        for _ in range(2):
            with run.step_scope() as step:
                step.get("tx")
    assert rec.events == [
        ("open", "db"),
        ("open", "tx"),
        ("close", "tx"),
        ("open", "tx"),
        ("close", "tx"),
        ("close", "db"),
    ]


def test_process_scoped_resources_are_shared_by_runs() -> None:
    """A process-scoped resource opens once for many runs and closes with the process."""
    rec = ResourceRecorder()
    resources = {
        "pool": rec.resource("pool", scope="process"),
        "q": rec.resource("q", requires=["pool"]),
    }
    with RunScope(resources, level=Scope.PROCESS) as process:
        for _ in range(2):
            with RunScope(resources, parent=process) as run:
                run.get("q")
        assert rec.events.count(("open", "pool")) == 1
        assert ("close", "pool") not in rec.events
    assert rec.events[-1] == ("close", "pool")


def test_captive_dependency_is_rejected_with_both_keys() -> None:
    """A run-scoped resource cannot depend on a step-scoped one."""
    rec = ResourceRecorder()
    resources = {
        "tx": rec.resource("tx", scope="step"),
        "repo": rec.resource("repo", requires=["tx"]),
    }
    with pytest.raises(DefinitionError) as info:
        RunScope(resources)
    assert "resource 'repo' (scope run) depends on 'tx' (scope step)" in str(info.value)


def test_all_graph_problems_are_reported_together() -> None:
    """A cycle, a missing key and a scope violation come in one error."""
    rec = ResourceRecorder()
    resources = {
        "a": rec.resource("a", requires=["b"]),
        "b": rec.resource("b", requires=["a"]),
        "c": rec.resource("c", requires=["missing"]),
        "t": rec.resource("t", scope="step"),
        "u": rec.resource("u", requires=["t"]),
    }
    with pytest.raises(DefinitionError) as info:
        RunScope(resources)
    text = str(info.value)
    assert "3 problem(s)" in text
    assert "resource dependency cycle: 'a' -> 'b' -> 'a'" in text
    assert "needs resource 'missing', which is not bound" in text
    assert "depends on 't' (scope step)" in text


def test_concurrent_scopes_never_share_instances() -> None:
    """Two threads with their own scopes get different run copies."""

    class Res(of.ConfigurableResource):
        pass

    defn = Res()
    seen: list[Any] = []
    barrier = threading.Barrier(2)

    def worker() -> None:
        with RunScope({"r": defn}) as scope:
            seen.append(scope.get("r"))
            barrier.wait()

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert seen[0] is not seen[1]


def test_one_scope_opens_a_key_once_under_thread_contention() -> None:
    """Eight threads asking one scope for a key open it exactly once."""
    rec = ResourceRecorder()
    with RunScope({"r": rec.resource("r")}) as scope:
        barrier = threading.Barrier(8)

        def ask() -> None:
            barrier.wait()
            scope.get("r")

        threads = [threading.Thread(target=ask) for _ in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    assert rec.events == [("open", "r"), ("close", "r")]


def test_async_resources_open_once_for_concurrent_tasks() -> None:
    """Two tasks awaiting the same async resource share one opening."""
    opened: list[int] = []

    @of.resource
    @contextlib.asynccontextmanager
    async def client(context: Any) -> AsyncIterator[str]:
        opened.append(1)
        await asyncio.sleep(0)
        yield "client"

    async def main() -> list[Any]:
        async with RunScope({"client": client}) as scope:
            return list(await asyncio.gather(scope.aget("client"), scope.aget("client")))

    assert asyncio.run(main()) == ["client", "client"]
    assert opened == [1]


def test_async_resource_from_sync_code_says_how_to_fix() -> None:
    """Opening an async resource synchronously raises with the async fix."""

    @of.resource
    async def client(context: Any) -> str:
        return "c"

    with RunScope({"client": client}) as scope, pytest.raises(InvocationError) as info:
        scope.get("client")
    assert "async with" in str(info.value)


class Database(of.ConfigurableResource):
    table: str
    schema_name: str = "public"
    port: int = 5432


def test_unused_resource_env_vars_are_never_read(monkeypatch: pytest.MonkeyPatch) -> None:
    """Only requested resources open, so an unused resource's unset variable is fine."""
    monkeypatch.delenv("NEVER_SET", raising=False)
    resources = {"used": Database(table="t"), "unused": Database(table=of.EnvVar("NEVER_SET"))}
    with RunScope(resources) as scope:
        assert scope.get("used").table == "t"
        assert scope.opened == ("used",)


# -- property: every opened resource closes once, in reverse ---------------------------------------


class StepFailed(Exception):
    pass


@st.composite
def scenarios(draw: st.DrawFn) -> dict[str, Any]:
    n = draw(st.integers(min_value=1, max_value=8))
    keys = [f"r{i}" for i in range(n)]
    deps = {
        key: sorted(draw(st.sets(st.sampled_from(keys[:i]), max_size=3)) if i else [])
        for i, key in enumerate(keys)
    }
    return {
        "keys": keys,
        "deps": deps,
        "requested": draw(st.lists(st.sampled_from(keys), min_size=1, max_size=n)),
        "fail_setup": draw(st.sets(st.sampled_from(keys), max_size=2)),
        "fail_teardown": draw(st.sets(st.sampled_from(keys), max_size=3)),
        "step_fails": draw(st.booleans()),
        "async_mode": draw(st.booleans()),
    }


def build(scenario: dict[str, Any], log: list[tuple[str, str]]) -> dict[str, Any]:
    resources: dict[str, Any] = {}
    for key in scenario["keys"]:

        def make(name: str) -> Any:
            def fn(context: Any) -> Iterator[str]:
                if name in scenario["fail_setup"]:
                    raise RuntimeError(f"setup {name}")
                log.append(("open", name))
                yield name
                log.append(("close", name))
                if name in scenario["fail_teardown"]:
                    raise RuntimeError(f"teardown {name}")

            return of.ResourceDefinition(fn, required_resource_keys=scenario["deps"][name])

        resources[key] = make(key)
    return resources


@settings(max_examples=150, deadline=None)
@given(scenarios())
def test_every_opened_resource_closes_once_in_reverse(scenario: dict[str, Any]) -> None:
    """Random graphs and failures never leak, double-close or close out of order."""
    log: list[tuple[str, str]] = []
    resources = build(scenario, log)
    raised: BaseException | None = None
    try:
        with RunScope(resources) as scope:
            for key in scenario["requested"]:
                scope.get(key)
            if scenario["step_fails"]:
                raise StepFailed
    except (ResourceInitError, TeardownError, StepFailed) as exc:
        raised = exc
    opened = [k for e, k in log if e == "open"]
    closed = [k for e, k in log if e == "close"]
    assert closed == list(reversed(opened))
    assert len(set(opened)) == len(opened)
    needed: set[str] = set()
    todo = list(scenario["requested"])
    while todo:
        key = todo.pop()
        if key not in needed:
            needed.add(key)
            todo.extend(scenario["deps"][key])
    if needed & scenario["fail_setup"]:
        assert isinstance(raised, ResourceInitError)
        assert raised.key in scenario["fail_setup"]
        assert set(opened).isdisjoint(scenario["fail_setup"])
    elif scenario["step_fails"]:
        assert isinstance(raised, StepFailed)
    elif set(opened) & scenario["fail_teardown"]:
        assert isinstance(raised, TeardownError)
        assert set(raised.keys) == set(opened) & scenario["fail_teardown"]
    else:
        assert raised is None


@settings(max_examples=60, deadline=None)
@given(scenarios())
def test_async_scopes_keep_the_same_invariant(scenario: dict[str, Any]) -> None:
    """The async path closes exactly what opened, in reverse."""
    import asyncio

    log: list[tuple[str, str]] = []
    resources = build(scenario, log)

    async def main() -> None:
        async with RunScope(resources) as scope:
            for key in scenario["requested"]:
                await scope.aget(key)

    with contextlib.suppress(ResourceInitError, TeardownError):
        asyncio.run(main())
    opened = [k for e, k in log if e == "open"]
    closed = [k for e, k in log if e == "close"]
    assert closed == list(reversed(opened))
