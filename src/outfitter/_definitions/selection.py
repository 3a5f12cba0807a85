"""Asset selection: which assets a run materializes, compiled to a :class:`NodeGraph`.

One resolver turns every form a selection takes into asset keys: an :class:`AssetSelection`
(``AssetSelection.groups("x").upstream() - AssetSelection.keys("y")``), Dagster's clause
strings (``"*name"``, ``"name+"``), or a list of keys, ``"a/b"`` strings and assets. Op
selections (``execute_in_process(op_selection=...)``) use the same clause syntax."""

from __future__ import annotations

import abc
import re
import threading
from collections import OrderedDict
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from .._resources.asset_key import AssetKey, coerce_asset_key
from ..exceptions import DefinitionError
from .decorators import AssetsDefinition
from .graph import NodeGraph

__all__ = [
    "AssetSelection",
    "as_asset_selection",
    "asset_graph",
    "cached_asset_graph",
    "parse_asset_selection",
    "resolve_selection",
    "select_nodes",
]

_ASSET_CYCLE = "an asset cannot (directly or indirectly) be an input of itself."
_CLAUSE = re.compile(r"^(?P<up>\*|\++)?(?P<name>[^*+\s,]+)(?P<down>\*|\++)?$")
_ALL = 1 << 30  # `*`: every level


# -- the index a selection resolves against ----------------------------------------------------


class _AssetIndex:
    """The assets a selection resolves against: keys in definition order, their groups, and
    the edges between them (data inputs and ``deps``)."""

    def __init__(self, assets: Iterable[AssetsDefinition]) -> None:
        self.assets: dict[AssetKey, AssetsDefinition] = {}
        for a in assets:
            for key in a.keys:  # a multi_asset: each of its keys
                self.assets.setdefault(key, a)
        self.order = list(self.assets)
        self.names = {k.to_user_string(): k for k in self.order}
        self.upstream: dict[AssetKey, set[AssetKey]] = {k: set() for k in self.order}
        self.downstream: dict[AssetKey, set[AssetKey]] = {k: set() for k in self.order}
        for key, a in self.assets.items():
            for dep in (*a.input_keys.values(), *a.deps):
                if dep in self.upstream and dep not in a.keys:
                    self.upstream[key].add(dep)
                    self.downstream[dep].add(key)

    def unknown(self, keys: Iterable[AssetKey]) -> list[str]:
        """One line per key not defined here, with close matches."""
        lines = []
        for key in keys:
            if key in self.assets:
                continue
            name = key.to_user_string()
            import difflib  # only on the way to an error message

            close = difflib.get_close_matches(name, list(self.names), n=3, cutoff=0.6)
            lines.append(
                f"unknown asset {name!r}"
                + (f" (did you mean {', '.join(repr(c) for c in close)}?)" if close else "")
            )
        return lines


def _walk(start: set[Any], edges: Mapping[Any, set[Any]], depth: int) -> set[Any]:
    """What is reachable from ``start`` along ``edges`` in at most ``depth`` steps (without
    ``start`` itself, unless a cycle leads back to it)."""
    found: set[Any] = set()
    layer = set(start)
    while layer and depth > 0:
        layer = {n for k in layer for n in edges.get(k, ())} - found
        found |= layer
        depth -= 1
    return found


# -- AssetSelection ----------------------------------------------------------------------------


