"""``ConfigurableResource``, ``ConfigurableResourceFactory`` and ``PartialResource``.

A configurable resource is a frozen pydantic model: its fields are config, fields annotated with a
resource class (or ``ResourceDependency[T]``) are nested resources. Construction validates config
but never opens anything; values that are only known at launch (``EnvVar``, a
``configure_at_launch()`` partial) are kept as they are and validated when a run opens the
resource, on a fresh copy (copy-on-init). Opening is the run scope's business (``_execution``).
"""

from __future__ import annotations

import contextlib
import inspect
import weakref
from collections.abc import Iterator
from dataclasses import dataclass
from enum import Enum
from typing import Any, ClassVar, Generic, Self, TypeVar, cast

from pydantic import BaseModel, ConfigDict, PrivateAttr, ValidationError, field_validator
from pydantic.fields import FieldInfo
from pydantic_core import PydanticUndefined

from .._config.env_var import EnvVar, contains_env_var
from .._config.errors import ConfigValidationError
from .._config.run_config import (
    MAX_DEPTH,
    construction_error,
    enum_by_name,
    error_lines,
    field_keys,
    reject_unsupported_fields,
    too_deep,
)
from ..exceptions import ConfigError, DefinitionError, InvocationError
from .context import InitResourceContext, Resources, current_init_context
from .markers import RESOURCE_DEPENDENCY, Scope, has_marker, parse_scope, strip_optional

__all__ = [
    "ConfigurableResource",
    "ConfigurableResourceFactory",
    "PartialResource",
    "class_info",
    "config_problems",
    "fresh_copy",
    "redacted_config",
]

T = TypeVar("T")
R = TypeVar("R", bound="ConfigurableResourceFactory[Any]")


@dataclass(frozen=True, slots=True)
class NestedField:
    """A field of a configurable resource that holds another resource."""

    name: str
    expected: type | None
    optional: bool


@dataclass(frozen=True, slots=True)
class ClassInfo:
    """What Outfitter needs to know about a resource class, computed once per class."""

    nested: dict[str, NestedField]
    field_names: tuple[str, ...]
    config_fields: tuple[str, ...]
    required: frozenset[str]
    private_constants: tuple[tuple[str, Any], ...]
    private_defaults: tuple[tuple[str, Any], ...]
    scope: Scope


_IMMUTABLE = (type(None), bool, int, float, str, bytes, tuple, frozenset)
_INFO: weakref.WeakKeyDictionary[type, ClassInfo] = weakref.WeakKeyDictionary()


def _nested_field(name: str, field: FieldInfo) -> NestedField | None:
    annotation, optional = strip_optional(field.annotation)
    found, inner = has_marker(annotation, RESOURCE_DEPENDENCY)
    if not found:
        found = any(m is RESOURCE_DEPENDENCY for m in field.metadata)
    if found:
        inner, inner_optional = strip_optional(inner)
        # Any (a class since Python 3.11) accepts every resource: nothing to check
        expected = inner if isinstance(inner, type) and inner is not Any else None
        return NestedField(name, expected, optional or inner_optional)
    if isinstance(annotation, type) and issubclass(annotation, ConfigurableResourceFactory):
        return NestedField(name, annotation, optional)
    return None


def class_info(cls: type[ConfigurableResourceFactory[Any]]) -> ClassInfo:
    """The cached :class:`ClassInfo` of a resource class."""
    info = _INFO.get(cls)
    if info is not None:
        return info
    nested: dict[str, NestedField] = {}
    config: list[str] = []
    required: set[str] = set()
    for name, field in cls.model_fields.items():
        nf = _nested_field(name, field)
        if nf is not None:
            nested[name] = nf
        else:
            config.append(name)
        if field.is_required():
            required.add(name)
    constants: dict[str, Any] = {}
    private: list[tuple[str, Any]] = []
    for name, attr in (cls.__private_attributes__ or {}).items():
        if attr.default_factory is None and isinstance(attr.default, _IMMUTABLE):
            constants[name] = attr.default
        elif attr.default is not PydanticUndefined or attr.default_factory is not None:
            private.append((name, attr))
    info = ClassInfo(
        nested=nested,
        field_names=tuple(cls.model_fields),
        config_fields=tuple(config),
        required=frozenset(required),
        private_constants=tuple(constants.items()),
        private_defaults=tuple(private),
        scope=parse_scope(getattr(cls, "_outfitter_scope", Scope.RUN), cls.__name__),
    )
    _INFO[cls] = info
    return info


