"""Calling a step outside a run: direct invocation (``my_asset(db=FakeDb())``) and the test
contexts ``build_asset_context`` / ``build_op_context``.

Resources passed as arguments get their full lifecycle around the call: opened before,
closed after (in reverse), whatever the step does.
"""

from __future__ import annotations

import inspect
from types import TracebackType
from typing import TYPE_CHECKING, Any

from .._config.env_var import contains_env_var
from .._config.run_config import resolve_step_configs
from .._resources.context import did_you_mean
from .._resources.markers import Scope
from .._resources.scope import RunScope, plan_for
from ..exceptions import InvocationError, InvocationTypeError
from .context import AssetExecutionContext, OpExecutionContext, StepResources

if TYPE_CHECKING:
    import asyncio

    from .._definitions.decorators import _StepDefinition

__all__ = ["build_asset_context", "build_op_context", "invoke_directly"]


class _TestContextMixin:
    """Makes a context usable plain or in ``with`` (required when resources need cleanup)."""

    _scope: RunScope | None
    _plain_checked: bool

    def _open_plain(self, scope: RunScope) -> None:
        needs_with = [k for k, s in scope.plan.specs.items() if s.lifecycle.needs_exit]
        if needs_with:
            raise InvocationError(
                f"resource(s) {', '.join(repr(k) for k in needs_with)} need cleanup, so the "
                "context must be used in a `with` block",
                hint="write `with build_asset_context(resources={...}) as context:` (or "
                "build_op_context) so they are closed when the block ends.",
            )


def _build(
    cls: type[OpExecutionContext],
    resources: Any,
    instance: Any,
    run_id: str | None,
    config: Any,
    asset_key: Any,
    step_key: str,
    event_loop: asyncio.AbstractEventLoop | None = None,
) -> Any:
    plan = plan_for(resources or {})
    scope = RunScope(plan, run_id=run_id or "ephemeral", instance=instance)
    needs_with = [k for k, s in plan.specs.items() if s.lifecycle.needs_exit]
    keys = list(plan.specs)

    class _Built(cls):  # type: ignore[valid-type,misc]
        __slots__ = ("_entered", "_event_loop", "_needs_with", "_scope")

        def __enter__(self) -> Any:
            loop = self._event_loop
            if loop is not None:
                # async resources open on the loop that will run the async step (as Dagster's
                # build_op_context(event_loop=...) does)
                loop.run_until_complete(self._scope.aopen(keys))
            self._entered = True
            return self

        def __exit__(
            self,
            exc_type: type[BaseException] | None,
            exc: BaseException | None,
            tb: TracebackType | None,
        ) -> None:
            loop = self._event_loop
            if loop is not None:
                loop.run_until_complete(self._scope.__aexit__(exc_type, exc, tb))
            else:
                self._scope.__exit__(exc_type, exc, tb)

        async def __aenter__(self) -> Any:
            await self._scope.aopen(keys)
            self._entered = True
            return self

        async def __aexit__(
            self,
            exc_type: type[BaseException] | None,
            exc: BaseException | None,
            tb: TracebackType | None,
        ) -> None:
            await self._scope.__aexit__(exc_type, exc, tb)

    ctx = _Built(
        step_key=step_key,
        run_id=scope.run_id,
        resources=_GuardedResources(scope, list(plan.bindings), needs_with),
        instance=instance,
        op_config=config,
        asset_key=asset_key,
    )
    ctx._scope = scope
    ctx._needs_with = needs_with
    ctx._entered = False
    ctx._event_loop = event_loop
    object.__setattr__(ctx.resources, "_context", ctx)
    if event_loop is not None and not needs_with:
        event_loop.run_until_complete(scope.aopen(keys))  # nothing to close: open them now
    return ctx


class _GuardedResources(StepResources):
    """Step resources of a test context: refuses resources needing cleanup outside ``with``."""

    __slots__ = ("_context", "_needs_with")

    def __init__(self, scope: RunScope, allowed: list[str], needs_with: list[str]) -> None:
        super().__init__(scope, allowed, "this context")
        object.__setattr__(self, "_needs_with", needs_with)
        object.__setattr__(self, "_context", None)

    def _get(self, key: str) -> Any:
        ctx = self._context
        if key in self._needs_with and (ctx is None or not ctx._entered):
            raise InvocationError(
                f"resource {key!r} needs cleanup, so the context must be used in a `with` block",
                hint="write `with build_asset_context(resources={...}) as context:` (or "
                "build_op_context) so it is closed when the block ends.",
            )
        return super()._get(key)


def build_op_context(
    resources: Any = None,
    instance: Any = None,
    config: Any = None,
    run_id: str | None = None,
    event_loop: asyncio.AbstractEventLoop | None = None,
) -> OpExecutionContext:
    """An op context for calling an op directly in a test. Use ``with`` when a resource needs
    cleanup. ``event_loop``: the loop that will run an async op; async resources are opened
    (and closed) on it (or use ``async with`` inside a running loop).

    Example:
        >>> from outfitter import build_op_context
        >>> build_op_context(config={"limit": 3}).op_config
        {'limit': 3}
    """
    return _build(  # type: ignore[no-any-return]
        OpExecutionContext, resources, instance, run_id, config, None, "test_op", event_loop
    )


