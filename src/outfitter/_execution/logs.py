"""Run logging on stdlib :mod:`logging`: the loggers steps, tasks and resources get, the bridge that
turns their records into ``LOG`` events, the console handler, and the JSON formatter.

One :class:`RunLog` per run per process is also the run's one :class:`logging.Handler`. The
loggers it hands out (``context.log``, :func:`get_logger`, a resource's ``InitResourceContext.log``,
a flow task's ``self.logger``) are plain :class:`logging.Logger` objects made on first use, kept
out of the global logger tree, with that handler only. A record becomes a ``LOG`` event (masked by
the run's redactor) in the event list of the call that made it, so it is recorded in order with
the step's other events, and, in the coordinating process, is printed on the console. A worker has
no console: its records travel back in the call's events and the coordinator prints them
(:meth:`RunLog.replay`).

Progress lines (step started / succeeded / failed, the run's end; Prefect 1's wording for flows)
go to the console only: the engine already records those events.

Nothing here runs for a step that does not log, except one context variable set per call.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import sys
import time
from collections.abc import Iterator
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any

from .._config.redaction import Redactor
from .._instance import EventType
from .._resources.context import RUN_LOGS, current_logger
from ..exceptions import ConfigError

__all__ = [
    "LEVELS",
    "JsonFormatter",
    "RunLog",
    "configured_level",
    "console_handler",
    "get_logger",
    "leave_call",
    "log_format",
    "set_log_format",
]

LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
"""The values ``OUTFITTER_LOG_LEVEL`` takes."""

_LOG = EventType.LOG
_CALL: ContextVar[tuple[RunLog, str, list[Any]] | None] = ContextVar(
    "outfitter_step_call", default=None
)
"""The step call running in this context: its run's log, its key and its event list."""

_FORMAT = {"value": "rich"}


def get_logger() -> logging.Logger:
    """The logger of the step or task running now (its records become ``LOG`` events of the run
    and are printed on the console); outside a run, the plain ``outfitter.user`` logger.

    Example:
        >>> from outfitter import get_logger
        >>> get_logger().name
        'outfitter.user'
    """
    return current_logger()


def leave_call(token: Any) -> None:
    """End the step call :meth:`RunLog.enter` began in this context."""
    _CALL.reset(token)


def configured_level() -> int:
    """The console and event level from ``OUTFITTER_LOG_LEVEL`` (default INFO). The settings
    (pydantic-settings, ~100 ms to import) are read only when the variable or a ``.env`` file
    may set it.

    Example:
        >>> configured_level() >= logging.DEBUG
        True
    """
    raw: Any = os.environ.get("OUTFITTER_LOG_LEVEL")
    if raw is None and os.path.exists(os.environ.get("OUTFITTER_ENV_FILE", ".env")):
        from .._config.settings import get_settings

        raw = get_settings().log_level
    name = str(raw or "INFO").strip().upper()
    if name not in LEVELS:
        raise ConfigError(
            f"OUTFITTER_LOG_LEVEL is {raw!r}, which is not a log level",
            hint=f"set OUTFITTER_LOG_LEVEL to one of {', '.join(LEVELS)} (or unset it for INFO).",
        )
    return logging.getLevelNamesMapping()[name]


def set_log_format(value: str) -> None:
    """Print run logs in this process as ``rich`` text (the default) or ``json`` lines (what the
    CLI's ``--log-format`` sets).

    Example:
        >>> set_log_format("rich")
    """
    if value not in ("rich", "json"):
        raise ConfigError(
            f"--log-format {value!r} is not a log format",
            hint="use --log-format rich (the default) or --log-format json.",
        )
    _FORMAT["value"] = value


def log_format() -> str:
    """The format run logs are printed in by this process: ``rich`` or ``json``.

    Example:
        >>> log_format() in ("rich", "json")
        True
    """
    return _FORMAT["value"]


class JsonFormatter(logging.Formatter):
    """One JSON object per record: ``time`` (ISO 8601, UTC), ``level``, ``logger``, ``message``,
    ``run_id`` and ``step`` (null when not in a run or step).

    Example:
        >>> import json, logging
        >>> record = logging.makeLogRecord({"msg": "hi", "levelname": "INFO", "name": "x"})
        >>> json.loads(JsonFormatter().format(record))["message"]
        'hi'
    """

    def format(self, record: logging.LogRecord) -> str:
        message = record.getMessage()
        if record.exc_info:
            message += "\n" + self.formatException(record.exc_info)
        return json.dumps(
            {
                "time": datetime.fromtimestamp(record.created, UTC).isoformat(),
                "level": record.levelname,
                "logger": record.name,
                "message": message,
                "run_id": getattr(record, "run_id", None),
                "step": getattr(record, "step", None),
            }
        )


