"""What ``materialize`` and ``job.execute_in_process`` return."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from .._resources.asset_key import coerce_asset_key
from ..exceptions import InvocationError, OutfitterError

if TYPE_CHECKING:
    from .._definitions.node import NodeSpec
    from .._instance import EventRecord, RunRecord

__all__ = ["ExecuteResult", "StepFailure"]


@dataclass(frozen=True, slots=True)
class StepFailure:
    """A step that raised: its key, the exception and the message recorded.

    ``error`` (what ``raise_first_error`` raises) and ``message`` say what the step's exception
    said with the run's secrets masked: ``error`` is a copy of the same type (so ``except``
    clauses match), with the same traceback, or the exception itself when it quotes no secret.
    ``original_error`` is the exception exactly as the step raised it, secrets included, for a
    debugger or a test that asks for it; it is None when the step ran in another process.
    """

    step_key: str
    error: BaseException
    message: str
    original_error: BaseException | None = None


class ExecuteResult:
    """The outcome of one in-process run.

    Attributes:
        success: True when every step succeeded and every resource closed cleanly.
        run_id: the run's id in the instance.
        run: the run's record (status, times, tags, redacted run config).
        all_events: every event of the run, in order.

    Example:
        >>> from outfitter import asset, materialize
        >>> @asset
        ... def answer() -> int:
        ...     return 42
        >>> result = materialize([answer])
        >>> result.success, result.asset_value("answer")
        (True, 42)
    """

    __slots__ = (
        "_chunks",
        "_events",
        "_instance",
        "_nodes",
        "_outputs",
        "failures",
        "run",
        "run_error",
        "run_id",
        "success",
        "teardown_error",
    )

    def __init__(
        self,
        *,
        run_id: str,
        success: bool,
        outputs: Mapping[str, Any],
        nodes: Mapping[str, NodeSpec],
        failures: Mapping[str, StepFailure],
        run_error: BaseException | None,
        teardown_error: OutfitterError | None,
        run: RunRecord | None,
        events: Sequence[EventRecord] | None,
        instance: Any = None,
        event_chunks: Sequence[tuple[int, str]] | None = None,
    ) -> None:
        self.run_id = run_id
        self.success = success
        self._outputs = dict(outputs)
        self._nodes = dict(nodes)
        self.failures = dict(failures)
        self.run_error = run_error
        self.teardown_error = teardown_error
        self.run = run
        self._events = None if events is None else list(events)
        self._instance = instance
        self._chunks = event_chunks
        """The run's events as stored (``Instance.event_chunks``), kept undecoded when the
        run's own instance closed with it: decoding costs about as much as a step."""

    @property
    def all_events(self) -> list[EventRecord]:
        """Every event of the run, in order (read from the instance on first access)."""
        if self._events is None:
            if self._chunks is not None:
                from .._instance.instance import decode_events

                self._events = decode_events(self.run_id, self._chunks)
                self._chunks = None
            else:
                self._events = self._instance.all_events(self.run_id)
        return self._events

    def output_for_node(self, name: str, output_name: str = "result") -> Any:
        """The value step ``name`` returned in this run (for a step with declared outputs,
        its output ``output_name``)."""
        try:
            value = self._outputs[name]
        except KeyError:
            raise self._missing(name) from None
        node = self._nodes.get(name)
        if node is None or node.outputs is None:
            if output_name != "result":
                raise InvocationError(
                    f"step {name!r} has one output, 'result', not {output_name!r}",
                    hint=f"call output_for_node({name!r}) without output_name.",
                )
            return value
        if output_name not in value:
            declared = [o.name for o in node.outputs]
            raise InvocationError(
                f"step {name!r} has no output {output_name!r} in run {self.run_id}"
                + (" (it did not produce it)" if output_name in declared else ""),
                hint=f"its outputs are {declared}; pass output_name=... to pick one.",
            )
        return value[output_name]

    def asset_value(self, key: Any) -> Any:
        """The value materialized for asset ``key`` (a string, path or AssetKey)."""
        asset_key = coerce_asset_key(key)
        for node in self._nodes.values():
            if node.outputs is not None:
                for out in node.outputs:
                    if out.asset_key == asset_key:
                        return self.output_for_node(node.key, out.name)
            elif node.asset_key == asset_key:
                return self.output_for_node(node.key)
        raise InvocationError(
            f"asset {asset_key.to_user_string()!r} was not part of run {self.run_id}",
            hint=f"assets in this run: {self._assets() or 'none'}.",
        )

    def _assets(self) -> str:
        keys = [
            k.to_user_string()
            for n in self._nodes.values()
            for k in (
                [o.asset_key for o in n.outputs if o.asset_key] if n.outputs else [n.asset_key]
            )
            if k is not None
        ]
        return ", ".join(keys)

    def _missing(self, name: str) -> InvocationError:
        if name in self.failures:
            return InvocationError(
                f"step {name!r} failed in run {self.run_id}, so it has no output: "
                f"{self.failures[name].message}",
                hint="check result.success / result.failures before reading outputs.",
            )
        if name in self._nodes:
            return InvocationError(
                f"step {name!r} did not run in run {self.run_id} (an upstream step failed)",
                hint="check result.success / result.failures before reading outputs.",
            )
        return InvocationError(
            f"no step {name!r} in run {self.run_id}",
            hint=f"steps in this run: {', '.join(self._nodes) or 'none'}.",
        )

    def raise_first_error(self) -> None:
        """Re-raise what made the run fail (the first failed step's exception, a resource error,
        or the teardown error)."""
        if self.run_error is not None:
            raise self.run_error
        for failure in self.failures.values():
            raise failure.error
        if self.teardown_error is not None:
            raise self.teardown_error

    @property
    def dagster_run(self) -> RunRecord | None:
        """The run's record, under Dagster's name (``run``); what
        ``build_run_status_sensor_context(dagster_run=...)`` takes."""
        return self.run

    def get_run_success_event(self) -> EventRecord:
        """The RUN_SUCCESS event of this run (Dagster's ``get_run_success_event`` /
        ``get_job_success_event``); an InvocationError when the run did not succeed."""
        return self._run_event("RUN_SUCCESS", "get_run_failure_event")

    def get_run_failure_event(self) -> EventRecord:
        """The RUN_FAILURE event of this run (Dagster's ``get_run_failure_event`` /
        ``get_job_failure_event``); an InvocationError when the run did not fail."""
        return self._run_event("RUN_FAILURE", "get_run_success_event")

    get_job_success_event = get_run_success_event
    get_job_failure_event = get_run_failure_event

    def _run_event(self, kind: str, other: str) -> EventRecord:
        for event in self.all_events:
            if event.event_type.value == kind:
                return event
        state = "succeeded" if self.success else "failed"
        raise InvocationError(
            f"run {self.run_id} has no {kind} event (it {state})",
            hint=f"call result.{other}() for this run, or check result.success first.",
        )

    def __repr__(self) -> str:
        state = "success" if self.success else "failure"
        return f"ExecuteResult({self.run_id}, {state})"
