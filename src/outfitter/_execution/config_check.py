"""Checking run config before a run, and scaffolding it: :func:`validate_run_config` (what every
launch calls: ``execute_in_process``, ``materialize``, ``flow.run``, the CLI and the daemon),
:func:`scaffold_run_config` and :func:`run_config_yaml`.

Every problem is a :class:`ConfigProblem` with the path of the value in the run config
(``resources.db.config.password``, ``ops.raw__users.config.limit``), a message and a hint. A
launch that finds problems raises one :class:`~outfitter.exceptions.ConfigError` listing all of
them, followed by the scaffold of valid config for exactly what that run opens.

Scaffolds mark a value the run needs and has no default with the placeholder
``<required: TYPE>``; validating a config that still holds a placeholder reports exactly those
values as missing.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel, SecretBytes, SecretStr

from .._config.env_var import EnvVar
from .._config.problems import ConfigProblem, structured_problems
from .._config.redaction import _is_secret_annotation
from .._config.run_config import RunConfig, resource_launch_config, run_config_problems
from .._definitions.graph import NodeGraph
from .._resources.bindings import plan_of_bindings
from .._resources.configurable import PartialResource, class_info
from .._resources.definition import ResourceDefinition
from .._resources.spec import ResourcePlan
from ..exceptions import ConfigError, DefinitionError
from .io_config import check_io_configs

__all__ = [
    "ConfigProblem",
    "LaunchCheck",
    "check_launch",
    "launch_error",
    "resolve_target",
    "run_config_yaml",
    "scaffold_flow_parameters",
    "scaffold_run_config",
    "split_flow_parameters",
    "validate_flow_parameters",
    "validate_run_config",
]

PLACEHOLDER = re.compile(r"^<required: .*>$")

# -- the check every launch makes ----------------------------------------------------------------


@dataclass(slots=True)
class LaunchCheck:
    """What :func:`check_launch` found: the problems, the validated step configs and the plan
    with the launch config applied (None when there are problems)."""

    problems: list[ConfigProblem]
    configs: dict[str, Any] = field(default_factory=dict)
    bound: ResourcePlan | None = None
    example: str | None = None
    """The resource plan's own example for the resources with problems (Python and dict form)."""
    run_config: Any = None
    """The run config the steps see, when the check changed it: per-output and per-input I/O
    manager config validated by the I/O manager's schemas (defaults filled in)."""


def _placeholders(data: Any, path: str, found: list[str]) -> Any:
    """``data`` without scaffold placeholders; their paths are appended to ``found``."""
    if isinstance(data, Mapping) and not isinstance(data, RunConfig):
        out = {}
        for key, value in data.items():
            sub = f"{path}.{key}" if path else str(key)
            if isinstance(value, str) and PLACEHOLDER.match(value):
                found.append(sub)
                continue
            out[key] = _placeholders(value, sub, found)
        return out
    return data


def _in_run(path: str, opens: set[str], graph: NodeGraph) -> bool:
    """Whether a placeholder at ``path`` is config of a resource or step this run opens."""
    section, _, rest = path.partition(".")
    name = rest.split(".", 1)[0]
    if section == "resources":
        return name in opens
    if section == "ops":
        return name in graph.by_key
    return True


def check_launch(
    graph: NodeGraph,
    plan: ResourcePlan,
    run_config: Any,
    *,
    extra: Sequence[str] = (),
) -> LaunchCheck:
    """Check ``run_config`` for a run of ``graph`` with the resources of ``plan``: its shape,
    the config of every step, and the launch config of every resource the run can open (only
    those). ``extra`` are further problem lines (a flow's parameters). Every problem at once."""
    from .launch import step_configs

    names = [n.key for n in graph.nodes]
    shape = run_config_problems(run_config)
    if shape:
        return LaunchCheck([p for line in shape for p in structured_problems(line, names)])
    found: list[str] = []
    data = _placeholders(run_config, "", found) if run_config is not None else None
    configs, lines = step_configs(graph.nodes, data)
    bound = plan
    example = None
    try:
        bound = plan.bind(resource_launch_config(data), graph.resource_keys)
    except ConfigError as exc:
        lines = [*exc.problems, *lines]
        example = exc.hint
    checked, io_lines = check_io_configs(graph, plan, data)
    lines = list(dict.fromkeys([*lines, *io_lines]))  # a step not in the run is named once
    lines += list(extra)
    problems = [p for line in lines for p in structured_problems(line, names)]
    missing = set(found)
    problems = [p for p in problems if p.path not in missing]
    opens = {k for key in graph.resource_keys for k in plan.closure.get(key, (key,))}
    problems += [
        ConfigProblem(
            path,
            "required but not given: the scaffold's placeholder is still there",
            "replace it with a value, or with {env: NAME} to read it from the environment",
        )
        for path in found
        if _in_run(path, opens, graph)
    ]
    changed = checked if checked is not data else None
    return LaunchCheck(problems, configs, None if problems else bound, example, changed)


