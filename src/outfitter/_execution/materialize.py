"""``materialize`` and ``materialize_to_memory``: run a set of assets in this process."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from .._config.run_config import RunConfig
from .._definitions.decorators import AssetsDefinition
from .._definitions.selection import AssetSelection, cached_asset_graph
from .._resources.bindings import resource_bindings
from .._resources.io_manager import DEFAULT_IO_MANAGER, IN_MEMORY_IO_MANAGER
from ..exceptions import DefinitionError
from .result import ExecuteResult

__all__ = ["materialize", "materialize_to_memory"]


def _check_assets(assets: Any, selection: Any, owner: str) -> tuple[list[AssetsDefinition], Any]:
    """``assets`` as a list of asset definitions and ``selection`` as a list (a single key
    selects that asset), or a DefinitionError saying what was given instead."""
    if isinstance(assets, AssetsDefinition):
        assets = [assets]
    try:
        items = list(assets)
    except TypeError:
        raise DefinitionError(
            f"{owner} takes a list of assets, got {type(assets).__name__} {assets!r}",
            hint="pass the @asset-decorated functions, e.g. materialize([users, orders]).",
        ) from None
    bad = [a for a in items if not isinstance(a, AssetsDefinition)]
    if bad:
        raise DefinitionError(
            f"{owner} takes assets, got {', '.join(f'{type(b).__name__} {b!r}' for b in bad)}",
            hint="pass the functions decorated with @asset (ops run in a @job).",
        )
    if isinstance(selection, str):
        selection = [selection]
    elif selection is not None and not isinstance(selection, AssetSelection):
        try:
            selection = list(selection)
        except TypeError:
            raise DefinitionError(
                f"{owner}: selection must be asset keys or assets, got "
                f"{type(selection).__name__} {selection!r}",
                hint="e.g. selection=['users', 'raw/orders'].",
            ) from None
    return items, selection


def _with_default_io_manager(resources: Any, io_manager: Any) -> dict[str, Any]:
    bindings = resource_bindings(resources)
    bindings.setdefault("io_manager", io_manager)
    return bindings


def _asset_resources(assets: Sequence[AssetsDefinition], resources: Any) -> dict[str, Any]:
    bindings = resource_bindings(resources)
    for a in assets:  # asset-level resources (with_resources) win
        bindings.update(a.resource_defs)
    return bindings


def materialize(
    assets: Sequence[AssetsDefinition],
    resources: Mapping[str, Any] | Any = None,
    run_config: RunConfig | Mapping[str, Any] | None = None,
    instance: Any = None,
    selection: Iterable[Any] | AssetSelection | None = None,
    raise_on_error: bool = True,
    tags: Mapping[str, str] | None = None,
    *,
    executor: Any = None,
) -> ExecuteResult:
    """Materialize ``assets``; returns the run's :class:`ExecuteResult`.

    Outputs are stored by the ``io_manager`` resource (default: a :class:`FilesystemIOManager`
    under the instance's storage directory). Steps run in this process unless ``executor``
    (e.g. ``multiprocess_executor``) or the run config's ``execution`` section says otherwise.

    Example:
        >>> from outfitter import asset, materialize
        >>> @asset
        ... def upstream() -> int:
        ...     return 1
        >>> @asset
        ... def downstream(upstream: int) -> int:
        ...     return upstream + 1
        >>> materialize([upstream, downstream]).asset_value("downstream")
        2
    """
    assets, selection = _check_assets(assets, selection, "materialize()")
    bindings = _with_default_io_manager(_asset_resources(assets, resources), DEFAULT_IO_MANAGER)
    from .executors import select_executor

    return _run_assets(
        "materialize()",
        assets,
        bindings,
        selection,
        run_config,
        instance,
        tags,
        raise_on_error,
        select_executor(executor, run_config, "materialize()"),
    )


def materialize_to_memory(
    assets: Sequence[AssetsDefinition],
    resources: Mapping[str, Any] | Any = None,
    run_config: RunConfig | Mapping[str, Any] | None = None,
    instance: Any = None,
    selection: Iterable[Any] | AssetSelection | None = None,
    raise_on_error: bool = True,
    tags: Mapping[str, str] | None = None,
) -> ExecuteResult:
    """Like :func:`materialize`, but outputs stay in memory (an :class:`InMemoryIOManager`),
    for tests.

    Example:
        >>> from outfitter import asset, materialize_to_memory
        >>> @asset
        ... def greeting() -> str:
        ...     return "hi"
        >>> materialize_to_memory([greeting]).asset_value("greeting")
        'hi'
    """
    assets, selection = _check_assets(assets, selection, "materialize_to_memory()")
    bindings = {**_asset_resources(assets, resources), "io_manager": IN_MEMORY_IO_MANAGER}
    return _run_assets(
        "materialize_to_memory()",
        assets,
        bindings,
        selection,
        run_config,
        instance,
        tags,
        raise_on_error,
    )


def _run_assets(
    owner: str,
    assets: Sequence[AssetsDefinition],
    bindings: dict[str, Any],
    selection: Iterable[Any] | AssetSelection | None,
    run_config: RunConfig | Mapping[str, Any] | None,
    instance: Any,
    tags: Mapping[str, str] | None,
    raise_on_error: bool,
    executor: Any = None,
) -> ExecuteResult:
    from .launch import run_job  # the run machinery loads with the first run, not on import

    return run_job(
        "__materialize__",
        cached_asset_graph(assets, selection, owner),
        bindings,
        run_config=run_config,
        instance=instance,
        tags=tags,
        raise_on_error=raise_on_error,
        executor=executor,
    )
