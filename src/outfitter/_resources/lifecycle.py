"""The one place that decides how a resource is opened and closed (its *lifecycle shape*).

Every form a resource can take (a plain value, a ``@resource`` function that returns, yields or
is a context manager, a configurable resource with setup/teardown hooks, ``yield_for_execution``
or a ``create_resource`` generator, a ``@resource_manager`` style setup/cleanup class, and the async
twins of each) is classified once into a :class:`Lifecycle`: ``enter`` returns ``(value, exit)``
where ``exit(exc)`` closes the resource and sees the run's exception (or None). Ambiguous shapes
are rejected here, with a message saying how to fix them.
"""

from __future__ import annotations

import enum
import inspect
import weakref
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from ..exceptions import DefinitionError, InvocationError
from .context import InitResourceContext

__all__ = ["Exit", "Lifecycle", "ManagedBinding", "Shape", "classify_function", "plan_of"]

Exit = Callable[[BaseException | None], Any]
"""Closes an opened resource; receives the run's exception (or None); may return an awaitable."""

Enter = Callable[[Any, InitResourceContext], tuple[Any, Exit | None]]
AsyncEnter = Callable[[Any, InitResourceContext], Awaitable[tuple[Any, Exit | None]]]


class Shape(enum.Enum):
    """How a resource opens and closes."""

    VALUE = "value"
    FUNCTION = "function"
    GENERATOR = "generator"
    CONTEXT_MANAGER = "context manager"
    HOOKS = "setup/teardown hooks"
    SETUP_CLEANUP = "setup/cleanup (resource manager)"


@dataclass(frozen=True, slots=True)
class Lifecycle:
    """A classified lifecycle: how to open a target and whether that needs an async scope."""

    shape: Shape
    is_async: bool
    needs_exit: bool
    enter_sync: Enter
    enter_async: AsyncEnter


def _finish_generator(gen: Any, what: str) -> None:
    try:
        next(gen)
    except StopIteration:
        return
    raise DefinitionError(
        f"{what} yielded more than once",
        hint="a generator resource must yield exactly once; put cleanup after that yield.",
    )


async def _finish_async_generator(agen: Any, what: str) -> None:
    try:
        await agen.__anext__()
    except StopAsyncIteration:
        return
    raise DefinitionError(
        f"{what} yielded more than once",
        hint="an async generator resource must yield exactly once; put cleanup after that yield.",
    )


def _cm_exit(cm: Any) -> Exit:
    def exit_(exc: BaseException | None) -> Any:
        if exc is None:
            return cm.__exit__(None, None, None)
        return cm.__exit__(type(exc), exc, exc.__traceback__)

    return exit_


def _acm_exit(cm: Any) -> Exit:
    def exit_(exc: BaseException | None) -> Any:
        if exc is None:
            return cm.__aexit__(None, None, None)
        return cm.__aexit__(type(exc), exc, exc.__traceback__)

    return exit_


def _enter_result(result: Any, what: str) -> tuple[Any, Exit | None]:
    """Open what a sync function produced: a generator is advanced, anything else is the value."""
    if inspect.isgenerator(result):
        value = next(result)
        return value, lambda exc: _finish_generator(result, what)
    return result, None


async def _aenter_result(result: Any, what: str) -> tuple[Any, Exit | None]:
    if inspect.isawaitable(result):
        result = await result
    if inspect.isasyncgen(result):
        value = await result.__anext__()
        return value, lambda exc: _finish_async_generator(result, what)
    if hasattr(result, "__aenter__") and hasattr(result, "__aexit__"):
        value = await result.__aenter__()
        return value, _acm_exit(result)
    return _enter_result(result, what)


def _sync_only(enter: Enter) -> AsyncEnter:
    async def enter_async(target: Any, ctx: InitResourceContext) -> tuple[Any, Exit | None]:
        return enter(target, ctx)

    return enter_async


def _async_only(what: str, fix: str) -> Enter:
    def enter_sync(target: Any, ctx: InitResourceContext) -> tuple[Any, Exit | None]:
        raise InvocationError(
            f"{what} is async and cannot be opened from synchronous code",
            hint=f"open it from async code ({fix}), or make it synchronous.",
        )

    return enter_sync


_ASYNC_FIX = "`async with scope:` and `await scope.aget(key)`, or an async step"


