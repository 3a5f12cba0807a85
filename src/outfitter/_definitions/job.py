"""Jobs: ``@job`` / ``@graph`` composition of ops, and ``define_asset_job`` over assets.

Inside a ``@job`` (or ``@graph``) body, calling an op records a node and returns a handle;
passing a handle to another op makes an edge. The body runs once, at decoration.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable, Mapping
from contextvars import ContextVar
from typing import TYPE_CHECKING, Any, overload

from .._resources.bindings import resource_bindings
from .._resources.io_manager import DEFAULT_IO_MANAGER
from ..exceptions import DefinitionError
from .decorators import check_decorated
from .graph import NodeGraph
from .node import InputSpec, NodeSpec

if TYPE_CHECKING:
    from .._config.run_config import RunConfig
    from .._execution.result import ExecuteResult
    from .decorators import OpDefinition

__all__ = [
    "GraphDefinition",
    "JobDefinition",
    "OutputHandle",
    "UnresolvedAssetJob",
    "current_composition",
    "define_asset_job",
    "graph",
    "job",
]


class OutputHandle:
    """The future output of an op inside a job body; pass it to another op."""

    __slots__ = ("node_key",)

    def __init__(self, node_key: str) -> None:
        self.node_key = node_key

    def __repr__(self) -> str:
        return f"<output of {self.node_key}>"


class _Composition:
    def __init__(self, owner: str, prefix: str = "") -> None:
        self.owner = owner
        self.prefix = prefix
        self.nodes: list[NodeSpec] = []
        self._names: dict[str, int] = {}

    def _unique(self, name: str) -> str:
        count = self._names.get(name, 0) + 1
        self._names[name] = count
        base = f"{self.prefix}{name}"
        return base if count == 1 else f"{base}_{count}"

    def add(self, op_def: OpDefinition, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        key = self._unique(op_def.name)
        names = op_def.params.inputs
        if len(args) > len(names):
            raise DefinitionError(
                f"{self.owner}: op {op_def.name!r} takes {len(names)} input(s) but was given "
                f"{len(args)}",
                hint=f"its inputs are {list(names)}; resources and config are not passed here.",
            )
        given = dict(zip(names, args, strict=False))
        for name, value in kwargs.items():
            if name not in names:
                raise DefinitionError(
                    f"{self.owner}: op {op_def.name!r} has no input {name!r}",
                    hint=f"its inputs are {list(names)}.",
                )
            given[name] = value
        missing = [n for n in names if n not in given and n not in op_def.params.optional_inputs]
        if missing:
            raise DefinitionError(
                f"{self.owner}: op {op_def.name!r} is missing input(s) {missing}",
                hint="pass the output of another op (or a constant) for each input.",
            )
        inputs = tuple(
            InputSpec(name, upstream=value.node_key)
            if isinstance(value, OutputHandle)
            else InputSpec(name, value=value)
            for name, value in given.items()
        )
        self.nodes.append(
            NodeSpec(
                key=key,
                fn=op_def.fn,
                kind="op",
                params=op_def.params,
                inputs=inputs,
                resource_keys=op_def.resource_keys | {op_def.io_manager_key},
                context_resource_keys=op_def.resource_keys,
                io_manager_key=op_def.io_manager_key,
                config_type=op_def.params.config_type,
                description=op_def.description,
                tags=op_def.tags,
                log_stdout=op_def.log_stdout,
            )
        )
        return OutputHandle(key)


_COMPOSING: ContextVar[_Composition | None] = ContextVar("outfitter_composition", default=None)


def current_composition() -> _Composition | None:
    """The job/graph body being composed right now, if any."""
    return _COMPOSING.get()


def _compose(fn: Callable[..., Any], owner: str, prefix: str = "") -> tuple[list[NodeSpec], Any]:
    composition = _Composition(owner, prefix)
    token = _COMPOSING.set(composition)
    try:
        result = fn()
    finally:
        _COMPOSING.reset(token)
    if not composition.nodes:
        raise DefinitionError(
            f"{owner} has no ops",
            hint="call ops inside the body, e.g. `def my_job(): b(a())`.",
        )
    return composition.nodes, result


class GraphDefinition:
    """A reusable composition of ops (``@graph``); call it inside a job body, or make it a job
    with :meth:`to_job`.

    Example:
        >>> from outfitter import graph, op
        >>> @op
        ... def one() -> int:
        ...     return 1
        >>> @graph
        ... def pipeline():
        ...     one()
        >>> pipeline.to_job().execute_in_process().output_for_node("pipeline.one")
        1
    """

    def __init__(self, fn: Callable[..., Any], name: str | None = None) -> None:
        self.fn = fn
        self.name = name or fn.__name__
        self.nodes, _ = _compose(fn, f"graph {self.name!r}", prefix=f"{self.name}.")

    def __call__(self) -> Any:
        composition = current_composition()
        if composition is None:
            raise DefinitionError(
                f"graph {self.name!r} was called outside a job body",
                hint="call it inside a @job function, or use graph.to_job().",
            )
        prefix = f"{composition.prefix}"
        nodes, result = _compose(self.fn, f"graph {self.name!r}", prefix=f"{prefix}{self.name}.")
        composition.nodes.extend(nodes)
        return result

    def to_job(
        self,
        name: str | None = None,
        resource_defs: Mapping[str, Any] | None = None,
        tags: Mapping[str, str] | None = None,
    ) -> JobDefinition:
        """A job running this graph."""
        return JobDefinition(name or self.name, self.nodes, resource_defs=resource_defs, tags=tags)


class JobDefinition:
    """A named graph of steps with its own resources; run it with :meth:`execute_in_process`.

    Example:
        >>> from outfitter import job, op
        >>> @op
        ... def hello() -> str:
        ...     return "hello"
        >>> @op
        ... def shout(text: str) -> str:
        ...     return text.upper()
        >>> @job
        ... def greet():
        ...     shout(hello())
        >>> greet.execute_in_process().output_for_node("shout")
        'HELLO'
    """

    def __init__(
        self,
        name: str,
        nodes: list[NodeSpec] | NodeGraph,
        *,
        resource_defs: Mapping[str, Any] | None = None,
        tags: Mapping[str, str] | None = None,
        description: str | None = None,
        executor_def: Any = None,
        log_stdout: bool = False,
    ) -> None:
        self.name = name
        if log_stdout:  # what every step prints becomes its log records
            listed = nodes.nodes if isinstance(nodes, NodeGraph) else nodes
            nodes = [dataclasses.replace(n, log_stdout=True) for n in listed]
        self.graph = nodes if isinstance(nodes, NodeGraph) else NodeGraph(nodes, f"job {name!r}")
        self.nodes = list(self.graph.nodes)
        self.resource_defs = dict(resource_defs or {})
        self.tags = dict(tags or {})
        self.description = description
        self.executor_def = executor_def
        self.log_stdout = log_stdout
        self.base_resources: Any = None  # Definitions-level resources, read at each run

    @property
    def resource_keys(self) -> frozenset[str]:
        """Every resource key the job's steps use."""
        return self.graph.resource_keys

    def execute_in_process(
        self,
        run_config: RunConfig | Mapping[str, Any] | None = None,
        resources: Mapping[str, Any] | Any = None,
        instance: Any = None,
        raise_on_error: bool = True,
        tags: Mapping[str, str] | None = None,
    ) -> ExecuteResult:
        """Run the job in this process, whatever its executor (resources given here win over
        the job's own)."""
        from .._execution.executors import in_process_executor

        return self._run(run_config, resources, instance, raise_on_error, tags, in_process_executor)

    def execute(
        self,
        run_config: RunConfig | Mapping[str, Any] | None = None,
        resources: Mapping[str, Any] | Any = None,
        instance: Any = None,
        raise_on_error: bool = True,
        tags: Mapping[str, str] | None = None,
    ) -> ExecuteResult:
        """Run the job with its executor: the run config's ``execution`` section, else the
        job's ``executor_def`` (from ``@job`` or ``Definitions(executor=...)``), else in
        process."""
        from .._execution.executors import select_executor

        executor = select_executor(self.executor_def, run_config, f"job {self.name!r}")
        return self._run(run_config, resources, instance, raise_on_error, tags, executor)

    def _run(
        self,
        run_config: Any,
        resources: Any,
        instance: Any,
        raise_on_error: bool,
        tags: Mapping[str, str] | None,
        executor: Any,
    ) -> ExecuteResult:
        from .._execution.launch import run_job

        bindings = {
            **resource_bindings(self.base_resources),
            **self.resource_defs,
            **resource_bindings(resources),
        }
        bindings.setdefault("io_manager", DEFAULT_IO_MANAGER)
        return run_job(
            self.name,
            self.graph,
            bindings,
            run_config=run_config,
            instance=instance,
            tags={**self.tags, **(tags or {})},
            raise_on_error=raise_on_error,
            executor=executor,
        )

    def __repr__(self) -> str:
        return f"<job {self.name}>"


