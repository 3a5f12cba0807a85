"""Helpers for testing code that uses resources, and the fixtures of Outfitter's pytest plugin.

- :func:`override_resources`: swap resources for the duration of a ``with`` block, in a
  container (through dependency-injector's own overriding), a dict, a ``Definitions``, a job or
  a flow.
- :class:`ResourceRecorder`: resources that record when they open and close, to assert order.
- :class:`IsolatedEnv`, :class:`AssertingInstance`, :class:`ManualClock`: what the plugin's
  ``outfitter_env``, ``outfitter_instance`` and ``outfitter_clock`` fixtures return.

The pytest plugin itself (fixtures ``outfitter_*``, marker ``outfitter_envs``) is loaded by
pytest through the ``pytest11`` entry point named ``outfitter``; ``-p no:outfitter`` turns it
off, ``-p outfitter`` (or ``-p outfitter.testing.pytest_plugin``) turns it on when plugin
autoloading is disabled. See docs/testing.md.

Example:
    >>> from outfitter import build_resources
    >>> from outfitter.testing import ResourceRecorder
    >>> rec = ResourceRecorder()
    >>> res = {"db": rec.resource("db"), "api": rec.resource("api", requires=["db"])}
    >>> with build_resources(res):
    ...     pass
    >>> rec.events
    [('open', 'db'), ('open', 'api'), ('close', 'api'), ('close', 'db')]
    >>> rec.assert_closed_lifo()
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterable, Iterator, MutableMapping
from typing import Any

from .._resources.bindings import is_container, resource_bindings
from .._resources.context import InitResourceContext
from .._resources.definition import ResourceDefinition
from ..exceptions import InvocationError
from ._clock import ManualClock
from ._env import IsolatedEnv
from ._instance import AssertingInstance

__all__ = [
    "AssertingInstance",
    "IsolatedEnv",
    "ManualClock",
    "ResourceRecorder",
    "override_resources",
]

_MISSING = object()


@contextlib.contextmanager
def override_resources(target: Any, **overrides: Any) -> Iterator[Any]:
    """Replace resources by key inside a ``with`` block; runs started inside see the
    replacements, runs after it the originals.

    ``target`` is one of:

    - a container (class or instance): its providers are overridden with dependency-injector's
      own ``override``, undone at the end of the block;
    - a mutable dict of resources: updated in place and restored;
    - a ``Definitions``: its resources (a container is overridden as above; a dict is replaced
      by a copy with the replacements, for every job of the definitions);
    - a job or a ``Flow``: the same, over the job's (or flow's) own resources.

    A key that is not bound there is refused (nothing is overridden) with a did-you-mean.

    Example:
        >>> from outfitter import ResourceContainer, build_resources
        >>> from outfitter.testing import override_resources
        >>> class Prod(ResourceContainer):
        ...     api_url = "https://api.example.com"
        >>> with override_resources(Prod, api_url="http://localhost:8000"):
        ...     with build_resources(Prod) as res:
        ...         res.api_url
        'http://localhost:8000'
    """
    with contextlib.ExitStack() as stack:
        _override(stack, target, overrides)
        yield target


def _override(stack: contextlib.ExitStack, target: Any, overrides: dict[str, Any]) -> None:
    """Apply ``overrides`` to ``target``, registering their undoing on ``stack``."""
    from .._definitions.definitions import Definitions
    from .._definitions.job import JobDefinition
    from .._flows.flow import Flow

    if is_container(target):
        _check_known(overrides, target.providers)
        for key, value in overrides.items():
            stack.enter_context(target.providers[key].override(value))
    elif isinstance(target, Definitions):
        jobs = [j for j in target._jobs.values() if j.base_resources is target._resources]
        replaced = _replace(stack, target, "_resources", overrides)
        for job in jobs:
            stack.enter_context(_swapped(job, "base_resources", replaced))
    elif isinstance(target, JobDefinition):
        bound = set(resource_bindings(target.base_resources)) | set(target.resource_defs)
        _check_known(overrides, bound | set(target.resource_keys))
        stack.enter_context(
            _swapped(target, "resource_defs", {**target.resource_defs, **overrides})
        )
    elif isinstance(target, Flow):
        _replace(stack, target, "resources", overrides)
    elif isinstance(target, MutableMapping):
        _check_known(overrides, target)
        saved = {k: target[k] for k in overrides}
        target.update(overrides)
        stack.callback(target.update, saved)
    else:
        raise InvocationError(
            f"cannot override resources of a {type(target).__name__}",
            hint="pass a ResourceContainer (class or instance), a dict of resources, a "
            "Definitions, a job or a Flow.",
        )


def _replace(
    stack: contextlib.ExitStack, owner: Any, attribute: str, overrides: dict[str, Any]
) -> Any:
    """Override the resources held in ``owner.<attribute>``: a container's providers, or a
    new dict swapped in (the caller's dict is left alone). Returns what the attribute holds."""
    resources = getattr(owner, attribute)
    if is_container(resources):
        _override(stack, resources, overrides)
        return resources
    bindings = resource_bindings(resources)
    _check_known(overrides, bindings)
    replaced = {**bindings, **overrides}
    stack.enter_context(_swapped(owner, attribute, replaced))
    return replaced


@contextlib.contextmanager
def _swapped(owner: Any, attribute: str, value: Any) -> Iterator[None]:
    saved = getattr(owner, attribute)
    setattr(owner, attribute, value)
    try:
        yield
    finally:
        setattr(owner, attribute, saved)


def _check_known(overrides: Iterable[str], have: Iterable[str]) -> None:
    have = list(have)
    unknown = sorted(set(overrides) - set(have))
    if unknown:
        raise _unknown(unknown, have)


def _unknown(keys: list[str], have: Iterable[str]) -> InvocationError:
    from .._resources.context import did_you_mean

    return InvocationError(
        f"cannot override {', '.join(repr(k) for k in keys)}: not bound here."
        + did_you_mean(keys[0], have),
        hint=f"bound keys: {', '.join(sorted(have)) or '(none)'}.",
    )


class ResourceRecorder:
    """Makes resources that record ``("open", name)`` and ``("close", name)`` events, in order,
    thread-safely. ``fail_on`` makes a resource raise at ``"open"`` or ``"close"``.

    Example:
        >>> rec = ResourceRecorder()
        >>> definition = rec.resource("cache", value={"hits": 0})
        >>> rec.events
        []
    """

    def __init__(self) -> None:
        self.events: list[tuple[str, str]] = []
        self.exceptions: dict[str, BaseException | None] = {}
        self._lock = threading.Lock()

    def record(self, event: str, name: str) -> None:
        """Append one event."""
        with self._lock:
            self.events.append((event, name))

    @property
    def opened(self) -> list[str]:
        """Names in the order they opened."""
        return [n for e, n in self.events if e == "open"]

    @property
    def closed(self) -> list[str]:
        """Names in the order they closed."""
        return [n for e, n in self.events if e == "close"]

    def assert_closed_lifo(self) -> None:
        """Assert that every close closed the most recently opened resource still open (the
        exact reverse of the opens), and that nothing was left open.

        Example:
            >>> rec = ResourceRecorder()
            >>> rec.events = [("open", "db"), ("open", "api"), ("close", "db")]
            >>> rec.assert_closed_lifo()
            Traceback (most recent call last):
            AssertionError: 'db' closed while 'api' (opened after it) was still open; events: [('open', 'db'), ('open', 'api'), ('close', 'db')]
        """  # noqa: E501
        stack: list[str] = []
        for event, name in self.events:
            if event == "open":
                stack.append(name)
            elif not stack or stack[-1] != name:
                why = (
                    f"while {stack[-1]!r} (opened after it) was still open"
                    if name in stack
                    else "but it was not open"
                )
                raise AssertionError(f"{name!r} closed {why}; events: {self.events}")
            else:
                stack.pop()
        if stack:
            raise AssertionError(f"left open: {stack}; events: {self.events}")

    def assert_each_closed_once(self) -> None:
        """Assert that each opening of a resource was closed exactly once, after it opened
        (in any order), and nothing closed that was not open.

        Example:
            >>> rec = ResourceRecorder()
            >>> rec.events = [("open", "db"), ("close", "db"), ("close", "db")]
            >>> rec.assert_each_closed_once()
            Traceback (most recent call last):
            AssertionError: 'db' closed 2 time(s) but opened 1 time(s); events: [('open', 'db'), ('close', 'db'), ('close', 'db')]
        """  # noqa: E501
        open_now: dict[str, int] = {}
        for event, name in self.events:
            if event == "open":
                open_now[name] = open_now.get(name, 0) + 1
            elif open_now.get(name, 0) == 0:
                opened = self.opened.count(name)
                closed = self.closed.count(name)
                raise AssertionError(
                    f"{name!r} closed {closed} time(s) but opened {opened} time(s); "
                    f"events: {self.events}"
                )
            else:
                open_now[name] -= 1
        left = sorted(name for name, count in open_now.items() if count)
        if left:
            raise AssertionError(f"never closed: {left}; events: {self.events}")

    def resource(
        self,
        name: str,
        value: Any = _MISSING,
        *,
        requires: Iterable[str] = (),
        fail_on: str | None = None,
        scope: str = "run",
    ) -> ResourceDefinition:
        """A generator resource recording its open and close under ``name``; its value is
        ``value`` (default: ``name``); ``requires`` are keys it depends on."""
        result = name if value is _MISSING else value

        def recording(context: InitResourceContext) -> Iterator[Any]:
            for dep in requires:
                context.resources[dep]
            if fail_on == "open":
                raise RuntimeError(f"{name} failed to open")
            self.record("open", name)
            try:
                yield result
            except (
                BaseException
            ) as exc:  # pragma: no cover - generators are resumed, not thrown into
                self.exceptions[name] = exc
                raise
            finally:
                self.record("close", name)
                if fail_on == "close":
                    raise RuntimeError(f"{name} failed to close")

        recording.__name__ = f"recording_{name}"
        return ResourceDefinition(recording, required_resource_keys=requires, scope=scope)
