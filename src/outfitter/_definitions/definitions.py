"""``Definitions``: the assets, jobs, schedules, sensors and resources of a code location,
validated together when it is built. Every problem is reported at once."""

from __future__ import annotations

import copy
import inspect
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from pydantic import ValidationError

from .._config.errors import field_errors
from .._resources.bindings import is_container, plan_of_bindings, resource_bindings
from .._resources.configurable import ConfigurableResource, PartialResource
from .._resources.context import did_you_mean
from .._resources.io_manager import DEFAULT_IO_MANAGER
from ..exceptions import ConfigError, DefinitionError, OutfitterError
from .asset_key import AssetKey
from .decorators import AssetsDefinition
from .job import JobDefinition, UnresolvedAssetJob
from .node import NodeSpec
from .sensors import ScheduleDefinition, SensorDefinition

__all__ = [
    "IMPLICIT_ASSET_JOB",
    "Definitions",
    "DefinitionsLoader",
    "definitions",
    "with_resources",
]

IMPLICIT_ASSET_JOB = "__ASSET_JOB"
_DEFAULT_IO = frozenset({"io_manager"})


class Definitions:
    """Everything a code location defines, checked together.

    Building it raises one :class:`DefinitionError` listing every problem: missing resource keys
    (with a did-you-mean), resource and asset cycles, unbound partial nested resources, resources
    whose type does not match the parameter asking for them, duplicate asset keys, unknown deps.

    Example:
        >>> from outfitter import ConfigurableResource, Definitions, asset
        >>> class Api(ConfigurableResource):
        ...     url: str
        >>> @asset
        ... def users(api: Api) -> list[str]:
        ...     return [api.url]
        >>> defs = Definitions(assets=[users], resources={"api": Api(url="http://x")})
        >>> defs.get_implicit_global_asset_job_def().execute_in_process().asset_value("users")
        ['http://x']
    """

    def __init__(
        self,
        assets: Iterable[AssetsDefinition] | None = None,
        jobs: Iterable[JobDefinition | UnresolvedAssetJob] | None = None,
        sensors: Iterable[Any] | None = None,
        schedules: Iterable[Any] | None = None,
        resources: Mapping[str, Any] | Any = None,
        executor: Any = None,
    ) -> None:
        problems: list[str] = []
        self.assets = _items(assets, "assets", AssetsDefinition, "@asset", problems)
        jobs = _items(
            jobs, "jobs", JobDefinition | UnresolvedAssetJob, "@job or define_asset_job", problems
        )
        self._given_jobs = list(jobs)  # as given (unresolved), for merge and validate_loadable
        self.sensors = _items(sensors, "sensors", object, "@sensor", problems)
        self.schedules = _items(schedules, "schedules", object, "@schedule", problems)
        self.executor = executor
        self._resources = resources
        self._jobs: dict[str, JobDefinition] = {}
        if executor is not None and not hasattr(executor, "config"):
            problems.append(
                f"executor={executor!r} is not an executor; use in_process_executor, "
                "multiprocess_executor(...) or dask_executor(...)"
            )
            self.executor = None
        self._check_assets(problems)
        try:
            bindings = resource_bindings(resources)
        except DefinitionError as exc:
            problems.extend(exc.problems)
            bindings = {}
        bad_keys = [k for k in bindings if not isinstance(k, str)]
        if bad_keys:
            problems.append(
                f"resource keys must be strings, got {', '.join(repr(k) for k in bad_keys)}"
            )
            bindings = {k: v for k, v in bindings.items() if isinstance(k, str)}
        unique = list({a.keys: a for a in reversed(self.assets)}.values())[::-1]
        if self.assets:
            try:
                implicit = UnresolvedAssetJob(IMPLICIT_ASSET_JOB, None, None, None, executor)
                self._add_job(implicit.resolve(unique), problems)
            except DefinitionError as exc:
                problems.extend(exc.problems)
        for job in jobs:
            try:
                resolved = job.resolve(unique) if isinstance(job, UnresolvedAssetJob) else job
            except DefinitionError as exc:
                problems.extend(exc.problems)
                continue
            self._add_job(resolved, problems)
        self._check_resources(unique, bindings, problems)
        self._check_instigators(bindings, problems)
        if problems:
            raise DefinitionError(
                f"{len(problems)} problem(s) in the definitions",
                problems=list(dict.fromkeys(problems)),
                hint="fix every item listed; definitions are checked together so you can fix "
                "them in one go.",
            )

    # -- validation ----------------------------------------------------------------------------

    def _check_assets(self, problems: list[str]) -> None:
        by_key: dict[AssetKey, AssetsDefinition] = {}
        for a in self.assets:
            for key in a.keys:  # a multi_asset defines several
                if key in by_key and by_key[key] is not a:
                    problems.append(f"asset key {key.to_user_string()!r} is defined twice")
                by_key[key] = a
        known = [k.to_user_string() for k in by_key]
        for a in self.assets:
            name = a.name
            for param, key in a.input_keys.items():
                if key not in by_key:
                    problems.append(
                        f"asset {name!r}, input {param!r}: no asset {key.to_user_string()!r} is "
                        "defined." + did_you_mean(key.to_user_string(), known)
                    )
            for dep in a.deps:
                if dep not in by_key:
                    problems.append(
                        f"asset {name!r} depends on unknown asset {dep.to_user_string()!r}."
                        + did_you_mean(dep.to_user_string(), known)
                    )

    def _add_job(self, job: JobDefinition, problems: list[str]) -> None:
        if job.name in self._jobs:
            problems.append(f"job name {job.name!r} is used twice")
            return
        bound = copy.copy(job)
        bound.base_resources = self._resources
        if bound.executor_def is None:
            bound.executor_def = self.executor
        self._jobs[job.name] = bound

    def _check_resources(
        self, assets: list[AssetsDefinition], bindings: dict[str, Any], problems: list[str]
    ) -> None:
        """The resource graph, then what every asset and op asks for (independently of whether
        the jobs resolved, so one round reports everything)."""
        # planned as its jobs will run them (with the default I/O manager), so runs reuse it
        self._check_plan(
            {**bindings, "io_manager": bindings.get("io_manager", DEFAULT_IO_MANAGER)}, problems
        )
        for a in assets:
            own = {**bindings, **a.resource_defs}
            if a.resource_defs:
                self._check_plan(own, problems)
            self._check_node(a.node_spec({}), own, problems)
        for job in self._jobs.values():
            if all(n.kind == "asset" for n in job.nodes):
                continue  # checked through its assets above
            merged = {**bindings, **job.resource_defs}
            if job.resource_defs:
                self._check_plan(merged, problems)
            for node in job.nodes:
                self._check_node(node, merged, problems)

    def _check_instigators(self, bindings: dict[str, Any], problems: list[str]) -> None:
        names: set[str] = set()
        kinds: list[tuple[Any, str, type[Any], str]] = [
            *((d, "sensors", SensorDefinition, "@sensor") for d in self.sensors),
            *((d, "schedules", ScheduleDefinition, "@schedule(cron)") for d in self.schedules),
        ]
        for definition, where, kind, decorator in kinds:
            if not isinstance(definition, kind):
                problems.append(
                    f"{where}= holds {definition!r} ({type(definition).__name__}), which is not "
                    f"a {kind.__name__}; make it with {decorator} above a function"
                )
                continue
            owner = definition.owner
            if definition.name in names:
                problems.append(f"{owner}: the name {definition.name!r} is used twice")
            names.add(definition.name)
            # cron, timezone, interval, status: checked when it was made, and again here in
            # case it was changed since (an invalid cron would only fail on the daemon's tick)
            check = getattr(definition, "definition_problems", None)
            if check is not None:
                problems.extend(check())
            for key in sorted(definition.resource_keys):
                if key not in bindings:
                    problems.append(
                        f"{owner} requires resource {key!r}, which is not bound."
                        + did_you_mean(key, bindings)
                    )
            # job=, job_name=, jobs=[...], and a run status sensor's monitored_jobs=
            for role, job_name in definition.referenced_jobs():
                if job_name not in self._jobs:
                    known = sorted(k for k in self._jobs if k != IMPLICIT_ASSET_JOB)
                    problems.append(
                        f"{owner} {role} job {job_name!r}, which is not in these definitions "
                        f"(jobs: {', '.join(known) or 'none'})." + did_you_mean(job_name, known)
                    )

    def get_sensor_def(self, name: str) -> Any:
        """The sensor called ``name`` (also :meth:`resolve_sensor_def`)."""
        return self._instigator(name, self.sensors, "sensor")

    def get_schedule_def(self, name: str) -> Any:
        """The schedule called ``name`` (also :meth:`resolve_schedule_def`)."""
        return self._instigator(name, self.schedules, "schedule")

    def resolve_sensor_def(self, name: str) -> Any:
        """The sensor called ``name`` (Dagster 1.13's name for :meth:`get_sensor_def`).

        Example:
            >>> from outfitter import Definitions, RunRequest, job, op, sensor
            >>> @op
            ... def noop() -> None: ...
            >>> @job
            ... def nightly():
            ...     noop()
            >>> @sensor(job=nightly)
            ... def on_file():
            ...     return RunRequest()
            >>> defs = Definitions(jobs=[nightly], sensors=[on_file])
            >>> defs.resolve_sensor_def("on_file").name
            'on_file'
        """
        return self.get_sensor_def(name)

    def resolve_schedule_def(self, name: str) -> Any:
        """The schedule called ``name`` (Dagster 1.13's name for :meth:`get_schedule_def`).

        Example:
            >>> from outfitter import Definitions, job, op, schedule
            >>> @op
            ... def noop() -> None: ...
            >>> @job
            ... def nightly():
            ...     noop()
            >>> @schedule(cron_schedule="0 2 * * *", job=nightly)
            ... def every_night():
            ...     return {}
            >>> defs = Definitions(jobs=[nightly], schedules=[every_night])
            >>> defs.resolve_schedule_def("every_night").name
            'every_night'
        """
        return self.get_schedule_def(name)

    @staticmethod
    def _instigator(name: str, definitions: list[Any], kind: str) -> Any:
        for definition in definitions:
            if definition.name == name:
                return definition
        known = [d.name for d in definitions]
        raise DefinitionError(
            f"no {kind} named {name!r}." + did_you_mean(name, known),
            hint=f"{kind}s defined here: {', '.join(known) or 'none'}.",
        )

    @staticmethod
    def _check_plan(bindings: dict[str, Any], problems: list[str]) -> None:
        try:
            plan_of_bindings(bindings)  # cached: the first run of these bindings reuses it
        except OutfitterError as exc:
            problems.extend(exc.problems)

    @staticmethod
    def _check_node(node: NodeSpec, bindings: dict[str, Any], problems: list[str]) -> None:
        owner = _owner(node)
        for key in sorted(node.resource_keys - _DEFAULT_IO):
            if key not in bindings:
                # name the outputs / inputs whose manager it is (Out / AssetOut / In)
                users = [
                    f"output {o.name!r}" for o in node.outputs or () if o.io_manager_key == key
                ]
                users += [f"input {i.name!r}" for i in node.inputs if i.input_manager_key == key]
                problems.append(
                    f"{owner}{' (' + ', '.join(users) + ')' if users else ''} requires resource "
                    f"{key!r}, which is not bound." + did_you_mean(key, bindings)
                )
        for res in node.params.resources:
            if res.key in bindings and res.expected is not None:
                mismatch = _type_mismatch(bindings[res.key], res.expected)
                if mismatch:
                    problems.append(
                        f"{owner}, parameter {res.key!r}: expects {res.expected.__name__}, "
                        f"but the resource bound at {res.key!r} is {mismatch}"
                    )

    # -- access ---------------------------------------------------------------------------------

    @property
    def resources(self) -> Any:
        """The resource container (a ``ResourceContainer``; a dict given here is wrapped)."""
        if is_container(self._resources):
            return self._resources
        from .._resources.container import ResourceContainer

        attrs = dict(resource_bindings(self._resources))
        return type("DefinitionsResources", (ResourceContainer,), attrs)

    @property
    def jobs(self) -> list[JobDefinition]:
        """Every job, the implicit asset job included."""
        return list(self._jobs.values())

    def get_job_def(self, name: str) -> JobDefinition:
        """The job called ``name``, bound to these definitions' resources."""
        try:
            return self._jobs[name]
        except KeyError:
            known = ", ".join(sorted(k for k in self._jobs if k != IMPLICIT_ASSET_JOB))
            raise DefinitionError(
                f"no job named {name!r}." + did_you_mean(name, self._jobs),
                hint=f"jobs defined here: {known or 'none'}.",
            ) from None

    def get_implicit_global_asset_job_def(self) -> JobDefinition:
        """The job materializing every asset (also
        :meth:`resolve_implicit_global_asset_job_def`)."""
        if IMPLICIT_ASSET_JOB not in self._jobs:
            raise DefinitionError(
                "these definitions have no assets, so they have no implicit asset job",
                hint="give Definitions(assets=[...]), or run one of its jobs with "
                "resolve_job_def(name).",
            )
        return self._jobs[IMPLICIT_ASSET_JOB]

    def resolve_job_def(self, name: str) -> JobDefinition:
        """The job called ``name``, bound to these definitions' resources (Dagster 1.13's
        name for :meth:`get_job_def`; an unknown name raises with close matches).

        Example:
            >>> from outfitter import Definitions, asset, define_asset_job
            >>> @asset
            ... def users() -> list[str]:
            ...     return ["ada"]
            >>> defs = Definitions(assets=[users], jobs=[define_asset_job("refresh")])
            >>> defs.resolve_job_def("refresh").execute_in_process().asset_value("users")
            ['ada']
        """
        return self.get_job_def(name)

    def resolve_implicit_global_asset_job_def(self) -> JobDefinition:
        """The job materializing every asset (Dagster 1.13's name for
        :meth:`get_implicit_global_asset_job_def`).

        Example:
            >>> from outfitter import Definitions, asset
            >>> @asset
            ... def users() -> list[str]:
            ...     return ["ada"]
            >>> job = Definitions(assets=[users]).resolve_implicit_global_asset_job_def()
            >>> job.execute_in_process().asset_value("users")
            ['ada']
        """
        return self.get_implicit_global_asset_job_def()

    @staticmethod
    def validate_loadable(defs: Any) -> None:
        """Check that ``defs`` (a :class:`Definitions`, or a ``@definitions`` function) loads:
        every check of the constructor runs again over what it holds now (lists changed since
        it was built included), and every problem is raised together in one
        :class:`DefinitionError` (Dagster's ``Definitions.validate_loadable``).

        Example:
            >>> from outfitter import Definitions, asset
            >>> @asset
            ... def users() -> list[str]:
            ...     return []
            >>> @asset
            ... def report(userz: list[str]) -> int:
            ...     return len(userz)
            >>> defs = Definitions(assets=[users])
            >>> Definitions.validate_loadable(defs)
            >>> defs.assets.append(report)
            >>> Definitions.validate_loadable(defs)
            Traceback (most recent call last):
            ...
            outfitter.exceptions.DefinitionError: 1 problem(s) in the definitions
              - asset 'report', input 'userz': no asset 'userz' is defined. Did you mean 'users'?
            Hint: ...
        """
        if isinstance(defs, DefinitionsLoader):
            defs = defs.load()
        if not isinstance(defs, Definitions):
            from ..exceptions import InvocationTypeError

            raise InvocationTypeError(
                f"Definitions.validate_loadable takes a Definitions object, got "
                f"{type(defs).__name__} {defs!r}",
                hint="pass the Definitions of a code location (or its @definitions function).",
            )
        defs._rebuilt()

    @staticmethod
    def merge(*def_sets: Definitions) -> Definitions:
        """One Definitions holding everything of ``def_sets`` (Dagster's
        ``Definitions.merge``). A resource key bound to different objects, or two different
        executors, is a DefinitionError; duplicate names are reported as for one Definitions.

        Example:
            >>> from outfitter import Definitions, asset
            >>> @asset
            ... def a() -> int:
            ...     return 1
            >>> @asset
            ... def b() -> int:
            ...     return 2
            >>> merged = Definitions.merge(Definitions(assets=[a]), Definitions(assets=[b]))
            >>> [x.key.to_user_string() for x in merged.assets]
            ['a', 'b']
        """
        bad = [d for d in def_sets if not isinstance(d, Definitions)]
        if bad:
            from ..exceptions import InvocationTypeError

            raise InvocationTypeError(
                "Definitions.merge takes Definitions objects, got "
                + ", ".join(f"{type(b).__name__} {b!r}" for b in bad),
                hint="e.g. Definitions.merge(core_defs, extra_defs).",
            )
        resources: dict[str, Any] = {}
        executors = {id(d.executor): d.executor for d in def_sets if d.executor is not None}
        problems: list[str] = []
        for d in def_sets:
            for key, value in resource_bindings(d._resources).items():
                if key in resources and resources[key] is not value:
                    problems.append(
                        f"resource key {key!r} is bound to different resources "
                        f"({resources[key]!r} and {value!r})"
                    )
                resources[key] = value
        if len(executors) > 1:
            problems.append("the definitions have different executors")
        if problems:
            raise DefinitionError(
                f"Definitions.merge: {len(problems)} problem(s)",
                problems=problems,
                hint="bind each resource key once (the same object in every Definitions), and "
                "give at most one executor.",
            )
        return Definitions(
            assets=[a for d in def_sets for a in d.assets],
            jobs=[j for d in def_sets for j in d._given_jobs],
            sensors=[x for d in def_sets for x in d.sensors],
            schedules=[x for d in def_sets for x in d.schedules],
            resources=resources,
            executor=next(iter(executors.values()), None),
        )

    def _rebuilt(self) -> Definitions:
        """These definitions built again from what they hold now (raises what is wrong)."""
        return Definitions(
            assets=self.assets,
            jobs=self._given_jobs,
            sensors=self.sensors,
            schedules=self.schedules,
            resources=self._resources,
            executor=self.executor,
        )

    def __repr__(self) -> str:
        return f"Definitions(assets={len(self.assets)}, jobs={len(self._jobs)})"


