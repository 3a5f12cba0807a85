"""What the resources pages show, computed from one load of the user's code: per resource key its
class, description, scope, launch-time config, config rows (EnvVar *names*, secrets masked),
nested resources both ways and every use (assets, ops and jobs, sensors, schedules, flow tasks).

Pure introspection: no Starlette, no I/O beyond reading whether environment variables are set.
Nothing here opens a resource or resolves an EnvVar; no secret value is ever put in a field.

Example:
    >>> import outfitter as of
    >>> class Api(of.ConfigurableResource):
    ...     '''Talks to the orders API.'''
    ...     url: str
    ...     token: str
    >>> @of.asset
    ... def orders(api: Api) -> int:
    ...     return 1
    >>> defs = of.Definitions(
    ...     assets=[orders], resources={"api": Api(url="http://x", token=of.EnvVar("API_TOKEN"))}
    ... )
    >>> info = resource_catalog(defs, {}).resources["api"]
    >>> info.class_name, info.description, info.scope, [u.name for u in info.uses]
    ('Api', 'Talks to the orders API.', 'run', ['orders'])
    >>> [(row.field, row.shown, row.env_vars[0].name if row.env_vars else None)
    ...  for row in info.config]
    [('url', '"http://x"', None), ('token', 'env API_TOKEN', 'API_TOKEN')]
"""

from __future__ import annotations

import datetime as dt
import enum
import inspect
import json
import os
import typing
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import PurePath
from typing import Any
from urllib.parse import quote, urlencode

from pydantic import BaseModel, SecretBytes, SecretStr

from .._config.env_var import EnvVar, env_var_names
from .._config.redaction import RECORD_MASK, _is_secret_annotation
from .._config.settings import EnvLookup
from .._definitions.definitions import IMPLICIT_ASSET_JOB, Definitions
from .._flows.flow import Flow
from .._resources.bindings import resource_bindings
from .._resources.configurable import ConfigurableResourceFactory, PartialResource, class_info
from .._resources.definition import ResourceDefinition
from .._resources.io_manager import DEFAULT_IO_MANAGER
from .._resources.lifecycle import ManagedBinding
from .._resources.spec import ResourceSpec, normalize

__all__ = [
    "ConfigRow",
    "EnvStatus",
    "FlowBlock",
    "LaunchNeed",
    "Link",
    "ResourceCatalog",
    "ResourceInfo",
    "Use",
    "resource_catalog",
]

SCOPE_HELP = {
    "process": "shared by every run in a long-lived process (the daemon); closed at shutdown",
    "run": "opened once per run in each process that needs it",
    "step": "opened fresh for each step that asks for it; closed right after that step",
}
"""What each scope means, as the pages explain it."""

USE_KINDS = ("asset", "op", "task", "sensor", "schedule")
"""Kinds of use counted as uses (jobs are listed too, but they are made of these)."""


@dataclass(frozen=True, slots=True)
class EnvStatus:
    """One environment variable a config value reads: its name and where it is set (``"set"``,
    ``"set in .env"`` or ``"not set"``), never its value."""

    name: str
    status: str

    @property
    def is_set(self) -> bool:
        """Whether a run started now would find the variable."""
        return self.status != "not set"


@dataclass(frozen=True, slots=True)
class ConfigRow:
    """One config field of a resource. ``shown`` is display text (JSON for values, ``env NAME``
    for an EnvVar, the mask for a secret); ``origin`` says where it comes from (``code``,
    ``default``, ``env``, ``secret``, ``launch``); ``at_launch`` is ``"required"`` when a launch
    must give it, ``"optional"`` when a launch may give it, else empty."""

    field: str
    type: str
    description: str | None
    shown: str
    origin: str
    env_vars: tuple[EnvStatus, ...] = ()
    at_launch: str = ""
    launch_path: str | None = None


@dataclass(frozen=True, slots=True)
class Link:
    """A nested resource relation: ``field`` of the parent holds the resource at ``key``.
    ``shared`` when that resource is bound at top level too (used by identity, so shared with
    other resources); ``partial`` when it is a ``configure_at_launch()`` resource."""

    field: str
    key: str
    class_name: str
    shared: bool
    partial: bool
    href: str


