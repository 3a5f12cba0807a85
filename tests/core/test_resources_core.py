"""Configurable resources, nesting, launch config and EnvVar, through the public API."""

from __future__ import annotations

import functools
from typing import Any

import pytest
from pydantic import PrivateAttr, SecretStr

import outfitter as of
from outfitter._resources.configurable import redacted_config
from outfitter._resources.scope import RunScope
from outfitter.exceptions import (
    ConfigError,
    DefinitionError,
    InvocationError,
    ResourceInitError,
    TeardownError,
)


class Credentials(of.ConfigurableResource):
    username: str
    password: str


class Bucket(of.ConfigurableResource):
    credentials: Credentials
    region: str


class Counter(of.ConfigurableResource):
    start: int = 0
    _value: int = PrivateAttr()

    def setup_for_execution(self, context: of.InitResourceContext) -> None:
        self._value = self.start

    def bump(self) -> int:
        self._value += 1
        return self._value


class Database(of.ConfigurableResource):
    table: str
    schema_name: str = "public"
    port: int = 5432


def test_assigning_a_field_points_to_private_attr() -> None:
    """Resources are frozen; the error names the field and PrivateAttr."""
    creds = Credentials(username="u", password="p")
    with pytest.raises(InvocationError, match="cannot assign config field 'username'") as info:
        creds.username = "x"
    assert "PrivateAttr" in str(info.value)


def test_private_state_lives_on_the_run_copy() -> None:
    """setup_for_execution state is per run; the definition is never mutated."""
    counter = Counter(start=10)
    with of.build_resources({"c": counter}) as first:
        assert first.c.bump() == 11
        assert first.c is not counter
    with of.build_resources({"c": counter}) as second:
        assert second.c.bump() == 11
    assert "_value" not in (counter.__pydantic_private__ or {})


def test_cached_property_works_and_is_not_carried_into_runs() -> None:
    """cached_property computes on the object and each run copy recomputes."""

    class Expensive(of.ConfigurableResource):
        n: int

        @functools.cached_property
        def square(self) -> int:
            return self.n * self.n

    defn = Expensive(n=3)
    assert defn.square == 9
    with of.build_resources({"e": defn}) as res:
        assert "square" not in res.e.__dict__
        assert res.e.square == 9


def test_subscripted_base_class_is_accepted() -> None:
    """ConfigurableResource[T] works as a base class."""

    class Typed(of.ConfigurableResource[dict]):  # type: ignore[type-arg]
        value: int = 1

    with of.build_resources({"t": Typed()}) as res:
        assert res.t.value == 1


def test_construction_reports_every_problem() -> None:
    """Wrong type, unknown field and missing field are listed together."""
    with pytest.raises(ConfigError) as info:
        Database(port="not-a-number", colour="red")  # type: ignore[call-arg]
    text = str(info.value)
    assert "invalid config for Database" in text
    for field in ("port", "colour", "table"):
        assert f"field '{field}'" in text
    assert len(info.value.problems) == 3


def test_nested_owned_resource_opens_before_and_closes_after_parent() -> None:
    """A fully configured nested resource is owned by its parent."""
    events: list[str] = []

    class Inner(of.ConfigurableResource):
        def setup_for_execution(self, context: Any) -> None:
            events.append("open inner")

        def teardown_after_execution(self, context: Any) -> None:
            events.append("close inner")

    class Outer(of.ConfigurableResource):
        inner: Inner

        def setup_for_execution(self, context: Any) -> None:
            assert self.inner is not None
            events.append("open outer")

        def teardown_after_execution(self, context: Any) -> None:
            events.append("close outer")

    with of.build_resources({"outer": Outer(inner=Inner())}) as res:
        assert isinstance(res.outer.inner, Inner)
    assert events == ["open inner", "open outer", "close outer", "close inner"]


def test_nested_resource_bound_at_top_level_is_shared() -> None:
    """The same object bound under a key is opened once and shared."""
    creds = Credentials(username="u", password="p")
    with RunScope({"creds": creds, "bucket": Bucket(credentials=creds, region="eu")}) as scope:
        bucket = scope.get("bucket")
        assert bucket.credentials is scope.get("creds")
        assert scope.opened == ("creds", "bucket")