def _items(given: Any, name: str, kind: Any, decorator: str, problems: list[str]) -> list[Any]:
    """``given`` as a list of ``kind``; a value that is not a list of them is a problem (and
    its wrong items are left out, so the rest is still checked)."""
    if given is None:
        return []
    if isinstance(given, str | bytes) or not isinstance(given, Iterable):
        problems.append(
            f"{name}= takes a list, got {type(given).__name__} {given!r}; e.g. {name}=[...]"
        )
        return []
    items = list(given)
    good = [item for item in items if isinstance(item, kind)]
    for item in items:
        if not isinstance(item, kind):
            problems.append(
                f"{name}= holds {item!r} ({type(item).__name__}); make each with {decorator}"
            )
    return good


def _owner(node: NodeSpec) -> str:
    if node.outputs is not None and node.asset_key is None and node.kind == "asset":
        return node.label  # a multi_asset
    if node.asset_key is not None:
        return f"asset {node.asset_key.to_user_string()!r}"
    return f"op {node.key!r}"


def _type_mismatch(bound: Any, expected: type) -> str | None:
    """None when ``bound`` can provide an ``expected``; otherwise a description of it."""
    if isinstance(bound, PartialResource):
        if issubclass(bound.resource_cls, expected):
            return None
        return f"{bound.resource_cls.__name__}.configure_at_launch()"
    if isinstance(bound, ConfigurableResource):
        return None if isinstance(bound, expected) else type(bound).__name__
    from .._resources.configurable import ConfigurableResourceFactory
    from .._resources.definition import ResourceDefinition
    from .._resources.lifecycle import ManagedBinding

    if isinstance(bound, ConfigurableResourceFactory | ResourceDefinition | ManagedBinding):
        return None  # the value is only known when it is created
    if type(bound).__module__.startswith("dependency_injector"):
        return None
    return None if isinstance(bound, expected) else f"a {type(bound).__name__}"