def _is_resource_form(value: Any) -> bool:
    from .definition import ResourceDefinition

    return isinstance(value, ConfigurableResourceFactory | PartialResource | ResourceDefinition)


def _needs_deferral(info: ClassInfo, name: str, value: Any) -> bool:
    """True when pydantic cannot validate ``value`` now (it is only known at launch)."""
    if value is None:
        return False
    nested = info.nested.get(name)
    if nested is not None:
        if isinstance(value, PartialResource):
            return True
        if not isinstance(value, BaseModel) and contains_env_var(value):
            return True
        return nested.expected is None or not isinstance(value, nested.expected)
    return contains_env_var(value) or isinstance(value, PartialResource)


def config_problems(
    cls: type[ConfigurableResourceFactory[Any]],
    values: dict[str, Any],
    owner: str,
    *,
    check_required: bool = True,
    prefix: str = "",
) -> list[str]:
    """Every problem with ``values`` as config of ``cls``: unknown fields, missing required ones,
    ill-typed values. Values only known at launch (EnvVars, partials) are not type-checked here."""
    info = class_info(cls)
    problems = [
        f"{owner}: unknown field '{prefix}{name}'." + _did_you_mean(name, cls.model_fields)
        for name in values
        if name not in cls.model_fields
    ]
    if check_required:
        problems.extend(
            f"{owner}, field '{prefix}{name}': required but not given"
            for name in sorted(info.required)
            if name not in values
        )
    probe = cls.model_construct()
    for name, value in values.items():
        if name not in cls.model_fields or _needs_deferral(info, name, value):
            continue
        try:
            cls.__pydantic_validator__.validate_assignment(probe, name, value)
        except ValidationError as exc:
            problems.extend(error_lines(owner, exc, prefix))
    return problems


def _did_you_mean(name: str, candidates: Any) -> str:
    from .context import did_you_mean

    return did_you_mean(name, candidates)


def _copy_state(src: BaseModel, dst: BaseModel) -> None:
    object.__setattr__(dst, "__dict__", src.__dict__)
    object.__setattr__(dst, "__pydantic_fields_set__", src.__pydantic_fields_set__)
    object.__setattr__(dst, "__pydantic_extra__", src.__pydantic_extra__)
    object.__setattr__(dst, "__pydantic_private__", src.__pydantic_private__)


def fresh_copy(
    resource: R, updates: dict[str, Any] | None = None, info: ClassInfo | None = None
) -> R:
    """A new instance with the same field values (plus ``updates``), fresh private state and no
    cached properties: what a run receives (copy-on-init). The original is never mutated."""
    cls = type(resource)
    if info is None:
        info = class_info(cls)
    new = cls.__new__(cls)
    data = resource.__dict__
    fields = {name: data[name] for name in info.field_names}
    if updates:
        fields.update(updates)
    object.__setattr__(new, "__dict__", fields)
    object.__setattr__(new, "__pydantic_fields_set__", set(resource.__pydantic_fields_set__))
    object.__setattr__(new, "__pydantic_extra__", None)
    private = dict(info.private_constants)
    for name, attr in info.private_defaults:
        # pydantic >= 2.10's get_default() no longer calls default_factory unless asked to
        factory = attr.default_factory
        private[name] = factory() if factory is not None else attr.get_default()
    object.__setattr__(new, "__pydantic_private__", private)
    return new


