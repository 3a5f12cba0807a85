"""``Instance``: run records and events in an embedded SQLite database.

Events are buffered in memory and written in batches (one ``executemany`` per flush): a flush
happens on every run status change, on every read, when the buffer is full, and on close. Run
config is stored redacted: EnvVars as ``{"env": NAME}``, secrets masked.
"""

from __future__ import annotations

import enum
import json
import os
import shutil
import sqlite3
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any

from ..exceptions import ConfigError

__all__ = [
    "MIGRATIONS",
    "EventRecord",
    "EventType",
    "Instance",
    "InstigatorState",
    "RunRecord",
    "RunStatus",
    "TickRecord",
    "event_row",
]


class RunStatus(enum.StrEnum):
    """Where a run is in its life."""

    QUEUED = "QUEUED"
    STARTED = "STARTED"
    SUCCESS = "SUCCESS"
    FAILURE = "FAILURE"
    CANCELED = "CANCELED"

    @property
    def is_finished(self) -> bool:
        """True for SUCCESS, FAILURE and CANCELED."""
        return self in (RunStatus.SUCCESS, RunStatus.FAILURE, RunStatus.CANCELED)


class EventType(enum.StrEnum):
    """What an event records."""

    RUN_START = "RUN_START"
    RUN_SUCCESS = "RUN_SUCCESS"
    RUN_FAILURE = "RUN_FAILURE"
    RUN_CANCELED = "RUN_CANCELED"
    STEP_START = "STEP_START"
    STEP_SUCCESS = "STEP_SUCCESS"
    STEP_FAILURE = "STEP_FAILURE"
    STEP_SKIPPED = "STEP_SKIPPED"
    STEP_RETRY = "STEP_RETRY"
    RESOURCE_OPEN = "RESOURCE_OPEN"
    RESOURCE_CLOSE = "RESOURCE_CLOSE"
    RESOURCE_FAILURE = "RESOURCE_FAILURE"
    ASSET_MATERIALIZATION = "ASSET_MATERIALIZATION"
    HANDLED_OUTPUT = "HANDLED_OUTPUT"
    LOADED_INPUT = "LOADED_INPUT"
    LOG = "LOG"


@dataclass(frozen=True, slots=True)
class RunRecord:
    """One run as stored."""

    run_id: str
    job_name: str
    status: RunStatus
    start_time: float | None
    end_time: float | None
    tags: dict[str, str]
    run_config: Any


@dataclass(frozen=True, slots=True)
class TickRecord:
    """One evaluation of a sensor or schedule."""

    id: int
    name: str
    kind: str
    timestamp: float
    status: str
    run_ids: list[str]
    skip_reason: str | None
    error: str | None
    cursor: str | None


@dataclass(frozen=True, slots=True)
class InstigatorState:
    """A sensor's or schedule's stored status, cursor and last tick time."""

    name: str
    kind: str
    status: str
    cursor: str | None
    last_tick_time: float | None


@dataclass(frozen=True, slots=True)
class EventRecord:
    """One event as stored."""

    id: int
    run_id: str
    timestamp: float
    event_type: EventType
    step_key: str | None
    resource_key: str | None
    message: str
    duration: float | None
    data: Any


def _v1(conn: sqlite3.Connection) -> None:
    # One statement at a time: executescript() would commit the migration's transaction.
    conn.execute(
        """create table runs (
            run_id text primary key,
            job_name text not null,
            status text not null,
            created_time real not null,
            start_time real,
            end_time real,
            tags text not null,
            run_config text
        )"""
    )
    conn.execute("create index runs_by_created on runs (created_time)")
    conn.execute(
        """create table event_chunks (
            first_id integer primary key,
            run_id text not null,
            count integer not null,
            events text not null
        )"""
    )
    conn.execute("create index event_chunks_by_run on event_chunks (run_id, first_id)")


