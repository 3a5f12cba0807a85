"""Starting runs from the Python API: :func:`run_job` (``job.execute_in_process()``,
``job.execute()``, ``materialize()``, the CLI and the daemon) and :func:`run_flow`
(``flow.run()``). Both validate everything a run needs before anything is recorded (step config,
flow parameters, launch config of the resources the run can open, the executor), reporting every
problem at once; then the one run driver runs them, and each builds what its front-end returns.

Where a run is recorded: the ``instance`` passed in; else, with the ``OUTFITTER_RECORD_RUNS``
setting on, the local instance (``OUTFITTER_HOME``); else an ephemeral one, as Dagster does.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any

from pydantic import ValidationError

from .._config.env_var import contains_env_var
from .._config.errors import field_errors
from .._config.redaction import mask_secret_fields
from .._config.run_config import RunConfig, env_from_data, resolve_step_configs
from .._definitions.graph import NodeGraph
from .._definitions.node import NodeSpec
from .._flows.compile import FlowPlan
from .._flows.state import Failed, State
from .._instance import Instance, RunStatus
from .._resources.bindings import plan_of_bindings
from .._resources.configurable import redacted_config
from .._resources.context import did_you_mean
from .._resources.io_manager import is_in_memory
from .._resources.spec import ResourcePlan
from .._resources.spec import config_model as _config_model
from ..exceptions import ConfigError, MissingResourceError, OutfitterError
from .config_check import check_launch, launch_error, scaffold_for, split_flow_parameters
from .driver import Launch, RunEnd, drive
from .executors import ExecutorDefinition, in_process_executor, select_executor
from .policies import FlowPolicy, JobPolicy
from .pools import check_io_managers, load_outputs
from .result import ExecuteResult

__all__ = ["record_config", "record_runs_locally", "run_flow", "run_job", "step_configs"]


def _ops_config(run_config: RunConfig | Mapping[str, Any] | None) -> dict[str, Any]:
    if run_config is None:
        return {}
    if isinstance(run_config, RunConfig):
        return dict(run_config.ops)
    ops = run_config.get("ops") or {}
    return {  # YAML's {env: NAME} leaves become EnvVars, as in resource config
        name: env_from_data(
            entry["config"] if isinstance(entry, Mapping) and "config" in entry else entry
        )
        for name, entry in ops.items()
        if not _only_io_sections(entry)
    }


def _only_io_sections(entry: Any) -> bool:
    """Whether an ``ops.<step>`` entry gives only I/O manager config (Dagster's ``outputs`` /
    ``inputs`` sections, see ``io_configs``) and no op config."""
    return isinstance(entry, Mapping) and bool(entry) and set(entry) <= {"outputs", "inputs"}


def step_configs(
    nodes: Sequence[NodeSpec], run_config: RunConfig | Mapping[str, Any] | None
) -> tuple[dict[str, Any], list[str]]:
    """Validated ``config`` values by node key, and the problems found (all of them)."""
    given = _ops_config(run_config)
    by_name = {n.key: n for n in nodes}
    problems = [
        f"run config for step {name!r}, which is not part of this run."
        + did_you_mean(name, by_name)
        for name in given
        if name not in by_name
    ]
    configs: dict[str, Any] = {}
    for node in nodes:
        if node.params.config is None:
            continue
        config_type = node.config_type
        raw = given.get(node.key)
        if config_type is None or isinstance(raw, config_type):
            configs[node.key] = raw
            continue
        if isinstance(raw, Mapping) and contains_env_var(raw):
            try:  # the constructor keeps EnvVars (even EnvVar.int for an int field) for later
                configs[node.key] = config_type(**raw)
            except OutfitterError as exc:
                problems.extend(f"step {node.key!r}: {p}" for p in exc.problems)
            continue
        try:
            configs[node.key] = config_type.model_validate(raw or {})
        except ValidationError as exc:
            problems.extend(
                f"step {node.key!r}, config field '{loc}': {msg}" for loc, msg in field_errors(exc)
            )
        except Exception as exc:  # a model_validator raising something else
            problems.append(f"step {node.key!r}: {exc}")
    return configs, problems


def record_runs_locally() -> bool:
    """Whether Python-API runs without an ``instance`` go to the local instance: the
    ``OUTFITTER_RECORD_RUNS`` setting (the real environment, else the ``.env`` file)."""
    raw = os.environ.get("OUTFITTER_RECORD_RUNS")
    if raw is None and not os.path.exists(os.environ.get("OUTFITTER_ENV_FILE", ".env")):
        return False  # the common case, without reading the settings
    from .._config.settings import get_settings

    return bool(get_settings().record_runs)


@contextmanager
def _instance_for(instance: Any) -> Iterator[tuple[Instance, bool]]:
    """The instance a run records in, and whether it is the run's own (closed after it)."""
    if instance is not None:
        yield instance, False
        return
    own = Instance.get() if record_runs_locally() else Instance.ephemeral()
    try:
        yield own, True
    finally:
        own.close()


