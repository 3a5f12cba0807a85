"""ConfigurableResource, ConfigurableResourceFactory, nesting, copy-on-init, the resource context
and secret redaction."""

import functools
from collections.abc import Iterator
from typing import Any, Optional

import pytest
from pydantic import Field, PrivateAttr, SecretStr

import outfitter as of
from outfitter._resources.configurable import class_info, fresh_copy, redacted_config
from outfitter._resources.markers import Scope
from outfitter._resources.scope import RunScope
from outfitter.exceptions import (
    ConfigError,
    DefinitionError,
    InvocationError,
    OutfitterError,
    ResourceInitError,
    TeardownError,
)

SECRET = "s3cr3t-Value-9f27"


@pytest.fixture(autouse=True)
def _no_dotenv(monkeypatch: pytest.MonkeyPatch, tmp_path: Any) -> None:
    """Point EnvVar lookups at an absent .env so a stray file cannot change results."""
    monkeypatch.setenv("OUTFITTER_ENV_FILE", str(tmp_path / "absent.env"))


# -- classes under test --------------------------------------------------------------------------


class Database(of.ConfigurableResource):
    table: str
    schema_name: str = "public"
    port: int = 5432


class Counter(of.ConfigurableResource):
    start: int = 0
    _value: int = PrivateAttr()
    _seen: list[int] = PrivateAttr(default_factory=list)

    def setup_for_execution(self, context: of.InitResourceContext) -> None:
        self._value = self.start

    def bump(self) -> int:
        self._value += 1
        self._seen.append(self._value)
        return self._value


class Expensive(of.ConfigurableResource):
    n: int

    @functools.cached_property
    def token(self) -> object:
        return object()


EVENTS: list[tuple[str, str]] = []


class Inner(of.ConfigurableResource):
    name: str = "inner"

    def setup_for_execution(self, context: of.InitResourceContext) -> None:
        EVENTS.append(("open", str(context.resource_key)))

    def teardown_after_execution(self, context: of.InitResourceContext) -> None:
        EVENTS.append(("close", str(context.resource_key)))


class Outer(of.ConfigurableResource):
    inner: Inner
    label: str = "outer"

    def setup_for_execution(self, context: of.InitResourceContext) -> None:
        EVENTS.append(("open", str(context.resource_key)))

    def teardown_after_execution(self, context: of.InitResourceContext) -> None:
        EVENTS.append(("close", str(context.resource_key)))


class Credentials(of.ConfigurableResource):
    username: str
    password: str


class Bucket(of.ConfigurableResource):
    credentials: Credentials
    region: str = "eu"


class MaybeInner(of.ConfigurableResource):
    inner: Optional[Inner] = None  # noqa: UP045 - the Optional spelling is what is under test


class MaybeInnerPipe(of.ConfigurableResource):
    inner: Inner | None = None


class Client:
    def __init__(self, url: str) -> None:
        self.url = url
        self.closed = False


class ClientFactory(of.ConfigurableResourceFactory[Client]):
    url: str

    def create_resource(self, context: of.InitResourceContext) -> Client:
        return Client(self.url)


class GeneratorClientFactory(of.ConfigurableResourceFactory[Client]):
    url: str

    def create_resource(self, context: of.InitResourceContext) -> Iterator[Client]:  # type: ignore[override]
        client = Client(self.url)
        EVENTS.append(("open", client.url))
        yield client
        client.closed = True
        EVENTS.append(("close", client.url))


class ClientUser(of.ConfigurableResource):
    client: of.ResourceDependency[Client]


class StepScoped(of.ConfigurableResource, scope="step"):
    n: int = 0


class HoldsStepScoped(of.ConfigurableResource):
    inner: StepScoped


class ContextReader(of.ConfigurableResource):
    def key_and_run(self) -> tuple[str | None, str | None]:
        ctx = self.get_resource_context()
        return ctx.resource_key, ctx.run_id


@pytest.fixture(autouse=True)
def _clear_events() -> Iterator[None]:
    """Start every test with an empty event log."""
    EVENTS.clear()
    yield
    EVENTS.clear()


# -- frozen config -------------------------------------------------------------------------------


def test_assigning_a_config_field_raises_and_points_to_private_attr() -> None:
    """Assigning a field raises InvocationError naming the field, the class and PrivateAttr."""
    db = Database(table="t")
    with pytest.raises(InvocationError) as info:
        db.table = "other"
    text = str(info.value)
    assert "cannot assign config field 'table' of Database" in text
    assert "PrivateAttr" in text
    assert "_table" in text
    assert db.table == "t"


