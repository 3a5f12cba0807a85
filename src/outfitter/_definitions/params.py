"""How a step function's parameters are read (DESIGN §4, "Injection").

The first parameter named ``context`` is the execution context; a parameter named ``config`` is
run config; a parameter annotated with a resource class or ``ResourceParam[T]`` is a resource
whose key is the parameter name; anything else is an input. Used by ``@asset``, ``@op``,
``@task``, ``Task.run`` and sensors alike.
"""

from __future__ import annotations

import contextlib
import inspect
import sys
import typing
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from .._resources.configurable import ConfigurableResourceFactory
from .._resources.markers import RESOURCE_PARAM, has_marker, strip_optional
from ..exceptions import DefinitionError

__all__ = ["Params", "ResourceParamSpec", "classify_params", "resource_annotation"]

RESERVED = frozenset({"context", "config"})


@dataclass(frozen=True, slots=True)
class ResourceParamSpec:
    """A parameter that asks for a resource: its key and the type it expects (or None)."""

    key: str
    expected: type | None
    annotation_text: str


@dataclass(frozen=True, slots=True)
class Params:
    """The classified parameters of one step function."""

    context: str | None
    config: str | None
    config_type: Any
    resources: tuple[ResourceParamSpec, ...]
    inputs: tuple[str, ...]
    optional_inputs: frozenset[str]
    is_async: bool


def resource_annotation(annotation: Any) -> tuple[bool, type | None]:
    """(whether ``annotation`` marks a resource, the type its value should have)."""
    annotation, _ = strip_optional(annotation)
    found, inner = has_marker(annotation, RESOURCE_PARAM)
    if found:
        inner, _ = strip_optional(inner)
        origin = typing.get_origin(inner) or inner
        # Any (a class since Python 3.11) accepts every value: nothing to check
        return True, origin if isinstance(origin, type) and origin is not Any else None
    if isinstance(annotation, type) and issubclass(annotation, ConfigurableResourceFactory):
        return True, annotation
    return False, None


def _defining_scope() -> dict[str, Any]:
    """The locals of the nearest frame outside Outfitter: where the decorated function was
    written, so classes defined in a function body resolve as annotations."""
    frame = sys._getframe(1)
    while frame is not None and frame.f_globals.get("__name__", "").startswith("outfitter."):
        frame = frame.f_back  # type: ignore[assignment]
    return dict(frame.f_locals) if frame is not None else {}


def _hints(fn: Callable[..., Any], owner: str) -> dict[str, Any]:
    raw = dict(getattr(fn, "__annotations__", {}))
    try:
        return typing.get_type_hints(fn, include_extras=True)
    except Exception:  # forward references to names local to the defining scope
        pass
    localns = _defining_scope()
    globalns = getattr(fn, "__globals__", {})
    hints: dict[str, Any] = {}
    for name, annotation in raw.items():
        if isinstance(annotation, str):
            # left as text when unresolvable: classified as an input, like no annotation
            with contextlib.suppress(Exception):
                annotation = eval(annotation, globalns, localns)
        hints[name] = annotation
    return hints


def classify_params(fn: Callable[..., Any], owner: str, *, skip_self: bool = False) -> Params:
    """Classify the parameters of ``fn``; ``owner`` names it in errors (e.g. "asset 'orders'")."""
    try:
        signature = inspect.signature(fn)
    except (TypeError, ValueError) as exc:
        raise DefinitionError(
            f"{owner}: cannot read the function's signature ({exc})",
            hint="define the step as a plain Python function.",
        ) from None
    hints = _hints(fn, owner)
    params = list(signature.parameters.values())
    if skip_self and params:
        params = params[1:]
    problems = []
    context = config = None
    config_type: Any = None
    resources: list[ResourceParamSpec] = []
    inputs: list[str] = []
    optional: set[str] = set()
    for index, param in enumerate(params):
        if param.kind in (param.VAR_POSITIONAL, param.VAR_KEYWORD):
            star = "*" if param.kind is param.VAR_POSITIONAL else "**"
            problems.append(
                f"{owner}: parameter {star}{param.name} is not supported (inputs, resources and "
                "config must be named parameters)"
            )
            continue
        annotation = hints.get(param.name, param.annotation)
        if param.name == "context":
            if index != 0:
                problems.append(f"{owner}: 'context' must be the first parameter")
            context = param.name
            continue
        if param.name == "config":
            config, config_type = (
                param.name,
                (None if annotation is inspect.Parameter.empty else annotation),
            )
            continue
        is_resource, expected = resource_annotation(annotation)
        if is_resource:
            text = getattr(annotation, "__name__", None) or repr(annotation)
            resources.append(ResourceParamSpec(param.name, expected, text))
            continue
        inputs.append(param.name)
        if param.default is not inspect.Parameter.empty:
            optional.add(param.name)
    if problems:
        raise DefinitionError(
            f"{owner} has parameters Outfitter cannot bind",
            problems=problems,
            hint="write `def step(context, upstream, config: MyConfig, db: Database)`: "
            "context first, then inputs, config and resources by name.",
        )
    is_async = inspect.iscoroutinefunction(fn) or inspect.isasyncgenfunction(fn)
    return Params(
        context,
        config,
        config_type,
        tuple(resources),
        tuple(inputs),
        frozenset(optional),
        is_async,
    )
