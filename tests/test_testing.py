"""outfitter.testing: ResourceRecorder (and its assertions), override_resources on every kind of
target, IsolatedEnv and ManualClock. The pytest plugin's fixtures are tested in
tests/testing/."""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import threading
from pathlib import Path
from typing import Any

import pytest

import outfitter as of
from outfitter._resources.scope import RunScope
from outfitter.exceptions import (
    InvocationError,
    MissingResourceError,
    ResourceInitError,
    TeardownError,
)
from outfitter.testing import (
    IsolatedEnv,
    ManualClock,
    ResourceRecorder,
    override_resources,
)


def chain(rec: ResourceRecorder, **fail_on: str) -> dict[str, Any]:
    """db <- cache <- api, plus an unrelated key."""
    return {
        "api": rec.resource("api", requires=["cache"], fail_on=fail_on.get("api")),
        "cache": rec.resource("cache", requires=["db"], fail_on=fail_on.get("cache")),
        "db": rec.resource("db", fail_on=fail_on.get("db")),
        "other": rec.resource("other"),
    }


# -- ResourceRecorder ------------------------------------------------------------------------------


def test_recorder_records_open_and_close_order_across_a_chain() -> None:
    """Dependencies open first and close last."""
    rec = ResourceRecorder()
    with RunScope(chain(rec)) as scope:
        assert scope.get("api") == "api"
    assert rec.events == [
        ("open", "db"),
        ("open", "cache"),
        ("open", "api"),
        ("close", "api"),
        ("close", "cache"),
        ("close", "db"),
    ]
    assert rec.opened == ["db", "cache", "api"]
    assert rec.closed == ["api", "cache", "db"]


def test_recorder_starts_empty_and_builds_nothing_until_opened() -> None:
    """Making resources records nothing; unused ones never record."""
    rec = ResourceRecorder()
    resources = chain(rec)
    assert rec.events == []
    with RunScope(resources) as scope:
        scope.get("db")
    assert rec.events == [("open", "db"), ("close", "db")]


def test_recorder_resources_are_resource_definitions_with_values() -> None:
    """The value defaults to the name; value= and scope= are honoured."""
    rec = ResourceRecorder()
    payload = {"hits": 0}
    definition = rec.resource("cache", value=payload, scope="step")
    assert isinstance(definition, of.ResourceDefinition)
    assert definition.required_resource_keys == frozenset()
    with RunScope({"cache": definition, "plain": rec.resource("plain")}) as run:
        assert run.get("plain") == "plain"
        with run.step_scope() as step:
            assert step.get("cache") is payload
        assert rec.events[-1] == ("close", "cache")
    assert rec.closed == ["cache", "plain"]


def test_recorder_value_can_be_none() -> None:
    """value=None is a real value, not the default."""
    rec = ResourceRecorder()
    with of.build_resources({"nothing": rec.resource("nothing", value=None)}) as res:
        assert res.nothing is None


def test_recorder_requires_declares_dependencies() -> None:
    """requires= is checked like any dependency: a missing key is a definition error."""
    rec = ResourceRecorder()
    with pytest.raises(MissingResourceError) as info:
        RunScope({"api": rec.resource("api", requires=["dbb"]), "db": rec.resource("db")})
    assert "resource 'api' needs resource 'dbb', which is not bound. Did you mean 'db'?" in str(
        info.value
    )


def test_recorder_fail_on_open_rolls_back_and_records_no_open() -> None:
    """fail_on="open" raises before recording; what was open is closed in reverse."""
    rec = ResourceRecorder()
    with pytest.raises(ResourceInitError) as info, RunScope(chain(rec, api="open")) as scope:
        scope.get("api")
    assert info.value.key == "api"
    assert "api failed to open" in str(info.value)
    assert isinstance(info.value.__cause__, RuntimeError)
    assert rec.events == [
        ("open", "db"),
        ("open", "cache"),
        ("close", "cache"),
        ("close", "db"),
    ]