class _StderrHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """A stream handler writing to whatever ``sys.stderr`` is at the time."""

    @property
    def stream(self) -> Any:
        return sys.stderr

    @stream.setter
    def stream(self, value: Any) -> None:
        pass


_CONSOLES: dict[str, logging.Handler] = {}


def _rich_handler() -> logging.Handler:
    """A RichHandler on stderr; when stderr is not a terminal (a file, a pipe, CI) it writes
    one plain ``time LEVEL message`` line per record instead of a wrapped table (a table costs
    about a millisecond a line, more than a whole step)."""
    from rich.console import Console
    from rich.logging import RichHandler

    class ConsoleHandler(RichHandler):
        _second = -1
        _when = ""

        def emit(self, record: logging.LogRecord) -> None:
            stream = sys.stderr
            isatty = getattr(stream, "isatty", None)
            if isatty is not None and isatty():
                super().emit(record)
                return
            second = int(record.created)
            if second != self._second:
                self._second = second
                self._when = datetime.fromtimestamp(second).strftime("%H:%M:%S")
            try:
                stream.write(f"[{self._when}] {record.levelname:<8} {record.getMessage()}\n")
            except Exception:
                self.handleError(record)

    handler = ConsoleHandler(
        console=Console(stderr=True), show_path=False, markup=False, rich_tracebacks=False
    )
    handler.setFormatter(logging.Formatter("%(message)s"))
    return handler


def console_handler(level: int) -> logging.Handler:
    """The process's console handler for the current format (made once), set to ``level``:
    a :class:`rich.logging.RichHandler` on stderr, or JSON lines on stderr.

    Example:
        >>> console_handler(logging.INFO).level
        20
    """
    fmt = _FORMAT["value"]
    handler = _CONSOLES.get(fmt)
    if handler is None:
        if fmt == "json":
            handler = _StderrHandler()
            handler.setFormatter(JsonFormatter())
        else:
            handler = _rich_handler()
        _CONSOLES[fmt] = handler
    handler.setLevel(level)
    return handler