class AssetSelection(abc.ABC):
    """A query over the assets of a code location (Dagster's ``AssetSelection``): combine with
    ``|`` (union), ``&`` (intersection) and ``-`` (difference); widen with :meth:`upstream` /
    :meth:`downstream`. Give it to ``define_asset_job(selection=...)``,
    ``materialize(selection=...)`` or ``RunRequest(asset_selection=...)``; it is resolved
    against the assets there, and :meth:`keys` naming an asset that is not defined raises
    a :class:`DefinitionError` with close matches.

    Example:
        >>> from outfitter import AssetSelection, asset
        >>> @asset(group_name="raw")
        ... def events() -> list[int]:
        ...     return [1, 2]
        >>> @asset
        ... def counts(events: list[int]) -> int:
        ...     return len(events)
        >>> @asset
        ... def report(counts: int) -> str:
        ...     return str(counts)
        >>> assets = [events, counts, report]
        >>> picked = AssetSelection.keys("counts").upstream().resolve(assets)
        >>> sorted(k.to_user_string() for k in picked)
        ['counts', 'events']
        >>> selection = AssetSelection.all() - AssetSelection.groups("raw")
        >>> sorted(k.to_user_string() for k in selection.resolve(assets))
        ['counts', 'report']
    """

    __slots__ = ()

    # -- constructors (Dagster's static methods) -------------------------------------------

    @staticmethod
    def all() -> AssetSelection:
        """Every asset."""
        return _All()

    @staticmethod
    def assets(*assets_defs: Any) -> AssetSelection:
        """The given assets (``@asset`` definitions, ``AssetKey``s or ``"a/b"`` strings)."""
        return _Keys(_coerce_keys(assets_defs, "AssetSelection.assets"))

    @staticmethod
    def keys(*asset_keys: Any) -> AssetSelection:
        """The assets with these keys (``AssetKey``s, ``"a/b"`` strings, lists of parts).
        Resolving it raises when a key is not defined."""
        return _Keys(_coerce_keys(asset_keys, "AssetSelection.keys"))

    @staticmethod
    def groups(*group_strs: str) -> AssetSelection:
        """The assets in any of these groups (``@asset(group_name=...)``; ``"default"`` holds
        the assets given no group)."""
        bad = [g for g in group_strs if not isinstance(g, str)]
        if bad:
            raise DefinitionError(
                f"AssetSelection.groups takes group names, got {bad!r}",
                hint="e.g. AssetSelection.groups('marketing', 'finance').",
            )
        return _Groups(tuple(group_strs))

    @staticmethod
    def key_prefixes(*key_prefixes: str | Sequence[str]) -> AssetSelection:
        """The assets whose key starts with any of these prefixes (``"raw"`` or
        ``["raw", "sales"]``)."""
        prefixes = tuple(
            (p,) if isinstance(p, str) else tuple(coerce_asset_key(list(p)).path)
            for p in key_prefixes
        )
        return _Prefixes(prefixes)

    # -- combinators ------------------------------------------------------------------------

    def upstream(self, depth: int | None = None, include_self: bool = True) -> AssetSelection:
        """This selection and everything upstream of it (``depth`` levels; all when None)."""
        return _Walk(self, "upstream", _check_depth(depth), include_self)

    def downstream(self, depth: int | None = None, include_self: bool = True) -> AssetSelection:
        """This selection and everything downstream of it (``depth`` levels; all when None)."""
        return _Walk(self, "downstream", _check_depth(depth), include_self)

    def roots(self) -> AssetSelection:
        """The assets of this selection with no upstream asset inside it."""
        return _Ends(self, "upstream")

    def sinks(self) -> AssetSelection:
        """The assets of this selection with no downstream asset inside it."""
        return _Ends(self, "downstream")

    def __or__(self, other: AssetSelection) -> AssetSelection:
        return _Op("|", (self, _operand(other, "|")))

    def __and__(self, other: AssetSelection) -> AssetSelection:
        return _Op("&", (self, _operand(other, "&")))

    def __sub__(self, other: AssetSelection) -> AssetSelection:
        return _Op("-", (self, _operand(other, "-")))

    # -- resolution -------------------------------------------------------------------------

    def resolve(self, all_assets: Iterable[AssetsDefinition]) -> set[AssetKey]:
        """The keys of ``all_assets`` this selection picks (raises DefinitionError naming
        every key it selects that is not among them)."""
        index = _AssetIndex(all_assets)
        problems: list[str] = []
        keys = self._select(index, problems)
        if problems:
            raise _unknown_keys_error("AssetSelection", problems, index)
        return keys

    @abc.abstractmethod
    def _select(self, index: _AssetIndex, problems: list[str]) -> set[AssetKey]:
        """The keys picked among ``index``; keys named but not there go to ``problems``."""

    def __eq__(self, other: object) -> bool:
        return type(other) is type(self) and other._fields() == self._fields()

    def __hash__(self) -> int:
        return hash((type(self).__name__, self._fields()))

    def _fields(self) -> tuple[Any, ...]:
        return ()


