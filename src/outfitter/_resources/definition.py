"""Function-based resources: ``@resource`` and ``ResourceDefinition``."""

from __future__ import annotations

import copy
import inspect
from collections.abc import Callable, Iterable, Mapping
from types import TracebackType
from typing import Any, overload

from pydantic import BaseModel, TypeAdapter, ValidationError, create_model

from .._config.env_var import contains_env_var, resolve_env_vars
from .._config.errors import field_errors
from .._config.redaction import Redactor
from .._config.settings import EnvLookup
from ..exceptions import ConfigError, DefinitionError, InvocationError, MissingResourceError
from .context import InitResourceContext
from .lifecycle import Exit, Lifecycle, Shape, classify_function
from .markers import Scope, parse_scope

__all__ = [
    "ConfigSchema",
    "ConfigValidator",
    "InvokedResource",
    "ResourceDefinition",
    "configured",
    "resource",
]

ConfigSchema = type[BaseModel] | Mapping[str, Any] | type | None


class ConfigValidator:
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
            problems = [f"{owner}, field '{loc}': {msg}" for loc, msg in field_errors(exc)]
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


class _MappedConfigSchema(ConfigValidator):
    """Config of a ``configured(fn)`` resource: validated against the outer schema, mapped by
    ``fn``, then validated against the wrapped definition's schema (which may map again)."""

    __slots__ = ("_config_cls", "_fn", "_inner", "_param")

    def __init__(
        self,
        schema: ConfigSchema,
        owner: str,
        fn: Callable[..., Any],
        inner: ConfigValidator,
        config_cls: type[BaseModel] | None,
        param: str,
    ) -> None:
        super().__init__(config_cls if config_cls is not None else schema, owner)
        self._fn = fn
        self._inner = inner
        self._config_cls = config_cls
        self._param = param

    def validate(self, config: Any, owner: str) -> Any:
        outer = super().validate(config, owner)
        mapped = self._fn(**{self._param: outer}) if self._config_cls else self._fn(outer)
        if isinstance(mapped, BaseModel):
            mapped = _config_as_dict(mapped)
        fn_name = getattr(self._fn, "__name__", "the config mapping function")
        try:
            return self._inner.validate(mapped, owner)
        except ConfigError as exc:
            raise ConfigError(
                f"the config mapping function {fn_name!r} of {owner} returned invalid config",
                problems=exc.problems,
                hint=f"make {fn_name} return config matching the schema of the resource it "
                f"configures, e.g. {self._inner.example()}.",
            ) from None


