"""Executor definitions: how a run's steps are dispatched.

The in-process executor (the default) runs every step in this process against one run scope;
async steps whose inputs are ready overlap on the run's event loop.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

__all__ = [
    "ExecutorDefinition",
    "check_executor",
    "dask_executor",
    "in_process_executor",
    "multiprocess_executor",
    "select_executor",
]


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

    def __call__(self, **config: Any) -> ExecutorDefinition:
        """A configured copy: ``multiprocess_executor(max_concurrent=4)``."""
        return self.configured(config)

    def __repr__(self) -> str:
        return f"<executor {self.name}>"


in_process_executor = ExecutorDefinition("in_process")
"""Run every step in this process (the default)."""

multiprocess_executor = ExecutorDefinition("multiprocess", {"max_concurrent": None})
"""Run steps on a pool of worker processes that live for the run; each worker opens the
resources its steps need once per run and closes them when the run ends.
``multiprocess_executor(max_concurrent=4)`` caps the pool (default: the CPU count). Workers are
forked (POSIX); values cross between steps through the I/O manager.

Example:
    >>> from outfitter import multiprocess_executor
    >>> multiprocess_executor(max_concurrent=4).config
    {'max_concurrent': 4}
"""

dask_executor = ExecutorDefinition(
    "dask", {"address": None, "n_workers": None, "threads_per_worker": 1}
)
"""Run steps as tasks on a ``dask.distributed`` cluster: the scheduler at ``address``, or a
``LocalCluster`` of ``n_workers`` worker processes made for the run and shut down after it.
Each Dask worker opens the resources its steps need once per run and closes them when the run
ends; EnvVars resolve on the workers. Needs the ``dask`` extra.

Example:
    >>> from outfitter import dask_executor
    >>> dask_executor(n_workers=2).config["n_workers"]
    2
"""

_KNOWN = {
    "in_process": in_process_executor,
    "multiprocess": multiprocess_executor,
    "dask": dask_executor,
}


def select_executor(default: Any, run_config: Any, owner: str = "this run") -> ExecutorDefinition:
    """The executor for a run: the run config's ``execution`` section, else ``default`` (an
    executor definition, or None for in process; anything else is refused)."""
    from .._config.run_config import RunConfig
    from ..exceptions import ConfigError

    check_executor(default, owner)
    execution: Any = None
    if isinstance(run_config, RunConfig):
        execution = run_config.execution or None
    elif isinstance(run_config, Mapping):
        execution = run_config.get("execution")
    if not execution:
        return default if isinstance(default, ExecutorDefinition) else in_process_executor
    name, config = next(iter(dict(execution).items()))
    if name not in _KNOWN:
        raise ConfigError(
            f"run config selects executor {name!r}, which is not available",
            hint=f"use one of {', '.join(sorted(_KNOWN))}, e.g. "
            "{'execution': {'multiprocess': {'max_concurrent': 4}}}.",
        )
    return _KNOWN[name].configured(dict((config or {}).get("config", config) or {}))


def check_executor(executor: Any, owner: str) -> None:
    """Refuse anything that is not an executor definition, and unknown executor names, with a
    message naming ``owner`` (a job or flow)."""
    from ..exceptions import InvocationError

    if executor is None:
        return
    if not isinstance(executor, ExecutorDefinition) or executor.name not in _KNOWN:
        raise InvocationError(
            f"{owner}: {executor!r} is not an executor",
            hint="use in_process_executor (the default), multiprocess_executor(...) or "
            "dask_executor(...).",
        )
