"""The two policies over a run's state: :class:`JobPolicy` (assets and ops, Dagster semantics)
and :class:`FlowPolicy` (flow tasks, Prefect 1 semantics). A policy does no I/O: it decides what
a ready node does, what its calls' outcomes mean, and what the run returns; the driver does the
rest the same way for both."""

from __future__ import annotations

import copy
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from .._definitions.graph import NodeGraph
from .._definitions.node import NodeSpec
from .._flows.compile import FlowPlan, Handler, handlers_of
from .._flows.context import MAP_INDEX
from .._flows.signals import FAIL, PAUSE, SUCCESS, TRIGGERFAIL, Signal
from .._flows.state import (
    Cancelled,
    Failed,
    Mapped,
    Paused,
    Pending,
    Resume,
    Retrying,
    Running,
    Skipped,
    State,
    Success,
    TimedOut,
    TriggerFailed,
)
from .._flows.triggers import RESUME
from .._instance import EventType
from ..exceptions import TaskTimeoutError
from .result import StepFailure
from .state import Decision, Resolved
from .step import Outcome

__all__ = ["FlowPolicy", "JobPolicy", "flow_state"]

_SUCCESS = EventType.STEP_SUCCESS
_FAILURE = EventType.STEP_FAILURE
_SKIPPED = EventType.STEP_SKIPPED
_RETRY = EventType.STEP_RETRY
_NO_VALUES: dict[str, Any] = {}


class JobPolicy:
    """Assets and ops: a step runs once its upstream steps succeeded and is skipped when one
    failed or was skipped; a failure is the step's exception. Its inputs, as in Dagster, are
    loaded through the upstream's I/O manager (``load_input``), except the outputs of the
    steps in ``handoff`` (in process, those whose I/O manager is the in-memory one), which are
    handed over as they are; on workers every input is loaded.

    Dagster: dagster/_core/execution/plan/inputs.py (FromStepOutput loads through the upstream
    output's I/O manager); its mem_io_manager keeps values in memory."""

    __slots__ = ("failures", "handoff", "in_memory", "results", "skipped")

    def __init__(self, *, in_memory: bool, handoff: frozenset[Any] | None = None) -> None:
        self.in_memory = in_memory
        self.handoff = handoff
        """Steps whose outputs go to their consumers in memory (None: every step's)."""
        self.results: dict[str, Any] = {}
        self.failures: dict[str, StepFailure] = {}
        self.skipped: set[str] = set()

    def decide(self, node: NodeSpec) -> Decision:
        if self.failures or self.skipped:
            for up in node.upstream:
                if up in self.failures or up in self.skipped:
                    self.skipped.add(node.key)
                    return Resolved(None, _SKIPPED, f"upstream step {up!r} did not succeed")
        if node.routed_inputs:
            return self._routed(node)
        if not self.in_memory:
            return _NO_VALUES
        results = self.results
        handoff = self.handoff
        values: dict[str, Any] = {}
        for inp in node.inputs:
            source = inp.upstream
            if source in results and (handoff is None or source in handoff):
                values[inp.name] = results[source]
        return values

    def _routed(self, node: NodeSpec) -> Decision:
        """:meth:`decide` for a node taking one output of a step with several, or an input
        through an input manager: a step is skipped when an output it takes was not produced
        (an optional output, as Dagster skips what depends on an output not yielded); an input
        manager's input is never handed over."""
        results = self.results
        handoff = self.handoff
        values: dict[str, Any] = {}
        for inp in node.inputs:
            source = inp.upstream
            if source is None or source not in results:
                continue
            value = results[source]
            output = inp.upstream_output
            if output is not None:
                if not isinstance(value, dict) or output not in value:
                    self.skipped.add(node.key)
                    return Resolved(
                        None,
                        _SKIPPED,
                        f"upstream step {source!r} did not produce its output {output!r}",
                    )
                value = value[output]
            if inp.input_manager_key is not None or not self.in_memory:
                continue
            if handoff is None or (source if output is None else (source, output)) in handoff:
                values[inp.name] = value
        return values

    def settle(
        self, node: NodeSpec, outcomes: Sequence[Outcome], mapped: bool
    ) -> tuple[Any, EventType, str]:
        outcome = outcomes[0]
        error = outcome.error
        if error is None:
            return outcome.value, _SUCCESS, ""
        self.failures[node.key] = StepFailure(node.key, error, outcome.message, outcome.original)
        return None, _FAILURE, outcome.message

    def first_error(self) -> BaseException | None:
        for failure in self.failures.values():
            return failure.original_error or failure.error
        return None

    def failed(self) -> bool:
        return bool(self.failures)

    def cancel(self, graph: NodeGraph) -> list[tuple[str, dict[str, Any]]]:
        """A job owes nothing at cancel: its resources close with the run scope."""
        return []

    def cleaned_up(self, key: str, outcome: Outcome) -> None:  # pragma: no cover - never called
        """Jobs hand out no cancel calls."""

    def outputs(self) -> dict[str, Any]:
        """The outputs of the steps that succeeded."""
        failed = self.failures
        skipped = self.skipped
        return {k: v for k, v in self.results.items() if k not in failed and k not in skipped}


