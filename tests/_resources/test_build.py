"""``build_resources`` (sync and ``async with``) and ``RunScope`` get/aget/close/aclose: launch
config, open/close order, failures in the block, at open and at teardown."""

import asyncio
import contextlib
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest

import outfitter as of
from outfitter._resources.scope import RunScope
from outfitter.exceptions import (
    ConfigError,
    InvocationError,
    MissingResourceError,
    ResourceInitError,
    TeardownError,
)


class Boom(Exception):
    """The error a test raises inside a ``with build_resources`` block."""


def run(coro: Any) -> Any:
    """Drive ``coro`` to completion (no pytest-asyncio here)."""
    return asyncio.run(coro)


def recording(log: list[str], name: str, *needs: str, fail_close: bool = False) -> Any:
    """A generator resource that logs ``open <name>`` / ``close <name>`` and needs ``needs``."""

    @of.resource(required_resource_keys=set(needs))
    def make(context: of.InitResourceContext) -> Iterator[str]:
        log.append(f"open {name}")
        yield name
        log.append(f"close {name}")
        if fail_close:
            raise RuntimeError(f"{name} failed to commit")

    return make


class Api(of.ConfigurableResource):
    url: str
    retries: int = 1


# -- launch config -------------------------------------------------------------------------------


def test_resource_config_by_key_with_config_entries() -> None:
    """resource_config={"key": {"config": {...}}} completes a configure_at_launch resource."""
    with of.build_resources(
        {"api": Api.configure_at_launch(retries=2)},
        resource_config={"api": {"config": {"url": "http://x"}}},
    ) as res:
        assert (res.api.url, res.api.retries) == ("http://x", 2)


def test_resource_config_in_full_run_config_dict_form() -> None:
    """The full ``{"resources": {...}}`` run-config dict is accepted as is."""
    with of.build_resources(
        {"api": Api.configure_at_launch()},
        resource_config={"resources": {"api": {"config": {"url": "u", "retries": "3"}}}},
    ) as res:
        assert (res.api.url, res.api.retries) == ("u", 3)


def test_resource_config_as_run_config() -> None:
    """A RunConfig with resource instances merges their given fields over the code's."""
    with of.build_resources(
        {"api": Api(url="code", retries=5)},
        resource_config=of.RunConfig(resources={"api": Api(url="launch")}),
    ) as res:
        assert (res.api.url, res.api.retries) == ("launch", 5)


def test_resource_config_for_a_resource_function() -> None:
    """Launch config reaches a ``@resource`` function's context.resource_config."""

    @of.resource(config_schema={"who": str})
    def greeting(context: of.InitResourceContext) -> str:
        return f"hi {context.resource_config['who']}"

    with of.build_resources(
        {"g": greeting}, resource_config=of.RunConfig(resources={"g": {"config": {"who": "x"}}})
    ) as res:
        assert res.g == "hi x"


def test_missing_launch_config_names_key_and_field_with_example() -> None:
    """A partial without its launch config fails before opening, with an example."""
    with pytest.raises(ConfigError) as info:
        of.build_resources({"api": Api.configure_at_launch()})
    text = str(info.value)
    assert "resource 'api' needs launch config for: url" in text
    assert "RunConfig(resources={'api': Api(url=...)})" in text
    assert "{'resources': {'api': {'config': {'url': ...}}}}" in text


def test_launch_config_for_an_unbound_key_has_did_you_mean() -> None:
    """Launch config for a key nobody bound is reported with a suggestion."""
    with pytest.raises(ConfigError) as info:
        of.build_resources({"api": Api(url="u")}, resource_config={"apii": {"config": {}}})
    assert "launch config for resource 'apii', which is not bound. Did you mean 'api'?" in str(
        info.value
    )


# -- open and close order ------------------------------------------------------------------------


def test_all_keys_open_in_dependency_order_ties_by_name_and_close_in_reverse() -> None:
    """Open order: dependencies first, ties by key name; close order: the exact reverse."""
    log: list[str] = []
    resources = {
        "c": recording(log, "c"),
        "a": recording(log, "a", "z"),
        "z": recording(log, "z"),
        "b": recording(log, "b"),
    }
    with of.build_resources(resources) as res:
        assert sorted(res) == ["a", "b", "c", "z"]
        assert log == ["open b", "open c", "open z", "open a"]
    assert log == [
        "open b",
        "open c",
        "open z",
        "open a",
        "close a",
        "close z",
        "close c",
        "close b",
    ]


