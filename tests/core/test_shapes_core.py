"""Every lifecycle shape opens and closes; ambiguous shapes are rejected with a fix."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Iterator
from typing import Any
from unittest.mock import MagicMock

import pytest
from pydantic import BaseModel

import outfitter as of
from outfitter._resources.lifecycle import ManagedBinding
from outfitter.exceptions import ConfigError, DefinitionError, InvocationError, MissingResourceError


class Probe:
    """A context manager that records how it was used."""

    def __init__(self) -> None:
        self.entered = self.exited = 0

    def __enter__(self) -> Probe:
        self.entered += 1
        return self

    def __exit__(self, *exc: Any) -> None:
        self.exited += 1


def test_bare_objects_are_values_and_never_entered() -> None:
    """A bare context manager bound as a resource is passed through untouched."""
    probe = Probe()
    with of.build_resources({"p": probe, "n": 3}) as res:
        assert res.p is probe
        assert res.n == 3
    assert (probe.entered, probe.exited) == (0, 0)


def test_function_resources_with_and_without_context() -> None:
    """@resource functions may take the context or nothing."""

    @of.resource
    def plain() -> str:
        return "plain"

    @of.resource(config_schema={"x": int})
    def configured(context: of.InitResourceContext) -> int:
        return int(context.resource_config["x"]) * 2

    config = {"configured": {"config": {"x": 21}}}
    with of.build_resources({"plain": plain, "configured": configured}, config) as res:
        assert (res.plain, res.configured) == ("plain", 42)


def test_generator_resource_cleans_up_after_yield_once() -> None:
    """Code after the yield runs once when the scope closes."""
    events: list[str] = []

    @of.resource
    def gen(context: Any) -> Iterator[str]:
        events.append("open")
        yield "value"
        events.append("close")

    with of.build_resources({"g": gen}) as res:
        assert res.g == "value"
        assert events == ["open"]
    assert events == ["open", "close"]


def test_generator_yielding_twice_is_an_error_at_close() -> None:
    """A generator resource must yield exactly once."""

    @of.resource
    def twice(context: Any) -> Iterator[int]:
        yield 1
        yield 2

    with pytest.raises(of.exceptions.TeardownError) as info, of.build_resources({"t": twice}):
        pass
    assert "yielded more than once" in str(info.value)


def test_async_shapes_open_in_async_code() -> None:
    """async def, async generators and asynccontextmanager resources work with async with."""
    events: list[str] = []

    @of.resource
    async def coro(context: Any) -> str:
        return "coro"

    @of.resource
    async def agen(context: Any) -> AsyncIterator[str]:
        yield "agen"
        events.append("agen closed")

    @of.resource
    @contextlib.asynccontextmanager
    async def acm(context: Any) -> AsyncIterator[str]:
        yield "acm"
        events.append("acm closed")

    class AsyncSetup(of.ConfigurableResource):
        async def setup_for_execution(self, context: Any) -> None:
            events.append("setup")

        async def teardown_after_execution(self, context: Any) -> None:
            events.append("teardown")

    async def main() -> tuple[Any, ...]:
        resources = {"coro": coro, "agen": agen, "acm": acm, "setup": AsyncSetup()}
        async with of.build_resources(resources) as res:
            return res.coro, res.agen, res.acm, type(res.setup).__name__

    assert asyncio.run(main()) == ("coro", "agen", "acm", "AsyncSetup")
    assert sorted(events) == ["acm closed", "agen closed", "setup", "teardown"]


def test_async_resource_in_sync_build_resources_is_refused() -> None:
    """Sync build_resources names the async fix."""

    @of.resource
    async def coro(context: Any) -> str:
        return "x"

    with pytest.raises(InvocationError, match="async with"), of.build_resources({"c": coro}):
        pass


def test_teardown_skipped_when_setup_raises_but_run_when_create_raises() -> None:
    """teardown_after_execution is not called if setup raised; it is if create_resource raised."""
    events: list[str] = []

    class SetupFails(of.ConfigurableResource):
        def setup_for_execution(self, context: Any) -> None:
            raise RuntimeError("setup")

        def teardown_after_execution(self, context: Any) -> None:
            events.append("teardown-1")

    class CreateFails(of.ConfigurableResourceFactory[int]):
        def setup_for_execution(self, context: Any) -> None:
            events.append("setup-2")

        def create_resource(self, context: Any) -> int:
            raise RuntimeError("create")

        def teardown_after_execution(self, context: Any) -> None:
            events.append("teardown-2")

    for resource in (SetupFails(), CreateFails()):
        with pytest.raises(of.exceptions.ResourceInitError), of.build_resources({"r": resource}):
            pass
    assert events == ["setup-2", "teardown-2"]


def test_yield_for_execution_keeps_a_with_open_and_sees_the_error() -> None:
    """An overridden yield_for_execution wraps the run and sees its exception."""
    seen: list[str] = []

    class Tx(of.ConfigurableResource):
        @contextlib.contextmanager
        def yield_for_execution(self, context: Any) -> Iterator[Tx]:
            try:
                yield self
                seen.append("commit")
            except ValueError:
                seen.append("rollback")
                raise

    with of.build_resources({"tx": Tx()}):
        pass
    with pytest.raises(ValueError, match="x"), of.build_resources({"tx": Tx()}):
        raise ValueError("x")
    assert seen == ["commit", "rollback"]


def test_factory_generator_create_resource() -> None:
    """create_resource may be a generator; cleanup runs at close."""
    events: list[str] = []

    class Conn(of.ConfigurableResourceFactory[dict]):  # type: ignore[type-arg]
        url: str

        def create_resource(self, context: Any) -> Iterator[dict[str, str]]:
            yield {"url": self.url}
            events.append("closed")

    with of.build_resources({"conn": Conn(url="u")}) as res:
        assert res.conn == {"url": "u"}
    assert events == ["closed"]


def test_manager_class_setup_value_reaches_cleanup_once() -> None:
    """A setup/cleanup class: cleanup gets setup's value exactly once; no setup gives None."""
    events: list[Any] = []

    class Cluster:
        def __init__(self, n: int) -> None:
            self.n = n

        def setup(self) -> str:
            return f"cluster-{self.n}"

        def cleanup(self, value: Any) -> None:
            events.append(value)

    class NoSetup:
        def cleanup(self, value: Any) -> None:
            events.append(value)

    resources = {"c": ManagedBinding(Cluster, 2), "n": ManagedBinding(NoSetup)}
    with of.build_resources(resources) as res:
        assert res.c == "cluster-2"
    assert set(events) == {"cluster-2", None}
    assert len(events) == 2


