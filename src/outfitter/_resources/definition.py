"""Function-based resources: ``@resource`` and ``ResourceDefinition``."""

from __future__ import annotations

import inspect
from collections.abc import Callable, Iterable, Mapping
from typing import Any, overload
from unittest import mock

from pydantic import BaseModel, TypeAdapter, ValidationError, create_model

from ..exceptions import ConfigError, DefinitionError
from .lifecycle import Lifecycle, classify_function
from .markers import Scope, parse_scope

__all__ = ["ConfigSchema", "ResourceDefinition", "resource"]

ConfigSchema = type[BaseModel] | Mapping[str, Any] | type | None


class _ConfigSchema:
    """Validates a resource function's config against the schema it declared."""

    __slots__ = ("_adapter", "_model", "required", "source")

    def __init__(self, schema: ConfigSchema, owner: str) -> None:
        self.source = schema
        self._model: type[BaseModel] | None = None
        self._adapter: TypeAdapter[Any] | None = None
        self.required: tuple[str, ...] = ()
        if schema is None:
            return
        if isinstance(schema, type) and issubclass(schema, BaseModel):
            self._model = schema
        elif isinstance(schema, Mapping):
            fields: dict[str, Any] = {}
            for name, spec in schema.items():
                fields[name] = spec if isinstance(spec, tuple) else (spec, ...)
            self._model = create_model(f"{owner}Config", **fields)
        else:
            self._adapter = TypeAdapter(schema)
            try:
                self._adapter.validate_python(None)
            except ValidationError:
                self.required = ("config",)
        if self._model is not None:
            self.required = tuple(n for n, f in self._model.model_fields.items() if f.is_required())

    @property
    def model(self) -> type[BaseModel] | None:
        """The pydantic model config is validated with (None for a single type or no schema)."""
        return self._model

    @property
    def fields(self) -> tuple[str, ...]:
        return tuple(self._model.model_fields) if self._model is not None else ()

    def validate(self, config: Any, owner: str) -> Any:
        """The validated config: a dict for dict schemas, the model for model schemas."""
        if self.source is None:
            return {} if config is None else config
        try:
            if self._adapter is not None:
                return self._adapter.validate_python(config)
            assert self._model is not None
            model = self._model.model_validate(config or {})
        except ValidationError as exc:
            problems = []
            for err in exc.errors(include_url=False, include_input=False, include_context=False):
                loc = ".".join(str(p) for p in err["loc"]) or "<config>"
                problems.append(f"{owner}, field '{loc}': {err['msg']}")
            raise ConfigError(
                f"invalid config for {owner}",
                problems=problems,
                hint=f"give config matching the schema, e.g. {self.example()}.",
            ) from None
        if isinstance(self.source, Mapping):
            return model.model_dump()
        return model

    def example(self) -> str:
        if self._model is None:
            return "{'config': <value>}"
        inner = ", ".join(f"'{n}': ..." for n in self.required or self.fields)
        return "{'config': {" + inner + "}}"