def launch_error(owner: str, check: LaunchCheck, scaffold: Mapping[str, Any]) -> ConfigError:
    """The one ConfigError a launch raises: every problem, then valid config for the run (the
    YAML ``scaffold`` of what it opens)."""
    shown = "the assets selected" if owner in ("'__ASSET_JOB'", "'__materialize__'") else owner
    example = (
        "Valid run config for this run (`<required: TYPE>` marks values without a default):\n"
        + run_config_yaml(scaffold).rstrip("\n")
        if scaffold
        else "This run takes no resource or step config."
    )
    resource_hint = f" Resources: {check.example}" if check.example else ""
    return ConfigError(
        f"{len(check.problems)} problem(s) in the run config of {shown}",
        problems=[str(p) for p in check.problems],
        hint=f"fix every item listed. Nothing was run.{resource_hint}\n{example}",
    )


# -- targets ---------------------------------------------------------------------------------------


def resolve_target(target: Any, selection: Any) -> tuple[NodeGraph, ResourcePlan, str]:
    """The graph, resource plan and name of a job, a Definitions' asset selection, or a flow."""
    from .._definitions.definitions import Definitions
    from .._definitions.job import JobDefinition
    from .._definitions.selection import cached_asset_graph
    from .._flows.flow import Flow
    from .._resources.bindings import resource_bindings
    from .._resources.io_manager import DEFAULT_IO_MANAGER
    from .materialize import _asset_resources, _check_assets, _with_default_io_manager

    if selection is not None and not isinstance(target, Definitions):
        raise DefinitionError(
            f"selection= is for a Definitions' assets, not a {type(target).__name__}",
            hint="pass the Definitions and selection=['key', ...], or a job without selection.",
        )
    if isinstance(target, JobDefinition):
        bindings = {
            **resource_bindings(target.base_resources),
            **target.resource_defs,
        }
        bindings.setdefault("io_manager", DEFAULT_IO_MANAGER)
        return target.graph, plan_of_bindings(bindings), f"job {target.name!r}"
    if isinstance(target, Definitions):
        assets, selected = _check_assets(target.assets, selection, "validate_run_config()")
        bindings = _with_default_io_manager(
            _asset_resources(assets, target._resources), DEFAULT_IO_MANAGER
        )
        graph = cached_asset_graph(assets, selected, "validate_run_config()")
        return graph, plan_of_bindings(bindings), "the assets selected"
    if isinstance(target, Flow):
        flow_plan = target._plan()
        return (
            flow_plan.graph,
            plan_of_bindings(resource_bindings(target.resources)),
            f"flow {target.name!r}",
        )
    raise DefinitionError(
        f"cannot check run config against a {type(target).__name__}",
        hint="pass a job, a Definitions (with selection=[...] for some of its assets) or a Flow.",
    )


def validate_run_config(
    target: Any, run_config: RunConfig | Mapping[str, Any] | None, *, selection: Any = None
) -> list[ConfigProblem]:
    """Every problem of ``run_config`` for a run of ``target`` (a job, the assets of a
    Definitions, narrowed by ``selection``, or a Flow), without running anything: the same
    check every launch makes. Empty when the config is valid.

    Example:
        >>> from outfitter import ConfigurableResource, Definitions, asset, validate_run_config
        >>> class Db(ConfigurableResource):
        ...     port: int
        >>> @asset
        ... def users(db: Db) -> int:
        ...     return db.port
        >>> defs = Definitions(assets=[users], resources={"db": Db.configure_at_launch()})
        >>> for p in validate_run_config(defs, {"resources": {"db": {"config": {"port": "x"}}}}):
        ...     print(p.path)
        resources.db.config.port
    """
    graph, plan, _ = resolve_target(target, selection)
    return check_launch(graph, plan, run_config).problems


