"""``AssetKey``: the name of a stored asset, which I/O managers key their storage by."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ..exceptions import DefinitionError

__all__ = ["AssetKey", "coerce_asset_key"]


class AssetKey:
    """The name of an asset: a path of strings, shown as ``a/b``.

    Example:
        >>> from outfitter import AssetKey
        >>> AssetKey(["raw", "users"]).to_user_string()
        'raw/users'
        >>> AssetKey.from_user_string("raw/users") == AssetKey(["raw", "users"])
        True
    """

    __slots__ = ("_text", "path")

    path: tuple[str, ...]
    _text: str

    def __init__(self, path: str | Sequence[str]) -> None:
        parts = (path,) if isinstance(path, str) else tuple(path)
        if not parts or not all(isinstance(p, str) and p for p in parts):
            raise DefinitionError(
                f"invalid asset key {path!r}",
                hint="an asset key is a non-empty string or a list of non-empty strings, "
                "e.g. AssetKey(['raw', 'users']).",
            )
        object.__setattr__(self, "path", parts)
        object.__setattr__(self, "_text", "/".join(parts))

    @classmethod
    def from_user_string(cls, text: str) -> AssetKey:
        """Parse ``"a/b"`` into ``AssetKey(["a", "b"])``."""
        return cls(text.split("/"))

    def __reduce__(self) -> tuple[type[AssetKey], tuple[tuple[str, ...]]]:
        # immutable: rebuilt from its path when unpickled (in a worker process)
        return (AssetKey, (self.path,))

    def to_user_string(self) -> str:
        """The key as ``a/b``."""
        return self._text

    def with_prefix(self, prefix: str | Sequence[str]) -> AssetKey:
        """This key under ``prefix``."""
        head = [prefix] if isinstance(prefix, str) else list(prefix)
        return AssetKey([*head, *self.path])

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError("AssetKey is immutable")

    def __eq__(self, other: object) -> bool:
        return isinstance(other, AssetKey) and other.path == self.path

    def __hash__(self) -> int:
        return hash(("AssetKey", self.path))

    def __lt__(self, other: AssetKey) -> bool:
        return self.path < other.path

    def __repr__(self) -> str:
        return f"AssetKey({list(self.path)!r})"


def coerce_asset_key(value: Any) -> AssetKey:
    """An AssetKey from a key, a ``"a/b"`` string, or a sequence of strings."""
    if isinstance(value, AssetKey):
        return value
    if isinstance(value, str):
        return AssetKey.from_user_string(value)
    key = getattr(value, "key", None)
    if isinstance(key, AssetKey):
        return key
    if isinstance(value, Sequence):
        return AssetKey(list(value))
    raise DefinitionError(
        f"cannot use {value!r} as an asset key",
        hint="pass an AssetKey, an asset, a 'a/b' string or a list of strings.",
    )
