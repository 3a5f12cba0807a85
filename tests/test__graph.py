"""The one topological sort (``outfitter._graph``): stable ties, every node after its
upstream, cycles named by their path."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import given
from hypothesis import strategies as st

from outfitter._graph import CycleFound, toposort


def test_ties_go_to_the_smallest_key_among_those_ready() -> None:
    """Kahn's algorithm on a heap: 'a' unblocks 'c' before 'b' and 'd' run."""
    assert toposort({"d": [], "c": ["a"], "b": [], "a": []}) == ["a", "b", "c", "d"]


def test_a_tie_function_orders_keys_that_do_not_compare() -> None:
    """Flow tasks are ordered by creation, not by name."""
    rank = {"z": 0, "y": 1, "x": 2}
    assert toposort({"x": [], "y": [], "z": []}, rank.__getitem__) == ["z", "y", "x"]


def test_unknown_upstream_keys_are_not_edges() -> None:
    """An input loaded from storage (its asset not selected) orders nothing."""
    assert toposort({"b": ["a", "elsewhere"], "a": []}) == ["a", "b"]


def test_a_cycle_is_named_by_its_path() -> None:
    """Each key waits for the next; the first key comes back at the end."""
    with pytest.raises(CycleFound) as info:
        toposort({"a": ["c"], "b": ["a"], "c": ["b"], "d": ["a"]})
    assert info.value.path == ["a", "c", "b", "a"]
    assert str(info.value) == "'a' -> 'c' -> 'b' -> 'a'"


def test_a_self_loop_is_a_cycle() -> None:
    with pytest.raises(CycleFound) as info:
        toposort({"s": ["s"]})
    assert info.value.path == ["s", "s"]


@given(st.dictionaries(st.integers(0, 30), st.lists(st.integers(0, 30), max_size=4)))
def test_every_key_comes_after_its_upstream_or_a_real_cycle_is_named(
    graph: dict[int, list[int]],
) -> None:
    """Property: the order holds each key once, after everything it waits for; when it
    raises, the named path is a real cycle of the graph."""
    try:
        order = toposort(graph)
    except CycleFound as cycle:
        path = cycle.path
        assert path[0] == path[-1]
        for key, nxt in itertools.pairwise(path):
            assert nxt in graph[key]
        return
    assert sorted(order) == sorted(graph)
    position = {k: i for i, k in enumerate(order)}
    for key, ups in graph.items():
        for up in ups:
            if up in graph:
                assert position[up] < position[key]
