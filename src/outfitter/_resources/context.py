"""``InitResourceContext``: what a resource sees while it is opened, and the ``Resources`` view of
already-opened resources handed to resources, steps and tests."""

from __future__ import annotations

import contextlib
import io
import logging
from collections.abc import Iterator, Mapping
from contextvars import ContextVar
from typing import Any

from ..exceptions import (
    MissingResourceAttributeError,
    MissingResourceError,
    MissingResourceKeyError,
)

__all__ = [
    "RUN_LOGS",
    "InitResourceContext",
    "Resources",
    "capture_stdout",
    "current_init_context",
    "current_logger",
    "did_you_mean",
    "missing_as",
]

_LOG = logging.getLogger("outfitter.resources")

RUN_LOGS: ContextVar[Any] = ContextVar("outfitter_run_logs", default=None)
"""The run's log (``outfitter._execution.logs.RunLog``) while a run's code runs in this context:
set by the engine, read here so resources and flow tasks log through the run."""


def current_logger() -> logging.Logger:
    """The logger of the step or task running now, else the ``outfitter.user`` logger."""
    logs = RUN_LOGS.get()
    if logs is None:
        return logging.getLogger("outfitter.user")
    logger: logging.Logger = logs.current()
    return logger


class _LineWriter(io.TextIOBase):
    """A text stream whose lines are logged at INFO on the running step's logger."""

    def __init__(self) -> None:
        self._pending = ""

    def writable(self) -> bool:
        return True

    def write(self, text: str) -> int:
        lines = (self._pending + text).split("\n")
        self._pending = lines.pop()
        logger = current_logger()
        for line in lines:
            if line:
                logger.info(line)
        return len(text)

    def flush(self) -> None:
        if self._pending:
            current_logger().info(self._pending)
            self._pending = ""


@contextlib.contextmanager
def capture_stdout() -> Any:
    """While the block runs, ``print()`` output becomes INFO records of the running step's or
    task's logger (``log_stdout=True`` on a task, flow, asset, op or job). ``sys.stdout`` is
    one per process: what other threads print meanwhile is caught too.

    Example:
        >>> with capture_stdout():
        ...     print("logged, not printed")
    """
    writer = _LineWriter()
    with contextlib.redirect_stdout(writer):
        try:
            yield
        finally:
            writer.flush()


def did_you_mean(name: str, candidates: Any) -> str:
    """A ``did you mean 'x'?`` suffix for ``name`` among ``candidates`` (empty if none is close)."""
    import difflib  # only on the way to an error message

    close = difflib.get_close_matches(name, [str(c) for c in candidates], n=1, cutoff=0.6)
    return f" Did you mean {close[0]!r}?" if close else ""


def missing_as(
    error: MissingResourceError, cls: type[MissingResourceError]
) -> MissingResourceError:
    """``error`` as a ``cls`` (the attribute or key variant), same message, keys and hint."""
    if isinstance(error, cls):
        return error
    copy = cls.__new__(cls)
    copy.args = error.args
    copy.__dict__.update(error.__dict__)
    return copy