def test_async_build_resources_keeps_the_same_order() -> None:
    """``async with`` opens and closes in the same order as sync."""
    log: list[str] = []

    @of.resource(required_resource_keys={"base"})
    async def top(context: of.InitResourceContext) -> AsyncIterator[str]:
        log.append("open top")
        yield "top"
        log.append("close top")

    async def main() -> None:
        async with of.build_resources({"top": top, "base": recording(log, "base")}) as res:
            assert (res.top, res.base) == ("top", "base")

    run(main())
    assert log == ["open base", "open top", "close top", "close base"]


def test_nested_resource_opens_before_and_closes_after_its_owner() -> None:
    """A nested (owned) resource is opened before its owner and closed after it."""
    log: list[str] = []

    class Inner(of.ConfigurableResource):
        def setup_for_execution(self, context: of.InitResourceContext) -> None:
            log.append("open inner")

        def teardown_after_execution(self, context: of.InitResourceContext) -> None:
            log.append("close inner")

    class Outer(of.ConfigurableResource):
        inner: Inner

        def setup_for_execution(self, context: of.InitResourceContext) -> None:
            log.append("open outer")

        def teardown_after_execution(self, context: of.InitResourceContext) -> None:
            log.append("close outer")

    with of.build_resources({"outer": Outer(inner=Inner())}):
        pass
    assert log == ["open inner", "open outer", "close outer", "close inner"]


def test_build_resources_with_no_resources() -> None:
    """An empty dict opens nothing and yields an empty view."""
    with of.build_resources({}) as res:
        assert dict(res) == {}


def test_unknown_attribute_on_built_resources_has_did_you_mean() -> None:
    """Asking the block's view for an unbound key names build_resources and suggests a key."""
    with of.build_resources({"database": 1}) as res, pytest.raises(MissingResourceError) as info:
        res.databse
    assert "build_resources has no resource 'databse'; it has: 'database'." in str(info.value)
    assert "Did you mean 'database'?" in str(info.value)


# -- failures ------------------------------------------------------------------------------------


def test_exception_in_the_block_propagates_and_everything_is_closed() -> None:
    """The block's own exception propagates unchanged after every resource closed."""
    log: list[str] = []
    with (
        pytest.raises(Boom, match="in the block") as info,
        of.build_resources({"a": recording(log, "a"), "b": recording(log, "b")}),
    ):
        raise Boom("in the block")
    assert log == ["open a", "open b", "close b", "close a"]
    assert not getattr(info.value, "__notes__", None)


def test_exception_in_an_async_block_propagates_and_everything_is_closed() -> None:
    """The ``async with`` block's exception propagates after every resource closed."""
    log: list[str] = []

    async def main() -> None:
        async with of.build_resources({"a": recording(log, "a"), "b": recording(log, "b")}):
            raise Boom

    with pytest.raises(Boom):
        run(main())
    assert log == ["open a", "open b", "close b", "close a"]


def test_teardown_failure_without_block_exception_raises_teardown_error_naming_the_key() -> None:
    """A failing teardown does not stop the others and raises TeardownError naming the key."""
    log: list[str] = []
    resources = {
        "a": recording(log, "a"),
        "b": recording(log, "b", fail_close=True),
        "c": recording(log, "c"),
    }
    with pytest.raises(TeardownError) as info, of.build_resources(resources):
        pass
    assert log == ["open a", "open b", "open c", "close c", "close b", "close a"]
    error = info.value
    assert error.keys == ("b",)
    assert isinstance(error.errors["b"], RuntimeError)
    text = str(error)
    assert "1 resource(s) failed to close: 'b'" in text
    assert "b: RuntimeError: b failed to commit" in text
    assert "every other resource was still closed" in text


