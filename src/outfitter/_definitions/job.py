"""Jobs: ``@job`` / ``@graph`` composition of ops, and ``define_asset_job`` over assets.

Inside a ``@job`` (or ``@graph``) body, calling an op records a node and returns a handle;
passing a handle to another op makes an edge. The body runs once, at decoration.
"""

from __future__ import annotations

import collections
import dataclasses
import inspect
import typing
from collections.abc import Callable, Iterable, Mapping
from contextvars import ContextVar
from typing import TYPE_CHECKING, Any, overload

import pydantic
from pydantic import BaseModel, ValidationError

from .._config.errors import field_errors
from .._config.run_config import RunConfig as RunConfigType
from .._resources.bindings import plan_of_bindings, resource_bindings
from .._resources.io_manager import DEFAULT_IO_MANAGER
from ..exceptions import ConfigError, DefinitionError, OutfitterError
from .decorators import check_decorated
from .graph import NodeGraph
from .node import NO_DEFAULT, InputSpec, NodeSpec
from .outputs import compute_fn
from .policy import RetryPolicy, retry_fields

if TYPE_CHECKING:
    from .._config.run_config import RunConfig
    from .._execution.result import ExecuteResult
    from .decorators import OpDefinition

__all__ = [
    "ConfigMapping",
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
    """The future output of an op inside a job body; pass it to another op. ``output_name``
    names one output of an op with declared outputs (None: the op's one output)."""

    __slots__ = ("node_key", "output_name")

    def __init__(self, node_key: str, output_name: str | None = None) -> None:
        self.node_key = node_key
        self.output_name = output_name

    def __repr__(self) -> str:
        if self.output_name is not None:
            return f"<output {self.output_name!r} of {self.node_key}>"
        return f"<output of {self.node_key}>"


def _handles(key: str, op_def: OpDefinition) -> Any:
    """What calling ``op_def`` in a job body returns: one handle, or (several outputs) a named
    tuple of handles in declaration order, as Dagster's composition does."""
    outputs = op_def.outputs
    if outputs is None:
        return OutputHandle(key)
    if len(outputs) == 1:
        return OutputHandle(key, outputs[0].name)
    names = [o.name for o in outputs]
    handles = collections.namedtuple(f"_{op_def.name}_outputs", names)  # type: ignore[misc]
    return handles(*(OutputHandle(key, n) for n in names))


def _input_spec(owner: str, op_def: OpDefinition, name: str, value: Any) -> InputSpec:
    declared = op_def.ins.get(name)
    manager = declared.input_manager_key if declared is not None else None
    if isinstance(value, OutputHandle):
        return InputSpec(
            name,
            upstream=value.node_key,
            upstream_output=value.output_name,
            input_manager_key=manager,
            # what it takes when an op_selection leaves its upstream out
            default=declared.default_value if declared is not None else NO_DEFAULT,
        )
    if isinstance(value, tuple) and value and all(isinstance(v, OutputHandle) for v in value):
        raise DefinitionError(
            f"{owner}: input {name!r} of op {op_def.name!r} was given all the outputs of op "
            f"{value[0].node_key!r}",
            hint="that op has several outputs: unpack them (a, b = split()) and pass one.",
        )
    return InputSpec(name, value=value)


class _Composition:
    def __init__(self, owner: str, prefix: str = "", retry_policy: Any = None) -> None:
        self.owner = owner
        self.prefix = prefix
        self.retry_policy = retry_policy  # the job's op_retry_policy: for ops without their own
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
        declared = op_def.ins
        missing = [
            n
            for n in names
            if n not in given
            and n not in op_def.params.optional_inputs
            and not (
                n in declared and (declared[n].has_default_value or declared[n].input_manager_key)
            )
        ]
        if missing:
            raise DefinitionError(
                f"{self.owner}: op {op_def.name!r} is missing input(s) {missing}",
                hint="pass the output of another op (or a constant) for each input.",
            )
        inputs = tuple(_input_spec(self.owner, op_def, n, v) for n, v in given.items())
        for name, decl in declared.items():  # unwired: a default value, or an input manager
            if name not in given and name in names:
                if decl.input_manager_key:
                    inputs += (InputSpec(name, input_manager_key=decl.input_manager_key),)
                elif decl.has_default_value:
                    inputs += (InputSpec(name, value=decl.default_value),)
        self.nodes.append(
            NodeSpec(
                key=key,
                fn=compute_fn(op_def.fn),
                kind="op",
                params=op_def.params,
                inputs=inputs,
                resource_keys=op_def.resource_keys | op_def.io_keys,
                # the I/O manager is a required resource of the step (as in Dagster), so
                # context.resources.io_manager works
                context_resource_keys=op_def.resource_keys | op_def.io_keys,
                io_manager_key=op_def.io_manager_key,
                config_type=op_def.params.config_type,
                description=op_def.description,
                tags=op_def.tags,
                log_stdout=op_def.log_stdout,
                outputs=op_def.outputs,
                **retry_fields(
                    self.retry_policy if op_def.retry_policy is None else op_def.retry_policy
                ),
            )
        )
        return _handles(key, op_def)


_COMPOSING: ContextVar[_Composition | None] = ContextVar("outfitter_composition", default=None)


def current_composition() -> _Composition | None:
    """The job/graph body being composed right now, if any."""
    return _COMPOSING.get()


def _compose(
    fn: Callable[..., Any], owner: str, prefix: str = "", retry_policy: Any = None
) -> tuple[list[NodeSpec], Any]:
    # A body that calls no op (`...`, `pass`) is a valid placeholder, as in Dagster, whose
    # do_composition (dagster/_core/definitions/composition.py) accepts an empty graph: the
    # job runs no step and succeeds.
    composition = _Composition(owner, prefix, retry_policy)
    token = _COMPOSING.set(composition)
    try:
        result = fn()
    finally:
        _COMPOSING.reset(token)
    return composition.nodes, result


class GraphDefinition:
    """A reusable composition of ops (``@graph``); call it inside a job body, make it a job
    with :meth:`to_job`, or run it with :meth:`execute_in_process`.

    Inside a job, its ops are named ``<graph>.<op>``; as a job of its own (``to_job``,
    ``execute_in_process``) the graph is the whole job and its ops keep their own names, as in
    Dagster.

    Example:
        >>> from outfitter import graph, op
        >>> @op
        ... def one() -> int:
        ...     return 1
        >>> @graph
        ... def pipeline():
        ...     one()
        >>> pipeline.to_job().execute_in_process().output_for_node("one")
        1
        >>> pipeline.execute_in_process().success
        True
    """

    def __init__(self, fn: Callable[..., Any], name: str | None = None) -> None:
        self.fn = fn
        self.name = name or fn.__name__
        self.description = inspect.getdoc(fn)
        self.nodes, _ = _compose(fn, f"graph {self.name!r}")

    def __call__(self) -> Any:
        composition = current_composition()
        if composition is None:
            raise DefinitionError(
                f"graph {self.name!r} was called outside a job body",
                hint="call it inside a @job function, or use graph.to_job() / "
                "graph.execute_in_process().",
            )
        prefix = f"{composition.prefix}{self.name}."
        nodes, result = _compose(
            self.fn, f"graph {self.name!r}", prefix=prefix, retry_policy=composition.retry_policy
        )
        composition.nodes.extend(nodes)
        return result

    def to_job(
        self,
        name: str | None = None,
        description: str | None = None,
        resource_defs: Mapping[str, Any] | None = None,
        config: RunConfig | Mapping[str, Any] | ConfigMapping | None = None,
        tags: Mapping[str, str] | None = None,
        executor_def: Any = None,
        log_stdout: bool = False,
        op_retry_policy: RetryPolicy | None = None,
        op_selection: Iterable[str] | None = None,
    ) -> JobDefinition:
        """A job running this graph (Dagster's ``GraphDefinition.to_job``): its own resources,
        default run config (``config``, as for ``@job``) and executor; ``op_retry_policy`` for
        the ops without their own, and ``op_selection`` to run only some ops.

        Example:
            >>> from outfitter import graph, op
            >>> @op
            ... def one() -> int:
            ...     return 1
            >>> @graph
            ... def pipeline():
            ...     one()
            >>> pipeline.to_job(name="nightly").name
            'nightly'
        """
        nodes = self.nodes
        if op_retry_policy is not None:
            nodes, _ = _compose(self.fn, f"graph {self.name!r}", retry_policy=op_retry_policy)
        return JobDefinition(
            name or self.name,
            nodes,
            resource_defs=resource_defs,
            config=config,
            tags=tags,
            description=description or self.description,
            executor_def=executor_def,
            log_stdout=log_stdout,
            op_selection=op_selection,
        )

    def execute_in_process(
        self,
        run_config: RunConfig | Mapping[str, Any] | None = None,
        instance: Any = None,
        resources: Mapping[str, Any] | None = None,
        raise_on_error: bool = True,
        tags: Mapping[str, str] | None = None,
        op_selection: Iterable[str] | None = None,
    ) -> ExecuteResult:
        """Run the graph as a job in this process with ``resources`` (Dagster's
        ``GraphDefinition.execute_in_process``, which builds an ephemeral job of the graph);
        ``op_selection`` runs only some ops (see :meth:`JobDefinition.execute_in_process`).

        Example:
            >>> from outfitter import graph, op
            >>> @op
            ... def two() -> int:
            ...     return 2
            >>> @graph
            ... def sub():
            ...     two()
            >>> sub.execute_in_process().output_for_node("two")
            2
        """
        # dagster/_core/definitions/graph_definition.py: execute_in_process makes
        # JobDefinition(graph_def=self, resource_defs=resources) and runs it in process.
        return self.to_job(resource_defs=resources).execute_in_process(
            run_config=run_config,
            instance=instance,
            raise_on_error=raise_on_error,
            tags=tags,
            op_selection=op_selection,
        )

    def __repr__(self) -> str:
        return f"<graph {self.name}>"


class ConfigMapping:
    """A job's run config through a function (Dagster's ``ConfigMapping``): the run config a
    launch gives is validated against ``config_schema`` and passed to ``config_fn``, which
    returns the job's real run config (a dict or a :class:`RunConfig`).

    ``config_schema`` is a :class:`Config` (or other pydantic model) class, or a dict of field
    names to Python types; when omitted it is read from the annotation of ``config_fn``'s
    parameter (a ``Config`` class). A function annotated with a ``Config`` class receives the
    validated model, any other function a dict.

    Example:
        >>> from outfitter import ConfigMapping, job, op
        >>> @op
        ... def greet(config: dict) -> str:
        ...     return config["name"]
        >>> mapping = ConfigMapping(
        ...     config_fn=lambda outer: {"ops": {"greet": {"config": {"name": outer["who"]}}}},
        ...     config_schema={"who": str},
        ... )
        >>> @job(config=mapping)
        ... def hello():
        ...     greet()
        >>> hello.execute_in_process(run_config={"who": "ada"}).output_for_node("greet")
        'ada'
    """

    def __init__(
        self,
        config_fn: Callable[[Any], Any],
        config_schema: Any = None,
        description: str | None = None,
    ) -> None:
        if not callable(config_fn):
            raise DefinitionError(
                f"ConfigMapping(config_fn=...) takes a function, got {type(config_fn).__name__}",
                hint="e.g. ConfigMapping(config_fn=lambda outer: {'ops': {...}}, "
                "config_schema={'date': str}).",
            )
        self.config_fn = config_fn
        self.description = description
        self._pass_model = False
        if config_schema is None:
            config_schema = _annotated_model(config_fn)
            self._pass_model = config_schema is not None
        elif isinstance(config_schema, type) and issubclass(config_schema, BaseModel):
            self._pass_model = _annotated_model(config_fn) is config_schema
        self.config_schema = config_schema
        self._model = _schema_model(config_schema)

    def resolve(self, outer: Any, owner: str) -> Any:
        """The job's run config for the launch config ``outer``."""
        if isinstance(outer, RunConfigType):
            raise ConfigError(
                f"{owner} maps its run config with a ConfigMapping, so it takes that mapping's "
                "config, not a RunConfig",
                hint=f"pass run_config={{...}} with the fields {_schema_fields(self._model)}.",
            )
        value: Any = outer
        if self._model is not None:
            given = outer if isinstance(outer, BaseModel) else dict(outer or {})
            try:
                model = (
                    given if isinstance(given, self._model) else self._model.model_validate(given)
                )
            except ValidationError as exc:
                problems = [f"config field '{loc}': {msg}" for loc, msg in field_errors(exc)]
                raise ConfigError(
                    f"{owner}: {len(problems)} problem(s) in the run config its ConfigMapping "
                    "takes",
                    problems=problems,
                    hint=f"the ConfigMapping's fields are {_schema_fields(self._model)}.",
                ) from None
            value = model if self._pass_model else model.model_dump()
        return self.config_fn(value)

    def __repr__(self) -> str:
        return f"ConfigMapping({getattr(self.config_fn, '__name__', self.config_fn)!r})"


def _annotated_model(fn: Callable[..., Any]) -> type[BaseModel] | None:
    try:
        params = list(inspect.signature(fn).parameters.values())
        hints = typing.get_type_hints(fn)
    except (TypeError, ValueError, NameError):
        return None
    if not params:
        return None
    hint = hints.get(params[0].name)
    return hint if isinstance(hint, type) and issubclass(hint, BaseModel) else None


def _schema_model(schema: Any) -> type[BaseModel] | None:
    if schema is None:
        return None
    if isinstance(schema, type) and issubclass(schema, BaseModel):
        return schema
    if isinstance(schema, Mapping):
        fields: dict[str, Any] = {str(k): (v, ...) for k, v in schema.items()}
        return pydantic.create_model(
            "ConfigMappingSchema", __config__=pydantic.ConfigDict(extra="forbid"), **fields
        )
    raise DefinitionError(
        f"ConfigMapping(config_schema=...) takes a Config class or a dict of field types, got "
        f"{type(schema).__name__}",
        hint="e.g. config_schema={'date': str}, or annotate config_fn's parameter with a "
        "Config class.",
    )


def _schema_fields(model: type[BaseModel] | None) -> list[str]:
    return [] if model is None else list(model.model_fields)


def _with_defaults(default: Any, given: Any) -> Any:
    """``given`` over a job's default run config: like Dagster, each top-level section given
    (``ops``, ``resources``, ``execution``) replaces the default's; the others stay."""
    if given is None:
        return default
    if isinstance(default, RunConfigType) and isinstance(given, RunConfigType):
        return RunConfigType(
            ops=given.ops or default.ops,
            resources=given.resources or default.resources,
            execution=given.execution or default.execution,
        )
    base = default.to_config_dict() if isinstance(default, RunConfigType) else dict(default)
    top = given.to_config_dict() if isinstance(given, RunConfigType) else dict(given)
    return {**base, **top}


def _check_job_config(name: str, config: Any, graph: NodeGraph) -> Any:
    """A job's ``config``, checked when the job is defined: Dagster validates a default run
    config when it builds the job (``_config_mapping_with_default_value`` in
    dagster/_core/definitions/job_definition.py raises "Error in config when building job")."""
    if config is None or isinstance(config, ConfigMapping):
        return config
    if not isinstance(config, RunConfigType | Mapping):
        raise DefinitionError(
            f"job {name!r}: config= takes a dict, a RunConfig or a ConfigMapping, got "
            f"{type(config).__name__}",
            hint="e.g. @job(config={'ops': {'my_op': {'config': {'limit': 5}}}}).",
        )
    from .._config.run_config import run_config_problems
    from .._execution.launch import step_configs

    problems = list(run_config_problems(config))
    if not problems:
        problems = step_configs(graph.nodes, config)[1]
    if problems:
        raise ConfigError(
            f"job {name!r}: {len(problems)} problem(s) in its default run config (config=...)",
            problems=problems,
            hint="fix the config given to @job(config=...) / to_job(config=...); it is the "
            "run config of every launch that does not replace its sections.",
        )
    return config


def _check_resource_cycles(name: str, resource_defs: Mapping[str, Any]) -> None:
    """A dependency cycle among a job's own resources is reported when the job is defined
    (as Dagster does), not at its first run. Other problems (a dependency bound later by
    ``Definitions``) wait until the job's resources are complete."""
    try:
        plan_of_bindings(dict(resource_defs))
    except OutfitterError as exc:
        cycles = [p for p in exc.problems if p.startswith("resource dependency cycle")]
        if cycles:
            raise DefinitionError(
                f"job {name!r}: its resource_defs depend on each other in a cycle",
                problems=cycles,
                hint="a resource cannot (directly or indirectly) depend on itself; break the "
                "cycle by removing one of the dependencies.",
            ) from None


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
        config: RunConfig | Mapping[str, Any] | ConfigMapping | None = None,
        op_selection: Iterable[str] | None = None,
    ) -> None:
        self.name = name
        if log_stdout:  # what every step prints becomes its log records
            listed = nodes.nodes if isinstance(nodes, NodeGraph) else nodes
            nodes = [dataclasses.replace(n, log_stdout=True) for n in listed]
        self.graph = nodes if isinstance(nodes, NodeGraph) else NodeGraph(nodes, f"job {name!r}")
        if op_selection is not None:
            self.graph = op_subset(self.graph, op_selection, f"job {name!r}")
            if config is not None and not isinstance(config, ConfigMapping):
                config = _only_selected_ops(config, self.graph)  # ignored, as in Dagster
        self.nodes = list(self.graph.nodes)
        self.resource_defs = dict(resource_defs or {})
        self.tags = dict(tags or {})
        self.description = description
        self.executor_def = executor_def
        self.log_stdout = log_stdout
        self.base_resources: Any = None  # Definitions-level resources, read at each run
        self.config = _check_job_config(name, config, self.graph)
        if self.resource_defs:
            _check_resource_cycles(name, self.resource_defs)

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
        op_selection: Iterable[str] | None = None,
    ) -> ExecuteResult:
        """Run the job in this process, whatever its executor (resources given here win over
        the job's own).

        ``op_selection`` runs only some ops, in Dagster's syntax: ``"name"``, ``"*name"``
        (with everything upstream), ``"+name"`` (one level up), ``"name*"``, ``"name+"``,
        ``"*"`` (all), a graph's name for all its ops. A selected op whose upstream op is not
        selected must have a default for that input (Dagster would also take it from run
        config); the config of ops not selected is ignored.

        Example:
            >>> from outfitter import job, op
            >>> @op
            ... def extract() -> int:
            ...     return 1
            >>> @op
            ... def load(value: int) -> int:
            ...     return value + 1
            >>> @job
            ... def etl():
            ...     load(extract())
            >>> etl.execute_in_process(op_selection=["extract"]).output_for_node("extract")
            1
        """
        from .._execution.executors import in_process_executor

        graph = self.graph
        if op_selection is not None:
            graph = op_subset(graph, op_selection, f"job {self.name!r}")
        run_config = self.run_config_for(run_config)
        if graph is not self.graph:
            run_config = _only_selected_ops(run_config, graph)
        return self._run(
            run_config, resources, instance, raise_on_error, tags, in_process_executor, graph
        )

    def run_config_for(self, run_config: Any) -> Any:
        """The run config a launch with ``run_config`` uses: through the job's ConfigMapping,
        or over its default ``config`` (each top-level section given replaces the default's,
        as in Dagster)."""
        if isinstance(self.config, ConfigMapping):
            return self.config.resolve(run_config, f"job {self.name!r}")
        if self.config is None:
            return run_config
        return _with_defaults(self.config, run_config)

    def execute(
        self,
        run_config: RunConfig | Mapping[str, Any] | None = None,
        resources: Mapping[str, Any] | Any = None,
        instance: Any = None,
        raise_on_error: bool = True,
        tags: Mapping[str, str] | None = None,
        op_selection: Iterable[str] | None = None,
    ) -> ExecuteResult:
        """Run the job with its executor: the run config's ``execution`` section, else the
        job's ``executor_def`` (from ``@job`` or ``Definitions(executor=...)``), else in
        process. ``op_selection`` as for :meth:`execute_in_process`."""
        from .._execution.executors import select_executor

        graph = self.graph
        if op_selection is not None:
            graph = op_subset(graph, op_selection, f"job {self.name!r}")
        run_config = self.run_config_for(run_config)
        if graph is not self.graph:
            run_config = _only_selected_ops(run_config, graph)
        executor = select_executor(self.executor_def, run_config, f"job {self.name!r}")
        return self._run(run_config, resources, instance, raise_on_error, tags, executor, graph)

    def _run(
        self,
        run_config: Any,
        resources: Any,
        instance: Any,
        raise_on_error: bool,
        tags: Mapping[str, str] | None,
        executor: Any,
        graph: NodeGraph | None = None,
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
            self.graph if graph is None else graph,
            bindings,
            run_config=run_config,
            instance=instance,
            tags={**self.tags, **(tags or {})},
            raise_on_error=raise_on_error,
            executor=executor,
        )

    def __repr__(self) -> str:
        return f"<job {self.name}>"


