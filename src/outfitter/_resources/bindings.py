"""The dependency-free side of the container seam: what every module calls to turn "resources"
(a dict, a container class or a container instance) into bindings and plans.

dependency-injector costs ~50 ms to import, so this module never imports it: a value can only
be a container (or a provider) if dependency-injector is already loaded, and then the work is
handed to :mod:`outfitter._resources.container`, the one module that imports it.
"""

from __future__ import annotations

import logging
import sys
import threading
from collections import OrderedDict
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


_PLANS: OrderedDict[tuple[tuple[str, int], ...], ResourcePlan] = OrderedDict()
_PLANS_LOCK = threading.Lock()
_PLANS_KEPT = 64


def plan_of_bindings(resources: Any) -> ResourcePlan:
    """The plan for ``resources`` (a dict, a container class or instance), built once per set of
    bindings: plans are cached by the identity of each bound definition, so a dict rebuilt with
    the same objects, or a container whose providers were not overridden since, reuses its plan,
    and an override (or any new object at a key) makes a new one. A cached plan holds its
    definitions, so their ids stay theirs while it is cached (the last 64 plans are kept)."""
    from .spec import ResourcePlan

    bindings = resource_bindings(resources)
    key = tuple((k, id(v)) for k, v in bindings.items())
    with _PLANS_LOCK:
        plan = _PLANS.get(key)
        if plan is not None:
            _PLANS.move_to_end(key)
            return plan
    plan = ResourcePlan(bindings)  # outside the lock: planning may take a while
    with _PLANS_LOCK:
        _PLANS[key] = plan
        if len(_PLANS) > _PLANS_KEPT:
            _PLANS.popitem(last=False)
    return plan


def provider_spec(
    key: str, obj: Any, identity: Mapping[int, str], log: logging.Logger
) -> ResourceSpec | None:
    """The spec of a dependency-injector provider bound at ``key`` (None if ``obj`` is not one)."""
    if not _di_loaded():
        return None
    from .container import provider_spec as make

    return make(key, obj, identity, log)