@dataclass(frozen=True, slots=True)
class Use:
    """Something that opens the resource: an asset, an op or job, a sensor, a schedule or a flow
    task. ``owner`` is the job or flow it belongs to; ``via`` the resource keys it asks for that
    open this one (empty: it asks for this key directly)."""

    kind: str
    name: str
    owner: str | None
    href: str
    via: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class LaunchNeed:
    """A resource a launch configures: its key, where its config goes in the run config
    (``path``), the fields a launch must give and those it may give."""

    key: str
    class_name: str
    path: str
    required: tuple[str, ...]
    optional: tuple[str, ...]
    href: str


@dataclass(frozen=True, slots=True)
class ResourceInfo:
    """Everything the resources pages show about one resource key."""

    key: str
    class_name: str
    kind: str
    description: str | None
    scope: str
    set_at_launch: bool
    """A ``configure_at_launch()`` resource, or an ``@resource`` whose config has no default."""
    launch_required: tuple[str, ...]
    """Fields a launch must give (empty when every field has a value)."""
    config: tuple[ConfigRow, ...]
    children: tuple[Link, ...]
    parents: tuple[Link, ...]
    owner: str | None
    """The resource that owns this nested one (its key is ``owner.field``), else None."""
    uses: tuple[Use, ...]
    launch_needs: tuple[LaunchNeed, ...]
    """This resource and those it opens that take launch config, required ones first."""
    launch_links: tuple[tuple[str, str], ...]
    """(label, href) of launchpads for the jobs, asset selections and flows that open it."""
    bound_by: tuple[str, ...]
    also_bound: tuple[str, ...] = ()
    """Places that bind a different object at the same key (e.g. a flow and the definitions)."""
    by_default: bool = False
    """Bound by Outfitter (the default I/O manager), not by the code."""
    href: str = ""
    depth: int = 0
    """How deep it is nested (0 for a key bound at top level)."""

    @property
    def use_count(self) -> int:
        """How many assets, ops, tasks, sensors and schedules open it (directly or not)."""
        return sum(1 for u in self.uses if u.kind in USE_KINDS)

    @property
    def needs_launch(self) -> bool:
        """Whether a launch that opens it must give some config (here or in a nested one)."""
        return any(need.required for need in self.launch_needs)


@dataclass(frozen=True, slots=True)
class FlowBlock:
    """A resource-manager block of a flow (``with Manager(...) as r:``): not a keyed resource,
    but a resource its tasks use."""

    flow: str
    name: str
    class_name: str
    description: str | None
    tasks: tuple[str, ...]
    href: str


@dataclass(frozen=True, slots=True)
class ResourceCatalog:
    """Every resource of a load, by key (top-level keys sorted, each followed by the resources
    it owns), the flows' resource-manager blocks, and problems found while reading them."""

    resources: dict[str, ResourceInfo]
    blocks: tuple[FlowBlock, ...] = ()
    problems: tuple[str, ...] = ()


# -- links ---------------------------------------------------------------------------------------


def resource_href(key: str) -> str:
    """The page of resource ``key``."""
    return "/resources/" + quote(key, safe="")


def _asset_href(name: str) -> str:
    return "/definitions?select=" + quote(name, safe="/")


def _job_href(name: str) -> str:
    return "/definitions/jobs/" + quote(name, safe="")


def _flow_href(name: str) -> str:
    return "/definitions/flows/" + quote(name, safe="")


def _instigator_href(name: str) -> str:
    return "/instigators/" + quote(name, safe="")


# -- values as text ------------------------------------------------------------------------------


def _first_paragraph(doc: str | None) -> str | None:
    if not doc:
        return None
    text = inspect.cleandoc(doc).strip()
    if not text:
        return None
    return " ".join(text.split("\n\n", 1)[0].split()).replace("``", "")


def _own_doc(cls: type) -> str | None:
    """The class's own docstring (not one inherited from a base class)."""
    if cls.__module__ == "builtins":
        return None
    doc = cls.__dict__.get("__doc__")
    return _first_paragraph(doc) if isinstance(doc, str) else None


def _type_name(annotation: Any) -> str:
    if isinstance(annotation, type):
        return annotation.__name__
    return str(annotation).replace("typing.", "").replace("pydantic.types.", "")


