"""``Instance``: run records and events in an embedded SQLite database.

Events are buffered in memory and written in batches (one ``executemany`` per flush): a flush
happens on every run status change, on every read, when the buffer is full, and on close; while
a run goes, its driver also flushes at least every quarter second when events wait (and after a
long step), so other processes see a running run's events live (:meth:`Instance.events_after`
follows them). Run config is stored redacted: EnvVars as ``{"env": NAME}``, secrets masked.

Run monitoring lives here too: the process that marks a run STARTED is recorded as the run's
process (pid, host, and on Linux an identity that survives pid reuse), it heartbeats while the
run goes (:mod:`outfitter._execution.heartbeat`), and :meth:`Instance.mark_dead_runs` (called
when a local instance opens, by the daemon on every tick, and by anyone who wants) fails the
STARTED runs whose process is gone.
"""

from __future__ import annotations

import enum
import functools
import json
import logging
import os
import shutil
import signal
import socket
import sqlite3
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any, Concatenate, ParamSpec, TypeVar

from ..exceptions import ConfigError

__all__ = [
    "HEARTBEAT_INTERVAL",
    "MIGRATIONS",
    "STALE_AFTER",
    "EventRecord",
    "EventType",
    "Instance",
    "InstigatorState",
    "RunRecord",
    "RunSignal",
    "RunStatus",
    "TickRecord",
    "event_row",
]


class RunStatus(enum.StrEnum):
    """Where a run is in its life (Dagster calls it ``DagsterRunStatus``).

    Example:
        >>> from outfitter import DagsterRunStatus
        >>> DagsterRunStatus.FAILURE.is_finished, DagsterRunStatus("STARTED").is_finished
        (True, False)
    """

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
    """What an event records: a run's and its steps' progress, resources opened and closed,
    outputs stored and inputs loaded, log lines.

    Example:
        >>> import outfitter as of
        >>> @of.asset
        ... def one() -> int:
        ...     return 1
        >>> with of.Instance.ephemeral() as instance:
        ...     run_id = of.materialize([one], instance=instance).run_id
        ...     kinds = [e.event_type for e in instance.all_events(run_id)]
        >>> kinds[0], of.EventType.STEP_SUCCESS in kinds
        (<EventType.RUN_START: 'RUN_START'>, True)
    """

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


class RunSignal(enum.StrEnum):
    """What :meth:`Instance.signal_run` did: ``SENT`` the signal, or why it sent none."""

    SENT = "SENT"
    """The run's process was alive on this host and got the signal."""
    NO_RUN = "NO_RUN"
    """No run has this id."""
    NOT_STARTED = "NOT_STARTED"
    """The run is QUEUED: no process runs it yet."""
    FINISHED = "FINISHED"
    """The run already ended (SUCCESS, FAILURE or CANCELED)."""
    ELSEWHERE = "ELSEWHERE"
    """Its process runs on another host (or in another pid namespace): it cannot be reached
    from here."""
    GONE = "GONE"
    """Its process no longer exists (or its pid now belongs to another process):
    :meth:`Instance.mark_dead_runs` records the run as FAILURE."""
    UNVERIFIED = "UNVERIFIED"
    """Its pid exists, but nothing recorded proves it is still the run's process (no process
    identity where it ran, and no recent heartbeat): a pid is never signalled on a guess."""
    DENIED = "DENIED"
    """The process belongs to another user."""
    OWN_PROCESS = "OWN_PROCESS"
    """The process asking runs the run itself (signalling would stop the asker too)."""


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
    pid: int | None = None
    """The pid of the process that started the run (None until it started)."""
    host: str | None = None
    """The host name of that process."""
    heartbeat_time: float | None = None
    """When that process last showed it was alive (epoch seconds)."""


def _new_run(
    job_name: str,
    run_config: Any,
    tags: dict[str, str] | None,
    status: RunStatus,
    run_id: str | None = None,
) -> RunRecord:
    """The record of a run about to be created: a new id unless given, its config redacted."""
    return RunRecord(
        run_id or uuid.uuid4().hex,
        job_name,
        status,
        None,
        None,
        dict(tags or {}),
        _redact(run_config),
    )


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