def test_recorder_fail_on_close_records_the_close_then_raises() -> None:
    """fail_on="close" records the close, raises, and the others still close."""
    rec = ResourceRecorder()
    resources = chain(rec, cache="close", db="close")
    with pytest.raises(TeardownError) as info, RunScope(resources) as scope:
        scope.get("api")
    assert info.value.keys == ("cache", "db")
    assert "cache: RuntimeError: cache failed to close" in str(info.value)
    assert rec.closed == ["api", "cache", "db"]


def test_recorder_works_in_async_scopes() -> None:
    """Recorder resources open and close from async code too."""
    rec = ResourceRecorder()

    async def main() -> None:
        async with of.build_resources(chain(rec)) as res:
            assert res.api == "api"

    asyncio.run(main())
    assert rec.opened == ["db", "cache", "api", "other"]
    assert rec.closed == list(reversed(rec.opened))


def test_recorder_records_in_order_from_many_threads() -> None:
    """record() is thread-safe: concurrent scopes lose no events."""
    rec = ResourceRecorder()
    resources = chain(rec)

    def run() -> None:
        for _ in range(20):
            with RunScope(resources) as scope:
                scope.get("api")

    threads = [threading.Thread(target=run) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(rec.events) == 4 * 20 * 6
    assert rec.opened.count("db") == rec.closed.count("db") == 80


# -- override_resources ----------------------------------------------------------------------------


class Api(of.ConfigurableResource):
    url: str


def test_override_resources_on_a_container_class() -> None:
    """Keys are replaced for scopes opened inside the block and restored after."""

    class Prod(of.ResourceContainer):
        api = Api(url="https://prod")
        other = "kept"

    with override_resources(Prod, api=Api(url="http://fake")) as target:
        assert target is Prod
        with of.build_resources(Prod) as res:
            assert res.api.url == "http://fake"
            assert res.other == "kept"
    with of.build_resources(Prod) as res:
        assert res.api.url == "https://prod"


def test_override_resources_on_a_container_instance() -> None:
    """A container instance is overridden on its own; the class is untouched."""

    class Prod(of.ResourceContainer):
        api = Api(url="https://prod")

    container = Prod()
    with override_resources(container, api=Api(url="http://fake")):
        with of.build_resources(container) as res:
            assert res.api.url == "http://fake"
        with of.build_resources(Prod) as res:
            assert res.api.url == "https://prod"
    with of.build_resources(container) as res:
        assert res.api.url == "https://prod"


def test_override_resources_nests() -> None:
    """Nested overrides stack and unwind in order."""

    class Prod(of.ResourceContainer):
        api = Api(url="prod")

    with override_resources(Prod, api=Api(url="outer")):
        with override_resources(Prod, api=Api(url="inner")), of.build_resources(Prod) as res:
            assert res.api.url == "inner"
        with of.build_resources(Prod) as res:
            assert res.api.url == "outer"
    with of.build_resources(Prod) as res:
        assert res.api.url == "prod"


def test_override_resources_with_a_recorder(resource_recorder: ResourceRecorder) -> None:
    """A recorder resource can stand in for a real one to observe the lifecycle."""
    rec = resource_recorder

    class Prod(of.ResourceContainer):
        api = Api(url="prod")
        db = "real db"

    with override_resources(Prod, db=rec.resource("db")), of.build_resources(Prod) as res:
        assert res.db == "db"
    assert rec.events == [("open", "db"), ("close", "db")]


def test_override_resources_unknown_key_on_a_container() -> None:
    """An unknown key fails before anything is overridden."""

    class Prod(of.ResourceContainer):
        api = Api(url="prod")

    with pytest.raises(InvocationError) as info, override_resources(Prod, api=1, appi=2):
        pass
    assert "cannot override 'appi'" in str(info.value)
    assert "Did you mean 'api'?" in str(info.value)
    assert not Prod.api.overridden


def test_override_resources_on_a_dict() -> None:
    """A dict is changed in place inside the block and restored after, even on failure."""
    resources: dict[str, Any] = {"api": Api(url="prod"), "token": "t"}
    original = dict(resources)
    with override_resources(resources, api=Api(url="fake")), of.build_resources(resources) as res:
        assert res.api.url == "fake"
    assert resources == original
    with pytest.raises(ValueError, match="x"), override_resources(resources, token="other"):
        assert resources["token"] == "other"
        raise ValueError("x")
    assert resources == original
    with (
        pytest.raises(InvocationError, match="cannot override 'apii'"),
        override_resources(resources, apii=1),
    ):
        pass
    assert resources == original


def test_recorder_records_order_and_can_fail() -> None:
    """ResourceRecorder resources record open/close and fail on request."""
    rec = ResourceRecorder()
    resources = {"db": rec.resource("db"), "api": rec.resource("api", requires=["db"])}
    with of.build_resources(resources):
        pass
    assert rec.events == [("open", "db"), ("open", "api"), ("close", "api"), ("close", "db")]
    failing = ResourceRecorder()
    with (
        pytest.raises(of.exceptions.ResourceInitError),
        of.build_resources({"x": failing.resource("x", fail_on="open")}),
    ):
        pass
    assert failing.events == []


# -- assertions of the recorder --------------------------------------------------------------------


def test_recorder_assertions_pass_for_a_real_run_scope(resource_recorder: ResourceRecorder) -> None:
    """A run scope closes LIFO, each opening once."""
    with RunScope(chain(resource_recorder)) as scope:
        scope.get("api")
        scope.get("other")
    resource_recorder.assert_closed_lifo()
    resource_recorder.assert_each_closed_once()


@pytest.mark.parametrize(
    ("events", "lifo", "once"),
    [
        ([("open", "a"), ("close", "a")], None, None),
        (
            [("open", "a"), ("open", "b"), ("close", "a"), ("close", "b")],
            "'a' closed while 'b'",
            None,
        ),
        ([("close", "a")], "'a' closed but it was not open", "closed 1 time(s) but opened 0"),
        ([("open", "a")], "left open: ['a']", "never closed: ['a']"),
        (
            [("open", "a"), ("close", "a"), ("close", "a")],
            "'a' closed but it was not open",
            "'a' closed 2 time(s) but opened 1 time(s)",
        ),
        # step scope: the same key opened and closed again within the run
        (
            [
                ("open", "a"),
                ("open", "s"),
                ("close", "s"),
                ("open", "s"),
                ("close", "s"),
                ("close", "a"),
            ],
            None,
            None,
        ),
    ],
)
def test_recorder_assertions_name_what_is_wrong(
    events: list[tuple[str, str]], lifo: str | None, once: str | None
) -> None:
    """Each assertion passes, or fails naming the key and the events."""
    rec = ResourceRecorder()
    rec.events = list(events)
    for check, expected in ((rec.assert_closed_lifo, lifo), (rec.assert_each_closed_once, once)):
        if expected is None:
            check()
            continue
        with pytest.raises(AssertionError) as info:
            check()
        assert expected in str(info.value)
        assert str(events) in str(info.value)


# -- override_resources on Definitions, jobs and flows ---------------------------------------------


@of.asset
def api_url(api: Api) -> str:
    return api.url


@of.op
def get_url(api: Api) -> str:
    return api.url


def implicit_url(defs: of.Definitions) -> Any:
    return defs.get_implicit_global_asset_job_def().execute_in_process().asset_value("api_url")


def test_override_resources_on_definitions_with_a_dict() -> None:
    """Every job of the Definitions sees the replacement; the caller's dict is not touched."""
    bound = {"api": Api(url="prod")}
    defs = of.Definitions(assets=[api_url], resources=bound)
    with override_resources(defs, api=Api(url="fake")) as target:
        assert target is defs
        assert implicit_url(defs) == "fake"
        assert bound["api"].url == "prod"
    assert implicit_url(defs) == "prod"


def test_override_resources_on_definitions_with_a_container() -> None:
    """A container's provider is overridden with dependency-injector's own override."""

    class Prod(of.ResourceContainer):
        api = Api(url="prod")

    defs = of.Definitions(assets=[api_url], resources=Prod)
    with override_resources(defs, api=Api(url="fake")):
        assert Prod.api.overridden
        assert implicit_url(defs) == "fake"
    assert not Prod.api.overridden
    assert implicit_url(defs) == "prod"


def test_override_resources_on_a_job_and_a_flow() -> None:
    """A job's own resource_defs, or keys it needs from elsewhere; a flow's resources."""

    @of.job(resource_defs={"api": Api(url="prod")})
    def fetch() -> None:
        get_url()

    @of.job
    def unbound() -> None:
        get_url()

    @of.task
    def read(api: of.ResourceParam[Api]) -> str:
        return api.url

    with of.Flow("reader", resources={"api": Api(url="prod")}) as flow:
        read()

    def flow_urls() -> list[Any]:
        return [s.result for s in flow.run().result.values()]

    with override_resources(fetch, api=Api(url="fake")), override_resources(flow, api=Api(url="f")):
        assert fetch.execute_in_process().output_for_node("get_url") == "fake"
        assert flow_urls() == ["f"]
    assert fetch.execute_in_process().output_for_node("get_url") == "prod"
    assert flow_urls() == ["prod"]
    with override_resources(unbound, api=Api(url="given")):
        assert unbound.execute_in_process().output_for_node("get_url") == "given"
    with pytest.raises(InvocationError) as info, override_resources(flow, apy=1):
        pass
    assert "cannot override 'apy': not bound here. Did you mean 'api'?" in str(info.value)
    with pytest.raises(InvocationError) as info, override_resources(object(), api=1):
        pass
    assert "cannot override resources of a object" in str(info.value)
    assert "a Definitions, a job or a Flow" in str(info.value)


# -- IsolatedEnv and ManualClock -------------------------------------------------------------------


def test_isolated_env_clears_outfitter_variables_and_points_home_and_dotenv_at_the_directory(
    tmp_path: Path,
) -> None:
    """OUTFITTER_* cleared; home and .env under the directory; everything undone after."""
    with pytest.MonkeyPatch.context() as outer:
        outer.setenv("OUTFITTER_ENV", "prod")
        outer.setenv("OUTFITTER_LOG_LEVEL", "DEBUG")
        with pytest.MonkeyPatch.context() as mp:
            env = IsolatedEnv(mp, tmp_path, environment="qa", containers={"qa": "QaContainer"})
            assert os.environ["OUTFITTER_ENV"] == "qa"
            assert "OUTFITTER_LOG_LEVEL" not in os.environ
            assert os.environ["OUTFITTER_HOME"] == str(tmp_path / "home")
            assert os.environ["OUTFITTER_ENV_FILE"] == str(tmp_path / ".env")
            assert not env.dotenv_path.exists()
            assert env.container == "QaContainer"
            env.set(of.EnvVar("SOME_TOKEN"), "v")
            assert os.environ["SOME_TOKEN"] == "v"
            env.write_dotenv({"QUOTED": 'a "b" \\c'}, PLAIN="p")
            assert of.EnvVar("QUOTED").get_value() == 'a "b" \\c'
            assert "IsolatedEnv(home=" in repr(env)
        assert os.environ["OUTFITTER_ENV"] == "prod"
        assert os.environ["OUTFITTER_LOG_LEVEL"] == "DEBUG"
        assert "SOME_TOKEN" not in os.environ


def test_isolated_env_container_needs_the_marker_containers(tmp_path: Path) -> None:
    """Without containers for the environment, .container says how to give them."""
    with pytest.MonkeyPatch.context() as mp:
        env = IsolatedEnv(mp, tmp_path)
        assert env.environment is None
        with pytest.raises(LookupError, match=r"outfitter_envs\(local=Local, prod=Prod\)"):
            env.container


def test_manual_clock_moves_only_forward_when_told() -> None:
    """advance() in any unit; set() to a datetime (naive = UTC) or epoch seconds."""
    clock = ManualClock()
    start = clock()
    assert clock() == start
    clock.advance(30, minutes=1, hours=1, days=1)
    assert clock() - start == 30 + 60 + 3600 + 86400
    clock.set(dt.datetime(2025, 6, 1, 12, 0))
    assert clock.datetime == dt.datetime(2025, 6, 1, 12, 0, tzinfo=dt.UTC)
    clock.set(0)
    assert clock() == 0.0
    with pytest.raises(ValueError, match="only moves forward"):
        clock.advance(-1)
    assert repr(clock) == "ManualClock(1970-01-01T00:00:00+00:00)"
