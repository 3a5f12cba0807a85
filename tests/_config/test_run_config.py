"""RunConfig, launch-time resource config (configure_at_launch) and its validation."""

from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import outfitter as of
from outfitter._config.run_config import env_from_data, resource_launch_config
from outfitter._resources.scope import RunScope
from outfitter.exceptions import ConfigError, DefinitionError

EXAMPLE = "RunConfig(resources="


@pytest.fixture(autouse=True)
def _no_dotenv(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Point EnvVar lookups at an absent .env so a stray file cannot change results."""
    monkeypatch.setenv("OUTFITTER_ENV_FILE", str(tmp_path / "absent.env"))


class Database(of.ConfigurableResource):
    table: str
    schema_name: str = "public"
    port: int = 5432


class Other(of.ConfigurableResource):
    n: int


class Credentials(of.ConfigurableResource):
    username: str
    password: str


class Bucket(of.ConfigurableResource):
    credentials: Credentials
    region: str = "eu"


class FetchConfig(of.Config):
    limit: int = 10


# -- RunConfig and the dict form -----------------------------------------------------------------


def test_run_config_to_config_dict_uses_explicitly_set_fields() -> None:
    """to_config_dict keeps only the fields given to each resource instance, and ops config."""
    rc = of.RunConfig(
        resources={"db": Database(table="users"), "raw": {"config": {"table": "x"}}},
        ops={"fetch": FetchConfig(limit=3), "other": {"limit": 1}},
        execution={"in_process": {}},
    )
    assert rc.to_config_dict() == {
        "resources": {"db": {"config": {"table": "users"}}, "raw": {"config": {"table": "x"}}},
        "ops": {"fetch": {"config": {"limit": 3}}, "other": {"config": {"limit": 1}}},
        "execution": {"in_process": {}},
    }


def test_run_config_to_config_dict_keeps_env_vars() -> None:
    """EnvVars stay EnvVars in the dict form."""
    rc = of.RunConfig(resources={"c": Credentials(username="u", password=of.EnvVar("OFT_RC_PW"))})
    config = rc.to_config_dict()["resources"]["c"]["config"]
    assert isinstance(config["password"], of.EnvVar)
    assert config["password"].env_var_name == "OFT_RC_PW"


def test_empty_run_config() -> None:
    """An empty RunConfig has an empty dict form and a short repr."""
    rc = of.RunConfig()
    assert rc.to_config_dict() == {}
    assert rc.resources == {}
    assert rc.ops == {}
    assert rc.execution == {}
    assert repr(rc) == "RunConfig(resources=[], ops=[])"


def test_run_config_repr_lists_keys_not_values() -> None:
    """RunConfig's repr names keys only, so it never shows a config value."""
    rc = of.RunConfig(resources={"db": Database(table="secret-table")}, ops={"fetch": {}})
    assert repr(rc) == "RunConfig(resources=['db'], ops=['fetch'])"


def test_resource_launch_config_from_both_forms() -> None:
    """RunConfig and the dict form normalise to the same {key: {field: value}}."""
    from_obj = resource_launch_config(of.RunConfig(resources={"db": Database(table="t", port=1)}))
    from_dict = resource_launch_config({"resources": {"db": {"config": {"table": "t", "port": 1}}}})
    assert from_obj == from_dict == {"db": {"table": "t", "port": 1}}
    assert resource_launch_config(None) == {}
    assert resource_launch_config({}) == {}


def test_resource_launch_config_turns_env_leaves_into_env_vars() -> None:
    """{"env": NAME} leaves in dict-form config become EnvVars, at any depth."""
    launch = resource_launch_config(
        {"resources": {"a": {"config": {"x": {"env": "OFT_RC_X"}, "l": [{"env": "OFT_RC_Y"}]}}}}
    )
    assert repr(launch["a"]["x"]) == "EnvVar('OFT_RC_X')"
    assert repr(launch["a"]["l"][0]) == "EnvVar('OFT_RC_Y')"


def test_env_from_data_leaves_other_mappings_alone() -> None:
    """Only a mapping that is exactly {"env": <str>} becomes an EnvVar."""
    assert env_from_data({"env": "A", "other": 1}) == {"env": "A", "other": 1}
    assert env_from_data({"env": 3}) == {"env": 3}
    assert env_from_data([1, "x"]) == [1, "x"]


def test_resource_launch_config_rejects_extra_entries() -> None:
    """A resource entry with keys next to "config" is a ConfigError naming the key."""
    with pytest.raises(ConfigError) as info:
        resource_launch_config({"resources": {"db": {"config": {}, "cfg": {}}}})
    assert info.value.problems == ("resource 'db': unexpected entries ['cfg']",)
    assert "{'resources': {'key': {'config': {...}}}}" in str(info.value)


def test_resource_launch_config_rejects_other_types() -> None:
    """Run config that is neither a RunConfig nor a mapping is a ConfigError."""
    with pytest.raises(ConfigError, match="run config must be a RunConfig or a dict, got list"):
        resource_launch_config([("db", {})])  # type: ignore[arg-type]


# -- launch config applied -----------------------------------------------------------------------


def test_partial_with_run_config_instance() -> None:
    """RunConfig(resources={"k": Cls(...)}) completes a partial; defaults are kept."""
    partial = Database.configure_at_launch(schema_name="raw")
    rc = of.RunConfig(resources={"db": Database(table="users")})
    with of.build_resources({"db": partial}, resource_config=rc) as res:
        assert (res.db.table, res.db.schema_name, res.db.port) == ("users", "raw", 5432)


def test_partial_with_dict_form() -> None:
    """{"resources": {"k": {"config": {...}}}} completes a partial."""
    partial = Database.configure_at_launch(schema_name="raw")
    config = {"resources": {"db": {"config": {"table": "users", "port": 1}}}}
    with of.build_resources({"db": partial}, resource_config=config) as res:
        assert (res.db.table, res.db.schema_name, res.db.port) == ("users", "raw", 1)


def test_build_resources_accepts_short_dict_form() -> None:
    """build_resources also takes {"k": {"config": {...}}} without the "resources" level."""
    with of.build_resources(
        {"db": Database.configure_at_launch()}, resource_config={"db": {"config": {"table": "t"}}}
    ) as res:
        assert res.db.table == "t"


def test_launch_config_overrides_partial_defaults_per_field() -> None:
    """Launch values win over configure_at_launch defaults, field by field."""
    partial = Database.configure_at_launch(table="code", schema_name="raw")
    config = {"resources": {"db": {"config": {"schema_name": "launch"}}}}
    with of.build_resources({"db": partial}, resource_config=config) as res:
        assert (res.db.table, res.db.schema_name) == ("code", "launch")


def test_partial_with_all_defaults_needs_no_launch_config() -> None:
    """A partial whose required fields all have defaults opens without launch config."""
    with of.build_resources({"db": Database.configure_at_launch(table="t")}) as res:
        assert res.db.table == "t"


def test_launch_config_merges_over_fully_constructed_resource() -> None:
    """Launch config merges per field over a fully constructed resource's code values."""
    db = Database(table="code", port=1)
    with RunScope({"db": db}, {"resources": {"db": {"config": {"port": 2}}}}) as scope:
        opened = scope.get("db")
        assert (opened.table, opened.schema_name, opened.port) == ("code", "public", 2)
    assert db.port == 1


def test_run_config_instance_merges_only_its_set_fields() -> None:
    """A RunConfig instance overrides only the fields it was given explicitly."""
    db = Database(table="code", port=1)
    with RunScope({"db": db}, of.RunConfig(resources={"db": Database(table="launch")})) as scope:
        opened = scope.get("db")
        assert (opened.table, opened.port) == ("launch", 1)


def test_launch_config_is_coerced_by_field_type() -> None:
    """Launch values are validated and coerced like construction values."""
    config = {"resources": {"db": {"config": {"table": "t", "port": "6543"}}}}
    with of.build_resources({"db": Database.configure_at_launch()}, resource_config=config) as res:
        assert res.db.port == 6543


def test_launch_config_is_per_scope() -> None:
    """Two scopes of one binding with different launch config each see their own."""
    partial = Database.configure_at_launch()
    with (
        RunScope({"db": partial}, {"resources": {"db": {"config": {"table": "a"}}}}) as one,
        RunScope({"db": partial}, {"resources": {"db": {"config": {"table": "b"}}}}) as two,
    ):
        assert one.get("db").table == "a"
        assert two.get("db").table == "b"
    assert partial.defaults == {}


def test_launch_config_of_shared_nested_partial_reaches_parent() -> None:
    """A shared nested partial configured at launch is the same object seen by the parent."""
    creds = Credentials.configure_at_launch()
    bindings = {"bucket": Bucket(credentials=creds), "creds": creds}
    rc = of.RunConfig(resources={"creds": Credentials(username="u", password="p")})
    with RunScope(bindings, rc) as scope:
        bucket = scope.get("bucket")
        assert bucket.credentials is scope.get("creds")
        assert (bucket.credentials.username, bucket.credentials.password) == ("u", "p")


def test_launch_config_for_shared_nested_through_parent_is_refused() -> None:
    """Config for a shared nested resource given through its parent points to the shared key."""
    creds = Credentials.configure_at_launch(username="u", password="p")
    bindings = {"bucket": Bucket(credentials=creds), "creds": creds}
    config = {"resources": {"bucket": {"config": {"credentials": {"username": "x"}}}}}
    with pytest.raises(ConfigError) as info:
        RunScope(bindings, config)
    assert (
        "resource 'bucket', field 'credentials': the nested resource is shared; give its launch "
        "config under 'creds' instead" in info.value.problems
    )


def test_launch_config_for_owned_nested_resource_through_parent() -> None:
    """Launch config for an owned nested resource may be given under the parent's field."""
    bucket = Bucket(credentials=Credentials(username="u", password="code"))
    config = {"resources": {"bucket": {"config": {"credentials": {"password": "launch"}}}}}
    with RunScope({"bucket": bucket}, config) as scope:
        opened = scope.get("bucket")
        assert opened.credentials.password == "launch"
        assert opened.credentials.username == "u"


# -- launch config errors ------------------------------------------------------------------------


def test_missing_launch_config_names_key_fields_and_example() -> None:
    """A partial without its required launch config is one ConfigError with an example."""
    with pytest.raises(ConfigError) as info:
        RunScope({"db": Database.configure_at_launch()})
    err = info.value
    assert err.problems == ("resource 'db' needs launch config for: table",)
    text = str(err)
    assert EXAMPLE in text
    assert "RunConfig(resources={'db': Database(table=...)})" in text
    assert "{'resources': {'db': {'config': {'table': ...}}}}" in text


def test_every_launch_config_problem_is_listed_at_once() -> None:
    """Unknown field, missing field, wrong type, unknown key and unconfigured partial: one error."""
    bindings = {"db": Database.configure_at_launch(), "other": Other.configure_at_launch()}
    config = {
        "resources": {
            "db": {"config": {"tabel": "t", "port": "not-a-port"}},
            "dbb": {"config": {}},
        }
    }
    with pytest.raises(ConfigError) as info:
        RunScope(bindings, config)
    err = info.value
    assert err.summary == "5 problem(s) in the launch config"
    assert len(err.problems) == 5
    text = str(err)
    assert "resource 'db': unknown field 'tabel'. Did you mean 'table'?" in text
    assert "resource 'db', field 'table': required but not given" in text
    assert "resource 'db', field 'port': Input should be a valid integer" in text
    assert "launch config for resource 'dbb', which is not bound. Did you mean 'db'?" in text
    assert "resource 'other' needs launch config for: n" in text
    assert EXAMPLE in text


def test_unknown_resource_key_gets_did_you_mean() -> None:
    """Launch config for an unbound key suggests the closest bound key."""
    with pytest.raises(ConfigError) as info:
        RunScope({"warehouse": Database(table="t")}, of.RunConfig(resources={"warehous": {}}))
    assert info.value.problems == (
        "launch config for resource 'warehous', which is not bound. Did you mean 'warehouse'?",
    )


def test_ill_typed_launch_config_for_fully_constructed_resource() -> None:
    """Ill-typed launch config over a fully constructed resource is reported with key and field."""
    with pytest.raises(ConfigError) as info:
        RunScope({"db": Database(table="t")}, {"resources": {"db": {"config": {"port": []}}}})
    assert len(info.value.problems) == 1
    assert info.value.problems[0].startswith("resource 'db', field 'port': ")
    assert EXAMPLE in str(info.value)


def test_launch_config_must_be_a_mapping() -> None:
    """Launch config that is not a mapping of fields names the key and the type given."""
    with pytest.raises(ConfigError) as info:
        RunScope({"db": Database(table="t")}, {"resources": {"db": {"config": ["t"]}}})
    assert info.value.problems == (
        "launch config for resource 'db' must be a mapping of fields, got list",
    )


def test_plain_value_takes_no_launch_config() -> None:
    """A plain-object resource refuses launch config."""
    with pytest.raises(ConfigError, match="resource 'plain' \\(dict\\) takes no launch config"):
        RunScope({"plain": {"a": 1}}, {"resources": {"plain": {"config": {"a": 2}}}})


def test_missing_config_only_checked_for_requested_keys() -> None:
    """A scope limited to some keys does not demand launch config for the others."""
    bindings = {"db": Database.configure_at_launch(), "ok": Database(table="t")}
    with RunScope(bindings, keys=["ok"]) as scope:
        assert scope.get("ok").table == "t"


def test_configure_at_launch_with_bad_defaults_lists_every_problem() -> None:
    """Invalid configure_at_launch() defaults are refused at once, all listed."""
    with pytest.raises(ConfigError) as info:
        Database.configure_at_launch(port="x", nope=1)
    err = info.value
    assert err.summary == "invalid defaults for Database.configure_at_launch()"
    assert len(err.problems) == 2
    text = str(err)
    assert "Database.configure_at_launch(): unknown field 'nope'" in text
    assert "Database.configure_at_launch(), field 'port': Input should be a valid integer" in text
    assert "pass only fields the class declares" in text


def test_partial_repr_and_missing_fields() -> None:
    """A PartialResource shows its class and defaults, and knows what launch must supply."""
    partial = Database.configure_at_launch(schema_name="raw")
    assert isinstance(partial, of.PartialResource)
    assert repr(partial) == "PartialResource(Database, schema_name='raw')"
    assert partial.missing_fields == ("table",)
    assert partial.resource_cls is Database


def test_unbound_nested_partial_is_a_definition_error_even_with_launch_config() -> None:
    """A nested partial must be bound at top level; launch config cannot rescue it."""
    creds = Credentials.configure_at_launch()
    with pytest.raises(DefinitionError, match="resource 'bucket', field 'credentials'"):
        RunScope(
            {"bucket": Bucket(credentials=creds)},
            {"resources": {"bucket": {"config": {"region": "us"}}}},
        )


# -- property: launch config merges over code values ---------------------------------------------


class Wide(of.ConfigurableResource):
    i0: int = 0
    i1: int = 0
    i2: int = 0
    s0: str = ""
    s1: str = ""
    s2: str = ""


DEFAULTS: dict[str, Any] = {"i0": 0, "i1": 0, "i2": 0, "s0": "", "s1": "", "s2": ""}
_VALUE = {name: (st.integers() if name[0] == "i" else st.text(max_size=8)) for name in DEFAULTS}
CONFIG = st.fixed_dictionaries({}, optional=_VALUE)


@settings(max_examples=60, deadline=None)
@given(code=CONFIG, launch=CONFIG, partial=st.booleans())
def test_opened_resource_sees_code_values_overlaid_by_launch_config(
    code: dict[str, Any], launch: dict[str, Any], partial: bool
) -> None:
    """For any code and launch config, the opened resource sees {**code, **launch}."""
    bound: Any = Wide.configure_at_launch(**code) if partial else Wide(**code)
    config = {"resources": {"w": {"config": launch}}}
    with RunScope({"w": bound}, config) as scope:
        opened = scope.get("w")
        assert opened.model_dump() == {**DEFAULTS, **code, **launch}
    if not partial:
        assert bound.model_dump() == {**DEFAULTS, **code}


# -- launch config through build_resources -------------------------------------------------------


def test_launch_config_merges_per_field_over_code_values() -> None:
    """Launch config overrides single fields of fully constructed and partial resources."""
    resources = {"db": Database(table="a", port=1), "p": Database.configure_at_launch(port=2)}
    launch = {"resources": {"db": {"config": {"port": 9}}, "p": {"config": {"table": "t"}}}}
    with of.build_resources(resources, resource_config=launch) as res:
        assert (res.db.table, res.db.port) == ("a", 9)
        assert (res.p.table, res.p.port) == ("t", 2)


def test_launch_config_instance_form() -> None:
    """RunConfig(resources={key: Cls(...)}) uses the fields given to the instance."""
    launch = of.RunConfig(resources={"db": Database(table="users")})
    with of.build_resources({"db": Database.configure_at_launch()}, resource_config=launch) as r:
        assert r.db.table == "users"


def test_bad_launch_config_lists_every_problem_with_an_example() -> None:
    """Missing, unknown and ill-typed launch config are reported in one error."""
    resources = {"db": Database.configure_at_launch(), "other": Database(table="x")}
    launch = {
        "resources": {"other": {"config": {"port": "nope", "colr": 1}}, "dbb": {"config": {}}}
    }
    with pytest.raises(ConfigError) as info:
        RunScope(resources, launch)
    text = str(info.value)
    assert "resource 'db' needs launch config for: table" in text
    assert "unknown field 'colr'" in text
    assert "field 'port'" in text
    assert "'dbb', which is not bound. Did you mean 'db'?" in text
    assert "RunConfig(resources={'db': Database(table=...)})" in text
    assert len(info.value.problems) == 4
