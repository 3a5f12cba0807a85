"""``RunScope``: the resources one run (or one worker's share of a run) sees.

A scope opens resources lazily, on first ask, dependencies first; it closes what it opened in the
exact reverse order, exactly once, passing every exit the run's exception, continuing past
failures and raising them together. A failed open rolls back everything already open. Scopes
nest: a step scope holds step-scoped resources and asks its run scope for the rest; a run scope
may ask a process scope (e.g. the daemon's) for process-scoped ones.

Definition-time objects are never mutated: each scope works on its own copies.
"""

from __future__ import annotations

import enum
import inspect
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Mapping
from contextvars import ContextVar
from types import TracebackType
from typing import TYPE_CHECKING, Any

from .._config.redaction import Redactor
from .._config.run_config import RunConfig, resource_launch_config
from .._config.settings import EnvLookup
from .._interrupts import deferred_interrupts
from ..exceptions import InvocationError, OutfitterError, ResourceInitError, TeardownError
from .context import Resources
from .lifecycle import Exit
from .markers import Scope
from .spec import OpenEnv, ResourcePlan, ResourceSpec

if TYPE_CHECKING:
    import asyncio

__all__ = ["PROCESS_SCOPE", "Listener", "RunScope", "plan_for"]

Listener = Callable[[str, str, float, BaseException | None], None]
"""Called as ``listener("open" | "close", key, seconds, error_or_None)``."""


PROCESS_SCOPE: ContextVar[RunScope | None] = ContextVar("outfitter_process_scope", default=None)
"""The long-lived process scope (the daemon's) that runs started in this context share."""


class _State(enum.Enum):
    OPEN = "open"
    CLOSING = "closing"
    CLOSED = "closed"


def plan_for(resources: Any) -> ResourcePlan:
    """The (cached) plan of a dict of resources, a container class or instance, or a plan."""
    if isinstance(resources, ResourcePlan):
        return resources
    from .bindings import plan_of_bindings

    return plan_of_bindings(resources)


