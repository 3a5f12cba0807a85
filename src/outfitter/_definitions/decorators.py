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
    # required_resource_keys without a context parameter is valid, as in Dagster (op_decorator.py
    # checks only the both-styles case): the keys are still required and opened.


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


def _identifier(part: str) -> str:
    """An asset key part as a Python identifier (Dagster's ``AssetKey.to_python_identifier``)."""
    return "".join(c if c.isalnum() or c == "_" else "_" for c in part)


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
        io_manager_key: str | None = None,
        required_resource_keys: Iterable[str] | None = None,
        description: str | None = None,
        tags: Mapping[str, str] | None = None,
        resource_defs: Mapping[str, Any] | None = None,
        log_stdout: bool = False,
        io_manager_def: Any = None,
    ) -> None:
        asset_name = name or fn.__name__
        prefix = [key_prefix] if isinstance(key_prefix, str) else list(key_prefix or [])
        self.key = AssetKey([*prefix, asset_name])
        own = dict(resource_defs or {})
        if io_manager_def is not None:
            # dagster/_core/definitions/decorators/asset_decorator.py: an io_manager_def without
            # an io_manager_key is bound under "<asset key>__io_manager"; a different definition
            # already at that key in resource_defs is a conflict.
            io_manager_key = io_manager_key or "__".join(
                [*(_identifier(p) for p in self.key.path), "io_manager"]
            )
            if io_manager_key in own and own[io_manager_key] is not io_manager_def:
                raise DefinitionError(
                    f"asset {self.key.to_user_string()!r}: io_manager_def and resource_defs "
                    f"both bind the I/O manager key {io_manager_key!r}",
                    hint="give one definition per key: drop it from resource_defs, or give "
                    "io_manager_key a different name.",
                )
            own[io_manager_key] = io_manager_def
        io_manager_key = io_manager_key or "io_manager"
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
        self.resource_defs = own

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
            # the I/O manager is a required resource of the step, so it is reachable as
            # context.resources.<io_manager_key> (Dagster: an output's io_manager_key is part
            # of the op's resource requirements, dagster/_core/definitions/op_definition.py)
            context_resource_keys=self.resource_keys | {self.io_manager_key},
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
    io_manager_key: str | None = None,
    required_resource_keys: Iterable[str] | None = None,
    description: str | None = None,
    tags: Mapping[str, str] | None = None,
    log_stdout: bool = False,
    resource_defs: Mapping[str, Any] | None = None,
    io_manager_def: Any = None,
) -> Callable[[Callable[..., Any]], AssetsDefinition]: ...


def asset(
    fn: Callable[..., Any] | None = None,
    /,
    *,
    name: str | None = None,
    key_prefix: str | Sequence[str] | None = None,
    deps: Iterable[Any] | None = None,
    ins: Mapping[str, AssetIn] | None = None,
    io_manager_key: str | None = None,
    required_resource_keys: Iterable[str] | None = None,
    description: str | None = None,
    tags: Mapping[str, str] | None = None,
    log_stdout: bool = False,
    resource_defs: Mapping[str, Any] | None = None,
    io_manager_def: Any = None,
) -> AssetsDefinition | Callable[[Callable[..., Any]], AssetsDefinition]:
    """Declare an asset: a function computing one stored value from upstream assets.

    Parameters are read as in DESIGN §4: ``context`` first, ``config``, resources by annotation
    (a resource class or ``ResourceParam[T]``), anything else an upstream asset of the same name
    (or ``ins={"param": AssetIn("other")}``). ``deps`` orders without passing data.
    ``resource_defs`` are the asset's own resources (they win over Definitions'); an
    ``io_manager_def`` is its own I/O manager, bound at ``io_manager_key`` (default
    ``"<asset key>__io_manager"``, as in Dagster).

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
            resource_defs=resource_defs,
            io_manager_def=io_manager_def,
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
