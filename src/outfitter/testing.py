"""Helpers for testing code that uses resources.

- :func:`override_resources`: swap resources for the duration of a ``with`` block, in a
  container (through dependency-injector's own overriding) or a dict.
- :class:`ResourceRecorder`: resources that record when they open and close, to assert order.

Example:
    >>> from outfitter import build_resources
    >>> from outfitter.testing import ResourceRecorder
    >>> rec = ResourceRecorder()
    >>> res = {"db": rec.resource("db"), "api": rec.resource("api", requires=["db"])}
    >>> with build_resources(res):
    ...     pass
    >>> rec.events
    [('open', 'db'), ('open', 'api'), ('close', 'api'), ('close', 'db')]
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterable, Iterator, MutableMapping
from typing import Any

from ._resources.bindings import is_container
from ._resources.context import InitResourceContext
from ._resources.definition import ResourceDefinition
from .exceptions import InvocationError

__all__ = ["ResourceRecorder", "override_resources"]

_MISSING = object()


@contextlib.contextmanager
def override_resources(target: Any, **overrides: Any) -> Iterator[Any]:
    """Replace resources by key inside a ``with`` block; runs started inside see the
    replacements, runs after it the originals.

    ``target`` is a container (class or instance; overridden with dependency-injector's
    ``override_providers``) or a mutable dict of resources (updated in place and restored).

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
    if is_container(target):
        unknown = sorted(set(overrides) - set(target.providers))
        if unknown:
            raise _unknown(unknown, target.providers)
        with contextlib.ExitStack() as stack:
            for key, value in overrides.items():
                stack.enter_context(target.providers[key].override(value))
            yield target
        return
    if not isinstance(target, MutableMapping):
        raise InvocationError(
            f"cannot override resources of a {type(target).__name__}",
            hint="pass a ResourceContainer (class or instance) or a dict of resources.",
        )
    unknown = sorted(set(overrides) - set(target))
    if unknown:
        raise _unknown(unknown, target)
    saved = {k: target[k] for k in overrides}
    target.update(overrides)
    try:
        yield target
    finally:
        target.update(saved)


def _unknown(keys: list[str], have: Iterable[str]) -> InvocationError:
    from ._resources.context import did_you_mean

    return InvocationError(
        f"cannot override {', '.join(repr(k) for k in keys)}: not bound here"
        + did_you_mean(keys[0], have),
        hint=f"bound keys: {', '.join(sorted(have))}.",
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