def handoff(graph: NodeGraph, plan: ResourcePlan) -> frozenset[Any]:
    """The steps whose outputs reach their consumers in memory when run in process: those
    without an I/O manager and those whose I/O manager is the in-memory one (and, for a step
    with declared outputs, each such output as ``(step key, output name)``). Every other
    output's consumers load it through its I/O manager, as in Dagster."""
    specs = plan.specs

    def in_memory(key: str | None) -> bool:
        return key is None or (key in specs and is_in_memory(specs[key].source))

    keys: set[Any] = {n.key for n in graph.nodes if in_memory(n.io_manager_key)}
    for n in graph.nodes:
        for out in n.outputs or ():
            if in_memory(out.io_manager_key):
                keys.add((n.key, out.name))
    return frozenset(keys)


def record_config(run_config: Any, plan: ResourcePlan, graph: NodeGraph) -> Any:
    """What the run record keeps of ``run_config``: plain data with the values of secret
    fields masked, by what each resource and step config class declares (a secret given as a
    plain string in YAML is masked too); EnvVars are kept as ``{"env": NAME}`` by the instance."""
    if run_config is None:
        return None
    data = run_config.to_config_dict() if isinstance(run_config, RunConfig) else run_config
    if not isinstance(data, Mapping):
        return data
    out = dict(data)
    resources = data.get("resources")
    if isinstance(resources, Mapping):
        masked = {}
        for key, entry in resources.items():
            spec = plan.specs.get(key)
            model = _config_model(spec.source) if spec is not None else None
            if isinstance(entry, Mapping) and "config" in entry:
                masked[key] = {**entry, "config": mask_secret_fields(entry["config"], model)}
            else:
                masked[key] = mask_secret_fields(entry, model)
        out["resources"] = masked
    ops = data.get("ops")
    if isinstance(ops, Mapping):
        masked = {}
        for name, entry in ops.items():
            node = graph.by_key.get(name)
            model = node.config_type if node is not None else None
            if isinstance(entry, Mapping) and "config" in entry:
                masked[name] = {**entry, "config": mask_secret_fields(entry["config"], model)}
            else:
                masked[name] = mask_secret_fields(entry, model)
        out["ops"] = masked
    return out


# -- jobs ------------------------------------------------------------------------------------------


def run_job(
    name: str,
    graph: NodeGraph,
    resources: Any,
    *,
    run_config: RunConfig | Mapping[str, Any] | None = None,
    instance: Any = None,
    tags: Mapping[str, str] | None = None,
    raise_on_error: bool = True,
    executor: ExecutorDefinition | None = None,
) -> ExecuteResult:
    """Run the steps of ``graph`` (a job, or an asset selection) with ``resources`` (a dict or
    a container; its plan is cached) on ``executor`` (default: in this process)."""
    executor = executor or in_process_executor
    plan = plan_of_bindings(resources)
    check = check_launch(graph, plan, run_config)
    if check.bound is None:
        raise launch_error(repr(name), check, scaffold_for(graph, plan))
    configs, bound = resolve_step_configs(check.configs), check.bound
    if check.run_config is not None:  # I/O config validated by the I/O managers' schemas
        run_config = check.run_config
    if executor.name != "in_process":
        check_io_managers(graph.nodes, bound, executor.name)
    policy = JobPolicy(in_memory=executor.name == "in_process", handoff=handoff(graph, bound))
    record = record_config(run_config, bound, graph)
    launch = Launch(
        name, graph, bound, configs, run_config, record, dict(tags or {}), executor, policy
    )
    with _instance_for(instance) as (inst, own):
        end = drive(launch, inst)
        if not launch.in_process:
            done = [
                k for k in policy.results if k not in policy.failures and k not in policy.skipped
            ]
            outputs = load_outputs(graph.nodes, bound, end.run_id, done, inst, policy.results)
        else:
            outputs = policy.outputs()
        result = ExecuteResult(
            run_id=end.run_id,
            success=end.status is RunStatus.SUCCESS,
            outputs=outputs,
            nodes=graph.by_key,
            failures=policy.failures,
            run_error=None if end.canceled else end.run_error,
            teardown_error=end.teardown_error,
            run=inst.get_run(end.run_id),
            events=None,
            instance=inst,
            event_chunks=inst.event_chunks(end.run_id) if own else None,
        )
    _raise_end(end)
    if raise_on_error and not result.success:
        result.raise_first_error()
    return result