def _value_enter(target: Any, ctx: InitResourceContext) -> tuple[Any, Exit | None]:
    return target, None


VALUE = Lifecycle(Shape.VALUE, False, False, _value_enter, _sync_only(_value_enter))


def _is_cm_function(fn: Any) -> tuple[bool, bool]:
    """(is a @contextmanager function, is an @asynccontextmanager function)."""
    wrapped = getattr(fn, "__wrapped__", None)
    if wrapped is None:
        return False, False
    return inspect.isgeneratorfunction(wrapped), inspect.isasyncgenfunction(wrapped)


def classify_function(fn: Callable[..., Any], what: str, takes_context: bool) -> Lifecycle:
    """Classify a resource function (``@resource``): returns, yields, async, or context manager.

    Example:
        >>> classify_function(lambda: 1, "resource 'x'", False).shape
        <Shape.FUNCTION: 'function'>
    """

    def call(f: Any, ctx: InitResourceContext) -> Any:
        return f(ctx) if takes_context else f()

    is_cm, is_acm = _is_cm_function(fn)
    if is_cm:

        def enter_cm(target: Any, ctx: InitResourceContext) -> tuple[Any, Exit | None]:
            cm = call(target, ctx)
            return cm.__enter__(), _cm_exit(cm)

        return Lifecycle(Shape.CONTEXT_MANAGER, False, True, enter_cm, _sync_only(enter_cm))
    if is_acm or inspect.iscoroutinefunction(fn) or inspect.isasyncgenfunction(fn):

        async def enter_async(target: Any, ctx: InitResourceContext) -> tuple[Any, Exit | None]:
            return await _aenter_result(call(target, ctx), what)

        shape = (
            Shape.CONTEXT_MANAGER
            if is_acm
            else (Shape.GENERATOR if inspect.isasyncgenfunction(fn) else Shape.FUNCTION)
        )
        needs_exit = shape is not Shape.FUNCTION
        return Lifecycle(shape, True, needs_exit, _async_only(what, _ASYNC_FIX), enter_async)
    if inspect.isgeneratorfunction(fn):

        def enter_gen(target: Any, ctx: InitResourceContext) -> tuple[Any, Exit | None]:
            return _enter_result(call(target, ctx), what)

        return Lifecycle(Shape.GENERATOR, False, True, enter_gen, _sync_only(enter_gen))

    def enter_fn(target: Any, ctx: InitResourceContext) -> tuple[Any, Exit | None]:
        return call(target, ctx), None

    return Lifecycle(Shape.FUNCTION, False, False, enter_fn, _sync_only(enter_fn))


# -- configurable resources ---------------------------------------------------------------------


def _overrides(cls: type, name: str, base: type) -> bool:
    return getattr(cls, name) is not getattr(base, name)