def _v2(conn: sqlite3.Connection) -> None:
    """Sensors and schedules: their status and cursor, their ticks, the run keys they used."""
    conn.execute(
        """create table instigators (
            name text primary key,
            kind text not null,
            status text not null,
            cursor text,
            last_tick_time real
        )"""
    )
    conn.execute(
        """create table ticks (
            id integer primary key autoincrement,
            name text not null,
            kind text not null,
            timestamp real not null,
            status text not null,
            run_ids text not null,
            skip_reason text,
            error text,
            cursor text
        )"""
    )
    conn.execute("create index ticks_by_name on ticks (name, id)")
    conn.execute(
        """create table run_keys (
            name text not null,
            run_key text not null,
            run_id text,
            primary key (name, run_key)
        )"""
    )


Migration = Callable[[sqlite3.Connection], None]
MIGRATIONS: list[Migration] = [_v1, _v2]
"""Schema migrations in order; migration ``i`` brings the schema to version ``i + 1``."""

_FLUSH_AT = 2000


def _redact(run_config: Any) -> Any:
    if run_config is None:
        return None
    from .._config.run_config import RunConfig
    from .._resources.configurable import redacted_config

    if isinstance(run_config, RunConfig):
        run_config = run_config.to_config_dict()
    return redacted_config(run_config)


def _use_wal(conn: sqlite3.Connection) -> None:
    """Switch a file database to WAL (once; later opens find it set). Switching may report
    "locked" without waiting while another process holds the file, so it is retried."""
    deadline = time.monotonic() + 30
    while True:
        try:
            (mode,) = conn.execute("pragma journal_mode").fetchone()
            if str(mode).lower() != "wal":
                conn.execute("pragma journal_mode=WAL")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() > deadline:
                raise
            time.sleep(0.02)