@pytest.mark.parametrize(
    ("build", "message", "hint"),
    [
        (
            lambda: type(
                "Both",
                (of.ConfigurableResource,),
                {
                    "setup_for_execution": lambda self, c: None,
                    "yield_for_execution": contextlib.contextmanager(lambda self, c: iter([self])),
                },
            ),
            "overrides yield_for_execution and also setup_for_execution",
            "move the setup/teardown code into yield_for_execution",
        ),
        (
            lambda: type(
                "BareGen",
                (of.ConfigurableResource,),
                {
                    "yield_for_execution": _bare_generator,
                },
            ),
            "yield_for_execution is a bare generator",
            "@contextlib.contextmanager",
        ),
        (
            lambda: ManagedBinding(type("NoCleanup", (), {"setup": lambda self: 1})),
            "has no cleanup(self, resource) method",
            "define cleanup(self, resource)",
        ),
        (
            lambda: ManagedBinding(
                type(
                    "Both2",
                    (),
                    {
                        "cleanup": lambda self, r: None,
                        "__enter__": lambda self: self,
                        "__exit__": lambda self, *a: None,
                    },
                )
            ),
            "both a context manager and a setup/cleanup resource manager",
            "keep one protocol",
        ),
        (
            lambda: of.resource(lambda a, b: 1),
            "takes 2 parameters",
            "takes one parameter (the InitResourceContext) or none",
        ),
    ],
)
def test_ambiguous_shapes_are_rejected_with_a_fix(build: Any, message: str, hint: str) -> None:
    """Each ambiguous shape raises DefinitionError naming the problem and its fix."""
    with pytest.raises(DefinitionError) as info:
        build()
    assert message in str(info.value)
    assert hint in str(info.value)


def _bare_generator(self: Any, context: Any) -> Iterator[Any]:
    yield self