def test_partial_nested_resource_gets_launch_config_through_its_key() -> None:
    """A configure_at_launch() nested resource bound top-level is configured and shared."""
    creds = Credentials.configure_at_launch()
    resources = {"credentials": creds, "bucket": Bucket(credentials=creds, region="eu")}
    launch = of.RunConfig(resources={"credentials": {"config": {"username": "a", "password": "b"}}})
    with of.build_resources(resources, resource_config=launch) as res:
        assert res.bucket.credentials.username == "a"
        assert res.bucket.credentials is res.credentials


def test_unbound_partial_nested_resource_is_a_definition_error() -> None:
    """A nested partial not bound at top level can never be configured."""
    bucket = Bucket(credentials=Credentials.configure_at_launch(), region="eu")
    with pytest.raises(DefinitionError, match=r"resource 'bucket', field 'credentials'"):
        RunScope({"bucket": bucket})


def test_optional_nested_resource_accepts_none() -> None:
    """Optional nested resources may be None."""

    class MaybeBucket(of.ConfigurableResource):
        credentials: Credentials | None = None

    with of.build_resources({"b": MaybeBucket()}) as res:
        assert res.b.credentials is None


def test_resource_dependency_holds_the_created_value() -> None:
    """A ResourceDependency[T] field receives what the nested factory creates."""

    class Conn:
        pass

    class ConnFactory(of.ConfigurableResourceFactory[Conn]):
        def create_resource(self, context: Any) -> Conn:
            return Conn()

    class Repo(of.ConfigurableResource):
        conn: of.ResourceDependency[Conn]

    with of.build_resources({"repo": Repo(conn=ConnFactory())}) as res:
        assert isinstance(res.repo.conn, Conn)


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


def test_env_var_refuses_to_be_used_as_text() -> None:
    """str(), f-strings, format, % and + raise a teaching ConfigError."""
    var = of.EnvVar("TOKEN")
    for use in (
        lambda: str(var),
        lambda: f"{var}",
        lambda: format(var, ""),
        lambda: "x" + var,
        lambda: var + "x",
        lambda: "%s" % var,  # noqa: UP031
    ):
        with pytest.raises(ConfigError, match="resolved"):
            use()
    assert repr(var) == "EnvVar('TOKEN')"
    assert var == "TOKEN"


def test_env_var_typed_variants_and_get_value(monkeypatch: pytest.MonkeyPatch) -> None:
    """int/float/bool variants convert; get_value reads now with a default."""
    monkeypatch.setenv("N", "7")
    monkeypatch.setenv("F", "0.5")
    monkeypatch.setenv("B", "yes")
    assert of.EnvVar.int("N").get_value() == 7
    assert of.EnvVar.float("F").get_value() == 0.5
    assert of.EnvVar.bool("B").get_value() is True
    assert of.EnvVar("OUTFITTER_TEST_UNSET").get_value("d") == "d"


def test_env_vars_resolve_at_open_everywhere(monkeypatch: pytest.MonkeyPatch) -> None:
    """EnvVars resolve in plain fields, typed fields, lists, dicts and nested resources."""

    class Complex(of.ConfigurableResource):
        port: int
        hosts: list[str]
        headers: dict[str, str]
        credentials: Credentials

    monkeypatch.setenv("PORT", "8080")
    monkeypatch.setenv("HOST", "h1")
    monkeypatch.setenv("AUTH", "Bearer x")
    monkeypatch.setenv("PW", "pw-value")
    defn = Complex(
        port=of.EnvVar.int("PORT"),
        hosts=[of.EnvVar("HOST"), "h2"],
        headers={"auth": of.EnvVar("AUTH")},
        credentials=Credentials(username="u", password=of.EnvVar("PW")),
    )
    with of.build_resources({"c": defn}) as res:
        assert res.c.port == 8080
        assert res.c.hosts == ["h1", "h2"]
        assert res.c.headers == {"auth": "Bearer x"}
        assert res.c.credentials.password == "pw-value"
        assert "pw-value" not in repr(res.c)
    monkeypatch.setenv("PORT", "9090")
    with of.build_resources({"c": defn}) as res:
        assert res.c.port == 9090


