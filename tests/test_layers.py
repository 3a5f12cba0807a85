"""Packages depend one way (DESIGN §2): ``_config`` -> ``_resources`` -> ``_instance`` ->
{``_definitions`` -> ``_flows``} -> ``_execution`` -> {``_daemon``, ``cli``}. A lower package
never imports a higher one, not even inside a function or under ``TYPE_CHECKING``; the only
exception is a run entry point (``job.execute*()``, direct invocation, ``flow.run()``) calling
into ``_execution`` from inside a function."""

from __future__ import annotations

import ast
from pathlib import Path

SRC = Path(__file__).resolve().parents[1] / "src" / "outfitter"

RANK = {
    "exceptions": 0,
    "_graph": 0,
    "_interrupts": 0,
    "_config": 1,
    "_resources": 2,
    "_instance": 3,
    "_definitions": 4,
    "_flows": 5,
    "signals": 6,  # public re-exports of _flows
    "triggers": 6,
    "_execution": 7,
    "testing": 8,
    "_daemon": 8,
    "_loading": 8,
    "ui": 9,
    "cli": 10,
    "__init__": 11,
}
ENTRY_POINTS = {("_definitions", "_execution"), ("_flows", "_execution")}


def unit(parts: tuple[str, ...]) -> str:
    return parts[0].removesuffix(".py")


def imports() -> list[tuple[str, str, bool, str]]:
    """``(importing unit, imported unit, inside a function, where)`` for every import of one
    Outfitter package by another."""
    found = []
    for path in SRC.rglob("*.py"):
        rel = path.relative_to(SRC).parts
        here = unit(rel)
        tree = ast.parse(path.read_text())
        toplevel = {id(node) for node in tree.body}
        for node in ast.walk(tree):
            if not isinstance(node, ast.ImportFrom):
                continue
            if node.level:
                base = list(rel[:-1])[: len(rel) - node.level]
                target = [*base, *(node.module or "").split(".")] if node.module else base
                if not target:
                    continue
                there = target[0]
            elif (node.module or "").startswith("outfitter."):
                there = (node.module or "").split(".")[1]
            else:
                continue
            there = there.removesuffix(".py")
            if there != here:
                found.append((here, there, id(node) not in toplevel, f"{path.name}:{node.lineno}"))
    return found


def test_every_module_has_a_layer() -> None:
    """A new package or top-level module must be placed in the order above."""
    units = {unit(p.relative_to(SRC).parts) for p in SRC.rglob("*.py")}
    assert units <= set(RANK), sorted(units - set(RANK))


def test_packages_import_one_way() -> None:
    """No import points up the order (entry points into _execution excepted)."""
    upward = [
        f"{here} -> {there} ({where})"
        for here, there, lazy, where in imports()
        if RANK[there] >= RANK[here] and not (lazy and (here, there) in ENTRY_POINTS)
    ]
    assert upward == []