def with_resources(
    assets: Iterable[AssetsDefinition],
    resource_defs: Mapping[str, Any],
    resource_config_by_key: Mapping[str, Any] | None = None,
) -> list[AssetsDefinition]:
    """Copies of ``assets`` carrying their own resources (winning over Definitions-level ones).

    ``resource_config_by_key`` (``{"key": {"config": {...}}}``) configures the resources of
    ``resource_defs``; its keys that are not bound there are ignored, as in Dagster. Checked at
    the call, as Dagster does (dagster/_core/execution/with_resources.py and
    ``AssetsDefinition.with_resources``): every resource an asset needs must be bound (by
    ``resource_defs`` or the asset's own), the config values must be valid, and an asset's own
    resource may not be bound again under the same key.

    Example:
        >>> from outfitter import asset, materialize, with_resources
        >>> @asset
        ... def token_length(token: dict) -> int:
        ...     return len(token["value"])
        >>> [bound] = with_resources([token_length], {"token": {"value": "abc"}})
        >>> bound.resource_defs["token"]
        {'value': 'abc'}
    """
    if not isinstance(resource_defs, Mapping):
        raise DefinitionError(
            f"with_resources takes resource_defs as a dict, got {type(resource_defs).__name__}",
            hint="e.g. with_resources([my_asset], {'db': Database(...)}).",
        )
    problems: list[str] = []
    assets = _items(assets, "assets", AssetsDefinition, "@asset", problems)
    if problems:
        raise DefinitionError(
            "with_resources takes a list of assets",
            problems=problems,
            hint="e.g. with_resources([my_asset], {'db': Database(...)}).",
        )
    defs = dict(resource_defs)
    for key, entry in (resource_config_by_key or {}).items():
        if key not in defs:
            continue  # Dagster configures only the keys it binds
        config = entry.get("config", entry) if isinstance(entry, Mapping) else entry
        try:
            defs[key] = _configured(defs[key], config, key)
        except ConfigError as exc:  # also our ValidationError subclass
            named = f"resource {key!r}"
            problems.extend(p if p.startswith(named) else f"{named}: {p}" for p in exc.problems)
        except ValidationError as exc:
            problems.extend(
                f"resource {key!r}, field '{loc}': {msg}" for loc, msg in field_errors(exc)
            )
    if problems:
        raise ConfigError(
            f"with_resources: {len(problems)} problem(s) in resource_config_by_key",
            problems=problems,
            hint="give each resource {'config': {field: value}} with the fields its class (or "
            "config_schema) declares.",
        )
    for a in assets:
        name = a.name
        overlap = sorted(k for k in set(a.resource_defs) & set(defs) if k != "io_manager")
        for key in overlap:
            if a.resource_defs[key] is not defs[key]:
                problems.append(
                    f"asset {name!r} already has its own resource {key!r}; with_resources "
                    "binds another one at that key"
                )
        bound = {**defs, **a.resource_defs}
        io_keys = {a.io_manager_key} | {o.io_manager_key for o in a.outputs or ()}
        for key in sorted(a.resource_keys | io_keys):
            if key != "io_manager" and key not in bound:
                problems.append(
                    f"asset {name!r} requires resource {key!r}, which with_resources does not "
                    "bind." + did_you_mean(key, bound)
                )
    if problems:
        raise DefinitionError(
            f"with_resources: {len(problems)} problem(s) binding the assets' resources",
            problems=problems,
            hint="bind every resource the assets ask for in resource_defs (keys: "
            f"{', '.join(sorted(defs)) or 'none'}); don't bind a key an asset defines itself.",
        )
    return [a.with_resource_defs(defs) for a in assets]


