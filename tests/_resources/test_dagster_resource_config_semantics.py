"""Dagster's config semantics for resources (issue 14): EnvVars inside nested Config fields,
lists and dicts; typed EnvVars; Enum names and ``context.resource_config``; aliases in launch
config; nested resources from dicts; construction errors that are pydantic's
``ValidationError`` too.

Each test cites the Dagster 1.13 source it was checked against (facts, not code).
"""

from __future__ import annotations

import enum
import os
import pickle
from pathlib import Path
from typing import Any

import pytest
from pydantic import Field, ValidationError

import outfitter as of
from outfitter._resources.configurable import redacted_config
from outfitter._resources.scope import RunScope
from outfitter.exceptions import ConfigError

SECRET = "res-Secret-9f3a"


@pytest.fixture(autouse=True)
def _isolated_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No .env file; the variables these tests use start unset."""
    monkeypatch.setenv("OUTFITTER_ENV_FILE", str(tmp_path / "absent.env"))
    for name in list(os.environ):
        if name.startswith("OFT_DR_"):
            monkeypatch.delenv(name)


class Color(enum.Enum):
    RED = "red"
    BLUE = "blue"


class Inner(of.Config):
    a_str: str = "a"
    port: int = 0


class Outer(of.ConfigurableResource):
    inner: Inner = Inner()
    inners: list[Inner] = Field(default_factory=list)
    headers: dict[str, str] = Field(default_factory=dict)
    color: Color = Color.RED
    prefix_: str = Field("p", alias="prefix")

    def setup_for_execution(self, context: of.InitResourceContext) -> None:
        SEEN["resource_config"] = context.resource_config


class Leaf(of.ConfigurableResource):
    name: str


class Holder(of.ConfigurableResource):
    leaf: Leaf
    maybe: of.ResourceDependency[Leaf] | None = None


SEEN: dict[str, Any] = {}


@pytest.fixture(autouse=True)
def _clear_seen() -> None:
    SEEN.clear()


# -- 1. EnvVars in nested config of a resource -------------------------------------------------


def test_env_var_in_a_nested_config_field_is_resolved(monkeypatch: pytest.MonkeyPatch) -> None:
    """Outer(inner=Inner(a_str=EnvVar("X"))): the run sees the value, as Dagster resolves
    nested Config fields (StringSource inside the nested Shape,
    dagster/_config/pythonic_config/conversion_utils.py)."""
    monkeypatch.setenv("OFT_DR_A", SECRET)
    monkeypatch.setenv("OFT_DR_PORT", "6543")
    monkeypatch.setenv("OFT_DR_H", "h-value")
    outer = Outer(
        inner=Inner(a_str=of.EnvVar("OFT_DR_A"), port=of.EnvVar.int("OFT_DR_PORT")),
        inners=[Inner(), Inner(a_str=of.EnvVar("OFT_DR_H"))],
        headers={"auth": of.EnvVar("OFT_DR_H")},
    )
    with RunScope({"outer": outer}) as scope:
        opened = scope.get("outer")
        assert opened.inner.a_str == SECRET
        assert opened.inner.port == 6543
        assert [i.a_str for i in opened.inners] == ["a", "h-value"]
        assert opened.headers == {"auth": "h-value"}
        shown = repr(opened)
        assert "EnvVar('OFT_DR_A')" in shown
        assert SECRET not in shown
        assert SECRET not in repr(opened.inner)
        assert scope.redact(f"value {SECRET}") == "value ***"
    # the definition itself is untouched, and shows names only
    assert outer.inner.a_str == of.EnvVar("OFT_DR_A")
    assert redacted_config(outer)["inner"] == {
        "a_str": {"env": "OFT_DR_A"},
        "port": {"env": "OFT_DR_PORT"},
    }


def test_env_var_in_nested_config_given_as_launch_config(monkeypatch: pytest.MonkeyPatch) -> None:
    """RunConfig(resources={"k": Outer(inner=Inner(a_str=EnvVar(...)))}) resolves too."""
    monkeypatch.setenv("OFT_DR_A", "launched")
    run_config = of.RunConfig(resources={"outer": Outer(inner=Inner(a_str=of.EnvVar("OFT_DR_A")))})
    with RunScope({"outer": Outer.configure_at_launch()}, run_config) as scope:
        assert scope.get("outer").inner.a_str == "launched"


def test_unset_variable_in_nested_config_names_key_and_field_path() -> None:
    """The error names the resource key, the field path inside the nested Config and the
    variable."""
    outer = Outer(inner=Inner(a_str=of.EnvVar("OFT_DR_MISSING")))
    with pytest.raises(ConfigError) as info, RunScope({"outer": outer}) as scope:
        scope.get("outer")
    assert (
        "resource 'outer', field 'inner.a_str': environment variable OFT_DR_MISSING is not set"
        in str(info.value)
    )


def test_ill_typed_variable_in_nested_config_does_not_quote_the_value(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A plain EnvVar resolved into an int field of a nested Config is validated at launch;
    the error names the field, never the value."""
    monkeypatch.setenv("OFT_DR_PORT", SECRET)
    outer = Outer(inner=Inner(port=of.EnvVar.int("OFT_DR_PORT")))
    with pytest.raises(ConfigError) as info, RunScope({"outer": outer}) as scope:
        scope.get("outer")
    assert "field 'inner.port': environment variable OFT_DR_PORT is not a valid int" in str(
        info.value
    )
    assert SECRET not in str(info.value)


