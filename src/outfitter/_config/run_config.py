"""``RunConfig`` and ``Config``: per-run configuration, and how launch-time resource config is
normalised into ``{key: {field: value}}``."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel, ConfigDict

from ..exceptions import ConfigError
from .env_var import EnvVar

__all__ = ["Config", "RunConfig", "env_from_data", "resource_launch_config"]


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