def build_asset_context(
    resources: Any = None,
    instance: Any = None,
    config: Any = None,
    run_id: str | None = None,
    asset_key: Any = None,
    event_loop: asyncio.AbstractEventLoop | None = None,
) -> AssetExecutionContext:
    """An asset context for calling an asset directly in a test. Use ``with`` when a resource
    needs cleanup. ``event_loop``: the loop that will run an async asset; async resources are
    opened (and closed) on it (or use ``async with`` inside a running loop).

    Example:
        >>> from outfitter import build_asset_context
        >>> with build_asset_context(resources={"token": "t"}) as context:
        ...     context.resources.token
        't'
    """
    return _build(  # type: ignore[no-any-return]
        AssetExecutionContext,
        resources,
        instance,
        run_id,
        config,
        asset_key,
        "test_asset",
        event_loop,
    )


def _call_names(defn: _StepDefinition) -> tuple[str, ...]:
    """The parameters a positional argument can fill, in order, the context left out."""
    try:
        return defn.__dict__["_call_names"]  # type: ignore[no-any-return]
    except KeyError:
        pass
    kinds = (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)
    names = tuple(
        p.name
        for p in inspect.signature(defn.fn).parameters.values()
        if p.kind in kinds and p.name != defn.params.context
    )
    defn.__dict__["_call_names"] = names
    return names


def _bind_arguments(
    defn: _StepDefinition, args: tuple[Any, ...], kwargs: dict[str, Any]
) -> tuple[Any, dict[str, Any]]:
    """(the context given or None, every other argument by parameter name), as Dagster's
    ``direct_invocation_result`` reads a call (``dagster/_core/definitions/op_invocation.py``):
    a first positional context (or ``context=``), then positional arguments in parameter
    order, resources and config included. A context given to a function without a context
    parameter is only where resources come from."""
    params = defn.params
    owner = defn.owner
    rest = list(args)
    context = None
    if rest and (isinstance(rest[0], OpExecutionContext) or (params.context and rest[0] is None)):
        context = rest.pop(0)
    elif params.context is not None and params.context in kwargs:
        context = kwargs.pop(params.context)
        if context is not None and not isinstance(context, OpExecutionContext):
            raise InvocationTypeError(
                f"{owner}: {params.context}= must be a context, got {type(context).__name__}",
                hint="build one with build_asset_context(...) or build_op_context(...).",
            )
    names = _call_names(defn)
    if len(rest) > len(names):
        raise InvocationTypeError(
            f"{owner} takes {len(names)} positional argument(s) after the context "
            f"({', '.join(names) or 'none'}), but {len(rest)} were given",
            hint="pass the context first (if any), then inputs and resources in parameter "
            "order, or by keyword.",
        )
    bound = dict(kwargs)
    for name, value in zip(names, rest, strict=False):
        if name in kwargs:
            raise InvocationTypeError(
                f"{owner} got multiple values for argument {name!r}",
                hint=f"pass {name!r} either by position or by keyword, not both.",
            )
        bound[name] = value
    known = {*params.inputs, *(r.key for r in params.resources)}
    if params.config:
        known.add(params.config)
    unknown = sorted(k for k in bound if k not in known)
    if unknown:
        raise InvocationTypeError(
            f"{owner} got unexpected argument(s) {', '.join(repr(k) for k in unknown)}."
            + did_you_mean(unknown[0], known),
            hint=f"it takes: {', '.join(sorted(known)) or 'no arguments'}"
            + ("" if params.context else " (and a context first, as the resource source)")
            + ".",
        )
    for name, declared in getattr(defn, "ins", {}).items():  # In(default_value=...)
        if name not in bound and declared.has_default_value:
            bound[name] = declared.default_value
    missing = [n for n in params.inputs if n not in bound and n not in params.optional_inputs]
    if missing:
        raise InvocationTypeError(
            f"{owner} is missing input(s) {', '.join(repr(n) for n in missing)}",
            hint=f"pass them, e.g. {defn.__name__}({missing[0]}=...).",
        )
    return context, bound


class _InvocationResources(StepResources):
    """Resources of one direct call: those opened for it first, then the given context's."""

    __slots__ = ("_fallback",)

    def __init__(self, scope: RunScope, allowed: Any, owner: str, fallback: Any) -> None:
        super().__init__(scope, allowed, owner)
        object.__setattr__(self, "_fallback", fallback)

    def _get(self, key: str) -> Any:
        fallback = self._fallback
        if key not in self._allowed and fallback is not None and key in fallback:
            return fallback[key]
        return super()._get(key)

    def _keys(self) -> set[str]:
        return set(self._allowed) | (set(self._fallback) if self._fallback is not None else set())

    def __iter__(self) -> Any:
        return iter(sorted(self._keys()))

    def __len__(self) -> int:
        return len(self._keys())

    def __contains__(self, key: object) -> bool:
        return key in self._allowed or (self._fallback is not None and key in self._fallback)

    def get(self, key: str, default: Any = None) -> Any:
        return self._get(key) if key in self else default


