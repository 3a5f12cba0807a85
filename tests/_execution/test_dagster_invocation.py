"""Direct invocation as Dagster users write it (issue 14): positional inputs and resources after
the context, a context as the resource source, resources given twice, ``with_resources``
assets, async steps with ``event_loop=``; ``hasattr`` on resources; ``dagster_run``.

Checked against Dagster's ``direct_invocation_result`` and ``_separate_args_and_kwargs`` in
``dagster/_core/definitions/op_invocation.py``, ``BoundOpExecutionContext.bind`` and
``build_op_context(event_loop=...)`` in ``dagster/_core/execution/context/invocation.py``, its
tests ``dagster_tests/core_tests/resource_tests/pythonic_resources/test_direct_invocation.py``
(``test_direct_op_invocation_with_inputs``, ``..._many_resource_args``) and
``dagster_tests/execution_tests/test_async.py`` (``test_aio_resource``).
"""

from __future__ import annotations

import asyncio
import contextlib
import pickle
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest
from pydantic import PrivateAttr

import outfitter as of
from outfitter.exceptions import (
    ConfigError,
    InvocationError,
    InvocationTypeError,
    MissingResourceAttributeError,
    MissingResourceError,
    MissingResourceKeyError,
)


class Num(of.ConfigurableResource):
    z: int


def test_positional_inputs_after_the_context() -> None:
    """`op(ctx, 4, 5)` binds 4 and 5 to the inputs (it raised "multiple values for argument
    'context'" before)."""

    @of.op
    def add(context: of.OpExecutionContext, x: int, y: int, num: Num) -> int:
        return x + y + num.z

    assert add(of.build_op_context(resources={"num": Num(z=2)}), 4, 5) == 11
    assert add(of.build_op_context(resources={"num": Num(z=3)}), y=1, x=2) == 6
    assert add(of.build_op_context(), 10, 20, num=Num(z=30)) == 60
    assert add(of.build_op_context(), 10, 20, Num(z=30)) == 60


def test_resources_may_be_passed_positionally() -> None:
    """Positional arguments fill parameters in order, resources included (Dagster's
    _separate_args_and_kwargs), with or without a context."""
    seen: list[Any] = []

    @of.asset
    def both(first: Num, second: Num) -> int:
        return first.z * 10 + second.z

    assert both(Num(z=1), Num(z=2)) == 12
    assert both(Num(z=1), second=Num(z=2)) == 12

    @of.asset
    def resource_first(num: Num, x: int, y: int) -> int:
        return num.z + x + y

    assert resource_first(Num(z=2), 45, 53) == 100

    @of.asset
    def with_context(context: of.AssetExecutionContext, a: Num, b: Num) -> None:
        seen.append((context.resources.a.z, context.resources.b.z, a.z, b.z))

    with_context(of.build_asset_context(), Num(z=1), Num(z=2))
    with_context(b=Num(z=2), a=Num(z=1), context=of.build_asset_context())
    assert seen == [(1, 2, 1, 2), (1, 2, 1, 2)]


def test_a_context_without_a_context_parameter_is_the_resource_source() -> None:
    """Dagster: "allow passing context, even if the function doesn't have an arg for it"."""

    @of.asset
    def no_context(x: int, y: int, num: Num) -> int:
        return x + y + num.z

    assert no_context(of.build_asset_context(resources={"num": Num(z=2)}), 4, 5) == 11
    assert no_context(of.build_asset_context(resources={"num": Num(z=3)}), y=1, x=2) == 6
    assert no_context(10, 20, num=Num(z=30)) == 60


def test_a_resource_in_both_the_context_and_the_arguments_is_an_error() -> None:
    """Dagster raises DagsterInvalidInvocationError("Cannot provide resources in both context and
    kwargs"); ours starts with the same words, names the asset and key, and is a TypeError."""

    @of.asset
    def my_asset(context: of.AssetExecutionContext, num: Num) -> int:
        return num.z

    ctx = of.build_asset_context(resources={"num": Num(z=1)})
    with pytest.raises(InvocationTypeError) as caught:
        my_asset(context=ctx, num=Num(z=2))
    assert isinstance(caught.value, TypeError)
    assert str(caught.value) == (
        "Cannot provide resources in both context and kwargs: asset 'my_asset' got 'num' from "
        "the context and as an argument\n"
        "Hint: pass each resource once: in build_asset_context(resources={...}) / "
        "build_op_context(...) or as an argument."
    )
    with pytest.raises(TypeError, match="Cannot provide resources in both context and kwargs"):
        my_asset(ctx, Num(z=2))