_UPSTREAM_SKIPPED = (
    "Upstream task was skipped; if this was not the intended behavior, consider changing "
    "`skip_on_upstream_skip=False` for this task."
)


def flow_state(outcome: Outcome) -> State:
    """The State a task call ended in: its value, a signal's state, or a failure (a timeout
    is ``TimedOut``)."""
    error = outcome.error
    if error is None:
        return Success("Task run succeeded.", result=outcome.value)
    if isinstance(error, PAUSE | SUCCESS | TRIGGERFAIL):  # SKIP is a SUCCESS
        state: State = error.state
        return state
    if isinstance(error, FAIL):
        return Failed(str(error) or outcome.message, result=error)
    if isinstance(error, TaskTimeoutError):  # Prefect 1: task_runner.get_task_run_state
        return TimedOut(f"Task timed out during execution: {error.summary}", result=error)
    return Failed(f"Error during execution of task: {outcome.message}", result=error)


def _children(state: State) -> list[State]:
    """A mapped task's children (those known), else the state itself."""
    if isinstance(state, Mapped):
        return [c for c in state.map_states if c is not None]
    return [state]


def _event(state: State) -> EventType:
    if state.is_skipped():
        return _SKIPPED
    if state.is_failed():
        return _FAILURE
    if isinstance(state, Mapped) and any(c.is_failed() for c in _children(state)):
        return _FAILURE  # the parent is Mapped (a success) as in Prefect 1; the step failed
    return _SUCCESS


_NOT_FINISHED = "Upstream tasks are not finished (one is paused or pending)."


def _sequence(value: Any) -> Sequence[Any] | None:
    """What a mapped upstream result is iterated as: a sequence as it is, another iterable as
    a list; None when it cannot be mapped over."""
    if isinstance(value, Sequence):
        return value
    if not hasattr(value, "__iter__"):
        return None
    return list(value)


