"""Tasks: the steps of a Flow (Prefect 1 style), as ``Task`` subclasses with ``run()`` or as
``@task`` functions. Calling a task inside ``with Flow(...)`` copies it and binds the copy;
``task.bind(..., flow=flow)`` binds in place. Tasks compare and hash by identity."""

from __future__ import annotations

import contextlib
import copy
import functools
import inspect
import itertools
import logging
import typing
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING, Any, overload

from .._definitions.node import NO_DEFAULT
from .._definitions.params import Params, classify_params
from .._resources.context import capture_stdout, current_logger
from ..exceptions import (
    DefinitionAttributeError,
    DefinitionError,
    DefinitionTypeError,
    DefinitionValueError,
)

if TYPE_CHECKING:
    from .flow import Flow

__all__ = [
    "NO_DEFAULT",
    "Constant",
    "Edge",
    "FunctionTask",
    "GetItem",
    "OnFailure",
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
        max_retries: int | None = None,
        retry_delay: timedelta | float | None = None,
        trigger: Callable[..., bool] | None = None,
        skip_on_upstream_skip: bool = True,
        log_stdout: bool = False,
        nout: int | None = None,
        retry_on: Any = None,
        timeout: timedelta | float | None = None,
        state_handlers: Iterable[Callable[..., Any]] | None = None,
        checkpoint: bool | None = None,
        cache_for: timedelta | None = None,
        on_failure: Callable[..., Any] | None = None,
    ) -> None:
        from . import triggers
        from .options import run_options

        self.name = name or type(self).__name__
        self.log_stdout = bool(log_stdout)
        self.slug = slug
        if isinstance(tags, str):  # Prefect 1 refuses it too: set("etl") is {"e", "t", "l"}
            raise DefinitionTypeError(
                f"task {self.name!r}: tags must be a collection of strings, got the string "
                f"{tags!r}",
                hint=f"write tags=[{tags!r}].",
            )
        self.tags = set(tags or ())
        self.max_retries, self.retry_delay = _retries(self.name, max_retries, retry_delay)
        self.trigger = trigger or triggers.all_successful
        self.skip_on_upstream_skip = skip_on_upstream_skip
        if on_failure is not None:  # Prefect 1: a state handler called on failed states only
            state_handlers = [*(state_handlers or ()), OnFailure(on_failure)]
        # timeout, retry_on, state_handlers, checkpoint, cache_for (see _flows/options.py)
        vars(self).update(
            run_options(
                self.name,
                self.max_retries,
                retry_on=retry_on,
                timeout=timeout,
                state_handlers=state_handlers,
                checkpoint=checkpoint,
                cache_for=cache_for,
            )
        )
        if nout is None:
            nout = _infer_nout(self._run_function())
        elif not isinstance(nout, int) or isinstance(nout, bool) or nout < 0:
            raise DefinitionTypeError(
                f"task {self.name!r}: nout must be a whole number >= 0, got {nout!r}",
                hint="nout=2 lets `a, b = task(...)` unpack a task returning a 2-tuple.",
            )
        self.nout = nout
        """How many results the task returns as a tuple (``a, b = task(...)``), given or read
        from a ``-> tuple[int, str]`` annotation; None: not unpackable."""
        self._id = next(_IDS)
        flow = _FLOW.get()
        if flow is not None and not isinstance(self, Constant):
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

    _auto_slug = False
    """Whether a flow made ``slug`` (``name-N``) rather than the user."""

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

    def _run_function(self) -> Callable[..., Any]:
        """The user's ``run`` (bound), whose signature gives the task's inputs."""
        run = type(self)._user_run
        if type(self).run is Task.run:
            return _no_inputs
        return self.run if run is None else run.__get__(self)

    @property
    def params(self) -> Params:
        """The classified parameters of ``run`` (inputs, resources)."""
        try:
            return self._params
        except AttributeError:
            self._params = classify_params(
                self._run_function(), f"task {self.name!r}", var_keyword=True
            )
            return self._params

    @property
    def accepts_kwargs(self) -> bool:
        """Whether ``run`` takes ``**kwargs``: inputs of any name are then passed through."""
        try:
            return self._accepts_kwargs
        except AttributeError:  # read once per template; copies share it
            self._accepts_kwargs: bool = _var_keyword(self._run_function())
            return self._accepts_kwargs

    def run(self, *args: Any, **kwargs: Any) -> Any:
        """The task's work; override it with named parameters. A bare ``Task()`` does nothing
        and returns None (a placeholder, or a point other tasks wait for)."""
        return None

    # -- building flows -------------------------------------------------------------------------

    def copy(self, **task_args: Any) -> Task:
        """A copy (a new task in the graph), with attributes in ``task_args`` changed."""
        if "_params" not in self.__dict__:  # read run's signature once, for every copy
            with contextlib.suppress(DefinitionError):
                _ = self.params, self.accepts_kwargs
        new = copy.copy(self)
        new._id = next(_IDS)
        new.slug = None
        new._auto_slug = False
        new.tags = set(self.tags)
        for key, value in task_args.items():
            if not hasattr(new, key):
                raise DefinitionAttributeError(
                    f"task {self.name!r} has no attribute {key!r} to set in task_args",
                    hint="task_args may set name, tags, max_retries, retry_delay, trigger, "
                    "skip_on_upstream_skip, log_stdout.",
                )
            setattr(new, key, value)
        if "tags" in task_args:  # added to the task's own, as Prefect 1's copy() does
            tags = task_args["tags"]
            if isinstance(tags, str):
                raise DefinitionTypeError(
                    f"task {self.name!r}: tags must be a collection of strings, got the "
                    f"string {tags!r}",
                    hint=f"write task_args={{'tags': [{tags!r}]}}.",
                )
            new.tags = set(self.tags) | set(tags or ())
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
        for value in (*args, *kwargs.values()):
            # as Prefect 1 (core/task.py, Task.map): a set or a number has no elements in order
            if not isinstance(value, Task | unmapped) and not hasattr(value, "__getitem__"):
                raise DefinitionTypeError(
                    f"task {self.name!r} cannot map over {type(value).__name__} "
                    f"{_preview(value)}: it has no elements in order",
                    hint="map over a list or tuple (e.g. sorted(the_set)), a task returning "
                    "one, or wrap a value passed whole in unmapped().",
                )
        new = self.copy(**{"nout": None, **dict(task_args or {})})
        return new.bind(*args, mapped=True, upstream_tasks=upstream_tasks, flow=flow, **kwargs)

    def _bind_arguments(self, args: tuple[Any, ...], kwargs: dict[str, Any]) -> dict[str, Any]:
        names = list(self.params.inputs)
        if len(args) > len(names):
            raise DefinitionTypeError(
                f"task {self.name!r} takes {len(names)} input(s) but {len(args)} were given",
                hint=f"its inputs are {names}; resources come from the flow, not as arguments.",
            )
        bound = dict(zip(names, args, strict=False))
        extra = self.accepts_kwargs  # run(self, x, **kwargs): other names pass through
        for key, value in kwargs.items():
            if key not in names and not extra:
                raise DefinitionTypeError(
                    f"task {self.name!r} has no input {key!r}",
                    hint=f"its inputs are {names}.",
                )
            if key in bound:
                raise DefinitionTypeError(
                    f"task {self.name!r} got input {key!r} twice", hint="pass it once."
                )
            bound[key] = value
        missing = [n for n in names if n not in bound and n not in self.params.optional_inputs]
        if missing:
            raise DefinitionTypeError(
                f"task {self.name!r} is missing input(s) {missing}",
                hint="pass a task, a Parameter or a value for each.",
            )
        return bound

    def set_dependencies(
        self,
        flow: Flow | None = None,
        upstream_tasks: Iterable[Any] | None = None,
        downstream_tasks: Iterable[Any] | None = None,
        keyword_tasks: Mapping[str, Any] | None = None,
        mapped: bool = False,
        validate: bool | None = None,
    ) -> Task:
        """Add dependencies of this task in ``flow`` (default: the active one); returns the
        task. See :meth:`Flow.set_dependencies`."""
        _resolve_flow(flow, self).set_dependencies(
            self,
            upstream_tasks=upstream_tasks,
            downstream_tasks=downstream_tasks,
            keyword_tasks=keyword_tasks,
            mapped=mapped,
            validate=validate,
        )
        return self

    def set_upstream(
        self, task: Any, flow: Flow | None = None, key: str | None = None, mapped: bool = False
    ) -> Task:
        """Make ``task`` run before this one (feeding input ``key`` if given); returns this
        task."""
        if key is not None:
            return self.set_dependencies(flow, keyword_tasks={key: task}, mapped=mapped)
        return self.set_dependencies(flow, upstream_tasks=[task], mapped=mapped)

    def set_downstream(
        self, task: Task, flow: Flow | None = None, key: str | None = None, mapped: bool = False
    ) -> Task:
        """Make this task run before ``task`` (feeding its input ``key`` if given); returns
        this task."""
        task.set_upstream(self, flow=flow, key=key, mapped=mapped)
        return self

    def __getitem__(self, key: Any) -> Task:
        """A task whose result is ``self``'s result ``[key]`` (bound in the active flow)."""
        label = key.name if isinstance(key, Task) else repr(key)
        return GetItem(name=f"{self.name}[{label}]").bind(self, key)

    def __iter__(self) -> Iterator[Task]:
        """``a, b = task(...)``: one :meth:`__getitem__` task per result when ``nout`` is set."""
        if self.nout is None:
            raise DefinitionTypeError(
                f"task {self.name!r} is not iterable: its number of results is not known",
                hint="pass nout= to @task or Task(...), or annotate run's return type as a "
                "fixed tuple (-> tuple[int, str]).",
            )
        return (self[i] for i in range(self.nout))

    def __repr__(self) -> str:
        return f"<Task: {self.name}>"


