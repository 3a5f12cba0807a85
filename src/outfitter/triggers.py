"""Triggers decide from the upstream states whether a task runs (Prefect 1 semantics).

A trigger takes ``{edge: state}`` and returns True to run, or raises ``TRIGGERFAIL`` (the task
becomes TriggerFailed) or ``SKIP``.

Example:
    >>> from outfitter import triggers
    >>> from outfitter._flows.state import Failed, Success
    >>> triggers.any_failed({"a": Success(), "b": Failed()})
    True
"""

from ._flows.triggers import (
    all_failed,
    all_finished,
    all_successful,
    always_run,
    any_failed,
    any_successful,
    manual_only,
    not_all_skipped,
    resource_cleanup_trigger,
    some_failed,
    some_successful,
)

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
