"""RunScope: lazy opening, ordering, rollback, teardown aggregation, scopes, concurrency."""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest

import outfitter as of
from outfitter._resources.markers import Scope
from outfitter._resources.scope import RunScope
from outfitter.exceptions import (
    ConfigError,
    DefinitionError,
    InvocationError,
    MissingResourceError,
    ResourceInitError,
    TeardownError,
)
from outfitter.testing import ResourceRecorder


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


def test_context_manager_resources_see_the_block_exception() -> None:
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
