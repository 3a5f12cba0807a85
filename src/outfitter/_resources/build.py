"""Opening resources outside a run: ``build_resources`` and ``build_init_resource_context``."""

from __future__ import annotations

from collections.abc import Mapping
from types import TracebackType
from typing import Any

from .._config.run_config import RunConfig
from ..exceptions import InvocationError
from .context import InitResourceContext, Resources
from .scope import RunScope, plan_for

__all__ = ["build_init_resource_context", "build_resources"]


def _launch(resource_config: Mapping[str, Any] | RunConfig | None) -> Any:
    if resource_config is None or isinstance(resource_config, RunConfig):
        return resource_config
    if "resources" in resource_config and len(resource_config) == 1:
        return resource_config
    return {"resources": dict(resource_config)}


class build_resources:
    """Open resources outside a run, for scripts, notebooks and tests.

    Every bound key is opened on entry (dependencies first) and closed in reverse on exit; the
    ``with`` block's exception is passed to context-manager resources. ``resource_config``
    is launch config by key (``{"key": {"config": {...}}}``) or a :class:`RunConfig`. Works with
    ``async with`` too, which also opens async resources.

    Example:
        >>> from outfitter import ConfigurableResource, build_resources
        >>> class Api(ConfigurableResource):
        ...     url: str
        >>> with build_resources({"api": Api.configure_at_launch()},
        ...                      resource_config={"api": {"config": {"url": "http://x"}}}) as r:
        ...     r.api.url
        'http://x'
    """

    def __init__(
        self,
        resources: Any,
        resource_config: Mapping[str, Any] | RunConfig | None = None,
        instance: Any = None,
        run_id: str | None = None,
    ) -> None:
        self._scope = RunScope(
            resources, _launch(resource_config), run_id=run_id, instance=instance
        )

    def _keys(self) -> list[str]:
        return list(self._scope.plan.bindings)

    def __enter__(self) -> Resources:
        values = self._scope.open(self._keys())
        return Resources(values, owner="build_resources")

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._scope.__exit__(exc_type, exc, tb)

    async def __aenter__(self) -> Resources:
        values = await self._scope.aopen(self._keys())
        return Resources(values, owner="build_resources")

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self._scope.__aexit__(exc_type, exc, tb)


class _BuiltInitResourceContext(InitResourceContext):
    """An init context whose ``resources`` are opened from the bindings it was given."""

    __slots__ = ("_given", "_opened", "_scope")

    def __init__(self, config: Any, resources: Any, instance: Any, run_id: str | None) -> None:
        self._given = resources or {}
        self._scope: RunScope | None = None
        self._opened: Resources | None = None
        super().__init__(resource_config=config, instance=instance, run_id=run_id)

    @property
    def resources(self) -> Resources:
        if self._opened is None:
            plan = plan_for(self._given)
            needs_with = [k for k, s in plan.specs.items() if s.lifecycle.needs_exit]
            if needs_with:
                raise InvocationError(
                    f"resource(s) {', '.join(repr(k) for k in needs_with)} need cleanup, so the "
                    "context must be used in a `with` block",
                    hint="write `with build_init_resource_context(resources={...}) as context:` "
                    "so they are closed when the block ends.",
                )
            scope = RunScope(plan, run_id=self.run_id, instance=self.instance)
            self._opened = Resources(scope.open(list(plan.bindings)), owner="this context")
            scope.close()
        return self._opened

    @resources.setter
    def resources(self, value: Any) -> None:
        pass  # set by the base initializer; the real value is computed from the bindings

    def __enter__(self) -> _BuiltInitResourceContext:
        self._scope = RunScope(self._given, run_id=self.run_id, instance=self.instance)
        self._opened = Resources(
            self._scope.open(list(self._scope.plan.bindings)), owner="this context"
        )
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._scope is not None:
            self._scope.__exit__(exc_type, exc, tb)
            self._scope = None


def build_init_resource_context(
    config: Any = None,
    resources: Any = None,
    instance: Any = None,
    run_id: str | None = None,
) -> _BuiltInitResourceContext:
    """An :class:`InitResourceContext` for testing a resource by hand.

    Usable plain, or as ``with build_init_resource_context(...) as context:`` (required when the
    given ``resources`` need cleanup: they are closed when the block ends).

    Example:
        >>> from outfitter import build_init_resource_context
        >>> ctx = build_init_resource_context(config={"region": "eu"}, resources={"token": "t"})
        >>> ctx.resource_config["region"], ctx.resources.token
        ('eu', 't')
    """
    return _BuiltInitResourceContext(config, resources, instance, run_id)
