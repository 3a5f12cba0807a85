"""``ConfigProblem``: one problem of a run config, with the path of the value it is about, and
how the problem lines the checks write become structured problems."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

__all__ = ["STEP_NAME_HINT", "ConfigProblem", "structured_problems"]

STEP_NAME_HINT = (
    "an asset's step name is its key path joined with '__' (key ['raw', 'users'] -> raw__users)"
)


@dataclass(frozen=True, slots=True)
class ConfigProblem:
    """One problem in a run config: where (``path``, dotted, from the top of the run config),
    what (``message``) and how to fix it (``hint``, or None).

    Example:
        >>> from outfitter import ConfigProblem
        >>> p = ConfigProblem("resources.db.config.port", "not an integer", "give a number")
        >>> str(p)
        'resources.db.config.port: not an integer (give a number)'
    """

    path: str
    message: str
    hint: str | None = None

    def __str__(self) -> str:
        where = f"{self.path}: " if self.path else ""
        return where + self.message + (f" ({self.hint})" if self.hint else "")


# -- from the engine's problem lines to structured problems ---------------------------------------


def _resource_path(key: str) -> str:
    # a nested resource 'db.creds' takes its launch config under its owner's field
    first, *rest = key.split(".")
    return ".".join([f"resources.{first}.config", *rest])


def _field_path(key: str, field_path: str) -> str:
    return (
        f"{_resource_path(key)}.{field_path}" if field_path != "<config>" else _resource_path(key)
    )


# Compiled on first use (re's cache): only a run config with problems needs them.
_PATTERNS: list[tuple[str, Any]] = [
    (
        r"^resource '([^']+)' needs (?:launch )?config for: (.+)$",
        lambda m: [(_field_path(m[1], f.strip()), f.strip()) for f in m[2].split(",")],
    ),
    (
        r"^resource '([^']+)', field '([^']+)'",
        lambda m: [(_field_path(m[1], m[2]), "")],
    ),
    (
        r"^resource '([^']+)': unknown field '([^']+)'",
        lambda m: [(_field_path(m[1], m[2]), "")],
    ),
    (
        r"^launch config for resource '([^']+)'",
        lambda m: [(f"resources.{m[1]}", "")],
    ),
    (r"^resource '([^']+)'", lambda m: [(f"resources.{m[1]}", "")]),
    (
        r"^step '([^']+)', config field '([^']+)'",
        lambda m: [(f"ops.{m[1]}.config" + ("" if m[2] == "<config>" else f".{m[2]}"), "")],
    ),
    (
        r"^step '([^']+)', (output|input) '([^']+)', field '([^']+)'",
        lambda m: [(f"ops.{m[1]}.{m[2]}s.{m[3]}" + ("" if m[4] == "<config>" else f".{m[4]}"), "")],
    ),
    (
        r"^step '([^']+)', (output|input) '([^']+)'",
        lambda m: [(f"ops.{m[1]}.{m[2]}s.{m[3]}", "")],
    ),
    (r"^run config for step '([^']+)'", lambda m: [(f"ops.{m[1]}", "")]),
    (r"^step '([^']+)'", lambda m: [(f"ops.{m[1]}.config", "")]),
    (r"^unknown section '([^']+)'", lambda m: [(m[1], "")]),
    (r"^'(\w+)' must be a mapping", lambda m: [(m[1], "")]),
    (r"^(\w+)\.([^ ]+) must be a mapping", lambda m: [(f"{m[1]}.{m[2]}", "")]),
    (r"^(\w+) key (.+) must be a string", lambda m: [(m[1], "")]),
    (r"^'execution' selects", lambda m: [("execution", "")]),
    (
        r"^(?:unknown|required) parameter '([^']+)'",
        lambda m: [(f"parameters.{m[1]}", "")],
    ),
]


def structured_problems(line: str, step_names: Sequence[str] = ()) -> list[ConfigProblem]:
    """A problem line of the engine as structured problems (one per field it names);
    ``step_names`` are the steps of the run (listed in the hint for an unknown one).

    Example:
        >>> [str(p) for p in structured_problems("resource 'db', field 'port': not a number")]
        ["resources.db.config.port: resource 'db', field 'port': not a number"]
    """
    hint: str | None = None
    message = line
    if message.startswith("run config for step "):
        names = ", ".join(step_names) or "none"
        hint = f"the steps of this run: {names}; {STEP_NAME_HINT}"
    for pattern, paths in _PATTERNS:
        m = re.match(pattern, message)
        if m is None:
            continue
        out = []
        for path, one_field in paths(m):
            text = message
            if one_field and "," in m[0]:  # one problem per missing field
                text = message.split(":")[0] + f": {one_field}"
            out.append(ConfigProblem(path, text, hint))
        return out
    return [ConfigProblem("", message, hint)]
