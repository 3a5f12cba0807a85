"""``ResourceDefinition`` and ``@resource``: config schemas, required resource keys, hardcoded and
mock resources, scopes (``outfitter._resources.definition``)."""

import contextlib
from collections.abc import Iterator
from typing import Any
from unittest import mock
from unittest.mock import MagicMock

import pytest
from pydantic import BaseModel

import outfitter as of
from outfitter._resources.lifecycle import Shape
from outfitter._resources.markers import Scope
from outfitter._resources.scope import RunScope
from outfitter.exceptions import (
    ConfigError,
    DefinitionError,
    MissingResourceError,
)


def open_one(definition: Any, config: Any = None, key: str = "r") -> Any:
    """The value of ``definition`` opened under ``key`` with launch ``config`` (if any)."""
    launch = None if config is None else {key: {"config": config}}
    with of.build_resources({key: definition}, resource_config=launch) as res:
        return res[key]


# -- construction --------------------------------------------------------------------------------


def test_resource_decorator_bare_and_with_arguments_make_definitions() -> None:
    """``@resource`` and ``@resource(...)`` both return a ResourceDefinition named after the fn."""

    @of.resource
    def plain() -> int:
        """Gives one."""
        return 1

    @of.resource(description="explicit", scope="step")
    def configured() -> int:
        return 2

    assert isinstance(plain, of.ResourceDefinition)
    assert plain.name == "plain"
    assert plain.description == "Gives one."
    assert plain.scope is Scope.RUN
    assert plain.config_schema is None
    assert repr(plain) == "ResourceDefinition(plain)"
    assert configured.description == "explicit"
    assert configured.scope is Scope.STEP


def test_resource_definition_constructor_works_like_the_decorator() -> None:
    """ResourceDefinition(fn, ...) is the decorator's target and opens the same way."""
    definition = of.ResourceDefinition(lambda ctx: ctx.resource_config["n"] * 2, {"n": int})
    assert open_one(definition, {"n": 21}) == 42
    assert definition.lifecycle.shape is Shape.FUNCTION


def test_resource_definition_needs_a_callable() -> None:
    """Passing a non-callable points to hardcoded_resource."""
    with pytest.raises(DefinitionError) as info:
        of.ResourceDefinition(42)  # type: ignore[arg-type]
    assert "ResourceDefinition needs a function, got int" in str(info.value)
    assert "ResourceDefinition.hardcoded_resource(obj)" in str(info.value)


def test_resource_without_schema_gets_an_empty_config_and_takes_any_launch_config() -> None:
    """No schema: resource_config is {}, and any launch config reaches it as it is (Dagster's
    ``resource`` docstring, dagster/_core/definitions/resource_definition.py: "If not set,
    Dagster will accept any config provided for the resource")."""

    @of.resource
    def plain(context: of.InitResourceContext) -> Any:
        return context.resource_config

    assert open_one(plain) == {}
    assert open_one(plain, {"x": 1, "nested": {"y": [2]}}) == {"x": 1, "nested": {"y": [2]}}


# -- config schemas ------------------------------------------------------------------------------


@of.resource(config_schema={"host": str, "port": int})
def endpoint(context: of.InitResourceContext) -> str:
    cfg = context.resource_config
    return f"{cfg['host']}:{cfg['port']}"


class PoolConfig(BaseModel):
    size: int
    name: str = "pool"


@of.resource(config_schema=PoolConfig)
def pool(context: of.InitResourceContext) -> Any:
    return context.resource_config


@of.resource(config_schema=int)
def limit(context: of.InitResourceContext) -> Any:
    return context.resource_config


def test_dict_schema_validates_and_coerces_into_a_dict() -> None:
    """A ``{"field": type}`` schema gives a validated dict as resource_config."""
    assert open_one(endpoint, {"host": "db", "port": "5432"}) == "db:5432"
    assert endpoint.config_schema == {"host": str, "port": int}


def test_dict_schema_with_default_tuple_makes_field_optional() -> None:
    """A ``(type, default)`` tuple in a dict schema declares an optional field."""

    @of.resource(config_schema={"retries": (int, 3), "name": str})
    def client(context: of.InitResourceContext) -> Any:
        return context.resource_config

    assert open_one(client, {"name": "c"}) == {"retries": 3, "name": "c"}
    assert client.config.required == ("name",)


def test_pydantic_model_schema_gives_the_model_instance() -> None:
    """A pydantic model schema gives the validated model as resource_config."""
    value = open_one(pool, {"size": "4"})
    assert isinstance(value, PoolConfig)
    assert (value.size, value.name) == (4, "pool")
    assert pool.config_schema is PoolConfig


def test_single_type_schema_gives_the_validated_value() -> None:
    """A single-type schema validates the config value itself."""
    assert open_one(limit, "10") == 10
    assert limit.config.required == ("config",)


