"""The SQLite instance: runs, events, schema migrations, redaction, concurrency."""

from __future__ import annotations

import multiprocessing
import sqlite3
import threading
from pathlib import Path

import pytest
from pydantic import SecretStr

import outfitter as of
from outfitter._instance import EventType, Instance, RunStatus
from outfitter._instance import instance as instance_module
from outfitter.exceptions import ConfigError
from outfitter.testing import IsolatedEnv


def test_runs_are_recorded_with_status_times_and_tags(outfitter_instance: Instance) -> None:
    """create_run / set_run_status / get_run(s) round-trip."""
    inst = outfitter_instance
    first = inst.create_run("a", tags={"team": "data"})
    second = inst.create_run("b")
    inst.set_run_status(first.run_id, RunStatus.STARTED)
    inst.set_run_status(first.run_id, RunStatus.SUCCESS)
    record = inst.get_run(first.run_id)
    assert record is not None
    assert record.status is RunStatus.SUCCESS
    assert record.start_time is not None
    assert record.end_time is not None
    assert record.tags == {"team": "data"}
    assert [r.run_id for r in inst.get_runs()] == [second.run_id, first.run_id]
    assert [r.job_name for r in inst.get_runs(status=RunStatus.SUCCESS)] == ["a"]
    assert inst.get_runs(job_name="b", limit=1)[0].run_id == second.run_id
    assert inst.get_run("nope") is None


def test_events_keep_order_types_and_fields(outfitter_instance: Instance) -> None:
    """Events come back in order with their fields; filtering by type works."""
    inst = outfitter_instance
    run = inst.create_run("j")
    inst.report_event(run.run_id, EventType.RUN_START)
    inst.report_event(run.run_id, EventType.RESOURCE_OPEN, resource_key="db", duration=0.5)
    inst.report_event(
        run.run_id, EventType.STEP_FAILURE, step_key="s", message="boom", data={"n": 1}
    )
    events = inst.all_events(run.run_id)
    assert [e.event_type for e in events] == [
        EventType.RUN_START,
        EventType.RESOURCE_OPEN,
        EventType.STEP_FAILURE,
    ]
    assert events[1].resource_key == "db"
    assert events[1].duration == 0.5
    assert (events[2].step_key, events[2].message, events[2].data) == ("s", "boom", {"n": 1})
    assert [e.id for e in events] == sorted(e.id for e in events)
    only = inst.all_events(run.run_id, event_type=EventType.RESOURCE_OPEN)
    assert [e.resource_key for e in only] == ["db"]