def invoke_directly(defn: _StepDefinition, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
    """Call a step's function as a test would.

    Resources come from the arguments (by keyword or position), the asset's own resources
    (``with_resources``) and the given context; those not from the context get their full
    lifecycle around the call. An async step returns a coroutine (an async generator step, an
    async generator) that opens them on the loop that runs it.
    """
    params = defn.params
    owner = defn.owner
    context, bound = _bind_arguments(defn, args, kwargs)
    if params.config and contains_env_var(bound.get(params.config)):
        # read now, as a run reads them when it starts: the name never reaches the function
        bound[params.config] = resolve_step_configs({defn.name: bound[params.config]})[defn.name]
    resource_names = {r.key for r in params.resources}
    given = {k: bound.pop(k) for k in list(bound) if k in resource_names}
    ctx_resources = context.resources if context is not None else None
    ctx_keys = set(ctx_resources) if ctx_resources is not None else set()
    both = sorted(set(given) & ctx_keys)
    if both:
        # Dagster: DagsterInvalidInvocationError("Cannot provide resources in both context and
        # kwargs") from BoundOpExecutionContext.bind (dagster/_core/execution/context/invocation.py)
        raise InvocationTypeError(
            "Cannot provide resources in both context and kwargs: "
            f"{owner} got {', '.join(repr(k) for k in both)} from the context and as an argument",
            hint="pass each resource once: in build_asset_context(resources={...}) / "
            "build_op_context(...) or as an argument.",
        )
    own = dict(getattr(defn, "resource_defs", None) or {})
    clash = sorted((set(own) - set(given)) & ctx_keys)
    if clash:
        raise InvocationTypeError(
            f"{owner} has its own resource(s) {', '.join(repr(k) for k in clash)} (from "
            "with_resources or resource_defs) and the context provides them too",
            hint="provide each resource on only one of them: the definition or the context.",
        )
    fresh = {**own, **given}
    needed = defn.resource_keys
    missing = sorted(k for k in needed if k not in fresh and k not in ctx_keys)
    if missing:
        raise InvocationTypeError(
            f"{owner} needs resource(s) {', '.join(repr(k) for k in missing)} to be called "
            "directly",
            hint=f"pass them as arguments, e.g. {defn.__name__}({missing[0]}=...), or "
            "in a context built with build_asset_context(resources={...}).",
        )
    opened = sorted(k for k in needed if k in fresh)

    def prepare(scope: RunScope, values: dict[str, Any]) -> dict[str, Any]:
        call = dict(bound)
        for r in params.resources:
            call[r.key] = values[r.key] if r.key in values else ctx_resources[r.key]  # type: ignore[index]
        if params.context is not None:
            call[params.context] = _context_for(defn, context, scope, opened, bound)
        return call

    fn = defn.fn
    if inspect.iscoroutinefunction(fn):

        async def run_async() -> Any:
            async with RunScope(fresh, level=Scope.RUN) as scope:
                values = await scope.aopen(opened)
                return await fn(**prepare(scope, values))

        return run_async()
    if inspect.isasyncgenfunction(fn):

        async def run_async_gen() -> Any:
            async with RunScope(fresh, level=Scope.RUN) as scope:
                values = await scope.aopen(opened)
                async for item in fn(**prepare(scope, values)):
                    yield item

        return run_async_gen()
    if inspect.isgeneratorfunction(fn):

        def run_gen() -> Any:
            with RunScope(fresh, level=Scope.RUN) as scope:
                yield from fn(**prepare(scope, scope.open(opened)))

        return run_gen()
    with RunScope(fresh, level=Scope.RUN) as scope:
        return fn(**prepare(scope, scope.open(opened)))


def _context_for(
    defn: _StepDefinition, given: Any, scope: RunScope, opened: list[str], bound: dict[str, Any]
) -> OpExecutionContext:
    """The context the function receives: the given one as is when nothing is added to it,
    else a context whose resources are this call's, then the given context's."""
    asset_key = getattr(defn, "key", None)
    if given is not None and not opened and (asset_key is None or given.has_asset_key):
        return given  # type: ignore[no-any-return]
    fallback = given.resources if given is not None else None
    resources = _InvocationResources(scope, opened, defn.owner, fallback)
    if given is None:
        cls = AssetExecutionContext if defn.kind == "asset" else OpExecutionContext
        return cls(
            step_key=defn.name,
            run_id=scope.run_id,
            resources=resources,
            op_config=bound.get(defn.params.config) if defn.params.config else None,
            asset_key=asset_key,
        )
    cls = AssetExecutionContext if isinstance(given, AssetExecutionContext) else OpExecutionContext
    return cls(
        step_key=given.step_key,
        run_id=given.run_id,
        resources=resources,
        instance=given.instance,
        log=given._log,
        op_config=given.op_config,
        run_config=given.run_config,
        asset_key=given._asset_key if given.has_asset_key else asset_key,
    )