class _All(AssetSelection):
    __slots__ = ()

    def _select(self, index: _AssetIndex, problems: list[str]) -> set[AssetKey]:
        return set(index.order)

    def __repr__(self) -> str:
        return "AssetSelection.all()"


class _Keys(AssetSelection):
    __slots__ = ("selected",)

    def __init__(self, selected: tuple[AssetKey, ...]) -> None:
        self.selected = selected

    def _select(self, index: _AssetIndex, problems: list[str]) -> set[AssetKey]:
        # dagster/_core/definitions/asset_selection.py (KeysAssetSelection.resolve_inner):
        # keys that no asset supplies raise, with similar names
        problems.extend(index.unknown(self.selected))
        return {k for k in self.selected if k in index.assets}

    def _fields(self) -> tuple[Any, ...]:
        return self.selected

    def __repr__(self) -> str:
        return f"AssetSelection.keys({', '.join(repr(k.to_user_string()) for k in self.selected)})"


class _Groups(AssetSelection):
    __slots__ = ("names",)

    def __init__(self, groups: tuple[str, ...]) -> None:
        self.names = groups

    def _select(self, index: _AssetIndex, problems: list[str]) -> set[AssetKey]:
        wanted = set(self.names)
        return {k for k, a in index.assets.items() if a.group_names_by_key[k] in wanted}

    def _fields(self) -> tuple[Any, ...]:
        return self.names

    def __repr__(self) -> str:
        return f"AssetSelection.groups({', '.join(repr(g) for g in self.names)})"


class _Prefixes(AssetSelection):
    __slots__ = ("prefixes",)

    def __init__(self, prefixes: tuple[tuple[str, ...], ...]) -> None:
        self.prefixes = prefixes

    def _select(self, index: _AssetIndex, problems: list[str]) -> set[AssetKey]:
        return {k for k in index.order if any(k.path[: len(p)] == p for p in self.prefixes)}

    def _fields(self) -> tuple[Any, ...]:
        return self.prefixes

    def __repr__(self) -> str:
        shown = ", ".join(repr("/".join(p)) for p in self.prefixes)
        return f"AssetSelection.key_prefixes({shown})"


class _Walk(AssetSelection):
    __slots__ = ("child", "depth", "direction", "include_self")

    def __init__(
        self, child: AssetSelection, direction: str, depth: int | None, include_self: bool
    ) -> None:
        self.child = child
        self.direction = direction
        self.depth = depth
        self.include_self = include_self

    def _select(self, index: _AssetIndex, problems: list[str]) -> set[AssetKey]:
        start = self.child._select(index, problems)
        edges = index.upstream if self.direction == "upstream" else index.downstream
        found = _walk(start, edges, _ALL if self.depth is None else self.depth)
        # Dagster includes the selected assets themselves unless include_self=False
        return found | start if self.include_self else found - start

    def _fields(self) -> tuple[Any, ...]:
        return (self.child, self.direction, self.depth, self.include_self)

    def __repr__(self) -> str:
        args = [] if self.depth is None else [f"depth={self.depth}"]
        if not self.include_self:
            args.append("include_self=False")
        return f"{self.child!r}.{self.direction}({', '.join(args)})"


class _Ends(AssetSelection):
    __slots__ = ("child", "direction")

    def __init__(self, child: AssetSelection, direction: str) -> None:
        self.child = child
        self.direction = direction

    def _select(self, index: _AssetIndex, problems: list[str]) -> set[AssetKey]:
        chosen = self.child._select(index, problems)
        edges = index.upstream if self.direction == "upstream" else index.downstream
        return {k for k in chosen if not edges[k] & chosen}

    def _fields(self) -> tuple[Any, ...]:
        return (self.child, self.direction)

    def __repr__(self) -> str:
        return f"{self.child!r}.{'roots' if self.direction == 'upstream' else 'sinks'}()"


