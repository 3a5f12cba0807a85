"""docs/migrating-from-dagster.md stays true: every Dagster name it says works ("as is" or
"differs" with a `dg.` name) is importable from outfitter under that name."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

import outfitter

DOC = Path(__file__).resolve().parents[1] / "docs" / "migrating-from-dagster.md"


def supported_names() -> list[str]:
    names = []
    section = DOC.read_text().split("## Names", 1)[1].split("\n## ", 1)[0]
    for row in section.splitlines():
        match = re.match(r"\| `dg\.([\w.]+)` \| (as is|differs) \|", row)
        if match:
            names.append(match.group(1))
    return names


def test_the_table_lists_names() -> None:
    assert len(supported_names()) > 60


@pytest.mark.parametrize("name", supported_names())
def test_every_name_said_to_work_is_there(name: str) -> None:
    obj: object = outfitter
    for part in name.split("."):
        assert hasattr(obj, part), f"docs/migrating-from-dagster.md says dg.{name} works"
        obj = getattr(obj, part)