def _plain(value: Any, annotation: Any = None) -> Any:
    """``value`` as data safe to show: EnvVars as ``{"env": NAME}``, secrets masked (by type and
    by the field's annotation), models as mappings, unknown objects as ``<Type>``."""
    if isinstance(value, EnvVar):
        return {"env": value.env_var_name}
    if isinstance(value, SecretStr | SecretBytes):
        return RECORD_MASK
    if annotation is not None and _is_secret_annotation(annotation) and value is not None:
        return RECORD_MASK
    if isinstance(value, ConfigurableResourceFactory | PartialResource):
        return f"<{_class_of(value)}>"
    if isinstance(value, BaseModel):
        fields = type(value).model_fields
        return {
            name: _plain(item, getattr(fields.get(name), "annotation", None))
            for name, item in value.__dict__.items()
        }
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [_plain(v) for v in value]
    if isinstance(value, enum.Enum):
        return _plain(value.value)
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, PurePath | dt.date | dt.time | dt.timedelta):
        return str(value)
    return f"<{type(value).__name__}>"


def _text(value: Any, annotation: Any = None) -> str:
    if isinstance(value, EnvVar):
        return f"env {value.env_var_name}"
    return json.dumps(_plain(value, annotation), default=str)


def _is_secret(value: Any, annotation: Any) -> bool:
    return isinstance(value, SecretStr | SecretBytes) or (
        value is not None and not isinstance(value, EnvVar) and _is_secret_annotation(annotation)
    )


class _Env:
    """Where environment variables are set, looked up once per catalog (values never kept)."""

    def __init__(self) -> None:
        self._lookup = EnvLookup()
        self._seen: dict[str, str] = {}

    def status(self, name: str) -> EnvStatus:
        if name not in self._seen:
            if name in os.environ:
                self._seen[name] = "set"
            elif self._lookup.get(name) is not None:
                self._seen[name] = "set in .env"
            else:
                self._seen[name] = "not set"
        return EnvStatus(name, self._seen[name])

    def of(self, value: Any) -> tuple[EnvStatus, ...]:
        return tuple(self.status(name) for name in dict.fromkeys(env_var_names(value)))


# -- one resource --------------------------------------------------------------------------------


def _provided(obj: Any) -> Any:
    """What a dependency-injector provider makes (None for anything else)."""
    if not type(obj).__module__.startswith("dependency_injector"):
        return None
    return getattr(obj, "provides", None)


def _class_of(obj: Any) -> str:
    if isinstance(obj, PartialResource):
        return str(obj.resource_cls.__name__)
    if isinstance(obj, ResourceDefinition):
        return f"@resource {obj.name}"
    if isinstance(obj, ManagedBinding):
        return str(obj.manager_cls.__name__)
    provided = _provided(obj)
    if provided is not None:
        return f"{type(obj).__name__}({getattr(provided, '__name__', type(provided).__name__)})"
    return type(obj).__name__


def _kind_of(obj: Any, spec: ResourceSpec | None) -> str:
    if isinstance(obj, PartialResource):
        return "configurable resource, configured at launch"
    if issubclass(type(obj), ConfigurableResourceFactory):
        return "configurable resource"
    if isinstance(obj, ResourceDefinition):
        return "resource function"
    if isinstance(obj, ManagedBinding):
        return "resource manager"
    if spec is not None and spec.label.endswith(" provider"):
        return "dependency-injector provider"
    return "object bound as it is"


def _description(obj: Any) -> str | None:
    if isinstance(obj, ResourceDefinition):
        return _first_paragraph(obj.description)
    if isinstance(obj, PartialResource):
        return _own_doc(obj.resource_cls)
    if isinstance(obj, ManagedBinding):
        return _own_doc(obj.manager_cls)
    provided = _provided(obj)
    if provided is not None:
        return _own_doc(provided) if isinstance(provided, type) else None
    if type(obj).__module__.startswith(("dependency_injector", "unittest.mock")):
        return None
    return _own_doc(type(obj))


def _launch_path(key: str, owner_root: str) -> str:
    """Where config of resource ``key`` goes in a run config (nested keys under their root)."""
    if key == owner_root:
        return f"resources.{key}.config"
    return f"resources.{owner_root}.config.{key[len(owner_root) + 1 :]}"