def _raise_end(end: RunEnd) -> None:
    """A canceled run re-raises its KeyboardInterrupt (RunCanceled for SIGTERM)."""
    if end.canceled:
        error = end.run_error
        raise error if isinstance(error, KeyboardInterrupt) else KeyboardInterrupt()


# -- flows -----------------------------------------------------------------------------------------


def _parameter_problems(plan: FlowPlan, values: Mapping[str, Any]) -> list[str]:
    params = plan.parameters
    problems = [
        f"unknown parameter {name!r}." + did_you_mean(name, params)
        for name in sorted(values)
        if name not in params
    ]
    problems += [
        f"required parameter {name!r} was not given"
        for name, p in sorted(params.items())
        if p.required and name not in values
    ]
    return problems


def run_flow(
    plan: FlowPlan,
    values: Mapping[str, Any],
    *,
    task_states: Mapping[str, State],
    resources: Any,
    run_config: RunConfig | Mapping[str, Any] | None,
    instance: Any,
    executor: Any,
) -> State:
    """Run a compiled flow; see :meth:`outfitter.Flow.run`. A ``parameters`` section of the
    run config (as the UI's launchpad and ``outfitter run-flow --config`` write it) gives
    parameters too; ``parameters=`` and keyword arguments win over it."""
    from_config, run_config = split_flow_parameters(run_config)
    if isinstance(from_config, Mapping):
        values = {**from_config, **values}
    elif from_config is not None:
        raise ConfigError(
            f"flow {plan.name!r}: the run config's 'parameters' must be a mapping of names, "
            f"got {type(from_config).__name__}",
            hint="e.g. parameters: {n: 5} (or pass flow.run(parameters={...})).",
        )
    graph = plan.graph
    bindings = resources
    rplan = plan_of_bindings(bindings)
    missing = sorted(graph.resource_keys - set(rplan.specs))
    if missing:
        raise MissingResourceError(
            f"flow {plan.name!r} has tasks asking for resource(s) "
            f"{', '.join(repr(k) for k in missing)}, which are not bound."
            + did_you_mean(missing[0], rplan.bindings),
            keys=missing,
            hint="bind them with Flow(..., resources={...}) or flow.run(resources={...}).",
        )
    check = check_launch(graph, rplan, run_config, extra=_parameter_problems(plan, values))
    if check.bound is None:
        config_error = launch_error(f"flow {plan.name!r}", check, scaffold_for(graph, rplan))
        params = sorted(plan.parameters)
        raise type(config_error)(
            config_error.summary,
            problems=config_error.problems,
            hint=f"{config_error.hint}\nThe flow's parameters are {params or 'none'}; pass them as "
            "flow.run(parameters={...}) or flow.run(name=value).",
        )
    bound = check.bound
    executor = select_executor(executor, run_config, f"flow {plan.name!r}")
    reset = {k for b in plan.blocks for k in (b.setup, b.cleanup) if k is not None}
    reused = {k: s for k, s in task_states.items() if k not in reset}
    policy = FlowPolicy(plan, values, reused)
    record: dict[str, Any] = {"parameters": redacted_config(dict(values))}
    given = record_config(run_config, bound, graph)
    if isinstance(given, Mapping):
        record = {**redacted_config(dict(given)), **record}
    launch = Launch(
        plan.name, graph, bound, {}, run_config, record, {"kind": "flow"}, executor, policy
    )
    with _instance_for(instance) as (inst, _):
        end = drive(launch, inst)
    _raise_end(end)
    state = policy.final_state()
    if end.run_error is not None:
        error = end.run_error
        text = (
            str(error) if isinstance(error, OutfitterError) else f"{type(error).__name__}: {error}"
        )
        return Failed(f"Unexpected error while running flow: {text}", result=error)
    if end.teardown_error is not None:
        return Failed(str(end.teardown_error), result=state.result)
    return state
