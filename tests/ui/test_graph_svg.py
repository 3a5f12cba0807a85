"""The server-side graph drawing: layout properties (layers, no overlaps, groups around their
members), routes of long edges, and escaping of every user string."""

from __future__ import annotations

import itertools
import random
import re

import pytest

from outfitter.ui.graph_svg import NODE_H, NODE_W, Group, Layout, Node, layout, render_svg

XSS = "<script>alert(1)</script>"


def random_dag(n: int, seed: int) -> tuple[list[Node], list[tuple[str, str]]]:
    rng = random.Random(seed)
    nodes = [Node(f"n{i}", f"node {i}") for i in range(n)]
    edges = []
    for i in range(1, n):
        for j in rng.sample(range(max(0, i - 12), i), k=min(i, rng.randint(0, 3))):
            edges.append((f"n{j}", f"n{i}"))
    rng.shuffle(nodes)  # the layout does not rely on the nodes coming in order
    return nodes, edges


def overlapping(out: Layout) -> list[tuple[str, str]]:
    boxes = sorted(out.boxes.items(), key=lambda kv: (kv[1][0], kv[1][1]))
    found = []
    for (a, (ax, ay)), (b, (bx, by)) in itertools.pairwise(boxes):
        if ax == bx and by < ay + NODE_H:
            found.append((a, b))
    columns = {x for x, _ in out.boxes.values()}
    assert all(abs(x - y) >= NODE_W for x in columns for y in columns if x != y)
    return found


def inside(box: tuple[float, float, float, float], x: float, y: float, w: float, h: float) -> bool:
    bx, by, bw, bh = box
    return bx <= x and by <= y and x + w <= bx + bw and y + h <= by + bh


@pytest.mark.parametrize("seed", range(5))
def test_every_edge_goes_to_a_higher_layer_and_boxes_do_not_overlap(seed: int) -> None:
    """Random DAGs: each edge from a lower layer to a higher one; no two boxes overlap."""
    nodes, edges = random_dag(120, seed)
    out = layout(nodes, edges)
    assert set(out.boxes) == {n.id for n in nodes}
    for a, b in edges:
        assert out.layers[a] < out.layers[b]
    assert overlapping(out) == []
    for box_x, box_y in out.boxes.values():
        assert box_x >= 0
        assert box_x + NODE_W <= out.width
        assert box_y >= 0
        assert box_y + NODE_H <= out.height


def test_layers_are_longest_paths_and_roots_sit_next_to_their_first_consumer() -> None:
    """A chain sets the depth; a source feeding only the last node is drawn just before it."""
    nodes = [Node(k, k) for k in ("a", "b", "c", "late")]
    out = layout(nodes, [("a", "b"), ("b", "c"), ("late", "c")])
    assert out.layers == {"a": 0, "b": 1, "c": 2, "late": 1}


def test_long_edges_are_routed_through_the_layers_they_skip() -> None:
    """An edge skipping two layers passes through both, left to right, outside other boxes."""
    nodes = [Node(k, k) for k in ("a", "b", "c", "d")]
    out = layout(nodes, [("a", "b"), ("b", "c"), ("c", "d"), ("a", "d")])
    [route] = [r for r in out.routes if (r.source, r.target) == ("a", "d")]
    xs = [x for x, _ in route.points]
    assert len(route.points) == 4
    assert xs == sorted(xs)
    for x, y in route.points:
        for node_id, (bx, by) in out.boxes.items():
            if node_id in "bc":
                assert not (bx <= x <= bx + NODE_W and by < y < by + NODE_H) or x in (
                    bx,
                    bx + NODE_W,
                )


def test_barycenter_sweeps_remove_avoidable_crossings() -> None:
    """Two parallel chains given in crossed order come out uncrossed."""
    nodes = [Node(k, k) for k in ("a1", "b1", "b2", "a2")]
    out = layout(nodes, [("a1", "a2"), ("b1", "b2")])
    above = out.boxes["a1"][1] < out.boxes["b1"][1]
    assert above == (out.boxes["a2"][1] < out.boxes["b2"][1])