def test_unset_env_var_names_key_field_and_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    """An unset variable is a ConfigError naming resource key, field path and variable."""
    monkeypatch.delenv("BUCKET_PW", raising=False)
    bucket = Bucket(
        credentials=Credentials(username="u", password=of.EnvVar("BUCKET_PW")), region="eu"
    )
    with pytest.raises(ConfigError) as info, of.build_resources({"bucket": bucket}):
        pass
    assert (
        "resource 'bucket.credentials', field 'password': environment variable BUCKET_PW "
        "is not set" in str(info.value)
    )


def test_bad_typed_env_var_is_a_config_error(monkeypatch: pytest.MonkeyPatch) -> None:
    """A value that does not convert names the variable without showing the value."""
    monkeypatch.setenv("PORT", "secret-not-a-number")
    with (
        pytest.raises(ConfigError) as info,
        of.build_resources({"db": Database(table="t", port=of.EnvVar.int("PORT"))}),
    ):
        pass
    assert "environment variable PORT is not a valid int" in str(info.value)
    assert "secret-not-a-number" not in str(info.value)


def test_dotenv_file_is_read_and_real_environment_wins(
    tmp_path: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Variables missing from the environment come from .env; the environment wins."""
    (tmp_path / ".env").write_text("FROM_FILE=file-value\nBOTH=file\n")
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("OUTFITTER_ENV_FILE", raising=False)
    monkeypatch.delenv("FROM_FILE", raising=False)
    monkeypatch.setenv("BOTH", "env")
    creds = Credentials(username=of.EnvVar("FROM_FILE"), password=of.EnvVar("BOTH"))
    with of.build_resources({"c": creds}) as res:
        assert (res.c.username, res.c.password) == ("file-value", "env")


def test_unused_resource_env_vars_are_never_read(monkeypatch: pytest.MonkeyPatch) -> None:
    """Only requested resources open, so an unused resource's unset variable is fine."""
    monkeypatch.delenv("NEVER_SET", raising=False)
    resources = {"used": Database(table="t"), "unused": Database(table=of.EnvVar("NEVER_SET"))}
    with RunScope(resources) as scope:
        assert scope.get("used").table == "t"
        assert scope.opened == ("used",)


def test_secret_values_are_redacted_from_errors(monkeypatch: pytest.MonkeyPatch) -> None:
    """A resource error quoting a resolved secret shows *** instead."""
    monkeypatch.setenv("SECRET_PW", "hunter2-secret")

    class Leaky(of.ConfigurableResource):
        password: str

        def setup_for_execution(self, context: Any) -> None:
            raise RuntimeError(f"login failed for {self.password}")

    with (
        pytest.raises(ResourceInitError) as info,
        of.build_resources({"leaky": Leaky(password=of.EnvVar("SECRET_PW"))}),
    ):
        pass
    assert "hunter2-secret" not in str(info.value)
    assert "***" in str(info.value)

    class LeakyClose(of.ConfigurableResource):
        password: str

        def teardown_after_execution(self, context: Any) -> None:
            raise RuntimeError(f"logout failed for {self.password}")

    with (
        pytest.raises(TeardownError) as td,
        of.build_resources({"leaky": LeakyClose(password=of.EnvVar("SECRET_PW"))}),
    ):
        pass
    assert "hunter2-secret" not in str(td.value)


def test_redacted_config_shows_names_and_masks_secrets() -> None:
    """Recorded config keeps {"env": NAME} and masks SecretStr."""

    class WithSecret(of.ConfigurableResource):
        token: SecretStr
        user: str

    shown = redacted_config(WithSecret(token=SecretStr("s3cr3t"), user=of.EnvVar("USER_VAR")))
    assert shown == {"token": "**********", "user": {"env": "USER_VAR"}}


def test_resource_context_is_bound_on_run_copies() -> None:
    """get_resource_context works inside runs and via with_resource_context."""

    class Paths(of.ConfigurableResource):
        def run_id(self) -> str | None:
            return self.get_resource_context().run_id

    with RunScope({"p": Paths()}, run_id="run-1") as scope:
        assert scope.get("p").run_id() == "run-1"
    ctx = of.build_init_resource_context(run_id="run-2")
    assert Paths().with_resource_context(ctx).run_id() == "run-2"
    with pytest.raises(InvocationError, match="has no resource context"):
        Paths().run_id()