def event_row(
    event_type: EventType,
    step_key: str | None = None,
    resource_key: str | None = None,
    message: str = "",
    duration: float | None = None,
    data: Any = None,
) -> tuple[Any, ...]:
    """An event as :meth:`Instance.record_events` takes it, stamped now."""
    return (time.time_ns() // 1000, event_type, step_key, resource_key, message, duration, data)


class Instance:
    """Where runs and their events are recorded (an embedded SQLite database) and where I/O
    managers keep files (``storage_directory()``).

    Use ``Instance.ephemeral()`` in tests, ``Instance.local(path)`` for a directory, or
    ``Instance.get()`` for ``OUTFITTER_HOME`` (default ``./.outfitter``). Each works plain or
    as a context manager.

    Example:
        >>> from outfitter import Instance
        >>> with Instance.ephemeral() as instance:
        ...     run = instance.create_run("nightly")
        ...     instance.get_run(run.run_id).status
        <RunStatus.QUEUED: 'QUEUED'>
    """

    def __init__(
        self,
        database: str,
        storage: str,
        *,
        cleanup_storage: bool = False,
        migrations: Sequence[Migration] | None = None,
    ) -> None:
        self._database = database
        self._storage = storage
        self._cleanup_storage = cleanup_storage
        self._lock = threading.Lock()
        self._buffers: dict[str, list[tuple[Any, ...]]] = {}
        self._buffered = 0
        self._closed = False
        os.makedirs(storage, exist_ok=True)
        conn = sqlite3.connect(database, check_same_thread=False, timeout=30.0)
        self._conn = conn
        try:
            conn.execute("pragma busy_timeout=30000")
            if database != ":memory:":
                _use_wal(conn)
                conn.execute("pragma synchronous=NORMAL")
            self._migrate(list(MIGRATIONS if migrations is None else migrations))
        except BaseException:
            conn.close()
            raise

    # -- constructors ---------------------------------------------------------------------------

    @classmethod
    def ephemeral(cls) -> Instance:
        """An in-memory instance with a temporary storage directory (removed on close)."""
        return cls(":memory:", tempfile.mkdtemp(prefix="outfitter-"), cleanup_storage=True)

    @classmethod
    def local(cls, path: str | os.PathLike[str]) -> Instance:
        """An instance in directory ``path`` (``runs.db`` and ``storage/`` inside it)."""
        root = Path(path)
        root.mkdir(parents=True, exist_ok=True)
        return cls(str(root / "runs.db"), str(root / "storage"))

    @classmethod
    def get(cls) -> Instance:
        """The instance at ``OUTFITTER_HOME`` (default ``./.outfitter``)."""
        from .._config.settings import get_settings

        return cls.local(get_settings().home)

    # -- schema ---------------------------------------------------------------------------------

    def _migrate(self, migrations: list[Migration]) -> None:
        # Under the write lock, so two processes opening a new database at once migrate it once.
        conn = self._conn
        conn.execute("begin immediate")
        try:
            conn.execute("create table if not exists schema_version (version integer not null)")
            row = conn.execute("select version from schema_version").fetchone()
            current = row[0] if row else 0
            if row is None:
                conn.execute("insert into schema_version values (0)")
            if current > len(migrations):
                raise ConfigError(
                    f"the instance database {self._database} has schema version {current}, "
                    f"newer than this Outfitter understands ({len(migrations)})",
                    hint="upgrade outfitter, or point OUTFITTER_HOME at another directory.",
                )
            for version in range(current, len(migrations)):
                migrations[version](conn)
                conn.execute("update schema_version set version = ?", (version + 1,))
        except BaseException:
            conn.rollback()
            raise
        conn.commit()

    @property
    def schema_version(self) -> int:
        """The schema version of the database."""
        with self._lock:
            return int(self._conn.execute("select version from schema_version").fetchone()[0])

    # -- runs -----------------------------------------------------------------------------------

    def storage_directory(self) -> str:
        """The directory where I/O managers keep outputs for this instance."""
        return self._storage

    def create_run(
        self,
        job_name: str,
        *,
        run_config: Any = None,
        tags: dict[str, str] | None = None,
        run_id: str | None = None,
        status: RunStatus = RunStatus.QUEUED,
    ) -> RunRecord:
        """Record a new run (its config redacted) and return its record."""
        record = RunRecord(
            run_id or uuid.uuid4().hex,
            job_name,
            status,
            None,
            None,
            dict(tags or {}),
            _redact(run_config),
        )
        with self._lock:
            self._flush_locked()
            with self._conn:
                self._conn.execute(
                    "insert into runs values (?, ?, ?, ?, ?, ?, ?, ?)",
                    (
                        record.run_id,
                        job_name,
                        status.value,
                        time.time(),
                        None,
                        None,
                        json.dumps(record.tags),
                        json.dumps(record.run_config, default=str),
                    ),
                )
        return record

    def set_run_status(self, run_id: str, status: RunStatus) -> None:
        """Change a run's status; STARTED stamps the start time, finished statuses the end."""
        now = time.time()
        with self._lock:
            self._flush_locked()
            with self._conn:
                if status is RunStatus.STARTED:
                    self._conn.execute(
                        "update runs set status = ?, start_time = ? where run_id = ?",
                        (status.value, now, run_id),
                    )
                elif status.is_finished:
                    self._conn.execute(
                        "update runs set status = ?, end_time = ? where run_id = ?",
                        (status.value, now, run_id),
                    )
                else:
                    self._conn.execute(
                        "update runs set status = ? where run_id = ?", (status.value, run_id)
                    )

    def get_run(self, run_id: str) -> RunRecord | None:
        """The run's record, or None."""
        with self._lock:
            self._flush_locked()
            row = self._conn.execute(
                "select run_id, job_name, status, start_time, end_time, tags, run_config "
                "from runs where run_id = ?",
                (run_id,),
            ).fetchone()
        return None if row is None else _run(row)

    def get_runs(
        self,
        *,
        limit: int | None = None,
        status: RunStatus | None = None,
        job_name: str | None = None,
    ) -> list[RunRecord]:
        """Runs, newest first, optionally filtered."""
        sql = "select run_id, job_name, status, start_time, end_time, tags, run_config from runs"
        where, args = [], []
        if status is not None:
            where.append("status = ?")
            args.append(status.value)
        if job_name is not None:
            where.append("job_name = ?")
            args.append(job_name)
        if where:
            sql += " where " + " and ".join(where)
        sql += " order by created_time desc, rowid desc"
        if limit is not None:
            sql += f" limit {int(limit)}"
        with self._lock:
            self._flush_locked()
            rows = self._conn.execute(sql, args).fetchall()
        return [_run(r) for r in rows]

    # -- events ---------------------------------------------------------------------------------

    def report_event(
        self,
        run_id: str,
        event_type: EventType,
        *,
        step_key: str | None = None,
        resource_key: str | None = None,
        message: str = "",
        duration: float | None = None,
        data: Any = None,
    ) -> None:
        """Record an event (buffered; written at the next flush)."""
        self.record_events(
            run_id,
            [event_row(event_type, step_key, resource_key, message, duration, data)],
        )

    def record_events(self, run_id: str, events: list[tuple[Any, ...]]) -> None:
        """Buffer already-built events: ``(time_us, type, step, resource, message, duration,
        data)`` tuples, with the time in integer microseconds. Used by the engine's hot path."""
        with self._lock:
            buffer = self._buffers.get(run_id)
            if buffer is None:
                self._buffers[run_id] = list(events)
            else:
                buffer.extend(events)
            self._buffered += len(events)
            if self._buffered >= _FLUSH_AT:
                self._flush_locked()

    def all_events(self, run_id: str, *, event_type: EventType | None = None) -> list[EventRecord]:
        """The run's events in the order they happened (optionally of one type)."""
        with self._lock:
            self._flush_locked()
            rows = self._conn.execute(
                "select first_id, events from event_chunks where run_id = ? order by first_id",
                (run_id,),
            ).fetchall()
        wanted = None if event_type is None else event_type.value
        out = []
        for first_id, payload in rows:
            for offset, (ts, kind, step, res, msg, dur, data) in enumerate(json.loads(payload)):
                if wanted is None or kind == wanted:
                    out.append(
                        EventRecord(
                            first_id + offset,
                            run_id,
                            ts / 1e6,
                            EventType(kind),
                            step,
                            res,
                            msg,
                            dur,
                            data,
                        )
                    )
        return out

    def flush(self) -> None:
        """Write buffered events now."""
        with self._lock:
            self._flush_locked()

    def _flush_locked(self) -> None:
        if self._closed:
            return
        if not self._buffered:
            return
        buffers = self._buffers
        self._buffers = {}
        self._buffered = 0
        conn = self._conn
        # Events are stored in chunks: one row per run per flush, holding a JSON array. One
        # insert per flush instead of one per event keeps recording off the step's hot path.
        # Ids are assigned under the database's write lock, so processes can share the file.
        conn.execute("begin immediate")
        try:
            last = conn.execute(
                "select first_id + count from event_chunks order by first_id desc limit 1"
            ).fetchone()
            next_id = last[0] if last else 1
            chunks = []
            for run, events in buffers.items():
                chunks.append((next_id, run, len(events), json.dumps(events, default=str)))
                next_id += len(events)
            conn.executemany("insert into event_chunks values (?, ?, ?, ?)", chunks)
        except BaseException:
            conn.rollback()
            raise
        conn.commit()

    # -- sensors and schedules ------------------------------------------------------------------

    def get_instigator(self, name: str) -> InstigatorState | None:
        """The stored state of a sensor or schedule, or None if it never ran or was toggled."""
        with self._lock:
            row = self._conn.execute(
                "select name, kind, status, cursor, last_tick_time from instigators where name = ?",
                (name,),
            ).fetchone()
        return None if row is None else InstigatorState(*row)

    def set_instigator(
        self,
        name: str,
        kind: str,
        *,
        status: str | None = None,
        cursor: str | None = None,
        last_tick_time: float | None = None,
        default_status: str = "STOPPED",
    ) -> InstigatorState:
        """Create or update a sensor's/schedule's state; fields left None keep their value."""
        with self._lock, self._conn:
            self._conn.execute(
                "insert or ignore into instigators (name, kind, status) values (?, ?, ?)",
                (name, kind, default_status),
            )
            if status is not None:
                self._conn.execute(
                    "update instigators set status = ? where name = ?", (status, name)
                )
            if cursor is not None:
                self._conn.execute(
                    "update instigators set cursor = ? where name = ?", (cursor, name)
                )
            if last_tick_time is not None:
                self._conn.execute(
                    "update instigators set last_tick_time = ? where name = ?",
                    (last_tick_time, name),
                )
        state = self.get_instigator(name)
        assert state is not None
        return state

    def record_tick(
        self,
        name: str,
        kind: str,
        *,
        timestamp: float,
        status: str,
        run_ids: list[str] | None = None,
        skip_reason: str | None = None,
        error: str | None = None,
        cursor: str | None = None,
    ) -> None:
        """Record one evaluation (SUCCESS, SKIPPED or FAILURE)."""
        with self._lock, self._conn:
            self._conn.execute(
                "insert into ticks (name, kind, timestamp, status, run_ids, skip_reason, error, "
                "cursor) values (?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    name,
                    kind,
                    timestamp,
                    status,
                    json.dumps(run_ids or []),
                    skip_reason,
                    error,
                    cursor,
                ),
            )

    def get_ticks(self, name: str, limit: int | None = None) -> list[TickRecord]:
        """Ticks of a sensor or schedule, newest first."""
        sql = (
            "select id, name, kind, timestamp, status, run_ids, skip_reason, error, cursor "
            "from ticks where name = ? order by id desc"
        )
        if limit is not None:
            sql += f" limit {int(limit)}"
        with self._lock:
            rows = self._conn.execute(sql, (name,)).fetchall()
        return [
            TickRecord(r[0], r[1], r[2], r[3], r[4], json.loads(r[5]), r[6], r[7], r[8])
            for r in rows
        ]

    def claim_run_key(self, name: str, run_key: str) -> bool:
        """Reserve ``run_key`` for ``name``; False if it was already used (never launch it)."""
        with self._lock, self._conn:
            cursor = self._conn.execute(
                "insert or ignore into run_keys (name, run_key) values (?, ?)", (name, run_key)
            )
            return cursor.rowcount == 1

    def release_run_key(self, name: str, run_key: str) -> None:
        """Give a claimed key back (its run could not be launched)."""
        with self._lock, self._conn:
            self._conn.execute(
                "delete from run_keys where name = ? and run_key = ? and run_id is null",
                (name, run_key),
            )

    def set_run_key_run(self, name: str, run_key: str, run_id: str) -> None:
        """Remember which run a key launched."""
        with self._lock, self._conn:
            self._conn.execute(
                "update run_keys set run_id = ? where name = ? and run_key = ?",
                (run_id, name, run_key),
            )

    # -- lifetime -------------------------------------------------------------------------------

    def close(self) -> None:
        """Flush and close the database (and remove an ephemeral storage directory)."""
        with self._lock:
            if self._closed:
                return
            self._flush_locked()
            self._closed = True
            self._conn.close()
        if self._cleanup_storage:
            shutil.rmtree(self._storage, ignore_errors=True)

    def __enter__(self) -> Instance:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"Instance({self._database!r})"


def _run(row: tuple[Any, ...]) -> RunRecord:
    return RunRecord(
        row[0],
        row[1],
        RunStatus(row[2]),
        row[3],
        row[4],
        json.loads(row[5]),
        None if row[6] is None else json.loads(row[6]),
    )