def test_assigning_an_unknown_attribute_also_raises() -> None:
    """A new public attribute is refused too, with the same PrivateAttr hint."""
    db = Database(table="t")
    with pytest.raises(
        InvocationError, match="cannot assign attribute 'cache' of Database"
    ) as info:
        db.cache = {}
    assert "PrivateAttr" in str(info.value)


def test_run_copy_is_frozen_too() -> None:
    """The copy a run receives refuses field assignment just like the definition."""
    with (
        of.build_resources({"db": Database(table="t")}) as res,
        pytest.raises(InvocationError, match="'port'"),
    ):
        res.db.port = 1


def test_private_attr_state_lives_on_the_run_copy() -> None:
    """setup_for_execution state is set on the run copy; the definition is never mutated."""
    counter = Counter(start=10)
    before_dict = dict(counter.__dict__)
    before_private = dict(counter.__pydantic_private__ or {})
    with of.build_resources({"c": counter}) as res:
        assert res.c is not counter
        assert res.c.bump() == 11
        assert res.c.bump() == 12
    assert counter.__dict__ == before_dict
    assert dict(counter.__pydantic_private__ or {}) == before_private
    with pytest.raises(AttributeError):
        _ = counter._value


def test_two_scopes_get_different_copies_with_fresh_private_state() -> None:
    """Two open scopes of one definition each hold their own copy and their own private state."""
    counter = Counter(start=0)
    with RunScope({"c": counter}) as one, RunScope({"c": counter}) as two:
        a, b = one.get("c"), two.get("c")
        assert a is not b
        assert a is not counter
        assert b is not counter
        a.bump()
        a.bump()
        assert b.bump() == 1
        assert a._seen == [1, 2]
        assert b._seen == [1]
        assert a._seen is not b._seen


def test_same_scope_returns_the_same_copy() -> None:
    """Within one scope a key is opened once and the same copy is returned each time."""
    with RunScope({"c": Counter()}) as scope:
        assert scope.get("c") is scope.get("c")
        assert scope.opened == ("c",)


def test_cached_property_works_on_definition_and_is_not_carried_into_run_copies() -> None:
    """A cached_property is cached on the definition; each run copy computes its own."""
    defn = Expensive(n=3)
    first = defn.token
    assert defn.token is first
    with of.build_resources({"e": defn}) as res:
        assert "token" not in res.e.__dict__
        assert res.e.token is not first
        assert res.e.token is res.e.token
    assert defn.token is first


def test_fresh_copy_drops_cached_properties_and_applies_updates() -> None:
    """fresh_copy keeps field values, applies updates, and resets private and cached state."""
    defn = Expensive(n=3)
    _ = defn.token
    copy = fresh_copy(defn, {"n": 4})
    assert copy is not defn
    assert copy.n == 4
    assert defn.n == 3
    assert "token" not in copy.__dict__


def test_subscripted_configurable_resource_as_base_class() -> None:
    """ConfigurableResource[SomeType] is accepted as a base class and runs normally."""

    class Typed(of.ConfigurableResource[Client]):
        value: int = 1

    assert issubclass(Typed, of.ConfigurableResource)
    with of.build_resources({"t": Typed(value=2)}) as res:
        assert isinstance(res.t, Typed)
        assert res.t.value == 2


def test_construction_never_opens_anything() -> None:
    """Constructing a resource (even nested) runs no lifecycle hook."""
    Outer(inner=Inner())
    GeneratorClientFactory(url="x")
    assert EVENTS == []


# -- construction errors -------------------------------------------------------------------------


def test_construction_lists_wrong_type_unknown_and_missing_fields_at_once() -> None:
    """Wrong type, unknown and missing fields are reported together, naming class and fields."""
    with pytest.raises(ConfigError) as info:
        Database(port="not-a-number", colour="red")  # type: ignore[call-arg]
    err = info.value
    text = str(err)
    assert err.summary == "invalid config for Database"
    assert len(err.problems) == 3
    assert "Database, field 'port'" in text
    assert "Database, field 'colour'" in text
    assert "Database, field 'table'" in text
    assert "valid integer" in text
    assert "EnvVar('NAME')" in err.hint  # type: ignore[operator]
    assert "configure_at_launch()" in err.hint  # type: ignore[operator]


