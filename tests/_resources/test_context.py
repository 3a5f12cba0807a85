"""``InitResourceContext``, the ``Resources`` view, ``build_init_resource_context`` and
``from_resource_context`` / ``from_resource_context_cm``."""

import contextlib
import logging
from collections.abc import Iterator, Mapping
from typing import Any

import pytest
from pydantic import PrivateAttr

import outfitter as of
from outfitter._resources.context import Resources, did_you_mean
from outfitter.exceptions import InvocationError, MissingResourceError


class FakeInstance:
    """Stands in for an Instance: the context only carries it."""


# -- InitResourceContext -------------------------------------------------------------------------


def test_init_context_defaults() -> None:
    """A bare InitResourceContext has empty config and resources and the library logger."""
    ctx = of.InitResourceContext()
    assert ctx.resource_config == {}
    assert isinstance(ctx.resources, Resources)
    assert len(ctx.resources) == 0
    assert ctx.instance is None
    assert ctx.run_id is None
    assert ctx.resource_key is None
    assert isinstance(ctx.log, logging.Logger)
    assert ctx.log.name == "outfitter.resources"
    assert repr(ctx) == "InitResourceContext(resource_key=None, run_id=None)"


def test_init_context_replace_changes_only_what_is_given() -> None:
    """replace() returns a copy with some attributes changed and leaves the original alone."""
    ctx = of.InitResourceContext({"a": 1}, run_id="r1", resource_key="k")
    other = ctx.replace(run_id="r2")
    assert (other.run_id, other.resource_key, other.resource_config) == ("r2", "k", {"a": 1})
    assert ctx.run_id == "r1"


def test_init_context_fields_seen_by_a_resource_in_build_resources() -> None:
    """Inside build_resources a resource sees its key, config, run id, instance and logger."""
    seen: dict[str, Any] = {}
    instance = FakeInstance()

    @of.resource(config_schema={"url": str}, required_resource_keys={"token"})
    def client(context: of.InitResourceContext) -> str:
        seen.update(
            config=context.resource_config,
            resources=dict(context.resources),
            instance=context.instance,
            run_id=context.run_id,
            log=context.log.name,
            key=context.resource_key,
        )
        return "client"

    with of.build_resources(
        {"client": client, "token": "t"},
        resource_config={"client": {"config": {"url": "http://x"}}},
        instance=instance,
        run_id="run-1",
    ):
        pass
    assert seen == {
        "config": {"url": "http://x"},
        "resources": {"token": "t"},
        "instance": instance,
        "run_id": "run-1",
        "log": "outfitter.resources.client",
        "key": "client",
    }


def test_configurable_resource_context_has_its_config_and_nested_resources() -> None:
    """A configurable resource's context holds its config fields and nested resources."""
    seen: list[of.InitResourceContext] = []

    class Credentials(of.ConfigurableResource):
        user: str

    class Api(of.ConfigurableResource):
        url: str
        credentials: Credentials

        def setup_for_execution(self, context: of.InitResourceContext) -> None:
            seen.append(context)

    with of.build_resources({"api": Api(url="u", credentials=Credentials(user="me"))}) as res:
        assert res.api.get_resource_context() is seen[0]
    (ctx,) = seen
    assert ctx.resource_config == {"url": "u"}
    assert ctx.resources.credentials.user == "me"
    assert ctx.resource_key == "api"
    assert isinstance(ctx.run_id, str)
    assert ctx.run_id


# -- the Resources view --------------------------------------------------------------------------


def test_resources_view_supports_attribute_item_and_mapping_access() -> None:
    """Resources is a read-only Mapping with attribute access."""
    res = Resources({"db": 1, "cache": 2}, owner="resource 'svc'")
    assert isinstance(res, Mapping)
    assert res.db == 1
    assert res["cache"] == 2
    assert sorted(res) == ["cache", "db"]
    assert len(res) == 2
    assert "db" in res
    assert "nope" not in res
    assert res.get("nope", 0) == 0
    assert dir(res) == ["cache", "db"]
    assert repr(res) == "Resources(cache, db)"


def test_resources_view_is_read_only() -> None:
    """Setting an attribute on Resources raises."""
    res = Resources({"db": 1})
    with pytest.raises(AttributeError, match="Resources is read-only"):
        res.db = 2  # type: ignore[misc]
    assert res.db == 1


def test_unknown_attribute_raises_missing_resource_error_with_did_you_mean() -> None:
    """A missing key names the owner, lists the keys there and suggests the closest one."""
    res = Resources({"database": 1, "cache": 2}, owner="resource 'svc'")
    for access in (lambda: res.databse, lambda: res["databse"]):
        with pytest.raises(MissingResourceError) as info:
            access()
        text = str(info.value)
        assert "resource 'svc' has no resource 'databse'; it has: 'cache', 'database'." in text
        assert "Did you mean 'database'?" in text
        assert "Hint: declare the dependency" in text
        assert info.value.keys == ("databse",)