def _config_as_dict(model: BaseModel) -> dict[str, Any]:
    """A ``Config`` returned by a mapping function, as plain config (nested models too). Field
    values are taken as they are, so EnvVars are kept for resolution, never turned into text."""
    return {
        name: _config_as_dict(value) if isinstance(value, BaseModel) else value
        for name, value in model.__dict__.items()
        if name in type(model).model_fields
    }


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
        self.config = ConfigValidator(config_schema, self.name)
        self.default_config: Any = None
        self.takes_context = _takes_context(resource_fn, self.name)
        self.lifecycle: Lifecycle = classify_function(
            resource_fn, f"resource function {self.name!r}", self.takes_context
        )

    @property
    def config_schema(self) -> ConfigSchema:
        """The schema the config is validated against (None: no config)."""
        return self.config.source

    def configured(
        self,
        config_or_config_fn: Any,
        config_schema: ConfigSchema = None,
        description: str | None = None,
    ) -> ResourceDefinition:
        """A copy with its config given here: either the config itself (launch config for the key
        still replaces it), or a function mapping the config of the copy (``config_schema``, or a
        ``Config`` class annotating the function's parameter) to config of this definition.

        Example:
            >>> from outfitter import ResourceDefinition, build_init_resource_context
            >>> defn = ResourceDefinition(lambda c: c.resource_config, config_schema={"n": int})
            >>> defn.configured({"n": 2}).default_config
            {'n': 2}
            >>> doubled = defn.configured(lambda cfg: {"n": cfg["half"] * 2}, {"half": int})
            >>> doubled(build_init_resource_context(config={"half": 3}))
            {'n': 6}
        """
        # Dagster: _core/definitions/configurable.py (AnonymousConfigurableDefinition.configured)
        clone = self._copy(description)
        if not callable(config_or_config_fn) or isinstance(config_or_config_fn, type):
            if config_schema is not None:
                raise DefinitionError(
                    f"{self.name}.configured() got config and a config_schema",
                    hint="config_schema describes the input of a config mapping function; pass "
                    "a function to configured(), or drop config_schema.",
                )
            clone.default_config = config_or_config_fn
            return clone
        fn = config_or_config_fn
        param, config_cls = _mapping_parameter(fn, self.name)
        if config_cls is not None and config_schema is not None:
            raise DefinitionError(
                f"config mapping function {getattr(fn, '__name__', fn)!r} for resource "
                f"{self.name!r} has a Config-annotated parameter and a config_schema",
                hint=f"the {config_cls.__name__} annotation is the schema: drop config_schema.",
            )
        clone.config = _MappedConfigSchema(
            config_schema, self.name, fn, self.config, config_cls, param
        )
        clone.default_config = None
        return clone

    def _copy(self, description: str | None = None) -> ResourceDefinition:
        clone = copy.copy(self)
        if description is not None:
            clone.description = description
        return clone

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        """Open the resource by hand, as a unit test does: ``res(build_init_resource_context(
        config=...))`` or ``res(None)`` (no config, no resources). A plain function's value is
        returned; a generator or ``@contextmanager`` function gives a context manager (use
        ``with``; the code after ``yield`` runs when the block ends); an async generator gives an
        async context manager and a coroutine function a coroutine.

        Example:
            >>> from outfitter import build_init_resource_context, resource
            >>> @resource(config_schema={"who": str})
            ... def greeting(context):
            ...     return f"hello {context.resource_config['who']}"
            >>> greeting(build_init_resource_context(config={"who": "you"}))
            'hello you'
        """
        # Dagster: _core/definitions/resource_definition.py (ResourceDefinition.__call__) and
        # resource_invocation.py (resource_invocation_result)
        context = self._invocation_argument(args, kwargs)
        ctx = self._invocation_context(context)
        shape = self.lifecycle.shape
        if shape is Shape.FUNCTION or shape is Shape.CONTEXT_MANAGER:
            fn = self.resource_fn
            return fn(ctx) if self.takes_context else fn()
        return InvokedResource(self, ctx)

    def _invocation_argument(self, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        name = self.name
        given = len(args) + len(kwargs)
        usage = f"{name}(build_init_resource_context(config={{...}})) or {name}(None)"
        if not self.takes_context:
            if given and not (len(args) == 1 and args[0] is None and not kwargs):
                raise InvocationError(
                    f"resource {name!r} was called with an argument, but its function takes "
                    "no context",
                    hint=f"call it as {name}(), or give the function a context parameter.",
                )
            return None
        if given == 0:
            raise InvocationError(
                f"resource {name!r} takes a context but was called without one",
                hint=f"call it as {usage}.",
            )
        if given > 1:
            raise InvocationError(
                f"resource {name!r} was called with {given} arguments; it takes only the context",
                hint=f"call it as {usage}; put config and resources into the context.",
            )
        if kwargs:
            param = _first_parameter(self.resource_fn)
            if param not in kwargs:
                raise InvocationError(
                    f"resource {name!r} was called with unexpected keyword "
                    f"{next(iter(kwargs))!r}; its context parameter is {param!r}",
                    hint=f"call it as {usage}.",
                )
            context = kwargs[param]
        else:
            context = args[0]
        if context is not None and not isinstance(context, InitResourceContext):
            raise InvocationError(
                f"resource {name!r} was called with {type(context).__name__}, not an "
                "InitResourceContext",
                hint=f"call it as {usage}.",
            )
        return context

    def _invocation_context(self, context: InitResourceContext | None) -> InitResourceContext:
        name = self.name
        if context is None and self.required_resource_keys and self.takes_context:
            keys = ", ".join(repr(k) for k in sorted(self.required_resource_keys))
            raise InvocationError(
                f"resource {name!r} requires resources ({keys}) but was called without a context",
                hint=f"call it as {name}(build_init_resource_context(resources={{...}})).",
            )
        given = context.resource_config if context is not None else None
        raw = given if given not in (None, {}) else self.default_config
        config = self._invocation_config(raw)
        resources = context.resources if context is not None else None
        if resources is not None and self.required_resource_keys:
            missing = sorted(k for k in self.required_resource_keys if k not in resources)
            if missing:
                keys = ", ".join(repr(k) for k in missing)
                raise MissingResourceError(
                    f"resource {name!r} requires resource(s) {keys}, which the context does "
                    "not have",
                    keys=missing,
                    hint=f"pass them: build_init_resource_context(resources={{{missing[0]!r}: "
                    "...}).",
                )
        return InitResourceContext(
            resource_config=config,
            resources=resources,
            instance=context.instance if context is not None else None,
            run_id=context.run_id if context is not None else None,
            log=context.log if context is not None else None,
            resource_key=context.resource_key if context is not None else None,
        )

    def _invocation_config(self, raw: Any) -> Any:
        name = self.name
        if contains_env_var(raw):
            problems: list[str] = []
            raw = resolve_env_vars(raw, EnvLookup(), "config", Redactor(), problems)
            if problems:
                lines = []
                for problem in problems:
                    path, _, message = problem.partition(": ")
                    lines.append(f"resource {name!r}, field '{path}': {message}")
                raise ConfigError(
                    f"resource {name!r}: config could not be resolved",
                    problems=lines,
                    hint="set the environment variables (or the .env file) before calling it.",
                )
        try:
            return self.config.validate(raw, f"resource {name!r}")
        except ConfigError as exc:
            if raw is not None or not self.config.required:
                raise
            example = self.config.example().removeprefix("{'config': ")[:-1]
            raise ConfigError(
                f"resource {name!r} needs config but was called without any",
                problems=exc.problems,
                hint=f"call it as {name}(build_init_resource_context(config={example})).",
            ) from None

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
        from unittest import mock  # with asyncio, tens of ms: loaded when a mock resource is made

        definition = ResourceDefinition(lambda _ctx: mock.MagicMock(), description=description)
        definition.name = "mock"
        return definition

    @staticmethod
    def none_resource(description: str | None = None) -> ResourceDefinition:
        """A resource whose value is None (a placeholder key)."""
        return ResourceDefinition.hardcoded_resource(None, description)

    def __repr__(self) -> str:
        return f"ResourceDefinition({self.name})"


class InvokedResource:
    """What calling a generator ``@resource`` by hand returns: a context manager (``with``, or
    ``async with`` for async generators) whose value is what the function yields; the code
    after the ``yield`` runs when the block ends.

    Example:
        >>> from outfitter import build_init_resource_context, resource
        >>> @resource
        ... def conn(context):
        ...     yield "open"
        ...     print("closed")
        >>> with conn(build_init_resource_context()) as value:
        ...     value
        'open'
        closed
    """

    __slots__ = ("_context", "_definition", "_exit", "_state")

    def __init__(self, definition: ResourceDefinition, context: InitResourceContext) -> None:
        self._definition = definition
        self._context = context
        self._exit: Exit | None = None
        self._state = "new"

    def _begin(self) -> None:
        if self._state != "new":
            raise InvocationError(
                f"resource {self._definition.name!r} was already opened from this call",
                hint="call the resource again for a second `with` block.",
            )
        self._state = "open"

    def __enter__(self) -> Any:
        self._begin()
        lifecycle = self._definition.lifecycle
        value, self._exit = lifecycle.enter_sync(self._definition.resource_fn, self._context)
        return value

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._state = "closed"
        if self._exit is not None:
            self._exit(exc)

    async def __aenter__(self) -> Any:
        self._begin()
        lifecycle = self._definition.lifecycle
        value, self._exit = await lifecycle.enter_async(self._definition.resource_fn, self._context)
        return value

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._state = "closed"
        if self._exit is not None:
            result = self._exit(exc)
            if inspect.isawaitable(result):
                await result

    def __repr__(self) -> str:
        return f"InvokedResource({self._definition.name}, {self._state})"


def _first_parameter(fn: Callable[..., Any]) -> str:
    target = getattr(fn, "__wrapped__", fn)
    return next(iter(inspect.signature(target).parameters))


def _mapping_parameter(fn: Callable[..., Any], name: str) -> tuple[str, type[BaseModel] | None]:
    """The single parameter of a config mapping function, and its ``Config`` annotation if any
    (Dagster: configurable.py, ``_wrap_user_fn_if_pythonic_config``)."""
    from .._config.run_config import Config

    fn_name = getattr(fn, "__name__", type(fn).__name__)
    try:
        params = list(inspect.signature(fn).parameters.values())
    except (TypeError, ValueError):
        return "", None
    if len(params) != 1:
        raise DefinitionError(
            f"config mapping function {fn_name!r} for resource {name!r} takes {len(params)} "
            "parameters",
            hint="a config mapping function takes exactly one parameter (the config given to "
            "the configured resource) and returns the config of the resource it configures.",
        )
    param = params[0]
    annotation = param.annotation
    if isinstance(annotation, str):  # only this parameter's: the return type may be local
        namespace = getattr(inspect.unwrap(fn), "__globals__", {})
        try:
            annotation = eval(annotation, namespace)  # as typing.get_type_hints does
        except Exception:  # an unresolvable annotation is simply not a Config class
            annotation = None
    if isinstance(annotation, type) and issubclass(annotation, Config):
        return param.name, annotation
    return param.name, None


def configured(
    configurable: ResourceDefinition,
    config_schema: ConfigSchema = None,
    *,
    description: str | None = None,
) -> Callable[[Any], ResourceDefinition]:
    """Decorator form of :meth:`ResourceDefinition.configured`: the decorated function maps the
    new resource's config (``config_schema``, or a ``Config`` class annotating its parameter) to
    config of ``configurable``. Called with config instead of a function, it fixes the config.

    Example:
        >>> from outfitter import Config, build_init_resource_context, configured, resource
        >>> @resource(config_schema={"url": str})
        ... def api(context):
        ...     return context.resource_config["url"]
        >>> class Region(Config):
        ...     region: str
        >>> @configured(api)
        ... def regional_api(config: Region):
        ...     return {"url": f"https://{config.region}.example.com"}
        >>> regional_api(build_init_resource_context(config={"region": "eu"}))
        'https://eu.example.com'
        >>> configured(api)({"url": "http://local"})(None)
        'http://local'
    """
    # Dagster: _core/definitions/configurable.py (configured)
    if not isinstance(configurable, ResourceDefinition):
        what = configurable.__name__ if isinstance(configurable, type) else type(configurable)
        hint = (
            "configured() configures @resource definitions (ResourceDefinition); give a "
            "configurable resource its values directly (MyResource(field=...)) or use "
            "MyResource.configure_at_launch(...)."
        )
        raise DefinitionError(
            f"configured() got {getattr(what, '__name__', what)}, not a resource definition",
            hint=hint,
        )

    def wrap(config_or_config_fn: Any) -> ResourceDefinition:
        return configurable.configured(config_or_config_fn, config_schema, description)

    return wrap


def _takes_context(fn: Callable[..., Any], name: str) -> bool:
    """Whether ``fn`` takes the init context: its first parameter, whatever its name. Further
    parameters are allowed when they have defaults (as Dagster's ``@resource`` allows)."""
    target = getattr(fn, "__wrapped__", fn)
    try:
        params = [
            p
            for p in inspect.signature(target).parameters.values()
            if p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)
        ]
    except (TypeError, ValueError):
        return True
    positional = [p for p in params if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    extras = params[1:] if positional and params[0] is positional[0] else params
    required = [p.name for p in extras if p.default is p.empty]
    if required:
        raise DefinitionError(
            f"resource function {name!r} takes {len(params)} parameters; "
            f"{', '.join(repr(n) for n in required)} {'has' if len(required) == 1 else 'have'} "
            "no default",
            hint="a resource function takes one parameter (the InitResourceContext) or none; "
            "give any other parameter a default, read config from context.resource_config and "
            "other resources from context.resources (declare them with required_resource_keys).",
        )
    return bool(positional)


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