class RunScope:
    """The resources of one run in one process, opened on demand and closed in reverse.

    Use it as a context manager (``with`` or ``async with``); ``get(key)`` / ``await
    aget(key)`` opens a resource and its dependencies on first ask. On exit every opened
    resource is closed LIFO and sees the block's exception; teardown failures are raised
    together as :class:`~outfitter.exceptions.TeardownError`.

    Example:
        >>> from outfitter import ConfigurableResource
        >>> from outfitter._resources.scope import RunScope
        >>> class Greeter(ConfigurableResource):
        ...     name: str
        >>> with RunScope({"greeter": Greeter(name="ada")}) as scope:
        ...     scope.get("greeter").name
        'ada'
    """

    __slots__ = (
        "_alock",
        "_env",
        "_level",
        "_listener",
        "_lock",
        "_opened",
        "_parent",
        "_plan",
        "_stack",
        "_state",
        "_values",
    )

    def __init__(
        self,
        resources: Any,
        run_config: RunConfig | Mapping[str, Any] | None = None,
        *,
        run_id: str | None = None,
        instance: Any = None,
        parent: RunScope | None = None,
        level: Scope = Scope.RUN,
        listener: Listener | None = None,
        env_file: str | None = None,
        keys: Iterable[str] | None = None,
    ) -> None:
        plan = plan_for(resources)
        launch = resource_launch_config(run_config)
        if keys is None and level is Scope.PROCESS:
            keys = ()  # a process scope opens only process-scoped resources, never launch config
        self._plan = plan.bind(launch, keys)
        self._level = level
        self._parent = parent
        if parent is not None and run_id is None:
            self._env: OpenEnv = parent._env
        else:
            secrets = Redactor(self._plan.secrets)
            if parent is not None:
                secrets.update(parent._env.secrets)
            self._env = OpenEnv(EnvLookup(env_file), secrets, run_id or uuid.uuid4().hex, instance)
        if listener is None and parent is not None:
            listener = parent._listener
        self._listener: Listener | None = listener
        self._values: dict[str, Any] = {}
        self._opened: list[str] = []
        self._stack: list[tuple[str, Exit]] = []
        self._lock = threading.RLock()
        self._alock: asyncio.Lock | None = None
        self._state = _State.OPEN

    # -- public surface ---------------------------------------------------------------------------

    @property
    def run_id(self) -> str:
        """The run id resources see in their init context."""
        return self._env.run_id  # type: ignore[return-value]

    @property
    def plan(self) -> ResourcePlan:
        """The bound resource plan (keys, open order)."""
        return self._plan

    @property
    def opened(self) -> tuple[str, ...]:
        """Keys opened by this scope, in the order they were opened."""
        return tuple(self._opened)

    @property
    def resources(self) -> _LazyResources:
        """Attribute access to resources, opening each on first use."""
        return _LazyResources(self)

    def step_scope(self) -> RunScope:
        """A child scope for one step: step-scoped resources open (and close) there; everything
        else comes from this scope."""
        return RunScope(self._plan, parent=self, level=Scope.STEP)

    @property
    def redactor(self) -> Redactor:
        """The secrets this scope (and its parent run scope) knows: its plan's SecretStr values
        and every EnvVar or SecretStr value resolved while opening resources."""
        return self._env.secrets

    def redact(self, text: str) -> str:
        """``text`` with every secret value this scope knows replaced by ``***``, in every
        escaped form (see :mod:`outfitter._config.redaction`)."""
        return self._env.secrets(text)

    def get(self, key: str) -> Any:
        """The opened resource at ``key``, opening it (and its dependencies) on first ask."""
        values = self._values
        if key in values:
            return values[key]
        # opened outside any `except` block, so a failure to open chains no internal KeyError
        return self._open(key)

    def open(self, keys: Any) -> dict[str, Any]:
        """Open several keys (in dependency order, ties by name); returns ``{key: value}``."""
        position = {k: i for i, k in enumerate(self._plan.order)}
        ordered = sorted(keys, key=lambda k: position.get(k, -1))
        return {k: self.get(k) for k in ordered}

    async def aget(self, key: str) -> Any:
        """Async twin of :meth:`get`; opens async and sync resources alike."""
        values = self._values
        if key in values:
            return values[key]
        return await self._aopen(key)

    async def aopen(self, keys: Any) -> dict[str, Any]:
        """Async twin of :meth:`open`."""
        position = {k: i for i, k in enumerate(self._plan.order)}
        ordered = sorted(keys, key=lambda k: position.get(k, -1))
        return {k: await self.aget(k) for k in ordered}

    def close(self, exc: BaseException | None = None) -> None:
        """Close every opened resource in reverse order, exactly once (a second call does
        nothing). ``exc`` is the run's exception, passed to context-manager exits."""
        if not self._begin_close():
            return
        if self._stack:  # Ctrl-C and SIGTERM wait until every exit ran
            with deferred_interrupts():
                self._close(exc)
        else:
            self._finish_close({}, None)

    def _close(self, exc: BaseException | None) -> None:
        errors: dict[str, BaseException] = {}
        interrupt: BaseException | None = None
        stack = self._stack
        while stack:
            key, exit_ = stack.pop()
            started = time.perf_counter()
            error: BaseException | None = None
            try:
                result = exit_(exc)
                if inspect.isawaitable(result):
                    _discard(result)
                    error = InvocationError(
                        f"resource {key!r} needs an async close, but the scope was closed "
                        "synchronously",
                        hint="close scopes holding async resources with `await scope.aclose()` "
                        "or `async with`.",
                    )
            except BaseException as caught:  # every exit runs, whatever the others raise
                error = caught
            interrupt = self._record_close(key, started, error, exc, errors, interrupt)
        self._finish_close(errors, interrupt)

    async def aclose(self, exc: BaseException | None = None) -> None:
        """Async twin of :meth:`close`; awaits async exits."""
        if not self._begin_close():
            return
        if self._stack:  # Ctrl-C and SIGTERM wait until every exit ran
            with deferred_interrupts():
                await self._aclose(exc)
        else:
            self._finish_close({}, None)

    async def _aclose(self, exc: BaseException | None) -> None:
        errors: dict[str, BaseException] = {}
        interrupt: BaseException | None = None
        stack = self._stack
        while stack:
            key, exit_ = stack.pop()
            started = time.perf_counter()
            error: BaseException | None = None
            try:
                result = exit_(exc)
                if inspect.isawaitable(result):
                    await result
            except BaseException as caught:  # every exit runs, whatever the others raise
                error = caught
            interrupt = self._record_close(key, started, error, exc, errors, interrupt)
        self._finish_close(errors, interrupt)

    def __enter__(self) -> RunScope:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        try:
            self.close(exc)
        except TeardownError as teardown:
            if exc is None:
                raise
            exc.add_note(str(teardown))

    async def __aenter__(self) -> RunScope:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        try:
            await self.aclose(exc)
        except TeardownError as teardown:
            if exc is None:
                raise
            exc.add_note(str(teardown))

    def __del__(self) -> None:
        if getattr(self, "_stack", None) and self._state is _State.OPEN:
            import warnings

            keys = ", ".join(k for k, _ in self._stack)
            warnings.warn(
                f"RunScope garbage-collected with open resources ({keys}); they were never "
                "closed. Use the scope as a context manager.",
                ResourceWarning,
                stacklevel=1,
            )

    def __repr__(self) -> str:
        return f"RunScope({self._state.value}, opened={self._opened})"

    # -- opening -------------------------------------------------------------------------------

    def _closure(self, key: str) -> tuple[str, ...]:
        closure = self._plan.closure.get(key)
        if closure is None:
            raise self._plan.missing(key)
        if self._state is not _State.OPEN:
            raise InvocationError(
                f"resource {key!r} was asked for after the scope was {self._state.value}",
                hint="resources live only inside their run's scope; open a new scope (or run) "
                "to use them again.",
            )
        return closure

    def _from_parent(self, spec: ResourceSpec) -> bool:
        parent = self._parent
        if parent is None or spec.scope >= self._level:
            return False
        theirs = parent._plan.specs.get(spec.key)
        return theirs is not None and theirs.source is spec.source

    def _open(self, key: str) -> Any:
        with self._lock:
            values = self._values
            for k in self._closure(key):
                if k in values:
                    continue
                spec = self._plan.specs[k]
                if self._from_parent(spec):
                    assert self._parent is not None
                    values[k] = self._parent.get(k)
                    continue
                if spec.lifecycle.is_async:
                    raise InvocationError(
                        f"resource {k!r} ({spec.label}) is async and cannot be opened from "
                        "synchronous code",
                        hint="open it from async code (`async with scope:` and `await "
                        "scope.aget(key)`, or an async step), or make it synchronous.",
                    )
                deps = {alias: values[d] for alias, d in spec.deps} if spec.deps else {}
                started = time.perf_counter() if self._listener is not None else 0.0
                failure: BaseException | None = None
                try:
                    target, ctx = spec.prepare(self._env, deps)
                    value, exit_ = spec.lifecycle.enter_sync(target, ctx)  # type: ignore[arg-type]
                except BaseException as exc:
                    failure = exc
                if failure is not None:  # raised out here: the error chains no unmasked context
                    self._fail(spec, failure)
                self._opened_one(spec, value, exit_, started)
            return values[key]

    async def _aopen(self, key: str) -> Any:
        if self._alock is None:  # once per scope: only async opens need asyncio
            import asyncio

            self._alock = asyncio.Lock()
        async with self._alock:
            values = self._values
            for k in self._closure(key):
                if k in values:
                    continue
                spec = self._plan.specs[k]
                if self._from_parent(spec):
                    assert self._parent is not None
                    values[k] = await self._parent.aget(k)
                    continue
                deps = {alias: values[d] for alias, d in spec.deps}
                started = time.perf_counter()
                failure: BaseException | None = None
                try:
                    target, ctx = spec.prepare(self._env, deps)
                    value, exit_ = await spec.lifecycle.enter_async(target, ctx)  # type: ignore[arg-type]
                except BaseException as exc:
                    failure = exc
                if failure is not None:
                    await self._afail(spec, failure)
                self._opened_one(spec, value, exit_, started)
            return values[key]

    def _opened_one(
        self, spec: ResourceSpec, value: Any, exit_: Exit | None, started: float
    ) -> None:
        self._values[spec.key] = value
        self._opened.append(spec.key)
        if exit_ is not None:
            self._stack.append((spec.key, exit_))
        if self._listener is not None:
            self._listener("open", spec.key, time.perf_counter() - started, None)

    def _fail(self, spec: ResourceSpec, exc: BaseException) -> Any:
        rolled_back = [k for k, _ in reversed(self._stack)]
        try:
            self.close(exc)
        except TeardownError as teardown:
            exc.add_note(str(teardown))
        error = self._init_error(spec, exc, rolled_back)
        if error is exc:
            raise exc  # unwrapped (config errors, Ctrl-C): keep its own cause, not itself
        # chained as the resource raised it, with the secrets it quotes masked
        raise error from self._env.secrets.exception(exc)

    async def _afail(self, spec: ResourceSpec, exc: BaseException) -> Any:
        rolled_back = [k for k, _ in reversed(self._stack)]
        try:
            await self.aclose(exc)
        except TeardownError as teardown:
            exc.add_note(str(teardown))
        error = self._init_error(spec, exc, rolled_back)
        if error is exc:
            raise exc  # unwrapped (config errors, Ctrl-C): keep its own cause, not itself
        # chained as the resource raised it, with the secrets it quotes masked
        raise error from self._env.secrets.exception(exc)

    def _init_error(
        self, spec: ResourceSpec, exc: BaseException, rolled_back: list[str]
    ) -> BaseException:
        if self._listener is not None:
            self._listener("open", spec.key, 0.0, exc)
        if isinstance(exc, OutfitterError) or not isinstance(exc, Exception):
            return exc
        closed = (
            f" Already-open resources were closed in reverse order: {', '.join(rolled_back)}."
            if rolled_back
            else ""
        )
        return ResourceInitError(
            f"resource {spec.key!r} ({spec.label}) failed to open: "
            f"{type(exc).__name__}: {self.redact(str(exc))}",
            key=spec.key,
            hint="the error was raised by the resource's own setup code "
            f"({spec.lifecycle.shape.value}); see the chained exception for its traceback."
            + closed,
        )

    # -- closing -------------------------------------------------------------------------------

    def _begin_close(self) -> bool:
        with self._lock:
            if self._state is not _State.OPEN:
                return False
            self._state = _State.CLOSING
            return True

    def _record_close(
        self,
        key: str,
        started: float,
        error: BaseException | None,
        run_exc: BaseException | None,
        errors: dict[str, BaseException],
        interrupt: BaseException | None,
    ) -> BaseException | None:
        if error is run_exc:
            error = None  # an exit re-raising the run's own exception is not a teardown failure
        if error is not None:
            if isinstance(error, Exception):
                errors[key] = error
            elif interrupt is None:
                interrupt = error
        if self._listener is not None:
            self._listener("close", key, time.perf_counter() - started, error)
        return interrupt

    def _finish_close(
        self, errors: dict[str, BaseException], interrupt: BaseException | None
    ) -> None:
        self._values.clear()
        self._state = _State.CLOSED
        if interrupt is not None:
            raise interrupt
        if errors:
            secrets = self._env.secrets
            raise TeardownError(
                {key: secrets.exception(error) for key, error in errors.items()},
                redact=self.redact,
            )


def _discard(awaitable: Any) -> None:
    close = getattr(awaitable, "close", None)
    if close is not None:
        close()


class _LazyResources(Resources):
    """A :class:`Resources` view that opens keys in its scope on first access."""

    __slots__ = ("_scope",)

    def __init__(self, scope: RunScope) -> None:
        super().__init__({}, owner="this scope")
        object.__setattr__(self, "_scope", scope)

    def __getattr__(self, key: str) -> Any:
        if key.startswith("__"):
            raise AttributeError(key)
        return self._scope.get(key)

    def __getitem__(self, key: str) -> Any:
        return self._scope.get(key)

    def __contains__(self, key: object) -> bool:
        return key in self._scope.plan.bindings

    def __iter__(self) -> Any:
        return iter(self._scope.plan.bindings)

    def __len__(self) -> int:
        return len(self._scope.plan.bindings)