def test_unknown_attribute_without_a_close_match_has_no_suggestion() -> None:
    """No did-you-mean when nothing is close; an empty view says it has none."""
    with pytest.raises(MissingResourceError) as info:
        Resources({"database": 1}).zzz
    assert "Did you mean" not in str(info.value)
    assert "this context has no resource 'zzz'; it has: 'database'." in str(info.value)
    with pytest.raises(MissingResourceError, match="it has: none"):
        Resources({}).db


def test_dunder_lookups_are_plain_attribute_errors() -> None:
    """Dunder lookups (copy, pickle protocols) get AttributeError, not MissingResourceError."""
    res = Resources({"db": 1})
    assert not hasattr(res, "__deepcopy_hook__")
    with pytest.raises(AttributeError) as info:
        res.__missing_thing__
    assert not isinstance(info.value, MissingResourceError)


def test_did_you_mean_helper() -> None:
    """did_you_mean returns a suffix only for close candidates."""
    assert did_you_mean("dbb", ["db", "cache"]) == " Did you mean 'db'?"
    assert did_you_mean("xyz", ["db"]) == ""


# -- build_init_resource_context -----------------------------------------------------------------


def test_build_init_resource_context_plain_with_value_resources() -> None:
    """Plain use gives config, value resources, instance and run id."""
    instance = FakeInstance()
    ctx = of.build_init_resource_context(
        config={"region": "eu"}, resources={"token": "t", "n": 3}, instance=instance, run_id="r"
    )
    assert isinstance(ctx, of.InitResourceContext)
    assert ctx.resource_config == {"region": "eu"}
    assert ctx.resources.token == "t"
    assert dict(ctx.resources) == {"token": "t", "n": 3}
    assert ctx.instance is instance
    assert ctx.run_id == "r"
    assert ctx.resource_key is None


def test_build_init_resource_context_defaults_are_empty() -> None:
    """With no arguments the context has empty config and resources."""
    ctx = of.build_init_resource_context()
    assert ctx.resource_config == {}
    assert dict(ctx.resources) == {}
    assert ctx.instance is None


def test_build_init_resource_context_plain_opens_resources_without_cleanup() -> None:
    """Plain use may open resources that need no cleanup (a configurable, a plain function)."""

    class Api(of.ConfigurableResource):
        url: str = "u"

    @of.resource
    def answer() -> int:
        return 42

    ctx = of.build_init_resource_context(resources={"api": Api(), "answer": answer})
    assert ctx.resources.api.url == "u"
    assert ctx.resources.answer == 42
    assert ctx.resources is ctx.resources  # opened once


def test_build_init_resource_context_plain_with_cleanup_resource_points_to_with() -> None:
    """A resource that needs cleanup cannot be opened without ``with``; the hint shows how."""
    opened: list[str] = []

    @of.resource
    def conn() -> Iterator[str]:
        opened.append("open")
        yield "conn"

    ctx = of.build_init_resource_context(resources={"conn": conn, "plain": 1})
    with pytest.raises(InvocationError) as info:
        ctx.resources
    text = str(info.value)
    assert "resource(s) 'conn' need cleanup, so the context must be used in a `with` block" in text
    assert "with build_init_resource_context(" in text
    assert opened == []


def test_build_init_resource_context_with_opens_and_closes_generator_resources() -> None:
    """In a ``with`` block a generator resource opens on enter and closes on exit."""
    events: list[str] = []

    @of.resource
    def conn() -> Iterator[str]:
        events.append("open")
        yield "conn"
        events.append("close")

    builder = of.build_init_resource_context(config={"x": 1}, resources={"conn": conn})
    assert events == []
    with builder as ctx:
        assert events == ["open"]
        assert ctx.resources.conn == "conn"
        assert ctx.resource_config == {"x": 1}
    assert events == ["open", "close"]


def test_build_init_resource_context_with_passes_the_blocks_exception() -> None:
    """A context-manager resource of the context sees the block's exception."""
    seen: list[BaseException] = []

    @of.resource
    @contextlib.contextmanager
    def tx() -> Iterator[str]:
        try:
            yield "tx"
        except BaseException as exc:
            seen.append(exc)
            raise

    with pytest.raises(KeyError) as info, of.build_init_resource_context(resources={"tx": tx}):
        raise KeyError("boom")
    assert seen == [info.value]


# -- from_resource_context -----------------------------------------------------------------------


class Credentials(of.ConfigurableResource):
    user: str


