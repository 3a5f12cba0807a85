"""``ResourceSpec`` (one per resource key) and ``ResourcePlan`` (the resource graph of a set of
bindings: open order, dependency closures, validated once).

Every resource form is normalised in :func:`normalize`; a plan is built once per set of bindings
and re-bound (cheaply) per run when launch config is given.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError

from .._config.env_var import EnvVar, contains_env_var, resolve_env_vars
from .._config.errors import field_errors
from .._config.redaction import Redactor, secret_values
from .._config.run_config import field_keys, plain_config
from .._graph import toposort
from ..exceptions import ConfigError, DefinitionError, MissingResourceError
from .configurable import (
    ConfigurableResourceFactory,
    PartialResource,
    class_info,
    config_problems,
    fresh_copy,
)
from .context import InitResourceContext, Resources, did_you_mean
from .definition import ResourceDefinition
from .lifecycle import VALUE, Exit, Lifecycle, ManagedBinding, plan_of
from .markers import Scope

if TYPE_CHECKING:
    from .._config.settings import EnvLookup

__all__ = ["OpenEnv", "ResourcePlan", "ResourceSpec", "normalize"]


class OpenEnv:
    """What a scope hands to a resource while opening it."""

    __slots__ = ("instance", "lookup", "run_id", "secrets")

    def __init__(
        self, lookup: EnvLookup, secrets: Redactor, run_id: str | None, instance: Any
    ) -> None:
        self.lookup = lookup
        self.secrets = secrets
        self.run_id = run_id
        self.instance = instance


Opener = Callable[[OpenEnv, dict[str, Any]], tuple[Any, InitResourceContext | None]]


@dataclass(frozen=True, slots=True)
class ResourceSpec:
    """Everything the engine needs to open one resource key."""

    key: str
    source: Any
    deps: tuple[tuple[str, str], ...]
    scope: Scope
    lifecycle: Lifecycle
    prepare: Opener
    label: str
    owner: str | None = None
    launch_fields: tuple[str, ...] = ()
    log: logging.Logger = field(default_factory=lambda: logging.getLogger("outfitter.resources"))

    @property
    def dep_keys(self) -> tuple[str, ...]:
        return tuple(k for _, k in self.deps)


def _label(obj: Any) -> str:
    if isinstance(obj, PartialResource):
        return f"{obj.resource_cls.__name__} (configure_at_launch)"
    if isinstance(obj, ResourceDefinition):
        return f"@resource {obj.name}"
    if isinstance(obj, ManagedBinding):
        return f"resource manager {obj.manager_cls.__name__}"
    return type(obj).__name__


def _logger(key: str) -> logging.Logger:
    return logging.getLogger(f"outfitter.resources.{key}")


def normalize(
    key: str,
    obj: Any,
    identity: Mapping[int, str],
    problems: list[str],
    *,
    launch: Mapping[str, Any] | None = None,
    owner: str | None = None,
) -> list[ResourceSpec]:
    """The specs for ``obj`` bound at ``key`` (its own, then those of owned nested resources).

    ``identity`` maps ``id()`` of every top-level bound object to its key, so that a nested
    resource that is also bound at top level is shared instead of owned. Problems (unbound
    partials, misplaced launch config) are appended to ``problems``.
    """
    from .bindings import provider_spec

    log = _logger(key)
    provider = provider_spec(key, obj, identity, log)
    if provider is not None:
        return [provider]
    if isinstance(obj, PartialResource):
        values = {**obj.defaults, **(launch or {})}
        base = obj.resource_cls.model_construct(_fields_set=set(values), **values)
        return _configurable(
            key, base, identity, problems, dirty=set(values), owner=owner, source=obj, log=log
        )
    if issubclass(type(obj), ConfigurableResourceFactory):  # not a mock made with spec=
        base = obj
        dirty: set[str] = set()
        if launch:
            values = {n: obj.__dict__[n] for n in type(obj).model_fields}
            values.update(launch)
            fields_set = set(obj.__pydantic_fields_set__) | set(launch)
            base = type(obj).model_construct(_fields_set=fields_set, **values)
            dirty = set(launch)
        return _configurable(
            key, base, identity, problems, dirty=dirty, owner=owner, source=obj, log=log
        )
    if isinstance(obj, ResourceDefinition):
        return [_function_spec(key, obj, launch, owner, log)]
    if isinstance(obj, ManagedBinding):
        lifecycle = plan_of(obj)

        def prepare_manager(env: OpenEnv, deps: dict[str, Any]) -> tuple[Any, InitResourceContext]:
            return obj, InitResourceContext(None, None, env.instance, env.run_id, log, key)

        return [
            ResourceSpec(
                key, obj, (), Scope.RUN, lifecycle, prepare_manager, _label(obj), owner, log=log
            )
        ]

    def prepare_value(env: OpenEnv, deps: dict[str, Any]) -> tuple[Any, None]:
        return obj, None

    return [
        ResourceSpec(key, obj, (), Scope.RUN, VALUE, prepare_value, _label(obj), owner, log=log)
    ]


def _function_spec(
    key: str,
    obj: ResourceDefinition,
    launch: Any,
    owner: str | None,
    log: logging.Logger,
) -> ResourceSpec:
    deps = tuple((k, k) for k in sorted(obj.required_resource_keys))
    raw = launch if launch is not None else obj.default_config
    owner_name = f"resource {key!r}"
    # Without launch config a schema with required fields is reported by ResourcePlan.bind.
    validate_now = not contains_env_var(raw) and (raw is not None or not obj.config.required)
    validated = [obj.config.validate(raw, owner_name)] if validate_now else []

    def prepare_fn(env: OpenEnv, deps_values: dict[str, Any]) -> tuple[Any, InitResourceContext]:
        if not validated:
            problems: list[str] = []
            resolved = resolve_env_vars(raw, env.lookup, "config", env.secrets, problems)
            if problems:
                raise _env_error(key, problems)
            config = obj.config.validate(resolved, owner_name)
        else:
            config = validated[0]
        ctx = InitResourceContext(
            config, Resources(deps_values, owner_name), env.instance, env.run_id, log, key
        )
        return obj.resource_fn, ctx

    return ResourceSpec(
        key,
        obj,
        deps,
        obj.scope,
        obj.lifecycle,
        prepare_fn,
        _label(obj),
        owner,
        launch_fields=tuple(sorted(raw)) if isinstance(raw, Mapping) else (),
        log=log,
    )


def _env_error(key: str, problems: list[str]) -> ConfigError:
    """``problems`` are ``"field.path: message"`` lines from resolving/validating one resource."""
    lines = []
    for p in problems:
        path, _, message = p.partition(": ")
        lines.append(f"resource {key!r}, field '{path}': {message}")
    return ConfigError(
        f"resource {key!r}: config could not be resolved",
        problems=lines,
        hint="set the variables in the environment or in the .env file (the real environment "
        "wins), or fix the config values named above.",
    )


def _configurable(
    key: str,
    base: ConfigurableResourceFactory[Any],
    identity: Mapping[int, str],
    problems: list[str],
    *,
    dirty: set[str],
    owner: str | None,
    source: Any,
    log: logging.Logger,
) -> list[ResourceSpec]:
    cls = type(base)
    info = class_info(cls)
    specs: list[ResourceSpec] = []
    deps: list[tuple[str, str]] = []
    for name in info.nested:
        value = base.__dict__.get(name)
        if value is None:
            continue
        shared = identity.get(id(value))
        if shared is not None and shared != key:
            deps.append((name, shared))
        elif isinstance(value, PartialResource):
            problems.append(
                f"resource {key!r}, field '{name}': the nested {value.resource_cls.__name__}."
                "configure_at_launch() is not bound at top level, so it can never get launch "
                f"config (bind the same object under a key too, e.g. "
                f"resources={{'{name}': credentials, '{key}': ...}})"
            )
        else:
            sub_key = f"{key}.{name}"
            specs.extend(normalize(sub_key, value, identity, problems, owner=key))
            deps.append((name, sub_key))
    env_fields = tuple(n for n in info.config_fields if contains_env_var(base.__dict__.get(n)))
    to_validate = tuple(sorted(set(env_fields) | (dirty & set(info.config_fields))))
    env_originals = {n: base.__dict__[n] for n in env_fields}
    config_fields = info.config_fields
    lifecycle = plan_of(base)
    validator = cls.__pydantic_validator__
    owner_name = f"resource {key!r}"
    dep_tuple = tuple(deps)

    def prepare(env: OpenEnv, deps_values: dict[str, Any]) -> tuple[Any, InitResourceContext]:
        copy = fresh_copy(base, deps_values, info)
        if to_validate:
            problems_: list[str] = []
            data = copy.__dict__
            for name in to_validate:
                value = data[name]
                if name in env_originals:
                    before = len(problems_)
                    value = resolve_env_vars(value, env.lookup, name, env.secrets, problems_)
                    if len(problems_) > before:
                        continue
                try:
                    validator.validate_assignment(copy, name, value)
                except ValidationError as exc:
                    # a validator's message may quote the resolved (secret) value
                    problems_.extend(
                        f"{loc}: {env.secrets(msg)}" for loc, msg in field_errors(exc, "")
                    )
            if problems_:
                raise _env_error(key, problems_)
            if env_originals:
                private = copy.__pydantic_private__
                assert private is not None
                private["_outfitter_env_fields"] = env_originals
        data = copy.__dict__
        ctx = InitResourceContext(
            # config values as Dagster shows them: nested Config as dicts, Enum members' values
            {n: plain_config(data[n]) for n in config_fields},
            Resources(deps_values, owner_name),
            env.instance,
            env.run_id,
            log,
            key,
        )
        copy.__pydantic_private__["_outfitter_context"] = ctx  # type: ignore[index]
        return copy, ctx

    specs.insert(
        0,
        ResourceSpec(
            key,
            source,
            dep_tuple,
            info.scope,
            lifecycle,
            prepare,
            _label(source),
            owner,
            launch_fields=tuple(sorted(dirty)),
            log=log,
        ),
    )
    return specs


# -- the plan ------------------------------------------------------------------------------------


class ResourcePlan:
    """The validated resource graph of one set of bindings.

    Built once; cycles, missing keys, unbound partials and scope violations are all reported
    together in one :class:`DefinitionError`. ``closure[key]`` lists what opening ``key`` opens,
    in open order (dependencies first, ties by key name).
    """

    __slots__ = ("bindings", "closure", "identity", "needs_config", "order", "secrets", "specs")

    def __init__(self, bindings: Mapping[str, Any], *, _launch: Mapping[str, Any] | None = None):
        self.bindings = dict(bindings)
        self.identity = {id(obj): key for key, obj in self.bindings.items()}
        problems: list[str] = []
        specs: dict[str, ResourceSpec] = {}
        for key, obj in self.bindings.items():
            for spec in normalize(key, obj, self.identity, problems):
                specs[spec.key] = spec
        self.specs = specs
        problems.extend(self._check_graph())
        if problems:
            missing = [p for p in problems if "which is not bound" in p]
            err_cls = MissingResourceError if len(missing) == len(problems) else DefinitionError
            kwargs: dict[str, Any] = (
                {"keys": _missing_keys(missing)} if err_cls is MissingResourceError else {}
            )
            raise err_cls(
                f"{len(problems)} problem(s) in the resource definitions",
                problems=problems,
                hint="fix every item listed; resources are checked together so you can fix them "
                "in one go.",
                **kwargs,
            )
        self.needs_config = tuple(
            k
            for k, s in specs.items()
            if isinstance(s.source, PartialResource)
            or (
                isinstance(s.source, ResourceDefinition)
                and bool(s.source.config.required)
                and s.source.default_config is None
            )
        )
        self.order = self._topological_order()
        self.secrets: tuple[str | bytes, ...] = tuple(
            v for obj in self.bindings.values() for v in _binding_secrets(obj)
        )
        """SecretStr / SecretBytes values in the bound definitions (every run's redactor
        starts with them; EnvVar values join when a resource opens)."""
        position = {k: i for i, k in enumerate(self.order)}
        self.closure: dict[str, tuple[str, ...]] = {}
        for key in self.order:
            needed = {key}
            for _, dep in specs[key].deps:
                needed.update(self.closure[dep])
            self.closure[key] = tuple(sorted(needed, key=position.__getitem__))

    def _check_graph(self) -> list[str]:
        problems = []
        for spec in self.specs.values():
            for _alias, dep in spec.deps:
                other = self.specs.get(dep)
                if other is None:
                    problems.append(
                        f"resource {spec.key!r} needs resource {dep!r}, which is not bound."
                        + did_you_mean(dep, self.specs)
                    )
                elif other.scope > spec.scope:
                    problems.append(
                        f"resource {spec.key!r} (scope {spec.scope}) depends on {dep!r} (scope "
                        f"{other.scope}): a longer-lived resource cannot hold a shorter-lived one "
                        f"(give {dep!r} scope '{spec.scope}' or longer, or {spec.key!r} scope "
                        f"'{other.scope}')"
                    )
        problems.extend(self._cycles())
        return problems

    def _cycles(self) -> list[str]:
        graph = {k: [d for _, d in s.deps if d in self.specs] for k, s in self.specs.items()}
        index: dict[str, int] = {}
        low: dict[str, int] = {}
        stack: list[str] = []
        on_stack: set[str] = set()
        cycles: list[str] = []
        counter = 0

        def strongconnect(node: str) -> None:
            nonlocal counter
            index[node] = low[node] = counter
            counter += 1
            stack.append(node)
            on_stack.add(node)
            for nxt in sorted(graph[node]):
                if nxt not in index:
                    strongconnect(nxt)
                    low[node] = min(low[node], low[nxt])
                elif nxt in on_stack:
                    low[node] = min(low[node], index[nxt])
            if low[node] == index[node]:
                component = []
                while True:
                    top = stack.pop()
                    on_stack.discard(top)
                    component.append(top)
                    if top == node:
                        break
                if len(component) > 1 or node in graph[node]:
                    cycles.append(_cycle_path(sorted(component), graph))

        for node in sorted(graph):
            if node not in index:
                strongconnect(node)
        return [f"resource dependency cycle: {c}" for c in cycles]

    def _topological_order(self) -> tuple[str, ...]:
        # cycles were reported by _check_graph, so this cannot raise
        return tuple(toposort({k: s.dep_keys for k, s in self.specs.items()}))

    def missing(self, key: str, asked_by: str = "this run") -> MissingResourceError:
        """The error for asking for an unbound ``key``."""
        have = ", ".join(repr(k) for k in sorted(self.bindings)) or "none"
        return MissingResourceError(
            f"{asked_by} asks for resource {key!r}, which is not bound (bound: {have})."
            + did_you_mean(key, self.bindings),
            keys=[key],
            hint=f"bind it, e.g. resources={{{key!r}: ...}}, or fix the name.",
        )

    def bind(
        self, launch: Mapping[str, Any] | None, keys: Iterable[str] | None = None
    ) -> ResourcePlan:
        """This plan with launch config applied: a plan sharing the graph, with re-made specs for
        the configured keys. All problems (unknown keys or fields, wrong types, missing launch
        config) are raised together. ``keys`` limits the missing-config check to what those keys
        need (a run need not configure resources its steps never open)."""
        needs_config = self.needs_config
        if keys is not None and needs_config:
            wanted = {k for key in keys for k in self.closure.get(key, (key,))}
            needs_config = tuple(k for k in needs_config if k in wanted)
        if not launch and not needs_config:
            return self
        launch = dict(launch or {})
        problems: list[str] = []
        routed: dict[str, dict[str, Any]] = {}
        for key, config in launch.items():
            self._route(key, config, routed, problems, self.bindings)
        for key in needs_config:
            src = self.specs[key].source
            if isinstance(src, PartialResource) and key not in routed and src.missing_fields:
                problems.append(
                    f"resource {key!r} needs launch config for: {', '.join(src.missing_fields)}"
                )
            elif (
                isinstance(src, ResourceDefinition)
                and src.config.required
                and key not in routed
                and key not in launch  # given but invalid: already reported by _route
            ):
                problems.append(
                    f"resource {key!r} needs config for: {', '.join(src.config.required)}"
                )
        if not routed and not problems:
            return self
        new_specs = dict(self.specs)
        for key, config in routed.items():
            spec = self.specs[key]
            made = normalize(
                key, spec.source, self.identity, problems, launch=config, owner=spec.owner
            )
            new_specs[key] = made[0]
        if problems:
            raise ConfigError(
                f"{len(problems)} problem(s) in the launch config",
                problems=problems,
                hint="give launch config as RunConfig(resources={'key': Cls(field=...)}) or "
                "{'resources': {'key': {'config': {'field': ...}}}}; " + self._example(problems),
            )
        bound = object.__new__(ResourcePlan)
        bound.secrets = self.secrets + tuple(
            v
            for key, config in routed.items()
            for v in secret_values(config, config_model(self.specs[key].source))
        )
        bound.bindings = self.bindings
        bound.identity = self.identity
        bound.specs = new_specs
        bound.needs_config = ()
        bound.order = self.order
        bound.closure = self.closure
        return bound

    def _example(self, problems: list[str]) -> str:
        for key, spec in self.specs.items():
            src = spec.source
            if isinstance(src, PartialResource) and any(repr(key) in p for p in problems):
                fields = ", ".join(f"{f}=..." for f in src.missing_fields)
                cfg = ", ".join(f"'{f}': ..." for f in src.missing_fields)
                return (
                    f"for example RunConfig(resources={{'{key}': "
                    f"{src.resource_cls.__name__}({fields})}}) or "
                    f"{{'resources': {{'{key}': {{'config': {{{cfg}}}}}}}}}."
                )
            if isinstance(src, ResourceDefinition) and any(repr(key) in p for p in problems):
                return f"for example {{'resources': {{'{key}': {src.config.example()}}}}}."
        return "see each problem above."

    def _route(
        self,
        key: str,
        config: Any,
        routed: dict[str, dict[str, Any]],
        problems: list[str],
        routable: Mapping[str, Any],
    ) -> None:
        """Check ``config`` for ``key`` and add what it sets to ``routed``. ``routable`` are
        the keys launch config may name here: the bound keys (and, for a nested resource's
        config, that nested key). Never mutates the plan: plans are shared by concurrent runs."""
        spec = self.specs.get(key)
        if spec is None or (spec.owner is not None and key not in routable):
            problems.append(
                f"launch config for resource {key!r}, which is not bound."
                + did_you_mean(key, self.bindings)
            )
            return
        src = spec.source
        if isinstance(src, ResourceDefinition):
            if src.config.source is None:
                # no schema: any config is its resource_config, as Dagster's @resource accepts
                # ("If not set, Dagster will accept any config provided for the resource")
                routed[key] = config
            else:
                try:
                    if not contains_env_var(config):
                        src.config.validate(config, f"resource {key!r}")
                    routed[key] = config
                except ConfigError as exc:
                    problems.extend(exc.problems)
            return
        cls: type[ConfigurableResourceFactory[Any]] | None = None
        code_values: dict[str, Any] = {}
        if isinstance(src, PartialResource):
            cls, code_values = src.resource_cls, dict(src.defaults)
        elif isinstance(src, ConfigurableResourceFactory):
            cls = type(src)
            code_values = {n: src.__dict__[n] for n in cls.model_fields}
        if cls is None:
            problems.append(
                f"resource {key!r} ({_label(src)}) takes no launch config; only configurable "
                "resources and @resource functions with a config_schema do"
            )
            return
        if not isinstance(config, Mapping):
            problems.append(
                f"launch config for resource {key!r} must be a mapping of fields, got "
                f"{type(config).__name__}"
            )
            return
        info = class_info(cls)
        own: dict[str, Any] = {}
        keys = field_keys(cls)  # a field's alias (Dagster's config key) or its name
        for given, value in config.items():
            name = keys.get(str(given), str(given))
            nested = info.nested.get(name)
            if nested is None:
                own[name] = value
                continue
            sub_key = f"{key}.{name}"
            if sub_key in self.specs:
                self._route_nested(sub_key, value, routed, problems)
            elif id(code_values.get(name)) in self.identity:
                target = self.identity[id(code_values.get(name))]
                problems.append(
                    f"resource {key!r}, field '{name}': the nested resource is shared; give its "
                    f"launch config under {target!r} instead"
                )
            else:
                kind = nested.expected.__name__ if nested.expected is not None else "Resource"
                problems.append(
                    f"resource {key!r}, field '{name}': a nested resource cannot be made from "
                    f"launch config; construct it in code ({cls.__name__}(..., {name}="
                    f"{kind}(...))), or bind {kind}.configure_at_launch() under a key of its own, "
                    "pass that object, and give its launch config under that key"
                )
        problems.extend(
            config_problems(
                cls,
                {**code_values, **own},
                f"resource {key!r}",
                check_required=isinstance(src, PartialResource),
            )
        )
        routed[key] = {**routed.get(key, {}), **own}

    def _route_nested(
        self, key: str, config: Any, routed: dict[str, dict[str, Any]], problems: list[str]
    ) -> None:
        if isinstance(config, ConfigurableResourceFactory):
            config = {n: config.__dict__[n] for n in config.__pydantic_fields_set__}
        self._route(key, config, routed, problems, {**self.bindings, key: self.specs[key].source})


def config_model(source: Any) -> Any:
    """The pydantic model launch config for ``source`` is read as (None if unknown)."""
    if isinstance(source, PartialResource):
        return source.resource_cls
    if isinstance(source, ConfigurableResourceFactory):
        return type(source)
    if isinstance(source, ResourceDefinition):
        return source.config.model
    return None


def _binding_secrets(obj: Any) -> Iterator[str | bytes]:
    if isinstance(obj, PartialResource):
        return secret_values(obj.defaults, obj.resource_cls)
    if isinstance(obj, ResourceDefinition):
        return secret_values(obj.default_config, obj.config.model)
    return secret_values(obj)


def _cycle_path(component: list[str], graph: dict[str, list[str]]) -> str:
    members = set(component)
    start = component[0]
    path = [start]
    node = start
    while True:
        nxt = next(d for d in sorted(graph[node]) if d in members)
        if nxt == start or nxt in path:
            path.append(nxt)
            break
        path.append(nxt)
        node = nxt
    return " -> ".join(repr(p) for p in path)


def _missing_keys(problems: list[str]) -> list[str]:
    keys = []
    for p in problems:
        marker = "needs resource '"
        if marker in p:
            keys.append(p.split(marker, 1)[1].split("'", 1)[0])
    return keys


# Re-exported for the scope module.
__all__ += ["EnvVar", "Exit"]
