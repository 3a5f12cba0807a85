"""``@asset`` and ``@op``: record a function and its metadata as a definition. They validate
the signature at decoration time and never wrap the function's behaviour."""

from __future__ import annotations

import inspect
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any, overload

from ..exceptions import DefinitionError
from .asset_key import AssetIn, AssetKey, coerce_asset_key
from .node import NO_DEFAULT, InputSpec, NodeSpec, OutputSpec
from .outputs import DEFAULT_OUTPUT, In, Out, compute_fn, output_specs
from .params import Params, classify_params
from .policy import RetryPolicy, retry_fields

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


DEFAULT_GROUP = "default"


def check_group_name(group_name: Any, owner: str) -> str:
    """``group_name`` (``"default"`` when None), or a DefinitionError when it is not a name of
    letters, digits and underscores (Dagster's rule for group names)."""
    if group_name is None:
        return DEFAULT_GROUP
    if (
        not isinstance(group_name, str)
        or not group_name
        or not all(c.isascii() and (c.isalnum() or c == "_") for c in group_name)
    ):
        raise DefinitionError(
            f"{owner}: group_name {group_name!r} is not a valid group name",
            hint="use letters, digits and underscores only, e.g. group_name='marketing'.",
        )
    return group_name


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
        retry_policy: RetryPolicy | None = None,
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
        if retry_policy is not None and not isinstance(retry_policy, RetryPolicy):
            raise DefinitionError(
                f"{self.owner}: retry_policy= takes a RetryPolicy, got "
                f"{type(retry_policy).__name__} {retry_policy!r}",
                hint="e.g. retry_policy=RetryPolicy(max_retries=3, delay=1).",
            )
        self.retry_policy = retry_policy
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
    resource needs (``@multi_asset`` makes one that computes several: read ``.keys``). Call it
    directly in tests (resources as keyword arguments).

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
    outputs: tuple[OutputSpec, ...] | None = None
    """The declared outputs (``multi_asset``, or an asset function that yields); None for the
    one returned value."""
    multi: bool = False
    """Whether this definition produces several assets (``multi_asset``)."""
    output_groups: dict[AssetKey, str] | None = None
    """Groups given per asset (``AssetOut(group_name=...)``) of a ``multi_asset``."""

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
        group_name: str | None = None,
        retry_policy: RetryPolicy | None = None,
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
            retry_policy=retry_policy,
        )
        self.group_name = check_group_name(group_name, self.owner)
        ins = dict(ins or {})
        unknown = sorted(set(ins) - set(self.params.inputs))
        if unknown:
            raise DefinitionError(
                f"{self.owner}: ins names {unknown}, which are not parameters of the function",
                hint=f"its input parameters are {list(self.params.inputs)}.",
            )
        self.input_keys: dict[str, AssetKey] = {}
        self.input_managers = {
            p: a.input_manager_key for p, a in ins.items() if a.input_manager_key is not None
        }
        """Inputs loaded by an input manager (``AssetIn(input_manager_key=...)``)."""
        for param in self.params.inputs:
            spec = ins.get(param)
            if spec is not None and spec.key is not None:
                self.input_keys[param] = spec.key
            elif spec is not None and spec.key_prefix:
                self.input_keys[param] = AssetKey([*spec.key_prefix_path, param])
            else:
                self.input_keys[param] = AssetKey([param])
        self.deps = tuple(
            k
            for d in (deps or ())
            for k in (d.keys if isinstance(d, AssetsDefinition) else (coerce_asset_key(d),))
        )
        self.resource_defs = own
        if inspect.isgeneratorfunction(fn) or inspect.isasyncgenfunction(fn):  # yields Outputs
            self.outputs = (OutputSpec(DEFAULT_OUTPUT, io_manager_key, self._key),)

    @property
    def key(self) -> AssetKey:
        """The asset's key (a ``multi_asset`` has several: read :attr:`keys`)."""
        if self.multi:
            raise DefinitionError(
                f"{self.owner} produces several assets "
                f"({', '.join(k.to_user_string() for k in self.keys)}), so it has no single key",
                hint="read .keys (or .asset_keys) instead of .key.",
            )
        return self._key

    @key.setter
    def key(self, value: AssetKey) -> None:
        self._key = value

    @property
    def keys(self) -> tuple[AssetKey, ...]:
        """Every asset key this definition produces (one for ``@asset``)."""
        if self.multi:
            return tuple(o.asset_key for o in self.outputs or () if o.asset_key is not None)
        return (self._key,)

    asset_keys = keys

    @property
    def node_def(self) -> Any:
        """The op computing these assets (its ``name``), as Dagster's ``node_def`` / ``op``."""
        return self

    op = node_def

    @property
    def group_names_by_key(self) -> dict[AssetKey, str]:
        """Each asset key's group."""
        groups = self.output_groups or {}
        default = getattr(self, "group_name", None) or "default"
        return {k: groups.get(k, default) for k in self.keys}

    @property
    def step_key(self) -> str:
        """The step key of this asset in a run (its path joined with ``__``)."""
        return "__".join(self._key.path)

    def node_spec(
        self, producers: Mapping[AssetKey, Any], stored_by: Mapping[AssetKey, str] | None = None
    ) -> NodeSpec:
        """The node of this asset, with inputs resolved against ``producers`` (asset key → the
        step key materializing it in this run, or ``(step key, output name)`` for a step with
        declared outputs; absent keys are loaded by an I/O manager: the producing asset's, from
        ``stored_by`` (asset key → its I/O manager key), else this asset's)."""
        inputs = []
        for param, key in self.input_keys.items():
            source = producers.get(key)
            output = None
            if isinstance(source, tuple):
                source, output = source
            manager = self.input_managers.get(param)
            stored = stored_by.get(key) if stored_by and source is None else None
            if manager is None and stored is not None and stored != self.io_manager_key:
                manager = stored  # as in Dagster: loaded by the producing asset's I/O manager
            inputs.append(
                InputSpec(
                    name=param,
                    upstream=source,
                    asset_key=key,
                    default=NO_DEFAULT,
                    upstream_output=output,
                    input_manager_key=manager,
                )
            )
        after = tuple(
            dict.fromkeys(
                p[0] if isinstance(p, tuple) else p
                for p in (producers.get(d) for d in self.deps)
                if p is not None
            )
        )
        managers = frozenset(i.input_manager_key for i in inputs if i.input_manager_key)
        if self.outputs is not None:
            io_keys = {o.io_manager_key for o in self.outputs} | managers
            return NodeSpec(
                key=self.step_key,
                fn=compute_fn(self.fn),
                kind="asset",
                params=self.params,
                inputs=tuple(inputs),
                resource_keys=self.resource_keys | io_keys,
                context_resource_keys=self.resource_keys | io_keys,
                io_manager_key=self.outputs[0].io_manager_key,
                asset_key=None if self.multi else self._key,
                config_type=self.params.config_type,
                after=after,
                description=self.description,
                tags=self.tags,
                log_stdout=self.log_stdout,
                outputs=self.outputs,
                name=self.name,
                **retry_fields(self.retry_policy),
            )
        return NodeSpec(
            key=self.step_key,
            fn=self.fn,
            kind="asset",
            params=self.params,
            inputs=tuple(inputs),
            resource_keys=self.resource_keys | {self.io_manager_key} | managers,
            # the I/O manager is a required resource of the step, so it is reachable as
            # context.resources.<io_manager_key> (Dagster: an output's io_manager_key is part
            # of the op's resource requirements, dagster/_core/definitions/op_definition.py)
            context_resource_keys=self.resource_keys | {self.io_manager_key} | managers,
            io_manager_key=self.io_manager_key,
            asset_key=self._key,
            config_type=self.params.config_type,
            after=after,
            description=self.description,
            tags=self.tags,
            log_stdout=self.log_stdout,
            **retry_fields(self.retry_policy),
        )

    def with_resource_defs(self, resource_defs: Mapping[str, Any]) -> AssetsDefinition:
        """A copy whose own resources (winning over Definitions-level ones) include these."""
        clone = object.__new__(AssetsDefinition)
        clone.__dict__.update(self.__dict__)
        clone.resource_defs = {**resource_defs, **self.resource_defs}
        return clone

    def __repr__(self) -> str:
        if self.multi:
            return f"<multi_asset {self.name} ({', '.join(k.to_user_string() for k in self.keys)})>"
        return f"<asset {self._key.to_user_string()}>"


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
        retry_policy: RetryPolicy | None = None,
        ins: Mapping[str, In] | None = None,
        out: Out | Mapping[str, Out] | None = None,
    ) -> None:
        op_name = name or fn.__name__
        if isinstance(out, Out) and out.io_manager_key is not None:
            io_manager_key = out.io_manager_key
        super().__init__(
            fn,
            op_name,
            required_resource_keys=required_resource_keys,
            io_manager_key=io_manager_key,
            description=description,
            tags=tags,
            log_stdout=log_stdout,
            retry_policy=retry_policy,
        )
        self.ins: dict[str, In] = {}
        self.io_keys: frozenset[str] = frozenset({self.io_manager_key})
        """The I/O and input managers a step of this op uses (not needed to call it directly)."""
        self.outputs: tuple[OutputSpec, ...] | None = None
        """The declared outputs when they need more than the one returned value (several,
        a name other than ``result``, optional, or a function that yields); else None."""
        self._declare(ins, out)

    def _declare(self, ins: Mapping[str, In] | None, out: Out | Mapping[str, Out] | None) -> None:
        """Check ``ins`` / ``out`` (Dagster's ``@op(ins=, out=)``) against the function."""
        if ins:
            unknown = sorted(set(ins) - set(self.params.inputs))
            bad = sorted(k for k, v in ins.items() if not isinstance(v, In))
            if unknown or bad:
                raise DefinitionError(
                    f"{self.owner}: "
                    + (
                        f"ins names {unknown}, which are not inputs of the function"
                        if unknown
                        else f"ins entries {bad} are not In(...)"
                    ),
                    hint=f"its input parameters are {list(self.params.inputs)}; declare each "
                    "with In(...).",
                )
            self.ins = dict(ins)
        managers = {i.input_manager_key for i in self.ins.values() if i.input_manager_key}
        if out is None or isinstance(out, Out):
            outs: dict[str, Out] = {DEFAULT_OUTPUT: out or Out()}
        elif isinstance(out, Mapping) and out:
            outs = dict(out)
        else:
            raise DefinitionError(
                f"{self.owner}: out= takes Out(...) or a dict of output names to Out(...), got "
                f"{type(out).__name__} {out!r}",
                hint="e.g. out={'evens': Out(), 'odds': Out(io_manager_key='other')}.",
            )
        specs = output_specs(outs, self.io_manager_key, self.owner)
        classic = (
            len(specs) == 1
            and specs[0].name == DEFAULT_OUTPUT
            and specs[0].is_required
            and not inspect.isgeneratorfunction(self.fn)
            and not inspect.isasyncgenfunction(self.fn)
        )
        if not classic:
            self.outputs = specs
            self.io_manager_key = specs[0].io_manager_key
        self.io_keys = frozenset({o.io_manager_key for o in specs} | managers)

    def alias(self, name: str) -> OpDefinition:
        """This op under another node name, so a job body can use it twice (Dagster's
        ``op.alias``): ``load.alias("load_users")()``.

        Example:
            >>> from outfitter import job, op
            >>> @op
            ... def one() -> int:
            ...     return 1
            >>> @job
            ... def twice():
            ...     one.alias("first")()
            ...     one.alias("second")()
            >>> [n.key for n in twice.nodes]
            ['first', 'second']
        """
        if not isinstance(name, str) or not name.isidentifier():
            raise DefinitionError(
                f"{self.owner}: alias {name!r} is not a valid node name",
                hint="use letters, digits and underscores, e.g. op.alias('load_users').",
            )
        return self._copy(name=name, owner=f"op {name!r}")

    def tag(self, tags: Mapping[str, str]) -> OpDefinition:
        """This op with ``tags`` added (Dagster's ``op.tag``), for one use in a job body.

        Example:
            >>> from outfitter import op
            >>> @op
            ... def one() -> int:
            ...     return 1
            >>> one.tag({"team": "data"}).tags
            {'team': 'data'}
        """
        return self._copy(tags={**self.tags, **dict(tags)})

    def with_retry_policy(self, retry_policy: RetryPolicy) -> OpDefinition:
        """This op with another retry policy (Dagster's ``op.with_retry_policy``).

        Example:
            >>> from outfitter import RetryPolicy, op
            >>> @op
            ... def one() -> int:
            ...     return 1
            >>> one.with_retry_policy(RetryPolicy(max_retries=2)).retry_policy.max_retries
            2
        """
        if not isinstance(retry_policy, RetryPolicy):
            raise DefinitionError(
                f"{self.owner}: with_retry_policy takes a RetryPolicy, got "
                f"{type(retry_policy).__name__}",
                hint="e.g. op.with_retry_policy(RetryPolicy(max_retries=3)).",
            )
        return self._copy(retry_policy=retry_policy)

    def _copy(self, **changes: Any) -> OpDefinition:
        clone = object.__new__(OpDefinition)
        clone.__dict__.update(self.__dict__)
        clone.__dict__.update(changes)
        return clone

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
    group_name: str | None = None,
    retry_policy: RetryPolicy | None = None,
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
    group_name: str | None = None,
    retry_policy: RetryPolicy | None = None,
) -> AssetsDefinition | Callable[[Callable[..., Any]], AssetsDefinition]:
    """Declare an asset: a function computing one stored value from upstream assets.

    Parameters are read as in DESIGN §4: ``context`` first, ``config``, resources by annotation
    (a resource class or ``ResourceParam[T]``), anything else an upstream asset of the same name
    (or ``ins={"param": AssetIn("other")}``). ``deps`` orders without passing data.
    ``resource_defs`` are the asset's own resources (they win over Definitions'); an
    ``io_manager_def`` is its own I/O manager, bound at ``io_manager_key`` (default
    ``"<asset key>__io_manager"``, as in Dagster). ``group_name`` puts it in a group
    (``"default"`` when not given; select groups with ``AssetSelection.groups``);
    ``retry_policy`` calls it again when it fails (a :class:`RetryPolicy`).

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
            group_name=group_name,
            retry_policy=retry_policy,
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
    retry_policy: RetryPolicy | None = None,
    ins: Mapping[str, In] | None = None,
    out: Out | Mapping[str, Out] | None = None,
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
    retry_policy: RetryPolicy | None = None,
    ins: Mapping[str, In] | None = None,
    out: Out | Mapping[str, Out] | None = None,
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
            retry_policy=retry_policy,
            ins=ins,
            out=out,
        )

    return wrap(fn) if fn is not None else wrap
