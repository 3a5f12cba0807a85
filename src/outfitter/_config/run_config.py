"""``RunConfig`` and ``Config``: per-run configuration, and how launch-time resource config is
normalised into ``{key: {field: value}}``."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict

from ..exceptions import ConfigError
from .env_var import EnvVar
from .problems import structured_problems

__all__ = [
    "load_run_config_yaml",
    "MAX_DEPTH",
    "Config",
    "RunConfig",
    "check_run_config",
    "env_from_data",
    "resource_launch_config",
    "run_config_problems",
    "too_deep",
]


class Config(BaseModel):
    """Run config of an asset or op: declare fields, accept a ``config`` parameter.

    Example:
        >>> from outfitter import Config
        >>> class FetchConfig(Config):
        ...     limit: int = 10
        >>> FetchConfig(limit=5).limit
        5
    """

    model_config = ConfigDict(frozen=True, extra="forbid", arbitrary_types_allowed=True)


class RunConfig:
    """Configuration supplied when a run is launched.

    ``resources`` maps resource keys to launch config: a resource instance
    (``DatabaseResource(table="users")``, whose explicitly given fields are used) or a dict
    ``{"config": {...}}``. ``ops`` maps asset/op names to their :class:`Config` (or dict).
    ``execution`` selects and configures the executor.

    Example:
        >>> from outfitter import ConfigurableResource, RunConfig
        >>> class DatabaseResource(ConfigurableResource):
        ...     table: str
        >>> rc = RunConfig(resources={"db_conn": DatabaseResource(table="users")})
        >>> rc.to_config_dict()
        {'resources': {'db_conn': {'config': {'table': 'users'}}}}
    """

    __slots__ = ("execution", "ops", "resources")

    def __init__(
        self,
        resources: Mapping[str, Any] | None = None,
        ops: Mapping[str, Any] | None = None,
        execution: Mapping[str, Any] | None = None,
    ) -> None:
        problems = [
            f"RunConfig({name}=...) must be a mapping, got {type(value).__name__}"
            for name, value in (("resources", resources), ("ops", ops), ("execution", execution))
            if value is not None and not isinstance(value, Mapping)
        ]
        if problems:
            raise ConfigError(
                "invalid RunConfig",
                problems=problems,
                hint="e.g. RunConfig(resources={'db': Database(table='users')}, "
                "ops={'my_asset': MyConfig(limit=5)}).",
            )
        self.resources = dict(resources or {})
        self.ops = dict(ops or {})
        self.execution = dict(execution or {})

    def to_config_dict(self) -> dict[str, Any]:
        """The dict form (what a YAML run config file holds); EnvVars stay EnvVars."""
        out: dict[str, Any] = {}
        if self.resources:
            out["resources"] = {
                key: {"config": _resource_as_config(value)} for key, value in self.resources.items()
            }
        if self.ops:
            out["ops"] = {
                name: {"config": value.model_dump() if isinstance(value, BaseModel) else value}
                for name, value in self.ops.items()
            }
        if self.execution:
            out["execution"] = dict(self.execution)
        return out

    def __repr__(self) -> str:
        return f"RunConfig(resources={sorted(self.resources)}, ops={sorted(self.ops)})"


def _resource_as_config(value: Any) -> Any:
    # A resource instance (a pydantic model) given as launch config: the fields given explicitly.
    if isinstance(value, BaseModel):
        return {
            name: _resource_as_config(value.__dict__[name])
            for name in value.__pydantic_fields_set__
        }
    if isinstance(value, Mapping):
        if set(value) == {"config"}:
            return value["config"]
        return dict(value)
    return value


def env_from_data(value: Any) -> Any:
    """YAML/JSON config with ``{"env": "NAME"}`` leaves turned into :class:`EnvVar`."""
    if isinstance(value, Mapping):
        if set(value) == {"env"} and isinstance(value["env"], str):
            return EnvVar(value["env"])
        return {k: env_from_data(v) for k, v in value.items()}
    if isinstance(value, list):
        return [env_from_data(v) for v in value]
    return value


_SECTIONS = ("resources", "ops", "execution")
MAX_DEPTH = 100
"""How deeply run config may nest (a YAML file can nest thousands of levels in one line)."""

_SHAPE_HINT = (
    "run config is a RunConfig, or a mapping with `resources` ({'key': {'config': {...}}}), "
    "`ops` ({'step': {'config': {...}}}) and `execution` ({'multiprocess': {'config': {...}}})."
)


def run_config_problems(run_config: Any) -> list[str]:
    """What is wrong with the shape of ``run_config`` (not its values: each resource and step
    checks its own config), every problem at once; empty when it is well formed.

    Example:
        >>> for problem in run_config_problems({"resources": ["db"], "opps": {}}):
        ...     print(problem)
        unknown section 'opps' (sections: resources, ops, execution). Did you mean 'ops'?
        'resources' must be a mapping of resource keys, got list
    """
    if run_config is None or isinstance(run_config, RunConfig):
        return []
    if not isinstance(run_config, Mapping):
        return [f"run config must be a RunConfig or a mapping, got {type(run_config).__name__}"]
    from difflib import get_close_matches

    problems = []
    for name in run_config:
        if name not in _SECTIONS:
            close = get_close_matches(str(name), _SECTIONS, n=1)
            problems.append(
                f"unknown section {name!r} (sections: {', '.join(_SECTIONS)})."
                + (f" Did you mean {close[0]!r}?" if close else "")
            )
    for section in _SECTIONS:
        value = run_config.get(section)
        if value is None:
            continue
        if not isinstance(value, Mapping):
            what = "resource keys" if section == "resources" else "names"
            problems.append(f"{section!r} must be a mapping of {what}, got {type(value).__name__}")
            continue
        for key, entry in value.items():
            if not isinstance(key, str):
                problems.append(f"{section} key {key!r} must be a string")
            elif (
                section == "resources"
                and not isinstance(entry, Mapping | None)
                and not hasattr(entry, "model_fields")  # a resource instance is fine
            ):
                problems.append(
                    f"resources.{key} must be a mapping ({{'config': {{...}}}}), got "
                    f"{type(entry).__name__}"
                )
        if section == "execution" and len(value) > 1:
            problems.append(f"'execution' selects one executor, got {sorted(map(str, value))}")
    depth_path = too_deep(run_config)
    if depth_path is not None:
        problems.append(f"run config nests deeper than {MAX_DEPTH} levels at {depth_path}")
    return problems


def too_deep(data: Any) -> str | None:
    """The path where ``data`` nests deeper than :data:`MAX_DEPTH`, or None (iterative: deep
    data must not exhaust the stack here; everything past this check may recurse)."""
    stack: list[tuple[Any, int, str]] = [(data, 0, "")]
    while stack:
        value, depth, path = stack.pop()
        if depth > MAX_DEPTH:
            return path[:80] + ("..." if len(path) > 80 else "")
        if isinstance(value, Mapping):
            stack.extend((v, depth + 1, f"{path}.{k}".lstrip(".")) for k, v in value.items())
        elif isinstance(value, list | tuple):
            stack.extend((v, depth + 1, f"{path}[{i}]") for i, v in enumerate(value))
    return None


def check_run_config(run_config: Any) -> None:
    """Raise one ConfigError listing every shape problem of ``run_config``, each line starting
    with the path it is about (``ops: 'ops' must be a mapping of names, got list``)."""
    problems = [
        str(p) for line in run_config_problems(run_config) for p in structured_problems(line)
    ]
    if problems:
        raise ConfigError(
            f"{len(problems)} problem(s) in the run config",
            problems=problems,
            hint=_SHAPE_HINT + " Nothing was run.",
        )


def resource_launch_config(run_config: RunConfig | Mapping[str, Any] | None) -> dict[str, Any]:
    """``{key: config}`` from a RunConfig or a ``{"resources": {key: {"config": ...}}}`` dict."""
    if run_config is None:
        return {}
    if isinstance(run_config, RunConfig):
        return {k: _resource_as_config(v) for k, v in run_config.resources.items()}
    if not isinstance(run_config, Mapping):
        raise ConfigError(
            f"run config must be a RunConfig or a dict, got {type(run_config).__name__}",
            hint="use RunConfig(resources={...}) or {'resources': {'key': {'config': {...}}}}.",
        )
    resources = run_config.get("resources") or {}
    out: dict[str, Any] = {}
    problems = []
    for key, entry in resources.items():
        if isinstance(entry, Mapping) and "config" in entry:
            extra = set(entry) - {"config"}
            if extra:
                problems.append(f"resource {key!r}: unexpected entries {sorted(extra)}")
            out[key] = env_from_data(entry["config"])
        else:
            out[key] = _resource_as_config(env_from_data(entry))
    if problems:
        raise ConfigError(
            "invalid run config",
            problems=problems,
            hint="write resource launch config as {'resources': {'key': {'config': {...}}}}.",
        )
    return out


class _NoAliasLoader(yaml.SafeLoader):
    """YAML without anchors and aliases: run config never needs them, and a few lines of
    nested aliases expand to billions of values."""

    def compose_node(self, parent: Any, index: Any) -> Any:
        if self.check_event(yaml.AliasEvent):
            event: Any = self.peek_event()  # type: ignore[no-untyped-call]
            raise yaml.composer.ComposerError(
                None, None, "anchors and aliases are not allowed in run config", event.start_mark
            )
        return super().compose_node(parent, index)


def load_run_config_yaml(text: str) -> Any:
    """Run config written as YAML: plain data, read safely (no Python tags) and without
    anchors and aliases. Raises ``yaml.YAMLError`` with the line and column of a mistake.

    Example:
        >>> load_run_config_yaml("resources: {db: {config: {port: 5432}}}")
        {'resources': {'db': {'config': {'port': 5432}}}}
    """
    return yaml.load(text, Loader=_NoAliasLoader)