def _configured(resource: Any, config: Any, key: str) -> Any:
    from .._resources.configurable import ConfigurableResourceFactory
    from .._resources.definition import ResourceDefinition

    if isinstance(resource, PartialResource):
        merged = {**resource.defaults, **dict(config)}
        _check_partial_config(resource, dict(config), key)
        return PartialResource(resource.resource_cls, merged)
    if isinstance(resource, ConfigurableResourceFactory):
        values = {n: resource.__dict__[n] for n in resource.__pydantic_fields_set__}
        return type(resource)(**{**values, **dict(config)})
    if isinstance(resource, ResourceDefinition):
        if not _has_env_var(config):  # an EnvVar is resolved (and checked) at launch
            resource.config.validate(config, f"resource {key!r}")
        return resource.configured(config)
    raise DefinitionError(
        f"resource {key!r} ({type(resource).__name__}) takes no config",
        hint="only configurable resources and @resource functions with a config_schema do.",
    )


def _check_partial_config(resource: PartialResource[Any], config: dict[str, Any], key: str) -> None:
    """The values given for a resource set at launch, each checked against its field (the
    others stay to be given at launch)."""
    from pydantic import TypeAdapter

    from .._config.env_var import EnvVar

    fields = resource.resource_cls.model_fields
    problems: list[str] = []
    for name, value in config.items():
        field = fields.get(name)
        if field is None:
            problems.append(
                f"field {name!r}: {resource.resource_cls.__name__} has no such field."
                + did_you_mean(name, fields)
            )
            continue
        if isinstance(value, EnvVar):
            continue  # resolved at launch
        try:
            TypeAdapter(field.annotation).validate_python(value)
        except ValidationError as exc:
            msg = exc.errors(include_url=False)[0]["msg"] if exc.errors() else str(exc)
            problems.append(f"field {name!r}: {msg}")
        except Exception:  # an annotation pydantic cannot check here
            continue
    if problems:
        raise ConfigError(
            f"resource {key!r}: invalid config",
            problems=[f"resource {key!r}, {p}" for p in problems],
            hint="fix the values.",
        )


