"""Per-output and per-input I/O manager config, checked when a run is launched.

Dagster's run config gives an output's ``handle_output`` and an input's ``load_input`` their own
config (``ops.<step>.outputs.<name>`` / ``ops.<step>.inputs.<name>``), read as
``context.config``. This module checks those sections against the run's graph (the step, the
output or input, an I/O manager to read it) and, for an ``@io_manager`` with an
``output_config_schema`` / ``input_config_schema``, against the schema; the validated values
(defaults filled in) replace the given ones in the run config the steps see.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .._config.run_config import RunConfig
from .._definitions.graph import NodeGraph
from .._definitions.node import NodeSpec
from .._resources.context import did_you_mean
from .._resources.definition import ConfigValidator
from .._resources.io_manager import io_configs
from .._resources.io_manager_def import IOManagerDefinition
from .._resources.spec import ResourcePlan
from ..exceptions import ConfigError

__all__ = ["check_io_configs"]

_OUTPUT = "result"


def _io_key(node: NodeSpec, section: str, name: str, graph: NodeGraph) -> str | None:
    """The I/O manager that reads this config: the step's own for an output, the upstream's
    for an input from this run (it loads the value), else the step's."""
    if section == "inputs":
        for inp in node.inputs:
            if inp.name == name and inp.input_manager_key is not None:
                return inp.input_manager_key  # In(input_manager_key=...) loads it
            if inp.name == name and inp.upstream is not None:
                upstream = graph.by_key.get(inp.upstream)
                for out in (upstream.outputs or ()) if upstream is not None else ():
                    if out.name == inp.upstream_output:
                        return out.io_manager_key
                if upstream is not None and upstream.io_manager_key is not None:
                    return upstream.io_manager_key
    return dict(_outputs(node)).get(name, node.io_manager_key)


def _outputs(node: NodeSpec) -> list[tuple[str, str | None]]:
    """Each output of ``node`` with the I/O manager that stores it: its declared outputs (each
    with its own), or the one classic output."""
    if node.outputs:
        return [(o.name, o.io_manager_key) for o in node.outputs]
    return [(_OUTPUT, node.io_manager_key)]


def _names(node: NodeSpec, section: str) -> list[str]:
    if section == "inputs":
        return [i.name for i in node.inputs]
    return [name for name, _ in _outputs(node)]


def _schema(plan: ResourcePlan, key: str | None, section: str) -> ConfigValidator | None:
    """The schema I/O manager ``key`` gives its outputs' or inputs' config, if it has one."""
    spec = plan.specs.get(key) if key is not None else None
    source = spec.source if spec is not None else None
    if not isinstance(source, IOManagerDefinition):
        return None
    schema = source.output_config if section == "outputs" else source.input_config
    return schema if schema.source is not None else None


def check_io_configs(
    graph: NodeGraph, plan: ResourcePlan, run_config: Any
) -> tuple[Any, list[str]]:
    """``run_config`` with each I/O config section validated (unchanged when nothing needs
    it), and the problems found, all of them, as problem lines of the launch check."""
    given = io_configs(run_config) if not isinstance(run_config, RunConfig) else {}
    problems: list[str] = []
    validated: dict[tuple[str, str, str], Any] = {}
    with_schema = any(
        isinstance(spec.source, IOManagerDefinition) and spec.source.output_config.source
        for spec in plan.specs.values()
    )
    for node in graph.nodes if with_schema else ():  # outputs with a schema but no config
        for name, key in _outputs(node):
            schema = _schema(plan, key, "outputs")
            if schema is None or (node.key, "outputs", name) in given:
                continue
            if schema.required:
                fields = ", ".join(schema.required)
                problems.append(
                    f"step {node.key!r}, output {name!r}: I/O manager {key!r} needs output "
                    f"config for: {fields}"
                )
            else:
                validated[(node.key, "outputs", name)] = schema.validate(None, node.key)
    if not given and not validated:
        return run_config, problems
    for (step, section, name), value in given.items():
        found = graph.by_key.get(step)
        what = "output" if section == "outputs" else "input"
        if found is None:
            problems.append(
                f"run config for step {step!r}, which is not part of this run."
                + did_you_mean(step, graph.by_key)
            )
            continue
        node = found
        names = _names(node, section)
        if name not in names:
            known = ", ".join(repr(n) for n in names) or "none"
            problems.append(
                f"step {step!r}, {what} {name!r}: {node.label} has no {what} {name!r} "
                f"(its {section}: {known}).{did_you_mean(name, dict.fromkeys(names))}"
            )
            continue
        key = _io_key(node, section, name, graph)
        if key is None:
            problems.append(
                f"step {step!r}, {what} {name!r}: {node.label} has no I/O manager to read "
                "this config (its values are handed over in memory); remove the section"
            )
            continue
        schema = _schema(plan, key, section)
        if schema is None:
            continue  # no schema: the I/O manager gets the config as given
        try:
            validated[(step, section, name)] = schema.validate(
                value, f"step {step!r}, {what} {name!r}"
            )
        except ConfigError as exc:
            problems.extend(exc.problems)
    if problems or not validated:
        return run_config, problems
    return _with_values(run_config, validated), []


def _with_values(run_config: Any, values: dict[tuple[str, str, str], Any]) -> Any:
    """A copy of ``run_config`` with the validated I/O config values in place."""
    given = run_config if isinstance(run_config, Mapping) else {}
    ops = {step: dict(entry) for step, entry in (given.get("ops") or {}).items()}
    for (step, section, name), value in values.items():
        entry = ops.setdefault(step, {})
        entry[section] = {**entry.get(section, {}), name: value}
    return {**given, "ops": ops}