def _configurable_rows(
    obj: Any, env: _Env, path: str
) -> tuple[list[ConfigRow], tuple[str, ...], tuple[str, ...]]:
    """Rows of a configurable resource (full or partial), the fields a launch must give and those
    a launch may give (only listed for partials)."""
    partial = isinstance(obj, PartialResource)
    cls = obj.resource_cls if partial else type(obj)
    info = class_info(cls)
    values: Mapping[str, Any] = obj.defaults if partial else obj.__dict__
    given = set(obj.defaults if partial else obj.__pydantic_fields_set__)
    rows: list[ConfigRow] = []
    required: list[str] = []
    optional: list[str] = []
    for name in info.config_fields:
        declared = cls.model_fields[name]
        annotation = declared.annotation
        description = _first_paragraph(declared.description)
        field_path = f"{path}.{name}"
        if name in given or (name in values and not partial):
            value, origin = values[name], "code" if name in given else "default"
        elif declared.is_required():
            required.append(name)
            rows.append(
                ConfigRow(
                    name,
                    _type_name(annotation),
                    description,
                    "given at launch",
                    "launch",
                    at_launch="required",
                    launch_path=field_path,
                )
            )
            continue
        else:
            value, origin = declared.get_default(call_default_factory=True), "default"
        if partial:
            optional.append(name)
        rows.append(
            _value_row(
                name,
                annotation,
                description,
                value,
                origin,
                env,
                "optional" if partial else "",
                field_path,
            )
        )
    return rows, tuple(required), tuple(optional)


def _value_row(
    name: str,
    annotation: Any,
    description: str | None,
    value: Any,
    origin: str,
    env: _Env,
    at_launch: str = "",
    path: str | None = None,
) -> ConfigRow:
    """The row of a field that has a value (from code or a default)."""
    if _is_secret(value, annotation):
        shown, origin = RECORD_MASK, "secret"
    elif isinstance(value, EnvVar):
        shown, origin = f"env {value.env_var_name}", "env"
    else:
        shown = _text(value, annotation)
    type_name = _type_name(annotation) if annotation is not None else ""
    return ConfigRow(name, type_name, description, shown, origin, env.of(value), at_launch, path)


def _definition_rows(
    obj: ResourceDefinition, env: _Env, path: str, required_now: bool
) -> tuple[list[ConfigRow], tuple[str, ...], tuple[str, ...]]:
    """Rows of an ``@resource`` function's config schema, with the fields a launch must give
    (when the schema has required fields and no config was given in code) and may give."""
    schema = obj.config
    if schema.source is None:
        return [], (), ()
    default = obj.default_config
    model = schema.model
    launch = "required" if required_now else "optional"
    if model is None:  # a single type: the whole config is one value
        if default is None:
            row = ConfigRow(
                "config",
                _type_name(schema.source),
                None,
                "given at launch",
                "launch",
                at_launch=launch,
                launch_path=path,
            )
        else:
            row = _value_row("config", schema.source, None, default, "code", env, "optional", path)
        return [row], ("config",) if required_now else (), () if required_now else ("config",)
    given: Mapping[str, Any] = {}
    if isinstance(default, BaseModel):
        given = {n: default.__dict__[n] for n in default.__pydantic_fields_set__}
    elif isinstance(default, Mapping):
        given = default
    rows = []
    required: list[str] = []
    optional: list[str] = []
    for name, declared in model.model_fields.items():
        annotation = declared.annotation
        description = _first_paragraph(declared.description)
        field_path = f"{path}.{name}"
        if name not in given and declared.is_required():
            (required if required_now else optional).append(name)
            rows.append(
                ConfigRow(
                    name,
                    _type_name(annotation),
                    description,
                    "given at launch",
                    "launch",
                    at_launch=launch,
                    launch_path=field_path,
                )
            )
            continue
        optional.append(name)
        if name in given:
            value, origin = given[name], "code"
        else:
            value, origin = declared.get_default(call_default_factory=True), "default"
        rows.append(
            _value_row(name, annotation, description, value, origin, env, "optional", field_path)
        )
    return rows, tuple(required), tuple(optional)