class OnFailure:
    """``on_failure=fn`` as a state handler: calls ``fn(obj, new_state)`` when ``obj`` (a task or
    a flow) enters a failed state (Prefect 1's ``callback_factory`` in
    utilities/notifications.py)."""

    __slots__ = ("fn",)

    def __init__(self, fn: Callable[..., Any]) -> None:
        if not callable(fn):
            raise DefinitionTypeError(
                f"on_failure must be a function, got {type(fn).__name__} {fn!r}",
                hint="pass a function called as fn(task_or_flow, state).",
            )
        self.fn = fn

    def __call__(self, obj: Any, old_state: Any, new_state: Any) -> None:
        if new_state.is_failed():
            self.fn(obj, new_state)

    def __repr__(self) -> str:
        return f"OnFailure({getattr(self.fn, '__name__', self.fn)!r})"


def _no_inputs() -> None:
    return None


def _preview(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def _var_keyword(fn: Callable[..., Any]) -> bool:
    try:
        parameters = inspect.signature(fn).parameters.values()
    except (TypeError, ValueError):
        return False
    return any(p.kind is p.VAR_KEYWORD for p in parameters)


def _infer_nout(fn: Callable[..., Any]) -> int | None:
    """The length of a fixed-length tuple return annotation (``-> tuple[int, str]``: 2), as
    Prefect 1 infers ``nout`` (``_infer_run_nout`` in core/task.py); None otherwise."""
    try:
        annotation = inspect.signature(fn).return_annotation
    except (TypeError, ValueError):
        return None
    if isinstance(annotation, str):
        try:
            annotation = typing.get_type_hints(fn).get("return")
        except Exception:
            return None
    if annotation in (tuple, typing.Tuple) or typing.get_origin(annotation) is not tuple:  # noqa: UP006
        return None  # a bare tuple has any length
    args = typing.get_args(annotation)
    if not args or args == ((),):  # tuple[()] / Tuple[()]
        return 0
    if len(args) == 2 and args[1] is Ellipsis:  # tuple[int, ...]
        return None
    return len(args)


def _retries(
    name: str, max_retries: int | None, retry_delay: timedelta | float | None
) -> tuple[int, timedelta | None]:
    """Checked ``max_retries`` and ``retry_delay``: each needs the other, as in Prefect 1
    (core/task.py, Task.__init__); a number of seconds is taken as a timedelta."""
    if max_retries is None:
        max_retries = 0
    if not isinstance(max_retries, int) or isinstance(max_retries, bool) or max_retries < 0:
        raise DefinitionValueError(
            f"task {name!r}: max_retries must be a whole number >= 0, got {max_retries!r}",
            hint="use 0 for no retries.",
        )
    delay = retry_delay
    if delay is not None and not isinstance(delay, timedelta):
        if not isinstance(delay, int | float) or isinstance(delay, bool) or not delay >= 0:
            raise DefinitionValueError(
                f"task {name!r}: retry_delay must be a timedelta or a number of seconds >= 0, "
                f"got {retry_delay!r}",
                hint="e.g. retry_delay=timedelta(seconds=10).",
            )
        delay = timedelta(seconds=delay)
    if delay is not None and delay < timedelta(0):
        raise DefinitionValueError(
            f"task {name!r}: retry_delay must not be negative, got {retry_delay!r}",
            hint="e.g. retry_delay=timedelta(seconds=10).",
        )
    if max_retries > 0 and delay is None:
        raise DefinitionValueError(
            f"task {name!r}: max_retries={max_retries} needs a retry_delay",
            hint="give the wait between attempts, e.g. retry_delay=timedelta(seconds=10) "
            "(timedelta(0) to retry at once).",
        )
    if delay is not None and not max_retries:
        raise DefinitionValueError(
            f"task {name!r}: retry_delay={retry_delay!r} is given without max_retries",
            hint="give max_retries (e.g. max_retries=3) or drop retry_delay.",
        )
    return max_retries, delay


def _resolve_flow(flow: Flow | None, task: Task) -> Flow:
    flow = flow or _FLOW.get()
    if flow is None:
        raise DefinitionValueError(
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
        raise DefinitionValueError(
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
        self.fn = fn  # before Task.__init__, which reads its signature (nout)
        super().__init__(name=name or getattr(fn, "__name__", "task"), **task_kwargs)
        self.__doc__ = fn.__doc__

    def _run_function(self) -> Callable[..., Any]:
        return self.fn

    @property
    def params(self) -> Params:
        try:
            return self._params
        except AttributeError:
            self._params = classify_params(self.fn, f"task {self.name!r}", var_keyword=True)
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
    max_retries: int | None = None,
    retry_delay: timedelta | float | None = None,
    trigger: Callable[..., bool] | None = None,
    skip_on_upstream_skip: bool = True,
    tags: Iterable[str] | None = None,
    log_stdout: bool = False,
    nout: int | None = None,
    retry_on: Any = None,
    timeout: timedelta | float | None = None,
    state_handlers: Iterable[Callable[..., Any]] | None = None,
    checkpoint: bool | None = None,
    cache_for: timedelta | None = None,
    on_failure: Callable[..., Any] | None = None,
) -> Callable[[Callable[..., Any]], FunctionTask]: ...


def task(
    fn: Callable[..., Any] | None = None,
    /,
    **task_kwargs: Any,
) -> FunctionTask | Callable[[Callable[..., Any]], FunctionTask]:
    """Turn a function into a task template; calling it inside ``with Flow(...)`` adds a copy.

    Example:
        >>> from outfitter import Flow, task
        >>> from datetime import timedelta
        >>> @task(max_retries=2, retry_delay=timedelta(seconds=1))
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
            raise DefinitionTypeError(
                f"a Parameter needs a name, got {name!r}",
                hint='e.g. Parameter("n", default=10); flow.run(n=5) sets it.',
            )
        self.default = None if default is NO_DEFAULT else default
        self.required = (default is NO_DEFAULT) if required is None else required
        super().__init__(name=name, slug=name, tags=tags)
        self.nout = None  # its value is not unpacked (default=(1, 2) says nothing about runs)

    @property
    def params(self) -> Params:
        """A Parameter has no inputs: its value comes from the flow run."""
        return _NO_PARAMS

    def __call__(self, *args: Any, flow: Flow | None = None, **kwargs: Any) -> Parameter:
        """Add this Parameter to the active (or given) flow and return it (not a copy), as
        Prefect 1 does (core/parameter.py)."""
        if args or kwargs:
            raise DefinitionTypeError(
                f"Parameter {self.name!r} takes no inputs, got "
                f"{', '.join([*map(repr, args), *kwargs])}",
                hint="a Parameter's value comes from flow.run(parameters={...}); call it as "
                "param() or param(flow=flow) to add it to a flow.",
            )
        self.bind(flow=flow)
        return self

    def copy(self, name: str | None = None, **task_args: Any) -> Parameter:
        """A new Parameter named ``name`` with this one's default and settings (Prefect 1's
        ``Parameter.copy(name)``)."""
        if not isinstance(name, str) or not name:
            raise DefinitionTypeError(
                f"Parameter {self.name!r}: copy() needs the new Parameter's name, got {name!r}",
                hint='e.g. n2 = n.copy("n2"): two Parameters in one flow need two names.',
            )
        new = super().copy(**task_args)
        assert isinstance(new, Parameter)
        new.name = new.slug = name
        return new

    def run(self, *args: Any, **kwargs: Any) -> Any:
        """The parameter's value is set by the flow run."""
        return self.default

    def __repr__(self) -> str:
        return f"<Parameter: {self.name}>"


_NO_PARAMS = classify_params(lambda: None, "parameter")


class GetItem(Task):
    """``task[key]`` in a flow: the upstream result indexed by ``key`` (Prefect 1's
    ``tasks/core/operators.py`` GetItem); what ``a, b = task(...)`` unpacks into."""

    def run(self, task_result: Any, key: Any) -> Any:
        return task_result[key]


class Constant(Task):
    """A plain value used where a flow needs a task (``upstream_tasks=[3]``): returns it."""

    def __init__(self, value: Any, name: str | None = None) -> None:
        self.value = value
        super().__init__(name=name or f"Constant[{type(value).__name__}]")

    def run(self) -> Any:
        return self.value
