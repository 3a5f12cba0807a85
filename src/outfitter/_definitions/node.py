"""``NodeSpec``: the one frozen record every step becomes, whatever front-end made it
(``@asset``, ``@op``, ``@task``, a ``Task`` subclass). The engine only ever sees NodeSpecs."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from .asset_key import AssetKey
from .params import Params

__all__ = ["NO_DEFAULT", "InputSpec", "NodeSpec"]


class _NoDefault:
    """The "no value given" sentinel; one object, also after pickling to a worker."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "NO_DEFAULT"

    def __reduce__(self) -> str:
        return "NO_DEFAULT"


NO_DEFAULT: Any = _NoDefault()


@dataclass(frozen=True, slots=True)
class InputSpec:
    """Where one input of a node comes from: an upstream node's output (``upstream``, the node
    key), an asset (``asset_key``, resolved to a node or loaded through the I/O manager), or a
    constant ``value``."""

    name: str
    upstream: str | None = None
    asset_key: AssetKey | None = None
    value: Any = NO_DEFAULT
    default: Any = NO_DEFAULT


@dataclass(frozen=True, slots=True)
class NodeSpec:
    """One step of a graph.

    ``resource_keys`` are every resource the step may use: its resource parameters, its
    ``required_resource_keys`` and its I/O manager. ``after`` are nodes it must wait for without
    taking their output (asset ``deps``, ``upstream_tasks``).
    """

    key: str
    fn: Callable[..., Any]
    kind: str
    params: Params
    inputs: tuple[InputSpec, ...] = ()
    resource_keys: frozenset[str] = frozenset()
    context_resource_keys: frozenset[str] = frozenset()
    io_manager_key: str = "io_manager"
    asset_key: AssetKey | None = None
    config_type: Any = None
    after: tuple[str, ...] = ()
    description: str | None = None
    tags: dict[str, str] = field(default_factory=dict)
    max_retries: int = 0
    retry_delay: float = 0.0
    upstream: tuple[str, ...] = field(init=False)
    """Node keys this node waits for (data inputs first, then ordering-only deps)."""

    def __post_init__(self) -> None:
        data = tuple(i.upstream for i in self.inputs if i.upstream is not None)
        object.__setattr__(self, "upstream", data + tuple(k for k in self.after if k not in data))