def _manager_rows(obj: ManagedBinding, env: _Env) -> list[ConfigRow]:
    """A resource manager's init arguments (what each run makes it with), defaults included."""
    try:
        signature = inspect.signature(obj.manager_cls)
        given = dict(signature.bind_partial(*obj.args, **obj.kwargs).arguments)
    except (TypeError, ValueError):
        given = {f"#{i}": a for i, a in enumerate(obj.args)} | dict(obj.kwargs)
        return [_value_row(n, None, None, v, "code", env) for n, v in given.items()]
    try:
        manager: Any = obj.manager_cls
        hints = typing.get_type_hints(manager.__init__)
    except Exception:  # an annotation that does not resolve: show its text
        hints = {}
    rows = []
    for name, parameter in signature.parameters.items():
        annotation = hints.get(name, parameter.annotation)
        if annotation is inspect.Parameter.empty:
            annotation = None
        if name in given:
            rows.append(_value_row(name, annotation, None, given[name], "code", env))
        elif parameter.default is not inspect.Parameter.empty:
            rows.append(_value_row(name, annotation, None, parameter.default, "default", env))
    return rows


# -- the catalog ---------------------------------------------------------------------------------


@dataclass
class _Context:
    """One set of bindings and what runs with them (the definitions, one asset or job with its
    own resources, one flow). ``own`` are the keys this context binds itself."""

    label: str
    bindings: dict[str, Any]
    users: list[tuple[Use, frozenset[str]]]
    own: frozenset[str]
    defaulted: frozenset[str] = frozenset()


@dataclass
class _Entry:
    key: str
    spec: ResourceSpec
    specs: Mapping[str, ResourceSpec]
    """The specs of the context it was first found in (for its closure and its root)."""
    bound_by: list[str] = field(default_factory=list)
    by_default: bool = False
    also_bound: list[str] = field(default_factory=list)
    children: dict[tuple[str, str], Link] = field(default_factory=dict)
    parents: dict[tuple[str, str], Link] = field(default_factory=dict)
    uses: dict[tuple[str, str | None, str], tuple[Use, set[str]]] = field(default_factory=dict)


def _definitions_contexts(defs: Definitions) -> list[_Context]:
    top = resource_bindings(defs._resources)
    users: list[tuple[Use, frozenset[str]]] = []
    with_own: list[_Context] = []
    for asset in defs.assets:
        name = asset.name
        use = Use("asset", name, None, _asset_href(name))
        keys = frozenset(asset.node_spec({}).resource_keys)
        if asset.resource_defs:
            bindings = {**top, **asset.resource_defs}
            own = frozenset(asset.resource_defs)
            with_own.append(_Context(f"asset {name!r}", bindings, [(use, keys)], own))
        else:
            users.append((use, keys))
    for job in defs.jobs:
        if job.name == IMPLICIT_ASSET_JOB:
            continue
        href = _job_href(job.name)
        job_users = [
            (Use("op", node.key, job.name, href), node.resource_keys)
            for node in job.nodes
            if node.kind == "op"
        ]
        job_keys = frozenset(k for node in job.nodes for k in node.resource_keys)
        job_users.append((Use("job", job.name, None, href), job_keys))
        if job.resource_defs:
            bindings = {**top, **job.resource_defs}
            own = frozenset(job.resource_defs)
            with_own.append(_Context(f"job {job.name!r}", bindings, job_users, own))
        else:
            users.extend(job_users)
    for kind, instigators in (("sensor", defs.sensors), ("schedule", defs.schedules)):
        for instigator in instigators:
            name = str(instigator.name)
            keys = frozenset(instigator.resource_keys)
            users.append((Use(kind, name, None, _instigator_href(name)), keys))
    contexts = [_Context("definitions", dict(top), users, frozenset(top)), *with_own]
    for context in contexts:
        asks_io = any("io_manager" in keys for _, keys in context.users)
        if "io_manager" not in context.bindings and asks_io:
            context.bindings["io_manager"] = DEFAULT_IO_MANAGER  # as its runs bind it
            context.defaulted = frozenset({"io_manager"})
    return contexts