def test_events_from_many_threads_are_all_kept(outfitter_instance: Instance) -> None:
    """Concurrent report_event calls lose nothing."""
    inst = outfitter_instance
    run = inst.create_run("j")

    def emit() -> None:
        for i in range(3000):
            inst.report_event(run.run_id, EventType.LOG, message=str(i))

    threads = [threading.Thread(target=emit) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(inst.all_events(run.run_id)) == 12000


def _write_runs(path: str, n: int) -> None:
    with Instance.local(path) as inst:
        for _ in range(n):
            run = inst.create_run("proc")
            inst.report_event(run.run_id, EventType.RUN_START)
            inst.set_run_status(run.run_id, RunStatus.SUCCESS)


def test_two_processes_share_a_local_instance(tmp_path: Path) -> None:
    """Two processes writing one database both succeed (WAL + busy timeout)."""
    ctx = multiprocessing.get_context("spawn")
    procs = [ctx.Process(target=_write_runs, args=(str(tmp_path), 20)) for _ in range(2)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(60)
        assert p.exitcode == 0
    with Instance.local(tmp_path) as inst:
        runs = inst.get_runs()
        assert len(runs) == 40
        ids = [e.id for r in runs for e in inst.all_events(r.run_id)]
        assert len(ids) == len(set(ids)) == 40


def test_local_instance_uses_wal_and_storage_directory(tmp_path: Path) -> None:
    """A local instance is a WAL SQLite file with a storage directory beside it."""
    with Instance.local(tmp_path) as inst:
        assert Path(inst.storage_directory()) == tmp_path / "storage"
        assert inst.schema_version == len(instance_module.MIGRATIONS)
    conn = sqlite3.connect(tmp_path / "runs.db")
    try:
        assert conn.execute("pragma journal_mode").fetchone()[0] == "wal"
    finally:
        conn.close()


def test_get_reads_outfitter_home(outfitter_env: IsolatedEnv) -> None:
    """Instance.get() lives under OUTFITTER_HOME (the plugin's outfitter_env sets it)."""
    with Instance.get() as inst:
        assert Path(inst.storage_directory()) == outfitter_env.home / "storage"


def test_ephemeral_storage_is_removed_on_close() -> None:
    """An ephemeral instance removes its temporary storage directory; close is idempotent."""
    inst = Instance.ephemeral()
    storage = Path(inst.storage_directory())
    assert storage.is_dir()
    inst.close()
    inst.close()
    assert not storage.exists()


def test_older_schema_is_migrated(tmp_path: Path) -> None:
    """Opening a database at an older version runs the missing migrations."""
    with Instance.local(tmp_path):
        pass

    def next_version(conn: sqlite3.Connection) -> None:
        conn.execute("alter table runs add column note text")

    migrations = [*instance_module.MIGRATIONS, next_version]
    db = str(tmp_path / "runs.db")
    with Instance(db, str(tmp_path / "storage"), migrations=migrations) as inst:
        assert inst.schema_version == len(migrations)
    conn = sqlite3.connect(db)
    try:
        columns = [row[1] for row in conn.execute("pragma table_info(runs)")]
    finally:
        conn.close()
    assert "note" in columns


def test_newer_schema_is_refused_with_a_hint(tmp_path: Path) -> None:
    """A database from a newer Outfitter is a ConfigError naming both versions."""
    with Instance.local(tmp_path):
        pass
    conn = sqlite3.connect(tmp_path / "runs.db")
    with conn:
        conn.execute("update schema_version set version = 99")
    conn.close()
    with pytest.raises(ConfigError) as info:
        Instance.local(tmp_path)
    assert "schema version 99" in str(info.value)
    assert "upgrade outfitter" in str(info.value)


def test_no_secret_reaches_the_database_file_or_logs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """EnvVar values and SecretStr values never reach the database file or a log line."""
    monkeypatch.setenv("SECRET_X", "s3cr3t-env-value")

    class Creds(of.ConfigurableResource):
        user: str
        password: str
        token: SecretStr

    @of.asset
    def uses(creds: Creds) -> str:
        return creds.user

    creds = Creds.configure_at_launch(user="svc")
    launch = of.RunConfig(
        resources={
            "creds": {
                "config": {
                    "password": of.EnvVar("SECRET_X"),
                    "token": SecretStr("hunter2-secret"),
                }
            }
        }
    )
    caplog.set_level("DEBUG")
    with Instance.local(tmp_path) as inst:
        result = of.materialize_to_memory(
            [uses], resources={"creds": creds}, run_config=launch, instance=inst
        )
        assert result.success
        stored = inst.get_run(result.run_id)
        assert stored is not None
        assert stored.run_config["resources"]["creds"]["config"]["password"] == {"env": "SECRET_X"}
    data = b"".join(p.read_bytes() for p in tmp_path.rglob("runs.db*"))
    assert b"s3cr3t-env-value" not in data
    assert b"hunter2-secret" not in data
    assert b"SECRET_X" in data
    assert "s3cr3t-env-value" not in caplog.text
    assert "hunter2-secret" not in caplog.text


def test_a_version_1_database_gains_the_sensor_tables(tmp_path: Path) -> None:
    """A database written before sensors existed is upgraded when opened, runs kept."""
    db, storage = str(tmp_path / "runs.db"), str(tmp_path / "storage")
    with Instance(db, storage, migrations=instance_module.MIGRATIONS[:1]) as old:
        run = old.create_run("before")
        assert old.schema_version == 1
    with Instance.local(tmp_path) as new:
        assert new.schema_version == len(instance_module.MIGRATIONS)
        assert new.get_run(run.run_id) is not None
        assert new.claim_run_key("sensor", "k")
        assert not new.claim_run_key("sensor", "k")
