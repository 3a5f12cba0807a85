"""Triggers decide from the upstream states whether a task runs (Prefect 1 semantics).

A trigger takes ``{edge: state}`` and returns True to run, or raises ``TRIGGERFAIL`` (the task
becomes TriggerFailed) or ``SKIP``.

The public module is :mod:`outfitter.triggers`, which re-exports these.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from contextvars import ContextVar
from typing import Any

from . import signals
from .state import State

__all__ = [
    "all_failed",
    "all_finished",
    "all_successful",
    "always_run",
    "any_failed",
    "any_successful",
    "manual_only",
    "not_all_skipped",
    "resource_cleanup_trigger",
    "some_failed",
    "some_successful",
]

Trigger = Callable[[Mapping[Any, State]], bool]

RESUME: ContextVar[bool] = ContextVar("outfitter_trigger_resume", default=False)
"""True while the trigger of a task given ``Resume()`` (or a due ``Paused``) is checked:
``manual_only`` then lets it run (Prefect 1 reads ``prefect.context.resume``)."""


def _flatten(states: Mapping[Any, State]) -> list[State]:
    out: list[State] = []
    for state in states.values():
        children = getattr(state, "map_states", None)
        if state.is_mapped() and children:
            out.extend(children)
        else:
            out.append(state)
    return out


def all_finished(upstream_states: Mapping[Any, State]) -> bool:
    """Run once every upstream task finished, whatever the outcome."""
    if not all(s.is_finished() for s in _flatten(upstream_states)):
        raise signals.TRIGGERFAIL(
            'Trigger was "all_finished" but some of the upstream tasks were not finished.'
        )
    return True


always_run = all_finished
"""Alias of :func:`all_finished`."""


def manual_only(upstream_states: Mapping[Any, State]) -> bool:
    """Never run automatically: the task pauses for an approval; it runs when the flow is run
    again with ``task_states={task: Resume()}``."""
    if RESUME.get():
        return True
    raise signals.PAUSE('Trigger function is "manual_only"')


def all_successful(upstream_states: Mapping[Any, State]) -> bool:
    """Run iff every upstream task succeeded (the default)."""
    if not all(s.is_successful() for s in _flatten(upstream_states)):
        raise signals.TRIGGERFAIL(
            'Trigger was "all_successful" but some of the upstream tasks failed.'
        )
    return True


def all_failed(upstream_states: Mapping[Any, State]) -> bool:
    """Run iff every upstream task failed."""
    if not all(s.is_failed() for s in _flatten(upstream_states)):
        raise signals.TRIGGERFAIL(
            'Trigger was "all_failed" but some of the upstream tasks succeeded.'
        )
    return True


def any_successful(upstream_states: Mapping[Any, State]) -> bool:
    """Run iff at least one upstream task succeeded (or there are none)."""
    states = _flatten(upstream_states)
    if states and not any(s.is_successful() for s in states):
        raise signals.TRIGGERFAIL(
            'Trigger was "any_successful" but none of the upstream tasks succeeded.'
        )
    return True


def any_failed(upstream_states: Mapping[Any, State]) -> bool:
    """Run iff at least one upstream task failed (or there are none)."""
    states = _flatten(upstream_states)
    if states and not any(s.is_failed() for s in states):
        raise signals.TRIGGERFAIL('Trigger was "any_failed" but none of the upstream tasks failed.')
    return True


def not_all_skipped(upstream_states: Mapping[Any, State]) -> bool:
    """Run iff every upstream task succeeded and not all of them were skipped (the task is
    Skipped when all were). Pair it with ``skip_on_upstream_skip=False``, or a skipped
    upstream skips the task before its trigger is asked (Prefect 1's order)."""
    states = _flatten(upstream_states)
    if all(s.is_skipped() for s in states):
        raise signals.SKIP("All upstreams were skipped")
    if not all(s.is_successful() for s in states):
        raise signals.TRIGGERFAIL(
            'Trigger was "not_all_skipped" but some of the upstream tasks failed.'
        )
    return True


def some_failed(at_least: int | float | None = None, at_most: int | float | None = None) -> Trigger:
    """A trigger running iff the number (or, given a fraction < 1, the share) of failed upstream
    tasks is within ``[at_least, at_most]``."""
    return _some("some_failed", lambda s: s.is_failed(), at_least, at_most)


def some_successful(
    at_least: int | float | None = None, at_most: int | float | None = None
) -> Trigger:
    """A trigger running iff the number (or share) of successful upstream tasks is within
    ``[at_least, at_most]``."""
    return _some("some_successful", lambda s: s.is_successful(), at_least, at_most)


def _some(
    name: str,
    predicate: Callable[[State], bool],
    at_least: int | float | None,
    at_most: int | float | None,
) -> Trigger:
    def trigger(upstream_states: Mapping[Any, State]) -> bool:
        states = _flatten(upstream_states)
        count = sum(1 for s in states if predicate(s))
        total = len(states)

        def bound(value: int | float | None, default: float) -> float:
            if value is None:
                return default
            return value * total if isinstance(value, float) and value < 1 else value

        low, high = bound(at_least, 0), bound(at_most, total)
        if not low <= count <= high:
            raise signals.TRIGGERFAIL(
                f'Trigger was "{name}" but {count} of {total} upstream tasks matched '
                f"(wanted between {low} and {high})."
            )
        return True

    trigger.__name__ = name
    return trigger


def resource_cleanup_trigger(upstream_states: Mapping[Any, State]) -> bool:
    """The cleanup trigger of resource managers: run once every upstream task finished, if the
    manager's init and setup succeeded; otherwise the cleanup is Skipped."""
    for edge, state in upstream_states.items():
        if not state.is_finished():
            raise signals.TRIGGERFAIL(
                "Trigger was 'resource_cleanup_trigger' but some of the upstream tasks were "
                "not finished."
            )
        key = getattr(edge, "key", None)
        if key == "mgr":
            if state.is_skipped():
                raise signals.SKIP("Resource manager init skipped")
            if not state.is_successful():
                raise signals.SKIP("Resource manager init failed")
        elif key == "resource":
            if state.is_skipped():
                raise signals.SKIP("Resource manager setup skipped")
            if not state.is_successful():
                raise signals.SKIP("Resource manager setup failed")
    return True