def _flow_context(name: str, flow: Flow) -> _Context:
    bindings = resource_bindings(flow.resources)
    users = [
        (Use("task", node.name, name, _flow_href(name)), node.resource_keys)
        for node in flow._plan().graph.nodes
        if node.resource_keys
    ]
    return _Context(f"flow {name!r}", dict(bindings), users, frozenset(bindings))


def _closure(key: str, specs: Mapping[str, ResourceSpec]) -> tuple[str, ...]:
    """``key`` and every resource opening it opens (cycles and unbound keys tolerated)."""
    seen: dict[str, None] = {}
    stack = [key]
    while stack:
        current = stack.pop()
        if current in seen or current not in specs:
            continue
        seen[current] = None
        stack.extend(dep for _, dep in specs[current].deps)
    return tuple(seen)


def _root(key: str, specs: Mapping[str, ResourceSpec]) -> str:
    spec = specs.get(key)
    while spec is not None and spec.owner is not None:
        key = spec.owner
        spec = specs.get(key)
    return key


def _blocks(flows: Mapping[str, Flow]) -> list[FlowBlock]:
    blocks = []
    for flow_name in sorted(flows):
        for block in flows[flow_name].resource_blocks:
            manager = getattr(block.init_task, "fn", None)
            members = sorted(t.name for t in block.members)
            blocks.append(
                FlowBlock(
                    flow_name,
                    block.name,
                    getattr(manager, "__name__", block.name),
                    _own_doc(manager) if isinstance(manager, type) else None,
                    tuple(members),
                    _flow_href(flow_name),
                )
            )
    return blocks


def resource_catalog(defs: Definitions | None, flows: Mapping[str, Flow]) -> ResourceCatalog:
    """The resources of ``defs`` (None when the code has only flows) and ``flows``.

    Example:
        >>> resource_catalog(None, {}).resources
        {}
    """
    problems: list[str] = []
    contexts = _definitions_contexts(defs) if defs is not None else []
    for name in sorted(flows):
        try:
            contexts.append(_flow_context(name, flows[name]))
        except Exception as exc:  # the flow's own problem: shown, the rest still listed
            problems.append(f"flow {name!r}: {exc}")
    entries: dict[str, _Entry] = {}
    for context in contexts:
        specs = _specs(context, problems)
        for key, spec in specs.items():
            entry = entries.setdefault(key, _Entry(key, spec, specs))
            root = _root(key, specs)
            if root not in context.own and root not in context.defaulted:
                continue  # bound by another context (the definitions), seen again here
            if entry.spec.source is not spec.source:
                entry.also_bound.append(f"{context.label} binds {_class_of(spec.source)} here")
            elif context.label not in entry.bound_by:
                entry.bound_by.append(context.label)
                entry.by_default = key in context.defaulted
        for key, spec in specs.items():
            for field_name, dep in spec.deps:
                if dep not in specs:
                    continue
                child = specs[dep]
                shared = child.owner is None
                partial = isinstance(child.source, PartialResource)
                entries[key].children[(field_name, dep)] = Link(
                    field_name, dep, _class_of(child.source), shared, partial, resource_href(dep)
                )
                entries[dep].parents[(field_name, key)] = Link(
                    field_name, key, _class_of(spec.source), shared, partial, resource_href(key)
                )
        for use, keys in context.users:
            for asked in sorted(keys):
                for key in _closure(asked, specs):
                    _, vias = entries[key].uses.setdefault(
                        (use.kind, use.owner, use.name), (use, set())
                    )
                    vias.add("" if key == asked else asked)
    env = _Env()
    infos = {key: _info(entry, env) for key, entry in entries.items()}
    ordered: dict[str, ResourceInfo] = {}

    def add(key: str) -> None:
        ordered[key] = infos[key]
        for owned in sorted(k for k, i in infos.items() if i.owner == key):
            add(owned)

    for key in sorted(k for k, i in infos.items() if i.owner is None or i.owner not in infos):
        add(key)
    return ResourceCatalog(ordered, tuple(_blocks(flows)), tuple(dict.fromkeys(problems)))


