"""Calling a step outside a run: direct invocation (``my_asset(db=FakeDb())``) and the test
contexts ``build_asset_context`` / ``build_op_context``.

Resources passed as keyword arguments get their full lifecycle around the call: opened before,
closed after (in reverse), whatever the step does.
"""

from __future__ import annotations

from types import TracebackType
from typing import TYPE_CHECKING, Any

from .._resources.markers import Scope
from .._resources.scope import RunScope, plan_for
from ..exceptions import InvocationError
from .context import AssetExecutionContext, OpExecutionContext, StepResources

if TYPE_CHECKING:
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
) -> Any:
    plan = plan_for(resources or {})
    scope = RunScope(plan, run_id=run_id or "ephemeral", instance=instance)
    needs_with = [k for k, s in plan.specs.items() if s.lifecycle.needs_exit]

    class _Built(cls):  # type: ignore[valid-type,misc]
        __slots__ = ("_entered", "_needs_with", "_scope")

        def __enter__(self) -> Any:
            self._entered = True
            return self

        def __exit__(
            self,
            exc_type: type[BaseException] | None,
            exc: BaseException | None,
            tb: TracebackType | None,
        ) -> None:
            self._scope.__exit__(exc_type, exc, tb)

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
    object.__setattr__(ctx.resources, "_context", ctx)
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
) -> OpExecutionContext:
    """An op context for calling an op directly in a test. Use ``with`` when a resource needs
    cleanup.

    Example:
        >>> from outfitter import build_op_context
        >>> build_op_context(config={"limit": 3}).op_config
        {'limit': 3}
    """
    return _build(OpExecutionContext, resources, instance, run_id, config, None, "test_op")  # type: ignore[no-any-return]


def build_asset_context(
    resources: Any = None,
    instance: Any = None,
    config: Any = None,
    run_id: str | None = None,
    asset_key: Any = None,
) -> AssetExecutionContext:
    """An asset context for calling an asset directly in a test. Use ``with`` when a resource
    needs cleanup.

    Example:
        >>> from outfitter import build_asset_context
        >>> with build_asset_context(resources={"token": "t"}) as context:
        ...     context.resources.token
        't'
    """
    return _build(  # type: ignore[no-any-return]
        AssetExecutionContext, resources, instance, run_id, config, asset_key, "test_asset"
    )


def invoke_directly(defn: _StepDefinition, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
    """Call a step's function as a test would: resources by keyword get their full lifecycle
    around the call; a context may be passed first (or is built from those resources)."""
    params = defn.params
    resource_names = {r.key for r in params.resources}
    given_resources = {k: kwargs.pop(k) for k in list(kwargs) if k in resource_names}
    missing = sorted(resource_names - set(given_resources))
    context = None
    args_list = list(args)
    if params.context is not None:
        if args_list and isinstance(args_list[0], OpExecutionContext):
            context = args_list.pop(0)
        elif "context" in kwargs:
            context = kwargs.pop("context")
    if missing and context is not None:
        still = []
        for key in missing:
            try:
                given_resources[key] = context.resources[key]
            except Exception:
                still.append(key)
        missing = still
    if missing:
        raise InvocationError(
            f"{defn.owner} needs resource(s) {', '.join(repr(k) for k in missing)} to be called "
            "directly",
            hint=f"pass them as keyword arguments, e.g. {defn.__name__}({missing[0]}=...), or "
            "in a context built with build_asset_context(resources={...}).",
        )
    with RunScope(dict(given_resources), level=Scope.RUN) as scope:
        call_kwargs = {k: scope.get(k) for k in given_resources}
        if params.context is not None:
            if context is None:
                cls = AssetExecutionContext if defn.kind == "asset" else OpExecutionContext
                context = cls(
                    step_key=defn.name,
                    run_id=scope.run_id,
                    resources=StepResources(scope, given_resources, defn.owner),
                    op_config=kwargs.get("config"),
                    asset_key=getattr(defn, "key", None),
                )
            call_kwargs[params.context] = context
        call_kwargs.update(kwargs)
        return defn.fn(*args_list, **call_kwargs)
