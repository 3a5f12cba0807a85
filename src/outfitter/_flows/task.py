"""Tasks: the steps of a Flow (Prefect 1 style), as ``Task`` subclasses with ``run()`` or as
``@task`` functions. Calling a task inside ``with Flow(...)`` copies it and binds the copy;
``task.bind(..., flow=flow)`` binds in place. Tasks compare and hash by identity."""

from __future__ import annotations

import copy
import functools
import inspect
import itertools
import logging
from collections.abc import Callable, Iterable, Mapping
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING, Any, overload

from .._definitions.node import NO_DEFAULT
from .._definitions.params import Params, classify_params
from .._resources.context import capture_stdout, current_logger
from ..exceptions import DefinitionError

if TYPE_CHECKING:
    from .flow import Flow

__all__ = [
    "NO_DEFAULT",
    "Edge",
    "FunctionTask",
    "Parameter",
    "Task",
    "current_flow",
    "task",
    "unmapped",
]

RESERVED_ARGS = frozenset({"upstream_tasks", "mapped", "task_args", "flow"})
_FLOW: ContextVar[Flow | None] = ContextVar("outfitter_flow", default=None)
_IDS = itertools.count()


def current_flow() -> Flow | None:
    """The flow of the innermost ``with Flow(...)`` block, if any."""
    return _FLOW.get()


@dataclass(frozen=True, slots=True)
class Edge:
    """A dependency between two tasks; ``key`` names the argument it feeds (None: ordering
    only); ``mapped`` maps the downstream task over the upstream result."""

    upstream_task: Task
    downstream_task: Task
    key: str | None = None
    mapped: bool = False

    def __repr__(self) -> str:
        key = f" ({self.key})" if self.key else ""
        return f"<Edge {self.upstream_task.name} -> {self.downstream_task.name}{key}>"


class unmapped:
    """Marks an argument of ``task.map(...)`` that is passed whole to every mapped run.

    Example:
        >>> from outfitter import unmapped
        >>> unmapped(3).value
        3
    """

    __slots__ = ("value",)

    def __init__(self, value: Any) -> None:
        self.value = value


