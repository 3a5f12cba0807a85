"""A :class:`Flow` compiled for the run engine: its tasks as NodeSpecs in a NodeGraph (the same
form jobs run in), plus what only the flow policy reads: the edges each trigger sees, the
constants and mapped inputs, the Parameters, the reference and terminal tasks, and the
resource-manager blocks. Compiled once per shape of the flow (adding a task or an edge makes a
new one), so repeated ``flow.run()`` calls share it."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from .._definitions.graph import NodeGraph
from .._definitions.node import InputSpec, NodeSpec
from .._definitions.params import classify_params
from ..exceptions import DefinitionError
from .options import RetryOnly, TimedCall
from .signals import PAUSE, SUCCESS, TRIGGERFAIL
from .task import Edge, Parameter, Task

if TYPE_CHECKING:
    from .flow import Flow

__all__ = ["Block", "FlowPlan", "Handler", "compile_flow", "handlers_of"]

_NO_RETRY: tuple[type[BaseException], ...] = (PAUSE, SUCCESS, TRIGGERFAIL)
"""Signals that end a task at once (SKIP is a SUCCESS); FAIL and RETRY count against retries."""

_CYCLE_HINT = "a task cannot (directly or indirectly) be upstream of itself."


@dataclass(frozen=True, slots=True)
class Block:
    """The task keys of one resource-manager block."""

    name: str
    init: str
    setup: str | None
    cleanup: str


@dataclass(frozen=True, slots=True)
class Handler:
    """A state handler and the resources it asks for (keyword parameters annotated with a
    resource class or ``ResourceParam[T]``, given from the run's resources)."""

    fn: Callable[..., Any]
    resources: tuple[str, ...] = ()


def handlers_of(fns: Any, owner: str) -> tuple[Handler, ...]:
    out = []
    for fn in fns or ():
        try:
            params = classify_params(fn, f"state handler of {owner}")
        except DefinitionError:  # a builtin without a readable signature: no resources
            out.append(Handler(fn))
            continue
        out.append(Handler(fn, tuple(r.key for r in params.resources)))
    return tuple(out)


@dataclass(frozen=True, slots=True)
class FlowPlan:
    """What a run of the flow needs, built once per shape of the flow."""

    name: str
    graph: NodeGraph
    tasks: Mapping[str, Task]
    edges: Mapping[str, tuple[tuple[Edge, str], ...]]
    """Per task key: the edges into it, each with its upstream task's key (what triggers see)."""
    constants: Mapping[str, Mapping[str, tuple[Any, bool]]]
    parameters: Mapping[str, Parameter]
    reference: frozenset[str]
    terminal: frozenset[str]
    blocks: tuple[Block, ...]
    handlers: Mapping[str, tuple[Handler, ...]] = field(default_factory=dict)
    """Per task key with state handlers: its handlers (tasks without any are not in it)."""
    flow: Any = None
    """The flow (its ``state_handlers`` are read when a run starts)."""


def _node(
    task: Task,
    edges: list[Edge],
    constants: Mapping[str, Any],
    local: bool,
    closes: bool,
    log_stdout: bool = False,
    handlers: tuple[Handler, ...] = (),
) -> NodeSpec:
    key = task.slug
    assert key is not None  # set when the task was added
    params = task.params
    resources = frozenset(r.key for r in params.resources)
    if handlers:  # resources a state handler asks for are the task's too (they open for it)
        resources |= {k for h in handlers for k in h.resources}
    fn: Callable[..., Any] = task.run
    timeout = getattr(task, "timeout", None)
    if timeout:  # a timedelta when set through task_args=
        seconds = timeout.total_seconds() if isinstance(timeout, timedelta) else timeout
        fn = TimedCall(task.run, seconds, task.name)
    no_retry = _NO_RETRY
    retry_on = getattr(task, "retry_on", None)
    if retry_on:
        types = retry_on if isinstance(retry_on, Iterable) else (retry_on,)
        no_retry = (*_NO_RETRY, RetryOnly(types))  # type: ignore[arg-type]
    inputs = [
        InputSpec(e.key, upstream=e.upstream_task.slug or "", mapped=e.mapped)
        for e in edges
        if e.key is not None
    ]
    if constants:
        inputs += [
            InputSpec(name, value=value, mapped=mapped)
            for name, (value, mapped) in constants.items()
        ]
    is_parameter = isinstance(task, Parameter)
    return NodeSpec(
        key=key,
        fn=fn,
        kind="parameter" if is_parameter else "task",
        params=params,
        inputs=tuple(inputs),
        resource_keys=resources,
        context_resource_keys=resources,
        io_manager_key=None,
        after=tuple(e.upstream_task.slug or "" for e in edges if e.key is None),
        description=task.__doc__,
        tags=dict.fromkeys(sorted(task.tags), "") if task.tags else {},
        max_retries=task.max_retries,
        retry_delay=task.retry_delay.total_seconds() if task.retry_delay else 0.0,
        no_retry=no_retry,
        trigger=task.trigger,
        skip_on_upstream_skip=task.skip_on_upstream_skip,
        local=local,
        closes=closes,
        name=task.name,
        # a task's own log_stdout is done by its run(); the flow's applies to all the others
        log_stdout=log_stdout and not task.log_stdout,
    )


def compile_flow(flow: Flow) -> FlowPlan:
    """The :class:`FlowPlan` of ``flow`` as it is now (``flow._plan()`` caches it)."""
    blocks = tuple(
        Block(
            b.name,
            b.init_task.slug or "",
            b.setup_task.slug if b.setup_task is not None else None,
            b.cleanup_task.slug or "",
        )
        for b in flow.resource_blocks
    )
    local = {k for b in blocks for k in (b.init, b.setup, b.cleanup) if k is not None}
    cleanups = {b.cleanup for b in blocks}
    tasks = {t.slug or "": t for t in flow._tasks}  # in creation order; NodeGraph sorts them
    edges = {key: flow.edges_to(t) for key, t in tasks.items()}
    handlers = {
        key: handlers_of(getattr(t, "state_handlers", None), f"task {t.name!r}")
        for key, t in tasks.items()
        if getattr(t, "state_handlers", None)
    }
    mapped = flow._mapped_constants  # flow.constants holds values, as Prefect 1's does
    constants = {
        t.slug or "": {k: (v, k in mapped.get(t, ())) for k, v in c.items()}
        for t, c in flow.constants.items()
    }
    graph = NodeGraph(
        [
            _node(
                t,
                edges[key],
                constants.get(key, {}),
                key in local,
                key in cleanups,
                flow.log_stdout,
                handlers.get(key, ()),
            )
            for key, t in tasks.items()
        ],
        f"Flow {flow.name!r}",
        rank={key: t._id for key, t in tasks.items()},
        cycle_hint=_CYCLE_HINT,
    )
    return FlowPlan(
        name=flow.name,
        graph=graph,
        tasks=tasks,
        edges={
            key: tuple((e, e.upstream_task.slug or "") for e in in_edges)
            for key, in_edges in edges.items()
        },
        constants=constants,
        parameters={p.name: p for p in flow.parameters()},
        reference=frozenset(t.slug or "" for t in flow.reference_tasks()),
        terminal=frozenset(t.slug or "" for t in flow.terminal_tasks()),
        blocks=blocks,
        handlers=handlers,
        flow=flow,
    )