class _Op(AssetSelection):
    __slots__ = ("operands", "symbol")

    def __init__(self, symbol: str, operands: tuple[AssetSelection, ...]) -> None:
        self.symbol = symbol
        self.operands = operands

    def _select(self, index: _AssetIndex, problems: list[str]) -> set[AssetKey]:
        first, *rest = (o._select(index, problems) for o in self.operands)
        for other in rest:
            if self.symbol == "|":
                first |= other
            elif self.symbol == "&":
                first &= other
            else:
                first -= other
        return first

    def _fields(self) -> tuple[Any, ...]:
        return (self.symbol, self.operands)

    def __repr__(self) -> str:
        return f"({f' {self.symbol} '.join(repr(o) for o in self.operands)})"


def _operand(other: Any, symbol: str) -> AssetSelection:
    if isinstance(other, AssetSelection):
        return other
    raise DefinitionError(
        f"AssetSelection {symbol} takes another AssetSelection, got {type(other).__name__} "
        f"{other!r}",
        hint=f"wrap keys first, e.g. selection {symbol} AssetSelection.keys('name').",
    )


def _check_depth(depth: Any) -> int | None:
    if depth is None or (isinstance(depth, int) and not isinstance(depth, bool) and depth >= 0):
        return depth
    raise DefinitionError(
        f"depth must be a whole number >= 0 or None (every level), got {depth!r}",
        hint="e.g. AssetSelection.keys('report').upstream(depth=1).",
    )


def _coerce_keys(values: Iterable[Any], owner: str) -> tuple[AssetKey, ...]:
    keys: list[AssetKey] = []
    for value in values:
        if isinstance(value, AssetsDefinition):
            keys.extend(value.keys)
        else:
            try:
                keys.append(coerce_asset_key(value))
            except DefinitionError as exc:
                raise DefinitionError(
                    f"{owner}: {value!r} is not an asset or an asset key",
                    problems=exc.problems,
                    hint="pass @asset definitions, AssetKey(...)s or 'a/b' strings.",
                ) from None
    return tuple(keys)


def _unknown_keys_error(owner: str, problems: list[str], index: _AssetIndex) -> DefinitionError:
    unknown = [p.split("'")[1] for p in problems if p.startswith("unknown asset ")]
    return DefinitionError(
        f"{owner}: selection names unknown asset(s) {unknown}",
        problems=[f"{owner} selects {p}" for p in problems],
        hint=f"known assets: {', '.join(sorted(index.names)) or 'none'}; check the spelling, "
        "and that every asset is given to the Definitions (or materialize).",
    )


def _from_clause(clause: str, owner: str) -> AssetSelection:
    """One clause of Dagster's string syntax as a selection (``*``: every asset)."""
    if clause == "*":
        return _All()
    match = _CLAUSE.match(clause)
    if match is None:
        raise DefinitionError(
            f"{owner}: {clause!r} is not a selection clause",
            hint="use NAME, *NAME, +NAME, NAME+ or NAME* (a/b for a prefixed key).",
        )
    selection: AssetSelection = _Keys(_coerce_keys([match["name"]], owner))
    up, down = _depth(match["up"]), _depth(match["down"])
    walks: list[AssetSelection] = []
    if up:
        walks.append(selection.upstream(None if up == _ALL else up))
    if down:
        walks.append(selection.downstream(None if down == _ALL else down))
    if not walks:
        return selection
    return walks[0] if len(walks) == 1 else walks[0] | walks[1]


def as_asset_selection(selection: Any, owner: str) -> AssetSelection | None:
    """Any form a selection takes (None: everything) as an :class:`AssetSelection`, as
    Dagster's ``AssetSelection.from_coercible`` does: a string is a clause (``"*name"``,
    comma-separated clauses too), a list holds clauses, keys or assets."""
    if selection is None or isinstance(selection, AssetSelection):
        return selection
    items = [selection] if isinstance(selection, str | AssetKey | AssetsDefinition) else None
    if items is None:
        try:
            items = list(selection)
        except TypeError:
            raise DefinitionError(
                f"{owner}: selection must be an AssetSelection, asset keys or assets, got "
                f"{type(selection).__name__} {selection!r}",
                hint="e.g. selection=AssetSelection.groups('raw') or selection=['users'].",
            ) from None
    parts: list[AssetSelection] = []
    keys: list[Any] = []
    for item in items:
        if isinstance(item, AssetSelection):
            parts.append(item)
        elif isinstance(item, str) and (set(item) & {"*", "+", ","}):
            parts.extend(_from_clause(c.strip(), owner) for c in item.split(",") if c.strip())
        else:
            keys.append(item)
    if keys:
        parts.insert(0, _Keys(_coerce_keys(keys, owner)))
    if not parts:
        return _Keys(())
    result = parts[0]
    for part in parts[1:]:
        result = result | part
    return result