def _v3(conn: sqlite3.Connection) -> None:
    """Run monitoring: the process running each run and its last heartbeat; run keys point at
    the run they launched from the moment they are claimed."""
    conn.execute("alter table runs add column heartbeat_time real")
    conn.execute("alter table runs add column pid integer")
    conn.execute("alter table runs add column host text")
    conn.execute("alter table runs add column process text")
    conn.execute("create index runs_by_status on runs (status)")


def _v4(conn: sqlite3.Connection) -> None:
    """Runs listed a page at a time, newest first, by status or by job, stay fast with many
    runs (the UI's runs page): each filter has an index in creation order."""
    conn.execute("create index runs_by_status_created on runs (status, created_time)")
    conn.execute("create index runs_by_job_created on runs (job_name, created_time)")


Migration = Callable[[sqlite3.Connection], None]
MIGRATIONS: list[Migration] = [_v1, _v2, _v3, _v4]
"""Schema migrations in order; migration ``i`` brings the schema to version ``i + 1``."""

_FLUSH_AT = 2000

HEARTBEAT_INTERVAL = 5.0
"""Seconds between two heartbeats of a running run's process."""

STALE_AFTER = 60.0
"""Seconds without a heartbeat after which a run whose process cannot be checked from here (it
ran on another host) counts as dead: twelve missed heartbeats."""

_LOG = logging.getLogger("outfitter.instance")
_RUN_COLUMNS = (
    "run_id, job_name, status, start_time, end_time, tags, run_config, pid, host, heartbeat_time"
)


# -- which process runs a run, and whether it still exists -----------------------------------------


def _read_text(path: str) -> str | None:
    try:
        with open(path) as f:
            return f.read()
    except OSError:
        return None


@functools.cache
def _machine() -> str | None:
    """Which kernel and pid namespace this process's pids belong to (Linux: the boot id and
    the pid namespace), or None where that cannot be read. Two processes with the same machine
    see the same pids, so one can tell whether the other's pid still exists."""
    boot = _read_text("/proc/sys/kernel/random/boot_id")
    try:
        namespace = os.readlink("/proc/self/ns/pid")
    except OSError:
        return None
    return None if boot is None else f"{boot.strip()}|{namespace}"


def _proc_stat(pid: int) -> tuple[str, str] | None:
    """A process's state letter and start time (clock ticks since boot), from /proc; None if
    there is no such process (or no /proc)."""
    stat = _read_text(f"/proc/{pid}/stat")
    if stat is None:
        return None
    fields = stat[stat.rindex(")") + 2 :].split()  # the command name may hold spaces
    return fields[0], fields[19]


def _this_process() -> tuple[int, str, str | None]:
    """This process's pid, host name and identity (machine and start time: a pid reused by
    another process has another start time), recorded with the runs it starts."""
    pid = os.getpid()
    return pid, socket.gethostname(), _identity(pid)


@functools.cache
def _identity(pid: int) -> str | None:
    machine = _machine()
    stat = _proc_stat(pid)
    return None if machine is None or stat is None else f"{machine}|{stat[1]}"


def _signal_process(
    pid: int, host: str | None, identity: str | None, beat: float | None, signum: int
) -> RunSignal:
    """Send ``signum`` to a run's process if it is alive on this host and still the process
    that started the run (its recorded identity); say why not otherwise."""
    if host == socket.gethostname() and pid == os.getpid():
        return RunSignal.OWN_PROCESS
    gone = _process_gone(pid, host, identity)
    if gone is None:
        return RunSignal.ELSEWHERE
    if gone:
        return RunSignal.GONE
    if identity is None and (beat is None or time.time() - beat > 2 * HEARTBEAT_INTERVAL):
        return RunSignal.UNVERIFIED
    pidfd_open = getattr(os, "pidfd_open", None)
    if identity is not None and pidfd_open is not None:
        # A pidfd holds on to the process it was opened for: checked again through it, the
        # signal cannot reach a process that took the pid between the check and the signal.
        try:
            fd = pidfd_open(pid)
        except ProcessLookupError:
            return RunSignal.GONE
        except OSError:  # no pidfd in this kernel: signal by pid below
            fd = None
        if fd is not None:
            try:
                if _process_gone(pid, host, identity):
                    return RunSignal.GONE
                signal.pidfd_send_signal(fd, signum)
            except ProcessLookupError:
                return RunSignal.GONE
            except PermissionError:
                return RunSignal.DENIED
            finally:
                os.close(fd)
            return RunSignal.SENT
    try:
        os.kill(pid, signum)
    except ProcessLookupError:
        return RunSignal.GONE
    except PermissionError:
        return RunSignal.DENIED
    return RunSignal.SENT


