"""Running assets and jobs in process: results, events, failure semantics, contexts."""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import Iterator
from typing import Any

import pytest

import outfitter as of
from outfitter._instance import EventType, RunStatus
from outfitter.exceptions import (
    ConfigError,
    DefinitionError,
    InvocationError,
    MissingResourceError,
    ResourceInitError,
    TeardownError,
)
from outfitter.testing import ResourceRecorder


class Db(of.ConfigurableResource):
    url: str


@of.asset
def raw(db: Db) -> list[int]:
    return [1, 2, 3]


@of.asset
def total(raw: list[int]) -> int:
    return sum(raw)


def test_materialize_runs_assets_in_dependency_order() -> None:
    """Assets run upstream first; values, run record and events are returned."""
    with of.Instance.ephemeral() as instance:
        result = of.materialize([total, raw], resources={"db": Db(url="x")}, instance=instance)
        assert result.success
        assert result.asset_value("total") == 6
        assert result.output_for_node("raw") == [1, 2, 3]
        assert result.run is not None
        assert result.run.status is RunStatus.SUCCESS
        kinds = [e.event_type for e in result.all_events]
        assert kinds[0] is EventType.RUN_START
        assert kinds[-1] is EventType.RUN_SUCCESS
        assert kinds.count(EventType.ASSET_MATERIALIZATION) == 2
        opens = [e for e in result.all_events if e.event_type is EventType.RESOURCE_OPEN]
        assert {e.resource_key for e in opens} == {"db", "io_manager"}
        assert instance.get_runs()[0].run_id == result.run_id


def test_materialize_to_memory_and_selection() -> None:
    """Selection restricts the run; inputs outside it load through the I/O manager."""
    result = of.materialize_to_memory(
        [raw, total], resources={"db": Db(url="x")}, selection=["raw"]
    )
    assert result.asset_value("raw") == [1, 2, 3]
    with pytest.raises(InvocationError, match="asset 'total' was not part of run"):
        result.asset_value("total")


def test_filesystem_io_manager_persists_between_runs(tmp_path: Any) -> None:
    """A later run loads an upstream asset stored by an earlier run of the same instance."""
    with of.Instance.local(tmp_path) as instance:
        of.materialize([raw], resources={"db": Db(url="x")}, instance=instance)
        result = of.materialize(
            [raw, total], resources={"db": Db(url="x")}, instance=instance, selection=["total"]
        )
        assert result.asset_value("total") == 6


def test_step_failure_closes_everything_and_skips_downstream() -> None:
    """A failing step fails the run, downstream is skipped, resources still close."""
    rec = ResourceRecorder()

    @of.asset(required_resource_keys={"conn"})
    def boom(context: of.AssetExecutionContext) -> int:
        context.resources.conn
        raise ValueError("no data")

    @of.asset
    def after(boom: int) -> int:
        return boom

    result = of.materialize_to_memory(
        [boom, after], resources={"conn": rec.resource("conn")}, raise_on_error=False
    )
    assert not result.success
    assert rec.events == [("open", "conn"), ("close", "conn")]
    kinds = [(e.event_type, e.step_key) for e in result.all_events]
    assert (EventType.STEP_FAILURE, "boom") in kinds
    assert (EventType.STEP_SKIPPED, "after") in kinds
    with pytest.raises(ValueError, match="no data"):
        of.materialize_to_memory([boom, after], resources={"conn": rec.resource("conn")})


def test_setup_failure_fails_the_run_and_runs_no_step() -> None:
    """A resource that fails to open fails the run naming the key; no step runs."""
    rec = ResourceRecorder()
    ran: list[str] = []

    resources = {"a_good": rec.resource("good"), "b_bad": rec.resource("bad", fail_on="open")}

    @of.asset(required_resource_keys={"a_good", "b_bad"})
    def uses_both(context: Any) -> int:
        ran.append("step")
        return 1

    with pytest.raises(ResourceInitError, match="resource 'b_bad'"):
        of.materialize_to_memory([uses_both], resources=resources)
    assert ran == []
    assert rec.events == [("open", "good"), ("close", "good")]


def test_teardown_failure_marks_the_run_failed() -> None:
    """A failing teardown fails the run (unlike Dagster) after closing everything."""
    rec = ResourceRecorder()

    @of.asset(required_resource_keys={"tx"})
    def write(context: Any) -> int:
        return 1

    with of.Instance.ephemeral() as instance:
        result = of.materialize_to_memory(
            [write],
            resources={"tx": rec.resource("tx", fail_on="close")},
            instance=instance,
            raise_on_error=False,
        )
        assert not result.success
        assert isinstance(result.teardown_error, TeardownError)
        assert instance.get_run(result.run_id).status is RunStatus.FAILURE  # type: ignore[union-attr]


