"""The pure state of a run: which nodes wait, which may start, what each finished with.

No I/O happens here (in the spirit of dask.distributed's ``WorkerState``): the driver asks which
node is next, asks the run's :class:`Policy` what to do with it (resolve it without running, or
call it once or once per mapped element), and reports what happened; the state answers with the
nodes that became ready. Every executor drives the same state, so a run's decisions do not
depend on where its steps ran.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Mapping, Sequence
from typing import Any, Protocol

from .._definitions.graph import NodeGraph
from .._definitions.node import NodeSpec
from .._instance import EventType
from .step import Outcome

__all__ = ["Decision", "Policy", "Resolved", "RunState"]


class Resolved:
    """A node that finished without running (skipped, a Parameter, a trigger that failed, a
    state reused from an earlier run): its ``result``, and the event that records it (None for
    no event)."""

    __slots__ = ("event", "message", "result")

    def __init__(self, result: Any, event: EventType | None = None, message: str = "") -> None:
        self.result = result
        self.event = event
        self.message = message

    def __repr__(self) -> str:
        return f"Resolved({self.result!r})"


Decision = Resolved | dict[str, Any] | list[dict[str, Any]]
"""What a policy says about a ready node: :class:`Resolved`, the input values of one call (a
dict), or one dict per mapped call (a list)."""


class Policy(Protocol):
    """What differs between jobs and flows: when a ready node runs and with which inputs, what
    its calls' outcomes mean, how a cancel ends, and what the run returns."""

    results: dict[str, Any]

    def decide(self, node: NodeSpec) -> Decision:
        """What to do with ``node`` now that its upstream nodes have finished."""
        ...

    def settle(
        self, node: NodeSpec, outcomes: Sequence[Outcome], mapped: bool
    ) -> tuple[Any, EventType, str]:
        """The node's result from its calls' outcomes, and the event (with its message) that
        records how it ended."""
        ...

    def first_error(self) -> BaseException | None:
        """The exception that failed the run so far (context-manager resources see it)."""
        ...

    def failed(self) -> bool:
        """Whether a node failed (the run's status is then FAILURE)."""
        ...

    def cancel(self, graph: NodeGraph) -> list[tuple[str, dict[str, Any]]]:
        """After Ctrl-C / SIGTERM: the calls still owed, ``(node key, inputs)`` (a flow's
        resource-manager cleanups); each is handed out at most once."""
        ...

    def cleaned_up(self, key: str, outcome: Outcome) -> None:
        """Record how a call handed out by :meth:`cancel` went."""
        ...


class RunState:
    """Readiness and results of one run of ``graph``: ``next()`` gives the next ready node
    (in run order among those ready), ``finish(key, result)`` records a node's result and makes
    its downstream nodes ready once all their upstream nodes have finished. Finishing a node
    costs its number of downstream nodes, so a run is O(nodes + edges).

    Example:
        >>> from outfitter import asset
        >>> @asset
        ... def a() -> int:
        ...     return 1
        >>> @asset
        ... def b(a: int) -> int:
        ...     return a
        >>> state = RunState(NodeGraph([a.node_spec({}), b.node_spec({a.key: "a"})], "x"))
        >>> state.next().key
        'a'
        >>> state.finish("a", 1)
        >>> state.next().key, state.done
        ('b', False)
    """

    __slots__ = ("_by_key", "_downstream", "_ready", "_waiting", "graph", "results")

    def __init__(self, graph: NodeGraph, results: dict[str, Any] | None = None) -> None:
        self.graph = graph
        self.results: dict[str, Any] = {} if results is None else results
        self._waiting = dict(graph.waiting)
        self._downstream: Mapping[str, tuple[str, ...]] = graph.downstream
        self._by_key = graph.by_key
        self._ready: deque[str] = deque(graph.roots)

    @property
    def has_ready(self) -> bool:
        """Whether a node is ready to start."""
        return bool(self._ready)

    def next(self) -> NodeSpec:
        """Take the next ready node."""
        return self._by_key[self._ready.popleft()]

    def pop(self) -> NodeSpec | None:
        """Take the next ready node, or None when none is ready."""
        ready = self._ready
        return self._by_key[ready.popleft()] if ready else None

    def finish(self, key: str, result: Any) -> None:
        """Record that ``key`` finished with ``result``."""
        self.results[key] = result
        waiting = self._waiting
        for down in self._downstream[key]:
            left = waiting[down] - 1
            waiting[down] = left
            if not left:
                self._ready.append(down)

    @property
    def done(self) -> bool:
        """Whether every node finished."""
        return len(self.results) == len(self._by_key)

    def unfinished(self) -> list[str]:
        """Keys of the nodes that have not finished, in run order."""
        return [k for k in self._by_key if k not in self.results]