class Resources(Mapping[str, Any]):
    """Read-only view of opened resources by key; attribute access and ``[key]`` both work.

    Asking for a key that is not there raises :class:`MissingResourceError` listing the keys that
    are, with a did-you-mean; by attribute it is also an ``AttributeError`` (so ``hasattr`` is
    False), by ``[key]`` also a ``KeyError``.

    Example:
        >>> res = Resources({"db": 1}, owner="resource 'client'")
        >>> res.db
        1
        >>> res.dbb  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        outfitter.exceptions.MissingResourceAttributeError: resource 'client' has no resource ...
        >>> hasattr(res, "dbb")
        False
    """

    __slots__ = ("_owner", "_values")

    def __init__(self, values: Mapping[str, Any], owner: str = "this context") -> None:
        object.__setattr__(self, "_values", dict(values))
        object.__setattr__(self, "_owner", owner)

    def _missing(self, key: str) -> MissingResourceError:
        have = ", ".join(repr(k) for k in sorted(self._values)) or "none"
        return MissingResourceError(
            f"{self._owner} has no resource {key!r}; it has: {have}."
            + did_you_mean(key, self._values),
            keys=[key],
            hint="declare the dependency (a nested field, required_resource_keys, or a parameter) "
            "and bind it.",
        )

    def __getattr__(self, key: str) -> Any:
        if key.startswith("__"):
            raise AttributeError(key)
        try:
            return self._values[key]
        except KeyError:
            raise missing_as(self._missing(key), MissingResourceAttributeError) from None

    def __getitem__(self, key: str) -> Any:
        try:
            return self._values[key]
        except KeyError:
            raise missing_as(self._missing(key), MissingResourceKeyError) from None

    def __contains__(self, key: object) -> bool:
        # Mapping's default calls __getitem__, whose MissingResourceError is not a KeyError
        return key in self._values

    def get(self, key: str, default: Any = None) -> Any:
        """The resource at ``key``, or ``default`` if none is bound there."""
        return self._values.get(key, default)

    def __setattr__(self, key: str, value: Any) -> None:
        raise AttributeError("Resources is read-only")

    def __iter__(self) -> Iterator[str]:
        return iter(self._values)

    def __len__(self) -> int:
        return len(self._values)

    def __dir__(self) -> list[str]:
        return sorted(self._values)

    def __repr__(self) -> str:
        return f"Resources({', '.join(sorted(self._values))})"


_EMPTY = Resources({})


class InitResourceContext:
    """What a resource receives while it is opened.

    Attributes:
        resource_config: the resource's resolved config (a dict; for ``@resource`` functions with a
            pydantic schema, the validated model).
        resources: the already-opened resources it depends on (:class:`Resources`).
        instance: the run's :class:`~outfitter.Instance`, or None outside a run.
        run_id: the run's id, or None outside a run.
        log: a logger named after the resource key.
        resource_key: the key the resource is bound under (None when built by hand).

    Example:
        >>> from outfitter import build_init_resource_context
        >>> ctx = build_init_resource_context(config={"url": "sqlite://"})
        >>> ctx.resource_config["url"]
        'sqlite://'
    """

    __slots__ = ("instance", "log", "resource_config", "resource_key", "resources", "run_id")

    def __init__(
        self,
        resource_config: Any = None,
        resources: Resources | None = None,
        instance: Any = None,
        run_id: str | None = None,
        log: logging.Logger | None = None,
        resource_key: str | None = None,
    ) -> None:
        self.resource_config = {} if resource_config is None else resource_config
        self.resources = _EMPTY if resources is None else resources
        self.instance = instance
        self.run_id = run_id
        logs = RUN_LOGS.get() if resource_key is not None and run_id is not None else None
        self.log = logs.resource_logger(resource_key) if logs is not None else (log or _LOG)
        self.resource_key = resource_key

    @property
    def dagster_run(self) -> Any:
        """The record of the run opening this resource (Dagster's name): the instance's
        ``RunRecord`` for ``run_id`` (``run_id``, ``job_name``, ``status``, ``tags``,
        ``run_config``), or None outside a run or when the instance has no record of it.

        Example:
            >>> from outfitter import build_init_resource_context
            >>> build_init_resource_context().dagster_run is None
            True
        """
        get_run = getattr(self.instance, "get_run", None)
        if self.run_id is None or get_run is None:
            return None
        return get_run(self.run_id)

    def replace(self, **changes: Any) -> InitResourceContext:
        """A copy with some attributes changed."""
        values = {name: getattr(self, name) for name in self.__slots__}
        values.update(changes)
        return InitResourceContext(**values)

    def __repr__(self) -> str:
        return f"InitResourceContext(resource_key={self.resource_key!r}, run_id={self.run_id!r})"


_CURRENT: ContextVar[InitResourceContext | None] = ContextVar("outfitter_init_ctx", default=None)


def current_init_context() -> ContextVar[InitResourceContext | None]:
    """The context variable holding the context of the resource being opened right now."""
    return _CURRENT