class RunLog(logging.Handler):
    """One run's logging in one process: hands out its loggers, turns their records into
    ``LOG`` events (``sink`` takes those made outside a step call: an instance, or a worker's
    event buffer) and prints them on ``console`` (None on workers)."""

    def __init__(
        self,
        run_id: str,
        redactor: Redactor,
        sink: Any,
        *,
        level: int = logging.INFO,
        console: logging.Handler | None = None,
        flow: bool = False,
    ) -> None:
        super().__init__(level)
        self.run_id = run_id
        self.redactor = redactor
        self.sink = sink
        self.console = console
        self.flow = flow
        self.step_level = logging.INFO if flow else logging.DEBUG
        """The level of a step's or task's start/end lines: a flow task's at INFO, as Prefect 1
        logs them; a job step's at DEBUG, as Dagster logs STEP_START/STEP_SUCCESS (a line costs
        several times a step's own dispatch). Failures are at ERROR either way."""
        self.progress = console is not None and console.level <= self.step_level
        """Whether step/task progress lines are printed (checked once per step by the engine)."""
        self._loggers: dict[str, logging.Logger] = {}
        self._owners: dict[str, tuple[str | None, str | None]] = {}
        self._template: dict[str, Any] | None = None

    # -- loggers ---------------------------------------------------------------------------------

    def _logger(self, name: str, step: str | None, resource: str | None) -> logging.Logger:
        logger = self._loggers.get(name)
        if logger is None:
            logger = logging.Logger(name, self.level)  # not in the global tree: ours alone
            logger.propagate = False
            logger.addHandler(self)
            self._owners[name] = (step, resource)
            self._loggers[name] = logger
        return logger

    def step_logger(self, key: str) -> logging.Logger:
        """The logger of step or task ``key`` (made on first use)."""
        return self._logger(f"outfitter.steps.{key}", key, None)

    def resource_logger(self, key: str) -> logging.Logger:
        """The logger of resource ``key``'s init context."""
        return self._logger(f"outfitter.resources.{key}", None, key)

    def io_logger(self, key: str) -> logging.Logger:
        """The logger an I/O manager (resource ``key``) sees in its input and output contexts:
        its records belong to the resource and to the step it handles."""
        return self._logger(f"outfitter.io.{key}", None, key)

    def current(self) -> logging.Logger:
        """The logger of the step call running in this context, else the run's own."""
        call = _CALL.get()
        if call is not None and call[0] is self:
            return self.step_logger(call[1])
        return self._logger("outfitter.run", None, None)

    @contextlib.contextmanager
    def active(self) -> Iterator[None]:
        """While the block runs, resources opened in this context log through this run."""
        token = RUN_LOGS.set(self)
        try:
            yield
        finally:
            RUN_LOGS.reset(token)

    def enter(self, key: str, events: list[Any]) -> Any:
        """Mark a step call as running in this context (returns the token :meth:`leave` takes).
        Its records go into ``events``, in order with its other events."""
        return _CALL.set((self, key, events))

    # -- records ---------------------------------------------------------------------------------

    def _text(self, record: logging.LogRecord) -> str:
        try:
            text = record.getMessage()
        except Exception as exc:  # a bad %-format must not fail the step
            text = f"{record.msg!r} (could not format the message: {type(exc).__name__})"
        if record.exc_info:
            text += "\n" + logging.Formatter().formatException(record.exc_info)
        return self.redactor(text)

    def emit(self, record: logging.LogRecord) -> None:
        text = self._text(record)
        step, resource = self._owners.get(record.name, (None, None))
        call = _CALL.get()
        if call is not None and call[0] is not self:
            call = None  # a step call of another run
        if call is not None and (resource is None or record.name.startswith("outfitter.io.")):
            step = step or call[1]
        data = {"level": record.levelname, "logger": record.name}
        row = (int(record.created * 1e6), _LOG, step, resource, text, None, data)
        if call is not None:
            call[2].append(row)
        else:
            self.sink.report_event(
                self.run_id, _LOG, step_key=step, resource_key=resource, message=text, data=data
            )
        if self.console is not None:
            self._print(record.levelno, record.name, text, step or resource, record.created)

    def _print(
        self, level: int, name: str, text: str, step: str | None, created: float | None = None
    ) -> None:
        console = self.console
        if console is None or level < console.level:
            return
        console.handle(self._record(level, name, text, step, created))

    def _record(
        self, level: int, name: str, text: str, step: str | None, created: float | None
    ) -> logging.LogRecord:
        """A record for the console, built from a template made once per run (LogRecord's own
        constructor looks up the pid, thread and file name each time: ~15 µs a line)."""
        template = self._template
        if template is None:
            model = logging.LogRecord("outfitter", logging.INFO, "", 0, "", None, None)
            template = self._template = dict(model.__dict__, run_id=self.run_id)
        record = logging.LogRecord.__new__(logging.LogRecord)
        now = time.time() if created is None else created
        record.__dict__.update(
            template,
            name=name,
            msg=text,
            levelno=level,
            levelname=logging.getLevelName(level),
            created=now,
            msecs=(now - int(now)) * 1000,
            step=step,
        )
        return record

    def replay(self, events: list[tuple[Any, ...]]) -> None:
        """Print the LOG events a worker sent back (the coordinator's console)."""
        if self.console is None:
            return
        for ts, kind, step, resource, message, _, data in events:
            if kind is _LOG or kind == "LOG":
                level = logging.getLevelNamesMapping().get(data.get("level", "INFO"), 20)
                self._print(
                    level, data.get("logger", "outfitter"), message, step or resource, ts / 1e6
                )

    # -- progress ----------------------------------------------------------------------------------

    def started(self, kind: str, key: str, name: str) -> None:
        """The progress line of a step or task that starts."""
        if kind in ("task", "parameter"):
            text = f"Task {name!r}: Starting task run..."
        else:
            text = f"step {key!r} started"
        self._print(self.step_level, "outfitter.run", text, key)

    def ended(
        self,
        kind: str,
        key: str,
        name: str,
        event: EventType,
        message: str,
        seconds: float,
        result: Any,
    ) -> None:
        """The progress line of a step or task that ended (failures at ERROR)."""
        level = logging.ERROR if event is EventType.STEP_FAILURE else self.step_level
        if event is not EventType.STEP_SUCCESS and level < logging.INFO:
            level = logging.INFO  # a step skipped or not run: rare, and worth seeing
        if kind in ("task", "parameter"):  # Prefect 1: the error, then the final state at INFO
            state = type(result).__name__
            if state == "Failed" and message:
                where = f"Task {name!r}: Exception encountered during task execution! {message}"
                self._print(logging.ERROR, "outfitter.run", where, key)
            text = f"Task {name!r}: Finished task run for task with final state: {state!r}"
            level = logging.INFO
        elif event is EventType.STEP_SUCCESS:
            text = f"step {key!r} succeeded in {seconds * 1000:.0f} ms"
        elif event is EventType.STEP_FAILURE:
            text = f"step {key!r} failed: {message}"
        else:
            text = f"step {key!r} {event.value.removeprefix('STEP_').lower()}" + (
                f": {message}" if message else ""
            )
        self._print(level, "outfitter.run", text, key)

    def run_ended(self, status: str) -> None:
        """The run's last progress line (a failed run at ERROR)."""
        level = logging.INFO if status == "SUCCESS" else logging.ERROR
        if not self.flow:
            text = f"run {self.run_id[:8]} {status}"
        elif status == "SUCCESS":
            text = "Flow run SUCCESS: all reference tasks succeeded"
        elif status == "FAILURE":
            text = "Flow run FAILED: some reference tasks failed."
        else:
            text = f"Flow run {status}"
        self._print(level, "outfitter.run", text, None)