# -- scaffolding -----------------------------------------------------------------------------------


def _type_name(annotation: Any) -> str:
    if isinstance(annotation, type):
        return annotation.__name__
    return str(annotation).replace("typing.", "")


def _plain(value: Any) -> Any:
    """A default as YAML data: EnvVars as ``{env: NAME}``, models as mappings."""
    if isinstance(value, EnvVar):
        return {"env": value.env_var_name}
    if isinstance(value, BaseModel):
        return {k: _plain(getattr(value, k)) for k in type(value).model_fields}
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [_plain(v) for v in value]
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, enum.Enum):
        return value.name  # config takes an Enum by name, as Dagster's does
    return str(value)


_OMIT = object()


def _model_fields(
    model: type[BaseModel], given: Mapping[str, Any], skip: frozenset[str] = frozenset()
) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name, info in model.model_fields.items():
        if name in skip:
            continue
        value: Any
        if name in given:
            value = given[name]
        elif info.is_required():
            out[name] = f"<required: {_type_name(info.annotation)}>"
            continue
        else:
            value = info.get_default(call_default_factory=True)
        if isinstance(value, SecretStr | SecretBytes) or (
            _is_secret_annotation(info.annotation) and not isinstance(value, EnvVar)
        ):
            continue  # a secret default is never shown
        out[name] = _plain(value)
    return out


def _resource_scaffold(src: Any) -> Any:
    if isinstance(src, PartialResource):
        cls = src.resource_cls
        return _model_fields(cls, src.defaults, frozenset(class_info(cls).nested))
    if isinstance(src, ResourceDefinition) and src.config.source is not None:
        model = src.config.model
        default = src.default_config
        if model is not None:
            return _model_fields(model, default if isinstance(default, Mapping) else {})
        return (
            _plain(default)
            if default is not None
            else f"<required: {_type_name(src.config.source)}>"
        )
    return _OMIT


def scaffold_for(graph: NodeGraph, plan: ResourcePlan) -> dict[str, Any]:
    """The scaffold of run config for a run of ``graph`` with the resources of ``plan``."""
    wanted = {k for key in graph.resource_keys for k in plan.closure.get(key, (key,))}
    resources: dict[str, Any] = {}
    for key in plan.order:
        spec = plan.specs[key]
        if key not in wanted or spec.owner is not None:
            continue
        config = _resource_scaffold(spec.source)
        if config is not _OMIT:
            resources[key] = {"config": config}
    ops: dict[str, Any] = {}
    for node in graph.nodes:
        model = node.config_type
        if node.params.config is None or not (
            isinstance(model, type) and issubclass(model, BaseModel)
        ):
            continue
        ops[node.key] = {"config": _model_fields(model, {})}
    out: dict[str, Any] = {}
    if resources:
        out["resources"] = resources
    if ops:
        out["ops"] = ops
    return out


def scaffold_run_config(target: Any, *, selection: Any = None) -> dict[str, Any]:
    """The run config a run of ``target`` (a job, the assets of a Definitions narrowed by
    ``selection``, or a Flow) takes: only the resources and steps that run opens, defaults as
    values, EnvVar fields as ``{"env": NAME}``, values without a default as the placeholder
    ``"<required: TYPE>"``. Secret defaults are never shown. Resources bound complete in code
    take no launch config and are not listed.

    Example:
        >>> from outfitter import ConfigurableResource, Definitions, asset, scaffold_run_config
        >>> class Db(ConfigurableResource):
        ...     host: str = "localhost"
        ...     port: int
        >>> @asset
        ... def users(db: Db) -> int:
        ...     return db.port
        >>> defs = Definitions(assets=[users], resources={"db": Db.configure_at_launch()})
        >>> scaffold_run_config(defs)
        {'resources': {'db': {'config': {'host': 'localhost', 'port': '<required: int>'}}}}
    """
    graph, plan, _ = resolve_target(target, selection)
    return scaffold_for(graph, plan)