class Task:
    """A step of a :class:`Flow`. Subclass it and implement ``run(self, ...)``; its parameters
    are inputs (from upstream tasks, Parameters or constants) or, annotated with a resource class
    or ``ResourceParam[T]``, resources from the flow's container.

    Example:
        >>> from outfitter import Flow, Task
        >>> class Add(Task):
        ...     def run(self, x: int, y: int) -> int:
        ...         return x + y
        >>> flow = Flow("add")
        >>> total = Add().bind(1, 2, flow=flow)
        >>> flow.run().result[total].result
        3
    """

    _params: Params

    def __init__(
        self,
        name: str | None = None,
        *,
        slug: str | None = None,
        tags: Iterable[str] | None = None,
        max_retries: int = 0,
        retry_delay: timedelta | float | None = None,
        trigger: Callable[..., bool] | None = None,
        skip_on_upstream_skip: bool = True,
        log_stdout: bool = False,
    ) -> None:
        from . import triggers

        self.name = name or type(self).__name__
        self.log_stdout = bool(log_stdout)
        self.slug = slug
        self.tags = set(tags or ())
        if max_retries and retry_delay is None:
            retry_delay = 0.0
        if not isinstance(max_retries, int) or isinstance(max_retries, bool) or max_retries < 0:
            raise DefinitionError(
                f"task {self.name!r}: max_retries must be a whole number >= 0, got {max_retries!r}",
                hint="use 0 for no retries.",
            )
        delay = retry_delay.total_seconds() if isinstance(retry_delay, timedelta) else retry_delay
        if delay is not None and (
            not isinstance(delay, int | float) or isinstance(delay, bool) or not delay >= 0
        ):
            raise DefinitionError(
                f"task {self.name!r}: retry_delay must be a number of seconds >= 0 or a "
                f"timedelta, got {retry_delay!r}",
                hint="e.g. retry_delay=timedelta(seconds=10).",
            )
        self.max_retries = max_retries
        self.retry_delay = delay or 0.0
        self.trigger = trigger or triggers.all_successful
        self.skip_on_upstream_skip = skip_on_upstream_skip
        self._id = next(_IDS)
        flow = _FLOW.get()
        if flow is not None:
            flow._created.append(self)

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        run = cls.__dict__.get("run")
        if run is not None and cls.__module__ != __name__:  # not FunctionTask / Parameter
            _check_run_signature(run, cls.__name__)
            cls._user_run = run
            cls.run = _stdout_logged(run)  # type: ignore[method-assign]

    _user_run: Callable[..., Any] | None = None
    """A subclass's own ``run`` (``run`` itself is that, wrapped for ``log_stdout``)."""

    @property
    def logger(self) -> logging.Logger:
        """The logger of this task's run (Prefect 1's ``self.logger``): in a flow run, each record
        becomes a ``LOG`` event of the task and is printed on the console; outside a run, the
        ``outfitter.user`` logger.

        Example:
            >>> from outfitter import Task
            >>> Task("t").logger.name
            'outfitter.user'
        """
        return current_logger()

    @property
    def params(self) -> Params:
        """The classified parameters of ``run`` (inputs, resources)."""
        try:
            return self._params
        except AttributeError:
            run = type(self)._user_run
            if type(self).run is Task.run:
                self._params = classify_params(lambda: None, f"task {self.name!r}")
            else:  # the signature and hints of the subclass's own run()
                fn = self.run if run is None else run.__get__(self)
                self._params = classify_params(fn, f"task {self.name!r}")
            return self._params

    def run(self, *args: Any, **kwargs: Any) -> Any:
        """The task's work; override it with named parameters."""
        raise DefinitionError(
            f"task {self.name!r} ({type(self).__name__}) does not implement run()",
            hint="subclass Task and define run(self, ...), or use the @task decorator.",
        )

    # -- building flows -------------------------------------------------------------------------

    def copy(self, **task_args: Any) -> Task:
        """A copy (a new task in the graph), with attributes in ``task_args`` changed."""
        new = copy.copy(self)
        new._id = next(_IDS)
        new.slug = None
        new.tags = set(self.tags)
        for key, value in task_args.items():
            if not hasattr(new, key):
                raise DefinitionError(
                    f"task {self.name!r} has no attribute {key!r} to set in task_args",
                    hint="task_args may set name, tags, max_retries, retry_delay, trigger, "
                    "skip_on_upstream_skip, log_stdout.",
                )
            setattr(new, key, value)
        return new

    def __call__(
        self,
        *args: Any,
        mapped: bool = False,
        task_args: Mapping[str, Any] | None = None,
        upstream_tasks: Iterable[Any] | None = None,
        flow: Flow | None = None,
        **kwargs: Any,
    ) -> Task:
        """Copy this task and bind the copy in the active (or given) flow."""
        active = flow or _FLOW.get()
        if active is not None and self in active._created:
            active._created.remove(self)  # a template used through copies is not "unused"
        new = self.copy(**dict(task_args or {}))
        return new.bind(*args, mapped=mapped, upstream_tasks=upstream_tasks, flow=flow, **kwargs)

    def bind(
        self,
        *args: Any,
        mapped: bool = False,
        upstream_tasks: Iterable[Any] | None = None,
        flow: Flow | None = None,
        **kwargs: Any,
    ) -> Task:
        """Wire this task's inputs (tasks become edges, other values constants) in ``flow``."""
        flow = _resolve_flow(flow, self)
        arguments = self._bind_arguments(args, kwargs)
        flow.set_dependencies(
            self, upstream_tasks=upstream_tasks, keyword_tasks=arguments, mapped=mapped
        )
        return self

    def map(
        self,
        *args: Any,
        upstream_tasks: Iterable[Any] | None = None,
        flow: Flow | None = None,
        task_args: Mapping[str, Any] | None = None,
        **kwargs: Any,
    ) -> Task:
        """A copy mapped over its inputs: one run per element (``unmapped(x)`` passes ``x``
        whole to every run)."""
        new = self.copy(**dict(task_args or {}))
        return new.bind(*args, mapped=True, upstream_tasks=upstream_tasks, flow=flow, **kwargs)

    def _bind_arguments(self, args: tuple[Any, ...], kwargs: dict[str, Any]) -> dict[str, Any]:
        names = list(self.params.inputs)
        if len(args) > len(names):
            raise DefinitionError(
                f"task {self.name!r} takes {len(names)} input(s) but {len(args)} were given",
                hint=f"its inputs are {names}; resources come from the flow, not as arguments.",
            )
        bound = dict(zip(names, args, strict=False))
        for key, value in kwargs.items():
            if key not in names:
                raise DefinitionError(
                    f"task {self.name!r} has no input {key!r}",
                    hint=f"its inputs are {names}.",
                )
            if key in bound:
                raise DefinitionError(
                    f"task {self.name!r} got input {key!r} twice", hint="pass it once."
                )
            bound[key] = value
        missing = [n for n in names if n not in bound and n not in self.params.optional_inputs]
        if missing:
            raise DefinitionError(
                f"task {self.name!r} is missing input(s) {missing}",
                hint="pass a task, a Parameter or a value for each.",
            )
        return bound

    def set_upstream(
        self, task: Task, flow: Flow | None = None, key: str | None = None, mapped: bool = False
    ) -> None:
        """Make ``task`` run before this one (feeding input ``key`` if given)."""
        flow = _resolve_flow(flow, self)
        if key is not None:
            flow.set_dependencies(self, keyword_tasks={key: task}, mapped=mapped)
        else:
            flow.set_dependencies(self, upstream_tasks=[task], mapped=mapped)

    def set_downstream(
        self, task: Task, flow: Flow | None = None, key: str | None = None, mapped: bool = False
    ) -> None:
        """Make this task run before ``task``."""
        task.set_upstream(self, flow=flow, key=key, mapped=mapped)

    def __repr__(self) -> str:
        return f"<Task: {self.name}>"


