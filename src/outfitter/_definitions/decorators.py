"""``@asset`` and ``@op``: record a function and its metadata as a definition. They validate
the signature at decoration time and never wrap the function's behaviour."""

from __future__ import annotations

import inspect
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any, overload

from ..exceptions import DefinitionError
from .asset_key import AssetIn, AssetKey, coerce_asset_key
from .node import NO_DEFAULT, InputSpec, NodeSpec
from .params import Params, classify_params

__all__ = ["AssetsDefinition", "OpDefinition", "asset", "check_decorated", "op"]


def _check_resource_keys(params: Params, required: Iterable[str] | None, owner: str) -> None:
    if required and params.resources:
        names = ", ".join(r.key for r in params.resources)
        raise DefinitionError(
            f"{owner} declares required_resource_keys and also takes resource parameters ({names})",
            hint="use one style: annotate resource parameters (preferred), or list "
            "required_resource_keys and read them from context.resources.",
        )
    if required and params.context is None:
        raise DefinitionError(
            f"{owner} declares required_resource_keys but has no context parameter to read "
            "them from",
            hint="add `context` as the first parameter and use context.resources.<key>.",
        )


def check_decorated(fn: Any, what: str) -> None:
    """``@asset`` / ``@op`` (and ``@job``, ``@graph``) take the function as their only
    positional argument; anything else there is a mistake worth naming."""
    if fn is None or callable(fn):
        return
    hint = f"write @{what} directly above `def ...`, and give options by keyword"
    if isinstance(fn, str):
        hint += f": @{what}(name={fn!r})"
    raise DefinitionError(
        f"@{what} must decorate a function, got {type(fn).__name__} {fn!r}", hint=hint + "."
    )


class _StepDefinition:
    """Shared by assets and ops: the function, its classified parameters, resource needs."""

    kind = "step"

    def __init__(
        self,
        fn: Callable[..., Any],
        name: str,
        *,
        required_resource_keys: Iterable[str] | None,
        io_manager_key: str,
        description: str | None,
        tags: Mapping[str, str] | None,
        log_stdout: bool = False,
    ) -> None:
        if not callable(fn):
            raise DefinitionError(
                f"@{self.kind} must decorate a function, got {type(fn).__name__}",
                hint=f"write @{self.kind} directly above `def ...`.",
            )
        self.fn = fn
        self.name = name
        self.owner = f"{self.kind} {name!r}"
        self.params = classify_params(fn, self.owner)
        _check_resource_keys(self.params, required_resource_keys, self.owner)
        self.required_resource_keys = frozenset(required_resource_keys or ())
        self.io_manager_key = io_manager_key
        self.description = description or inspect.getdoc(fn)
        self.tags = dict(tags or {})
        self.log_stdout = bool(log_stdout)
        self.__doc__ = fn.__doc__
        self.__name__ = getattr(fn, "__name__", name)
        self.__wrapped__ = fn
        self.resource_keys: frozenset[str] = (
            frozenset(r.key for r in self.params.resources) | self.required_resource_keys
        )
        """Every resource key this step uses (parameters, required keys)."""

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        from .._execution.invoke import invoke_directly

        return invoke_directly(self, args, kwargs)


