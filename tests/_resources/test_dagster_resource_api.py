"""Dagster's hand-driving resource APIs: calling a ``@resource`` definition, ``configured``, and
``ConfigurableResource.to_config_schema`` / ``from_resource_context`` /
``process_config_and_initialize(_cm)`` / ``with_replaced_resource_context`` (issue 14)."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest
from pydantic import PrivateAttr

import outfitter as of
from outfitter.exceptions import (
    ConfigError,
    DefinitionError,
    InvocationError,
    MissingResourceError,
)

# -- calling a @resource definition -------------------------------------------------------------
# Dagster: dagster/_core/definitions/resource_definition.py (ResourceDefinition.__call__) and
# dagster/_core/definitions/resource_invocation.py (resource_invocation_result).


def test_calling_a_resource_with_a_built_context_returns_its_value() -> None:
    """``res(build_init_resource_context(config=...))`` runs the function with that config."""

    @of.resource(config_schema={"who": str})
    def greeting(context: of.InitResourceContext) -> str:
        return f"hello {context.resource_config['who']}"

    assert greeting(of.build_init_resource_context(config={"who": "ada"})) == "hello ada"
    assert greeting(context=of.build_init_resource_context(config={"who": "bo"})) == "hello bo"


def test_calling_a_resource_with_none_gives_an_empty_context() -> None:
    """``res(None)`` works when nothing is required; a context-less function is called bare."""

    @of.resource
    def answer(context: of.InitResourceContext) -> Any:
        return context.resource_config, dict(context.resources)

    @of.resource
    def bare() -> int:
        return 7

    assert answer(None) == ({}, {})
    assert bare() == 7
    assert bare(None) == 7


def test_generator_resource_called_directly_is_a_context_manager_that_cleans_up() -> None:
    """Dagster returns a context manager for a generator resource (its wrapper never runs the
    code after ``yield``); ours runs that cleanup when the ``with`` block ends."""
    events: list[str] = []

    @of.resource
    def conn(context: of.InitResourceContext) -> Iterator[str]:
        events.append("open")
        yield "connection"
        events.append("close")

    handle = conn(of.build_init_resource_context())
    assert events == []  # nothing runs before the block
    with handle as value:
        assert value == "connection"
        assert events == ["open"]
    assert events == ["open", "close"]
    with pytest.raises(InvocationError, match="already opened from this call"):
        handle.__enter__()


def test_contextmanager_resource_called_directly_returns_its_context_manager() -> None:
    """A ``@contextmanager`` resource function gives back the context manager it makes."""

    @of.resource
    @contextlib.contextmanager
    def session(context: of.InitResourceContext) -> Iterator[str]:
        yield "session"

    with session(None) as value:
        assert value == "session"


def test_async_generator_resource_called_directly_is_an_async_context_manager() -> None:
    """An async generator resource gives an ``async with`` context manager."""
    events: list[str] = []

    @of.resource
    async def client(context: of.InitResourceContext) -> AsyncIterator[str]:
        yield "client"
        events.append("closed")

    async def main() -> str:
        async with client(None) as value:
            return str(value)

    assert asyncio.run(main()) == "client"
    assert events == ["closed"]


def test_resource_with_extra_defaulted_parameters_is_valid() -> None:
    """Dagster's ``@resource`` accepts parameters after the context when they have defaults;
    required extras are a definition error naming them."""

    @of.resource
    def tuned(context: of.InitResourceContext, retries: int = 3, *, verbose: bool = False) -> int:
        return retries

    assert tuned(None) == 3
    with pytest.raises(DefinitionError) as info:

        @of.resource
        def broken(context: of.InitResourceContext, retries: int) -> int:
            return retries

    text = str(info.value)
    assert "resource function 'broken' takes 2 parameters; 'retries' has no default" in text
    assert "give any other parameter a default" in text


def test_resource_without_config_schema_accepts_any_config() -> None:
    """Dagster: without ``config_schema`` any config is accepted, as-is, as resource_config."""

    @of.resource
    def loose(context: of.InitResourceContext) -> Any:
        return context.resource_config

    assert loose(of.build_init_resource_context(config={"any": [1, 2]})) == {"any": [1, 2]}
    assert loose(of.build_init_resource_context(config="text")) == "text"
    with of.build_resources({"r": loose.configured({"x": 1})}) as res:
        assert res.r == {"x": 1}


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda r: r(), "resource 'needs_ctx' takes a context but was called without one"),
        (lambda r: r(None, None), "was called with 2 arguments; it takes only the context"),
        (lambda r: r(ctx=None), "unexpected keyword 'ctx'; its context parameter is 'context'"),
        (lambda r: r({"a": 1}), "was called with dict, not an InitResourceContext"),
    ],
)
def test_wrong_calls_raise_invocation_errors(call: Any, message: str) -> None:
    """Each wrong way to call a resource names it and shows the right call."""

    @of.resource
    def needs_ctx(context: of.InitResourceContext) -> int:
        return 1

    with pytest.raises(InvocationError) as info:
        call(needs_ctx)
    assert message in str(info.value)
    assert "needs_ctx(build_init_resource_context(config={...})) or needs_ctx(None)" in str(
        info.value
    )


def test_context_less_resource_called_with_a_context_is_an_error() -> None:
    """Dagster rejects an argument to a resource whose function takes no context."""

    @of.resource
    def bare() -> int:
        return 1

    with pytest.raises(InvocationError, match="'bare' was called with an argument"):
        bare(of.build_init_resource_context())


def test_required_config_missing_names_the_field_and_the_call() -> None:
    """Required config and no context: the error names the field and how to pass config."""

    @of.resource(config_schema={"url": str})
    def api(context: of.InitResourceContext) -> str:
        return str(context.resource_config["url"])

    with pytest.raises(ConfigError) as info:
        api(None)
    text = str(info.value)
    assert "resource 'api' needs config but was called without any" in text
    assert "field 'url'" in text
    assert "api(build_init_resource_context(config={'url': ...}))" in text
    with pytest.raises(ConfigError, match="field 'url'"):
        api(of.build_init_resource_context(config={"url": 5}))


def test_required_resources_are_checked_when_called() -> None:
    """Dagster checks ``required_resource_keys`` against the context's resources."""

    @of.resource(required_resource_keys={"token"})
    def client(context: of.InitResourceContext) -> str:
        return f"client({context.resources.token})"

    assert client(of.build_init_resource_context(resources={"token": "t"})) == "client(t)"
    with pytest.raises(InvocationError, match=r"requires resources \('token'\)"):
        client(None)
    with pytest.raises(MissingResourceError) as info:
        client(of.build_init_resource_context(resources={"other": 1}))
    assert info.value.keys == ("token",)
    assert "build_init_resource_context(resources={'token': ...})" in str(info.value)


