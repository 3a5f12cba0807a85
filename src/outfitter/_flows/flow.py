"""``Flow``: a graph of tasks built with ``with Flow(...)`` or imperatively, run with
``flow.run()``."""

from __future__ import annotations

import itertools
import warnings
from collections.abc import Iterable, Mapping
from contextvars import ContextVar, Token
from types import TracebackType
from typing import TYPE_CHECKING, Any

from .._graph import CycleFound, toposort
from ..exceptions import DefinitionError, InvocationError
from .task import _FLOW, Edge, Parameter, Task, unmapped

if TYPE_CHECKING:
    from .compile import FlowPlan
    from .resource_manager import ResourceContext
    from .state import State

__all__ = ["Flow", "active_resource_block"]

_BLOCKS: ContextVar[tuple[ResourceContext, ...]] = ContextVar("outfitter_blocks", default=())


def active_resource_block() -> ResourceContext | None:
    """The innermost open resource-manager block, if any."""
    blocks = _BLOCKS.get()
    return blocks[-1] if blocks else None


class Flow:
    """A graph of tasks (Prefect 1 style), built in a ``with`` block or imperatively.

    ``resources`` (a dict or a container) are the container resources tasks may ask for by
    annotation; ``executor`` defaults to in-process.

    Example:
        >>> from outfitter import Flow, task
        >>> @task
        ... def hello() -> str:
        ...     return "hello"
        >>> with Flow("greet") as flow:
        ...     greeting = hello()
        >>> state = flow.run()
        >>> state.is_successful(), state.result[greeting].result
        (True, 'hello')
    """

    def __init__(
        self,
        name: str,
        tasks: Iterable[Task] | None = None,
        edges: Iterable[Edge] | None = None,
        reference_tasks: Iterable[Task] | None = None,
        resources: Any = None,
        executor: Any = None,
        log_stdout: bool = False,
    ) -> None:
        if not isinstance(name, str) or not name:
            raise DefinitionError(
                f"a Flow needs a name, got {name!r}",
                hint='give it one: Flow("nightly-etl") (the name appears in run records).',
            )
        self.name = name
        self.resources = resources
        self.executor = executor
        self.log_stdout = bool(log_stdout)
        """Whether what every task prints becomes its log records (a task's own
        ``log_stdout=True`` does it for that task)."""
        self._tasks: dict[Task, None] = {}
        self._edges: dict[Edge, None] = {}
        self._upstream: dict[Task, dict[Edge, None]] = {}
        self._downstream: dict[Task, dict[Edge, None]] = {}
        self.constants: dict[Task, dict[str, Any]] = {}
        self._reference_tasks: set[Task] = set()
        self._parameters: dict[str, Parameter] = {}
        self._slug_counts: dict[str, int] = {}
        self._created: list[Task] = []
        self._token: Token[Flow | None] | None = None
        self.resource_blocks: list[ResourceContext] = []
        self._version = 0  # bumped on every change to the graph: compiled plans are per version
        self._sorted: tuple[int, tuple[Task, ...]] | None = None
        self._compiled: tuple[int, FlowPlan] | None = None
        for t in tasks or ():
            self.add_task(t)
        for e in edges or ():
            self.add_edge(e.upstream_task, e.downstream_task, key=e.key, mapped=e.mapped)
        if reference_tasks:
            self.set_reference_tasks(reference_tasks)

    # -- context ---------------------------------------------------------------------------------

    def __enter__(self) -> Flow:
        self._token = _FLOW.set(self)
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._token is not None:
            _FLOW.reset(self._token)
            self._token = None
        unused = [t for t in self._created if t not in self._tasks]
        self._created = []
        if unused and exc is None:
            names = ", ".join(repr(t.name) for t in unused)
            warnings.warn(
                f"Flow {self.name!r}: task(s) {names} were created inside the flow block but "
                "never added to it; they will not run. Call them with inputs (task(...)) or "
                "bind them (task.bind(..., flow=flow)).",
                UserWarning,
                stacklevel=2,
            )

    # -- graph ------------------------------------------------------------------------------------

    @property
    def tasks(self) -> set[Task]:
        """Every task of the flow."""
        return set(self._tasks)

    @property
    def edges(self) -> set[Edge]:
        """Every edge of the flow."""
        return set(self._edges)

    def add_task(self, task: Task) -> Task:
        """Add ``task`` (once); tasks first added inside a resource block join that block."""
        if not isinstance(task, Task):
            raise DefinitionError(
                f"Flow {self.name!r}: cannot add {type(task).__name__} {task!r} as a task",
                hint="add Task instances (from @task functions or Task subclasses).",
            )
        if task in self._tasks:
            return task
        if isinstance(task, Parameter):
            other = self._parameters.get(task.name)
            if other is not None and other is not task:
                raise DefinitionError(
                    f"Flow {self.name!r} already has a Parameter named {task.name!r}",
                    hint="parameter names are unique in a flow; reuse the same Parameter object.",
                )
            self._parameters[task.name] = task
        self._tasks[task] = None
        self._upstream[task] = {}
        self._downstream[task] = {}
        self._version += 1
        if task.slug is None:
            count = self._slug_counts.get(task.name, 0) + 1
            self._slug_counts[task.name] = count
            task.slug = f"{task.name}-{count}"
        block = active_resource_block()
        if block is not None and not isinstance(task, Parameter):
            block.add_task(task, self)
        return task

    def add_edge(
        self,
        upstream_task: Task,
        downstream_task: Task,
        key: str | None = None,
        mapped: bool = False,
        validate: bool = True,
    ) -> Edge:
        """Make ``upstream_task`` run before ``downstream_task`` (feeding input ``key``)."""
        self.add_task(upstream_task)
        self.add_task(downstream_task)
        if key is not None:
            for edge in self._upstream[downstream_task]:
                if edge.key == key:
                    raise DefinitionError(
                        f"task {downstream_task.name!r} already receives input {key!r} from "
                        f"{edge.upstream_task.name!r}",
                        hint="each input comes from one task.",
                    )
        if validate:
            path = self._path(downstream_task, upstream_task)
            if path is not None:
                cycle = " -> ".join(repr(t.name) for t in [upstream_task, *path])
                raise DefinitionError(
                    f"Flow {self.name!r} has a cycle among tasks: {cycle}",
                    hint="a task cannot (directly or indirectly) be upstream of itself.",
                )
        edge = Edge(upstream_task, downstream_task, key, mapped)
        self._edges[edge] = None
        self._upstream[downstream_task][edge] = None
        self._downstream[upstream_task][edge] = None
        self._version += 1
        self._warn_if_after_block(upstream_task, downstream_task)
        return edge

    def _path(self, start: Task, goal: Task) -> list[Task] | None:
        """The tasks from ``start`` down to ``goal`` along edges, if ``goal`` is downstream of
        ``start`` (or is it). Only what lies downstream of ``start`` is visited, so adding an
        edge at the end of a growing flow costs O(1), and building a flow is linear."""
        if start is goal:
            return [start]
        parent: dict[Task, Task] = {}
        stack = [start]
        while stack:
            task = stack.pop()
            for edge in self._downstream.get(task, ()):
                nxt = edge.downstream_task
                if nxt in parent or nxt is start:
                    continue
                parent[nxt] = task
                if nxt is goal:
                    path = [goal]
                    while path[-1] is not start:
                        path.append(parent[path[-1]])
                    return path[::-1]
                stack.append(nxt)
        return None

    def _warn_if_after_block(self, upstream: Task, downstream: Task) -> None:
        for block in self.resource_blocks:
            if block.closed and upstream is block.setup_task and downstream not in block.members:
                warnings.warn(
                    f"task {downstream.name!r} uses the resource of {block.name!r} but was "
                    "created after its `with` block: it is not ordered before the resource's "
                    "cleanup and may see it closed. Create it inside the block.",
                    UserWarning,
                    stacklevel=4,
                )

    def set_dependencies(
        self,
        task: Task,
        upstream_tasks: Iterable[Any] | None = None,
        downstream_tasks: Iterable[Any] | None = None,
        keyword_tasks: Mapping[str, Any] | None = None,
        mapped: bool = False,
    ) -> None:
        """Add ``task`` with its upstream, downstream and keyword dependencies. Keyword values
        that are not tasks are stored as constants."""
        self.add_task(task)
        for up in upstream_tasks or ():
            self.add_edge(_as_task(up, self), task, mapped=mapped)
        for down in downstream_tasks or ():
            self.add_edge(task, _as_task(down, self), mapped=mapped)
        for key, value in (keyword_tasks or {}).items():
            edge_mapped = mapped
            if isinstance(value, unmapped):
                value, edge_mapped = value.value, False
            if isinstance(value, Task):
                self.add_edge(value, task, key=key, mapped=edge_mapped)
            else:
                if edge_mapped and not isinstance(value, list | tuple):
                    raise DefinitionError(
                        f"task {task.name!r}: mapped input {key!r} is not a list or a task",
                        hint="map over a list, a task returning one, or wrap it in unmapped().",
                    )
                self.constants.setdefault(task, {})[key] = (value, edge_mapped)
                self._version += 1

    def chain(self, *tasks: Task) -> list[Edge]:
        """Run ``tasks`` one after another."""
        return [self.add_edge(a, b) for a, b in itertools.pairwise(tasks)]

    def upstream_tasks(self, task: Task) -> set[Task]:
        """Tasks that run right before ``task``."""
        return {e.upstream_task for e in self._upstream.get(task, ())}

    def downstream_tasks(self, task: Task) -> set[Task]:
        """Tasks that run right after ``task``."""
        return {e.downstream_task for e in self._downstream.get(task, ())}

    def edges_to(self, task: Task) -> list[Edge]:
        """Edges into ``task``."""
        return list(self._upstream.get(task, ()))

    def edges_from(self, task: Task) -> list[Edge]:
        """Edges out of ``task``."""
        return list(self._downstream.get(task, ()))

    def root_tasks(self) -> set[Task]:
        """Tasks with no upstream."""
        return {t for t in self._tasks if not self._upstream[t]}

    def terminal_tasks(self) -> set[Task]:
        """Tasks with no downstream."""
        return {t for t in self._tasks if not self._downstream[t]}

    def reference_tasks(self) -> set[Task]:
        """The tasks whose states decide the flow's state: those set with
        :meth:`set_reference_tasks`, or else the terminal tasks. Resource-manager init and cleanup
        tasks are never default reference tasks, and an edge into a cleanup does not stop a task
        from being terminal."""
        if self._reference_tasks:
            return set(self._reference_tasks)
        managed = {t for b in self.resource_blocks for t in (b.init_task, b.cleanup_task)}
        cleanups = {b.cleanup_task for b in self.resource_blocks}
        return {
            t for t in self._tasks if t not in managed and not (self.downstream_tasks(t) - cleanups)
        }

    def set_reference_tasks(self, tasks: Iterable[Task]) -> None:
        """Decide the flow's state from these tasks."""
        tasks = set(tasks)
        unknown = [t.name for t in tasks if t not in self._tasks]
        if unknown:
            raise DefinitionError(
                f"reference tasks {unknown} are not in flow {self.name!r}",
                hint="add them to the flow first.",
            )
        self._reference_tasks = tasks
        self._version += 1

    def parameters(self) -> set[Parameter]:
        """The flow's Parameters."""
        return set(self._parameters.values())

    def sorted_tasks(self) -> tuple[Task, ...]:
        """Tasks in an order where every task follows its upstream tasks (ties by creation);
        a cycle is a DefinitionError naming the tasks in it."""
        cached = self._sorted
        if cached is not None and cached[0] == self._version:
            return cached[1]
        upstream = {t: [e.upstream_task for e in self._upstream[t]] for t in self._tasks}
        try:
            order = tuple(toposort(upstream, lambda t: t._id))
        except CycleFound as cycle:
            names = " -> ".join(repr(t.name) for t in reversed(cycle.path))
            raise DefinitionError(
                f"Flow {self.name!r} has a cycle among tasks: {names}",
                hint="a task cannot (directly or indirectly) be upstream of itself.",
            ) from None
        self._sorted = (self._version, order)
        return order

    def _plan(self) -> FlowPlan:
        """The flow compiled for the run engine (its tasks as NodeSpecs, reference tasks,
        resource blocks); built once per shape of the flow and shared by its runs."""
        cached = self._compiled
        if cached is not None and cached[0] == self._version:
            return cached[1]
        from .compile import compile_flow

        plan = compile_flow(self)
        self._compiled = (self._version, plan)
        return plan

    # -- running ----------------------------------------------------------------------------------

    def run(
        self,
        parameters: Mapping[str, Any] | None = None,
        executor: Any = None,
        task_states: Mapping[Task, State] | None = None,
        resources: Any = None,
        instance: Any = None,
        run_config: Any = None,
        **kwargs: Any,
    ) -> State:
        """Run the flow and return its final State; ``.result`` maps every task to its State.

        Parameters come as ``parameters={...}`` or keyword arguments. ``resources`` are bound
        over ``Flow(resources=...)``; ``run_config`` gives their launch config, the same
        ``RunConfig`` or ``{"resources": {...}}`` dict jobs take. Task calls run in this
        process unless ``executor`` (or ``Flow(executor=...)``) is a multiprocess or Dask
        executor; see docs/executors.md. The run is recorded in ``instance`` (default: an
        ephemeral one, or the local one with ``OUTFITTER_RECORD_RUNS=1``).

        A resource that fails to open ends the flow ``Failed`` with that error as its result;
        one that fails to close makes a successful flow ``Failed``; Ctrl-C and SIGTERM run the
        pending resource-manager cleanups, close every resource and raise KeyboardInterrupt.
        """
        if _FLOW.get() is self:
            raise InvocationError(
                f"flow.run() was called inside `with Flow({self.name!r})`",
                hint="finish building the flow, then call flow.run() after the `with` block.",
            )
        from .._execution.launch import run_flow
        from .._resources.bindings import resource_bindings

        values = {**dict(parameters or {}), **kwargs}
        bindings = {**resource_bindings(self.resources), **resource_bindings(resources)}
        return run_flow(
            self._plan(),
            values,
            task_states={t.slug or t.name: s for t, s in (task_states or {}).items()},
            resources=bindings,
            run_config=run_config,
            instance=instance,
            executor=executor or self.executor,
        )

    def __repr__(self) -> str:
        return f"<Flow: {self.name}>"


def _as_task(value: Any, flow: Flow) -> Task:
    if isinstance(value, Task):
        return value
    raise DefinitionError(
        f"Flow {flow.name!r}: upstream/downstream tasks must be tasks, got {value!r}",
        hint="pass Task objects in upstream_tasks=[...].",
    )
