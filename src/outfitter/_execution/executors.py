"""Executor definitions: how a run's steps are dispatched.

The in-process executor (the default) runs every step in this process against one run scope;
async steps whose inputs are ready overlap on the run's event loop.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

__all__ = ["ExecutorDefinition", "check_executor", "in_process_executor"]


class ExecutorDefinition:
    """A named executor with its config, chosen by ``Definitions(executor=...)``,
    ``@job(executor_def=...)`` or the run config's ``execution`` section.

    Example:
        >>> from outfitter import in_process_executor
        >>> in_process_executor.name
        'in_process'
    """

    __slots__ = ("config", "name")

    def __init__(self, name: str, config: Mapping[str, Any] | None = None) -> None:
        self.name = name
        self.config = dict(config or {})

    def configured(self, config: Mapping[str, Any]) -> ExecutorDefinition:
        """A copy with ``config`` merged in."""
        return ExecutorDefinition(self.name, {**self.config, **config})

    def __repr__(self) -> str:
        return f"<executor {self.name}>"


in_process_executor = ExecutorDefinition("in_process")
"""Run every step in this process (the default)."""


def check_executor(executor: Any, owner: str) -> None:
    """Refuse executors this version cannot run (rather than silently running in process)."""
    from ..exceptions import InvocationError

    if executor is None:
        return
    name = getattr(executor, "name", None)
    if name != "in_process":
        raise InvocationError(
            f"{owner}: executor {executor!r} is not available; runs execute in process",
            hint="use in_process_executor (the default), or leave the executor unset.",
        )