@overload
def job(fn: Callable[..., Any], /) -> JobDefinition: ...


@overload
def job(
    fn: None = None,
    /,
    *,
    name: str | None = None,
    resource_defs: Mapping[str, Any] | None = None,
    tags: Mapping[str, str] | None = None,
    description: str | None = None,
    executor_def: Any = None,
    log_stdout: bool = False,
) -> Callable[[Callable[..., Any]], JobDefinition]: ...


def job(
    fn: Callable[..., Any] | None = None,
    /,
    *,
    name: str | None = None,
    resource_defs: Mapping[str, Any] | None = None,
    tags: Mapping[str, str] | None = None,
    description: str | None = None,
    executor_def: Any = None,
    log_stdout: bool = False,
) -> JobDefinition | Callable[[Callable[..., Any]], JobDefinition]:
    """Compose ops into a job: inside the body, ``op_b(op_a())`` wires ``op_a``'s output into
    ``op_b``. ``resource_defs`` are the job's own resources (they win over Definitions').
    ``log_stdout=True`` makes what every step prints an INFO record of its logger (recorded as
    ``LOG`` events), as Prefect 1's ``log_stdout`` does for a task.

    Example:
        >>> from outfitter import job, op
        >>> @op
        ... def one() -> int:
        ...     return 1
        >>> @job(name="tiny", tags={"team": "data"})
        ... def tiny_job():
        ...     one()
        >>> tiny_job.name, [n.key for n in tiny_job.nodes]
        ('tiny', ['one'])
    """

    check_decorated(fn, "job")

    def wrap(f: Callable[..., Any]) -> JobDefinition:
        job_name = name or f.__name__
        nodes, _ = _compose(f, f"job {job_name!r}")
        return JobDefinition(
            job_name,
            nodes,
            resource_defs=resource_defs,
            tags=tags,
            description=description or f.__doc__,
            executor_def=executor_def,
            log_stdout=log_stdout,
        )

    return wrap(fn) if fn is not None else wrap