def _check_policy(policy: Any, owner: str) -> None:
    if policy is not None and not isinstance(policy, RetryPolicy):
        raise DefinitionError(
            f"{owner}: op_retry_policy= takes a RetryPolicy, got {type(policy).__name__} "
            f"{policy!r}",
            hint="e.g. op_retry_policy=RetryPolicy(max_retries=3, delay=1).",
        )


def op_subset(graph: NodeGraph, op_selection: Iterable[str], owner: str) -> NodeGraph:
    """The nodes of ``graph`` that ``op_selection`` picks (Dagster's op selection syntax, as
    parsed by dagster/_core/selector/subset_selector.py), as a graph of their own: inputs
    from unselected ops fall back to their defaults (or input managers); a required one is a
    DefinitionError naming the op, the input and its upstream op."""
    from .selection import select_nodes

    if isinstance(op_selection, str):
        op_selection = [op_selection]
    clauses = list(op_selection)
    names = [n.key for n in graph.nodes]
    upstream = {n.key: set(n.upstream) for n in graph.nodes}
    downstream: dict[str, set[str]] = {k: set() for k in names}
    for key, ups in upstream.items():
        for up in ups:
            downstream.setdefault(up, set()).add(key)
    groups: dict[str, set[str]] = {}
    for key in names:  # a graph's name selects all its ops ("sub" for "sub.a", "sub.b")
        parts = key.split(".")
        for i in range(1, len(parts)):
            groups.setdefault(".".join(parts[:i]), set()).add(key)
    picked, problems = select_nodes(clauses, names, upstream, downstream, "op", owner, groups)
    if not problems and not picked:
        problems.append(f"op_selection={clauses!r} selects no op")
    keep = set(picked)
    nodes: list[NodeSpec] = []
    for node in graph.nodes:
        if node.key not in keep:
            continue
        inputs = []
        for inp in node.inputs:
            # an unconnected input takes, in order, its input manager, its In(default_value=)
            # or its parameter's default (docs.dagster.io/guides/build/jobs/unconnected-inputs)
            if inp.upstream is None or inp.upstream in keep:
                inputs.append(inp)
            elif inp.input_manager_key is not None:
                inputs.append(inp._replace(upstream=None, upstream_output=None))
            elif inp.default is not NO_DEFAULT:
                inputs.append(InputSpec(inp.name, value=inp.default))
            elif inp.name not in node.params.optional_inputs:
                problems.append(
                    f"op {node.key!r}, input {inp.name!r}: it takes the output of op "
                    f"{inp.upstream!r}, which is not selected"
                )
        after = tuple(a for a in node.after if a in keep)
        # by identity: a default value may not compare (a numpy array, a DataFrame)
        changed = len(inputs) != len(node.inputs) or any(
            new is not old for new, old in zip(inputs, node.inputs, strict=False)
        )
        if changed or after != node.after:
            node = dataclasses.replace(node, inputs=tuple(inputs), after=after)
        nodes.append(node)
    if problems:
        raise DefinitionError(
            f"{owner}: op_selection has {len(problems)} problem(s)",
            problems=problems,
            hint="select the upstream ops too (e.g. '*op_name'), or give those inputs a default; "
            f"ops: {', '.join(names) or 'none'}.",
        )
    return NodeGraph(nodes, owner)