class AssetsDefinition(_StepDefinition):
    """What ``@asset`` makes: a function that computes one asset, plus its key, inputs and
    resource needs. Call it directly in tests (resources as keyword arguments).

    Example:
        >>> from outfitter import asset
        >>> @asset
        ... def numbers() -> list[int]:
        ...     return [1, 2, 3]
        >>> numbers.key
        AssetKey(['numbers'])
        >>> numbers()
        [1, 2, 3]
    """

    kind = "asset"

    def __init__(
        self,
        fn: Callable[..., Any],
        *,
        name: str | None = None,
        key_prefix: str | Sequence[str] | None = None,
        deps: Iterable[Any] | None = None,
        ins: Mapping[str, AssetIn] | None = None,
        io_manager_key: str = "io_manager",
        required_resource_keys: Iterable[str] | None = None,
        description: str | None = None,
        tags: Mapping[str, str] | None = None,
        resource_defs: Mapping[str, Any] | None = None,
        log_stdout: bool = False,
    ) -> None:
        asset_name = name or fn.__name__
        prefix = [key_prefix] if isinstance(key_prefix, str) else list(key_prefix or [])
        self.key = AssetKey([*prefix, asset_name])
        super().__init__(
            fn,
            self.key.to_user_string(),
            required_resource_keys=required_resource_keys,
            io_manager_key=io_manager_key,
            description=description,
            tags=tags,
            log_stdout=log_stdout,
        )
        ins = dict(ins or {})
        unknown = sorted(set(ins) - set(self.params.inputs))
        if unknown:
            raise DefinitionError(
                f"{self.owner}: ins names {unknown}, which are not parameters of the function",
                hint=f"its input parameters are {list(self.params.inputs)}.",
            )
        self.input_keys: dict[str, AssetKey] = {}
        for param in self.params.inputs:
            spec = ins.get(param)
            if spec is not None and spec.key is not None:
                self.input_keys[param] = spec.key
            elif spec is not None and spec.key_prefix:
                self.input_keys[param] = AssetKey([*spec.key_prefix_path, param])
            else:
                self.input_keys[param] = AssetKey([param])
        self.deps = tuple(coerce_asset_key(getattr(d, "key", d)) for d in (deps or ()))
        self.resource_defs = dict(resource_defs or {})

    @property
    def step_key(self) -> str:
        """The step key of this asset in a run (its path joined with ``__``)."""
        return "__".join(self.key.path)

    def node_spec(self, producers: Mapping[AssetKey, str]) -> NodeSpec:
        """The node of this asset, with inputs resolved against ``producers`` (asset key → the
        step key materializing it in this run; absent keys are loaded by the I/O manager)."""
        inputs = tuple(
            InputSpec(
                name=param,
                upstream=producers.get(key),
                asset_key=key,
                default=NO_DEFAULT,
            )
            for param, key in self.input_keys.items()
        )
        after = tuple(producers[d] for d in self.deps if d in producers)
        return NodeSpec(
            key=self.step_key,
            fn=self.fn,
            kind="asset",
            params=self.params,
            inputs=inputs,
            resource_keys=self.resource_keys | {self.io_manager_key},
            context_resource_keys=self.resource_keys,
            io_manager_key=self.io_manager_key,
            asset_key=self.key,
            config_type=self.params.config_type,
            after=after,
            description=self.description,
            tags=self.tags,
            log_stdout=self.log_stdout,
        )

    def with_resource_defs(self, resource_defs: Mapping[str, Any]) -> AssetsDefinition:
        """A copy whose own resources (winning over Definitions-level ones) include these."""
        clone = object.__new__(AssetsDefinition)
        clone.__dict__.update(self.__dict__)
        clone.resource_defs = {**resource_defs, **self.resource_defs}
        return clone

    def __repr__(self) -> str:
        return f"<asset {self.key.to_user_string()}>"


class OpDefinition(_StepDefinition):
    """What ``@op`` makes: a step composed into jobs by calling it inside a ``@job`` body.

    Example:
        >>> from outfitter import op
        >>> @op
        ... def double(x: int) -> int:
        ...     return 2 * x
        >>> double(21)
        42
    """

    kind = "op"

    def __init__(
        self,
        fn: Callable[..., Any],
        *,
        name: str | None = None,
        required_resource_keys: Iterable[str] | None = None,
        io_manager_key: str = "io_manager",
        description: str | None = None,
        tags: Mapping[str, str] | None = None,
        log_stdout: bool = False,
    ) -> None:
        super().__init__(
            fn,
            name or fn.__name__,
            required_resource_keys=required_resource_keys,
            io_manager_key=io_manager_key,
            description=description,
            tags=tags,
            log_stdout=log_stdout,
        )

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        from .job import current_composition

        composition = current_composition()
        if composition is not None:
            return composition.add(self, args, kwargs)
        return super().__call__(*args, **kwargs)

    def __repr__(self) -> str:
        return f"<op {self.name}>"


