"""Annotations that mark a parameter or field as a resource: ``ResourceParam`` and
``ResourceDependency``, and the resource scopes."""

from __future__ import annotations

import enum
import types
import typing
from typing import Annotated, Any, TypeAlias, TypeVar

__all__ = [
    "RESOURCE_DEPENDENCY",
    "RESOURCE_PARAM",
    "ResourceDependency",
    "ResourceParam",
    "Scope",
    "has_marker",
    "parse_scope",
    "strip_optional",
]

T = TypeVar("T")


class _Marker:
    __slots__ = ("name",)

    def __init__(self, name: str) -> None:
        self.name = name

    def __repr__(self) -> str:
        return self.name

    def __reduce__(self) -> str:
        # the module-level constant of the same marker, so identity checks hold in workers
        return "RESOURCE_PARAM" if self.name == "ResourceParam" else "RESOURCE_DEPENDENCY"


RESOURCE_PARAM = _Marker("ResourceParam")
RESOURCE_DEPENDENCY = _Marker("ResourceDependency")

ResourceParam: TypeAlias = Annotated[T, RESOURCE_PARAM]
"""Marks a step parameter as a resource whose value is any object (e.g. a third-party client).

Example:
    >>> from outfitter import ResourceParam
    >>> def fetch(github: ResourceParam[dict]) -> None: ...
"""

ResourceDependency: TypeAlias = Annotated[T, RESOURCE_DEPENDENCY]
"""Marks a field of a ConfigurableResource as a nested resource whose value is any object.

Example:
    >>> from outfitter import ConfigurableResource, ResourceDependency
    >>> class Reporter(ConfigurableResource):
    ...     client: ResourceDependency[dict]
"""


class Scope(enum.IntEnum):
    """How long an opened resource lives; lower values live longer.

    ``PROCESS``: shared by every run in a long-lived process (the daemon), closed at shutdown.
    ``RUN`` (default): once per run per process. ``STEP``: fresh for each step that asks.
    """

    PROCESS = 0
    RUN = 1
    STEP = 2

    def __str__(self) -> str:
        return self.name.lower()


def parse_scope(value: Scope | str, owner: str) -> Scope:
    """``value`` as a :class:`Scope`, or a DefinitionError naming ``owner``."""
    if isinstance(value, Scope):
        return value
    try:
        return Scope[str(value).upper()]
    except KeyError:
        from ..exceptions import DefinitionError

        raise DefinitionError(
            f"{owner}: unknown scope {value!r}",
            hint="use one of 'run' (default), 'step' or 'process'.",
        ) from None


def strip_optional(annotation: Any) -> tuple[Any, bool]:
    """(the annotation without ``None`` in a union, whether ``None`` was allowed)."""
    origin = typing.get_origin(annotation)
    if origin is typing.Union or origin is types.UnionType:
        args = [a for a in typing.get_args(annotation) if a is not type(None)]
        optional = len(args) < len(typing.get_args(annotation))
        if len(args) == 1:
            return args[0], optional
        return annotation, optional
    return annotation, False


def has_marker(annotation: Any, marker: _Marker) -> tuple[bool, Any]:
    """Whether ``annotation`` is ``Annotated[X, marker]``; returns (found, X)."""
    if typing.get_origin(annotation) is Annotated:
        inner, *meta = typing.get_args(annotation)
        if any(m is marker for m in meta):
            return True, inner
    return False, annotation