def _classify_configurable(cls: Any) -> Lifecycle:
    from .configurable import ConfigurableResource, ConfigurableResourceFactory

    base = ConfigurableResourceFactory
    what = f"{cls.__name__}"
    yield_override = _overrides(cls, "yield_for_execution", base)
    has_setup = _overrides(cls, "setup_for_execution", base)
    has_teardown = _overrides(cls, "teardown_after_execution", base)
    custom_create = issubclass(cls, ConfigurableResource) and _overrides(
        cls, "create_resource", ConfigurableResource
    )
    custom_create = custom_create or not issubclass(cls, ConfigurableResource)

    if yield_override:
        if has_setup or has_teardown:
            both = [
                n
                for n, on in (
                    ("setup_for_execution", has_setup),
                    ("teardown_after_execution", has_teardown),
                )
                if on
            ]
            raise DefinitionError(
                f"{what} overrides yield_for_execution and also {' and '.join(both)}; "
                "the override replaces the default lifecycle, so those hooks would never run",
                hint="move the setup/teardown code into yield_for_execution (before and after its "
                "yield), or remove the yield_for_execution override.",
            )
        fn = cls.yield_for_execution
        if inspect.isgeneratorfunction(fn) or inspect.isasyncgenfunction(fn):
            deco = "asynccontextmanager" if inspect.isasyncgenfunction(fn) else "contextmanager"
            raise DefinitionError(
                f"{what}.yield_for_execution is a bare generator, not a context manager",
                hint=f"decorate it with @contextlib.{deco}.",
            )
        _, is_acm = _is_cm_function(fn)
        if is_acm:

            async def enter_yield_async(
                target: Any, ctx: InitResourceContext
            ) -> tuple[Any, Exit | None]:
                cm = target.yield_for_execution(ctx)
                return await cm.__aenter__(), _acm_exit(cm)

            return Lifecycle(
                Shape.CONTEXT_MANAGER,
                True,
                True,
                _async_only(f"{what}.yield_for_execution", _ASYNC_FIX),
                enter_yield_async,
            )

        def enter_yield(target: Any, ctx: InitResourceContext) -> tuple[Any, Exit | None]:
            cm = target.yield_for_execution(ctx)
            if not hasattr(cm, "__enter__"):
                if hasattr(cm, "__aenter__"):
                    raise InvocationError(
                        f"{what}.yield_for_execution returned an async context manager in "
                        "synchronous code",
                        hint=f"open it from async code ({_ASYNC_FIX}).",
                    )
                raise DefinitionError(
                    f"{what}.yield_for_execution returned {type(cm).__name__}, not a context "
                    "manager",
                    hint="decorate it with @contextlib.contextmanager and `yield self` inside.",
                )
            return cm.__enter__(), _cm_exit(cm)

        async def enter_yield_any(target: Any, ctx: InitResourceContext) -> tuple[Any, Exit | None]:
            cm = target.yield_for_execution(ctx)
            if hasattr(cm, "__aenter__") and not hasattr(cm, "__enter__"):
                return await cm.__aenter__(), _acm_exit(cm)
            return enter_yield_with(cm)

        def enter_yield_with(cm: Any) -> tuple[Any, Exit | None]:
            return cm.__enter__(), _cm_exit(cm)

        return Lifecycle(Shape.CONTEXT_MANAGER, False, True, enter_yield, enter_yield_any)

    setup_async = has_setup and inspect.iscoroutinefunction(cls.setup_for_execution)
    teardown_async = has_teardown and inspect.iscoroutinefunction(cls.teardown_after_execution)
    create_fn = cls.create_resource
    create_gen = custom_create and inspect.isgeneratorfunction(create_fn)
    create_async = custom_create and (
        inspect.iscoroutinefunction(create_fn) or inspect.isasyncgenfunction(create_fn)
    )
    is_async = setup_async or teardown_async or create_async
    needs_exit = (
        has_teardown or create_gen or (custom_create and inspect.isasyncgenfunction(create_fn))
    )
    shape = (
        Shape.HOOKS
        if (has_setup or has_teardown)
        else (
            Shape.GENERATOR if create_gen or inspect.isasyncgenfunction(create_fn) else Shape.VALUE
        )
    )
    create_what = f"{what}.create_resource"

    def enter_hooks(target: Any, ctx: InitResourceContext) -> tuple[Any, Exit | None]:
        if has_setup:
            target.setup_for_execution(ctx)
        try:
            if custom_create:
                value, gen_exit = _enter_result(target.create_resource(ctx), create_what)
            else:
                value, gen_exit = target, None
        except BaseException:
            if has_teardown:
                target.teardown_after_execution(ctx)
            raise
        if not has_teardown:
            return value, gen_exit

        def exit_(exc: BaseException | None) -> None:
            try:
                if gen_exit is not None:
                    gen_exit(exc)
            finally:
                target.teardown_after_execution(ctx)

        return value, exit_

    async def enter_hooks_async(target: Any, ctx: InitResourceContext) -> tuple[Any, Exit | None]:
        if has_setup:
            result = target.setup_for_execution(ctx)
            if inspect.isawaitable(result):
                await result
        try:
            if custom_create:
                value, gen_exit = await _aenter_result(target.create_resource(ctx), create_what)
            else:
                value, gen_exit = target, None
        except BaseException:
            if has_teardown:
                result = target.teardown_after_execution(ctx)
                if inspect.isawaitable(result):
                    await result
            raise
        if not has_teardown:
            return value, gen_exit

        async def exit_(exc: BaseException | None) -> None:
            try:
                if gen_exit is not None:
                    result = gen_exit(exc)
                    if inspect.isawaitable(result):
                        await result
            finally:
                result = target.teardown_after_execution(ctx)
                if inspect.isawaitable(result):
                    await result

        return value, exit_

    if is_async:
        return Lifecycle(shape, True, True, _async_only(what, _ASYNC_FIX), enter_hooks_async)
    return Lifecycle(shape, False, needs_exit, enter_hooks, enter_hooks_async)