def _resolve_flow(flow: Flow | None, task: Task) -> Flow:
    flow = flow or _FLOW.get()
    if flow is None:
        raise DefinitionError(
            f"Could not infer an active Flow context while binding task {task.name!r}",
            hint="call tasks inside `with Flow(...) as flow:`, pass `flow=flow` "
            "(task.bind(..., flow=flow)), or call task.run(...) to run its code directly.",
        )
    return flow


def _check_run_signature(run: Callable[..., Any], owner: str) -> None:
    try:
        sig = inspect.signature(run)
    except (TypeError, ValueError):
        return
    problems = []
    for param in sig.parameters.values():
        if param.kind is param.VAR_POSITIONAL:
            problems.append(
                f"{owner}.run has *{param.name}: tasks need named arguments so inputs can be "
                "wired by name"
            )
        if param.name in RESERVED_ARGS:
            problems.append(
                f"{owner}.run has an argument named {param.name!r}, which is reserved "
                f"({', '.join(sorted(RESERVED_ARGS))})"
            )
    if problems:
        raise DefinitionError(
            f"{owner} cannot be a task as written",
            problems=problems,
            hint="give run() named parameters (keyword-only **kwargs are allowed) and rename "
            "reserved ones.",
        )


class FunctionTask(Task):
    """A task made from a function by ``@task``."""

    def __init__(self, fn: Callable[..., Any], name: str | None = None, **task_kwargs: Any):
        if not callable(fn):
            raise DefinitionError(
                f"@task must decorate a function, got {type(fn).__name__}",
                hint="write @task directly above `def ...`.",
            )
        _check_run_signature(fn, getattr(fn, "__name__", "task"))
        self.fn = fn
        super().__init__(name=name or getattr(fn, "__name__", "task"), **task_kwargs)
        self.__doc__ = fn.__doc__

    @property
    def params(self) -> Params:
        try:
            return self._params
        except AttributeError:
            self._params = classify_params(self.fn, f"task {self.name!r}")
            return self._params

    def run(self, *args: Any, **kwargs: Any) -> Any:
        """Call the function."""
        if self.log_stdout:
            if self.params.is_async:
                return _logged_coroutine(self.fn, kwargs)
            with capture_stdout():
                return self.fn(**kwargs)
        return self.fn(**kwargs)


