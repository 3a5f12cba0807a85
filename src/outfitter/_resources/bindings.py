"""The dependency-free side of the container seam: what every module calls to turn "resources"
(a dict, a container class or a container instance) into bindings and plans.

dependency-injector costs ~50 ms to import, so this module never imports it: a value can only
be a container (or a provider) if dependency-injector is already loaded, and then the work is
handed to :mod:`outfitter._resources.container`, the one module that imports it.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from ..exceptions import DefinitionError

if TYPE_CHECKING:
    from .spec import ResourcePlan, ResourceSpec

__all__ = ["is_container", "plan_of_bindings", "provider_spec", "resource_bindings"]


def _di_loaded() -> bool:
    return "dependency_injector.containers" in sys.modules


def is_container(value: Any) -> bool:
    """Whether ``value`` is a dependency-injector container class or instance."""
    if not _di_loaded():
        return False
    from .container import is_container as check

    return check(value)


def resource_bindings(resources: Any) -> dict[str, Any]:
    """``{key: definition or provider}`` for a dict, a container class or a container instance,
    with overrides applied (an overridden key yields what overrides it)."""
    if resources is None:
        return {}
    if isinstance(resources, Mapping):
        return dict(resources)
    if not is_container(resources):
        raise DefinitionError(
            f"resources must be a dict or a container, got {type(resources).__name__}",
            hint="pass resources={'key': resource, ...} or a ResourceContainer subclass.",
        )
    from .container import container_bindings

    return container_bindings(resources)


def plan_of_bindings(resources: Any) -> ResourcePlan:
    """The plan for ``resources`` (cached for containers, rebuilt when a provider is
    overridden)."""
    from .spec import ResourcePlan

    if not is_container(resources):
        return ResourcePlan(resource_bindings(resources))
    from .container import container_plan

    return container_plan(resources)


def provider_spec(
    key: str, obj: Any, identity: Mapping[int, str], log: logging.Logger
) -> ResourceSpec | None:
    """The spec of a dependency-injector provider bound at ``key`` (None if ``obj`` is not one)."""
    if not _di_loaded():
        return None
    from .container import provider_spec as make

    return make(key, obj, identity, log)