# -- resource-manager style classes ---------------------------------------------------------------


class ManagedBinding:
    """A ``@resource_manager``-style class bound to a resource key with its init arguments: each
    run makes an instance, calls ``setup()`` (optional) and later ``cleanup(resource)``.

    Example:
        >>> class TempDir:
        ...     def setup(self):
        ...         return "/tmp/x"
        ...     def cleanup(self, path):
        ...         pass
        >>> ManagedBinding(TempDir).manager_cls.__name__
        'TempDir'
    """

    __slots__ = ("args", "kwargs", "manager_cls")

    def __init__(self, manager_cls: type, *args: Any, **kwargs: Any) -> None:
        check_manager_class(manager_cls)
        self.manager_cls = manager_cls
        self.args = args
        self.kwargs = kwargs

    def __repr__(self) -> str:
        return f"ManagedBinding({self.manager_cls.__name__})"


def check_manager_class(cls: type) -> None:
    """Reject classes that cannot be resource managers (no cleanup; also a context manager)."""
    name = getattr(cls, "__name__", repr(cls))
    if not callable(getattr(cls, "cleanup", None)):
        raise DefinitionError(
            f"resource manager {name} has no cleanup(self, resource) method",
            hint="define cleanup(self, resource) to release what setup() created (it receives "
            "setup's return value, or None without setup). Without anything to clean up, bind a "
            "plain value or a @resource function instead.",
        )
    if hasattr(cls, "__enter__") or hasattr(cls, "__aenter__"):
        raise DefinitionError(
            f"{name} is both a context manager and a setup/cleanup resource manager",
            hint="keep one protocol: either __enter__/__exit__ (bind an instance via a @resource "
            "generator) or setup/cleanup.",
        )


def _classify_manager(cls: Any) -> Lifecycle:
    check_manager_class(cls)
    setup = getattr(cls, "setup", None)
    cleanup = cls.cleanup
    is_async = inspect.iscoroutinefunction(setup) or inspect.iscoroutinefunction(cleanup)

    def enter(target: ManagedBinding, ctx: InitResourceContext) -> tuple[Any, Exit | None]:
        manager = target.manager_cls(*target.args, **target.kwargs)
        value = manager.setup() if setup is not None else None
        return value, lambda exc: manager.cleanup(value)

    async def aenter(target: ManagedBinding, ctx: InitResourceContext) -> tuple[Any, Exit | None]:
        manager = target.manager_cls(*target.args, **target.kwargs)
        value = manager.setup() if setup is not None else None
        if inspect.isawaitable(value):
            value = await value
        return value, lambda exc: manager.cleanup(value)

    if is_async:
        return Lifecycle(
            Shape.SETUP_CLEANUP, True, True, _async_only(cls.__name__, _ASYNC_FIX), aenter
        )
    return Lifecycle(Shape.SETUP_CLEANUP, False, True, enter, aenter)


_CLASS_PLANS: weakref.WeakKeyDictionary[type, Lifecycle] = weakref.WeakKeyDictionary()


def plan_of_class(cls: type) -> Lifecycle:
    """The lifecycle of a configurable resource class (classified once, cached)."""
    plan = _CLASS_PLANS.get(cls)
    if plan is None:
        plan = _classify_configurable(cls)
        _CLASS_PLANS[cls] = plan
    return plan


def plan_of(target: Any) -> Lifecycle:
    """The lifecycle of any resource form (cached per class for classes)."""
    from .configurable import ConfigurableResourceFactory
    from .definition import ResourceDefinition

    if isinstance(target, ResourceDefinition):
        return target.lifecycle
    if issubclass(type(target), ConfigurableResourceFactory | ManagedBinding):
        if not isinstance(target, ManagedBinding):
            return plan_of_class(type(target))
        plan = _CLASS_PLANS.get(target.manager_cls)
        if plan is None:
            plan = _CLASS_PLANS[target.manager_cls] = _classify_manager(target.manager_cls)
        return plan
    return VALUE
