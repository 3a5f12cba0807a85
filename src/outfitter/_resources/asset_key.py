"""``AssetKey``: the name of a stored asset, which I/O managers key their storage by."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any, NoReturn

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
        if isinstance(path, str):
            parts: tuple[Any, ...] = (path,)
        elif isinstance(path, Iterable):
            parts = tuple(path)
        else:
            raise DefinitionError(
                f"invalid asset key {path!r}: expected a string or a list of strings, got "
                f"{type(path).__name__}",
                hint="an asset key is a string or a list of strings, e.g. AssetKey(['raw', "
                "'users']) or AssetKey.from_user_string('raw/users').",
            )
        if not parts or not all(isinstance(p, str) and _plain(p) for p in parts):
            _reject(path, parts)
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


def _has_drive(part: str) -> bool:
    """``C:`` or ``c:x``: on Windows, joining it to a directory gives a path on that drive."""
    return len(part) >= 2 and part[1] == ":" and part[0].isascii() and part[0].isalpha()


def _plain(part: str) -> bool:
    """Whether ``part`` names one entry inside its parent directory. I/O managers join key parts
    into paths, so a part may not climb out (``..``), name the directory itself (``.``, empty),
    hold a separator or NUL, or be absolute (``/x``, ``C:``): DESIGN §6, paths are confined to
    the storage directory."""
    return not (
        part in ("", ".", "..") or "/" in part or "\\" in part or "\0" in part or _has_drive(part)
    )


def _part_problem(part: object) -> str | None:
    """Why ``part`` cannot be an asset key part (None when it can)."""
    if not isinstance(part, str):
        return f"{part!r} is of type {type(part).__name__}, not a string"
    if part == "":
        return "'' is empty"
    if part == ".":
        return "'.' names the current directory, not an entry in it"
    if part == "..":
        return "'..' names the parent directory, outside the storage directory"
    found = []
    if part.startswith(("/", "\\")) or _has_drive(part):
        found.append("is an absolute path")
    if "/" in part or "\\" in part:
        found.append("contains a path separator ('/' or '\\')")
    if "\0" in part:
        found.append("contains a NUL character")
    return f"{part!r} " + " and ".join(found) if found else None


def _reject(path: object, parts: tuple[object, ...]) -> NoReturn:
    if not parts:
        raise DefinitionError(
            f"invalid asset key {path!r}: it has no parts",
            hint="an asset key is a non-empty string or a list of non-empty strings, "
            "e.g. AssetKey(['raw', 'users']).",
        )
    shown = "/".join(p if isinstance(p, str) else repr(p) for p in parts)
    lines = [
        f"part {i} {problem}"
        for i, part in enumerate(parts, 1)
        if (problem := _part_problem(part)) is not None
    ]
    raise DefinitionError(
        f"invalid asset key {shown!r} (parts {list(parts)!r}): I/O managers store it at a path "
        "made of its parts, one file or directory name each",
        problems=lines,
        hint="make every part a plain name: not empty, '.' or '..', no '/', '\\' or NUL "
        "character, not absolute. A key_prefix is a list of names (key_prefix=['raw', 'sales']); "
        "AssetKey.from_user_string('raw/sales') splits a 'a/b' string into parts.",
    )


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