def test_context_resources_are_limited_to_declared_keys() -> None:
    """context.resources refuses undeclared keys with a hint, even when bound."""

    @of.asset
    def peek(context: of.AssetExecutionContext, db: Db) -> str:
        assert context.asset_key == of.AssetKey("peek")
        assert context.run_id
        with pytest.raises(MissingResourceError) as info:
            context.resources.other
        assert "did not declare resource 'other'" in str(info.value)
        return context.resources.db.url

    result = of.materialize_to_memory([peek], resources={"db": Db(url="u"), "other": 1})
    assert result.asset_value("peek") == "u"


def test_asset_config_is_validated_and_passed() -> None:
    """Config parameters come from run config; bad config fails before anything runs."""

    class Limit(of.Config):
        n: int = 2

    @of.asset
    def limited(config: Limit) -> list[int]:
        return list(range(config.n))

    assert of.materialize_to_memory([limited]).asset_value("limited") == [0, 1]
    rc = {"ops": {"limited": {"config": {"n": 3}}}}
    assert of.materialize_to_memory([limited], run_config=rc).asset_value("limited") == [0, 1, 2]
    bad = {"ops": {"limited": {"config": {"n": "x"}}, "ghost": {}}}
    with pytest.raises(ConfigError) as info:
        of.materialize_to_memory([limited], run_config=bad)
    assert "step 'limited', config field 'n'" in str(info.value)
    assert "step 'ghost', which is not part of this run" in str(info.value)


def test_async_assets_overlap_on_one_loop() -> None:
    """Independent async assets run concurrently on the run's loop."""
    started: list[str] = []
    both = asyncio.Event()

    async def wait_for_other(name: str) -> str:
        started.append(name)
        if len(started) == 2:
            both.set()
        await asyncio.wait_for(both.wait(), timeout=5)
        return name

    @of.asset
    async def left() -> str:
        return await wait_for_other("left")

    @of.asset
    async def right() -> str:
        return await wait_for_other("right")

    @of.asset
    def joined(left: str, right: str) -> str:
        return left + right

    result = of.materialize_to_memory([left, right, joined])
    assert result.asset_value("joined") == "leftright"


def test_job_composition_and_execute_in_process() -> None:
    """op_b(op_a()) wires outputs; job resources win over those passed at run time? No:
    run-time resources win over the job's own."""

    @of.op
    def numbers(db: Db) -> list[int]:
        return [len(db.url)]

    @of.op
    def doubled(numbers: list[int]) -> list[int]:
        return [2 * n for n in numbers]

    @of.job(resource_defs={"db": Db(url="abc")})
    def pipeline() -> None:
        doubled(numbers())

    assert pipeline.execute_in_process().output_for_node("doubled") == [6]
    result = pipeline.execute_in_process(resources={"db": Db(url="a")})
    assert result.output_for_node("doubled") == [2]


def test_job_composition_errors() -> None:
    """Wrong inputs inside a job body are definition errors naming the op."""

    @of.op
    def one(x: int) -> int:
        return x

    with pytest.raises(DefinitionError, match="op 'one' is missing input"):

        @of.job
        def broken() -> None:
            one()


def test_direct_invocation_runs_resource_lifecycles() -> None:
    """Calling an asset with resources as kwargs opens and closes them around the call."""
    events: list[str] = []

    class Conn(of.ConfigurableResource):
        @contextlib.contextmanager
        def yield_for_execution(self, context: Any) -> Iterator[Conn]:
            events.append("open")
            yield self
            events.append("close")

    @of.asset
    def uses(conn: Conn) -> str:
        events.append("step")
        return "ok"

    assert uses(conn=Conn()) == "ok"
    assert events == ["open", "step", "close"]
    with pytest.raises(InvocationError, match="needs resource"):
        uses()


def test_build_asset_context_requires_with_for_cleanup_resources() -> None:
    """A context-manager resource through a plain context raises the with-usage hint."""

    @of.resource
    def conn(context: Any) -> Iterator[str]:
        yield "c"

    @of.asset(required_resource_keys={"conn"})
    def reads(context: of.AssetExecutionContext) -> str:
        return str(context.resources.conn)

    plain = of.build_asset_context(resources={"conn": conn})
    with pytest.raises(InvocationError, match="with build_asset_context"):
        reads(plain)
    with of.build_asset_context(resources={"conn": conn}) as ctx:
        assert reads(ctx) == "c"