def test_construction_with_an_env_var_still_lists_every_other_problem() -> None:
    """When some value is deferred (EnvVar), the rest are still checked and listed together."""
    with pytest.raises(ConfigError) as info:
        Database(table=of.EnvVar("OFT_CFG_TABLE"), port="x", colour="red")  # type: ignore[call-arg]
    problems = info.value.problems
    assert len(problems) == 2
    assert any("unknown field 'colour'" in p for p in problems)
    assert any("field 'port'" in p and "valid integer" in p for p in problems)
    assert "OFT_CFG_TABLE" not in str(info.value)


def test_construction_with_an_env_var_reports_missing_required_field() -> None:
    """A missing required field is reported even when another field is deferred."""
    with pytest.raises(ConfigError) as info:
        Credentials(password=of.EnvVar("OFT_CFG_PW"))  # type: ignore[call-arg]
    assert info.value.problems == ("Credentials, field 'username': required but not given",)


def test_unknown_field_gets_a_did_you_mean_when_deferred() -> None:
    """An unknown field next to an EnvVar gets a did-you-mean suggestion."""
    with pytest.raises(ConfigError, match=r"unknown field 'tabel'.*Did you mean 'table'"):
        Database(tabel=of.EnvVar("OFT_CFG_T"))  # type: ignore[call-arg]


def test_construction_coerces_values_like_pydantic() -> None:
    """Valid values are coerced (lax mode) and kept; defaults are filled."""
    db = Database(table="t", port="15")  # type: ignore[arg-type]
    assert db.port == 15
    assert db.schema_name == "public"


def test_env_var_field_keeps_the_env_var_until_a_run() -> None:
    """A field holding an EnvVar keeps the EnvVar on the definition object."""
    creds = Credentials(username="u", password=of.EnvVar("OFT_CFG_PW"))
    assert isinstance(creds.password, of.EnvVar)
    assert repr(creds.password) == "EnvVar('OFT_CFG_PW')"


# -- context -------------------------------------------------------------------------------------


def test_get_resource_context_outside_a_run_raises_with_hint() -> None:
    """Without a run or with_resource_context, get_resource_context raises InvocationError."""
    with pytest.raises(InvocationError) as info:
        ContextReader().get_resource_context()
    text = str(info.value)
    assert "ContextReader has no resource context" in text
    assert "with_resource_context(build_init_resource_context" in text


def test_with_resource_context_binds_a_copy() -> None:
    """with_resource_context returns a bound copy and leaves the original unbound."""
    original = ContextReader()
    ctx = of.build_init_resource_context(run_id="r-1")
    bound = original.with_resource_context(ctx)
    assert bound is not original
    assert bound.get_resource_context() is ctx
    assert bound.key_and_run() == (None, "r-1")
    with pytest.raises(InvocationError):
        original.get_resource_context()


def test_run_copy_has_its_init_context_bound() -> None:
    """In a run the copy's context names its key and the scope's run id."""
    with RunScope({"reader": ContextReader()}, run_id="run-42") as scope:
        assert scope.get("reader").key_and_run() == ("reader", "run-42")


