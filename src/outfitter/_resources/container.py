"""The dependency-injector seam: ``ResourceContainer``, ``containers_by_env``, and how
container providers become resource specs. This is the only module that imports
``dependency_injector``; its exceptions are translated into Outfitter's here.

A container holds resource *definitions*, one provider per key. Runs never call
``init_resources()``/``shutdown_resources()`` or copy the container: a run scope reads each
provider (honouring overrides) and opens its own instances.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from dependency_injector import containers, errors, providers

from .._config.settings import get_settings
from ..exceptions import ConfigError, DefinitionError
from .context import InitResourceContext, Resources
from .lifecycle import VALUE, Exit, Lifecycle, Shape, classify_function
from .markers import Scope

if TYPE_CHECKING:
    from .spec import OpenEnv, ResourceSpec

__all__ = [
    "ResourceContainer",
    "container_bindings",
    "containers_by_env",
    "is_container",
    "provider_spec",
]

_Meta = type(containers.DeclarativeContainer)


def _is_binding(name: str, value: Any) -> bool:
    if name.startswith("_") or isinstance(value, providers.Provider):
        return False
    return not isinstance(value, classmethod | staticmethod | property)


class _ResourceContainerMeta(_Meta):  # type: ignore[misc,valid-type]
    """Wraps every non-provider class attribute in ``providers.Object`` so it becomes a key."""

    def __new__(mcs, name: str, bases: tuple[type, ...], attributes: dict[str, Any]) -> Any:
        wrapped = {
            key: providers.Object(value) if _is_binding(key, value) else value
            for key, value in attributes.items()
        }
        # A provider argument naming a bare attribute (``Factory(Client, warehouse=warehouse)``)
        # now names that attribute's provider, so overriding the key reaches it, as in plain DI.
        objects = {
            id(attributes[key]): provider
            for key, provider in wrapped.items()
            if provider is not attributes[key]
        }
        for provider in wrapped.values():
            if isinstance(provider, providers.Factory | providers.Callable | providers.Resource):
                if any(id(a) in objects for a in provider.args):
                    provider.set_args(*(objects.get(id(a), a) for a in provider.args))
                if any(id(v) in objects for v in provider.kwargs.values()):
                    provider.set_kwargs(
                        **{k: objects.get(id(v), v) for k, v in provider.kwargs.items()}
                    )
        return super().__new__(mcs, name, bases, wrapped)


class ResourceContainer(containers.DeclarativeContainer, metaclass=_ResourceContainerMeta):
    """A dependency-injector ``DeclarativeContainer`` whose attributes are resources.

    Attributes may be any resource form (configurable resources, ``@resource`` functions,
    partials, bare objects) or plain dependency-injector providers; overriding works with
    dependency-injector's own API and is seen by the next run.

    Example:
        >>> from outfitter import ConfigurableResource, ResourceContainer, build_resources
        >>> class Warehouse(ConfigurableResource):
        ...     dsn: str
        >>> class Local(ResourceContainer):
        ...     warehouse = Warehouse(dsn="sqlite:///local.db")
        >>> with Local.warehouse.override(Warehouse(dsn="sqlite://")):
        ...     with build_resources(Local) as res:
        ...         res.warehouse.dsn
        'sqlite://'
    """


def is_container(value: Any) -> bool:
    """Whether ``value`` is a dependency-injector container class or instance."""
    return isinstance(value, containers.Container) or (
        isinstance(value, type) and issubclass(value, containers.Container)
    )


def containers_by_env(
    default: str | None = None, **by_env: type[containers.Container] | containers.Container
) -> Any:
    """The container for the current environment, read from ``OUTFITTER_ENV`` (pydantic-settings,
    prefix ``OUTFITTER_``; default ``local``, or ``default`` when given).

    Example:
        >>> from outfitter import ResourceContainer, containers_by_env
        >>> class Local(ResourceContainer):
        ...     greeting = "hi"
        >>> class Prod(Local):
        ...     greeting = "hello"
        >>> containers_by_env(local=Local, prod=Prod) is Local  # OUTFITTER_ENV unset
        True
    """
    if not by_env:
        raise DefinitionError(
            "containers_by_env() got no containers",
            hint="pass one container per environment, e.g. containers_by_env(local=Local, "
            "prod=Prod).",
        )
    settings = get_settings()
    env = settings.env if "env" in settings.model_fields_set or default is None else default
    try:
        return by_env[env]
    except KeyError:
        raise ConfigError(
            f"OUTFITTER_ENV is {env!r}, but no container is registered for it "
            f"(known: {', '.join(sorted(by_env))})",
            hint=f"set OUTFITTER_ENV to one of {sorted(by_env)}, or add {env}=<container>.",
        ) from None


def _effective(provider: Any) -> Any:
    while provider.overridden:
        provider = provider.last_overriding
    return provider


def container_bindings(resources: Any) -> dict[str, Any]:
    """``{key: definition or provider}`` of a container, with overrides applied (an overridden
    key yields what overrides it)."""
    out: dict[str, Any] = {}
    for key, provider in resources.providers.items():
        effective = _effective(provider)
        if type(effective) is providers.Object:
            out[key] = effective.provides
        else:
            out[key] = effective
    return out


# -- providers as resources ------------------------------------------------------------------------


def provider_spec(
    key: str, obj: Any, identity: Mapping[int, str], log: logging.Logger
) -> ResourceSpec | None:
    """The spec of a dependency-injector provider bound at ``key`` (None if ``obj`` is not one).

    ``Factory``/``Callable``/``Resource`` providers are called per run with their arguments;
    arguments that are other bound resources (the same object, or the container's provider) are
    taken from the run scope. Any other provider (``Singleton``, ``Configuration``, ...) is called
    as it is and its result used as the value.
    """
    from .spec import ResourceSpec

    if not isinstance(obj, providers.Provider):
        return None
    label = f"{type(obj).__name__} provider"
    if isinstance(obj, providers.Object):
        value = obj.provides

        def prepare_object(env: OpenEnv, deps: dict[str, Any]) -> tuple[Any, None]:
            return value, None

        return ResourceSpec(key, obj, (), Scope.RUN, VALUE, prepare_object, label, log=log)
    if not isinstance(obj, providers.Factory | providers.Callable | providers.Resource) or (
        isinstance(obj, providers.BaseSingleton)
    ):

        def prepare_call(env: OpenEnv, deps: dict[str, Any]) -> tuple[Any, None]:
            try:
                return obj(), None
            except errors.Error as exc:
                raise DefinitionError(
                    f"resource {key!r} ({label}) could not be provided: {exc}",
                    hint="define or override the provider it depends on.",
                ) from None

        return ResourceSpec(key, obj, (), Scope.RUN, VALUE, prepare_call, label, log=log)

    args, arg_deps = _arguments(obj.args, identity)
    kwargs, kwarg_deps = _arguments(obj.kwargs, identity)
    deps = tuple(sorted(set(arg_deps) | set(kwarg_deps)))
    target = obj.provides
    what = f"resource {key!r} ({label})"
    lifecycle = _provider_lifecycle(obj, target, what)

    def prepare_provider(env: OpenEnv, deps_values: dict[str, Any]) -> tuple[Any, Any]:
        a = [_materialize(v, deps_values) for v in args]
        kw = {k: _materialize(v, deps_values) for k, v in kwargs.items()}
        ctx = InitResourceContext(
            None, Resources(deps_values, what), env.instance, env.run_id, log, key
        )
        return (lambda fn: fn(*a, **kw)), ctx

    return ResourceSpec(
        key,
        obj,
        tuple((d, d) for d in deps),
        Scope.RUN,
        lifecycle,
        prepare_provider,
        label,
        log=log,
    )


class _Dep:
    __slots__ = ("key",)

    def __init__(self, key: str) -> None:
        self.key = key


def _arguments(values: Any, identity: Mapping[int, str]) -> tuple[Any, list[str]]:
    deps: list[str] = []

    def convert(value: Any) -> Any:
        if isinstance(value, providers.Provider):
            value = _effective(value)  # an overridden key's provider: what overrides it
        key = identity.get(id(value))
        if key is None and type(value) is providers.Object:
            key = identity.get(id(value.provides))
        if key is not None:
            deps.append(key)
            return _Dep(key)
        return value

    if isinstance(values, Mapping):
        return {k: convert(v) for k, v in values.items()}, deps
    return [convert(v) for v in values], deps


def _materialize(value: Any, deps: dict[str, Any]) -> Any:
    if isinstance(value, _Dep):
        return deps[value.key]
    if isinstance(value, providers.Provider):
        return value()
    return value


def _provider_lifecycle(provider: Any, target: Any, what: str) -> Lifecycle:
    """Lifecycle of a Factory/Callable/Resource provider; the target it receives is a thunk
    ``apply(fn)`` that calls ``fn`` with the provider's arguments for this run."""
    from dependency_injector import resources as di_resources

    if isinstance(target, type) and issubclass(target, di_resources.Resource):

        def enter_resource(apply: Any, ctx: InitResourceContext) -> tuple[Any, Exit | None]:
            instance = target()
            value = apply(instance.init)
            return value, lambda exc: instance.shutdown(value)

        async def aenter_resource(apply: Any, ctx: InitResourceContext) -> tuple[Any, Exit | None]:
            return enter_resource(apply, ctx)

        return Lifecycle(Shape.SETUP_CLEANUP, False, True, enter_resource, aenter_resource)
    inner = classify_function(target, what, takes_context=False)
    enter_sync, enter_async = inner.enter_sync, inner.enter_async
    return Lifecycle(
        inner.shape,
        inner.is_async,
        inner.needs_exit,
        lambda apply, ctx: enter_sync(lambda: apply(target), ctx),
        lambda apply, ctx: enter_async(lambda: apply(target), ctx),
    )