def test_argument_mistakes_are_type_errors_naming_the_step() -> None:
    """Too many positionals, a value twice, an unknown name, a missing input: our invocation
    error, also a TypeError (what Python raises for such a call)."""

    @of.op
    def add(x: int, y: int = 1) -> int:
        return x + y

    with pytest.raises(
        TypeError,
        match=r"op 'add' takes 2 positional argument\(s\) after the "
        r"context \(x, y\), but 3 were given",
    ):
        add(1, 2, 3)
    with pytest.raises(InvocationTypeError, match="op 'add' got multiple values for argument 'x'"):
        add(1, x=2)
    with pytest.raises(InvocationTypeError) as caught:
        add(1, yy=2)
    assert "op 'add' got unexpected argument(s) 'yy'. Did you mean 'y'?" in str(caught.value)
    with pytest.raises(InvocationTypeError, match="op 'add' is missing input\\(s\\) 'x'"):
        add()
    assert add(1) == 2


def test_a_missing_resource_names_it_and_is_a_type_error() -> None:
    """No resource anywhere: the error names the key and how to pass it."""

    @of.asset
    def needs(num: Num) -> int:
        return num.z

    with pytest.raises(InvocationTypeError) as caught:
        needs()
    assert str(caught.value) == (
        "asset 'needs' needs resource(s) 'num' to be called directly\n"
        "Hint: pass them as arguments, e.g. needs(num=...), or in a context built with "
        "build_asset_context(resources={...})."
    )


def test_with_resources_assets_bring_their_resources_to_direct_calls() -> None:
    """An asset from with_resources(...) runs directly with its own resources (Dagster's bind
    uses assets_def.resource_defs); arguments win; a context giving them too is an error."""
    events: list[str] = []

    class Conn(of.ConfigurableResource):
        name: str = "own"

        @contextlib.contextmanager
        def yield_for_execution(self, context: Any) -> Iterator[Conn]:
            events.append(f"open {self.name}")
            yield self
            events.append(f"close {self.name}")

    @of.asset
    def reads(conn: Conn) -> str:
        return conn.name

    @of.asset(required_resource_keys={"conn"})
    def reads_context(context: of.AssetExecutionContext) -> str:
        return str(context.resources.conn.name)

    bound, bound_ctx = of.with_resources([reads, reads_context], {"conn": Conn()})
    assert bound() == "own"
    assert events == ["open own", "close own"]
    assert bound_ctx() == "own"
    assert bound(conn=Conn(name="arg")) == "arg"
    with pytest.raises(InvocationTypeError) as caught:
        bound(of.build_asset_context(resources={"conn": Conn(name="ctx")}))
    assert str(caught.value).startswith(
        "asset 'reads' has its own resource(s) 'conn' (from with_resources or resource_defs) "
        "and the context provides them too"
    )


def test_generator_steps_keep_their_resources_open_while_iterated() -> None:
    """A generator step's resources close after its last item, not before the first."""
    events: list[str] = []

    class Conn(of.ConfigurableResource):
        @contextlib.contextmanager
        def yield_for_execution(self, context: Any) -> Iterator[Conn]:
            events.append("open")
            yield self
            events.append("close")

    @of.op
    def items(conn: Conn) -> Iterator[int]:
        events.append("step")
        yield 1
        yield 2

    assert list(items(conn=Conn())) == [1, 2]
    assert events == ["open", "step", "close"]


class AioResource(of.ConfigurableResource):
    _loop: Any = PrivateAttr(default=None)
    _events: list[str] = PrivateAttr(default_factory=list)

    @contextlib.asynccontextmanager
    async def yield_for_execution(self, context: Any) -> AsyncIterator[AioResource]:
        await asyncio.sleep(0)
        self._loop = asyncio.get_running_loop()
        yield self

    @property
    def loop(self) -> Any:
        return self._loop


def test_build_contexts_take_the_event_loop_of_async_steps() -> None:
    """build_op_context/build_asset_context(event_loop=loop): async resources open on that loop,
    the one the async step runs on (Dagster's test_aio_resource)."""

    @of.op
    async def aio_op(aio_resource: AioResource) -> str:
        await asyncio.sleep(0)
        assert aio_resource.loop is asyncio.get_running_loop()
        return "done"

    @of.asset
    async def aio_asset(context: of.AssetExecutionContext, aio_resource: AioResource) -> str:
        assert context.resources.aio_resource is aio_resource
        return "done"

    loop = asyncio.new_event_loop()
    try:
        with of.build_op_context({"aio_resource": AioResource()}, event_loop=loop) as ctx:
            assert loop.run_until_complete(aio_op(ctx)) == "done"
        with of.build_asset_context({"aio_resource": AioResource()}, event_loop=loop) as ctx:
            assert loop.run_until_complete(aio_asset(ctx)) == "done"
    finally:
        loop.close()