def run_config_yaml(config: Mapping[str, Any]) -> str:
    """``config`` (e.g. a scaffold) as YAML text, keys in the order given.

    Example:
        >>> from outfitter import run_config_yaml
        >>> print(run_config_yaml({"ops": {"users": {"config": {"limit": 10}}}}), end="")
        ops:
          users:
            config:
              limit: 10
    """
    import yaml

    if not config:
        return "{}\n"
    text: str = yaml.safe_dump(dict(config), sort_keys=False, default_flow_style=False)
    return text


# -- flow parameters -------------------------------------------------------------------------------
# The launchpad writes a flow's parameters in its run config, under ``parameters``; flow.run()
# takes them as ``parameters=`` and the rest as ``run_config=``.


def split_flow_parameters(run_config: Any) -> tuple[Any, Any]:
    """A flow's run config as the launchpad writes it: its ``parameters`` section (None when
    absent) and the rest (what ``flow.run(run_config=...)`` takes).

    Example:
        >>> split_flow_parameters({"parameters": {"n": 5}, "resources": {}})
        ({'n': 5}, {'resources': {}})
    """
    if not isinstance(run_config, Mapping) or "parameters" not in run_config:
        return None, run_config
    rest = {key: value for key, value in run_config.items() if key != "parameters"}
    return run_config["parameters"], rest


def scaffold_flow_parameters(flow: Any) -> dict[str, Any]:
    """The ``parameters`` section of a flow's run config: each parameter with its default,
    a required one as the placeholder ``"<required: TYPE>"`` (``any`` without a default).

    Example:
        >>> from outfitter import Flow, Parameter, task
        >>> @task
        ... def add(a: int, b: int) -> int:
        ...     return a + b
        >>> with Flow("add") as flow:
        ...     add(Parameter("a"), Parameter("b", default=2))
        <...>
        >>> scaffold_flow_parameters(flow)
        {'a': '<required: any>', 'b': 2}
    """
    out: dict[str, Any] = {}
    for name, param in sorted(flow._plan().parameters.items()):
        if param.required:
            kind = "any" if param.default is None else type(param.default).__name__
            out[name] = f"<required: {kind}>"
        else:
            out[name] = _plain(param.default)
    return out


def validate_flow_parameters(flow: Any, parameters: Any) -> list[ConfigProblem]:
    """Every problem of a flow's ``parameters`` (unknown names with a did-you-mean, required
    ones missing or still the scaffold's placeholder): the check ``flow.run()`` makes.

    Example:
        >>> from outfitter import Flow, Parameter, task
        >>> @task
        ... def double(n: int) -> int:
        ...     return 2 * n
        >>> with Flow("double") as flow:
        ...     double(Parameter("n"))
        <...>
        >>> for problem in validate_flow_parameters(flow, {"nn": 1}):
        ...     print(problem)
        parameters.nn: unknown parameter 'nn'. Did you mean 'n'? (the flow's parameters: n)
        parameters.n: required parameter 'n' was not given
    """
    from .launch import _parameter_problems

    if parameters is None:
        parameters = {}
    if not isinstance(parameters, Mapping):
        return [
            ConfigProblem(
                "parameters",
                f"'parameters' must be a mapping of names, got {type(parameters).__name__}",
                "e.g. parameters: {n: 5}",
            )
        ]
    found: list[str] = []
    values = _placeholders(parameters, "parameters", found)
    plan = flow._plan()
    lines = _parameter_problems(plan, values)
    missing = set(found)
    names = f"the flow's parameters: {', '.join(sorted(plan.parameters)) or 'none'}"
    problems = [
        ConfigProblem(p.path, p.message, names if p.message.startswith("unknown") else p.hint)
        for line in lines
        for p in structured_problems(line)
        if p.path not in missing
    ]
    return problems + [
        ConfigProblem(
            path,
            "required but not given: the scaffold's placeholder is still there",
            "replace it with a value",
        )
        for path in found
    ]