class FlowPolicy:
    """Flow tasks, with Prefect 1's semantics (``src/prefect/engine/task_runner.py``,
    ``flow_runner.py``): a task runs once its upstream tasks finished; a skipped upstream skips
    it unless ``skip_on_upstream_skip=False``; its trigger decides from its upstream states
    whether it runs; a task mapped over a list runs once per element, each child checking
    skips and its trigger over its own upstream elements; signals set a task's state; the
    flow's state comes from its reference tasks, mapped children counted. States given for a
    restart are reused when finished (a ``Mapped`` one re-runs its missing children), a
    ``Paused`` one stays paused and ``Resume`` runs the task with ``manual_only`` passing.
    State handlers are called here, in the coordinating process, on every change."""

    __slots__ = (
        "_children",
        "_final",
        "_started",
        "cleaned",
        "parameters",
        "plan",
        "resource",
        "results",
        "reused",
    )
    # `cleaned`: cleanups handed out (by decide or at cancel): each runs at most once

    def __init__(
        self, plan: FlowPlan, parameters: Mapping[str, Any], reused: Mapping[str, State]
    ) -> None:
        self.plan = plan
        self.parameters = parameters
        self.reused = reused
        self.results: dict[str, State] = {}
        self.cleaned: set[str] = set()
        self._final: State | None = None
        self._children: dict[str, tuple[list[State | None], list[int]]] = {}
        """Per mapped task running: its children's states (None: running) and the slots of
        the children handed out as calls, in order."""
        self._started = False
        self.resource: Callable[[str], Any] | None = None
        """How state handlers get the resources they ask for (the run scope's ``get``)."""

    def decide(self, node: NodeSpec) -> Decision:
        key = node.key
        if not self._started:
            self._started = True
            self._flow_started()
        prior = self.reused.get(key)
        resume = False
        if prior is not None:
            if prior.is_finished() and not (node.mapped and isinstance(prior, Mapped)):
                return Resolved(prior)
            if isinstance(prior, Paused):
                if not prior.is_due():  # Prefect 1: a Scheduled state without start time waits
                    return Resolved(prior)
                resume = True
            resume = resume or isinstance(prior, Resume)
        if node.kind == "parameter":
            param = self.plan.parameters[node.name]
            value = self.parameters.get(param.name, param.default)
            return Resolved(Success("Parameter value.", result=value), _SUCCESS, "Parameter value.")
        results = self.results
        upstream_states = {edge: results[up] for edge, up in self.plan.edges[key]}
        handled = key in self.plan.handlers
        if node.mapped:
            return self._decide_mapped(node, upstream_states, prior, resume, handled)
        early = self._check(node, upstream_states, resume, True)
        if early is not None:
            return self._resolved(key, early, handled)
        kwargs: dict[str, Any] = {}
        for edge, up in self.plan.edges[key]:
            if edge.key is not None:
                kwargs[edge.key] = results[up].result
        for name, (value, _) in self.plan.constants.get(key, {}).items():
            kwargs[name] = value
        if node.closes:
            self.cleaned.add(key)
        if handled:
            self._handle(key, Pending(), Running("Starting task run."))
        return kwargs

    def _check(
        self, node: NodeSpec, upstream_states: Mapping[Any, State], resume: bool, trigger: bool
    ) -> State | None:
        """The state a task (or one mapped child) ends in without running: upstream not
        finished, skipped upstream, or its trigger; None when it runs. A mapped edge's
        upstream counts as itself, another edge's mapped upstream as its children."""
        states: list[State] = []
        for edge, state in upstream_states.items():
            if isinstance(state, Mapped) and not edge.mapped:
                states.extend(_children(state))
            else:
                states.append(state)
        if not all(s.is_finished() for s in states):
            return Pending(_NOT_FINISHED)
        if node.skip_on_upstream_skip and any(s.is_skipped() for s in states):
            return Skipped(_UPSTREAM_SKIPPED)
        if not trigger or node.trigger is None:
            return None
        token = RESUME.set(True) if resume else None
        try:
            if not node.trigger(upstream_states):
                raise TRIGGERFAIL("Trigger was False")
        except Signal as sig:
            return sig.state
        except Exception as exc:
            return TriggerFailed(f"Unexpected error while checking the trigger: {exc!r}", exc)
        finally:
            if token is not None:
                RESUME.reset(token)
        return None

    def _decide_mapped(
        self,
        node: NodeSpec,
        upstream_states: dict[Any, State],
        prior: State | None,
        resume: bool,
        handled: bool,
    ) -> Decision:
        """Prefect 1's mapped parent (``check_task_ready_to_map``), then one decision per
        child over its own upstream elements (``prepare_upstream_states_for_mapping``)."""
        key = node.key
        early = self._check(node, upstream_states, resume, False)
        if early is not None:
            return self._resolved(key, early, handled)
        constants = self.plan.constants.get(key, {})
        lengths: list[int] = []
        sequences: dict[Any, Sequence[Any] | None] = {}
        for edge, state in upstream_states.items():
            if not edge.mapped:
                continue
            if isinstance(state, Mapped):
                lengths.append(state.n_map_states)
            elif state.is_successful():
                seq = _sequence(state.result)
                if seq is None:
                    failed = Failed("At least one upstream state has an unmappable result.")
                    return self._resolved(key, failed, handled)
                sequences[edge] = seq
                lengths.append(len(seq))
        mapped_constants = {n: list(v) for n, (v, m) in constants.items() if m}
        lengths += [len(v) for v in mapped_constants.values()]
        if isinstance(prior, Mapped):  # a restart: as many children as it had
            count = prior.n_map_states
            given: list[State | None] = list(prior.map_states)
        else:
            if (
                upstream_states
                and not mapped_constants
                and not any(e.mapped and s.is_successful() for e, s in upstream_states.items())
            ):
                failed = Failed("No upstream states can be mapped over.")
                return self._resolved(key, failed, handled)
            count = min(lengths, default=0)
            given = []
        given += [None] * (count - len(given))
        plain = {n: v for n, (v, m) in constants.items() if not m}
        children: list[State | None] = [None] * count
        calls: list[dict[str, Any]] = []
        slots: list[int] = []
        for i in range(count):
            child_prior = given[i]
            child_resume = resume
            if child_prior is not None:
                if child_prior.is_finished():
                    children[i] = child_prior
                    continue
                if isinstance(child_prior, Paused):
                    if not child_prior.is_due():
                        children[i] = child_prior
                        continue
                    child_resume = True
                child_resume = child_resume or isinstance(child_prior, Resume)
            states: dict[Any, State] = {}
            for edge, state in upstream_states.items():
                if not edge.mapped:
                    states[edge] = state
                elif isinstance(state, Mapped):
                    child = state.map_states[i] if i < len(state.map_states) else None
                    states[edge] = child if child is not None else Pending(_NOT_FINISHED)
                else:
                    seq = sequences.get(edge)
                    element = copy.copy(state)
                    element.result = seq[i] if seq is not None and i < len(seq) else None
                    states[edge] = element
            early = self._check(node, states, child_resume, True)
            if early is not None:
                children[i] = early
                if handled:
                    children[i] = self._handle(key, Pending(), early)
                continue
            call = {**plain, **{n: v[i] for n, v in mapped_constants.items()}}
            for edge, state in states.items():
                if edge.key is not None:
                    call[edge.key] = state.result
            call[MAP_INDEX] = i  # each child's index, for its run context
            if handled:
                self._handle(key, Pending(), Running("Starting task run."))
            calls.append(call)
            slots.append(i)
        if not calls:
            return self._resolved(key, _mapped(children), handled)
        self._children[key] = (children, slots)
        return calls

    def _resolved(self, key: str, state: State, handled: bool = False) -> Resolved:
        if handled:
            state = self._handle(key, Pending(), state)
        if isinstance(state, Pending):  # waits (paused upstream): no event, as it never ran
            return Resolved(state)
        return Resolved(state, _event(state), state.message or "")

    def settle(
        self, node: NodeSpec, outcomes: Sequence[Outcome], mapped: bool
    ) -> tuple[Any, EventType, str]:
        key = node.key
        handled = key in self.plan.handlers
        if mapped:
            children, slots = self._children.pop(key, ([None] * len(outcomes), []))
            for slot, outcome in zip(slots or range(len(outcomes)), outcomes, strict=False):
                child = flow_state(outcome)
                children[slot] = self._ran(key, outcome, child) if handled else child
            state = _mapped(children)
            if handled:
                state = self._handle(key, Pending(), state)
        else:
            state = flow_state(outcomes[0])
            if handled:
                state = self._ran(key, outcomes[0], state)
        return state, _event(state), state.message or ""

    # -- state handlers ------------------------------------------------------------------------

    def _ran(self, key: str, outcome: Outcome, state: State) -> State:
        """Handlers of a call that ran: each retry (Running -> Retrying -> Running), then its
        end (Running -> ``state``)."""
        running: State = Running("Starting task run.")
        attempt = 0
        for event in outcome.events:
            if event[1] is _RETRY:
                attempt += 1
                retrying = self._handle(key, running, Retrying(event[4], run_count=attempt))
                running = Running("Starting task run.")
                self._handle(key, retrying, running)
        return self._handle(key, running, state)

    def _handle(self, key: str, old: State, new: State) -> State:
        """Call the task's state handlers on ``old -> new``; the state to keep."""
        return self._call(self.plan.tasks[key], self.plan.handlers[key], old, new)

    def _call(self, obj: Any, handlers: Sequence[Handler], old: State, new: State) -> State:
        """Prefect 1's ``Runner.handle_state_change``: each handler may return a replacement;
        a signal raised sets the state; another error fails it."""
        try:
            for handler in handlers:
                extra = {}
                if handler.resources:
                    get = self.resource
                    assert get is not None, "the driver gives flow runs their resources"
                    extra = {name: get(name) for name in handler.resources}
                replaced = handler.fn(obj, old, new, **extra)
                if replaced is not None:
                    new = replaced
        except Signal as sig:
            return sig.state
        except Exception as exc:
            return Failed(f"Unexpected error while calling state handlers: {exc!r}", result=exc)
        return new

    def _flow_started(self) -> None:
        flow = self.plan.flow
        handlers = getattr(flow, "state_handlers", None)
        if handlers:
            self._call(flow, handlers_of(handlers, "the flow"), Pending(), Running("Running flow."))

    def first_error(self) -> BaseException | None:
        for state in self.results.values():
            for child in _children(state):
                if child.is_failed() and isinstance(child.result, BaseException):
                    return child.result
        return None

    def failed(self) -> bool:
        self._final = self.final_state()  # asked once the run is over: kept for the result
        return not self._final.is_successful()

    # -- cancel --------------------------------------------------------------------------------

    def cancel(self, graph: NodeGraph) -> list[tuple[str, dict[str, Any]]]:
        """Ctrl-C / SIGTERM: unfinished tasks become Cancelled; returns the cleanup calls to
        make now, one per resource block whose init and setup succeeded and whose cleanup has
        not run (``(cleanup key, its inputs)``). Each cleanup is handed out at most once."""
        results = self.results
        for key in graph.by_key:
            state = results.get(key)
            if state is None or not state.is_finished():
                results[key] = Cancelled("Run cancelled (Ctrl-C / SIGTERM).")
        calls = []
        for block in reversed(self.plan.blocks):
            init = results[block.init]
            setup = results[block.setup] if block.setup is not None else init
            cleanup = results[block.cleanup]
            if (
                block.cleanup not in self.cleaned
                and init.is_successful()
                and setup.is_successful()
                and cleanup.is_cancelled()
            ):
                self.cleaned.add(block.cleanup)
                values = {"mgr": init.result}
                if block.setup is not None:
                    values["resource"] = setup.result
                calls.append((block.cleanup, values))
        return calls

    def cleaned_up(self, key: str, outcome: Outcome) -> None:
        """Record how a cleanup made at cancel went."""
        state = flow_state(outcome)
        self.results[key] = (
            Success("Cleaned up after cancel.")
            if not state.is_failed()
            else Failed(f"Cleanup after cancel: {outcome.message}", outcome.error)
        )

    # -- the flow's state ----------------------------------------------------------------------

    def final_state(self) -> State:
        """The flow's state from its terminal and reference tasks (Prefect 1's rules); its
        ``result`` maps every task to its state."""
        if self._final is not None:
            return self._final
        self._final = state = self._final_state()
        flow = self.plan.flow
        handlers = getattr(flow, "state_handlers", None)
        if handlers:
            old = Running("Running flow.")
            self._final = state = self._call(flow, handlers_of(handlers, "the flow"), old, state)
        return state

    def _final_state(self) -> State:
        # flow_runner.py: a mapped task's children count, not its Mapped parent
        tasks = self.plan.tasks
        states = self.results
        result = {tasks[k]: s for k, s in states.items()}
        terminal = [c for k in self.plan.terminal if k in states for c in _children(states[k])]
        if any(k not in states for k in self.plan.terminal) or not all(
            s.is_finished() for s in terminal
        ):
            return Running("Not all terminal tasks are finished.", result=result)
        reference = [c for k in self.plan.reference for c in _children(states[k])]
        if any(s.is_failed() for s in reference):
            return Failed("Some reference tasks failed.", result=result)
        if all(s.is_successful() for s in reference):
            return Success("All reference tasks succeeded.", result=result)
        return Success("No reference tasks failed.", result=result)


def _mapped(children: list[State | None]) -> State:
    failed = sum(1 for c in children if c is not None and c.is_failed())
    message = f"Mapped {len(children)} run(s)." + (f" {failed} failed." if failed else "")
    return Mapped(
        message,
        result=[None if c is None else c.result for c in children],
        map_states=children,
    )
