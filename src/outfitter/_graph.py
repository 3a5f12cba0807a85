"""The one topological sort: resources, job steps, asset selections and flow tasks are all
ordered here, so every graph breaks ties the same way and names its cycles the same way.

This module depends on nothing else in Outfitter (it sits below every package).
"""

from __future__ import annotations

import heapq
from collections.abc import Callable, Hashable, Iterable, Mapping
from typing import Any, TypeVar

__all__ = ["CycleFound", "toposort"]

K = TypeVar("K", bound=Hashable)


class CycleFound(Exception):
    """Raised by :func:`toposort`; ``path`` is one cycle in dependency direction (each key
    waits for the next), its first key repeated at the end."""

    def __init__(self, path: list[Any]) -> None:
        super().__init__(" -> ".join(map(repr, path)))
        self.path = path


def toposort(upstream: Mapping[K, Iterable[K]], tie: Callable[[K], Any] | None = None) -> list[K]:
    """The keys of ``upstream`` ordered so each follows everything it lists (keys it lists that
    are not in ``upstream`` are ignored). Among keys ready at the same time the smallest
    ``tie(key)`` (default: the key) goes first: Kahn's algorithm on a heap, so the order is
    stable and O((n + e) log n). A cycle raises :class:`CycleFound` with the cycle's path.

    Example:
        >>> toposort({"b": ["a"], "a": [], "c": ["a"]})
        ['a', 'b', 'c']
    """
    waiting: dict[K, int] = {}
    downstream: dict[K, list[K]] = {k: [] for k in upstream}
    for key, ups in upstream.items():
        known = {u for u in ups if u in downstream}
        waiting[key] = len(known)
        for up in known:
            downstream[up].append(key)
    order: list[K] = []
    if tie is None:  # keys are their own tie-break: the heap holds the keys themselves
        ready: list[Any] = [k for k, n in waiting.items() if n == 0]
        heapq.heapify(ready)
        while ready:
            key = heapq.heappop(ready)
            order.append(key)
            for down in downstream[key]:
                waiting[down] -= 1
                if waiting[down] == 0:
                    heapq.heappush(ready, down)
    else:
        ready = [(tie(k), i, k) for i, (k, n) in enumerate(waiting.items()) if n == 0]
        heapq.heapify(ready)
        counter = len(waiting)
        while ready:
            key = heapq.heappop(ready)[2]
            order.append(key)
            for down in downstream[key]:
                waiting[down] -= 1
                if waiting[down] == 0:
                    counter += 1
                    heapq.heappush(ready, (tie(down), counter, down))
    if len(order) != len(waiting):
        stuck = {k for k, n in waiting.items() if n > 0}
        raise CycleFound(_cycle(stuck, upstream, tie or (lambda k: k)))
    return order


def _cycle(
    stuck: set[K], upstream: Mapping[K, Iterable[K]], order_key: Callable[[K], Any]
) -> list[K]:
    """One cycle among ``stuck`` keys (each still waits for another stuck key), walked from the
    smallest key so the message is stable."""
    start = min(stuck, key=order_key)
    path = [start]
    seen = {start: 0}
    node = start
    while True:
        node = min((u for u in upstream[node] if u in stuck), key=order_key)
        if node in seen:
            return [*path[seen[node] :], node]
        seen[node] = len(path)
        path.append(node)
