"""The run context of a flow task: what Prefect 1 code reads from ``prefect.context`` (the
flow's name and parameters, the run id, the task's name, map index and run count, a logger).

:data:`context` is the public accessor (``from outfitter import context``); the step runner of
every executor sets :class:`TaskRunContext` around each call of a flow task (jobs' steps use
``context`` arguments instead and pay nothing for this).
"""

from __future__ import annotations

import logging
import pickle
from collections.abc import Iterator, Mapping
from contextvars import ContextVar, Token
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from .._resources.context import current_logger

if TYPE_CHECKING:
    from .compile import FlowPlan

__all__ = [
    "MAP_INDEX",
    "FlowRunInfo",
    "RunContext",
    "TaskRunContext",
    "context",
    "enter_task",
    "flow_run_info",
    "leave_task",
]

MAP_INDEX = "\x00map_index"
"""The key of a mapped child's index in its call's input values (no input can be named so)."""

_TASK: ContextVar[TaskRunContext | None] = ContextVar("outfitter_task_run", default=None)

_KEYS = (
    "flow_name",
    "flow_run_id",
    "parameters",
    "task_name",
    "task_slug",
    "task_full_name",
    "task_tags",
    "map_index",
    "task_run_count",
    "logger",
    "date",
    "scheduled_start_time",
    "today",
    "today_nodash",
    "yesterday",
    "yesterday_nodash",
    "tomorrow",
    "tomorrow_nodash",
)
_DAYS = {"today": 0, "yesterday": -1, "tomorrow": 1}


class FlowRunInfo:
    """What every task of one flow run shares: the flow's name, the run id, the parameter
    values (defaults included) and when the run started (UTC). Sent once to each worker."""

    __slots__ = ("date", "flow_name", "flow_run_id", "parameters")

    def __init__(
        self,
        flow_name: str,
        flow_run_id: str,
        parameters: Mapping[str, Any],
        date: datetime | None = None,
    ) -> None:
        self.flow_name = flow_name
        self.flow_run_id = flow_run_id
        self.parameters = dict(parameters)
        self.date = date or datetime.now(UTC)

    def __reduce__(self) -> tuple[Any, ...]:
        # a parameter value that cannot cross to a worker is left out there, not fatal to the run
        kept = {}
        for name, value in self.parameters.items():
            try:
                pickle.dumps(value)
            except Exception:
                continue
            kept[name] = value
        return (FlowRunInfo, (self.flow_name, self.flow_run_id, kept, self.date))


def flow_run_info(plan: FlowPlan, run_id: str, values: Mapping[str, Any]) -> FlowRunInfo:
    """The :class:`FlowRunInfo` of a run of ``plan`` with parameter ``values``."""
    params = {name: p.default for name, p in plan.parameters.items() if not p.required}
    params.update((k, v) for k, v in values.items() if k in plan.parameters)
    return FlowRunInfo(plan.name, run_id, params)


class TaskRunContext:
    """One call of a flow task: its run's :class:`FlowRunInfo`, its names, its map index (None
    unless it is a mapped child) and which attempt it is (``task_run_count``, from 1)."""

    __slots__ = ("flow", "map_index", "task_name", "task_run_count", "task_slug", "task_tags")

    def __init__(
        self,
        flow: FlowRunInfo,
        task_name: str,
        task_slug: str,
        task_tags: Mapping[str, Any],
        map_index: int | None,
    ) -> None:
        self.flow = flow
        self.task_name = task_name
        self.task_slug = task_slug
        self.task_tags = task_tags
        self.map_index = map_index
        self.task_run_count = 1

    def value(self, key: str) -> Any:
        if key == "flow_name":
            return self.flow.flow_name
        if key == "flow_run_id":
            return self.flow.flow_run_id
        if key == "parameters":
            return dict(self.flow.parameters)
        if key == "task_full_name":
            index = self.map_index
            return self.task_name if index is None else f"{self.task_name}[{index}]"
        if key == "task_tags":
            return set(self.task_tags)
        if key == "logger":
            return current_logger()
        if key in ("date", "scheduled_start_time"):
            return self.flow.date
        day, _, nodash = key.partition("_")
        if day in _DAYS:  # as Prefect 1's flow runner: "2026-12-02", "20261202"
            when = self.flow.date + timedelta(days=_DAYS[day])
            return when.strftime("%Y%m%d" if nodash else "%Y-%m-%d")
        return getattr(self, key)


def enter_task(info: TaskRunContext) -> Token[TaskRunContext | None]:
    """Make ``info`` the context of the call running now (the step runner calls this)."""
    return _TASK.set(info)


def leave_task(token: Token[TaskRunContext | None]) -> None:
    """End the context :func:`enter_task` began."""
    _TASK.reset(token)


class RunContext(Mapping[str, Any]):
    """The run context of the flow task running now, as Prefect 1's ``prefect.context``: read it
    by attribute (``context.flow_name``), by key (``context["map_index"]``) or with
    ``context.get("parameters", {})``.

    Inside a task run it holds ``flow_name``, ``flow_run_id``, ``parameters`` (defaults
    included), ``task_name``, ``task_slug``, ``task_full_name`` (``name[index]`` for a mapped
    child), ``task_tags``, ``map_index`` (None unless mapped), ``task_run_count`` (1, then 2 on
    the first retry...), ``logger`` (the task's logger: records become the run's ``LOG``
    events), and the run's start: ``date`` / ``scheduled_start_time`` (a UTC datetime),
    ``today``, ``yesterday``, ``tomorrow`` (``"2026-12-02"``) and their ``_nodash`` forms.
    Outside a task run it holds only ``logger``. It is read-only: Prefect 1's
    ``prefect.context(key=value)`` blocks have no equivalent here.

    Example:
        >>> from outfitter import Flow, context, task
        >>> @task
        ... def where() -> str:
        ...     return f"{context.flow_name}/{context.task_name} #{context.task_run_count}"
        >>> with Flow("etl") as flow:
        ...     out = where()
        >>> flow.run().result[out].result
        'etl/where #1'
        >>> context.get("flow_name") is None
        True
    """

    __slots__ = ()

    def __getitem__(self, key: str) -> Any:
        current = _TASK.get()
        if key == "logger":
            return current_logger()
        if current is None or key not in _KEYS:
            raise KeyError(key)
        return current.value(key)

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__"):
            raise AttributeError(name)
        try:
            return self[name]
        except KeyError:
            where = "in this task run" if _TASK.get() is not None else "outside a flow task run"
            raise AttributeError(
                f"the run context has no {name!r} {where}; it holds {', '.join(_KEYS)} while "
                'a flow task runs. Use context.get("name") to get None instead.'
            ) from None

    def __iter__(self) -> Iterator[str]:
        return iter(_KEYS if _TASK.get() is not None else ("logger",))

    def __len__(self) -> int:
        return len(_KEYS) if _TASK.get() is not None else 1

    def to_dict(self) -> dict[str, Any]:
        """The context's keys and values now, as a plain dict."""
        return {key: self[key] for key in self}

    @property
    def log(self) -> logging.Logger:
        """The task's logger (also ``context.logger``)."""
        return current_logger()

    def __repr__(self) -> str:
        current = _TASK.get()
        if current is None:
            return "<Context outside a flow task run>"
        return f"<Context of task {current.task_name!r} in flow {current.flow.flow_name!r}>"


context = RunContext()
"""The run context of the flow task running now (see :class:`RunContext`)."""