def test_optional_single_type_schema_needs_no_config() -> None:
    """A single type that accepts None needs no config."""

    @of.resource(config_schema=int | None)
    def maybe(context: of.InitResourceContext) -> Any:
        return context.resource_config

    assert maybe.config.required == ()
    with of.build_resources({"r": maybe}) as res:  # no config needed: opens without error
        assert "r" in res
    assert open_one(maybe, 3) == 3


def test_missing_required_dict_config_names_key_fields_and_gives_an_example() -> None:
    """Missing config: ConfigError naming the key, every required field, and a valid example."""
    with pytest.raises(ConfigError) as info:
        open_one(endpoint)
    text = str(info.value)
    assert info.value.problems == ("resource 'r' needs config for: host, port",)
    assert "{'resources': {'r': {'config': {'host': ..., 'port': ...}}}}" in text


def test_missing_required_model_config_gives_an_example() -> None:
    """With a pydantic model schema the example lists its required fields."""
    with pytest.raises(ConfigError) as info:
        open_one(pool)
    assert "resource 'r' needs config for: size" in str(info.value)
    assert "{'resources': {'r': {'config': {'size': ...}}}}" in str(info.value)


def test_missing_single_type_config_gives_an_example() -> None:
    """A single-type schema reports the missing value with a placeholder example."""
    with pytest.raises(ConfigError) as info:
        open_one(limit)
    assert "resource 'r' needs config for: config" in str(info.value)
    assert "{'resources': {'r': {'config': <value>}}}" in str(info.value)


def test_partially_given_config_names_the_missing_field_once() -> None:
    """Config with a field missing reports that field, not a second 'needs config' line."""
    with pytest.raises(ConfigError) as info:
        open_one(endpoint, {"host": "db"})
    assert info.value.problems == ("resource 'r', field 'port': Field required",)
    assert "{'resources': {'r': {'config': {'host': ..., 'port': ...}}}}" in str(info.value)


def test_ill_typed_config_names_key_and_field() -> None:
    """An ill-typed value names the resource key and the field path."""
    with pytest.raises(ConfigError) as info:
        open_one(endpoint, {"host": "db", "port": "not a port"})
    (problem,) = info.value.problems
    assert problem.startswith("resource 'r', field 'port': Input should be a valid integer")
    assert "1 problem(s) in the launch config" in str(info.value)


def test_ill_typed_single_value_config_is_reported() -> None:
    """A wrong single-type value is reported against the whole config."""
    with pytest.raises(ConfigError) as info:
        open_one(limit, "ten")
    assert info.value.problems[0].startswith("resource 'r', field '<config>': Input should be")


def test_every_config_problem_is_reported_at_once() -> None:
    """Problems in two resources' config come back in one error."""
    launch = {"a": {"config": {"host": 1}}, "b": {"config": {"size": "x"}}}
    with (
        pytest.raises(ConfigError) as info,
        of.build_resources({"a": endpoint, "b": pool}, resource_config=launch),
    ):
        pass
    text = "\n".join(info.value.problems)
    assert "resource 'a', field 'host'" in text
    assert "resource 'a', field 'port': Field required" in text
    assert "resource 'b', field 'size'" in text


def test_configured_sets_default_config_that_launch_config_overrides() -> None:
    """``configured(config)`` is used unless launch config is given; the original is unchanged."""
    local = endpoint.configured({"host": "localhost", "port": 1})
    assert local.default_config == {"host": "localhost", "port": 1}
    assert endpoint.default_config is None
    assert open_one(local) == "localhost:1"
    assert open_one(local, {"host": "remote", "port": 2}) == "remote:2"


def test_configured_with_invalid_default_config_fails_with_an_example() -> None:
    """An invalid ``configured`` config is a ConfigError with an example of valid config."""
    with pytest.raises(ConfigError) as info, of.build_resources({"e": endpoint.configured({})}):
        pass
    text = str(info.value)
    assert "invalid config for resource 'e'" in text
    assert "resource 'e', field 'host': Field required" in text
    assert "{'config': {'host': ..., 'port': ...}}" in text


# -- dependencies on other resources --------------------------------------------------------------


@of.resource(required_resource_keys={"db", "cache"})
def service(context: of.InitResourceContext) -> Any:
    return (context.resources.db, context.resources["cache"], sorted(context.resources))


def test_required_resource_keys_are_opened_first_and_visible_on_context() -> None:
    """required_resource_keys are opened before the resource and exposed on context.resources."""
    opened: list[str] = []

    @of.resource
    def db() -> Iterator[str]:
        opened.append("db")
        yield "DB"

    with of.build_resources({"svc": service, "db": db, "cache": "CACHE"}) as res:
        assert res.svc == ("DB", "CACHE", ["cache", "db"])
    assert opened == ["db"]
    assert service.required_resource_keys == frozenset({"db", "cache"})


