"""``materialize`` and ``materialize_to_memory``: run a set of assets in this process."""

from __future__ import annotations

import heapq
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from .._config.run_config import RunConfig
from .._definitions.asset_key import AssetKey, coerce_asset_key
from .._definitions.decorators import AssetsDefinition
from .._definitions.node import NodeSpec
from .._resources.bindings import resource_bindings
from .._resources.io_manager import FilesystemIOManager, InMemoryIOManager
from ..exceptions import DefinitionError
from .engine import execute_nodes
from .result import ExecuteResult

__all__ = ["asset_nodes", "materialize", "materialize_to_memory", "topological"]


def topological(nodes: Sequence[NodeSpec], owner: str) -> list[NodeSpec]:
    """``nodes`` ordered so every node follows its upstream (ties by key); cycles are an error
    listing the nodes involved."""
    by_key = {n.key: n for n in nodes}
    remaining = {n.key: len({u for u in n.upstream if u in by_key}) for n in nodes}
    users: dict[str, list[str]] = {k: [] for k in by_key}
    for n in nodes:
        for up in {u for u in n.upstream if u in by_key}:
            users[up].append(n.key)
    ready = [k for k, count in remaining.items() if count == 0]
    heapq.heapify(ready)
    order: list[NodeSpec] = []
    while ready:
        key = heapq.heappop(ready)
        order.append(by_key[key])
        for user in users[key]:
            remaining[user] -= 1
            if remaining[user] == 0:
                heapq.heappush(ready, user)
    if len(order) != len(nodes):
        stuck = sorted(k for k, count in remaining.items() if count > 0)
        raise DefinitionError(
            f"{owner}: the steps {stuck} depend on each other in a cycle",
            hint="an asset cannot (directly or indirectly) be an input of itself.",
        )
    return order


def asset_nodes(
    assets: Iterable[AssetsDefinition], selection: Iterable[Any] | None, owner: str
) -> list[NodeSpec]:
    """The nodes of ``assets`` (restricted to ``selection``), in run order."""
    assets = list(assets)
    seen: dict[AssetKey, AssetsDefinition] = {}
    duplicates = []
    for a in assets:
        if a.key in seen and seen[a.key] is not a:
            duplicates.append(a.key.to_user_string())
        seen[a.key] = a
    if duplicates:
        raise DefinitionError(
            f"{owner}: asset key(s) defined twice: {', '.join(sorted(duplicates))}",
            hint="give each asset a unique name or key_prefix.",
        )
    chosen = list(seen.values())
    if selection is not None:
        wanted = {coerce_asset_key(getattr(s, "key", s)) for s in selection}
        unknown = sorted(k.to_user_string() for k in wanted if k not in seen)
        if unknown:
            raise DefinitionError(
                f"{owner}: selection names unknown asset(s) {unknown}",
                hint=f"known assets: {', '.join(sorted(k.to_user_string() for k in seen))}.",
            )
        chosen = [a for a in chosen if a.key in wanted]
    producers = {a.key: a.step_key for a in chosen}
    return topological([a.node_spec(producers) for a in chosen], owner)


def _with_default_io_manager(resources: Any, io_manager: Any) -> dict[str, Any]:
    bindings = resource_bindings(resources)
    bindings.setdefault("io_manager", io_manager)
    return bindings


def _asset_resources(assets: Sequence[AssetsDefinition], resources: Any) -> dict[str, Any]:
    bindings = resource_bindings(resources)
    for a in assets:  # asset-level resources (with_resources) win
        bindings.update(a.resource_defs)
    return bindings


def materialize(
    assets: Sequence[AssetsDefinition],
    resources: Mapping[str, Any] | Any = None,
    run_config: RunConfig | Mapping[str, Any] | None = None,
    instance: Any = None,
    selection: Iterable[Any] | None = None,
    raise_on_error: bool = True,
    tags: Mapping[str, str] | None = None,
    *,
    executor: Any = None,
) -> ExecuteResult:
    """Materialize ``assets``; returns the run's :class:`ExecuteResult`.

    Outputs are stored by the ``io_manager`` resource (default: a :class:`FilesystemIOManager`
    under the instance's storage directory). Steps run in this process unless ``executor``
    (e.g. ``multiprocess_executor``) or the run config's ``execution`` section says otherwise.

    Example:
        >>> from outfitter import asset, materialize
        >>> @asset
        ... def upstream() -> int:
        ...     return 1
        >>> @asset
        ... def downstream(upstream: int) -> int:
        ...     return upstream + 1
        >>> materialize([upstream, downstream]).asset_value("downstream")
        2
    """
    assets = list(assets)
    bindings = _with_default_io_manager(_asset_resources(assets, resources), FilesystemIOManager())
    from .executors import select_executor

    return _run_assets(
        "materialize()",
        assets,
        bindings,
        selection,
        run_config,
        instance,
        tags,
        raise_on_error,
        select_executor(executor, run_config),
    )


def materialize_to_memory(
    assets: Sequence[AssetsDefinition],
    resources: Mapping[str, Any] | Any = None,
    run_config: RunConfig | Mapping[str, Any] | None = None,
    instance: Any = None,
    selection: Iterable[Any] | None = None,
    raise_on_error: bool = True,
    tags: Mapping[str, str] | None = None,
) -> ExecuteResult:
    """Like :func:`materialize`, but outputs stay in memory (an :class:`InMemoryIOManager`),
    for tests.

    Example:
        >>> from outfitter import asset, materialize_to_memory
        >>> @asset
        ... def greeting() -> str:
        ...     return "hi"
        >>> materialize_to_memory([greeting]).asset_value("greeting")
        'hi'
    """
    assets = list(assets)
    bindings = {**_asset_resources(assets, resources), "io_manager": InMemoryIOManager()}
    return _run_assets(
        "materialize_to_memory()",
        assets,
        bindings,
        selection,
        run_config,
        instance,
        tags,
        raise_on_error,
    )


def _run_assets(
    owner: str,
    assets: Sequence[AssetsDefinition],
    bindings: dict[str, Any],
    selection: Iterable[Any] | None,
    run_config: RunConfig | Mapping[str, Any] | None,
    instance: Any,
    tags: Mapping[str, str] | None,
    raise_on_error: bool,
    executor: Any = None,
) -> ExecuteResult:
    return execute_nodes(
        "__materialize__",
        asset_nodes(assets, selection, owner),
        bindings,
        run_config=run_config,
        instance=instance,
        tags=tags,
        raise_on_error=raise_on_error,
        executor=executor,
    )