def test_env_var_in_called_config_is_resolved_and_unset_is_named(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """EnvVars in the context's config are resolved; an unset one names the field, not a value."""

    @of.resource(config_schema={"token": str})
    def client(context: of.InitResourceContext) -> str:
        return str(context.resource_config["token"])

    monkeypatch.setenv("OF_TEST_TOKEN", "s3cr3t-value")
    ctx = of.build_init_resource_context(config={"token": of.EnvVar("OF_TEST_TOKEN")})
    assert client(ctx) == "s3cr3t-value"
    monkeypatch.delenv("OF_TEST_TOKEN")
    with pytest.raises(ConfigError) as info:
        client(ctx)
    assert "resource 'client', field 'config.token': environment variable OF_TEST_TOKEN" in str(
        info.value
    )


# -- configured -------------------------------------------------------------------------------
# Dagster: dagster/_core/definitions/configurable.py (configured, and
# AnonymousConfigurableDefinition.configured).


@of.resource(config_schema={"url": str, "timeout": int})
def http(context: of.InitResourceContext) -> dict[str, Any]:
    return dict(context.resource_config)


def test_configured_with_config_fixes_it() -> None:
    """``res.configured({...})`` and ``configured(res)({...})`` give the config in code."""
    fixed = http.configured({"url": "http://a", "timeout": 1})
    assert fixed(None) == {"url": "http://a", "timeout": 1}
    assert of.configured(http)({"url": "http://b", "timeout": 2})(None)["url"] == "http://b"
    assert http(of.build_init_resource_context(config={"url": "u", "timeout": 0}))["url"] == "u"


def test_configured_decorator_maps_config_with_a_schema() -> None:
    """``@configured(res, schema)`` maps the new config to the wrapped resource's config, at
    direct invocation and in a run (launch config goes through the mapping)."""

    @of.configured(http, {"host": str})
    def local_http(config: dict[str, Any]) -> dict[str, Any]:
        return {"url": f"http://{config['host']}", "timeout": 5}

    assert isinstance(local_http, of.ResourceDefinition)
    ctx = of.build_init_resource_context(config={"host": "h"})
    assert local_http(ctx) == {"url": "http://h", "timeout": 5}
    launch = {"r": {"config": {"host": "launch"}}}
    with of.build_resources({"r": local_http}, resource_config=launch) as res:
        assert res.r == {"url": "http://launch", "timeout": 5}


def test_configured_decorator_without_schema_calls_the_function() -> None:
    """Dagster's ``@configured(res) def dev(_): return {...}``: no schema, constant mapping."""

    @of.configured(http)
    def dev_http(_: Any) -> dict[str, Any]:
        return {"url": "http://dev", "timeout": 9}

    assert dev_http(None) == {"url": "http://dev", "timeout": 9}
    with of.build_resources({"r": dev_http}) as res:
        assert res.r["url"] == "http://dev"


class HostConfig(of.Config):
    host: str
    port: int = 80


def test_configured_with_a_config_typed_mapping_function() -> None:
    """A ``Config``-annotated parameter is the schema; a returned ``Config`` becomes a dict."""

    class HttpConfig(of.Config):
        url: str
        timeout: int

    @of.configured(http)
    def typed_http(config: HostConfig) -> HttpConfig:
        return HttpConfig(url=f"http://{config.host}:{config.port}", timeout=3)

    ctx = of.build_init_resource_context(config={"host": "h"})
    assert typed_http(ctx) == {"url": "http://h:80", "timeout": 3}
    with pytest.raises(ConfigError, match="field 'host'"):
        typed_http(of.build_init_resource_context(config={"port": 1}))


def test_configured_mapping_errors_name_the_function_and_the_resource() -> None:
    """A mapping that returns bad config, a two-parameter mapping, a Config annotation plus a
    schema, and configuring a non-definition are each explained."""

    @of.configured(http)
    def bad_http(_: Any) -> dict[str, Any]:
        return {"url": "x"}

    with pytest.raises(ConfigError) as info:
        bad_http(None)
    text = str(info.value)
    assert "the config mapping function 'bad_http' of resource 'http' returned invalid" in text
    assert "field 'timeout'" in text
    with pytest.raises(DefinitionError, match="takes exactly one parameter"):
        http.configured(lambda a, b: {})
    with pytest.raises(DefinitionError, match="drop config_schema"):
        of.configured(http, {"x": int})(_typed_mapping)

    class Api(of.ConfigurableResource):
        url: str

    with pytest.raises(DefinitionError) as info2:
        of.configured(Api(url="u"))  # type: ignore[arg-type]
    assert "configured() got Api, not a resource definition" in str(info2.value)
    assert "configure_at_launch" in str(info2.value)


def _typed_mapping(config: HostConfig) -> dict[str, Any]:
    return {}


def test_configured_chain_applies_every_mapping() -> None:
    """A configured definition can be configured again; both mappings apply, in order."""
    by_host = http.configured(lambda c: {"url": f"http://{c['host']}", "timeout": 1}, {"host": str})
    dev = by_host.configured({"host": "dev"})
    assert dev(None) == {"url": "http://dev", "timeout": 1}
    assert http.configured({"url": "u", "timeout": 1}, description="fixed").description == "fixed"


# -- ConfigurableResource APIs ------------------------------------------------------------------
# Dagster: dagster/_config/pythonic_config/resource.py (to_config_schema via Config,
# from_resource_context(_cm), process_config_and_initialize(_cm),
# with_replaced_resource_context) and dagster/_core/execution/context/init.py.


class Writer(of.ConfigurableResource):
    prefix: str
    width: int = 10

    def line(self, text: str) -> str:
        return f"{self.prefix}{text}"[: self.width]


def test_to_config_schema_with_from_resource_context() -> None:
    """Dagster's documented bridge: a ``@resource`` taking the class's config builds it."""

    @of.resource(config_schema=Writer.to_config_schema())
    def writer(context: of.InitResourceContext) -> Writer:
        return Writer.from_resource_context(context)

    built = writer(of.build_init_resource_context(config={"prefix": "> "}))
    assert isinstance(built, Writer)
    assert built.line("hi") == "> hi"
    with of.build_resources(
        {"w": writer}, resource_config={"w": {"config": {"prefix": "# ", "width": 3}}}
    ) as res:
        assert res.w.line("long") == "# l"
    with pytest.raises(ConfigError, match="field 'prefix'"):
        writer(None)


def test_to_config_schema_leaves_out_nested_resources() -> None:
    """Nested resource fields are not config: they come from ``context.resources``."""

    class Client(of.ConfigurableResource):
        writer: Writer
        name: str = "c"

    assert set(Client.to_config_schema()) == {"name"}


class Counter(of.ConfigurableResource):
    start: int = 0
    _value: int = PrivateAttr(default=-1)

    def setup_for_execution(self, context: of.InitResourceContext) -> None:
        self._value = self.start

    def value(self) -> int:
        return self._value


def test_process_config_and_initialize_runs_setup_and_resolves_env_vars(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """It returns a set-up copy with EnvVars resolved; the original is untouched."""
    original = Counter(start=of.EnvVar.int("OF_TEST_START"))
    monkeypatch.setenv("OF_TEST_START", "41")
    ready = original.process_config_and_initialize()
    assert ready.start == 41
    assert ready.value() == 41
    assert ready is not original
    assert isinstance(original.start, of.EnvVar)


def test_process_config_and_initialize_unset_env_var_names_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """An unset variable is a config error naming the class and variable."""
    monkeypatch.delenv("OF_TEST_UNSET", raising=False)
    with pytest.raises(ConfigError) as info:
        Writer(prefix=of.EnvVar("OF_TEST_UNSET")).process_config_and_initialize()
    text = str(info.value)
    assert "'Writer'" in text
    assert "OF_TEST_UNSET" in text


class Session(of.ConfigurableResource):
    name: str = "s"
    _events: list[str] = PrivateAttr(default_factory=list)

    def setup_for_execution(self, context: of.InitResourceContext) -> None:
        EVENTS.append("setup")

    def teardown_after_execution(self, context: of.InitResourceContext) -> None:
        EVENTS.append("teardown")


EVENTS: list[str] = []


def test_process_config_and_initialize_refuses_resources_needing_teardown() -> None:
    """Dagster requires the ``_cm`` form when there is teardown; the error says so."""
    EVENTS.clear()
    with pytest.raises(InvocationError) as info:
        Session().process_config_and_initialize()
    assert "Session needs teardown (of 'Session')" in str(info.value)
    assert "process_config_and_initialize_cm()" in str(info.value)
    assert EVENTS == []


def test_process_config_and_initialize_cm_tears_down_at_block_end() -> None:
    """The ``_cm`` form runs setup on entry and teardown when the block ends."""
    EVENTS.clear()
    with Session(name="x").process_config_and_initialize_cm() as session:
        assert session.name == "x"
        assert EVENTS == ["setup"]
    assert EVENTS == ["setup", "teardown"]


def test_process_config_and_initialize_cm_opens_nested_resources() -> None:
    """Nested resources are opened first and closed after the outer one."""
    EVENTS.clear()

    class Outer(of.ConfigurableResource):
        inner: Session

    with Outer(inner=Session(name="in")).process_config_and_initialize_cm() as outer:
        assert outer.inner.name == "in"
    assert EVENTS == ["setup", "teardown"]


def test_with_replaced_resource_context_binds_a_copy() -> None:
    """Dagster's ``with_replaced_resource_context`` returns a copy bound to the context."""
    ctx = of.build_init_resource_context(config={"a": 1})
    writer = Writer(prefix="p")
    bound = writer.with_replaced_resource_context(ctx)
    assert bound.get_resource_context() is ctx
    assert bound is not writer
    with pytest.raises(InvocationError, match="has no resource context"):
        writer.get_resource_context()
