"""``RunConfig`` and ``Config``: per-run configuration, and how launch-time resource config is
normalised into ``{key: {field: value}}``."""

from __future__ import annotations

import enum
import functools
import types
import typing
import weakref
from collections.abc import Mapping, Sequence
from typing import Any

from pydantic import BaseModel, ConfigDict, PrivateAttr, ValidationError, field_validator
from pydantic_core.core_schema import ValidationInfo

from ..exceptions import ConfigError, InvocationError
from .env_var import EnvVar, contains_env_var, resolve_env_vars
from .errors import ConfigValidationError, field_errors
from .problems import structured_problems

__all__ = [
    "load_run_config_yaml",
    "MAX_DEPTH",
    "Config",
    "RunConfig",
    "check_run_config",
    "enum_by_name",
    "env_from_data",
    "field_keys",
    "plain_config",
    "resolve_step_configs",
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

    model_config = ConfigDict(
        frozen=True,
        extra="forbid",
        arbitrary_types_allowed=True,
        validate_by_alias=True,
        validate_by_name=True,
    )

    # The EnvVars a run resolved (shown by repr instead of the values) and their raw values
    # (the run's redactor learns them from here, see redaction.secret_values).
    _outfitter_env_fields: dict[str, Any] | None = PrivateAttr(default=None)
    _outfitter_secrets: tuple[str, ...] = PrivateAttr(default=())

    @classmethod
    def __pydantic_init_subclass__(cls, **kwargs: Any) -> None:
        super().__pydantic_init_subclass__(**kwargs)
        reject_unsupported_fields(cls, list(cls.model_fields), "Config class")

    @field_validator("*", mode="before")
    @classmethod
    def _outfitter_enum_name(cls, value: Any, info: ValidationInfo) -> Any:
        return enum_by_name(cls, info.field_name, value)

    def __init__(self, **data: Any) -> None:
        cls = type(self)
        if not any(contains_env_var(v) for v in data.values()):
            try:
                super().__init__(**data)
                return
            except ValidationError as exc:
                error = construction_error(cls, exc)
            # raised out here: pydantic's error (which holds the inputs) is not its context,
            # so nothing that pickles exceptions with their context carries it along
            raise error
        # EnvVars (also EnvVar.int for an int field) are kept and resolved when a run starts.
        keys = field_keys(cls)
        problems: list[str] = []
        values: dict[str, Any] = {}
        for key, value in data.items():
            name = keys.get(key)
            if name is None:
                problems.append(f"{cls.__name__}: unknown field '{key}'." + _close(key, keys))
            else:
                values[name] = value
        problems.extend(
            f"{cls.__name__}, field '{name}': required but not given"
            for name, field in cls.model_fields.items()
            if field.is_required() and name not in values
        )
        probe = cls.model_construct()
        validator = cls.__pydantic_validator__
        for name, value in values.items():
            if contains_env_var(value):
                continue
            try:
                validator.validate_assignment(probe, name, value)
            except ValidationError as exc:
                problems.extend(error_lines(cls.__name__, exc))
                continue
            values[name] = probe.__dict__[name]
        if problems:
            raise ConfigValidationError.build(
                cls.__name__,
                [("config", (), p, None) for p in problems],
                f"invalid config for {cls.__name__}",
                problems,
                _CONSTRUCTION_HINT,
            )
        built = cls.model_construct(_fields_set=set(values), **values)
        for attr in (
            "__dict__",
            "__pydantic_fields_set__",
            "__pydantic_extra__",
            "__pydantic_private__",
        ):
            object.__setattr__(self, attr, getattr(built, attr))

    def __setattr__(self, name: str, value: Any) -> None:
        if name.startswith("_"):
            super().__setattr__(name, value)
            return
        kind = "config field" if name in type(self).model_fields else "attribute"
        raise InvocationError(
            f"cannot assign {kind} '{name}' of {type(self).__name__}: config is frozen",
            hint=f"build a new value instead: {type(self).__name__}(...) or "
            f"config.model_copy(update={{'{name}': ...}}); keep changing state out of config.",
        )

    def __repr_args__(self) -> Any:
        shown = (self.__pydantic_private__ or {}).get("_outfitter_env_fields") or {}
        for name, value in super().__repr_args__():
            yield name, shown.get(name, value) if name is not None else value


_CONSTRUCTION_HINT = (
    "pass each field a value of its declared type; use EnvVar('NAME') (EnvVar.int, .float, "
    ".bool for other types) for values read from the environment when the run starts."
)


def error_lines(owner: str, exc: ValidationError, prefix: str = "") -> list[str]:
    """``"<owner>, field '<path>': <message>"`` for every error of ``exc`` (no input values)."""
    return [f"{owner}, field '{prefix}{loc}': {msg}" for loc, msg in field_errors(exc, "")]


def construction_error(
    cls: type, exc: ValidationError, hint: str = _CONSTRUCTION_HINT
) -> ConfigValidationError:
    """Pydantic's ``exc`` from building ``cls`` as our error (still a ``ValidationError``)."""
    problems = error_lines(cls.__name__, exc)
    return ConfigValidationError.from_pydantic(
        exc, f"invalid config for {cls.__name__}", problems, hint
    )


def _close(key: str, candidates: Mapping[str, str]) -> str:
    from difflib import get_close_matches

    close = get_close_matches(key, list(candidates), n=1)
    return f" Did you mean '{close[0]}'?" if close else ""


_KEYS: weakref.WeakKeyDictionary[type, dict[str, str]] = weakref.WeakKeyDictionary()


def field_keys(cls: type[BaseModel]) -> dict[str, str]:
    """Field name by config key: each field's alias and its name (both are accepted)."""
    keys = _KEYS.get(cls)
    if keys is None:
        keys = {name: name for name in cls.model_fields}
        keys.update({f.alias: name for name, f in cls.model_fields.items() if f.alias is not None})
        _KEYS[cls] = keys
    return keys


def _enum_class(annotation: Any) -> type[enum.Enum] | None:
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(annotation) if a is not type(None)]
        annotation = args[0] if len(args) == 1 else None
    if isinstance(annotation, type) and issubclass(annotation, enum.Enum):
        return annotation
    return None