async def _logged_coroutine(fn: Callable[..., Any], kwargs: Mapping[str, Any]) -> Any:
    with capture_stdout():
        return await fn(**kwargs)


def _stdout_logged(run: Callable[..., Any]) -> Callable[..., Any]:
    """A subclass's ``run`` that logs what it prints when its task has ``log_stdout=True``."""
    if inspect.iscoroutinefunction(run):

        @functools.wraps(run)
        async def arun(self: Task, *args: Any, **kwargs: Any) -> Any:
            if not self.log_stdout:
                return await run(self, *args, **kwargs)
            with capture_stdout():
                return await run(self, *args, **kwargs)

        return arun

    @functools.wraps(run)
    def logged(self: Task, *args: Any, **kwargs: Any) -> Any:
        if not self.log_stdout:
            return run(self, *args, **kwargs)
        with capture_stdout():
            return run(self, *args, **kwargs)

    return logged


@overload
def task(fn: Callable[..., Any], /) -> FunctionTask: ...


@overload
def task(
    fn: None = None,
    /,
    *,
    name: str | None = None,
    max_retries: int = 0,
    retry_delay: timedelta | float | None = None,
    trigger: Callable[..., bool] | None = None,
    skip_on_upstream_skip: bool = True,
    tags: Iterable[str] | None = None,
    log_stdout: bool = False,
) -> Callable[[Callable[..., Any]], FunctionTask]: ...


def task(
    fn: Callable[..., Any] | None = None,
    /,
    **task_kwargs: Any,
) -> FunctionTask | Callable[[Callable[..., Any]], FunctionTask]:
    """Turn a function into a task template; calling it inside ``with Flow(...)`` adds a copy.

    Example:
        >>> from outfitter import Flow, task
        >>> @task(max_retries=2)
        ... def inc(x: int) -> int:
        ...     return x + 1
        >>> with Flow("count") as flow:
        ...     two = inc(inc(0))
        >>> flow.run().result[two].result
        2
    """

    def wrap(f: Callable[..., Any]) -> FunctionTask:
        return FunctionTask(f, **task_kwargs)

    return wrap(fn) if fn is not None else wrap


class Parameter(Task):
    """A flow input given at run time: ``flow.run(parameters={"n": 5})`` or ``flow.run(n=5)``.
    Names are unique in a flow; one without a default is required.

    Example:
        >>> from outfitter import Flow, Parameter, task
        >>> @task
        ... def double(x: int) -> int:
        ...     return 2 * x
        >>> with Flow("double") as flow:
        ...     out = double(Parameter("n", default=2))
        >>> flow.run(n=5).result[out].result
        10
    """

    def __init__(
        self,
        name: str,
        default: Any = NO_DEFAULT,
        required: bool | None = None,
        tags: Iterable[str] | None = None,
    ) -> None:
        if not isinstance(name, str) or not name:
            raise DefinitionError(
                f"a Parameter needs a name, got {name!r}",
                hint='e.g. Parameter("n", default=10); flow.run(n=5) sets it.',
            )
        self.default = None if default is NO_DEFAULT else default
        self.required = (default is NO_DEFAULT) if required is None else required
        super().__init__(name=name, slug=name, tags=tags)

    @property
    def params(self) -> Params:
        """A Parameter has no inputs: its value comes from the flow run."""
        return _NO_PARAMS

    def copy(self, **task_args: Any) -> Task:
        raise DefinitionError(
            f"Parameter {self.name!r} cannot be copied",
            hint="a Parameter is unique by name in its flow; reuse the same object.",
        )

    def run(self, *args: Any, **kwargs: Any) -> Any:
        """The parameter's value is set by the flow run."""
        return self.default

    def __repr__(self) -> str:
        return f"<Parameter: {self.name}>"


_NO_PARAMS = classify_params(lambda: None, "parameter")