def resolve_selection(
    selection: Any, assets: Iterable[AssetsDefinition], owner: str
) -> list[AssetKey] | None:
    """The keys ``selection`` picks among ``assets``, in definition order (None: all). The
    one resolver behind jobs, ``materialize``, sensors' run requests and the CLI."""
    wanted = as_asset_selection(selection, owner)
    if wanted is None:
        return None
    index = _AssetIndex(assets)
    problems: list[str] = []
    chosen = wanted._select(index, problems)
    if problems:
        raise _unknown_keys_error(owner, problems, index)
    return [k for k in index.order if k in chosen]


# -- graphs of selected assets -----------------------------------------------------------------


def asset_graph(assets: Iterable[AssetsDefinition], selection: Any, owner: str) -> NodeGraph:
    """The graph of ``assets`` restricted to ``selection`` (an :class:`AssetSelection`, clause
    strings, asset keys, ``"a/b"`` strings or assets; all when None). An input whose asset is
    not selected is loaded by its I/O manager."""
    seen: dict[AssetKey, AssetsDefinition] = {}
    duplicates = []
    for a in assets:
        for key in a.keys:
            if key in seen and seen[key] is not a:
                duplicates.append(key.to_user_string())
            seen[key] = a
    if duplicates:
        raise DefinitionError(
            f"{owner}: asset key(s) defined twice: {', '.join(sorted(duplicates))}",
            hint="give each asset a unique name or key_prefix.",
        )
    chosen = list(dict.fromkeys(seen.values()))
    wanted = resolve_selection(selection, chosen, owner)
    if wanted is not None:
        # a multi_asset runs whole when any of its keys is selected (Dagster's can_subset=False)
        keep = set(wanted)
        chosen = [a for a in chosen if any(k in keep for k in a.keys)]
    producers: dict[AssetKey, Any] = {}
    for a in chosen:
        if a.outputs is None:
            producers[a.key] = a.step_key
        else:  # a step with declared outputs: consumers take one output by name
            for out in a.outputs:
                if out.asset_key is not None:
                    producers[out.asset_key] = (a.step_key, out.name)
    stored_by: dict[AssetKey, str] = {}  # each asset's I/O manager, for inputs from storage
    for a in seen.values():
        for out in a.outputs or ():
            if out.asset_key is not None:
                stored_by[out.asset_key] = out.io_manager_key
        if a.outputs is None:
            stored_by[a.key] = a.io_manager_key
    return NodeGraph(
        [a.node_spec(producers, stored_by) for a in chosen], owner, cycle_hint=_ASSET_CYCLE
    )


_GRAPHS: OrderedDict[tuple[Any, ...], tuple[Any, NodeGraph]] = OrderedDict()
"""Graphs by (owner, ids of the assets, selection), each with what keeps those ids valid."""
_GRAPHS_LOCK = threading.Lock()
_GRAPHS_KEPT = 32


def _plain_keys(selection: Any) -> frozenset[AssetKey] | None:
    """The keys of a selection that is a plain list of keys or assets (no AssetSelection, no
    clause), without looking at the assets; None for any other form."""
    if isinstance(selection, AssetSelection | str):
        return None
    keys: list[AssetKey] = []
    for item in selection:
        if isinstance(item, AssetSelection) or (
            isinstance(item, str) and set(item) & {"*", "+", ","}
        ):
            return None
        keys.extend(item.keys if isinstance(item, AssetsDefinition) else [coerce_asset_key(item)])
    return frozenset(keys)


