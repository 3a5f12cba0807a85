"""``AssetIn``: where an asset input comes from (``AssetKey`` lives with the I/O managers that
store assets, in :mod:`outfitter._resources.asset_key`)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from .._resources.asset_key import AssetKey, coerce_asset_key

__all__ = ["AssetIn", "AssetKey", "coerce_asset_key"]


class AssetIn:
    """Declares where an asset's input comes from, when it is not the parameter's name.

    Example:
        >>> from outfitter import AssetIn
        >>> AssetIn("raw/users").key
        AssetKey(['raw', 'users'])
    """

    __slots__ = ("input_manager_key", "key", "key_prefix", "metadata")

    def __init__(
        self,
        key: str | Sequence[str] | AssetKey | None = None,
        *,
        key_prefix: str | Sequence[str] | None = None,
        metadata: Mapping[str, Any] | None = None,
        input_manager_key: str | None = None,
    ) -> None:
        self.key = None if key is None else coerce_asset_key(key)
        self.key_prefix = key_prefix
        self.metadata = dict(metadata or {})
        self.input_manager_key = input_manager_key

    @property
    def key_prefix_path(self) -> list[str]:
        """The prefix as a list."""
        prefix = self.key_prefix
        return [prefix] if isinstance(prefix, str) else list(prefix or [])

    def __repr__(self) -> str:
        return f"AssetIn({self.key!r})"
