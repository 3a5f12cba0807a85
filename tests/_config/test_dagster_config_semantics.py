"""Dagster's config semantics for op/asset ``Config`` and ``RunConfig`` (issue 14): EnvVars in
step config, typed EnvVars at construction, RunConfig's signature, Enum names, aliases, errors
that are pydantic's ``ValidationError`` too, frozen fields.

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
from outfitter._config.run_config import load_run_config_yaml
from outfitter.exceptions import ConfigError, DefinitionError, InvocationError

SECRET = "op-Secret-4b9d"


@pytest.fixture(autouse=True)
def _isolated_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No .env file; the variables these tests use start unset."""
    monkeypatch.setenv("OUTFITTER_ENV_FILE", str(tmp_path / "absent.env"))
    for name in list(os.environ):
        if name.startswith("OFT_DC_"):
            monkeypatch.delenv(name)


class Color(enum.Enum):
    RED = "red"
    BLUE = "blue"


class Inner(of.Config):
    token: str = "none"
    port: int = 0


class StepConfig(of.Config):
    name: str = of.EnvVar("OFT_DC_NAME")  # a class default EnvVar
    limit: int = 1
    inner: Inner = Inner()
    tags: list[str] = Field(default_factory=list)
    color: Color = Color.RED
    prefix_: str = Field("p", alias="prefix")


SEEN: dict[str, Any] = {}


@of.asset
def fetch(context: of.AssetExecutionContext, config: StepConfig) -> None:
    SEEN.clear()
    SEEN.update(
        name=config.name,
        limit=config.limit,
        token=config.inner.token,
        port=config.inner.port,
        tags=list(config.tags),
        color=config.color,
        prefix=config.prefix_,
        repr=repr(config),
    )
    context.log.info(f"token is {config.inner.token}")


# -- 1. EnvVars in step config are resolved when the run starts -------------------------------


def test_class_default_env_var_is_resolved_at_launch(monkeypatch: pytest.MonkeyPatch) -> None:
    """A Config class default EnvVar reaches the step as the value, never the name.
    Dagster: dagster/_config/pythonic_config/config.py keeps EnvVars in the model
    (ensure_env_vars_set_post_init) and the run resolves them (StringSource)."""
    monkeypatch.setenv("OFT_DC_NAME", "from-env")
    assert of.materialize([fetch]).success
    assert SEEN["name"] == "from-env"


