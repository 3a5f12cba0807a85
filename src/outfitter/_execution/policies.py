"""The two policies over a run's state: :class:`JobPolicy` (assets and ops, Dagster semantics)
and :class:`FlowPolicy` (flow tasks, Prefect 1 semantics). A policy does no I/O: it decides what
a ready node does, what its calls' outcomes mean, and what the run returns; the driver does the
rest the same way for both."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from .._definitions.graph import NodeGraph
from .._definitions.node import NodeSpec
from .._flows.compile import FlowPlan
from .._flows.signals import FAIL, PAUSE, SUCCESS, TRIGGERFAIL, Signal
from .._flows.state import (
    Cancelled,
    Failed,
    Mapped,
    Running,
    Skipped,
    State,
    Success,
    TriggerFailed,
)
from .._instance import EventType
from .result import StepFailure
from .state import Decision, Resolved
from .step import Outcome

__all__ = ["FlowPolicy", "JobPolicy", "flow_state"]

_SUCCESS = EventType.STEP_SUCCESS
_FAILURE = EventType.STEP_FAILURE
_SKIPPED = EventType.STEP_SKIPPED
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

    def __init__(self, *, in_memory: bool, handoff: frozenset[str] | None = None) -> None:
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
    """The State a task call ended in: its value, a signal's state, or a failure."""
    error = outcome.error
    if error is None:
        return Success("Task run succeeded.", result=outcome.value)
    if isinstance(error, PAUSE | SUCCESS | TRIGGERFAIL):  # SKIP is a SUCCESS
        state: State = error.state
        return state
    if isinstance(error, FAIL):
        return Failed(str(error) or outcome.message, result=error)
    return Failed(f"Error during execution of task: {outcome.message}", result=error)


def _event(state: State) -> EventType:
    if state.is_skipped():
        return _SKIPPED
    if state.is_failed():
        return _FAILURE
    return _SUCCESS


class FlowPolicy:
    """Flow tasks: each task's trigger decides from its upstream states whether it runs (a
    skipped upstream skips it unless ``skip_on_upstream_skip=False``); a task mapped over a
    list runs once per element; signals set a task's state; the flow's state comes from its
    reference tasks. States given for a restart are reused as they are."""

    __slots__ = ("_final", "cleaned", "parameters", "plan", "results", "reused")
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

    def decide(self, node: NodeSpec) -> Decision:
        key = node.key
        prior = self.reused.get(key)
        if prior is not None and prior.is_finished():
            return Resolved(prior)
        if node.kind == "parameter":
            param = self.plan.parameters[node.name]
            value = self.parameters.get(param.name, param.default)
            return Resolved(Success("Parameter value.", result=value), _SUCCESS, "Parameter value.")
        results = self.results
        upstream_states = {edge: results[up] for edge, up in self.plan.edges[key]}
        if node.skip_on_upstream_skip and any(s.is_skipped() for s in upstream_states.values()):
            return Resolved(Skipped(_UPSTREAM_SKIPPED), _SKIPPED, _UPSTREAM_SKIPPED)
        try:
            if node.trigger is not None and not node.trigger(upstream_states):
                raise TRIGGERFAIL("Trigger was False")
        except Signal as sig:
            return self._resolved(sig.state)
        except Exception as exc:
            return self._resolved(
                TriggerFailed(f"Unexpected error while checking the trigger: {exc}", exc)
            )
        kwargs: dict[str, Any] = {}
        mapped: dict[str, list[Any]] = {}
        for edge, up in self.plan.edges[key]:
            if edge.key is None:
                continue
            value = results[up].result
            if edge.mapped:
                mapped[edge.key] = list(value)
            else:
                kwargs[edge.key] = value
        for name, (value, is_mapped) in self.plan.constants.get(key, {}).items():
            if is_mapped:
                mapped[name] = list(value)
            else:
                kwargs[name] = value
        if not mapped:
            if node.closes:
                self.cleaned.add(key)
            return kwargs
        size = min(len(v) for v in mapped.values())
        calls = [{**kwargs, **{k: v[i] for k, v in mapped.items()}} for i in range(size)]
        if not calls:
            return self._resolved(_mapped([]))
        return calls

    @staticmethod
    def _resolved(state: State) -> Resolved:
        return Resolved(state, _event(state), state.message or "")

    def settle(
        self, node: NodeSpec, outcomes: Sequence[Outcome], mapped: bool
    ) -> tuple[Any, EventType, str]:
        state = _mapped([flow_state(o) for o in outcomes]) if mapped else flow_state(outcomes[0])
        return state, _event(state), state.message or ""

    def first_error(self) -> BaseException | None:
        for state in self.results.values():
            if state.is_failed() and isinstance(state.result, BaseException):
                return state.result
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
        tasks = self.plan.tasks
        states = self.results
        result = {tasks[k]: s for k, s in states.items()}
        if not all(k in states and states[k].is_finished() for k in self.plan.terminal):
            return Running("Not all terminal tasks are finished.", result=result)
        reference = [states[k] for k in self.plan.reference]
        if any(s.is_failed() for s in reference):
            return Failed("Some reference tasks failed.", result=result)
        if all(s.is_successful() for s in reference):
            return Success("All reference tasks succeeded.", result=result)
        return Success("No reference tasks failed.", result=result)


def _mapped(children: list[State]) -> State:
    return Mapped(
        f"Mapped {len(children)} run(s).",
        result=[c.result for c in children],
        map_states=children,
    )