def _has_env_var(value: Any) -> bool:
    from .._config.env_var import EnvVar

    if isinstance(value, EnvVar):
        return True
    if isinstance(value, Mapping):
        return any(_has_env_var(v) for v in value.values())
    if isinstance(value, list | tuple):
        return any(_has_env_var(v) for v in value)
    return False


class DefinitionsLoader:
    """What ``@definitions`` makes: the function that builds a code location's
    :class:`Definitions`, called when the code location is loaded (the CLI, the daemon and the
    UI find it in the module, as Dagster's loader does). Calling it calls the function.

    Example:
        >>> from outfitter import Definitions, asset, definitions
        >>> @definitions
        ... def defs():
        ...     @asset
        ...     def users() -> list[str]:
        ...         return []
        ...     return Definitions(assets=[users])
        >>> defs.load().assets
        [<asset users>]
    """

    def __init__(self, fn: Callable[..., Any]) -> None:
        if not callable(fn):
            raise DefinitionError(
                f"@definitions must decorate a function, got {type(fn).__name__} {fn!r}",
                hint="write @definitions directly above `def defs(): return Definitions(...)`.",
            )
        self.fn = fn
        self.name = getattr(fn, "__name__", repr(fn))
        self.__doc__ = fn.__doc__
        self.__wrapped__ = fn
        try:
            self._takes_context = bool(inspect.signature(fn).parameters)
        except (TypeError, ValueError):
            self._takes_context = False

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self.fn(*args, **kwargs)

    def load(self) -> Definitions:
        """Call the function (with a load context when it takes a parameter, as in Dagster)
        and check that it returned a :class:`Definitions`."""
        result = self.fn(DefinitionsLoadContext()) if self._takes_context else self.fn()
        if not isinstance(result, Definitions):
            raise DefinitionError(
                f"@definitions function {self.name!r} returned {type(result).__name__} "
                f"{result!r}, not a Definitions",
                hint="end the function with `return Definitions(assets=[...], ...)`.",
            )
        return result

    def __repr__(self) -> str:
        return f"<definitions {self.name}>"


class DefinitionsLoadContext:
    """What a ``@definitions`` function that takes a parameter receives: how it is being
    loaded (``load_type``; always ``"initialization"`` here, there are no reloads of a running
    code server)."""

    load_type = "initialization"

    def __repr__(self) -> str:
        return "DefinitionsLoadContext(load_type='initialization')"


def definitions(fn: Callable[..., Any]) -> DefinitionsLoader:
    """Mark a module-level function as the entry point of a code location (Dagster's
    ``@dg.definitions``): it returns the :class:`Definitions`, and the CLI, the daemon and the
    UI call it when they load the module (``-f``/``-m``), instead of reading a ``defs``
    variable. A module has at most one.

    Example:
        >>> from outfitter import ConfigurableResource, Definitions, asset, definitions
        >>> class Api(ConfigurableResource):
        ...     url: str
        >>> @asset
        ... def users(api: Api) -> list[str]:
        ...     return [api.url]
        >>> @definitions
        ... def defs() -> Definitions:
        ...     return Definitions(assets=[users], resources={"api": Api(url="http://x")})
        >>> defs().resolve_implicit_global_asset_job_def().execute_in_process().asset_value(
        ...     "users"
        ... )
        ['http://x']
    """
    return DefinitionsLoader(fn)