def test_init_context_resource_config_holds_resolved_config(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The init context's resource_config is the resolved config of the copy."""
    monkeypatch.setenv("OFT_CFG_TABLE", "users")
    seen: dict[str, Any] = {}

    class Recording(of.ConfigurableResource):
        table: str
        port: int = 1

        def setup_for_execution(self, context: of.InitResourceContext) -> None:
            seen.update(context.resource_config)

    with of.build_resources({"r": Recording(table=of.EnvVar("OFT_CFG_TABLE"))}):
        pass
    assert seen == {"table": "users", "port": 1}


# -- scope class keyword -------------------------------------------------------------------------


def test_scope_class_keyword_sets_step_scope() -> None:
    """`scope="step"` makes the resource fresh in every step scope."""
    assert class_info(StepScoped).scope is Scope.STEP
    assert class_info(Database).scope is Scope.RUN
    with RunScope({"tx": StepScoped()}) as run:
        with run.step_scope() as step:
            first = step.get("tx")
        with run.step_scope() as step:
            second = step.get("tx")
        assert first is not second
        assert run.opened == ()


def test_unknown_scope_keyword_is_a_definition_error() -> None:
    """An unknown scope name is refused where the class is written."""
    with pytest.raises(DefinitionError) as info:

        class Bad(of.ConfigurableResource, scope="forever"):  # type: ignore[call-arg]
            pass

    text = str(info.value)
    assert "Bad: unknown scope 'forever'" in text
    for name in ("'run'", "'step'", "'process'"):
        assert name in text


def test_run_scoped_parent_cannot_own_a_step_scoped_nested_resource() -> None:
    """A longer-lived parent holding a step-scoped nested resource is a definition error."""
    with pytest.raises(DefinitionError) as info:
        RunScope({"h": HoldsStepScoped(inner=StepScoped())})
    text = str(info.value)
    assert "resource 'h' (scope run) depends on 'h.inner' (scope step)" in text


# -- nested resources ----------------------------------------------------------------------------


def test_nested_fully_configured_resource_is_owned() -> None:
    """An owned nested resource opens before its parent, closes after it, and is visible."""
    with of.build_resources({"outer": Outer(inner=Inner(name="z"))}) as res:
        assert list(res) == ["outer"]
        assert isinstance(res.outer.inner, Inner)
        assert res.outer.inner.name == "z"
    assert EVENTS == [
        ("open", "outer.inner"),
        ("open", "outer"),
        ("close", "outer"),
        ("close", "outer.inner"),
    ]


def test_nested_owned_resource_is_a_run_copy() -> None:
    """The parent's run copy holds the nested run copy, not the definition object."""
    inner = Inner(name="z")
    outer = Outer(inner=inner)
    with RunScope({"outer": outer}) as scope:
        copy = scope.get("outer")
        assert copy.inner is not inner
        assert copy.inner is scope.get("outer.inner")
    assert outer.inner is inner


def test_nested_resource_bound_top_level_is_shared_and_opened_once() -> None:
    """A nested resource also bound at top level (same object) is shared, opened once."""
    inner = Inner(name="shared")
    bindings = {"a": Outer(inner=inner), "b": Outer(inner=inner), "inner": inner}
    with of.build_resources(bindings) as res:
        assert res.a.inner is res.inner
        assert res.b.inner is res.inner
    assert EVENTS.count(("open", "inner")) == 1
    assert EVENTS.count(("close", "inner")) == 1
    assert EVENTS[0] == ("open", "inner")
    assert EVENTS[-1] == ("close", "inner")
    assert not any(key.startswith(("a.", "b.")) for _, key in EVENTS)


def test_equal_but_distinct_nested_object_is_owned_not_shared() -> None:
    """Sharing is by identity: an equal but distinct nested object is owned by the parent."""
    with of.build_resources({"o": Outer(inner=Inner(name="x")), "inner": Inner(name="x")}) as res:
        assert res.o.inner is not res.inner
    assert ("open", "o.inner") in EVENTS


def test_nested_partial_bound_top_level_gets_launch_config_and_is_shared() -> None:
    """A nested configure_at_launch() partial bound at top level gets its launch config, shared."""
    creds = Credentials.configure_at_launch(username="svc")
    bindings = {"bucket": Bucket(credentials=creds), "creds": creds}
    config = {"resources": {"creds": {"config": {"password": "pw"}}}}
    with of.build_resources(bindings, resource_config=config) as res:
        assert res.bucket.credentials is res.creds
        assert res.creds.username == "svc"
        assert res.creds.password == "pw"


def test_nested_partial_not_bound_top_level_is_a_definition_error() -> None:
    """A nested partial that is not bound at top level names the parent key and the field."""
    creds = Credentials.configure_at_launch()
    with pytest.raises(DefinitionError) as info:
        of.build_resources({"bucket": Bucket(credentials=creds)})
    text = str(info.value)
    assert "resource 'bucket', field 'credentials'" in text
    assert "Credentials.configure_at_launch() is not bound at top level" in text
    assert "Hint:" in text


def test_optional_nested_resource_accepts_none() -> None:
    """`Optional[Nested] = None` (both spellings) accepts None and the run sees None."""
    with of.build_resources(
        {
            "a": MaybeInner(),
            "b": MaybeInner(inner=None),
            "c": MaybeInnerPipe(inner=None),
            "d": MaybeInner(inner=Inner(name="set")),
        }
    ) as res:
        assert res.a.inner is None
        assert res.b.inner is None
        assert res.c.inner is None
        assert res.d.inner.name == "set"
    assert ("open", "d.inner") in EVENTS


def test_optional_nested_field_is_detected_as_nested() -> None:
    """Optional nested fields are nested resources, not config fields."""
    info = class_info(MaybeInner)
    assert "inner" in info.nested
    assert info.nested["inner"].optional
    assert "inner" not in info.config_fields


def test_resource_dependency_field_gets_the_factory_created_value() -> None:
    """A ResourceDependency[T] field holding a factory receives the object it creates."""
    with of.build_resources({"user": ClientUser(client=ClientFactory(url="http://h"))}) as res:
        assert isinstance(res.user.client, Client)
        assert res.user.client.url == "http://h"


def test_resource_dependency_field_shared_with_top_level_factory() -> None:
    """A factory bound at top level and nested is created once and shared."""
    factory = GeneratorClientFactory(url="shared")
    with of.build_resources({"client": factory, "user": ClientUser(client=factory)}) as res:
        assert res.user.client is res.client
    assert EVENTS == [("open", "shared"), ("close", "shared")]


def test_resource_dependency_field_accepts_a_plain_value() -> None:
    """A ResourceDependency[T] field may hold a plain object, passed through as is."""
    client = Client("plain")
    with of.build_resources({"user": ClientUser(client=client)}) as res:
        assert res.user.client is client


# -- factories -----------------------------------------------------------------------------------


def test_factory_run_value_is_what_create_resource_returns() -> None:
    """A ConfigurableResourceFactory's run value is the created object."""
    with of.build_resources({"client": ClientFactory(url="u")}) as res:
        assert isinstance(res.client, Client)
        assert res.client.url == "u"


def test_generator_factory_cleanup_runs_at_close() -> None:
    """Code after `yield` in create_resource runs when the scope closes."""
    with of.build_resources({"client": GeneratorClientFactory(url="g")}) as res:
        client = res.client
        assert not client.closed
        assert EVENTS == [("open", "g")]
    assert client.closed
    assert EVENTS == [("open", "g"), ("close", "g")]


def test_generator_factory_cleanup_runs_when_the_block_raises() -> None:
    """Cleanup after `yield` also runs when the with block raises."""
    with (
        pytest.raises(RuntimeError, match="boom"),
        of.build_resources({"client": GeneratorClientFactory(url="g")}),
    ):
        raise RuntimeError("boom")
    assert EVENTS == [("open", "g"), ("close", "g")]


def test_factory_without_create_resource_is_a_definition_error() -> None:
    """A factory that does not implement create_resource fails to open with a clear error."""

    class NoCreate(of.ConfigurableResourceFactory[int]):
        pass

    with (
        pytest.raises(DefinitionError, match="NoCreate does not implement create_resource"),
        of.build_resources({"x": NoCreate()}),
    ):
        pass


# -- secrets never leak --------------------------------------------------------------------------


class Boom(of.ConfigurableResource):
    password: str

    def setup_for_execution(self, context: of.InitResourceContext) -> None:
        raise RuntimeError(f"login failed with password {self.password}")


class BoomOnClose(of.ConfigurableResource):
    password: str

    def teardown_after_execution(self, context: of.InitResourceContext) -> None:
        raise RuntimeError(f"logout failed with password {self.password}")


def test_repr_of_run_copy_shows_env_var_not_value(monkeypatch: pytest.MonkeyPatch) -> None:
    """The run copy holds the value but its repr shows EnvVar('NAME')."""
    monkeypatch.setenv("OFT_CFG_PW", SECRET)
    creds = Credentials(username="u", password=of.EnvVar("OFT_CFG_PW"))
    with of.build_resources({"creds": creds}) as res:
        assert res.creds.password == SECRET
        text = repr(res.creds)
        assert SECRET not in text
        assert "password=EnvVar('OFT_CFG_PW')" in text
        assert SECRET not in repr(res)


def test_repr_of_parent_run_copy_hides_nested_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    """A nested resource's resolved EnvVar does not leak through the parent's repr."""
    monkeypatch.setenv("OFT_CFG_PW", SECRET)
    bucket = Bucket(credentials=Credentials(username="u", password=of.EnvVar("OFT_CFG_PW")))
    with of.build_resources({"bucket": bucket}) as res:
        assert res.bucket.credentials.password == SECRET
        assert SECRET not in repr(res.bucket)
        assert "EnvVar('OFT_CFG_PW')" in repr(res.bucket)


def test_init_error_redacts_secret_from_resource_exception(monkeypatch: pytest.MonkeyPatch) -> None:
    """A setup exception quoting the secret is reported as ResourceInitError with *** instead."""
    monkeypatch.setenv("OFT_CFG_PW", SECRET)
    with (
        pytest.raises(ResourceInitError) as info,
        RunScope({"boom": Boom(password=of.EnvVar("OFT_CFG_PW"))}) as scope,
    ):
        scope.get("boom")
    err = info.value
    text = str(err)
    assert err.key == "boom"
    assert SECRET not in text
    assert "resource 'boom' (Boom) failed to open" in text
    assert "login failed with password ***" in text
    assert isinstance(err.__cause__, RuntimeError)


def test_teardown_error_redacts_secret_from_resource_exception(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A teardown exception quoting the secret is reported as TeardownError with *** instead."""
    monkeypatch.setenv("OFT_CFG_PW", SECRET)
    with (
        pytest.raises(TeardownError) as info,
        RunScope({"boom": BoomOnClose(password=of.EnvVar("OFT_CFG_PW"))}) as scope,
    ):
        scope.get("boom")
    err = info.value
    text = str(err)
    assert err.keys == ("boom",)
    assert SECRET not in text
    assert "boom: RuntimeError: logout failed with password ***" in text


def test_validation_error_from_env_value_does_not_quote_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """An ill-typed resolved value is reported by key and field, never by value."""
    monkeypatch.setenv("OFT_CFG_PORT", SECRET)
    with (
        pytest.raises(ConfigError) as info,
        RunScope({"db": Database(table="t", port=of.EnvVar("OFT_CFG_PORT"))}) as scope,
    ):
        scope.get("db")
    text = str(info.value)
    assert SECRET not in text
    assert "resource 'db', field 'port'" in text


def test_validator_quoting_env_value_is_redacted(monkeypatch: pytest.MonkeyPatch) -> None:
    """A field validator whose message quotes the resolved secret is redacted in the ConfigError."""
    from pydantic import field_validator

    class Api(of.ConfigurableResource):
        token: str

        @field_validator("token")
        @classmethod
        def _prefixed(cls, value: str) -> str:
            if not value.startswith("ghp_"):
                raise ValueError(f"token {value} must start with ghp_")
            return value

    monkeypatch.setenv("OFT_CFG_TOKEN", SECRET)
    with (
        pytest.raises(ConfigError) as info,
        RunScope({"api": Api(token=of.EnvVar("OFT_CFG_TOKEN"))}) as scope,
    ):
        scope.get("api")
    text = str(info.value)
    assert SECRET not in text
    assert "resource 'api', field 'token': token *** must start with ghp_" in text


def test_redacted_config_renders_env_vars_and_secret_str() -> None:
    """redacted_config shows EnvVars as {"env": NAME} and SecretStr as stars, recursively."""

    class Wrapper(of.ConfigurableResource):
        user: str
        token: str
        key: SecretStr
        extras: dict[str, Any] = Field(default_factory=dict)
        creds: Credentials

    wrapper = Wrapper(
        user="svc",
        token=of.EnvVar("OFT_CFG_TOKEN"),
        key=SecretStr("hidden"),
        extras={"port": of.EnvVar.int("OFT_CFG_PORT"), "hosts": ["a", of.EnvVar("OFT_CFG_H")]},
        creds=Credentials(username="u", password=of.EnvVar("OFT_CFG_PW")),
    )
    assert redacted_config(wrapper) == {
        "user": "svc",
        "token": {"env": "OFT_CFG_TOKEN"},
        "key": "**********",
        "extras": {"port": {"env": "OFT_CFG_PORT"}, "hosts": ["a", {"env": "OFT_CFG_H"}]},
        "creds": {"username": "u", "password": {"env": "OFT_CFG_PW"}},
    }


def test_redacted_config_of_run_copy_keeps_env_names(monkeypatch: pytest.MonkeyPatch) -> None:
    """redacted_config of a run copy still shows {"env": NAME}, not the resolved value."""
    monkeypatch.setenv("OFT_CFG_PW", SECRET)
    creds = Credentials(username="u", password=of.EnvVar("OFT_CFG_PW"))
    with of.build_resources({"creds": creds}) as res:
        shown = redacted_config(res.creds)
    assert shown == {"username": "u", "password": {"env": "OFT_CFG_PW"}}


def test_redacted_config_of_partial_and_plain_values() -> None:
    """Partials show their class and defaults; unknown objects show only their type name."""
    partial = Credentials.configure_at_launch(password=of.EnvVar("OFT_CFG_PW"))
    assert redacted_config(partial) == {
        "partial": "Credentials",
        "password": {"env": "OFT_CFG_PW"},
    }
    assert redacted_config(Client("u")) == "<Client>"
    assert redacted_config((1, "a", None)) == [1, "a", None]


def test_all_errors_are_outfitter_errors() -> None:
    """Every error raised here derives from OutfitterError."""
    for cls in (ConfigError, DefinitionError, InvocationError, ResourceInitError, TeardownError):
        assert issubclass(cls, OutfitterError)


# -- frozen config, nesting, redaction and context, through the public API -----------------------


class RegionalBucket(of.ConfigurableResource):
    """Bucket with the region required (no default)."""

    credentials: Credentials
    region: str


class PlainCounter(of.ConfigurableResource):
    """Counter without the record of seen values."""

    start: int = 0
    _value: int = PrivateAttr()

    def setup_for_execution(self, context: of.InitResourceContext) -> None:
        self._value = self.start

    def bump(self) -> int:
        self._value += 1
        return self._value


def test_assigning_a_field_points_to_private_attr() -> None:
    """Resources are frozen; the error names the field and PrivateAttr."""
    creds = Credentials(username="u", password="p")
    with pytest.raises(InvocationError, match="cannot assign config field 'username'") as info:
        creds.username = "x"
    assert "PrivateAttr" in str(info.value)


def test_private_state_lives_on_the_run_copy() -> None:
    """setup_for_execution state is per run; the definition is never mutated."""
    counter = PlainCounter(start=10)
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
    with RunScope(
        {"creds": creds, "bucket": RegionalBucket(credentials=creds, region="eu")}
    ) as scope:
        bucket = scope.get("bucket")
        assert bucket.credentials is scope.get("creds")
        assert scope.opened == ("creds", "bucket")


def test_partial_nested_resource_gets_launch_config_through_its_key() -> None:
    """A configure_at_launch() nested resource bound top-level is configured and shared."""
    creds = Credentials.configure_at_launch()
    resources = {"credentials": creds, "bucket": RegionalBucket(credentials=creds, region="eu")}
    launch = of.RunConfig(resources={"credentials": {"config": {"username": "a", "password": "b"}}})
    with of.build_resources(resources, resource_config=launch) as res:
        assert res.bucket.credentials.username == "a"
        assert res.bucket.credentials is res.credentials


def test_unbound_partial_nested_resource_is_a_definition_error() -> None:
    """A nested partial not bound at top level can never be configured."""
    bucket = RegionalBucket(credentials=Credentials.configure_at_launch(), region="eu")
    with pytest.raises(DefinitionError, match=r"resource 'bucket', field 'credentials'"):
        RunScope({"bucket": bucket})


def test_optional_nested_resource_accepts_none_by_default() -> None:
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


def test_private_attributes_keep_pydantic_semantics_with_the_fast_read() -> None:
    """Private attributes read from the class-level reader (issue 17: pydantic's __getattr__
    path cost ~1.8 µs per read) behave as pydantic's do: a default, a value set in a hook,
    copies that keep their own value, AttributeError when unset or deleted, and the
    declaration on class access (pydantic/main.py BaseModel.__getattr__,
    _model_construction.py ModelMetaclass.__getattr__)."""
    import copy

    from pydantic import PrivateAttr
    from pydantic.fields import ModelPrivateAttr

    class Conn(of.ConfigurableResource):
        url: str = "db"
        _conn: Any = PrivateAttr(default=None)
        _later: int = PrivateAttr()

        def setup_for_execution(self, context: of.InitResourceContext) -> None:
            self._conn = f"open {self.url}"

        def query(self) -> str:
            return f"{self._conn}: 1"

    plain = Conn()
    assert plain._conn is None
    with of.build_resources({"conn": Conn()}) as res:
        assert res.conn.query() == "open db: 1"
    twin = copy.copy(plain)
    twin._conn = "other"
    assert (plain._conn, twin._conn) == (None, "other")
    assert copy.deepcopy(twin)._conn == "other"
    with pytest.raises(AttributeError, match="'Conn' object has no attribute '_later'"):
        plain._later
    plain._later = 3
    assert plain._later == 3
    del plain._later
    with pytest.raises(AttributeError, match="_later"):
        plain._later
    assert isinstance(Conn._conn, ModelPrivateAttr)
    assert "_conn" not in plain.model_dump()