def test_resource_definition_config_schemas() -> None:
    """Schemas as dict, pydantic model and single type validate launch config."""

    class Model(BaseModel):
        path: str

    by_dict = of.ResourceDefinition(lambda c: c.resource_config, config_schema={"n": int})
    by_model = of.ResourceDefinition(lambda c: c.resource_config.path, config_schema=Model)
    by_type = of.ResourceDefinition(lambda c: c.resource_config, config_schema=int)
    config = {"d": {"config": {"n": "3"}}, "m": {"config": {"path": "p"}}, "t": {"config": 5}}
    with of.build_resources({"d": by_dict, "m": by_model, "t": by_type}, config) as res:
        assert (res.d, res.m, res.t) == ({"n": 3}, "p", 5)
    with pytest.raises(ConfigError) as info:
        of.build_resources({"d": by_dict})
    assert "resource 'd' needs config for: n" in str(info.value)
    with pytest.raises(ConfigError, match="resource 'd', field 'n'"):
        of.build_resources({"d": by_dict}, {"d": {"config": {"n": "x"}}})


def test_required_resource_keys_and_did_you_mean() -> None:
    """Declared keys are reachable from the context; others say which exist."""

    @of.resource(required_resource_keys={"token"})
    def client(context: of.InitResourceContext) -> str:
        with pytest.raises(MissingResourceError, match="Did you mean 'token'"):
            context.resources.tokn
        return f"client({context.resources.token})"

    with of.build_resources({"client": client, "token": "t"}) as res:
        assert res.client == "client(t)"


def test_hardcoded_and_mock_resources() -> None:
    """hardcoded_resource is its value; mock_resource is a fresh MagicMock per scope."""
    resources = {
        "h": of.ResourceDefinition.hardcoded_resource({"a": 1}),
        "m": of.ResourceDefinition.mock_resource(),
    }
    with of.build_resources(resources) as first, of.build_resources(resources) as second:
        assert first.h == {"a": 1}
        assert isinstance(first.m, MagicMock)
        assert first.m is not second.m


def test_invalid_scope_is_a_definition_error() -> None:
    """An unknown scope names the valid ones."""
    with pytest.raises(DefinitionError, match="unknown scope 'weekly'"):
        of.resource(scope="weekly")(lambda: 1)


def test_build_init_resource_context_plain_and_with() -> None:
    """Plain use works for values; resources needing cleanup require `with`."""
    plain = of.build_init_resource_context(config={"a": 1}, resources={"token": "t"}, run_id="r")
    assert (plain.resource_config, plain.resources.token, plain.run_id) == ({"a": 1}, "t", "r")
    events: list[str] = []

    @of.resource
    def conn(context: Any) -> Iterator[str]:
        events.append("open")
        yield "conn"
        events.append("close")

    needs_with = of.build_init_resource_context(resources={"conn": conn})
    with pytest.raises(InvocationError) as info:
        needs_with.resources
    assert "with build_init_resource_context(" in str(info.value)
    with of.build_init_resource_context(resources={"conn": conn}) as ctx:
        assert ctx.resources.conn == "conn"
    assert events == ["open", "close"]


def test_from_resource_context_and_its_cm_form() -> None:
    """Configurable resources build from an init context, nested fields from its resources."""
    events: list[str] = []

    class Creds(of.ConfigurableResource):
        user: str

    class Client(of.ConfigurableResource):
        creds: Creds
        region: str

        def teardown_after_execution(self, context: Any) -> None:
            events.append("teardown")

    creds = Creds(user="u")
    ctx = of.build_init_resource_context(config={"region": "eu"}, resources={"creds": creds})
    with pytest.raises(InvocationError, match="from_resource_context_cm"):
        Client.from_resource_context(ctx)
    with Client.from_resource_context_cm(ctx) as client:
        assert (client.region, client.creds.user) == ("eu", "u")
    assert events == ["teardown"]

    class Simple(of.ConfigurableResource):
        region: str

    assert Simple.from_resource_context(ctx).region == "eu"


def test_build_resources_closes_on_error_and_reports_teardown_as_note() -> None:
    """The block's exception propagates with a note naming a failed teardown."""

    @of.resource
    def bad_close(context: Any) -> Iterator[int]:
        yield 1
        raise RuntimeError("close failed")

    with pytest.raises(ValueError, match="block") as info, of.build_resources({"b": bad_close}):
        raise ValueError("block")
    assert any("'b'" in note for note in info.value.__notes__)