def redacted_config(value: Any) -> Any:
    """``value`` (a resource, a config dict, ...) as plain data safe to show or record: EnvVars
    become ``{"env": NAME}``, ``SecretStr``/``SecretBytes`` become ``"**********"``, nested
    resources become their own redacted config."""
    from pydantic import SecretBytes, SecretStr

    if isinstance(value, EnvVar):
        return {"env": value.env_var_name}
    if isinstance(value, SecretStr | SecretBytes):
        return "**********"
    if isinstance(value, PartialResource):
        return {"partial": value.resource_cls.__name__, **redacted_config(value.defaults)}
    if isinstance(value, ConfigurableResourceFactory):
        env = value.__pydantic_private__ or {}
        shown = env.get("_outfitter_env_fields") or {}
        return {
            name: redacted_config(shown.get(name, value.__dict__[name]))
            for name in type(value).model_fields
        }
    if isinstance(value, BaseModel):  # a nested Config: the EnvVars it was given, not values
        shown = (value.__pydantic_private__ or {}).get("_outfitter_env_fields") or {}
        return {
            name: redacted_config(shown.get(name, field_value))
            for name, field_value in value.__dict__.items()
        }
    if isinstance(value, dict):
        return {str(k): redacted_config(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [redacted_config(v) for v in value]
    if isinstance(value, Enum):
        return value.name
    if value is None or isinstance(value, str | int | float | bool):
        return value
    return f"<{type(value).__name__}>"


class _PrivateRead:
    """Reads one private attribute (``PrivateAttr``) of a resource straight from the model's
    private dict. Pydantic finds private attributes in ``BaseModel.__getattr__``, which runs
    only after the normal lookup has failed and raised: about 1.8 µs per read, paid on every
    ``self._conn`` in a resource's methods. Found on the class, this reads in about a tenth of
    that. Writes and deletes still go through pydantic (it keeps the value in the same dict),
    and anything unusual (no value yet) falls back to pydantic's own lookup and error."""

    __slots__ = ("name",)

    def __init__(self, name: str) -> None:
        self.name = name

    def __get__(self, obj: Any, owner: type | None = None) -> Any:
        if obj is None:  # class access: what pydantic gives (the attribute's declaration)
            return owner.__private_attributes__[self.name]  # type: ignore[union-attr]
        try:
            return obj.__pydantic_private__[self.name]
        except (KeyError, TypeError):
            return BaseModel.__getattr__(obj, self.name)  # type: ignore[attr-defined]


class ConfigurableResourceFactory(BaseModel, Generic[T]):
    """A configurable resource whose run value is whatever :meth:`create_resource` returns.

    Subclass it when the object your steps use is not the config class itself (a third-party
    client, a connection). ``create_resource`` may be a generator: code after ``yield`` runs when
    the run closes the resource. Declare the scope with a class keyword: ``scope="step"``.

    Example:
        >>> import sqlite3
        >>> from outfitter import ConfigurableResourceFactory, build_resources
        >>> class SqliteConnection(ConfigurableResourceFactory[sqlite3.Connection]):
        ...     path: str = ":memory:"
        ...     def create_resource(self, context):
        ...         conn = sqlite3.connect(self.path)
        ...         yield conn
        ...         conn.close()
        >>> with build_resources({"db": SqliteConnection()}) as res:
        ...     res.db.execute("select 1").fetchone()
        (1,)
    """

    model_config = ConfigDict(
        frozen=True,
        arbitrary_types_allowed=True,
        extra="forbid",
        validate_default=False,
        validate_by_alias=True,  # launch config names a field by its alias, as in Dagster,
        validate_by_name=True,  # or by its name
    )

    _outfitter_scope: ClassVar[Scope | str] = Scope.RUN
    _outfitter_context: InitResourceContext | None = PrivateAttr(default=None)
    _outfitter_env_fields: dict[str, Any] | None = PrivateAttr(default=None)

    def __init_subclass__(cls, scope: Scope | str | None = None, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if scope is not None:
            cls._outfitter_scope = parse_scope(scope, cls.__name__)

    @classmethod
    def __pydantic_init_subclass__(cls, **kwargs: Any) -> None:
        # Reject ambiguous lifecycle shapes where the class is written, not when it is bound.
        from .lifecycle import plan_of_class

        super().__pydantic_init_subclass__(**kwargs)
        for name in cls.__private_attributes__:
            if not isinstance(cls.__dict__.get(name), _PrivateRead):
                setattr(cls, name, _PrivateRead(name))
        if cls.__module__ != __name__:  # the base classes below are not resources themselves
            reject_unsupported_fields(cls, class_info(cls).config_fields, "resource")
            plan_of_class(cls)

    @field_validator("*", mode="before")
    @classmethod
    def _outfitter_enum_name(cls, value: Any, info: Any) -> Any:
        return enum_by_name(cls, info.field_name, value)

    def __init__(self, **data: Any) -> None:
        cls = type(self)
        info = class_info(cls)
        deep = too_deep(data)
        if deep is not None:
            raise _construction_error(
                cls, [f"{cls.__name__}: config nests deeper than {MAX_DEPTH} levels at {deep}"]
            )
        data = _nested_from_dicts(info, _by_field_name(cls, data))
        if not any(_needs_deferral(info, k, v) for k, v in data.items()):
            try:
                super().__init__(**data)
                return
            except ValidationError as exc:
                error = construction_error(cls, exc, _CONSTRUCTION_HINT)
            # raised out here: pydantic's error (which holds the inputs) is not its context,
            # so nothing that pickles exceptions with their context carries it along
            raise error
        problems = config_problems(cls, data, cls.__name__)
        if problems:
            raise _construction_error(cls, problems)
        values = {}
        for name, value in data.items():
            if _needs_deferral(info, name, value):
                values[name] = value
            else:  # validated above; validate again to get the coerced value
                probe = cls.model_construct()
                cls.__pydantic_validator__.validate_assignment(probe, name, value)
                values[name] = probe.__dict__[name]
        _copy_state(cls.model_construct(_fields_set=set(data), **values), self)

    def __setattr__(self, name: str, value: Any) -> None:
        if name.startswith("_"):
            super().__setattr__(name, value)
            return
        kind = "config field" if name in type(self).model_fields else "attribute"
        raise InvocationError(
            f"cannot assign {kind} '{name}' of {type(self).__name__}: resources are frozen config",
            hint=f"keep state that changes during a run in a private attribute: declare "
            f"`_{name}: <type> = PrivateAttr()` (from pydantic) and set self._{name} in "
            "setup_for_execution.",
        )

    def __repr_args__(self) -> Any:
        shown = (self.__pydantic_private__ or {}).get("_outfitter_env_fields") or {}
        for name, value in super().__repr_args__():
            yield name, shown.get(name, value) if name is not None else value

    # -- lifecycle hooks ---------------------------------------------------------------------

    def create_resource(self, context: InitResourceContext) -> T:
        """Return the object steps receive. May be a generator (cleanup after ``yield``)."""
        raise DefinitionError(
            f"{type(self).__name__} does not implement create_resource()",
            hint="a ConfigurableResourceFactory must define create_resource(self, context) "
            "returning (or yielding) the resource value.",
        )

    def setup_for_execution(self, context: InitResourceContext) -> None:
        """Called once when a run opens this resource, on the run's own copy."""

    def teardown_after_execution(self, context: InitResourceContext) -> None:
        """Called once when the run closes this resource (not if setup raised)."""

    @contextlib.contextmanager
    def yield_for_execution(self, context: InitResourceContext) -> Iterator[T]:
        """The whole lifecycle as a context manager; override to keep a ``with`` open for the run.

        The default calls ``setup_for_execution``, yields ``create_resource()``, then calls
        ``teardown_after_execution``.
        """
        self.setup_for_execution(context)
        try:
            created: Any = self.create_resource(context)
            if inspect.isgenerator(created):
                yield cast(T, next(created))
                for _ in created:
                    raise DefinitionError(
                        f"{type(self).__name__}.create_resource yielded more than once",
                        hint="yield exactly once; put cleanup after that yield.",
                    )
            else:
                yield created
        finally:
            self.teardown_after_execution(context)

    # -- launch config and context -------------------------------------------------------------

    @classmethod
    def configure_at_launch(cls, **defaults: Any) -> PartialResource[Self]:
        """A resource whose config is (partly) given at launch, in the run config.

        Example:
            >>> from outfitter import ConfigurableResource
            >>> class Database(ConfigurableResource):
            ...     table: str
            >>> Database.configure_at_launch()
            PartialResource(Database)
        """
        return PartialResource(cls, defaults)

    def get_resource_context(self) -> InitResourceContext:
        """The init context of the run that opened this copy (see :meth:`with_resource_context`).

        Example:
            >>> from outfitter import ConfigurableResource, build_init_resource_context
            >>> class Paths(ConfigurableResource):
            ...     def run_id(self):
            ...         return self.get_resource_context().run_id
            >>> Paths().with_resource_context(build_init_resource_context()).run_id() is None
            True
        """
        ctx = self._outfitter_context or current_init_context().get()
        if ctx is None:
            raise InvocationError(
                f"{type(self).__name__} has no resource context: it was not opened by a run",
                hint="inside a run the context is bound for you; in a test use "
                "resource.with_resource_context(build_init_resource_context(...)).",
            )
        return ctx

    def with_resource_context(self, context: InitResourceContext) -> Self:
        """A copy of this resource bound to ``context`` (for tests of context-using code)."""
        copy = fresh_copy(self)
        copy._outfitter_context = context
        return copy

    # -- Dagster's hand-driving APIs (Dagster: _config/pythonic_config/resource.py) ---------------

    def with_replaced_resource_context(self, context: InitResourceContext) -> Self:
        """Dagster's name for :meth:`with_resource_context`: a copy bound to ``context``.

        Example:
            >>> from outfitter import ConfigurableResource, build_init_resource_context
            >>> class Paths(ConfigurableResource):
            ...     root: str = "/data"
            >>> ctx = build_init_resource_context()
            >>> Paths().with_replaced_resource_context(ctx).get_resource_context() is ctx
            True
        """
        return self.with_resource_context(context)

    @classmethod
    def to_config_schema(cls) -> dict[str, Any]:
        """The config fields (not nested resources) as a ``config_schema`` for ``@resource``,
        so a function resource can take this class's config and build it with
        :meth:`from_resource_context`. ``context.resource_config`` is then a dict.

        Example:
            >>> from outfitter import ConfigurableResource, build_init_resource_context, resource
            >>> class Writer(ConfigurableResource):
            ...     prefix: str
            >>> @resource(config_schema=Writer.to_config_schema())
            ... def writer(context):
            ...     return Writer.from_resource_context(context)
            >>> writer(build_init_resource_context(config={"prefix": "> "})).prefix
            '> '
        """
        info = class_info(cls)
        return {
            name: (cls.model_fields[name].annotation, _copy_field(cls.model_fields[name]))
            for name in info.config_fields
        }

    def process_config_and_initialize(self) -> T:
        """Open this resource outside a run and return its value: EnvVars resolved, nested
        resources opened, ``setup_for_execution`` run. For resources that need teardown (theirs
        or a nested one's) use :meth:`process_config_and_initialize_cm`.

        Example:
            >>> from outfitter import ConfigurableResource
            >>> class Api(ConfigurableResource):
            ...     url: str
            >>> Api(url="http://x").process_config_and_initialize().url
            'http://x'
        """
        from .scope import RunScope

        key = type(self).__name__
        scope = RunScope({key: self})
        closing = sorted(k for k, spec in scope.plan.specs.items() if spec.lifecycle.needs_exit)
        if closing:
            raise InvocationError(
                f"{key} needs teardown (of {', '.join(repr(k) for k in closing)}), which "
                "process_config_and_initialize would skip",
                hint=f"use `with resource.process_config_and_initialize_cm() as value:` so "
                f"{key} is closed when the block ends.",
            )
        try:
            return cast(T, scope.get(key))
        finally:
            scope.close()

    @contextlib.contextmanager
    def process_config_and_initialize_cm(self) -> Iterator[T]:
        """Context manager form of :meth:`process_config_and_initialize`: the resource (and its
        nested resources) are torn down when the block ends.

        Example:
            >>> from outfitter import ConfigurableResource
            >>> class Api(ConfigurableResource):
            ...     url: str
            ...     def teardown_after_execution(self, context) -> None:
            ...         print("closed")
            >>> with Api(url="http://x").process_config_and_initialize_cm() as api:
            ...     api.url
            'http://x'
            closed
        """
        from .build import build_resources

        key = type(self).__name__
        with build_resources({key: self}) as resources:
            yield cast(T, resources[key])

    @classmethod
    def from_resource_context(cls, context: InitResourceContext) -> Self:
        """Build and set up the resource from an init context (config from
        ``context.resource_config``, nested resources from ``context.resources``), for use inside
        ``@resource`` functions. Raises if the resource needs teardown: use
        :meth:`from_resource_context_cm` then."""
        from .lifecycle import plan_of

        resource = cls._from_context_values(context)
        plan = plan_of(resource)
        if plan.needs_exit:
            raise InvocationError(
                f"{cls.__name__} has teardown logic, which from_resource_context would skip",
                hint=f"use `with {cls.__name__}.from_resource_context_cm(context) as resource:` "
                "(or yield from it in a generator @resource).",
            )
        value, _ = plan.enter_sync(resource.with_resource_context(context), context)
        return cast(Self, value)

    @classmethod
    @contextlib.contextmanager
    def from_resource_context_cm(cls, context: InitResourceContext) -> Iterator[Self]:
        """Context manager form of :meth:`from_resource_context`: set up, yield, tear down."""
        from .lifecycle import plan_of

        resource = cls._from_context_values(context)
        plan = plan_of(resource)
        value, exit_ = plan.enter_sync(resource.with_resource_context(context), context)
        try:
            yield cast(Self, value)
        except BaseException as exc:
            if exit_ is not None:
                exit_(exc)
            raise
        if exit_ is not None:
            exit_(None)

    @classmethod
    def _from_context_values(cls, context: InitResourceContext) -> Self:
        info = class_info(cls)
        config = context.resource_config
        values = dict(config) if isinstance(config, dict) else {}
        resources: Resources = context.resources
        for name in info.nested:
            if name not in values and name in resources:
                values[name] = resources[name]
        return cls(**values)


class ConfigurableResource(ConfigurableResourceFactory[T], Generic[T]):
    """A resource whose fields are its config and whose run value is (a copy of) itself.

    Override ``setup_for_execution`` / ``teardown_after_execution`` to manage state kept in
    ``PrivateAttr`` fields, or ``yield_for_execution`` (a context manager, sync or async) to keep
    something open for the whole run.

    Example:
        >>> from pydantic import PrivateAttr
        >>> from outfitter import ConfigurableResource, build_resources
        >>> class Counter(ConfigurableResource):
        ...     start: int = 0
        ...     _value: int = PrivateAttr()
        ...     def setup_for_execution(self, context) -> None:
        ...         self._value = self.start
        ...     def bump(self) -> int:
        ...         self._value += 1
        ...         return self._value
        >>> with build_resources({"counter": Counter(start=41)}) as res:
        ...     res.counter.bump()
        42
    """

    def create_resource(self, context: InitResourceContext) -> T:
        """A configurable resource is its own value."""
        return cast(T, self)


class PartialResource(Generic[R]):
    """A resource whose config is completed at launch (from ``configure_at_launch``).

    Bind it under a key, then give the rest of its config per run:
    ``RunConfig(resources={"key": Cls(...)})`` or ``{"resources": {"key": {"config": {...}}}}``.

    Example:
        >>> from outfitter import ConfigurableResource
        >>> class Database(ConfigurableResource):
        ...     table: str
        ...     schema_name: str = "public"
        >>> Database.configure_at_launch(schema_name="raw").defaults
        {'schema_name': 'raw'}
    """

    __slots__ = ("defaults", "resource_cls")

    def __init__(self, resource_cls: type[R], defaults: dict[str, Any]) -> None:
        defaults = _by_field_name(resource_cls, defaults)
        problems = config_problems(
            resource_cls,
            defaults,
            f"{resource_cls.__name__}.configure_at_launch()",
            check_required=False,
        )
        if problems:
            raise ConfigError(
                f"invalid defaults for {resource_cls.__name__}.configure_at_launch()",
                problems=problems,
                hint="pass only fields the class declares, with values of their types.",
            )
        self.resource_cls = resource_cls
        self.defaults = dict(defaults)

    @property
    def missing_fields(self) -> tuple[str, ...]:
        """Required fields that have no default here and must come from launch config."""
        required = class_info(self.resource_cls).required
        return tuple(sorted(name for name in required if name not in self.defaults))

    def __repr__(self) -> str:
        args = "".join(f", {k}={v!r}" for k, v in self.defaults.items())
        return f"PartialResource({self.resource_cls.__name__}{args})"


def _copy_field(field: FieldInfo) -> FieldInfo:
    import copy

    return copy.copy(field)


_CONSTRUCTION_HINT = (
    "pass each field a value of its declared type; use EnvVar('NAME') for values from "
    "the environment, or configure_at_launch() for values given per run."
)


def _construction_error(cls: type, problems: list[str]) -> ConfigValidationError:
    # also pydantic's ValidationError, as Dagster's (pydantic) resources raise
    return ConfigValidationError.build(
        cls.__name__,
        [("config", (), p, None) for p in problems],
        f"invalid config for {cls.__name__}",
        problems,
        _CONSTRUCTION_HINT,
    )


def _by_field_name(cls: type[BaseModel], data: dict[str, Any]) -> dict[str, Any]:
    """``data`` keyed by field names: a field's alias (Dagster's config key) becomes its name."""
    keys = field_keys(cls)
    if all(keys.get(k, k) == k for k in data):
        return data
    return {keys.get(k, k): v for k, v in data.items()}


def _nested_from_dicts(info: ClassInfo, data: dict[str, Any]) -> dict[str, Any]:
    """``data`` with a dict given for a nested resource field built into that resource class
    (``model_validate({"inner": {...}})`` passes dicts; pydantic builds nested models so)."""
    for name, nested in info.nested.items():
        value = data.get(name)
        expected = nested.expected
        if (
            isinstance(value, dict)
            and expected is not None
            and issubclass(expected, ConfigurableResourceFactory)
        ):
            data = {**data, name: expected(**value)}
    return data
