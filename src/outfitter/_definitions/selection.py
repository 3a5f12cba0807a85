"""Asset selection: which assets a run materializes, compiled to a :class:`NodeGraph`."""

from __future__ import annotations

import difflib
import re
import threading
from collections import OrderedDict
from collections.abc import Iterable, Sequence
from typing import Any

from .._resources.asset_key import AssetKey, coerce_asset_key
from ..exceptions import DefinitionError
from .decorators import AssetsDefinition
from .graph import NodeGraph

__all__ = ["asset_graph", "cached_asset_graph", "parse_asset_selection"]

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


_CLAUSE = re.compile(r"^(?P<up>\*|\++)?(?P<name>[^*+\s,]+)(?P<down>\*|\++)?$")
_ALL = 1 << 30  # `*`: every level


def parse_asset_selection(
    clauses: Iterable[str], assets: Iterable[AssetsDefinition], owner: str = "--select"
) -> list[AssetKey]:
    """The asset keys a list of selection clauses picks, in Dagster's (legacy) selection syntax.

    Each clause may itself be a comma-separated list. ``name`` picks that asset (``a/b`` for a
    prefixed key), ``*name`` adds everything upstream, ``+name`` one level upstream (``++name``
    two, and so on), ``name*`` everything downstream and ``name+`` one level downstream. Unknown
    names raise :class:`DefinitionError` listing close matches.

    Example:
        >>> from outfitter import asset
        >>> @asset
        ... def raw() -> int:
        ...     return 1
        >>> @asset
        ... def clean(raw: int) -> int:
        ...     return raw
        >>> @asset
        ... def report(clean: int) -> int:
        ...     return clean
        >>> assets = [raw, clean, report]
        >>> [k.to_user_string() for k in parse_asset_selection(["*clean"], assets)]
        ['raw', 'clean']
        >>> [k.to_user_string() for k in parse_asset_selection(["raw+,report"], assets)]
        ['raw', 'clean', 'report']
    """
    defs = list(assets)
    order = [a.key for a in defs]
    by_name = {k.to_user_string(): k for k in order}
    upstream: dict[AssetKey, set[AssetKey]] = {k: set() for k in order}
    downstream: dict[AssetKey, set[AssetKey]] = {k: set() for k in order}
    for a in defs:
        for dep in (*a.input_keys.values(), *a.deps):
            if dep in upstream:
                upstream[a.key].add(dep)
                downstream[dep].add(a.key)
    chosen: set[AssetKey] = set()
    problems: list[str] = []
    for clause in (c.strip() for text in clauses for c in str(text).split(",")):
        if not clause:
            continue
        match = _CLAUSE.match(clause)
        if match is None:
            problems.append(
                f"{clause!r} is not a selection clause "
                "(use NAME, *NAME, +NAME, NAME+ or NAME*; separate clauses with commas)"
            )
            continue
        name = match["name"]
        key = by_name.get(name)
        if key is None:
            close = difflib.get_close_matches(name, list(by_name), n=3, cutoff=0.6)
            problems.append(
                f"unknown asset {name!r}"
                + (f" (did you mean {', '.join(repr(c) for c in close)}?)" if close else "")
            )
            continue
        chosen.add(key)
        chosen |= _walk(key, upstream, _depth(match["up"]))
        chosen |= _walk(key, downstream, _depth(match["down"]))
    if problems:
        raise DefinitionError(
            f"{owner}: the asset selection has {len(problems)} problem(s)",
            problems=problems,
            hint=f"known assets: {', '.join(sorted(by_name)) or 'none'}.",
        )
    return [k for k in order if k in chosen]


def _depth(marks: str | None) -> int:
    if not marks:
        return 0
    return _ALL if marks == "*" else len(marks)


def _walk(start: AssetKey, edges: dict[AssetKey, set[AssetKey]], depth: int) -> set[AssetKey]:
    found: set[AssetKey] = set()
    layer = {start}
    while layer and depth > 0:
        layer = {n for k in layer for n in edges[k]} - found - {start}
        found |= layer
        depth -= 1
    return found