def test_int_env_var_on_a_resource_int_field(monkeypatch: pytest.MonkeyPatch) -> None:
    """EnvVar.int for an int field of a ConfigurableResource: accepted, resolved at launch."""

    class Port(of.ConfigurableResource):
        port: int

    monkeypatch.setenv("OFT_DR_PORT", "8080")
    with RunScope({"p": Port(port=of.EnvVar.int("OFT_DR_PORT"))}) as scope:
        assert scope.get("p").port == 8080


# -- 4. Enum fields -----------------------------------------------------------------------------


def test_enum_name_in_yaml_launch_config_and_value_in_resource_config() -> None:
    """Dagster's schema for an Enum field is Enum.from_python_enum_direct_values
    (dagster/_config/pythonic_config/conversion_utils.py): names in config, the member's value
    in context.resource_config; the resource's field is the member."""
    run_config = {"resources": {"outer": {"config": {"color": "BLUE"}}}}
    with RunScope({"outer": Outer.configure_at_launch()}, run_config) as scope:
        assert scope.get("outer").color is Color.BLUE
    assert SEEN["resource_config"]["color"] == "blue"
    # a nested Config is a dict there, as Dagster's resource_config is plain config
    assert SEEN["resource_config"]["inner"] == {"a_str": "a", "port": 0}


def test_enum_names_and_values_in_code() -> None:
    """Dagster's Config.__init__ turns a member name into the value; values stay valid."""
    assert Outer(color="BLUE").color is Color.BLUE
    assert Outer(color="blue").color is Color.BLUE
    with pytest.raises(ValidationError, match="Outer, field 'color'"):
        Outer(color="GREEN")


# -- 5. aliases -------------------------------------------------------------------------------


@pytest.mark.parametrize("key", ["prefix", "prefix_"])
def test_alias_in_launch_config(key: str) -> None:
    """Dagster keys a field's config by its alias (infer_schema_from_config_class:
    `field.alias or key`); the field's name is accepted as well."""
    run_config = {"resources": {"outer": {"config": {key: "launched"}}}}
    with RunScope({"outer": Outer.configure_at_launch()}, run_config) as scope:
        assert scope.get("outer").prefix_ == "launched"
    assert Outer(prefix="code").prefix_ == "code"


def test_alias_next_to_an_env_var_and_in_configure_at_launch_defaults() -> None:
    """The alias works on every construction path: with an EnvVar kept for later, and as a
    configure_at_launch() default."""
    outer = Outer(prefix="code", inner=Inner(a_str=of.EnvVar("OFT_DR_A")))
    assert outer.prefix_ == "code"
    assert Outer.configure_at_launch(prefix="d").defaults == {"prefix_": "d"}


# -- 6. nested resources from dicts -----------------------------------------------------------


def test_model_validate_builds_nested_resources() -> None:
    """A dict for a nested resource field becomes that resource class, as pydantic does for
    Dagster's resources (they are pydantic models)."""
    holder = Holder.model_validate({"leaf": {"name": "x"}, "maybe": {"name": "y"}})
    assert isinstance(holder.leaf, Leaf)
    assert holder.leaf.name == "x"
    assert isinstance(holder.maybe, Leaf)
    assert isinstance(Holder(leaf={"name": "z"}).leaf, Leaf)
    with pytest.raises(ValidationError, match="Leaf, field 'name'"):
        Holder(leaf={"name": 5})


# -- 7. construction errors -------------------------------------------------------------------


def test_invalid_value_is_pydantic_s_validation_error_and_ours() -> None:
    """Dagster's resources are pydantic models, so a bad value raises pydantic's
    ValidationError (users write pytest.raises(ValidationError)); ours is also a ConfigError
    naming the class and field."""
    with pytest.raises(ValidationError) as info:
        Leaf(name=5)
    error = info.value
    assert isinstance(error, ConfigError)
    assert "invalid config for Leaf\n  - Leaf, field 'name': Input should be a valid string" in str(
        error
    )
    assert error.errors()[0]["loc"] == ("name",)
    again = pickle.loads(pickle.dumps(error))
    assert isinstance(again, ValidationError)
    assert again.problems == error.problems


def test_a_validation_error_with_an_unpicklable_input_still_pickles() -> None:
    """Errors cross to and from worker processes; an input that cannot be pickled is dropped
    from errors(), the message stays."""

    class Lockish(of.ConfigurableResource):
        port: int

    with pytest.raises(ValidationError) as info:
        Lockish(port=lambda: 1)
    again = pickle.loads(pickle.dumps(info.value))
    assert str(again) == str(info.value)
    assert again.errors()[0]["input"] is None


def test_invalid_value_next_to_an_env_var_is_a_validation_error() -> None:
    """The deferred path (an EnvVar kept for later) reports the same way."""
    with pytest.raises(ValidationError) as info:
        Outer(inner=Inner(a_str=of.EnvVar("OFT_DR_A")), color="GREEN", bogus=1)
    text = str(info.value)
    assert "Outer: unknown field 'bogus'." in text
    assert (
        "Outer, field 'color': not a member of Color: give one of its names (RED, BLUE); "
        "its values ('red', 'blue') are accepted too"
    ) in text
