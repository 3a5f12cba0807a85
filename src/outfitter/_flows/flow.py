"""``Flow``: a graph of tasks built with ``with Flow(...)`` or imperatively, run with
``flow.run()``."""

from __future__ import annotations

import itertools
import warnings
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextvars import ContextVar, Token
from types import TracebackType
from typing import TYPE_CHECKING, Any

from .._graph import CycleFound, toposort
from ..exceptions import (
    DefinitionTypeError,
    DefinitionValueError,
    InvocationRuntimeError,
    InvocationTypeError,
)
from .task import _FLOW, Constant, Edge, OnFailure, Parameter, Task, unmapped

if TYPE_CHECKING:
    from .compile import FlowPlan
    from .control_flow import case
    from .resource_manager import ResourceContext
    from .state import State

__all__ = ["Flow", "active_case", "active_resource_block"]

_BLOCKS: ContextVar[tuple[ResourceContext, ...]] = ContextVar("outfitter_blocks", default=())
_CASE: ContextVar[case | None] = ContextVar("outfitter_case", default=None)
_APPLY_MAP: ContextVar[bool] = ContextVar("outfitter_apply_map", default=False)

_CYCLE_HINT = "a task cannot (directly or indirectly) be upstream of itself."


def active_case() -> case | None:
    """The innermost open ``with case(...)`` block, if any."""
    return _CASE.get()


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
        validate: bool | None = None,
        state_handlers: Iterable[Callable[..., Any]] | None = None,
        on_failure: Callable[..., Any] | None = None,
    ) -> None:
        if not isinstance(name, str) or not name:
            raise DefinitionValueError(
                f"a Flow needs a name, got {name!r}",
                hint='give it one: Flow("nightly-etl") (the name appears in run records).',
            )
        self.name = name
        self.resources = resources
        self.executor = executor
        self.log_stdout = bool(log_stdout)
        """Whether what every task prints becomes its log records (a task's own
        ``log_stdout=True`` does it for that task)."""
        self.state_handlers = list(state_handlers or [])
        if on_failure is not None:  # Prefect 1: a state handler called on failed states only
            self.state_handlers.append(OnFailure(on_failure))
        """Called as ``handler(flow, old_state, new_state)`` when the flow run starts and ends;
        one may return a state to use instead (see docs/flows.md)."""
        self._tasks: dict[Task, None] = {}
        self._edges: dict[Edge, None] = {}
        self._upstream: dict[Task, dict[Edge, None]] = {}
        self._downstream: dict[Task, dict[Edge, None]] = {}
        self._keyed: dict[Task, dict[str, Edge]] = {}  # per task, the edge feeding each input
        self.constants: dict[Task, dict[str, Any]] = {}
        """Per task, the plain values bound to its inputs (``{task: {"x": 3}}``)."""
        self._mapped_constants: dict[Task, set[str]] = {}  # inputs of constants mapped over
        self._reference_tasks: set[Task] = set()
        self._parameters: dict[str, Parameter] = {}
        self._slug_counts: dict[str, int] = {}
        self._slugs: dict[str, Task] = {}
        self._created: list[Task] = []
        self._token: Token[Flow | None] | None = None
        self.resource_blocks: list[ResourceContext] = []
        self._version = 0  # bumped on every change to the graph: compiled plans are per version
        self._sorted: tuple[int, tuple[Task, ...]] | None = None
        self._compiled: tuple[int, FlowPlan] | None = None
        for t in tasks or ():
            self.add_task(t)
        for e in edges or ():
            self.add_edge(
                e.upstream_task, e.downstream_task, key=e.key, mapped=e.mapped, validate=validate
            )
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

    def __iter__(self) -> Iterator[Task]:
        """The flow's tasks, each after its upstream tasks (:meth:`sorted_tasks`)."""
        return iter(self.sorted_tasks())

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
            raise DefinitionTypeError(
                f"Flow {self.name!r}: cannot add {type(task).__name__} {task!r} as a task",
                hint="add Task instances (from @task functions or Task subclasses).",
            )
        if task in self._tasks:
            return task
        if isinstance(task, Parameter):
            other = self._parameters.get(task.name)
            if other is not None and other is not task:
                raise DefinitionValueError(
                    f"Flow {self.name!r} already has a Parameter named {task.name!r}",
                    hint="parameter names are unique in a flow; reuse the same Parameter object.",
                )
        slug = task.slug
        holder = self._slugs.get(slug) if slug is not None else None
        if holder is not None:
            if not task._auto_slug:  # as Prefect 1's add_task: slugs are unique in a flow
                raise DefinitionValueError(
                    f"Flow {self.name!r} already has a task with the slug {slug!r} "
                    f"({holder.name!r}); cannot add task {task.name!r} with it",
                    hint="give each task its own slug, or none (one is made from its name).",
                )
            slug = None  # made in another flow (flow.update): a fresh one here
        if slug is None:
            while slug is None or slug in self._slugs:
                count = self._slug_counts.get(task.name, 0) + 1
                self._slug_counts[task.name] = count
                slug = f"{task.name}-{count}"
            task.slug = slug
            task._auto_slug = True
        self._slugs[slug] = task
        if isinstance(task, Parameter):
            self._parameters[task.name] = task
        self._tasks[task] = None
        self._upstream[task] = {}
        self._downstream[task] = {}
        self._version += 1
        if not isinstance(task, Parameter | Constant):  # those stay roots, as in Prefect 1
            block = active_resource_block()
            if block is not None:
                block.add_task(task, self)
            condition = _CASE.get()
            if condition is not None:
                condition.add_task(task, self)
        return task

    def add_edge(
        self,
        upstream_task: Task,
        downstream_task: Task,
        key: str | None = None,
        mapped: bool = False,
        validate: bool | None = None,
    ) -> Edge:
        """Make ``upstream_task`` run before ``downstream_task`` (feeding input ``key``).

        ``validate`` (default True; Prefect 1's default is its ``eager_edge_validation``
        setting, off) checks at once that the edge closes no cycle and that ``key`` is an
        input of ``downstream_task``; the check looks only downstream of the new edge, so
        building a flow stays linear. Unvalidated, a cycle is reported when the flow is
        sorted or run."""
        if isinstance(downstream_task, Parameter):
            raise DefinitionValueError(
                f"Parameter {downstream_task.name!r} cannot have upstream tasks "
                f"(got {getattr(upstream_task, 'name', upstream_task)!r})",
                hint="Parameters are the roots of a flow: their value comes from flow.run().",
            )
        self.add_task(upstream_task)
        self.add_task(downstream_task)
        validate = True if validate is None else validate
        if key is not None:
            fed = self._keyed.get(downstream_task, {}).get(
                key
            )  # a dict: a wide fan-in stays linear
            if fed is not None:
                raise DefinitionValueError(
                    f"task {downstream_task.name!r} already receives input {key!r} from "
                    f"{fed.upstream_task.name!r}",
                    hint="each input comes from one task; to call a task again with other "
                    "inputs, call it (task(...)) or copy it (task.copy()) first.",
                )
            if validate:
                _check_input(downstream_task, key)
        # a cycle needs a path from downstream_task back to upstream_task: none when either
        # end is new (a root above, a leaf below), so building top-down or bottom-up is O(1)
        loops = upstream_task is downstream_task or (
            self._upstream[upstream_task] and self._downstream[downstream_task]
        )
        if validate and loops:
            path = self._path(downstream_task, upstream_task)
            if path is not None:
                cycle = " -> ".join(repr(t.name) for t in [upstream_task, *path])
                raise DefinitionValueError(
                    f"Flow {self.name!r} has a cycle among tasks: {cycle}", hint=_CYCLE_HINT
                )
        edge = Edge(upstream_task, downstream_task, key, mapped)
        self._edges[edge] = None
        self._upstream[downstream_task][edge] = None
        self._downstream[upstream_task][edge] = None
        if key is not None:
            self._keyed.setdefault(downstream_task, {})[key] = edge
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
        validate: bool | None = None,
    ) -> None:
        """Add ``task`` with its upstream, downstream and keyword dependencies. Keyword values
        that are not tasks are stored as constants (``flow.constants[task][key]``); a plain
        value in ``upstream_tasks`` becomes a task returning it, as in Prefect 1; an
        ``unmapped(t)`` there is an ordering edge that is not mapped over."""
        if mapped and _APPLY_MAP.get():
            raise DefinitionValueError(
                f"task {task.name!r} is mapped inside apply_map(), which maps it already",
                hint="call the task (task(x)) inside the function given to apply_map().",
            )
        self.add_task(task)
        for up in upstream_tasks or ():
            edge_mapped = mapped
            if isinstance(up, unmapped):
                up, edge_mapped = up.value, False
            if not isinstance(up, Task):
                up = Constant(up)
            self.add_edge(up, task, mapped=edge_mapped, validate=validate)
        for down in downstream_tasks or ():
            self.add_edge(task, _as_task(down, self), validate=validate)
        for key, value in (keyword_tasks or {}).items():
            edge_mapped = mapped
            if isinstance(value, unmapped):
                value, edge_mapped = value.value, False
            if not isinstance(value, Task) and _holds_task(value):
                value = self._collection_task(value, validate)
            if isinstance(value, Task):
                self.add_edge(value, task, key=key, mapped=edge_mapped, validate=validate)
                continue
            if edge_mapped and not isinstance(value, list | tuple):
                raise DefinitionTypeError(
                    f"task {task.name!r}: mapped input {key!r} is {type(value).__name__} "
                    f"{_short(value)}, not a list or a task",
                    hint="map over a list, a task returning one, or wrap it in unmapped().",
                )
            if validate is not False:
                _check_input(task, key)
            self.constants.setdefault(task, {})[key] = value
            mapped_keys = self._mapped_constants.setdefault(task, set())
            if edge_mapped:
                mapped_keys.add(key)
            else:
                mapped_keys.discard(key)
            self._version += 1

    def _collection_task(self, value: Any, validate: bool | None) -> Task:
        """A task building ``value`` (a list, tuple, set or dict holding tasks) from their
        results, as Prefect 1's ``as_task`` does (utilities/tasks.py; tasks/core/collections.py)."""
        if isinstance(value, dict):
            items = list(value.items())
            collect = Collection(dict, [k for k, _ in items], name="Dict")
            parts = {f"item_{i}": v for i, (_, v) in enumerate(items)}
        else:
            collect = Collection(type(value), None, name=type(value).__name__.capitalize())
            parts = {f"item_{i}": v for i, v in enumerate(value)}
        self.set_dependencies(collect, keyword_tasks=parts, validate=validate)
        return collect

    def chain(self, *tasks: Task, validate: bool | None = None) -> list[Edge]:
        """Run ``tasks`` one after another."""
        return [self.add_edge(a, b, validate=validate) for a, b in itertools.pairwise(tasks)]

    def update(self, flow: Flow, validate: bool | None = None) -> None:
        """Add every task, edge and constant of ``flow`` to this flow (Prefect 1's
        ``Flow.update``); its tasks are shared, not copied. A Parameter named like one of this
        flow's is a ValueError."""
        if flow.resource_blocks:
            raise DefinitionValueError(
                f"Flow {self.name!r}: cannot take in flow {flow.name!r}, which has "
                f"resource-manager blocks ({', '.join(b.name for b in flow.resource_blocks)})",
                hint="build the blocks in this flow (call the function that makes them inside "
                "its `with Flow(...)`).",
            )
        for t in flow.sorted_tasks():
            self.add_task(t)
        for t in flow.sorted_tasks():
            for edge in flow.edges_to(t):
                self.add_edge(
                    edge.upstream_task, t, key=edge.key, mapped=edge.mapped, validate=validate
                )
        for t, values in flow.constants.items():
            self.constants.setdefault(t, {}).update(values)
            self._mapped_constants.setdefault(t, set()).update(flow._mapped_constants.get(t, ()))
        self._version += 1

    def _known(self, task: Task) -> Task:
        if task not in self._tasks:
            raise DefinitionValueError(
                f"task {getattr(task, 'name', task)!r} is not in flow {self.name!r}",
                hint="add it first (flow.add_task(task), or call it inside `with Flow(...)`).",
            )
        return task

    def upstream_tasks(self, task: Task) -> set[Task]:
        """Tasks that run right before ``task`` (a task not in the flow is a ValueError)."""
        return {e.upstream_task for e in self._upstream[self._known(task)]}

    def downstream_tasks(self, task: Task) -> set[Task]:
        """Tasks that run right after ``task``."""
        return {e.downstream_task for e in self._downstream[self._known(task)]}

    def edges_to(self, task: Task) -> list[Edge]:
        """Edges into ``task``."""
        return list(self._upstream[self._known(task)])

    def edges_from(self, task: Task) -> list[Edge]:
        """Edges out of ``task``."""
        return list(self._downstream[self._known(task)])

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
        down = self._downstream
        return {
            t
            for t in self._tasks
            if t not in managed and not ({e.downstream_task for e in down[t]} - cleanups)
        }

    def set_reference_tasks(self, tasks: Iterable[Task]) -> None:
        """Decide the flow's state from these tasks."""
        tasks = set(tasks)
        unknown = [t.name for t in tasks if t not in self._tasks]
        if unknown:
            raise DefinitionValueError(
                f"reference tasks {unknown} are not in flow {self.name!r}",
                hint="add them to the flow first.",
            )
        self._reference_tasks = tasks
        self._version += 1

    def parameters(self) -> set[Parameter]:
        """The flow's Parameters."""
        return set(self._parameters.values())

    def get_tasks(
        self,
        name: str | None = None,
        slug: str | None = None,
        tags: Iterable[str] | None = None,
        task_type: type | None = None,
    ) -> list[Task]:
        """The tasks matching every condition given (Prefect 1's ``Flow.get_tasks``): a name,
        a slug, tags they all carry, a class."""
        wanted = set(tags) if tags is not None else None
        return [
            t
            for t in self._tasks
            if (name is None or t.name == name)
            and (slug is None or t.slug == slug)
            and (wanted is None or wanted <= t.tags)
            and (task_type is None or isinstance(t, task_type))
        ]

    def validate(self) -> None:
        """Check the flow as a whole (Prefect 1's ``Flow.validate``): no cycle, every edge and
        reference task in the flow. Raises a DefinitionError that is also a ValueError."""
        self.sorted_tasks()
        stray = [e for e in self._edges if e.upstream_task not in self._tasks]
        stray += [e for e in self._edges if e.downstream_task not in self._tasks]
        if stray:
            raise DefinitionValueError(
                f"Flow {self.name!r} has edges to tasks not in it: {stray}",
                hint="add tasks with flow.add_task() or flow.add_edge().",
            )
        self.set_reference_tasks(self._reference_tasks)

    def sorted_tasks(self, root_tasks: Iterable[Task] | None = None) -> tuple[Task, ...]:
        """Tasks in an order where every task follows its upstream tasks (ties by creation);
        with ``root_tasks``, only those and the tasks downstream of them (Prefect 1's
        ``Flow.sorted_tasks``). A cycle is a DefinitionError (also a ValueError) naming the
        tasks in it."""
        cached = self._sorted
        if cached is not None and cached[0] == self._version:
            order = cached[1]
        else:
            upstream = {t: [e.upstream_task for e in self._upstream[t]] for t in self._tasks}
            try:
                order = tuple(toposort(upstream, lambda t: t._id))
            except CycleFound as cycle:
                names = " -> ".join(repr(t.name) for t in reversed(cycle.path))
                raise DefinitionValueError(
                    f"Flow {self.name!r} has a cycle among tasks: {names}", hint=_CYCLE_HINT
                ) from None
            self._sorted = (self._version, order)
        if root_tasks is None:
            return order
        reached = {self._known(t) for t in root_tasks}
        stack = list(reached)
        while stack:
            for edge in self._downstream[stack.pop()]:
                if edge.downstream_task not in reached:
                    reached.add(edge.downstream_task)
                    stack.append(edge.downstream_task)
        return tuple(t for t in order if t in reached)

    def _plan(self) -> FlowPlan:
        """The flow compiled for the run engine (its tasks as NodeSpecs, reference tasks,
        resource blocks); built once per shape of the flow and shared by its runs."""
        cached = self._compiled
        if cached is not None and cached[0] == self._version:
            return cached[1]
        from .compile import compile_flow

        self.sorted_tasks()  # a cycle left by validate=False: the flow's own ValueError
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
        run_on_schedule: bool | None = None,
        **kwargs: Any,
    ) -> State:
        """Run the flow and return its final State; ``.result`` maps every task to its State.
        (``run_on_schedule`` is accepted for Prefect 1 code and ignored: a Flow has no
        schedule; it runs once.)

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
            raise InvocationRuntimeError(
                f"flow.run() was called inside `with Flow({self.name!r})`",
                hint="finish building the flow, then call flow.run() after the `with` block.",
            )
        from .._execution.launch import run_flow
        from .._resources.bindings import resource_bindings

        unknown = sorted(k for k in kwargs if k not in self._parameters)
        if unknown:  # Prefect 1 passes them to FlowRunner.run(), which has no such argument
            raise InvocationTypeError(
                f"flow.run() of flow {self.name!r} got unexpected keyword argument(s) "
                f"{', '.join(map(repr, unknown))}: neither a Parameter of the flow nor an "
                "argument of flow.run()",
                hint=f"the flow's parameters are {sorted(self._parameters) or 'none'}; "
                "flow.run() also takes parameters=, executor=, task_states=, resources=, "
                "instance=, run_config=, run_on_schedule=.",
            )
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
    raise DefinitionTypeError(
        f"Flow {flow.name!r}: downstream tasks must be tasks, got {_short(value)}",
        hint="pass Task objects in downstream_tasks=[...].",
    )


_COLLECTIONS = (list, tuple, set, frozenset, dict)


def _holds_task(value: Any) -> bool:
    """Whether ``value`` is a list, tuple, set or dict with a task somewhere inside."""
    if not isinstance(value, _COLLECTIONS):
        return False
    items = value.values() if isinstance(value, dict) else value
    return any(isinstance(v, Task) or _holds_task(v) for v in items)


class Collection(Task):
    """Builds a list, tuple, set or dict from the results of the tasks it was given in."""

    def __init__(self, kind: type, keys: list[Any] | None, name: str) -> None:
        self.kind = kind
        self.keys = keys
        super().__init__(name=name)

    def run(self, **items: Any) -> Any:
        values = [items[f"item_{i}"] for i in range(len(items))]
        if self.keys is not None:
            return dict(zip(self.keys, values, strict=True))
        return self.kind(values)


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def _check_input(task: Task, key: str) -> None:
    """``key`` must be an input of ``task`` (any name, when its run takes ``**kwargs``), as
    Prefect 1 checks by binding the edge keys to ``run``'s signature (core/flow.py)."""
    if isinstance(task, Parameter):
        return
    inputs = task.params.inputs
    if key not in inputs and not task.accepts_kwargs:
        raise DefinitionTypeError(
            f"task {task.name!r} has no input {key!r}",
            hint=f"its inputs are {list(inputs)}; pass the value under one of those names.",
        )