def cached_asset_graph(assets: Sequence[AssetsDefinition], selection: Any, owner: str) -> NodeGraph:
    """:func:`asset_graph`, built once per list of asset definitions (by identity; the cache
    holds them, so their ids stay theirs while cached) and selection, so repeated
    ``materialize()`` calls over the same assets plan their graph once: a selection of keys by
    its keys, clauses by their text, an :class:`AssetSelection` (immutable) by identity. Only a
    miss looks at every asset; a hit costs a few operations per asset given."""
    wanted, held = selection, None
    try:
        if selection is None:
            chosen: Any = None
        elif isinstance(selection, AssetSelection):
            chosen, held = ("selection", id(selection)), selection
        else:
            chosen = _plain_keys(selection)
            if chosen is None and all(isinstance(s, str) for s in selection):
                chosen = ("clauses", tuple(selection))
            elif chosen is None:  # AssetSelections among keys
                keys = resolve_selection(selection, assets, owner)
                wanted = keys
                chosen = frozenset(keys or ())
    except DefinitionError:
        return asset_graph(assets, selection, owner)  # raises with the whole story
    key = (owner, tuple(id(a) for a in assets), chosen)
    with _GRAPHS_LOCK:
        hit = _GRAPHS.get(key)
        if hit is not None:
            _GRAPHS.move_to_end(key)
            return hit[1]
    graph = asset_graph(assets, wanted, owner)
    with _GRAPHS_LOCK:
        _GRAPHS[key] = ((list(assets), held), graph)
        if len(_GRAPHS) > _GRAPHS_KEPT:
            _GRAPHS.popitem(last=False)
    return graph


# -- the clause syntax (assets for --select, ops for op_selection) -----------------------------


def select_nodes(
    clauses: Iterable[str],
    names: Sequence[str],
    upstream: Mapping[str, set[str]],
    downstream: Mapping[str, set[str]],
    what: str,
    owner: str,
    groups: Mapping[str, set[str]] | None = None,
) -> tuple[list[str], list[str]]:
    """The names a list of clauses picks (in the order of ``names``) and one problem per bad
    clause. ``name`` picks that node, ``*name`` adds everything upstream, ``+name`` one level
    upstream (``++name`` two...), ``name*`` everything downstream, ``name+`` one level; ``*``
    alone picks every node. ``groups`` maps a name to several nodes (a graph's ops)."""
    chosen: set[str] = set()
    problems: list[str] = []
    known = set(names)
    for clause in (c.strip() for text in clauses for c in str(text).split(",")):
        if not clause:
            continue
        if clause == "*":
            chosen |= known
            continue
        match = _CLAUSE.match(clause)
        if match is None:
            problems.append(
                f"{clause!r} is not a selection clause "
                "(use NAME, *NAME, +NAME, NAME+ or NAME*; separate clauses with commas)"
            )
            continue
        name = match["name"]
        start = {name} if name in known else set((groups or {}).get(name, ()))
        if not start:
            candidates = [*names, *(groups or {})]
            import difflib  # only on the way to an error message

            close = difflib.get_close_matches(name, candidates, n=3, cutoff=0.6)
            problems.append(
                f"unknown {what} {name!r}"
                + (f" (did you mean {', '.join(repr(c) for c in close)}?)" if close else "")
            )
            continue
        chosen |= start
        chosen |= _walk(start, upstream, _depth(match["up"]))
        chosen |= _walk(start, downstream, _depth(match["down"]))
    return [n for n in names if n in chosen], problems


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
    index = _AssetIndex(assets)
    names = list(index.names)

    def edges(of: dict[AssetKey, set[AssetKey]]) -> dict[str, set[str]]:
        return {k.to_user_string(): {v.to_user_string() for v in vs} for k, vs in of.items()}

    picked, problems = select_nodes(
        clauses, names, edges(index.upstream), edges(index.downstream), "asset", owner
    )
    if problems:
        raise DefinitionError(
            f"{owner}: the asset selection has {len(problems)} problem(s)",
            problems=problems,
            hint=f"known assets: {', '.join(sorted(names)) or 'none'}.",
        )
    return [index.names[n] for n in picked]


def _depth(marks: str | None) -> int:
    if not marks:
        return 0
    return _ALL if marks == "*" else len(marks)
