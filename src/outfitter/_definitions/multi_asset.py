"""``@multi_asset``: one step that materializes several assets, each stored through its own I/O
manager. It makes the same :class:`AssetsDefinition` as ``@asset`` (with several keys)."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

from ..exceptions import DefinitionError
from .asset_key import AssetIn
from .decorators import AssetsDefinition, check_decorated
from .outputs import AssetOut, output_specs

__all__ = ["multi_asset"]


def multi_asset(
    fn: Callable[..., Any] | None = None,
    /,
    *,
    outs: Mapping[str, AssetOut],
    name: str | None = None,
    ins: Mapping[str, AssetIn] | None = None,
    deps: Iterable[Any] | None = None,
    description: str | None = None,
    required_resource_keys: Iterable[str] | None = None,
    group_name: str | None = None,
    can_subset: bool = False,
    resource_defs: Mapping[str, Any] | None = None,
    op_tags: Mapping[str, str] | None = None,
    retry_policy: Any = None,
    log_stdout: bool = False,
) -> Any:
    """Declare one step that materializes several assets, one per entry of ``outs``.

    The function returns a tuple with one value per output (in the order of ``outs``), or
    yields ``Output(value, output_name=...)`` / ``MaterializeResult(asset_key=...)`` for each.
    Each asset is stored by its own I/O manager (``AssetOut(io_manager_key=...)``, default
    ``io_manager``), and downstream assets depend on each asset by its key. Selecting one of
    its keys runs the whole step (Dagster's ``can_subset=False``; subsetting is not supported).

    Example:
        >>> from outfitter import AssetOut, asset, materialize_to_memory, multi_asset
        >>> @multi_asset(outs={"evens": AssetOut(), "odds": AssetOut(key_prefix="raw")})
        ... def split():
        ...     return [0, 2], [1, 3]
        >>> @asset
        ... def total(evens: list[int]) -> int:
        ...     return sum(evens)
        >>> [k.to_user_string() for k in split.keys]
        ['evens', 'raw/odds']
        >>> result = materialize_to_memory([split, total])
        >>> result.asset_value("raw/odds"), result.asset_value("total")
        ([1, 3], 2)
    """
    check_decorated(fn, "multi_asset")
    if can_subset:
        raise DefinitionError(
            "multi_asset(can_subset=True) is not supported: a multi_asset always runs whole",
            hint="drop can_subset; selecting one of its assets runs the whole step and "
            "materializes all of them.",
        )
    if not isinstance(outs, Mapping) or not outs:
        raise DefinitionError(
            f"multi_asset takes outs={{name: AssetOut(...)}} with at least one entry, got {outs!r}",
            hint="e.g. @multi_asset(outs={'users': AssetOut(), 'orders': AssetOut()}).",
        )

    def wrap(f: Callable[..., Any]) -> AssetsDefinition:
        extra: dict[str, Any] = {}
        if retry_policy is not None:
            extra["retry_policy"] = retry_policy
        defn = AssetsDefinition(
            f,
            name=name,
            ins=ins,
            deps=deps,
            required_resource_keys=required_resource_keys,
            description=description,
            tags=op_tags,
            resource_defs=resource_defs,
            log_stdout=log_stdout,
            group_name=group_name,
            **extra,
        )
        owner = f"multi_asset {defn.name!r}"
        defn.owner = owner
        specs = output_specs(outs, "io_manager", owner)
        keys = [s.asset_key for s in specs]
        twice = sorted({k.to_user_string() for k in keys if keys.count(k) > 1 and k is not None})
        if twice:
            raise DefinitionError(
                f"{owner}: several outputs produce asset(s) {twice}",
                hint="give each AssetOut its own key.",
            )
        defn.outputs = specs
        defn.multi = True
        defn.output_groups = {}
        for s in specs:
            group = outs[s.name].group_name
            if s.asset_key is not None and group is not None:
                defn.output_groups[s.asset_key] = group
        return defn

    return wrap(fn) if fn is not None else wrap
