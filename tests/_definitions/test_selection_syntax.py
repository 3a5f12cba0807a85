"""Dagster's (legacy) asset selection syntax for ``--select``: names, comma lists, ``*name``,
``+name`` (``++name``...), ``name+``, ``name*``; unknown names with close matches.

The syntax follows Dagster 1.13's string selections (``materialize(selection="*a")``,
docs.dagster.io/_apidocs/execution: "a sub-selection of assets ... string or sequence of
strings") as parsed by ``parse_clause`` in dagster/_core/selector/subset_selector.py: leading
``*`` is every ancestor, each leading ``+`` one level of ancestors; trailing ``+``/``*`` the same
for descendants.
"""

from __future__ import annotations

import pytest

import outfitter as of
from outfitter._definitions.selection import parse_asset_selection
from outfitter.exceptions import DefinitionError


@of.asset
def raw() -> int:
    return 1


@of.asset
def clean(raw: int) -> int:
    return raw


@of.asset
def enriched(clean: int) -> int:
    return clean


@of.asset
def report(enriched: int, side: int) -> int:
    return enriched + side


@of.asset
def side() -> int:
    return 2


@of.asset(key_prefix=["warehouse"])
def orders() -> int:
    return 3


ASSETS = [raw, clean, enriched, report, side, orders]


def picked(*clauses: str) -> list[str]:
    return [k.to_user_string() for k in parse_asset_selection(clauses, ASSETS)]


@pytest.mark.parametrize(
    ("clauses", "expected"),
    [
        (("clean",), ["clean"]),
        (("raw,side",), ["raw", "side"]),
        (("raw", "side, report"), ["raw", "report", "side"]),
        (("*enriched",), ["raw", "clean", "enriched"]),
        (("+enriched",), ["clean", "enriched"]),
        (("++enriched",), ["raw", "clean", "enriched"]),
        (("+++report",), ["raw", "clean", "enriched", "report", "side"]),
        (("clean+",), ["clean", "enriched"]),
        (("clean++",), ["clean", "enriched", "report"]),
        (("raw*",), ["raw", "clean", "enriched", "report"]),
        (("+clean+",), ["raw", "clean", "enriched"]),
        (("*report",), ["raw", "clean", "enriched", "report", "side"]),
        (("warehouse/orders",), ["warehouse/orders"]),
    ],
)
def test_clauses_select_assets_and_their_neighbours(
    clauses: tuple[str, ...], expected: list[str]
) -> None:
    """Each clause form selects the asset and the levels it asks for, in definition order."""
    assert picked(*clauses) == expected


def test_unknown_names_list_close_matches_and_every_problem() -> None:
    """Unknown names and malformed clauses are one DefinitionError naming each, with close
    matches."""
    with pytest.raises(DefinitionError) as caught:
        picked("cleen+", "reprot", "a+b", "zzzz")
    problems = caught.value.problems
    assert problems == (
        "unknown asset 'cleen' (did you mean 'clean'?)",
        "unknown asset 'reprot' (did you mean 'report'?)",
        "'a+b' is not a selection clause (use NAME, *NAME, +NAME, NAME+ or NAME*; separate "
        "clauses with commas)",
        "unknown asset 'zzzz'",
    )
    assert "known assets: clean, enriched, raw, report, side, warehouse/orders" in str(caught.value)


def test_selected_keys_run() -> None:
    """The keys it returns are what materialize(selection=...) takes."""
    result = of.materialize(ASSETS, selection=parse_asset_selection(["*enriched"], ASSETS))
    assert result.success
    assert result.asset_value("enriched") == 1
