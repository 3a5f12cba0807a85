"""How a step function's parameters are read (DESIGN §4, "Injection").

The first parameter is the execution context when it is named ``context``, ``_``, ``_context`` or
``context_`` (Dagster's spellings) or is annotated with a context class
(``AssetExecutionContext``, ``OpExecutionContext``, ...); a sensor's or schedule's context is its
first parameter that is not a resource, whatever its name and place. A parameter named ``config``
is run config; a parameter annotated with a resource class or ``ResourceParam[T]`` is a resource
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

from .._resources.configurable import ConfigurableResource, ConfigurableResourceFactory
from .._resources.definition import ResourceDefinition
from .._resources.markers import RESOURCE_PARAM, has_marker, strip_optional
from ..exceptions import DefinitionError

__all__ = [
    "CONTEXT_NAMES",
    "Params",
    "ResourceParamSpec",
    "classify_params",
    "is_context_annotation",
    "resource_annotation",
]

RESERVED = frozenset({"context", "config"})

CONTEXT_NAMES = frozenset({"context", "_", "_context", "context_"})
"""Names that make a first parameter the context (Dagster's ``get_valid_name_permutations``)."""

# Contexts carry this class attribute (set on OpExecutionContext and the sensor/schedule
# contexts), so this lower layer recognises them without importing them.
_CONTEXT_MARKER = "__outfitter_context__"
_CONTEXT_CLASS_NAMES = frozenset(
    {
        "AssetExecutionContext",
        "OpExecutionContext",
        "AssetCheckExecutionContext",
        "SensorEvaluationContext",
        "ScheduleEvaluationContext",
    }
)


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


def is_context_annotation(annotation: Any) -> bool:
    """Whether ``annotation`` is a context class (or, left unresolved as text, names one).

    Example:
        >>> from outfitter import AssetExecutionContext
        >>> is_context_annotation(AssetExecutionContext), is_context_annotation(int)
        (True, False)
    """
    if isinstance(annotation, str):
        return annotation.rsplit(".", 1)[-1].strip() in _CONTEXT_CLASS_NAMES
    return isinstance(annotation, type) and getattr(annotation, _CONTEXT_MARKER, False) is True


def _factory_output(cls: type) -> Any:
    """What a ``ConfigurableResourceFactory[T]`` subclass creates (``T``), or None if unknown."""
    for klass in cls.__mro__:
        meta: dict[str, Any] = getattr(klass, "__pydantic_generic_metadata__", None) or {}
        origin = meta.get("origin")
        args: tuple[Any, ...] = tuple(meta.get("args") or ())
        if (
            isinstance(origin, type)
            and issubclass(origin, ConfigurableResourceFactory)
            and len(args) == 1
            and not isinstance(args[0], typing.TypeVar)
        ):
            return args[0]
    return None


def _wrong_resource_annotation(name: str, annotation: Any, owner: str) -> tuple[str, str] | None:
    """(problem, fix) when ``annotation`` is a resource *definition* class whose run value is
    another object (a ``ConfigurableResourceFactory`` or ``ResourceDefinition`` subclass).

    Dagster raises here too (``validate_resource_annotated_function`` in
    ``dagster/_config/pythonic_config/resource.py``): the parameter receives what the factory
    creates, so the annotation must say that type.
    """
    annotation, _ = strip_optional(annotation)
    if not isinstance(annotation, type) or issubclass(annotation, ConfigurableResource):
        return None
    if not issubclass(annotation, ConfigurableResourceFactory | ResourceDefinition):
        return None
    output = (
        _factory_output(annotation) if issubclass(annotation, ConfigurableResourceFactory) else None
    )
    label = annotation.__name__
    if output is None:
        what = "an unknown value"
        fix = "ResourceParam[Any] (or ResourceParam[<the type it creates>])"
    else:
        shown = getattr(output, "__name__", None) or repr(output)
        what, fix = f"a {shown}", f"ResourceParam[{shown}]"
    return (
        f"{owner}: parameter {name!r} is annotated as {label}, but {label} is a resource "
        f"definition: the step receives {what}, not a {label}",
        f"annotate it `{name}: {fix}` (the key stays {name!r}).",
    )


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


def classify_params(
    fn: Callable[..., Any],
    owner: str,
    *,
    skip_self: bool = False,
    instigator: bool = False,
    var_keyword: bool = False,
) -> Params:
    """Classify the parameters of ``fn``; ``owner`` names it in errors (e.g. "asset 'orders'").

    ``instigator`` (sensors, schedules): the context is the first parameter that is not a
    resource, whatever its name (Dagster's ``get_context_param_name`` in
    ``dagster/_core/definitions/sensor_definition.py``)."""
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
    hints_for: list[str] = []
    context = config = None
    config_type: Any = None
    resources: list[ResourceParamSpec] = []
    inputs: list[str] = []
    optional: set[str] = set()
    for index, param in enumerate(params):
        if var_keyword and param.kind is param.VAR_KEYWORD:
            continue  # a flow task's **kwargs take the extra inputs it is bound with
        if param.kind in (param.VAR_POSITIONAL, param.VAR_KEYWORD):
            star = "*" if param.kind is param.VAR_POSITIONAL else "**"
            problems.append(
                f"{owner}: parameter {star}{param.name} is not supported (inputs, resources and "
                "config must be named parameters)"
            )
            continue
        annotation = hints.get(param.name, param.annotation)
        wrong = _wrong_resource_annotation(param.name, annotation, owner)
        if wrong is not None:
            problems.append(wrong[0])
            hints_for.append(wrong[1])
            continue
        if instigator:
            if context is None and not resource_annotation(annotation)[0]:
                context = param.name
                continue
        elif index == 0 and (param.name in CONTEXT_NAMES or is_context_annotation(annotation)):
            context = param.name
            continue
        elif param.name == "context" or is_context_annotation(annotation):
            problems.append(
                f"{owner}: {param.name!r} is the context, so it must be the first parameter"
            )
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
            hint=" ".join(hints_for)
            if hints_for and len(hints_for) == len(problems)
            else "write `def step(context, upstream, config: MyConfig, db: Database)`: "
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