def test_groups_contain_their_members_and_nested_groups() -> None:
    """Each group's box holds its members' boxes and the boxes of groups nested in it; a node
    outside a group in a layer the group spans is drawn outside its box."""
    ids = [
        "p",
        "init",
        "setup",
        "t1",
        "t2",
        "inner",
        "inner.setup",
        "t3",
        "inner.cleanup",
        "cleanup",
        "after",
    ]
    nodes = [Node(k, k) for k in ids]
    edges = [
        ("init", "setup"),
        ("setup", "t1"),
        ("p", "t1"),
        ("t1", "t2"),
        ("t2", "cleanup"),
        ("setup", "cleanup"),
        ("init", "cleanup"),
        ("inner", "inner.setup"),
        ("inner.setup", "t3"),
        ("t1", "t3"),
        ("t3", "inner.cleanup"),
        ("inner.setup", "inner.cleanup"),
        ("inner.cleanup", "cleanup"),
        ("t3", "after"),
    ]
    inner = Group("inner block", frozenset({"inner", "inner.setup", "t3", "inner.cleanup"}))
    outer = Group(
        "outer block",
        frozenset({"init", "setup", "t1", "t2", "cleanup"}) | inner.members,
    )
    out = layout(nodes, edges, [inner, outer])
    boxes = {box.group.label: box for box in out.groups}
    assert boxes["outer block"].depth == 0
    assert boxes["inner block"].depth == 1
    for label, group in (("inner block", inner), ("outer block", outer)):
        box = boxes[label]
        frame = (box.x, box.y, box.w, box.h)
        for member in group.members:
            assert inside(frame, *out.boxes[member], NODE_W, NODE_H), (label, member)
    o, i = boxes["outer block"], boxes["inner block"]
    assert inside((o.x, o.y, o.w, o.h), i.x, i.y, i.w, i.h)
    assert o.x < i.x
    assert o.y < i.y
    for outsider in ("p", "after"):
        x, y = out.boxes[outsider]
        assert not inside((o.x, o.y, o.w, o.h), x, y, NODE_W, NODE_H)
    assert overlapping(out) == []
    for a, b in edges:
        assert out.layers[a] < out.layers[b]


def test_a_cycle_and_duplicate_ids_are_refused() -> None:
    """Cycles and repeated ids are errors naming the problem."""
    with pytest.raises(ValueError, match=r"cycle: (a -> b -> a|b -> a -> b)"):
        layout([Node("a", "a"), Node("b", "b")], [("a", "b"), ("b", "a")])
    with pytest.raises(ValueError, match="unique"):
        layout([Node("a", "a"), Node("a", "again")], [])


def test_unknown_ids_and_self_loops_in_edges_are_ignored() -> None:
    """Edges to nodes not drawn (an asset loaded from storage) are left out."""
    out = layout([Node("a", "a")], [("a", "a"), ("gone", "a"), ("a", "gone")])
    assert out.routes == []
    assert out.layers == {"a": 0}


def test_every_user_string_is_escaped() -> None:
    """Labels, kinds, descriptions, links, selection values and group labels are escaped."""
    node = Node(
        XSS,
        XSS,
        kind=XSS,
        status=XSS,
        href=f'/runs/x"onmouseover="{XSS}',
        select=f'a"b{XSS}',
        title=XSS,
    )
    svg = render_svg([node, Node("b", "b")], [(XSS, "b")], [Group(XSS, frozenset({XSS}))])
    text = str(svg)
    assert "<script" not in text
    assert '"onmouseover' not in text
    assert "&lt;script&gt;" in text
    assert 'class="node none"' in text  # an unknown status is no class at all


def test_nodes_carry_status_link_selection_and_mapping() -> None:
    """A node is classed by its status, links to its run, and has a checkbox when selectable."""
    svg = str(
        render_svg(
            [
                Node(
                    "raw__users",
                    "raw/users",
                    kind="asset",
                    status="SUCCESS",
                    href="/runs/r1",
                    select="raw/users",
                ),
                Node("report", "report", kind="asset", status="FAILURE"),
                Node("double-1", "double", kind="task", mapped=True),
            ],
            [("raw__users", "report")],
            label="asset graph",
        )
    )
    assert re.search(
        r'<g class="node SUCCESS" data-node="raw__users"[^>]*>.*?<a href="/runs/r1">', svg
    )
    assert 'data-select="raw/users"' in svg
    assert svg.count('class="check"') == 1
    assert 'class="node FAILURE" data-node="report"' in svg
    assert 'class="node none mapped"' in svg
    assert 'class="stack"' in svg
    assert 'aria-label="asset graph"' in svg
    assert svg.count('class="edge"') == 1


def test_long_labels_are_shortened_with_the_whole_label_in_the_tooltip() -> None:
    """A long name is cut in its box; the tooltip keeps all of it."""
    name = "a_really_long_asset_name_that_goes_on"
    svg = str(render_svg([Node("x", name)], []))
    assert f"<title>{name}" in svg
    assert f'class="label" x="10" y="18">{name}<' not in svg
    assert "…" in svg


def test_an_empty_graph_renders() -> None:
    """No nodes: an empty drawing, not an error."""
    assert str(render_svg([], [])).startswith("<svg")