class Client(of.ConfigurableResource):
    url: str
    credentials: Credentials
    timeout: int = 10
    _connected: bool = PrivateAttr(default=False)

    def setup_for_execution(self, context: of.InitResourceContext) -> None:
        self._connected = True


class Session(of.ConfigurableResource):
    name: str
    _log: list[str] = PrivateAttr(default_factory=list)

    def setup_for_execution(self, context: of.InitResourceContext) -> None:
        self._log.append("setup")

    def teardown_after_execution(self, context: of.InitResourceContext) -> None:
        TEARDOWNS.append(self.name)


TEARDOWNS: list[str] = []


def test_from_resource_context_reads_config_and_nested_resources() -> None:
    """Config comes from resource_config, nested fields from context.resources; setup runs."""
    ctx = of.build_init_resource_context(
        config={"url": "http://api", "timeout": "5"},
        resources={"credentials": Credentials(user="me"), "unrelated": 1},
    )
    client = Client.from_resource_context(ctx)
    assert isinstance(client, Client)
    assert (client.url, client.timeout, client.credentials.user) == ("http://api", 5, "me")
    assert client._connected
    assert client.get_resource_context() is ctx


def test_from_resource_context_config_wins_over_resources_for_nested_fields() -> None:
    """A nested field given in config is used rather than the one in context.resources."""
    ctx = of.build_init_resource_context(
        config={"url": "u", "credentials": Credentials(user="from config")},
        resources={"credentials": Credentials(user="from resources")},
    )
    assert Client.from_resource_context(ctx).credentials.user == "from config"


def test_from_resource_context_leaves_an_absent_optional_nested_field_unset() -> None:
    """An optional nested field that neither config nor resources give keeps its default."""

    class MaybeClient(of.ConfigurableResource):
        url: str
        credentials: Credentials | None = None

    ctx = of.build_init_resource_context(config={"url": "u"}, resources={"other": 1})
    assert MaybeClient.from_resource_context(ctx).credentials is None


def test_from_resource_context_inside_a_resource_function() -> None:
    """A ``@resource`` function can build a configurable resource from its own context."""

    @of.resource(config_schema={"url": str}, required_resource_keys={"credentials"})
    def client(context: of.InitResourceContext) -> Client:
        return Client.from_resource_context(context)

    with of.build_resources(
        {"client": client, "credentials": Credentials(user="bob")},
        resource_config={"client": {"config": {"url": "http://c"}}},
    ) as res:
        assert (res.client.url, res.client.credentials.user) == ("http://c", "bob")


def test_from_resource_context_on_a_resource_with_teardown_points_to_cm_form() -> None:
    """Plain from_resource_context refuses a resource with teardown and names the _cm form."""
    ctx = of.build_init_resource_context(config={"name": "s"})
    with pytest.raises(InvocationError) as info:
        Session.from_resource_context(ctx)
    text = str(info.value)
    assert "Session has teardown logic, which from_resource_context would skip" in text
    assert "with Session.from_resource_context_cm(context) as resource:" in text


def test_from_resource_context_cm_runs_teardown_at_exit() -> None:
    """from_resource_context_cm sets up on enter and tears down on exit."""
    TEARDOWNS.clear()
    ctx = of.build_init_resource_context(config={"name": "s1"})
    with Session.from_resource_context_cm(ctx) as session:
        assert session.name == "s1"
        assert session._log == ["setup"]
        assert TEARDOWNS == []
    assert TEARDOWNS == ["s1"]


def test_from_resource_context_cm_runs_teardown_when_the_block_raises() -> None:
    """The teardown also runs when the ``with`` block fails; the error propagates."""
    TEARDOWNS.clear()
    ctx = of.build_init_resource_context(config={"name": "s2"})
    with pytest.raises(ValueError, match="inside"), Session.from_resource_context_cm(ctx):
        raise ValueError("inside")
    assert TEARDOWNS == ["s2"]


def test_from_resource_context_cm_in_a_generator_resource() -> None:
    """A generator ``@resource`` can keep the cm open for the scope's lifetime."""
    TEARDOWNS.clear()

    @of.resource(config_schema={"name": str})
    def session(context: of.InitResourceContext) -> Iterator[Session]:
        with Session.from_resource_context_cm(context) as s:
            yield s

    with of.build_resources(
        {"s": session}, resource_config={"s": {"config": {"name": "gen"}}}
    ) as res:
        assert res.s.name == "gen"
        assert TEARDOWNS == []
    assert TEARDOWNS == ["gen"]


def test_from_resource_context_cm_works_for_resources_without_teardown() -> None:
    """The cm form also works when there is nothing to tear down."""
    ctx = of.build_init_resource_context(
        config={"url": "u"}, resources={"credentials": Credentials(user="x")}
    )
    with Client.from_resource_context_cm(ctx) as client:
        assert client.credentials.user == "x"


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