@overload
def asset(fn: Callable[..., Any], /) -> AssetsDefinition: ...


@overload
def asset(
    fn: None = None,
    /,
    *,
    name: str | None = None,
    key_prefix: str | Sequence[str] | None = None,
    deps: Iterable[Any] | None = None,
    ins: Mapping[str, AssetIn] | None = None,
    io_manager_key: str = "io_manager",
    required_resource_keys: Iterable[str] | None = None,
    description: str | None = None,
    tags: Mapping[str, str] | None = None,
    log_stdout: bool = False,
) -> Callable[[Callable[..., Any]], AssetsDefinition]: ...


def asset(
    fn: Callable[..., Any] | None = None,
    /,
    *,
    name: str | None = None,
    key_prefix: str | Sequence[str] | None = None,
    deps: Iterable[Any] | None = None,
    ins: Mapping[str, AssetIn] | None = None,
    io_manager_key: str = "io_manager",
    required_resource_keys: Iterable[str] | None = None,
    description: str | None = None,
    tags: Mapping[str, str] | None = None,
    log_stdout: bool = False,
) -> AssetsDefinition | Callable[[Callable[..., Any]], AssetsDefinition]:
    """Declare an asset: a function computing one stored value from upstream assets.

    Parameters are read as in DESIGN §4: ``context`` first, ``config``, resources by annotation
    (a resource class or ``ResourceParam[T]``), anything else an upstream asset of the same name
    (or ``ins={"param": AssetIn("other")}``). ``deps`` orders without passing data.

    Example:
        >>> from outfitter import ConfigurableResource, asset
        >>> class Api(ConfigurableResource):
        ...     url: str
        >>> @asset(key_prefix="raw")
        ... def users(api: Api) -> list[str]:
        ...     return [api.url]
        >>> users.key.to_user_string(), sorted(users.resource_keys)
        ('raw/users', ['api'])
    """

    check_decorated(fn, "asset")

    def wrap(f: Callable[..., Any]) -> AssetsDefinition:
        return AssetsDefinition(
            f,
            name=name,
            key_prefix=key_prefix,
            deps=deps,
            ins=ins,
            io_manager_key=io_manager_key,
            required_resource_keys=required_resource_keys,
            description=description,
            tags=tags,
            log_stdout=log_stdout,
        )

    return wrap(fn) if fn is not None else wrap


@overload
def op(fn: Callable[..., Any], /) -> OpDefinition: ...


@overload
def op(
    fn: None = None,
    /,
    *,
    name: str | None = None,
    required_resource_keys: Iterable[str] | None = None,
    io_manager_key: str = "io_manager",
    description: str | None = None,
    tags: Mapping[str, str] | None = None,
    log_stdout: bool = False,
) -> Callable[[Callable[..., Any]], OpDefinition]: ...


def op(
    fn: Callable[..., Any] | None = None,
    /,
    *,
    name: str | None = None,
    required_resource_keys: Iterable[str] | None = None,
    io_manager_key: str = "io_manager",
    description: str | None = None,
    tags: Mapping[str, str] | None = None,
    log_stdout: bool = False,
) -> OpDefinition | Callable[[Callable[..., Any]], OpDefinition]:
    """Declare an op: a step of a ``@job``, composed by calling it inside the job's body.

    Example:
        >>> from outfitter import op
        >>> @op(name="load")
        ... def load_rows() -> list[int]:
        ...     return [1]
        >>> load_rows.name
        'load'
    """

    check_decorated(fn, "op")

    def wrap(f: Callable[..., Any]) -> OpDefinition:
        return OpDefinition(
            f,
            name=name,
            required_resource_keys=required_resource_keys,
            io_manager_key=io_manager_key,
            description=description,
            tags=tags,
            log_stdout=log_stdout,
        )

    return wrap(fn) if fn is not None else wrap