def test_several_teardown_failures_are_reported_together_in_closing_order() -> None:
    """Every failed teardown is named, in closing order."""
    log: list[str] = []
    resources = {
        "a": recording(log, "a", fail_close=True),
        "b": recording(log, "b"),
        "c": recording(log, "c", fail_close=True),
    }
    with pytest.raises(TeardownError) as info, of.build_resources(resources):
        pass
    assert info.value.keys == ("c", "a")
    assert "2 resource(s) failed to close: 'c', 'a'" in str(info.value)
    assert log[-3:] == ["close c", "close b", "close a"]


def test_async_teardown_failure_raises_teardown_error() -> None:
    """``async with`` reports a failing teardown the same way."""
    log: list[str] = []

    async def main() -> None:
        async with of.build_resources({"x": recording(log, "x", fail_close=True)}):
            pass

    with pytest.raises(TeardownError, match="failed to close: 'x'"):
        run(main())


def test_teardown_failure_with_block_exception_adds_a_note_to_the_blocks_exception() -> None:
    """With a block exception, that exception propagates and carries a note naming the failure."""
    log: list[str] = []
    resources = {"a": recording(log, "a"), "b": recording(log, "b", fail_close=True)}
    with pytest.raises(Boom) as info, of.build_resources(resources):
        raise Boom("step failed")
    assert log == ["open a", "open b", "close b", "close a"]
    (note,) = info.value.__notes__
    assert "1 resource(s) failed to close: 'b'" in note
    assert "b: RuntimeError: b failed to commit" in note


def test_async_teardown_failure_with_block_exception_adds_a_note() -> None:
    """The async path also notes a failed teardown on the block's exception."""
    log: list[str] = []

    async def main() -> None:
        async with of.build_resources({"b": recording(log, "b", fail_close=True)}):
            raise Boom

    with pytest.raises(Boom) as info:
        run(main())
    assert "failed to close: 'b'" in info.value.__notes__[0]


def test_contextmanager_reraising_the_blocks_exception_is_not_a_teardown_failure() -> None:
    """A context-manager resource that re-raises the block's exception adds no note."""

    @of.resource
    @contextlib.contextmanager
    def tx() -> Iterator[None]:
        yield

    with pytest.raises(Boom) as info, of.build_resources({"tx": tx}):
        raise Boom
    assert not getattr(info.value, "__notes__", None)


def test_failing_open_rolls_back_what_was_open_and_names_the_key() -> None:
    """A resource failing to open closes the already-open ones in reverse, then raises."""
    log: list[str] = []

    @of.resource
    def broken() -> str:
        raise ConnectionError("refused")

    resources = {"a": recording(log, "a"), "b": recording(log, "b"), "c": broken}
    with pytest.raises(ResourceInitError) as info, of.build_resources(resources):
        pytest.fail("the block must not run")
    assert log == ["open a", "open b", "close b", "close a"]
    text = str(info.value)
    assert "resource 'c' (@resource broken) failed to open: ConnectionError: refused" in text
    assert "Already-open resources were closed in reverse order: b, a." in text
    assert info.value.key == "c"
    assert isinstance(info.value.__cause__, ConnectionError)


def test_failing_async_open_rolls_back_too() -> None:
    """The async path rolls back the same way."""
    log: list[str] = []

    @of.resource
    async def broken() -> str:
        raise ConnectionError("refused")

    async def main() -> None:
        async with of.build_resources({"a": recording(log, "a"), "b": broken}):
            pass

    with pytest.raises(ResourceInitError, match="'b'"):
        run(main())
    assert log == ["open a", "close a"]


# -- RunScope ------------------------------------------------------------------------------------


def test_run_scope_get_opens_lazily_and_once() -> None:
    """get opens a key (and its dependencies) on first ask and returns the same value after."""
    log: list[str] = []
    scope = RunScope({"a": recording(log, "a", "z"), "z": recording(log, "z"), "u": 1})
    assert log == []
    assert scope.get("a") == "a"
    assert scope.get("a") == "a"
    assert log == ["open z", "open a"]
    assert scope.opened == ("z", "a")
    scope.close()
    assert log == ["open z", "open a", "close a", "close z"]


def test_run_scope_close_is_idempotent_and_the_scope_is_unusable_after() -> None:
    """A second close does nothing; get after close is an InvocationError."""
    log: list[str] = []
    scope = RunScope({"a": recording(log, "a")})
    scope.get("a")
    scope.close()
    scope.close()
    assert log == ["open a", "close a"]
    with pytest.raises(InvocationError) as info:
        scope.get("a")
    assert "resource 'a' was asked for after the scope was closed" in str(info.value)
    assert "open a new scope" in str(info.value)