class ResourceDefinition:
    """A resource made by a function: it returns the value, yields it (cleanup after the
    yield), or is a ``@contextmanager``; async versions of each work in async runs.

    The function takes the :class:`InitResourceContext` as its only argument, or nothing.

    Example:
        >>> from outfitter import ResourceDefinition, build_resources
        >>> greeting = ResourceDefinition(lambda ctx: f"hello {ctx.resource_config['who']}",
        ...                               config_schema={"who": str})
        >>> with build_resources({"greeting": greeting},
        ...                      resource_config={"greeting": {"config": {"who": "you"}}}) as res:
        ...     res.greeting
        'hello you'
    """

    def __init__(
        self,
        resource_fn: Callable[..., Any],
        config_schema: ConfigSchema = None,
        description: str | None = None,
        required_resource_keys: Iterable[str] | None = None,
        scope: Scope | str = Scope.RUN,
    ) -> None:
        if not callable(resource_fn):
            raise DefinitionError(
                f"ResourceDefinition needs a function, got {type(resource_fn).__name__}",
                hint="pass the function that creates the resource; to bind a ready object, "
                "use ResourceDefinition.hardcoded_resource(obj) or bind the object directly.",
            )
        self.resource_fn = resource_fn
        self.name = getattr(resource_fn, "__name__", type(resource_fn).__name__)
        self.description = description or inspect.getdoc(resource_fn)
        self.required_resource_keys = frozenset(required_resource_keys or ())
        self.scope = parse_scope(scope, f"resource {self.name!r}")
        self.config = _ConfigSchema(config_schema, self.name)
        self.default_config: Any = None
        self.lifecycle: Lifecycle = classify_function(
            resource_fn, f"resource function {self.name!r}", _takes_context(resource_fn, self.name)
        )

    @property
    def config_schema(self) -> ConfigSchema:
        """The schema the config is validated against (None: no config)."""
        return self.config.source

    def configured(self, config: Any) -> ResourceDefinition:
        """A copy whose config is ``config`` unless launch config overrides it.

        Example:
            >>> defn = ResourceDefinition(lambda c: c, config_schema={"n": int})
            >>> defn.configured({"n": 2}).default_config
            {'n': 2}
        """
        clone = ResourceDefinition(
            self.resource_fn,
            config_schema=self.config.source,
            description=self.description,
            required_resource_keys=self.required_resource_keys,
            scope=self.scope,
        )
        clone.default_config = config
        return clone

    @staticmethod
    def hardcoded_resource(value: Any, description: str | None = None) -> ResourceDefinition:
        """A resource that is always ``value`` (no config, no lifecycle).

        Example:
            >>> ResourceDefinition.hardcoded_resource({"token": "x"}).resource_fn(None)
            {'token': 'x'}
        """
        definition = ResourceDefinition(lambda _ctx: value, description=description)
        definition.name = f"hardcoded({type(value).__name__})"
        return definition

    @staticmethod
    def mock_resource(description: str | None = None) -> ResourceDefinition:
        """A resource whose value is a fresh ``unittest.mock.MagicMock`` in every run.

        Example:
            >>> from unittest.mock import MagicMock
            >>> isinstance(ResourceDefinition.mock_resource().resource_fn(None), MagicMock)
            True
        """
        definition = ResourceDefinition(lambda _ctx: mock.MagicMock(), description=description)
        definition.name = "mock"
        return definition

    @staticmethod
    def none_resource(description: str | None = None) -> ResourceDefinition:
        """A resource whose value is None (a placeholder key)."""
        return ResourceDefinition.hardcoded_resource(None, description)

    def __repr__(self) -> str:
        return f"ResourceDefinition({self.name})"


def _takes_context(fn: Callable[..., Any], name: str) -> bool:
    target = getattr(fn, "__wrapped__", fn)
    try:
        params = [
            p
            for p in inspect.signature(target).parameters.values()
            if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)
        ]
    except (TypeError, ValueError):
        return True
    if len(params) > 1:
        raise DefinitionError(
            f"resource function {name!r} takes {len(params)} parameters",
            hint="a resource function takes one parameter (the InitResourceContext) or none; "
            "read config from context.resource_config and other resources from "
            "context.resources (declare them with required_resource_keys).",
        )
    return bool(params)


@overload
def resource(fn: Callable[..., Any], /) -> ResourceDefinition: ...


@overload
def resource(
    fn: None = None,
    /,
    *,
    config_schema: ConfigSchema = None,
    description: str | None = None,
    required_resource_keys: Iterable[str] | None = None,
    scope: Scope | str = Scope.RUN,
) -> Callable[[Callable[..., Any]], ResourceDefinition]: ...


def resource(
    fn: Callable[..., Any] | None = None,
    /,
    *,
    config_schema: ConfigSchema = None,
    description: str | None = None,
    required_resource_keys: Iterable[str] | None = None,
    scope: Scope | str = Scope.RUN,
) -> ResourceDefinition | Callable[[Callable[..., Any]], ResourceDefinition]:
    """Turn a function into a resource: plain (returns the value), generator (cleanup after
    ``yield``), ``@contextmanager``, or their async versions.

    ``config_schema`` is a pydantic model, a ``{"field": type}`` dict or a single type; the
    validated config is ``context.resource_config``. ``scope`` is ``"run"``, ``"step"`` or
    ``"process"``.

    Example:
        >>> import sqlite3
        >>> from outfitter import resource, build_resources
        >>> @resource(config_schema={"path": str})
        ... def connection(context):
        ...     conn = sqlite3.connect(context.resource_config["path"])
        ...     yield conn
        ...     conn.close()
        >>> with build_resources({"conn": connection},
        ...                      resource_config={"conn": {"config": {"path": ":memory:"}}}) as r:
        ...     r.conn.execute("select 2").fetchone()
        (2,)
    """

    def wrap(f: Callable[..., Any]) -> ResourceDefinition:
        return ResourceDefinition(
            f,
            config_schema=config_schema,
            description=description,
            required_resource_keys=required_resource_keys,
            scope=scope,
        )

    return wrap(fn) if fn is not None else wrap