def enum_by_name(cls: type[BaseModel], field: str | None, value: Any) -> Any:
    """``value`` for ``cls.<field>``, with an Enum member's *name* turned into the member, as
    Dagster's run config takes names (``color: BLUE``); values and members pass as they are."""
    if not isinstance(value, str) or isinstance(value, EnvVar) or field is None:
        return value
    info = cls.model_fields.get(field)
    kind = _enum_class(info.annotation) if info is not None else None
    if kind is None:
        return value
    if any(value == m.value for m in kind):  # a value that is also a name: the value wins
        return value
    if value not in kind.__members__:
        # Pydantic's own message lists only the values; config takes the names (as Dagster's
        # Enum config type does), so the message lists those first.
        names = ", ".join(kind.__members__)
        values = ", ".join(repr(m.value) for m in kind)
        raise ValueError(
            f"not a member of {kind.__name__}: give one of its names ({names}); "
            f"its values ({values}) are accepted too"
        )
    return kind.__members__[value]


def plain_config(value: Any) -> Any:
    """``value`` as config data (what ``context.resource_config`` shows, as Dagster does): a
    nested Config becomes a dict, an Enum member its value."""
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, BaseModel):
        return {k: plain_config(v) for k, v in value.__dict__.items()}
    if isinstance(value, dict):
        return {k: plain_config(v) for k, v in value.items()}
    if isinstance(value, list):
        return [plain_config(v) for v in value]
    return value


def resolve_step_configs(configs: Mapping[str, Any]) -> dict[str, Any]:
    """``configs`` (step config by step key) with their EnvVars read now, when the run starts:
    in fields, class defaults, nested models, lists and dicts. Every unset or ill-typed variable
    of every step is reported in one ConfigError; values never appear in it."""
    from .redaction import Redactor
    from .settings import EnvLookup

    if not any(contains_env_var(c) for c in configs.values()):
        return dict(configs)
    lookup = EnvLookup()
    problems: list[str] = []
    out: dict[str, Any] = {}
    for key, config in configs.items():
        found: list[str] = []
        out[key] = resolve_env_vars(config, lookup, "", Redactor(), found)
        for line in found:
            path, _, message = line.partition(": ")
            problems.append(f"step {key!r}, config field '{path.lstrip('.')}': {message}")
    if problems:
        raise ConfigError(
            f"{len(problems)} problem(s) in the step config",
            problems=problems,
            hint="set the variables in the environment or in the .env file (the real "
            "environment wins), or give the config values in the run config. Nothing was run.",
        )
    return out