def test_context_resources_hold_only_the_declared_keys() -> None:
    """A key bound but not declared is not visible; the error lists what is, with did-you-mean."""

    @of.resource(required_resource_keys={"db"})
    def client(context: of.InitResourceContext) -> Any:
        return context.resources.dbb

    with (
        pytest.raises(MissingResourceError) as info,
        of.build_resources({"client": client, "db": 1, "dbb_other": 2}),
    ):
        pass
    text = str(info.value)
    assert "resource 'client' has no resource 'dbb'; it has: 'db'." in text
    assert "Did you mean 'db'?" in text
    assert "declare the dependency" in text
    assert info.value.keys == ("dbb",)


def test_unbound_required_resource_key_is_a_definition_error_with_did_you_mean() -> None:
    """A required key nobody bound fails before anything opens, with a suggestion."""
    opened: list[str] = []

    @of.resource
    def cach() -> Iterator[int]:
        opened.append("cach")
        yield 1

    with pytest.raises(MissingResourceError) as info:
        of.build_resources({"svc": service, "db": 1, "cach": cach})
    text = str(info.value)
    assert "resource 'svc' needs resource 'cache', which is not bound. Did you mean 'cach'?" in text
    assert info.value.keys == ("cache",)
    assert opened == []


# -- hardcoded, mock and none resources ----------------------------------------------------------


def test_hardcoded_resource_is_always_the_same_object() -> None:
    """hardcoded_resource gives the very object, in every scope, with no lifecycle."""
    token = {"token": "abc"}
    definition = of.ResourceDefinition.hardcoded_resource(token, description="a token")
    assert open_one(definition) is token
    assert open_one(definition) is token
    assert definition.name == "hardcoded(dict)"
    assert definition.description == "a token"
    assert not definition.lifecycle.needs_exit
    assert repr(definition) == "ResourceDefinition(hardcoded(dict))"


def test_hardcoded_context_manager_is_not_entered() -> None:
    """A hardcoded context manager is bound as is, never entered."""
    cm = mock.MagicMock()
    assert open_one(of.ResourceDefinition.hardcoded_resource(cm)) is cm
    cm.__enter__.assert_not_called()


def test_mock_resource_is_a_fresh_magicmock_per_scope() -> None:
    """mock_resource gives a new MagicMock in every scope, the same one within a scope."""
    definition = of.ResourceDefinition.mock_resource(description="fake")
    with of.build_resources({"a": definition, "b": definition}) as res:
        first = res.a
        assert isinstance(first, mock.MagicMock)
        assert res.a is first
        assert res.b is not first
        first.query("x")
        first.query.assert_called_once_with("x")
    second = open_one(definition)
    assert isinstance(second, mock.MagicMock)
    assert second is not first
    second.query.assert_not_called()
    assert definition.name == "mock"
    assert definition.description == "fake"


def test_none_resource_is_none() -> None:
    """none_resource binds a placeholder key to None."""
    assert open_one(of.ResourceDefinition.none_resource()) is None


# -- scopes --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("run", Scope.RUN),
        ("step", Scope.STEP),
        ("PROCESS", Scope.PROCESS),
        (Scope.STEP, Scope.STEP),
    ],
)
def test_scope_argument_accepts_names_and_enum(given: Any, expected: Scope) -> None:
    """scope= takes 'run', 'step', 'process' (any case) or a Scope."""

    @of.resource(scope=given)
    def r() -> int:
        return 1

    assert r.scope is expected
    assert r.configured(None).scope is expected


def test_invalid_scope_string_is_a_definition_error() -> None:
    """An unknown scope name is rejected, naming the resource and the valid scopes."""
    with pytest.raises(DefinitionError) as info:

        @of.resource(scope="request")
        def r() -> int:
            return 1

    text = str(info.value)
    assert "resource 'r': unknown scope 'request'" in text
    assert "use one of 'run' (default), 'step' or 'process'" in text


def test_run_scoped_resource_cannot_need_a_step_scoped_one() -> None:
    """A longer-lived resource depending on a shorter-lived one is a definition error."""

    @of.resource(scope="step")
    def tx() -> int:
        return 1

    @of.resource(required_resource_keys={"tx"})
    def repo(context: of.InitResourceContext) -> int:
        return 2

    with pytest.raises(DefinitionError) as info:
        of.build_resources({"tx": tx, "repo": repo})
    text = str(info.value)
    assert "resource 'repo' (scope run) depends on 'tx' (scope step)" in text


def test_step_scoped_resource_opens_fresh_in_each_step_scope() -> None:
    """A step-scoped resource is opened and closed in every step scope, run ones are shared."""
    events: list[str] = []
    counter = iter(range(100))

    @of.resource(scope="step")
    @contextlib.contextmanager
    def tx() -> Iterator[int]:
        n = next(counter)
        events.append(f"open {n}")
        yield n
        events.append(f"close {n}")

    with RunScope({"tx": tx}) as run_scope:
        for _ in range(2):
            with run_scope.step_scope() as step:
                step.get("tx")
    assert events == ["open 0", "close 0", "open 1", "close 1"]


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