def _process_gone(pid: int, host: str | None, identity: str | None) -> bool | None:
    """Whether the process that runs a run is gone (True), alive (False), or cannot be checked
    from here (None: another host, or another pid namespace)."""
    if host != socket.gethostname():
        return None
    if identity is not None:
        machine, _, started = identity.rpartition("|")
        if machine != _machine():
            return None
        stat = _proc_stat(pid)
        # a zombie has exited (it waits to be reaped); another start time is another process
        return stat is None or stat[0] in "ZX" or stat[1] != started
    try:  # no /proc where it ran: signal 0 says whether the pid exists
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:  # it exists, owned by another user
        return False
    return False


P = ParamSpec("P")
R = TypeVar("R")


def _damage(database: str, exc: sqlite3.DatabaseError) -> ConfigError:
    return ConfigError(
        f"the instance database {database} is damaged and cannot be read ({exc})",
        hint="move it aside (or restore a backup): Outfitter then starts a new, empty one in its "
        "place. The sqlite3 command's `.recover` may get the old runs back.",
    )


Method = Callable[Concatenate["Instance", P], R]


def _checked(method: Method[P, R]) -> Method[P, R]:
    """A damaged database file (not SQLite, truncated, overwritten) is a ConfigError naming
    the file and the fix, whichever method finds it."""

    def checked(self: Instance, /, *args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return method(self, *args, **kwargs)
        except sqlite3.DatabaseError as exc:
            if type(exc) is not sqlite3.DatabaseError:  # locked, constraint, misuse: not damage
                raise
            raise _damage(self._database, exc) from None

    functools.update_wrapper(checked, method)  # name and docstring
    return checked


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


def decode_events(
    run_id: str, rows: Sequence[tuple[int, str]], event_type: EventType | None = None
) -> list[EventRecord]:
    """The events of :meth:`Instance.event_chunks`' chunks (optionally of one type)."""
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
        self._beat_lock = threading.Lock()
        self._beat_conn: sqlite3.Connection | None = None
        try:
            os.makedirs(storage, exist_ok=True)
        except OSError as exc:
            raise ConfigError(
                f"the instance's storage directory {storage} cannot be made: {exc.strerror}"
                + (" (a file is in the way)" if os.path.isfile(storage) else ""),
                hint="move the file away, or point the instance at another directory.",
            ) from None
        try:
            conn = sqlite3.connect(database, check_same_thread=False, timeout=30.0)
        except sqlite3.Error as exc:
            raise ConfigError(
                f"the instance database {database} cannot be opened: {exc}",
                hint="check that its directory exists and is writable.",
            ) from None
        self._conn = conn
        try:
            conn.execute("pragma busy_timeout=30000")
            if database != ":memory:":
                _use_wal(conn)
                conn.execute("pragma synchronous=NORMAL")
            self._migrate(list(MIGRATIONS if migrations is None else migrations))
        except sqlite3.DatabaseError as exc:
            conn.close()
            if type(exc) is not sqlite3.DatabaseError:
                raise
            raise _damage(database, exc) from None
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
        """An instance in directory ``path`` (``runs.db`` and ``storage/`` inside it). Opening
        it marks the runs whose process died as failed (:meth:`mark_dead_runs`)."""
        root = Path(path)
        if root.exists() and not root.is_dir():
            raise ConfigError(
                f"the instance directory {root} is a file, not a directory",
                hint="point OUTFITTER_HOME (or Instance.local) at a directory, or move the file "
                "away: Outfitter creates the directory.",
            )
        try:
            root.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise ConfigError(
                f"the instance directory {root} cannot be made: {exc.strerror}",
                hint="point OUTFITTER_HOME (or Instance.local) at a directory you can write to.",
            ) from None
        instance = cls(str(root / "runs.db"), str(root / "storage"))
        try:  # whoever opens the instance sees no run left STARTED by a process that died
            instance.mark_dead_runs()
        except sqlite3.Error as exc:  # e.g. a read-only file: the runs stay as they are
            _LOG.warning("could not check %s for dead runs: %s", instance, exc)
        except BaseException:  # a damaged database
            instance.close()
            raise
        return instance

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
    def in_memory(self) -> bool:
        """Whether the database lives in this process's memory (``Instance.ephemeral()``): no
        other process can read it, so its runs need no heartbeat."""
        return self._database == ":memory:"

    @property
    def database(self) -> str:
        """The database file's path (``:memory:`` for an ephemeral instance)."""
        return self._database

    @property
    @_checked
    def schema_version(self) -> int:
        """The schema version of the database."""
        with self._lock:
            return int(self._conn.execute("select version from schema_version").fetchone()[0])

    # -- runs -----------------------------------------------------------------------------------

    def storage_directory(self) -> str:
        """The directory where I/O managers keep outputs for this instance."""
        return self._storage

    @_checked
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
        record = _new_run(job_name, run_config, tags, status, run_id)
        with self._lock:
            self._flush_locked()
            with self._conn:
                self._insert_run(record)
        return record

    def _insert_run(self, record: RunRecord) -> None:
        now = time.time()
        self._conn.execute(
            "insert into runs (run_id, job_name, status, created_time, tags, run_config) "
            "values (?, ?, ?, ?, ?, ?)",
            (
                record.run_id,
                record.job_name,
                record.status.value,
                now,
                json.dumps(record.tags),
                json.dumps(record.run_config, default=str),
            ),
        )
        if record.status is RunStatus.STARTED:
            self._stamp_started(record.run_id, now)

    def _stamp_started(self, run_id: str, now: float) -> None:
        # The process that starts a run is the one running it: its pid, host and identity are
        # what mark_dead_runs() checks, and starting counts as its first heartbeat.
        pid, host, identity = _this_process()
        self._conn.execute(
            "update runs set status = ?, start_time = ?, heartbeat_time = ?, pid = ?, host = ?, "
            "process = ? where run_id = ?",
            (RunStatus.STARTED.value, now, now, pid, host, identity, run_id),
        )

    @_checked
    def set_run_status(self, run_id: str, status: RunStatus) -> None:
        """Change a run's status; STARTED stamps the start time and makes this process the
        run's process (it then heartbeats, see :meth:`record_heartbeat`), finished statuses
        stamp the end."""
        now = time.time()
        with self._lock:
            self._flush_locked()
            with self._conn:
                if status is RunStatus.STARTED:
                    self._stamp_started(run_id, now)
                elif status.is_finished:
                    self._conn.execute(
                        "update runs set status = ?, end_time = ? where run_id = ?",
                        (status.value, now, run_id),
                    )
                else:
                    self._conn.execute(
                        "update runs set status = ? where run_id = ?", (status.value, run_id)
                    )

    @_checked
    def get_run(self, run_id: str) -> RunRecord | None:
        """The run's record, or None."""
        with self._lock:
            self._flush_locked()
            row = self._conn.execute(
                f"select {_RUN_COLUMNS} from runs where run_id = ?", (run_id,)
            ).fetchone()
        return None if row is None else _run(row)

    @_checked
    def get_runs(
        self,
        *,
        limit: int | None = None,
        status: RunStatus | None = None,
        job_name: str | None = None,
        offset: int = 0,
        run_id_prefix: str | None = None,
    ) -> list[RunRecord]:
        """Runs, newest first, optionally filtered (by status, job, or the start of their id),
        a page at a time with ``limit`` and ``offset``. Indexed: a page stays fast with tens
        of thousands of runs.

        Example:
            >>> from outfitter import Instance
            >>> with Instance.ephemeral() as instance:
            ...     for name in ("a", "b", "a", "a"):
            ...         _ = instance.create_run(name)
            ...     page = instance.get_runs(job_name="a", limit=2, offset=1)
            ...     [r.job_name for r in page], instance.count_runs(job_name="a")
            (['a', 'a'], 3)
        """
        where, args = _run_filters(status, job_name, run_id_prefix)
        sql = f"select {_RUN_COLUMNS} from runs{where} order by created_time desc, rowid desc"
        if limit is not None or offset:
            sql += " limit ? offset ?"
            args += [-1 if limit is None else max(int(limit), 0), max(int(offset), 0)]
        with self._lock:
            self._flush_locked()
            rows = self._conn.execute(sql, args).fetchall()
        runs = [_run(r) for r in rows]
        if run_id_prefix is not None:  # the index range also admits a few that do not match
            runs = [r for r in runs if r.run_id.startswith(run_id_prefix)]
        return runs

    @_checked
    def count_runs(self, *, status: RunStatus | None = None, job_name: str | None = None) -> int:
        """How many runs :meth:`get_runs` lists with the same filters (without a limit).

        Example:
            >>> from outfitter import Instance
            >>> from outfitter._instance import RunStatus
            >>> with Instance.ephemeral() as instance:
            ...     _ = instance.create_run("a")
            ...     _ = instance.create_run("b", status=RunStatus.STARTED)
            ...     instance.count_runs(), instance.count_runs(status=RunStatus.STARTED)
            (2, 1)
        """
        where, args = _run_filters(status, job_name, None)
        with self._lock:
            self._flush_locked()
            (count,) = self._conn.execute(f"select count(*) from runs{where}", args).fetchone()
        return int(count)

    @_checked
    def job_names(self) -> list[str]:
        """The names of the jobs and flows that have runs, sorted (what runs can be filtered
        by).

        Example:
            >>> from outfitter import Instance
            >>> with Instance.ephemeral() as instance:
            ...     for name in ("nightly", "hourly", "nightly"):
            ...         _ = instance.create_run(name)
            ...     instance.job_names()
            ['hourly', 'nightly']
        """
        with self._lock:
            rows = self._conn.execute("select distinct job_name from runs order by 1").fetchall()
        return [r[0] for r in rows]

    # -- monitoring -----------------------------------------------------------------------------

    @_checked
    def record_heartbeat(self, run_id: str) -> None:
        """Stamp now as the last sign of life of ``run_id``'s process. The run driver calls it
        every :data:`HEARTBEAT_INTERVAL` seconds from a thread while the run goes."""
        now = time.time()
        sql = "update runs set heartbeat_time = ? where run_id = ?"
        if self._database == ":memory:":  # one connection to an in-memory database
            with self._lock:
                if not self._closed:
                    with self._conn:
                        self._conn.execute(sql, (now, run_id))
            return
        # Its own connection: a heartbeat waiting on another process's write never holds up
        # the run's own recording (which takes self._lock).
        with self._beat_lock:
            if self._closed:
                return
            if self._beat_conn is None:
                self._beat_conn = sqlite3.connect(
                    self._database, check_same_thread=False, timeout=30.0
                )
            with self._beat_conn:
                self._beat_conn.execute(sql, (now, run_id))

    @_checked
    def mark_dead_runs(self, *, stale_after: float = STALE_AFTER) -> list[str]:
        """Record as FAILURE (with a RUN_FAILURE event saying so) every STARTED run whose
        process stopped without finishing it: a process on this host that no longer exists
        (or whose pid now belongs to another process), or, for a process this host cannot
        check (another host), no heartbeat for ``stale_after`` seconds. A run whose process is
        alive is never marked. Returns the ids of the runs marked.

        Called when a local instance opens (so ``outfitter runs list`` never shows a dead run
        as STARTED) and by the daemon on every tick.
        """
        now = time.time()
        with self._lock:
            self._flush_locked()
            rows = self._conn.execute(
                "select run_id, pid, host, process, heartbeat_time from runs "
                "where status = ? and pid is not null",
                (RunStatus.STARTED.value,),
            ).fetchall()
        dead: list[tuple[str, str, float | None]] = []
        for run_id, pid, host, identity, beat in rows:
            gone = _process_gone(pid, host, identity)
            if gone is False:
                continue
            if gone:
                why = "the process no longer exists"
            elif beat is None or now - beat <= stale_after:
                continue
            else:
                why = f"no heartbeat for {now - beat:.0f} s, more than the {stale_after:g} s limit"
            dead.append((run_id, _dead_message(pid, host, why), beat))
        if not dead:
            return []
        marked: dict[str, list[tuple[Any, ...]]] = {}
        with self._lock:
            if self._closed:
                return []
            conn = self._conn
            conn.execute("begin immediate")
            try:
                for run_id, message, beat in dead:
                    # still STARTED and no heartbeat since we looked: another process may
                    # have marked it meanwhile, or (another host) it may have come back
                    cursor = conn.execute(
                        "update runs set status = ?, end_time = ? where run_id = ? and "
                        "status = ? and heartbeat_time is ?",
                        (
                            RunStatus.FAILURE.value,
                            now,
                            run_id,
                            RunStatus.STARTED.value,
                            beat,
                        ),
                    )
                    if cursor.rowcount == 1:
                        marked[run_id] = [event_row(EventType.RUN_FAILURE, message=message)]
                if marked:
                    _write_chunks(conn, marked)
            except BaseException:
                conn.rollback()
                raise
            conn.commit()
        for run_id in marked:
            _LOG.warning("run %s marked FAILURE: its process died", run_id)
        return list(marked)

    @_checked
    def signal_run(self, run_id: str, signum: int = signal.SIGTERM) -> RunSignal:
        """Send ``signum`` (SIGTERM: the run stops its steps, closes its resources and is
        recorded CANCELED) to the process running ``run_id``, if the run is STARTED and that
        process is alive on this host; otherwise say why nothing was sent. A pid whose process
        is not the one recorded with the run (pid reuse) is never signalled.

        Example:
            >>> from outfitter import Instance
            >>> with Instance.ephemeral() as instance:
            ...     run = instance.create_run("nightly")
            ...     instance.signal_run(run.run_id)
            <RunSignal.NOT_STARTED: 'NOT_STARTED'>
        """
        with self._lock:
            self._flush_locked()
            row = self._conn.execute(
                "select status, pid, host, process, heartbeat_time from runs where run_id = ?",
                (run_id,),
            ).fetchone()
        if row is None:
            return RunSignal.NO_RUN
        status, pid, host, identity, beat = row
        if RunStatus(status).is_finished:
            return RunSignal.FINISHED
        if status != RunStatus.STARTED.value or pid is None:
            return RunSignal.NOT_STARTED
        return _signal_process(pid, host, identity, beat, signum)

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

    @_checked
    def all_events(self, run_id: str, *, event_type: EventType | None = None) -> list[EventRecord]:
        """The run's events in the order they happened (optionally of one type)."""
        return decode_events(run_id, self.event_chunks(run_id), event_type)

    @_checked
    def event_chunks(self, run_id: str) -> list[tuple[int, str]]:
        """The run's events as stored, undecoded (``(first id, JSON list)`` chunks in order),
        for :func:`decode_events`: a run's result keeps them and decodes only when read."""
        with self._lock:
            self._flush_locked()
            rows: list[tuple[int, str]] = self._conn.execute(
                "select first_id, events from event_chunks where run_id = ? order by first_id",
                (run_id,),
            ).fetchall()
        return rows

    @_checked
    def events_after(self, run_id: str, cursor: int = 0) -> tuple[list[EventRecord], int]:
        """The run's events recorded after ``cursor``, in order, and the cursor to pass next
        time (the last event's id; ``cursor`` itself when there is none). Start from 0. Events
        of a running run appear here while it runs (within about a quarter second), also when
        read from another process, so polling this follows a run live.

        Example:
            >>> from outfitter import Instance
            >>> from outfitter._instance import EventType
            >>> with Instance.ephemeral() as instance:
            ...     run_id = instance.create_run("nightly").run_id
            ...     instance.report_event(run_id, EventType.RUN_START)
            ...     events, cursor = instance.events_after(run_id, 0)
            ...     instance.report_event(run_id, EventType.RUN_SUCCESS)
            ...     more, cursor = instance.events_after(run_id, cursor)
            >>> [e.event_type.value for e in events], [e.event_type.value for e in more]
            (['RUN_START'], ['RUN_SUCCESS'])
        """
        with self._lock:
            self._flush_locked()
            rows = self._conn.execute(
                "select first_id, events from event_chunks "
                "where run_id = ? and first_id + count > ? order by first_id",
                (run_id, cursor),
            ).fetchall()
        out = []
        for first_id, payload in rows:
            for offset, (ts, kind, step, res, msg, dur, data) in enumerate(json.loads(payload)):
                event_id = first_id + offset
                if event_id > cursor:
                    out.append(
                        EventRecord(
                            event_id, run_id, ts / 1e6, EventType(kind), step, res, msg, dur, data
                        )
                    )
        return out, (out[-1].id if out else cursor)

    @_checked
    def events_of_types(
        self,
        event_types: Sequence[EventType],
        *,
        after_id: int = 0,
        message: str | None = None,
        limit: int | None = None,
    ) -> list[EventRecord]:
        """Events of ``event_types`` across all runs recorded after event id ``after_id``,
        oldest first (ids grow across runs), optionally only those whose message is ``message``
        (an ASSET_MATERIALIZATION's message is its asset key) and at most ``limit`` of them.
        Sensors that react to materializations and to run outcomes read them, the id as cursor.

        Example:
            >>> from outfitter import Instance
            >>> from outfitter._instance import EventType
            >>> with Instance.ephemeral() as instance:
            ...     for job in ("a", "b"):
            ...         run_id = instance.create_run(job).run_id
            ...         instance.report_event(run_id, EventType.RUN_START)
            ...         instance.report_event(run_id, EventType.RUN_SUCCESS, message=job)
            ...     ends = instance.events_of_types([EventType.RUN_SUCCESS])
            ...     later = instance.events_of_types([EventType.RUN_SUCCESS], after_id=ends[0].id)
            >>> [e.message for e in ends], [e.message for e in later]
            (['a', 'b'], ['b'])
        """
        wanted = {t.value for t in event_types}
        with self._lock:
            self._flush_locked()
            rows = self._conn.execute(
                "select first_id, run_id, events from event_chunks "
                "where first_id + count > ? order by first_id",
                (after_id,),
            ).fetchall()
        out: list[EventRecord] = []
        for first_id, run_id, payload in rows:
            for offset, (ts, kind, step, res, msg, dur, data) in enumerate(json.loads(payload)):
                event_id = first_id + offset
                if event_id <= after_id or kind not in wanted:
                    continue
                if message is not None and msg != message:
                    continue
                out.append(
                    EventRecord(
                        event_id, run_id, ts / 1e6, EventType(kind), step, res, msg, dur, data
                    )
                )
                if limit is not None and len(out) >= limit:
                    return out
        return out

    @_checked
    def last_event_id(self) -> int:
        """The id of the latest event recorded (0 when there is none): a cursor that skips
        everything that happened so far.

        Example:
            >>> from outfitter import Instance
            >>> from outfitter._instance import EventType
            >>> with Instance.ephemeral() as instance:
            ...     before = instance.last_event_id()
            ...     instance.report_event(instance.create_run("a").run_id, EventType.RUN_START)
            ...     before, instance.last_event_id()
            (0, 1)
        """
        with self._lock:
            self._flush_locked()
            row = self._conn.execute(
                "select first_id + count - 1 from event_chunks order by first_id desc limit 1"
            ).fetchone()
        return int(row[0]) if row else 0

    @property
    def unflushed(self) -> int:
        """How many events wait in this process's buffer for the next flush."""
        return self._buffered

    @_checked
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
        conn.execute("begin immediate")
        try:
            _write_chunks(conn, buffers)
        except BaseException:
            conn.rollback()
            raise
        conn.commit()

    # -- sensors and schedules ------------------------------------------------------------------

    @_checked
    def get_instigator(self, name: str) -> InstigatorState | None:
        """The stored state of a sensor or schedule, or None if it never ran or was toggled."""
        with self._lock:
            row = self._conn.execute(
                "select name, kind, status, cursor, last_tick_time from instigators where name = ?",
                (name,),
            ).fetchone()
        return None if row is None else InstigatorState(*row)

    @_checked
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

    @_checked
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

    @_checked
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

    @_checked
    def create_run_for_key(
        self,
        name: str,
        run_key: str,
        job_name: str,
        *,
        run_config: Any = None,
        tags: dict[str, str] | None = None,
        status: RunStatus = RunStatus.QUEUED,
    ) -> RunRecord | None:
        """Claim ``run_key`` for sensor or schedule ``name`` and create the run it launches, in
        one transaction: a crash leaves either both or neither, so a request is never lost
        and never launched twice. None (and nothing written) if the key already launched a
        run. A key claimed without a run (an older Outfitter crashed between the two) is
        taken over."""
        record = _new_run(job_name, run_config, tags, status)
        with self._lock:
            self._flush_locked()
            with self._conn:
                cursor = self._conn.execute(
                    "insert into run_keys (name, run_key, run_id) values (?, ?, ?) "
                    "on conflict (name, run_key) do update set run_id = excluded.run_id "
                    "where run_keys.run_id is null",
                    (name, run_key, record.run_id),
                )
                if cursor.rowcount != 1:
                    return None
                self._insert_run(record)
        return record

    @_checked
    def run_key_run(self, name: str, run_key: str) -> str | None:
        """The id of the run ``run_key`` of ``name`` launched, or None if it launched none."""
        with self._lock:
            row = self._conn.execute(
                "select run_id from run_keys where name = ? and run_key = ?", (name, run_key)
            ).fetchone()
        return None if row is None else row[0]

    @_checked
    def claim_run_key(self, name: str, run_key: str) -> bool:
        """Reserve ``run_key`` for ``name``; False if it was already used (never launch it)."""
        with self._lock, self._conn:
            cursor = self._conn.execute(
                "insert or ignore into run_keys (name, run_key) values (?, ?)", (name, run_key)
            )
            return cursor.rowcount == 1

    @_checked
    def release_run_key(self, name: str, run_key: str) -> None:
        """Give a claimed key back (its run could not be launched)."""
        with self._lock, self._conn:
            self._conn.execute(
                "delete from run_keys where name = ? and run_key = ? and run_id is null",
                (name, run_key),
            )

    @_checked
    def set_run_key_run(self, name: str, run_key: str, run_id: str) -> None:
        """Remember which run a key launched."""
        with self._lock, self._conn:
            self._conn.execute(
                "update run_keys set run_id = ? where name = ? and run_key = ?",
                (run_id, name, run_key),
            )

    # -- lifetime -------------------------------------------------------------------------------

    @_checked
    def close(self) -> None:
        """Flush and close the database (and remove an ephemeral storage directory)."""
        with self._lock:
            if self._closed:
                return
            self._flush_locked()
            self._closed = True
            self._conn.close()
        with self._beat_lock:
            if self._beat_conn is not None:
                self._beat_conn.close()
                self._beat_conn = None
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


def _dead_message(pid: int, host: str | None, why: str) -> str:
    return (
        f"the process running this run (pid {pid} on {host}) stopped without finishing it "
        f"({why}): it was killed, crashed or lost its machine. Steps it was running did not "
        "finish and resources it had open may not have closed; check the run's last events, "
        "then rerun it."
    )


def _write_chunks(conn: sqlite3.Connection, buffers: dict[str, list[tuple[Any, ...]]]) -> None:
    """Insert events, inside a write transaction the caller holds. Events are stored in chunks:
    one row per run per flush, holding a JSON array; one insert per flush instead of one per
    event keeps recording off the step's hot path. Ids are assigned under the database's write
    lock, so processes can share the file."""
    last = conn.execute(
        "select first_id + count from event_chunks order by first_id desc limit 1"
    ).fetchone()
    next_id = last[0] if last else 1
    chunks = []
    for run, events in buffers.items():
        chunks.append((next_id, run, len(events), json.dumps(events, default=str)))
        next_id += len(events)
    conn.executemany("insert into event_chunks values (?, ?, ?, ?)", chunks)


def _run_filters(
    status: RunStatus | None, job_name: str | None, run_id_prefix: str | None
) -> tuple[str, list[Any]]:
    """The ``where`` clause (empty, or starting with a space) and arguments of a runs query."""
    where: list[str] = []
    args: list[Any] = []
    if status is not None:
        where.append("status = ?")
        args.append(status.value)
    if job_name is not None:
        where.append("job_name = ?")
        args.append(job_name)
    if run_id_prefix:
        # a range over the primary key's index: every id that starts with the prefix sorts
        # between the prefix and the prefix followed by the highest code point
        where.append("run_id >= ? and run_id < ?")
        args += [run_id_prefix, run_id_prefix + "\U0010ffff"]
    return (" where " + " and ".join(where) if where else ""), args


def _run(row: tuple[Any, ...]) -> RunRecord:
    return RunRecord(
        row[0],
        row[1],
        RunStatus(row[2]),
        row[3],
        row[4],
        json.loads(row[5]),
        None if row[6] is None else json.loads(row[6]),
        row[7],
        row[8],
        row[9],
    )
