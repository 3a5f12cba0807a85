"""``NodeGraph``: a set of NodeSpecs ordered and indexed once, the form every job, asset selection
and flow is compiled to before it runs. Building it checks the graph (unknown keys are ignored
as edges, cycles are an error naming the cycle); a run only reads it, so one graph is shared by
every run of its job or flow, from any thread."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

from .._graph import CycleFound, toposort
from ..exceptions import DefinitionError
from .node import NodeSpec

__all__ = ["NodeGraph"]


class NodeGraph:
    """Nodes in run order (every node after its upstream nodes, ties by key, or by ``rank``),
    with what each node unblocks and what the whole graph needs.

    Example:
        >>> from outfitter import asset
        >>> @asset
        ... def a() -> int:
        ...     return 1
        >>> @asset
        ... def b(a: int) -> int:
        ...     return a + 1
        >>> graph = NodeGraph([b.node_spec({a.key: "a"}), a.node_spec({})], "example")
        >>> [n.key for n in graph.nodes], graph.downstream["a"]
        (['a', 'b'], ('b',))
    """

    __slots__ = ("by_key", "downstream", "nodes", "owner", "resource_keys", "roots", "waiting")

    def __init__(
        self,
        nodes: Iterable[NodeSpec],
        owner: str,
        *,
        rank: Mapping[str, int] | None = None,
        cycle_hint: str = "a step cannot (directly or indirectly) be an input of itself.",
    ) -> None:
        by_key = {n.key: n for n in nodes}
        upstream: dict[str, tuple[str, ...]] = {}
        for key, node in by_key.items():
            ups = node.upstream
            if not all(u in by_key for u in ups):  # e.g. an asset loaded from storage
                ups = tuple(u for u in ups if u in by_key)
            upstream[key] = ups
        try:
            order = toposort(upstream, None if rank is None else rank.__getitem__)
        except CycleFound as cycle:
            raise DefinitionError(
                f"{owner}: the steps depend on each other in a cycle: "
                + " -> ".join(repr(k) for k in reversed(cycle.path)),
                hint=cycle_hint,
            ) from None
        self.owner = owner
        self.by_key: dict[str, NodeSpec] = {k: by_key[k] for k in order}
        self.nodes: tuple[NodeSpec, ...] = tuple(self.by_key.values())
        down: dict[str, list[str]] = {k: [] for k in order}
        for key in order:
            for up in upstream[key]:
                down[up].append(key)
        self.downstream: dict[str, tuple[str, ...]] = {k: tuple(v) for k, v in down.items()}
        self.waiting: dict[str, int] = {k: len(upstream[k]) for k in order}
        """How many upstream nodes each node waits for (copied by each run)."""
        self.roots: tuple[str, ...] = tuple(k for k in order if not upstream[k])
        keys: set[str] = set()
        for node in self.nodes:
            keys.update(node.resource_keys)
        self.resource_keys: frozenset[str] = frozenset(keys)
        """Every resource key some node of the graph may open."""

    def __len__(self) -> int:
        return len(self.nodes)

    def keys(self) -> Sequence[str]:
        """Node keys in run order."""
        return [n.key for n in self.nodes]

    def __repr__(self) -> str:
        return f"NodeGraph({self.owner}, {len(self.nodes)} nodes)"