def test_async_steps_open_argument_resources_on_the_running_loop() -> None:
    """Resources passed to an async step open (and close) on the loop that awaits it; a test
    context can also be used with `async with`."""

    @of.asset
    async def aio_asset(aio_resource: AioResource) -> bool:
        return aio_resource.loop is asyncio.get_running_loop()

    async def main() -> tuple[bool, bool]:
        direct = await aio_asset(aio_resource=AioResource())
        async with of.build_asset_context(resources={"aio_resource": AioResource()}) as ctx:
            via_context = await aio_asset(ctx)
        return direct, via_context

    assert asyncio.run(main()) == (True, True)


def test_hasattr_on_resources_is_false_for_an_undeclared_key() -> None:
    """Dagster's resources raise AttributeError for a missing key, so hasattr is False; ours is
    also our MissingResourceError, and [key] is also a KeyError."""

    @of.asset(required_resource_keys={"num"})
    def probe(context: of.AssetExecutionContext) -> tuple[bool, bool, Any]:
        res = context.resources
        return hasattr(res, "num"), hasattr(res, "other"), getattr(res, "other", "default")

    ctx = of.build_asset_context(resources={"num": Num(z=1)})
    assert probe(ctx) == (True, False, "default")

    @of.asset(required_resource_keys={"num"})
    def declared(context: of.AssetExecutionContext) -> Any:
        return context.resources.undeclared

    with pytest.raises(MissingResourceAttributeError) as caught:
        declared(ctx)
    assert isinstance(caught.value, AttributeError)
    assert isinstance(caught.value, MissingResourceError)
    assert "did not declare resource 'undeclared'" in str(caught.value)

    with of.build_resources({"num": Num(z=1)}) as res:
        assert hasattr(res, "num")
        assert not hasattr(res, "nope")
        with pytest.raises(MissingResourceKeyError) as key_error:
            res["nope"]
        assert isinstance(key_error.value, KeyError)
        # not KeyError's quoted repr: the message reads as every other error's
        assert str(key_error.value) == (
            "build_resources has no resource 'nope'; it has: 'num'.\n"
            "Hint: declare the dependency (a nested field, required_resource_keys, or a "
            "parameter) and bind it."
        )


def test_missing_resource_variants_survive_pickling() -> None:
    """Workers send errors back pickled: the attribute and key variants keep class and text."""
    for error in (
        MissingResourceAttributeError("no 'db'", keys=["db"], hint="bind it"),
        MissingResourceKeyError("no 'db'", keys=["db"], hint="bind it"),
        InvocationTypeError("bad call", hint="fix it"),
    ):
        copy = pickle.loads(pickle.dumps(error))
        assert type(copy) is type(error)
        assert str(copy) == str(error)
    assert str(MissingResourceKeyError("no 'db'", keys=["db"])) == "no 'db'"


def test_invocation_type_error_is_an_invocation_error() -> None:
    """`except InvocationError` keeps catching the new TypeError variant."""
    assert issubclass(InvocationTypeError, InvocationError)
    assert issubclass(InvocationTypeError, TypeError)


def test_init_resource_context_dagster_run_is_the_run_record() -> None:
    """InitResourceContext.dagster_run (Dagster: the DagsterRun, None outside a run) is the
    instance's record of the run opening the resource."""
    seen: list[Any] = []

    class Probe(of.ConfigurableResource):
        def setup_for_execution(self, context: of.InitResourceContext) -> None:
            seen.append(context.dagster_run)

    @of.asset
    def uses(probe: Probe) -> int:
        return 1

    instance = of.Instance.ephemeral()
    result = of.materialize([uses], resources={"probe": Probe()}, instance=instance)
    assert result.success
    [run] = seen
    assert run is not None
    assert run.run_id == result.run_id
    assert of.build_init_resource_context().dagster_run is None


def test_an_env_var_in_config_given_to_a_direct_call_is_read_at_the_call(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Calling an asset directly with config holding an EnvVar gives the function the value,
    as a run does when it starts (issue 14: the name must never reach user code); an unset
    variable is an error naming the field and the variable."""

    class Greeting(of.Config):
        name: str
        times: int = 1

    @of.asset
    def greet(config: Greeting) -> str:
        return f"{config.name} x{config.times}"

    monkeypatch.setenv("GREET_NAME", "ada")
    monkeypatch.setenv("GREET_TIMES", "3")
    config = Greeting(name=of.EnvVar("GREET_NAME"), times=of.EnvVar.int("GREET_TIMES"))
    assert greet(config=config) == "ada x3"
    monkeypatch.delenv("GREET_NAME")
    with pytest.raises(ConfigError) as info:
        greet(config=Greeting(name=of.EnvVar("GREET_NAME")))
    assert "config field 'name': environment variable GREET_NAME is not set" in str(info.value)
