"""Asset selection: which assets a run materializes, compiled to a :class:`NodeGraph`."""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Iterable, Sequence
from typing import Any

from .._resources.asset_key import AssetKey, coerce_asset_key
from ..exceptions import DefinitionError
from .decorators import AssetsDefinition
from .graph import NodeGraph

__all__ = ["asset_graph", "cached_asset_graph"]

_ASSET_CYCLE = "an asset cannot (directly or indirectly) be an input of itself."


def asset_graph(
    assets: Iterable[AssetsDefinition], selection: Iterable[Any] | None, owner: str
) -> NodeGraph:
    """The graph of ``assets`` restricted to ``selection`` (asset keys, ``"a/b"`` strings or
    assets; all when None). An input whose asset is not selected is loaded by its I/O manager."""
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
    return NodeGraph([a.node_spec(producers) for a in chosen], owner, cycle_hint=_ASSET_CYCLE)


_GRAPHS: OrderedDict[tuple[Any, ...], tuple[Sequence[AssetsDefinition], NodeGraph]] = OrderedDict()
_GRAPHS_LOCK = threading.Lock()
_GRAPHS_KEPT = 32


def cached_asset_graph(
    assets: Sequence[AssetsDefinition], selection: Iterable[Any] | None, owner: str
) -> NodeGraph:
    """:func:`asset_graph`, built once per list of asset definitions (by identity; the cache
    holds them, so their ids stay theirs while cached) and selected keys, so repeated
    ``materialize()`` calls over the same assets plan their graph once."""
    wanted = None if selection is None else tuple(selection)
    try:
        chosen = None if wanted is None else frozenset(coerce_asset_key(s) for s in wanted)
    except DefinitionError:
        return asset_graph(assets, wanted, owner)  # raises with the whole story
    key = (owner, tuple(id(a) for a in assets), chosen)
    with _GRAPHS_LOCK:
        hit = _GRAPHS.get(key)
        if hit is not None:
            _GRAPHS.move_to_end(key)
            return hit[1]
    graph = asset_graph(assets, wanted, owner)
    with _GRAPHS_LOCK:
        _GRAPHS[key] = (list(assets), graph)
        if len(_GRAPHS) > _GRAPHS_KEPT:
            _GRAPHS.popitem(last=False)
    return graph