def test_run_scope_get_of_an_unbound_key_has_did_you_mean() -> None:
    """get of an unbound key names what is bound and suggests the closest."""
    with RunScope({"cache": 1}) as scope, pytest.raises(MissingResourceError) as info:
        scope.get("cach")
    text = str(info.value)
    assert "asks for resource 'cach', which is not bound (bound: 'cache')." in text
    assert "Did you mean 'cache'?" in text
    assert info.value.keys == ("cach",)


def test_run_scope_aget_opens_sync_and_async_resources() -> None:
    """aget opens async and sync resources alike and returns the same value twice."""
    log: list[str] = []

    @of.resource
    async def token() -> str:
        return "tok"

    async def main() -> None:
        async with RunScope({"token": token, "s": recording(log, "s")}) as scope:
            assert await scope.aget("token") == "tok"
            assert await scope.aget("token") == "tok"
            assert await scope.aget("s") == "s"
            assert scope.get("token") == "tok"  # already open: sync access is fine
        assert log == ["open s", "close s"]

    run(main())


def test_run_scope_lazy_resources_view() -> None:
    """scope.resources opens keys on attribute access and knows which keys are bound."""
    log: list[str] = []
    with RunScope({"a": recording(log, "a"), "b": recording(log, "b")}) as scope:
        view = scope.resources
        assert "a" in view
        assert "nope" not in view
        assert sorted(view) == ["a", "b"]
        assert len(view) == 2
        assert log == []
        assert view.a == "a"
        assert view["b"] == "b"
        assert log == ["open a", "open b"]


def test_run_scope_passes_the_blocks_exception_to_exits() -> None:
    """RunScope as a context manager hands the block's exception to context-manager exits."""
    seen: list[BaseException | None] = []

    @of.resource
    @contextlib.contextmanager
    def tx() -> Iterator[None]:
        try:
            yield
        except BaseException as exc:
            seen.append(exc)
            raise

    with pytest.raises(Boom) as info, RunScope({"tx": tx}) as scope:
        scope.get("tx")
        raise Boom
    assert seen == [info.value]


def test_run_scope_close_with_explicit_exception() -> None:
    """close(exc) passes ``exc`` to exits; an exit re-raising it is not a teardown failure."""
    seen: list[BaseException] = []

    @of.resource
    @contextlib.contextmanager
    def tx() -> Iterator[None]:
        try:
            yield
        except BaseException as exc:
            seen.append(exc)
            raise

    scope = RunScope({"tx": tx})
    scope.get("tx")
    error = Boom("run failed")
    scope.close(error)
    assert seen == [error]


def test_run_scope_aclose_runs_every_exit_and_reports_failures() -> None:
    """aclose continues past failing exits and raises them together."""
    log: list[str] = []

    async def main() -> None:
        scope = RunScope(
            {"a": recording(log, "a", fail_close=True), "b": recording(log, "b")},
        )
        await scope.aopen(["b", "a"])
        await scope.aclose()

    with pytest.raises(TeardownError) as info:
        run(main())
    assert log == ["open a", "open b", "close b", "close a"]
    assert info.value.keys == ("a",)


def test_build_resources_passes_run_id_and_instance_to_resources() -> None:
    """run_id and instance given to build_resources reach each resource's context."""
    instance = object()
    seen: list[Any] = []

    @of.resource
    def probe(context: of.InitResourceContext) -> None:
        seen.append((context.run_id, context.instance))

    with of.build_resources({"p": probe}, instance=instance, run_id="r-42"):
        pass
    assert seen == [("r-42", instance)]


def test_build_resources_closes_on_error_and_reports_teardown_as_note() -> None:
    """The block's exception propagates with a note naming a failed teardown."""

    @of.resource
    def bad_close(context: Any) -> Iterator[int]:
        yield 1
        raise RuntimeError("close failed")

    with pytest.raises(ValueError, match="block") as info, of.build_resources({"b": bad_close}):
        raise ValueError("block")
    assert any("'b'" in note for note in info.value.__notes__)