def _only_selected_ops(run_config: Any, graph: NodeGraph) -> Any:
    """``run_config`` without the ``ops`` entries of ops a selection left out (Dagster ignores
    their config in a subset run)."""
    keys = {n.key for n in graph.nodes}
    heads = {k.split(".")[0] for k in keys}

    def keep(name: str) -> bool:
        return name in keys or name in heads

    if isinstance(run_config, RunConfigType):
        ops = run_config.ops
        if not ops:
            return run_config
        return RunConfigType(
            ops={k: v for k, v in ops.items() if keep(k)},
            resources=run_config.resources,
            execution=run_config.execution,
        )
    if isinstance(run_config, Mapping) and isinstance(run_config.get("ops"), Mapping):
        return {**run_config, "ops": {k: v for k, v in run_config["ops"].items() if keep(k)}}
    return run_config


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
    config: RunConfig | Mapping[str, Any] | ConfigMapping | None = None,
    op_retry_policy: RetryPolicy | None = None,
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
    config: RunConfig | Mapping[str, Any] | ConfigMapping | None = None,
    op_retry_policy: RetryPolicy | None = None,
) -> JobDefinition | Callable[[Callable[..., Any]], JobDefinition]:
    """Compose ops into a job: inside the body, ``op_b(op_a())`` wires ``op_a``'s output into
    ``op_b``. ``resource_defs`` are the job's own resources (they win over Definitions').
    ``config`` is the job's default run config (a dict or :class:`RunConfig`; each top-level
    section a launch gives replaces the default's), or a :class:`ConfigMapping`. A body that
    calls no op is a valid placeholder (the job runs no step).
    ``log_stdout=True`` makes what every step prints an INFO record of its logger (recorded as
    ``LOG`` events), as Prefect 1's ``log_stdout`` does for a task.
    ``op_retry_policy`` is the :class:`RetryPolicy` of every op that has none of its own.

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
        _check_policy(op_retry_policy, f"job {job_name!r}")
        nodes, _ = _compose(f, f"job {job_name!r}", retry_policy=op_retry_policy)
        return JobDefinition(
            job_name,
            nodes,
            resource_defs=resource_defs,
            tags=tags,
            description=description or f.__doc__,
            executor_def=executor_def,
            log_stdout=log_stdout,
            config=config,
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
        >>> sub.execute_in_process().output_for_node("two")
        2
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
        op_retry_policy: RetryPolicy | None = None,
    ) -> None:
        from .selection import as_asset_selection

        _check_policy(op_retry_policy, f"asset job {name!r}")
        self.op_retry_policy = op_retry_policy
        self.name = name
        # checked (shape only) when the job is defined; resolved against the Definitions' assets
        self.selection = as_asset_selection(selection, f"asset job {name!r}")
        self.log_stdout = log_stdout
        self.tags = dict(tags or {})
        self.description = description
        self.executor_def = executor_def

    def resolve(self, assets: Iterable[Any]) -> JobDefinition:
        """The job over ``assets`` restricted to the selection."""
        from .selection import asset_graph

        assets = list(assets)
        owner = f"asset job {self.name!r}"
        graph = asset_graph(assets, self.selection, owner)
        if self.op_retry_policy is not None:  # for the assets without a policy of their own
            own = {a.step_key for a in assets if a.retry_policy is not None}
            fields = retry_fields(self.op_retry_policy)
            graph = NodeGraph(
                [n if n.key in own else dataclasses.replace(n, **fields) for n in graph.nodes],
                owner,
            )
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
    op_retry_policy: RetryPolicy | None = None,
) -> UnresolvedAssetJob:
    """A job that materializes ``selection`` (an :class:`AssetSelection`, Dagster's clause
    strings such as ``"*report"``, asset keys or assets; all when None), resolved against the
    assets of the ``Definitions`` it is given to. ``op_retry_policy`` is the
    :class:`RetryPolicy` of every asset that has none of its own.

    Example:
        >>> from outfitter import Definitions, asset, define_asset_job
        >>> @asset
        ... def users() -> list[str]:
        ...     return ["ada"]
        >>> defs = Definitions(assets=[users], jobs=[define_asset_job("refresh", ["users"])])
        >>> defs.get_job_def("refresh").execute_in_process().asset_value("users")
        ['ada']
    """
    return UnresolvedAssetJob(
        name, selection, tags, description, executor_def, log_stdout, op_retry_policy
    )
