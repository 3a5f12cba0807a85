"""Outputs and inputs of ops and assets beyond the single returned value: ``Out`` / ``In``
(declared per output / input), ``AssetOut`` (one asset of a ``multi_asset``), and what a step
may return or yield: ``Output`` and ``MaterializeResult``.

:func:`collect_outputs` turns what a step with declared outputs returned (a tuple in
declaration order, ``Output`` objects, a generator of them) into one value per output, and says
what is wrong when it does not fit. It does no I/O: the step runner stores each output through
its I/O manager. The ``multi_asset`` decorator lives in :mod:`.multi_asset`.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from .._resources.asset_key import AssetKey, coerce_asset_key
from ..exceptions import DefinitionError, InvocationError
from .node import NO_DEFAULT, NodeSpec, OutputSpec

__all__ = [
    "AssetOut",
    "In",
    "DrainGenerator",
    "MaterializeResult",
    "Out",
    "Output",
    "Yielded",
    "collect_outputs",
    "compute_fn",
    "output_specs",
    "plain_metadata",
]

DEFAULT_OUTPUT = "result"


class Out:
    """One output of an op: where it is stored (``io_manager_key``) and whether the op must
    produce it. ``@op(out=Out(...))`` declares the op's one output; ``@op(out={"a": Out(),
    "b": Out()})`` several, returned as a tuple in that order or yielded as ``Output``\\ s.

    Example:
        >>> from outfitter import Out, op
        >>> @op(out={"evens": Out(), "odds": Out(io_manager_key="io_manager")})
        ... def split(n: int):
        ...     return [i for i in range(n) if i % 2 == 0], [i for i in range(n) if i % 2]
        >>> split(5)
        ([0, 2, 4], [1, 3])
    """

    __slots__ = ("dagster_type", "description", "io_manager_key", "is_required", "metadata")

    def __init__(
        self,
        dagster_type: Any = None,
        description: str | None = None,
        is_required: bool = True,
        io_manager_key: str | None = None,
        metadata: Mapping[str, Any] | None = None,
        code_version: str | None = None,
    ) -> None:
        self.dagster_type = dagster_type
        """Kept for Dagster code; Outfitter does not type-check outputs."""
        self.description = description
        self.is_required = bool(is_required)
        self.io_manager_key = io_manager_key
        self.metadata = dict(metadata or {})

    def __repr__(self) -> str:
        return f"Out(io_manager_key={self.io_manager_key!r}, is_required={self.is_required})"


class In:
    """One input of an op: a ``default_value`` used when nothing is wired to it, and an
    ``input_manager_key`` naming the resource whose ``load_input`` loads it (instead of the
    upstream op's value); an input with an input manager need not be wired at all.

    Example:
        >>> from outfitter import In, op
        >>> @op(ins={"n": In(default_value=3, description="how many")})
        ... def count(n: int) -> int:
        ...     return n
        >>> count()
        3
    """

    __slots__ = ("asset_key", "dagster_type", "default_value", "description", "input_manager_key")

    def __init__(
        self,
        dagster_type: Any = None,
        description: str | None = None,
        default_value: Any = NO_DEFAULT,
        metadata: Mapping[str, Any] | None = None,
        asset_key: Any = None,
        input_manager_key: str | None = None,
    ) -> None:
        self.dagster_type = dagster_type
        self.description = description
        self.default_value = default_value
        self.asset_key = None if asset_key is None else coerce_asset_key(asset_key)
        self.input_manager_key = input_manager_key

    @property
    def has_default_value(self) -> bool:
        """Whether a ``default_value`` was given."""
        return self.default_value is not NO_DEFAULT

    def __repr__(self) -> str:
        return f"In(input_manager_key={self.input_manager_key!r})"


class AssetOut:
    """One asset a ``multi_asset`` produces: its key (``key``, or ``key_prefix`` + the output
    name), its I/O manager and group, and whether the step must produce it.

    Example:
        >>> from outfitter import AssetOut
        >>> AssetOut(key_prefix="raw").key_for("users").to_user_string()
        'raw/users'
    """

    __slots__ = (
        "dagster_type",
        "description",
        "group_name",
        "io_manager_key",
        "is_required",
        "key",
        "key_prefix",
        "metadata",
        "tags",
    )

    def __init__(
        self,
        key_prefix: str | Sequence[str] | None = None,
        key: Any = None,
        dagster_type: Any = None,
        description: str | None = None,
        is_required: bool = True,
        io_manager_key: str | None = None,
        metadata: Mapping[str, Any] | None = None,
        group_name: str | None = None,
        code_version: str | None = None,
        tags: Mapping[str, str] | None = None,
    ) -> None:
        if key is not None and key_prefix is not None:
            raise DefinitionError(
                "AssetOut takes key= or key_prefix=, not both",
                hint="put the prefix in the key: AssetOut(key=['prefix', 'name']).",
            )
        self.key = None if key is None else coerce_asset_key(key)
        self.key_prefix = key_prefix
        self.dagster_type = dagster_type
        self.description = description
        self.is_required = bool(is_required)
        self.io_manager_key = io_manager_key
        self.metadata = dict(metadata or {})
        self.group_name = group_name
        self.tags = dict(tags or {})

    def key_for(self, output_name: str) -> AssetKey:
        """The asset key of this output when it is named ``output_name``."""
        if self.key is not None:
            return self.key
        prefix = self.key_prefix
        parts = [prefix] if isinstance(prefix, str) else list(prefix or [])
        return AssetKey([*parts, output_name])

    def __repr__(self) -> str:
        return f"AssetOut(key={self.key!r}, io_manager_key={self.io_manager_key!r})"


class Output:
    """A step's output with metadata, returned or yielded; ``output_name`` picks which
    declared output it is (default ``"result"``, the single output).

    Example:
        >>> from outfitter import Output, asset, materialize_to_memory
        >>> @asset
        ... def rows() -> Output:
        ...     return Output([1, 2], metadata={"count": 2})
        >>> materialize_to_memory([rows]).asset_value("rows")
        [1, 2]
    """

    __slots__ = ("data_version", "metadata", "output_name", "tags", "value")

    def __init__(
        self,
        value: Any,
        output_name: str = DEFAULT_OUTPUT,
        metadata: Mapping[str, Any] | None = None,
        data_version: Any = None,
        tags: Mapping[str, str] | None = None,
    ) -> None:
        self.value = value
        self.output_name = output_name
        self.metadata = dict(metadata or {})
        self.data_version = data_version
        self.tags = dict(tags or {})

    def __repr__(self) -> str:
        return f"Output({self.value!r}, output_name={self.output_name!r})"


class MaterializeResult:
    """What an asset returns when it stored its data itself: the asset is recorded as
    materialized (with ``metadata``) and its I/O manager stores nothing. In a ``multi_asset``,
    ``asset_key`` says which asset it is.

    Example:
        >>> from outfitter import MaterializeResult, asset, materialize_to_memory
        >>> @asset
        ... def table() -> MaterializeResult:
        ...     return MaterializeResult(metadata={"rows": 10})
        >>> materialize_to_memory([table]).success
        True
    """

    __slots__ = ("asset_key", "check_results", "data_version", "metadata", "tags")

    def __init__(
        self,
        *,
        asset_key: Any = None,
        metadata: Mapping[str, Any] | None = None,
        check_results: Sequence[Any] | None = None,
        data_version: Any = None,
        tags: Mapping[str, str] | None = None,
    ) -> None:
        self.asset_key = None if asset_key is None else coerce_asset_key(asset_key)
        self.metadata = dict(metadata or {})
        self.check_results = list(check_results or ())
        self.data_version = data_version
        self.tags = dict(tags or {})

    def __repr__(self) -> str:
        return f"MaterializeResult(asset_key={self.asset_key!r})"


WRAPPERS = frozenset({Output, MaterializeResult})
"""The types a step's returned value is checked against (by exact type, on the cheap path)."""


def plain_metadata(metadata: Mapping[str, Any]) -> dict[str, Any]:
    """Metadata as event data: JSON-friendly values kept, anything else as its ``repr``."""
    return {
        str(k): v if isinstance(v, str | int | float | bool | type(None)) else repr(v)
        for k, v in metadata.items()
    }


def output_specs(
    outs: Mapping[str, Out | AssetOut], default_io_manager_key: str, owner: str
) -> tuple[OutputSpec, ...]:
    """The OutputSpecs of declared outputs (asset keys for ``AssetOut``), checking the names."""
    specs = []
    for name, out in outs.items():
        if not isinstance(name, str) or not name.isidentifier():
            raise DefinitionError(
                f"{owner}: output name {name!r} is not a Python identifier",
                hint="name outputs like variables, e.g. out={'evens': Out(), 'odds': Out()}.",
            )
        if not isinstance(out, Out | AssetOut):
            raise DefinitionError(
                f"{owner}: output {name!r} is declared with {type(out).__name__} {out!r}",
                hint="declare each output with Out(...) (ops) or AssetOut(...) (multi_asset).",
            )
        specs.append(
            OutputSpec(
                name=name,
                io_manager_key=out.io_manager_key or default_io_manager_key,
                asset_key=out.key_for(name) if isinstance(out, AssetOut) else None,
                is_required=out.is_required,
                description=out.description,
                metadata=out.metadata or None,
            )
        )
    return tuple(specs)


# -- what a step produced ----------------------------------------------------------------------


class Yielded(list):  # type: ignore[type-arg]
    """What a generator step yielded, drained inside its call (so its retries and its
    ``log_stdout`` cover the generator's body)."""

    __slots__ = ()


async def _drain_async(agen: Any) -> Yielded:
    return Yielded([item async for item in agen])


class DrainGenerator:
    """The function a step calls for a generator (or async generator) function: runs it to
    the end and returns what it yielded. A plain object, so it pickles to workers."""

    __slots__ = ("fn",)

    def __init__(self, fn: Callable[..., Any]) -> None:
        self.fn = fn

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        produced = self.fn(*args, **kwargs)
        if inspect.isasyncgen(produced):
            return _drain_async(produced)
        return Yielded(produced)

    def __repr__(self) -> str:
        return f"DrainGenerator({getattr(self.fn, '__qualname__', self.fn)!r})"


def compute_fn(fn: Callable[..., Any]) -> Callable[..., Any]:
    """What a step of ``fn`` calls: ``fn`` itself, or a :class:`DrainGenerator` of it."""
    if inspect.isgeneratorfunction(fn) or inspect.isasyncgenfunction(fn):
        return DrainGenerator(fn)
    return fn


class Produced:
    """One output a call produced: its value, its metadata, and whether its I/O manager
    stores it (not for a ``MaterializeResult``)."""

    __slots__ = ("metadata", "store", "value")

    def __init__(self, value: Any, metadata: Mapping[str, Any] | None, store: bool) -> None:
        self.value = value
        self.metadata = metadata
        self.store = store


def _names(node: NodeSpec) -> str:
    return ", ".join(repr(o.name) for o in node.outputs or ())


def _by_asset(node: NodeSpec, result: MaterializeResult) -> OutputSpec:
    outs = node.outputs or ()
    if result.asset_key is None:
        if len(outs) == 1:
            return outs[0]
        raise InvocationError(
            f"{node.label} produces several assets, and a MaterializeResult it returned or "
            "yielded names none",
            hint="say which: MaterializeResult(asset_key=...), one of "
            + ", ".join(repr(o.asset_key.to_user_string()) for o in outs if o.asset_key)
            + ".",
        )
    for out in outs:
        if out.asset_key == result.asset_key:
            return out
    raise InvocationError(
        f"{node.label} returned a MaterializeResult for asset "
        f"{result.asset_key.to_user_string()!r}, which it does not produce",
        hint="its assets are "
        + (", ".join(repr(o.asset_key.to_user_string()) for o in outs if o.asset_key) or "none")
        + ".",
    )


def _add(node: NodeSpec, found: dict[str, Produced], item: Any, position: int | None) -> None:
    outs = node.outputs or ()
    if isinstance(item, MaterializeResult):
        out = _by_asset(node, item)
        name = out.name
        produced = Produced(None, item.metadata, False)
    elif isinstance(item, Output):
        name = item.output_name
        if position is not None and name == DEFAULT_OUTPUT:
            name = outs[position].name  # an unnamed Output in the returned tuple
        elif position is not None and name != outs[position].name:
            raise InvocationError(
                f"{node.label} returned Output(output_name={name!r}) at position {position} "
                f"of its tuple, where output {outs[position].name!r} is declared",
                hint="return the outputs in the order they are declared, or yield them.",
            )
        if not any(o.name == name for o in outs):
            raise InvocationError(
                f"{node.label} produced output {name!r}, which it does not declare",
                hint=f"its outputs are {_names(node)}; declare it in out={{...}} / outs={{...}} "
                "or yield one of those.",
            )
        produced = Produced(item.value, item.metadata, True)
    else:
        assert position is not None
        name = outs[position].name
        produced = Produced(item, None, True)
    if name in found:
        raise InvocationError(
            f"{node.label} produced output {name!r} more than once",
            hint="return or yield each output once.",
        )
    found[name] = produced


def collect_outputs(node: NodeSpec, value: Any) -> dict[str, Produced]:
    """What a call of ``node`` (a node with declared outputs) produced, by output name: from a
    generator of ``Output``/``MaterializeResult`` items, a tuple in declaration order (with
    several outputs), or one value (with one). A required output not produced, an undeclared
    one, a tuple of the wrong length: :class:`InvocationError` naming the step and output.

    Dagster: dagster/_core/execution/plan/compute_generator.py (tuple length, Output names)
    and execute_step.py (undeclared / missing required outputs)."""
    outs = node.outputs or ()
    found: dict[str, Produced] = {}
    if isinstance(value, Yielded) or inspect.isgenerator(value):
        for item in value:
            if not isinstance(item, Output | MaterializeResult):
                raise InvocationError(
                    f"{node.label} yielded a {type(item).__name__}, not an Output",
                    hint="yield Output(value, output_name=...) (or MaterializeResult) for each "
                    f"output ({_names(node)}).",
                )
            _add(node, found, item, None)
    elif len(outs) == 1:
        if isinstance(value, Output | MaterializeResult):
            _add(node, found, value, None)
        else:  # as in Dagster, a returned None is a value (only a generator may skip one)
            found[outs[0].name] = Produced(value, None, True)
    elif isinstance(value, MaterializeResult | Output):
        _add(node, found, value, None)
    elif not isinstance(value, tuple):
        raise InvocationError(
            f"{node.label} has {len(outs)} outputs ({_names(node)}) but returned one "
            f"{type(value).__name__}",
            hint="return a tuple with one value per output, in the order they are declared, "
            "or yield Output(value, output_name=...) for each.",
        )
    elif len(value) != len(outs):
        raise InvocationError(
            f"{node.label} returned a tuple of {len(value)} value(s) but has {len(outs)} "
            f"outputs ({_names(node)})",
            hint="return exactly one value per declared output, in declaration order.",
        )
    else:
        for position, item in enumerate(value):
            _add(node, found, item, position)
    missing = [o.name for o in outs if o.is_required and o.name not in found]
    if missing:
        raise InvocationError(
            f"{node.label} did not produce required output(s) "
            + ", ".join(repr(m) for m in missing),
            hint="return or yield a value for each, or declare them with is_required=False "
            "(steps downstream of an output not produced are skipped).",
        )
    return found
