"""``NodeGraph`` (``outfitter._definitions.graph``): the compiled form of every job, asset
selection and flow, and ``asset_graph`` / ``cached_asset_graph`` (``selection.py``)."""

from __future__ import annotations

from dataclasses import replace

import pytest

import outfitter as of
from outfitter._definitions.graph import NodeGraph
from outfitter._definitions.selection import asset_graph, cached_asset_graph
from outfitter.exceptions import DefinitionError


@of.asset
def raw() -> int:
    return 1


@of.asset
def clean(raw: int) -> int:
    return raw


@of.asset(deps=[clean])
def report() -> int:
    return 0


def test_nodes_are_in_run_order_with_their_downstream_and_resources() -> None:
    graph = asset_graph([report, clean, raw], None, "test")
    assert graph.keys() == ["raw", "clean", "report"]
    assert graph.downstream == {"raw": ("clean",), "clean": ("report",), "report": ()}
    assert graph.waiting == {"raw": 0, "clean": 1, "report": 1}
    assert graph.roots == ("raw",)
    assert graph.resource_keys == frozenset({"io_manager"})


def test_an_unselected_upstream_is_loaded_not_waited_for() -> None:
    """Selecting only 'clean': its input comes from storage, so it is a root."""
    graph = asset_graph([raw, clean, report], ["clean"], "test")
    assert graph.keys() == ["clean"]
    assert graph.roots == ("clean",)
    [inp] = graph.by_key["clean"].inputs
    assert inp.upstream is None
    assert inp.asset_key == raw.key


def test_a_step_cycle_names_its_path() -> None:
    """Steps waiting on each other are refused, naming the cycle in the order data flows."""
    base = raw.node_spec({})
    x = replace(base, key="x", after=("z",))
    y = replace(base, key="y", after=("x",))
    z = replace(base, key="z", after=("y",))
    with pytest.raises(DefinitionError) as info:
        NodeGraph([x, y, z], "job 'loop'")
    assert "job 'loop': the steps depend on each other in a cycle: 'x' -> 'y' -> 'z' -> 'x'" in (
        str(info.value)
    )


def test_unknown_selections_and_duplicates_are_definition_errors() -> None:
    with pytest.raises(DefinitionError, match=r"selection names unknown asset\(s\) \['nope'\]"):
        asset_graph([raw], ["nope"], "test")

    @of.asset(name="raw")
    def other() -> int:
        return 2

    with pytest.raises(DefinitionError, match="asset key\\(s\\) defined twice: raw"):
        asset_graph([raw, other], None, "test")


def test_asset_graphs_are_cached_per_asset_list_and_selection() -> None:
    """materialize() over the same assets plans its graph once; another selection or another
    list of assets gets its own graph."""
    assets = [raw, clean, report]
    first = cached_asset_graph(assets, None, "m")
    assert cached_asset_graph(list(assets), None, "m") is first
    assert cached_asset_graph(assets, ["clean"], "m") is not first
    assert cached_asset_graph(assets, ["clean"], "m") is cached_asset_graph(assets, [clean], "m")
    assert cached_asset_graph([raw], None, "m") is not first
    with pytest.raises(DefinitionError):
        cached_asset_graph(assets, [42], "m")


def test_selections_and_clauses_are_cached_without_resolving_them_again() -> None:
    """An AssetSelection (immutable) is known by identity and clause strings by their text, so
    a repeated materialize(selection=...) does not resolve the selection against every asset
    again; an unknown name in clauses is still the full DefinitionError, and nothing is kept."""
    assets = [raw, clean, report]
    picked = of.AssetSelection.assets("clean").upstream()
    graph = cached_asset_graph(assets, picked, "m")
    assert cached_asset_graph(list(assets), picked, "m") is graph
    assert sorted(n.key for n in graph.nodes) == ["clean", "raw"]
    other = of.AssetSelection.assets("clean")
    assert [n.key for n in cached_asset_graph(assets, other, "m").nodes] == ["clean"]
    clauses = cached_asset_graph(assets, ["*clean"], "m")
    assert cached_asset_graph(assets, ["*clean"], "m") is clauses
    assert sorted(n.key for n in clauses.nodes) == ["clean", "raw"]
    for _ in range(2):
        with pytest.raises(DefinitionError, match=r"unknown asset 'nope'"):
            cached_asset_graph(assets, ["*nope"], "m")
