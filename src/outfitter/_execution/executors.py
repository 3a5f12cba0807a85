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
        """A copy with ``config`` merged in, checked: unknown options and values of the wrong
        type or range are one ConfigError listing them all."""
        from ..exceptions import ConfigError

        if not isinstance(config, Mapping):
            raise ConfigError(
                f"the {self.name} executor's config must be a mapping, got {type(config).__name__}",
                hint=f"e.g. {{'execution': {{'{self.name}': {{'config': {{...}}}}}}}}.",
            )
        problems = []
        for option, value in config.items():
            check = _OPTIONS.get(self.name, {}).get(option)
            if check is None:
                known = ", ".join(sorted(_OPTIONS.get(self.name, {}))) or "none"
                problems.append(f"unknown option {option!r} (options: {known})")
                continue
            problem = check(value)
            if problem:
                problems.append(f"{option}: {problem}, got {value!r}")
        if problems:
            raise ConfigError(
                f"invalid config for the {self.name} executor",
                problems=problems,
                hint="fix the options listed; see docs/executors.md.",
            )
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


def _positive_int(value: Any) -> str | None:
    if value is None or (isinstance(value, int) and not isinstance(value, bool) and value >= 1):
        return None
    return "must be a whole number of at least 1 (or None)"


def _address(value: Any) -> str | None:
    return None if value is None or isinstance(value, str) else "must be a scheduler address"


_OPTIONS: dict[str, dict[str, Any]] = {
    "in_process": {},
    "multiprocess": {"max_concurrent": _positive_int},
    "dask": {
        "address": _address,
        "n_workers": _positive_int,
        "threads_per_worker": _positive_int,
    },
}

_KNOWN = {
    "in_process": in_process_executor,
    "multiprocess": multiprocess_executor,
    "dask": dask_executor,
}


def select_executor(default: Any, run_config: Any, owner: str = "this run") -> ExecutorDefinition:
    """The executor for a run: the run config's ``execution`` section, else ``default`` (an
    executor definition, or None for in process; anything else is refused)."""
    from .._config.run_config import RunConfig, check_run_config
    from ..exceptions import ConfigError

    check_executor(default, owner)
    check_run_config(run_config)
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
    if config is not None and not isinstance(config, Mapping):
        raise ConfigError(
            f"run config for executor {name!r} must be a mapping, got {type(config).__name__}",
            hint=f"e.g. {{'execution': {{'{name}': {{'config': {{...}}}}}}}}.",
        )
    config = config or {}
    return _KNOWN[name].configured(config.get("config", config) or {})


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