def test_definitions_report_every_problem_at_once() -> None:
    """Missing keys (did-you-mean), type mismatch, unknown deps and duplicates in one error."""

    class Other(of.ConfigurableResource):
        pass

    @of.asset(deps=["nowhere"])
    def a(db: Db, cache: Other) -> int:
        return 1

    @of.asset(name="a")
    def a_again() -> int:
        return 2

    with pytest.raises(DefinitionError) as info:
        of.Definitions(assets=[a, a_again], resources={"dbb": Db(url="x"), "cache": Db(url="y")})
    text = str(info.value)
    assert "asset key 'a' is defined twice" in text
    assert "asset 'a' depends on unknown asset 'nowhere'" in text
    assert "requires resource 'db', which is not bound. Did you mean 'dbb'?" in text
    assert "parameter 'cache': expects Other, but the resource bound at 'cache' is Db" in text


def test_definitions_jobs_and_resource_override_order() -> None:
    """Job-level resources win over Definitions-level ones; get_job_def suggests names."""

    @of.op
    def url(db: Db) -> str:
        return db.url

    @of.job(resource_defs={"db": Db(url="job")})
    def show() -> None:
        url()

    defs = of.Definitions(jobs=[show], resources={"db": Db(url="defs")})
    assert defs.get_job_def("show").execute_in_process().output_for_node("url") == "job"
    with pytest.raises(DefinitionError, match="Did you mean 'show'"):
        defs.get_job_def("shw")


def test_with_resources_binds_per_asset_resources() -> None:
    """with_resources attaches resources (and config) to assets."""

    @of.asset
    def url_of(db: Db) -> str:
        return db.url

    [bound] = of.with_resources([url_of], {"db": Db(url="a")}, {"db": {"config": {"url": "b"}}})
    assert of.materialize_to_memory([bound]).asset_value("url_of") == "b"


def test_runs_from_two_threads_do_not_share_resources() -> None:
    """Concurrent runs of the same definitions get separate resource copies."""
    seen: list[Db] = []
    barrier = threading.Barrier(2)

    @of.asset
    def ident(db: Db) -> int:
        seen.append(db)
        barrier.wait(timeout=10)
        return 1

    threads = [
        threading.Thread(target=lambda: of.materialize_to_memory([ident], {"db": Db(url="x")}))
        for _ in range(2)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(seen) == 2
    assert seen[0] is not seen[1]


def test_a_failed_step_reaches_context_manager_resources_at_close() -> None:
    """A transaction resource sees the failing step's exception and rolls back."""
    outcome: list[str] = []

    class Tx(of.ConfigurableResource):
        @contextlib.contextmanager
        def yield_for_execution(self, context: Any) -> Iterator[Tx]:
            try:
                yield self
            except ValueError:
                outcome.append("rollback")
                raise
            outcome.append("commit")

    @of.asset
    def fails(tx: Tx) -> int:
        raise ValueError("bad row")

    @of.asset
    def works(tx: Tx) -> int:
        return 1

    of.materialize_to_memory([works], resources={"tx": Tx()})
    result = of.materialize_to_memory([fails], resources={"tx": Tx()}, raise_on_error=False)
    assert not result.success
    assert outcome == ["commit", "rollback"]


def test_definitions_catch_cycles_partials_and_accept_spec_mocks() -> None:
    """Asset cycles and unbound partial nested resources are reported; spec'd mocks pass."""
    from unittest.mock import MagicMock

    class Creds(of.ConfigurableResource):
        user: str

    class Bucket(of.ConfigurableResource):
        creds: Creds

    @of.asset(ins={"b": of.AssetIn("b")})
    def a(b: int) -> int:
        return b

    @of.asset(ins={"a": of.AssetIn("a")})
    def b(a: int) -> int:
        return a

    @of.asset
    def stored(bucket: Bucket, db: Db) -> int:
        return 1

    with pytest.raises(DefinitionError) as info:
        of.Definitions(
            assets=[a, b, stored],
            resources={
                "bucket": Bucket(creds=Creds.configure_at_launch()),
                "db": MagicMock(spec=Db),
            },
        )
    text = str(info.value)
    assert "depend on each other in a cycle" in text
    assert "resource 'bucket', field 'creds'" in text
    assert "parameter 'db'" not in text


def test_mixing_required_resource_keys_and_resource_parameters_is_an_error() -> None:
    """One style of asking for resources per step."""
    with pytest.raises(DefinitionError, match="declares required_resource_keys and also takes"):

        @of.asset(required_resource_keys={"db"})
        def both(context: Any, cache: Db) -> int:
            return 1


def test_build_op_context_and_tags_are_recorded() -> None:
    """Ops receive an OpExecutionContext; materialize tags land on the run record."""

    @of.op
    def uses_context(context: of.OpExecutionContext) -> str:
        assert not context.has_asset_key
        return context.run_id

    assert uses_context(of.build_op_context()) == "ephemeral"

    @of.asset
    def tagged() -> int:
        return 1

    with of.Instance.ephemeral() as instance:
        result = of.materialize([tagged], instance=instance, tags={"team": "data"})
        assert result.run is not None
        assert result.run.tags == {"team": "data"}