def test_run_config_ops_env_vars_resolve_in_fields_nested_models_and_lists(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """RunConfig(ops={...: MyConfig(name=EnvVar(...))}): top-level, nested Config, list, and
    EnvVar.int for an int field (dagster/_config/field_utils.py: IntEnvVar is an int)."""
    for name, value in {
        "OFT_DC_NAME": "n1",
        "OFT_DC_TOKEN": SECRET,
        "OFT_DC_PORT": "5432",
        "OFT_DC_LIMIT": "9",
        "OFT_DC_TAG": "t1",
    }.items():
        monkeypatch.setenv(name, value)
    config = StepConfig(
        name=of.EnvVar("OFT_DC_NAME"),
        limit=of.EnvVar.int("OFT_DC_LIMIT"),
        inner=Inner(token=of.EnvVar("OFT_DC_TOKEN"), port=of.EnvVar.int("OFT_DC_PORT")),
        tags=["plain", of.EnvVar("OFT_DC_TAG")],
    )
    result = of.materialize([fetch], run_config=of.RunConfig(ops={"fetch": config}))
    assert result.success
    assert SEEN["name"] == "n1"
    assert SEEN["limit"] == 9
    assert SEEN["token"] == SECRET
    assert SEEN["port"] == 5432
    assert SEEN["tags"] == ["plain", "t1"]
    # the resolved config shows the EnvVars it was given, not the values
    assert "EnvVar('OFT_DC_TOKEN')" in SEEN["repr"]
    assert SECRET not in SEEN["repr"]
    # the step's log line quoting the value is masked in the events
    messages = [e.message for e in result.all_events]
    assert any("token is ***" in m for m in messages)
    assert not any(SECRET in m for m in messages)


def test_yaml_env_leaves_in_op_config_resolve(monkeypatch: pytest.MonkeyPatch) -> None:
    """{"env": NAME} in op config (YAML) is an EnvVar, as in resource config (Dagster's
    StringSource/IntSource accept {env: NAME} for every str/int config field)."""
    monkeypatch.setenv("OFT_DC_NAME", "yaml-name")
    monkeypatch.setenv("OFT_DC_LIMIT", "4")
    run_config = {
        "ops": {
            "fetch": {"config": {"name": {"env": "OFT_DC_NAME"}, "limit": {"env": "OFT_DC_LIMIT"}}}
        }
    }
    assert of.materialize([fetch], run_config=run_config).success
    assert (SEEN["name"], SEEN["limit"]) == ("yaml-name", 4)


def test_run_record_keeps_env_names_not_values(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """The recorded run config keeps {"env": NAME}; the value is in no record."""
    monkeypatch.setenv("OFT_DC_NAME", "n")
    monkeypatch.setenv("OFT_DC_TOKEN", SECRET)
    config = StepConfig(inner=Inner(token=of.EnvVar("OFT_DC_TOKEN")))
    with of.Instance.local(tmp_path / "home") as instance:
        result = of.materialize(
            [fetch], run_config=of.RunConfig(ops={"fetch": config}), instance=instance
        )
        [record] = instance.get_runs()
    assert result.success
    assert record.run_config["ops"]["fetch"]["config"]["inner"]["token"] == {"env": "OFT_DC_TOKEN"}
    assert SECRET not in str(record.run_config)
    raw = b"".join(f.read_bytes() for f in (tmp_path / "home").glob("runs.db*"))
    assert SECRET.encode() not in raw


def test_unset_variables_in_step_config_are_one_error_naming_step_field_and_variable() -> None:
    """Every unset variable of every step at once; nothing runs."""
    config = StepConfig(inner=Inner(token=of.EnvVar("OFT_DC_TOKEN")))
    with pytest.raises(ConfigError) as info:
        of.materialize([fetch], run_config=of.RunConfig(ops={"fetch": config}))
    text = str(info.value)
    assert "step 'fetch', config field 'name': environment variable OFT_DC_NAME is not set" in text
    assert (
        "step 'fetch', config field 'inner.token': environment variable OFT_DC_TOKEN is not set"
        in text
    )
    assert "Hint: set the variables in the environment" in text


def test_an_ill_typed_variable_names_the_field_without_its_value(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """EnvVar.int of a non-number: the error names the variable and field, not the value."""
    monkeypatch.setenv("OFT_DC_NAME", "n")
    monkeypatch.setenv("OFT_DC_LIMIT", SECRET)
    config = StepConfig(limit=of.EnvVar.int("OFT_DC_LIMIT"))
    with pytest.raises(ConfigError) as info:
        of.materialize([fetch], run_config=of.RunConfig(ops={"fetch": config}))
    assert "config field 'limit': environment variable OFT_DC_LIMIT is not a valid int" in str(
        info.value
    )
    assert SECRET not in str(info.value)


# -- 2. typed EnvVars -------------------------------------------------------------------------


class Typed(of.Config):
    n: int
    x: float = 0.0
    b: bool = False


def test_typed_env_vars_are_accepted_by_int_float_bool_fields_at_construction() -> None:
    """Dagster's IntEnvVar is an int, so pydantic accepts it; ours is kept until launch."""
    typed = Typed(n=of.EnvVar.int("A"), x=of.EnvVar.float("B"), b=of.EnvVar.bool("C"))
    assert repr(typed) == "Typed(n=EnvVar.int('A'), x=EnvVar.float('B'), b=EnvVar.bool('C'))"
    assert pickle.loads(pickle.dumps(typed)) == typed


@pytest.mark.parametrize("convert", [int, float])
def test_converting_an_unresolved_env_var_raises_the_deferred_error(convert: Any) -> None:
    """int(EnvVar.int(...)) raises; Dagster raises RuntimeError there
    (dagster/_config/field_utils.py, IntEnvVar.__int__), so ours is a RuntimeError too."""
    with pytest.raises(ConfigError) as info:
        convert(of.EnvVar.int("OFT_DC_PORT"))
    assert isinstance(info.value, RuntimeError)
    text = str(info.value)
    assert "EnvVar.int('OFT_DC_PORT') was used as a number" in text
    assert "its value is read when the run starts" in text
    assert "call .get_value() to read it now" in text


# -- 3. RunConfig's signature -----------------------------------------------------------------


def test_run_config_positional_order_is_dagster_s() -> None:
    """RunConfig(ops=None, resources=None, loggers=None, execution=None), as in
    dagster/_core/definitions/run_config.py: the first positional is op config."""
    rc = of.RunConfig({"fetch": StepConfig(limit=3)}, {"db": {"config": {"x": 1}}})
    assert set(rc.ops) == {"fetch"}
    assert set(rc.resources) == {"db"}
    assert of.RunConfig(resources={"db": {}}, ops={"a": {}}).ops == {"a": {}}


def test_run_config_loggers_are_not_supported_with_a_pointer() -> None:
    """An empty loggers= is accepted; loggers given is a ConfigError saying what to use."""
    of.RunConfig(loggers={})
    with pytest.raises(ConfigError, match="Outfitter has no configurable loggers"):
        of.RunConfig(loggers={"console": {"config": {"log_level": "DEBUG"}}})


# -- 4. Enum fields ---------------------------------------------------------------------------


def test_enum_fields_take_member_names_and_values() -> None:
    """Dagster's Config.__init__ turns a member *name* into the value
    (dagster/_config/pythonic_config/config.py); values stay accepted."""
    assert StepConfig(color="BLUE").color is Color.BLUE
    assert StepConfig(color="blue").color is Color.BLUE
    assert StepConfig.model_validate({"color": "BLUE"}).color is Color.BLUE


def test_enum_name_in_yaml_op_config(monkeypatch: pytest.MonkeyPatch) -> None:
    """`color: BLUE` in YAML run config (Dagster's Enum config type takes names)."""
    monkeypatch.setenv("OFT_DC_NAME", "n")
    run_config = load_run_config_yaml("ops: {fetch: {config: {color: BLUE}}}")
    assert of.materialize([fetch], run_config=run_config).success
    assert SEEN["color"] is Color.BLUE


def test_run_config_dict_writes_enum_names() -> None:
    """to_config_dict writes an Enum member by name, as Dagster's
    _config_value_to_dict_representation does."""
    rc = of.RunConfig(ops={"fetch": StepConfig(color=Color.BLUE, name="n")})
    assert rc.to_config_dict()["ops"]["fetch"]["config"]["color"] == "BLUE"


def test_an_unknown_enum_name_lists_the_names_and_values_without_the_value_given() -> None:
    """Dagster rejects a string that is no member name ("Value ... not in enum type Color",
    dagster/_config/errors.py create_enum_value_missing_error). Ours lists what is accepted,
    names first (what run config takes), and leaves out the value given: it may have come from
    an environment variable."""
    with pytest.raises(ConfigError) as info:
        of.materialize([fetch], run_config={"ops": {"fetch": {"config": {"color": "GREEN"}}}})
    text = str(info.value)
    assert (
        "step 'fetch', config field 'color': not a member of Color: give one of its names "
        "(RED, BLUE); its values ('red', 'blue') are accepted too"
    ) in text
    assert "GREEN" not in text
    assert "Value error" not in text


def test_the_scaffold_writes_an_enum_default_by_name() -> None:
    """A scaffold is run config to fill in: Enum defaults appear as names, as run config takes
    them (dagster/_config/pythonic_config/conversion_utils.py maps an Enum to its names)."""

    class Painted(of.Config):
        color: Color = Color.BLUE

    @of.asset
    def painted(config: Painted) -> str:
        return config.color.value

    scaffold = of.scaffold_run_config(of.Definitions(assets=[painted]))
    assert scaffold["ops"]["painted"]["config"] == {"color": "BLUE"}
    assert of.materialize([painted], run_config=scaffold).output_for_node("painted") == "blue"


# -- 5. aliases -------------------------------------------------------------------------------


def test_alias_is_the_config_key_and_the_field_name_works_too(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Dagster keys config by a field's alias (infer_schema_from_config_class uses
    `field.alias or key`); we accept the field name as well."""
    monkeypatch.setenv("OFT_DC_NAME", "n")
    assert StepConfig(prefix="a").prefix_ == "a"
    assert StepConfig(prefix_="b").prefix_ == "b"
    for key in ("prefix", "prefix_"):
        run_config = {"ops": {"fetch": {"config": {key: f"via-{key}"}}}}
        assert of.materialize([fetch], run_config=run_config).success
        assert SEEN["prefix"] == f"via-{key}"


# -- 7. errors and frozen fields --------------------------------------------------------------


def test_an_invalid_value_is_pydantic_s_validation_error_and_ours() -> None:
    """Dagster's Config is a pydantic model: pytest.raises(ValidationError) catches a bad
    value. Ours is also a ConfigError whose message names the class and field."""
    with pytest.raises(ValidationError) as info:
        StepConfig(limit="many")
    error = info.value
    assert isinstance(error, ConfigError)
    assert str(error).startswith("invalid config for StepConfig\n  - StepConfig, field 'limit':")
    assert error.errors()[0]["loc"] == ("limit",)
    assert error.errors()[0]["type"] == "int_parsing"
    again = pickle.loads(pickle.dumps(error))
    assert isinstance(again, ValidationError)
    assert str(again) == str(error)


def test_an_invalid_value_next_to_an_env_var_is_still_a_validation_error() -> None:
    """With an EnvVar kept for later, the other fields are still checked, every problem at
    once."""
    with pytest.raises(ValidationError) as info:
        StepConfig(name=of.EnvVar("OFT_DC_NAME"), limit="many", colour="red")
    text = str(info.value)
    assert "StepConfig, field 'limit': Input should be a valid integer" in text
    assert "StepConfig: unknown field 'colour'. Did you mean 'color'?" in text


def test_assigning_a_config_field_raises_our_invocation_error() -> None:
    """Dagster raises DagsterInvalidInvocationError ("is a Pythonic config class and does not
    support item assignment", dagster/_config/pythonic_config/config.py)."""
    config = StepConfig(name="n")
    with pytest.raises(InvocationError) as info:
        config.limit = 5
    assert "cannot assign config field 'limit' of StepConfig: config is frozen" in str(info.value)
    assert "model_copy(update={'limit': ...})" in str(info.value)


def test_a_config_field_of_a_type_config_cannot_give_is_refused_when_the_class_is_defined() -> None:
    """Dagster refuses a field whose type config cannot give when the class is defined
    (dagster/_config/pythonic_config/conversion_utils.py, ``infer_schema_from_config_class``
    raises DagsterInvalidPythonicConfigDefinitionError "Unable to resolve config type"); every
    such field is named at once, for Config classes and resources alike."""

    class Client:
        pass

    with pytest.raises(DefinitionError) as info:

        class Settings(of.Config):
            client: Client
            other: Client
            name: str

    text = str(info.value)
    assert "Config class Settings: 2 field(s) of a type config cannot give" in text
    assert "field 'client' has type" in text
    assert "field 'other' has type" in text
    assert "ResourceDependency[T]" in text

    with pytest.raises(DefinitionError, match="resource Holder: 1 field"):

        class Holder(of.ConfigurableResource):
            client: Client

    class Fine(of.ConfigurableResource):  # an object given in code: a resource dependency
        client: of.ResourceDependency[Client]
        name: str = "x"

    assert Fine(client=Client()).name == "x"