class RunConfig:
    """Configuration supplied when a run is launched.

    The parameters are Dagster's, in Dagster's order: ``ops``, ``resources``, ``loggers``
    (accepted only empty: Outfitter has no configurable loggers), ``execution``.
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
        ops: Mapping[str, Any] | None = None,
        resources: Mapping[str, Any] | None = None,
        loggers: Mapping[str, Any] | None = None,
        execution: Mapping[str, Any] | None = None,
    ) -> None:
        # Dagster's order (ops first): RunConfig({"my_op": MyConfig(...)}) is op config.
        given = (("ops", ops), ("resources", resources), ("execution", execution))
        problems = [
            f"RunConfig({name}=...) must be a mapping, got {type(value).__name__}"
            for name, value in given
            if value is not None and not isinstance(value, Mapping)
        ]
        if loggers:
            problems.append(
                "RunConfig(loggers=...): Outfitter has no configurable loggers; run logs go "
                "through context.log and get_logger(), their level is the OUTFITTER_LOG_LEVEL "
                "setting"
            )
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
                name: {"config": _config_data(value) if isinstance(value, BaseModel) else value}
                for name, value in self.ops.items()
            }
        if self.execution:
            out["execution"] = dict(self.execution)
        return out

    def __repr__(self) -> str:
        return f"RunConfig(resources={sorted(self.resources)}, ops={sorted(self.ops)})"


def _config_data(value: Any) -> Any:
    # A Config as run config data (what YAML holds): EnvVars stay EnvVars (model_dump would
    # warn on an EnvVar.int), Enum members become their names (as Dagster writes them).
    if isinstance(value, BaseModel):
        return {name: _config_data(v) for name, v in value.__dict__.items()}
    if isinstance(value, enum.Enum):
        return value.name
    if isinstance(value, dict):
        return {k: _config_data(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_config_data(v) for v in value]
    return value


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


@functools.cache
def _no_alias_loader() -> type[Any]:
    """YAML without anchors and aliases: run config never needs them, and a few lines of
    nested aliases expand to billions of values. Built on first use, so ``import outfitter``
    does not import PyYAML (~20 ms)."""
    import yaml

    class NoAliasLoader(yaml.SafeLoader):
        def compose_node(self, parent: Any, index: Any) -> Any:
            if self.check_event(yaml.AliasEvent):
                event: Any = self.peek_event()  # type: ignore[no-untyped-call]
                raise yaml.composer.ComposerError(
                    None,
                    None,
                    "anchors and aliases are not allowed in run config",
                    event.start_mark,
                )
            return super().compose_node(parent, index)

    return NoAliasLoader


def load_run_config_yaml(text: str) -> Any:
    """Run config written as YAML: plain data, read safely (no Python tags) and without
    anchors and aliases. Raises ``yaml.YAMLError`` with the line and column of a mistake.

    Example:
        >>> load_run_config_yaml("resources: {db: {config: {port: 5432}}}")
        {'resources': {'db': {'config': {'port': 5432}}}}
    """
    import yaml

    return yaml.load(text, Loader=_no_alias_loader())


def unsupported_fields(cls: type[BaseModel], names: Sequence[str]) -> list[str]:
    """The fields of ``cls`` (among ``names``) whose type config can never give: a type
    pydantic cannot read from plain data (YAML, JSON, run config), such as a lock, a socket or a
    client object. Dagster refuses these when the class is defined
    (dagster/_config/pythonic_config/conversion_utils.py, ``infer_schema_from_config_class``
    raises DagsterInvalidPythonicConfigDefinitionError).

    Example:
        >>> class Plain(BaseModel):
        ...     name: str
        ...     tags: dict[str, list[int]] = {}
        >>> unsupported_fields(Plain, ["name", "tags"])
        []
    """
    from pydantic import TypeAdapter
    from pydantic.errors import PydanticSchemaGenerationError

    strict = ConfigDict(arbitrary_types_allowed=False)
    found = []
    for name in names:
        annotation = cls.model_fields[name].annotation
        try:
            TypeAdapter(annotation, config=strict)
        except PydanticSchemaGenerationError:
            found.append(f"field {name!r} has type {annotation!r}")
        except Exception:  # an annotation pydantic cannot resolve yet: pydantic reports it
            continue
    return found


def reject_unsupported_fields(cls: type[BaseModel], names: Sequence[str], kind: str) -> None:
    """Raise DefinitionError naming every field of ``cls`` whose type config cannot give."""
    from ..exceptions import DefinitionError

    problems = unsupported_fields(cls, names)
    if problems:
        raise DefinitionError(
            f"{kind} {cls.__name__}: {len(problems)} field(s) of a type config cannot give",
            problems=problems,
            hint="config comes from run config and YAML: use str, int, float, bool, Enum, "
            "lists, dicts and Config classes. Keep other objects in a PrivateAttr, or, for an "
            "object given in code, annotate the field ResourceDependency[T].",
        )