def _specs(context: _Context, problems: list[str]) -> dict[str, ResourceSpec]:
    """The specs of a context's bindings, as the engine makes them (problems are collected, not
    raised: loaded definitions were validated already; a flow's are shown on the page)."""
    identity = {id(obj): key for key, obj in context.bindings.items()}
    found: list[str] = []
    specs: dict[str, ResourceSpec] = {}
    for key, obj in context.bindings.items():
        try:
            for spec in normalize(key, obj, identity, found):
                specs[spec.key] = spec
        except Exception as exc:  # a binding the engine rejects: the page still lists the rest
            found.append(f"resource {key!r}: {exc}")
    problems.extend(f"{context.label}: {p}" for p in found)
    return specs


def _needs(
    key: str, specs: Mapping[str, ResourceSpec], env: _Env
) -> tuple[LaunchNeed | None, list[ConfigRow]]:
    """What a launch gives resource ``key`` (None when it takes no launch config), and its
    config rows."""
    obj = specs[key].source
    path = _launch_path(key, _root(key, specs))
    required: tuple[str, ...] = ()
    optional: tuple[str, ...] = ()
    rows: list[ConfigRow] = []
    takes_launch = False
    if isinstance(obj, PartialResource) or issubclass(type(obj), ConfigurableResourceFactory):
        rows, required, optional = _configurable_rows(obj, env, path)
        takes_launch = isinstance(obj, PartialResource)
    elif isinstance(obj, ResourceDefinition):
        takes_launch = bool(obj.config.required) and obj.default_config is None
        rows, required, optional = _definition_rows(obj, env, path, takes_launch)
    elif isinstance(obj, ManagedBinding):
        rows = _manager_rows(obj, env)
    need = None
    if takes_launch:
        need = LaunchNeed(key, _class_of(obj), path, required, optional, resource_href(key))
    return need, rows


_USE_ORDER = {
    kind: i for i, kind in enumerate(("asset", "op", "job", "task", "sensor", "schedule"))
}


def _info(entry: _Entry, env: _Env) -> ResourceInfo:
    spec, specs = entry.spec, entry.specs
    own_need, rows = _needs(entry.key, specs, env)
    needs: list[LaunchNeed] = []
    for key in _closure(entry.key, specs):
        need = own_need if key == entry.key else _needs(key, specs, env)[0]
        if need is not None:
            needs.append(need)
    needs.sort(key=lambda n: (not n.required, n.key != entry.key, n.key))
    uses = [
        Use(use.kind, use.name, use.owner, use.href, () if "" in vias else tuple(sorted(vias)))
        for use, vias in entry.uses.values()
    ]
    uses.sort(key=lambda u: (_USE_ORDER.get(u.kind, 9), u.owner or "", u.name))
    links: list[tuple[str, str]] = []
    assets = [u.name for u in uses if u.kind == "asset"]
    if assets:
        what = "the asset" if len(assets) == 1 else f"the {len(assets)} assets"
        select = quote(",".join(assets), safe=",/")
        links.append((f"materialize {what} using it", f"/launchpad?select={select}"))
    links.extend(
        (f"job {u.name}", "/launchpad?" + urlencode({"job": u.name}))
        for u in uses
        if u.kind == "job"
    )
    links.extend(
        (f"flow {name}", "/launchpad?" + urlencode({"flow": name}))
        for name in sorted({u.owner for u in uses if u.kind == "task" and u.owner})
    )
    depth, owner = 0, spec.owner
    while owner is not None:
        depth += 1
        owner = specs[owner].owner if owner in specs else None
    return ResourceInfo(
        key=entry.key,
        class_name=_class_of(spec.source),
        kind=_kind_of(spec.source, spec),
        description=_description(spec.source),
        scope=str(spec.scope),
        set_at_launch=own_need is not None,
        launch_required=own_need.required if own_need is not None else (),
        config=tuple(rows),
        children=tuple(sorted(entry.children.values(), key=lambda link: link.field)),
        parents=tuple(sorted(entry.parents.values(), key=lambda link: link.key)),
        owner=spec.owner,
        uses=tuple(uses),
        launch_needs=tuple(needs),
        launch_links=tuple(links),
        bound_by=tuple(entry.bound_by),
        also_bound=tuple(entry.also_bound),
        by_default=entry.by_default,
        href=resource_href(entry.key),
        depth=depth,
    )