def graph(fn: Callable[..., Any] | None = None, /, *, name: str | None = None) -> Any:
    """Compose ops into a reusable graph (see :class:`GraphDefinition`).

    Example:
        >>> from outfitter import graph, job, op
        >>> @op
        ... def two() -> int:
        ...     return 2
        >>> @graph
        ... def sub():
        ...     two()
        >>> @job
        ... def outer():
        ...     sub()
        >>> [n.key for n in outer.nodes]
        ['sub.two']
    """

    check_decorated(fn, "graph")

    def wrap(f: Callable[..., Any]) -> GraphDefinition:
        return GraphDefinition(f, name)

    return wrap(fn) if fn is not None else wrap


class UnresolvedAssetJob:
    """A job over a selection of assets, resolved when ``Definitions`` knows the assets.

    Example:
        >>> from outfitter import define_asset_job
        >>> define_asset_job("refresh", selection=["users"]).name
        'refresh'
    """

    def __init__(
        self,
        name: str,
        selection: Iterable[Any] | None,
        tags: Mapping[str, str] | None,
        description: str | None,
        executor_def: Any,
        log_stdout: bool = False,
    ) -> None:
        self.name = name
        self.selection = None if selection is None else list(selection)
        self.log_stdout = log_stdout
        self.tags = dict(tags or {})
        self.description = description
        self.executor_def = executor_def

    def resolve(self, assets: Iterable[Any]) -> JobDefinition:
        """The job over ``assets`` restricted to the selection."""
        from .selection import asset_graph

        assets = list(assets)
        graph = asset_graph(assets, self.selection, f"asset job {self.name!r}")
        job_def = JobDefinition(
            self.name,
            graph,
            tags=self.tags,
            description=self.description,
            executor_def=self.executor_def,
            log_stdout=self.log_stdout,
        )
        for a in assets:
            job_def.resource_defs.update(a.resource_defs)
        return job_def

    def __repr__(self) -> str:
        return f"<asset job {self.name}>"


def define_asset_job(
    name: str,
    selection: Iterable[Any] | None = None,
    *,
    tags: Mapping[str, str] | None = None,
    description: str | None = None,
    executor_def: Any = None,
    log_stdout: bool = False,
) -> UnresolvedAssetJob:
    """A job that materializes ``selection`` (asset keys, strings or assets; all when None),
    resolved against the assets of the ``Definitions`` it is given to.

    Example:
        >>> from outfitter import Definitions, asset, define_asset_job
        >>> @asset
        ... def users() -> list[str]:
        ...     return ["ada"]
        >>> defs = Definitions(assets=[users], jobs=[define_asset_job("refresh", ["users"])])
        >>> defs.get_job_def("refresh").execute_in_process().asset_value("users")
        ['ada']
    """
    return UnresolvedAssetJob(name, selection, tags, description, executor_def, log_stdout)
