"""Directed acyclic graphs drawn as SVG on the server: the asset graph, a job's steps and a flow's
schematic on the Definitions pages. Pure (no Starlette, no system binary such as graphviz).

The layout is a small layered (Sugiyama-style) one: layers by longest path over the graph's
topological order (:func:`outfitter._graph.toposort`, the one every graph of Outfitter uses),
placeholder points on edges that skip layers, a few barycenter sweeps to reduce crossings
(members of a group kept next to each other in each layer), fixed node boxes, edges as cubic
curves. Layers run left to right.

Every user string (labels, kinds, descriptions, links, selection values, group labels) is
escaped here; :func:`render_svg` returns :class:`markupsafe.Markup` built only from escaped text.
What lives elsewhere: which statuses and links nodes get (:mod:`outfitter.ui.definitions`).

Example:
    >>> svg = render_svg([Node("a", "raw <users>"), Node("b", "report")], [("a", "b")])
    >>> "raw &lt;users&gt;" in svg, "<users>" in svg
    (True, False)
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable, Iterable, Sequence
from dataclasses import dataclass, field

from markupsafe import Markup, escape

from .._graph import CycleFound, toposort

__all__ = ["STATUSES", "Group", "GroupBox", "Layout", "Node", "Route", "layout", "render_svg"]

STATUSES = frozenset({"SUCCESS", "FAILURE", "STARTED", "SKIPPED", "CANCELED", "QUEUED"})
"""Statuses a node is coloured by (ui.css gives each its colour); anything else is "none"."""

NODE_W = 184.0
NODE_H = 44.0
H_GAP = 72.0
"""Between two layers (room for the curves, and for the padding of a few nested groups)."""
V_GAP = 14.0
DUMMY_H = 6.0
"""The height a placeholder point of a long edge takes in its layer."""
PAD = 10.0
"""A group's padding on the sides and at the bottom."""
PAD_TOP = 24.0
"""A group's padding at the top, where its label goes."""
MARGIN = 16.0
LABEL_CHARS = 21
"""Characters of a label shown in a box (the whole label is in the node's tooltip); three fewer
beside a selection checkbox."""


@dataclass(frozen=True, slots=True)
class Node:
    """One box of the graph: ``id`` (unique, e.g. a step key) and the ``label`` shown; ``kind``
    (asset, op, task…) and ``status`` (one of :data:`STATUSES`, else none) under it; ``href``
    links the box (to the node's last run); ``select`` is the value its selection checkbox
    stands for (no checkbox when None); ``title`` is extra tooltip text (a description);
    ``mapped`` draws a stack (a mapped task runs once per element).

    Example:
        >>> Node("raw__users", "raw/users", kind="asset", status="SUCCESS").status
        'SUCCESS'
    """

    id: str
    label: str
    kind: str = ""
    status: str | None = None
    href: str | None = None
    select: str | None = None
    title: str | None = None
    mapped: bool = False


@dataclass(frozen=True, slots=True)
class Group:
    """A box drawn around ``members`` (node ids) with a ``label``: a flow's resource-manager
    block. Nested groups hold their inner group's members too.

    Example:
        >>> Group("resource manager Scratch", frozenset({"Scratch-1", "fill-1"})).label
        'resource manager Scratch'
    """

    label: str
    members: frozenset[str]


@dataclass(frozen=True, slots=True)
class GroupBox:
    """Where a group is drawn: its top-left corner, size and nesting depth (0: outermost)."""

    group: Group
    x: float
    y: float
    w: float
    h: float
    depth: int


@dataclass(frozen=True, slots=True)
class Route:
    """An edge as drawn: from the right side of ``source`` to the left side of ``target``,
    through ``points`` (where the edge crosses the layers it skips)."""

    source: str
    target: str
    points: tuple[tuple[float, float], ...]


@dataclass(slots=True)
class Layout:
    """Where everything goes: each node's top-left corner (``boxes``) and layer, the groups'
    boxes, the edges' routes and the size of the drawing. Nodes are ``node_w`` by ``node_h``."""

    boxes: dict[str, tuple[float, float]] = field(default_factory=dict)
    layers: dict[str, int] = field(default_factory=dict)
    groups: list[GroupBox] = field(default_factory=list)
    routes: list[Route] = field(default_factory=list)
    width: float = 0.0
    height: float = 0.0
    node_w: float = NODE_W
    node_h: float = NODE_H


def layout(
    nodes: Sequence[Node],
    edges: Iterable[tuple[str, str]],
    groups: Sequence[Group] = (),
    *,
    sweeps: int = 4,
) -> Layout:
    """Lay out ``nodes`` with ``edges`` (upstream id, downstream id; edges naming unknown ids
    and self-loops are ignored) and ``groups``. Every edge goes from a lower layer to a higher
    one; boxes do not overlap; a group's box contains its members' boxes (and nested groups).
    A cycle raises ``ValueError``.

    Example:
        >>> nodes = [Node("a", "a"), Node("b", "b"), Node("c", "c")]
        >>> layout(nodes, [("a", "b"), ("a", "c")]).layers
        {'a': 0, 'b': 1, 'c': 1}
    """
    n = len(nodes)
    ids = [node.id for node in nodes]
    index = {node_id: i for i, node_id in enumerate(ids)}
    if len(index) != n:
        raise ValueError("node ids must be unique")
    ups: list[list[int]] = [[] for _ in range(n)]
    seen: set[tuple[int, int]] = set()
    for source, target in edges:
        a = index.get(source)
        b = index.get(target)
        if a is None or b is None or a == b or (a, b) in seen:
            continue
        seen.add((a, b))
        ups[b].append(a)
    try:
        order = toposort(dict(enumerate(ups)))
    except CycleFound as cycle:
        names = " -> ".join(ids[i] for i in cycle.path)
        raise ValueError(f"the graph has a cycle: {names}") from None

    # layers: longest path from the roots, then each root moved next to its first consumer
    downs: list[list[int]] = [[] for _ in range(n)]
    layer = [0] * n
    for i in order:
        for u in ups[i]:
            downs[u].append(i)
            if layer[u] + 1 > layer[i]:
                layer[i] = layer[u] + 1
    for i in order:
        if not ups[i] and downs[i]:
            layer[i] = min(layer[d] for d in downs[i]) - 1

    paths = _group_paths(n, index, groups)

    # items: the nodes, then one placeholder per layer an edge skips
    item_layer = list(layer)
    item_path: list[tuple[int, ...]] = list(paths)
    item_up: list[list[int]] = [[] for _ in range(n)]
    item_down: list[list[int]] = [[] for _ in range(n)]
    chains: list[tuple[int, int, list[int]]] = []
    for b in order:
        for a in ups[b]:
            chain: list[int] = []
            prev = a
            if layer[b] - layer[a] > 1:
                shared = _common(paths[a], paths[b])
                for lay in range(layer[a] + 1, layer[b]):
                    d = len(item_layer)
                    item_layer.append(lay)
                    item_path.append(shared)
                    item_up.append([prev])
                    item_down.append([])
                    item_down[prev].append(d)
                    chain.append(d)
                    prev = d
            item_up[b].append(prev)
            item_down[prev].append(b)
            chains.append((a, b, chain))

    depth = max(item_layer, default=-1) + 1
    grouped = bool(groups)
    if grouped:  # a group holds a place in every layer it spans, so it can be drawn as a band
        _span_placeholders(n, paths, layer, item_layer, item_path, item_up, item_down)
    rows: list[list[int]] = [[] for _ in range(depth)]
    for i in order:  # nodes in topological order first, placeholders after
        rows[item_layer[i]].append(i)
    for d in range(n, len(item_layer)):
        rows[item_layer[d]].append(d)
    pos = [0.0] * len(item_layer)
    for row in rows:
        for p, item in enumerate(row):
            pos[item] = float(p)
    at = pos.__getitem__
    for sweep in range(sweeps):
        downward = sweep % 2 == 0
        sequence = range(1, depth) if downward else range(depth - 2, -1, -1)
        neighbours = item_up if downward else item_down
        for lay in sequence:
            row = rows[lay]
            centres = [
                sum(map(at, near)) / len(near) if (near := neighbours[item]) else pos[item]
                for item in row
            ]
            if grouped:
                centre = dict(zip(row, centres, strict=True))
                row.sort(key=_grouped_key(row, centre, pos, item_path))
            else:
                ranked = sorted(zip(centres, map(at, row), row, strict=True))
                row[:] = [item for _, _, item in ranked]
            for p, item in enumerate(row):
                pos[item] = float(p)

    if grouped:
        ys, tallest = _banded(rows, n, pos, item_path)
    else:  # each layer stacked, then centred on the tallest
        ys = [0.0] * len(item_layer)
        heights: list[float] = []
        for row in rows:
            y = 0.0
            for p, item in enumerate(row):
                if p:
                    y += V_GAP
                ys[item] = y
                y += NODE_H if item < n else DUMMY_H
            heights.append(y)
        tallest = max(heights, default=0.0)
        for lay, row in enumerate(rows):
            shift = (tallest - heights[lay]) / 2
            for item in row:
                ys[item] += shift

    nest = max((len(p) for p in paths), default=0)
    left = MARGIN + nest * PAD
    step = NODE_W + H_GAP
    out = Layout()
    for i, node_id in enumerate(ids):
        out.boxes[node_id] = (left + layer[i] * step, MARGIN + ys[i])
        out.layers[node_id] = layer[i]
    for a, b, chain in chains:
        points: list[tuple[float, float]] = []
        for d in chain:
            x = left + item_layer[d] * step
            y = MARGIN + ys[d] + DUMMY_H / 2
            points.append((x, y))
            points.append((x + NODE_W, y))
        out.routes.append(Route(ids[a], ids[b], tuple(points)))
    out.groups = _group_boxes(groups, out.boxes)
    right = left + max(depth - 1, 0) * step + NODE_W + nest * PAD + MARGIN
    bottom = MARGIN + tallest + MARGIN
    for box in out.groups:
        right = max(right, box.x + box.w + MARGIN)
        bottom = max(bottom, box.y + box.h + MARGIN)
    out.width = right if n else 0.0
    out.height = bottom if n else 0.0
    return out


def _span_placeholders(
    n: int,
    paths: list[tuple[int, ...]],
    layer: list[int],
    item_layer: list[int],
    item_path: list[tuple[int, ...]],
    item_up: list[list[int]],
    item_down: list[list[int]],
) -> None:
    """A placeholder item for each layer a group spans (from its first member's layer to its
    last's) where no item of that group is, so the group is a band in every layer it crosses."""
    spans: dict[tuple[int, ...], list[int]] = {}
    present: set[tuple[tuple[int, ...], int]] = set()
    for item, path in enumerate(item_path):
        for k in range(1, len(path) + 1):
            present.add((path[:k], item_layer[item]))
            if item < n:
                span = spans.setdefault(path[:k], [layer[item], layer[item]])
                span[0] = min(span[0], layer[item])
                span[1] = max(span[1], layer[item])
    for prefix, (lo, hi) in sorted(spans.items(), key=lambda kv: len(kv[0])):
        for lay in range(lo + 1, hi):
            if (prefix, lay) not in present:
                item_layer.append(lay)
                item_path.append(prefix)
                item_up.append([])
                item_down.append([])
                for k in range(1, len(prefix) + 1):
                    present.add((prefix[:k], lay))


def _banded(
    rows: list[list[int]], n: int, pos: list[float], item_path: list[tuple[int, ...]]
) -> tuple[list[float], float]:
    """Vertical positions when there are groups: sibling groups in one order in every layer
    (by their items' mean position), and each group a band, the same in every layer it spans,
    that other items stay out of. Returns each item's top and the drawing's height."""
    sums: dict[tuple[int, ...], list[float]] = {}
    for row in rows:
        for item in row:
            path = item_path[item]
            for k in range(1, len(path) + 1):
                acc = sums.setdefault(path[:k], [0.0, 0.0])
                acc[0] += pos[item]
                acc[1] += 1.0
    mean = {prefix: total / count for prefix, (total, count) in sums.items()}

    def key(item: int) -> tuple[tuple[float, float], ...]:
        path = item_path[item]
        parts = [(mean[path[: k + 1]], float(path[k])) for k in range(len(path))]
        parts.append((pos[item], -1.0))
        return tuple(parts)

    for row in rows:
        row.sort(key=key)
    top: dict[tuple[int, ...], float] = dict.fromkeys(mean, 0.0)
    end: dict[tuple[int, ...], float] = dict.fromkeys(mean, 0.0)
    ys = [0.0] * len(item_path)
    tallest = 0.0
    for _ in range(len(mean) + 2):  # each pass only moves bands down; they settle in order
        opened: dict[tuple[int, ...], float] = dict.fromkeys(mean, 0.0)
        closed: dict[tuple[int, ...], float] = dict.fromkeys(mean, 0.0)
        tallest = 0.0
        for row in rows:
            y = 0.0
            prev: tuple[int, ...] = ()
            for p, item in enumerate(row):
                path = item_path[item]
                common = len(_common(prev, path))
                for k in range(len(prev), common, -1):  # leave groups, innermost first
                    y = max(y + PAD, end[prev[:k]])
                    closed[prev[:k]] = max(closed[prev[:k]], y)
                if p:
                    y += V_GAP
                for k in range(common + 1, len(path) + 1):  # enter groups, outermost first
                    y = max(y + PAD_TOP, top[path[:k]])
                    opened[path[:k]] = max(opened[path[:k]], y)
                ys[item] = y
                y += NODE_H if item < n else DUMMY_H
                prev = path
            for k in range(len(prev), 0, -1):
                y = max(y + PAD, end[prev[:k]])
                closed[prev[:k]] = max(closed[prev[:k]], y)
            tallest = max(tallest, y)
        if opened == top and closed == end:
            break
        top, end = opened, closed
    return ys, tallest


def _common(a: tuple[int, ...], b: tuple[int, ...]) -> tuple[int, ...]:
    """The longest common prefix of two group paths."""
    if a == b:
        return a
    k = 0
    for x, y in zip(a, b, strict=False):
        if x != y:
            break
        k += 1
    return a[:k]


def _group_paths(n: int, index: dict[str, int], groups: Sequence[Group]) -> list[tuple[int, ...]]:
    """Per node, the groups holding it, outermost (largest) first."""
    paths: list[list[int]] = [[] for _ in range(n)]
    by_size = sorted(range(len(groups)), key=lambda g: (-len(groups[g].members), g))
    for g in by_size:
        for member in groups[g].members:
            i = index.get(member)
            if i is not None:
                paths[i].append(g)
    return [tuple(p) for p in paths]


def _grouped_key(
    row: list[int],
    centre: dict[int, float],
    pos: list[float],
    item_path: list[tuple[int, ...]],
) -> Callable[[int], tuple[tuple[float, float], ...]]:
    """The sort key of a row whose items belong to groups: each group's items stay together,
    groups ordered by their items' mean barycenter, items inside by their own."""
    sums: dict[tuple[int, ...], list[float]] = {}
    for item in row:
        path = item_path[item]
        for k in range(1, len(path) + 1):
            acc = sums.setdefault(path[:k], [0.0, 0.0])
            acc[0] += centre[item]
            acc[1] += 1.0

    def key(item: int) -> tuple[tuple[float, float], ...]:
        path = item_path[item]
        parts = []
        for k in range(1, len(path) + 1):
            total, count = sums[path[:k]]
            parts.append((total / count, float(path[k - 1])))
        parts.append((centre[item], -1.0))
        parts.append((pos[item], -1.0))
        return tuple(parts)

    return key


def _group_boxes(groups: Sequence[Group], boxes: dict[str, tuple[float, float]]) -> list[GroupBox]:
    """Each group's box around its members and the boxes of groups nested in it (inner ones
    first computed), padded; groups with no drawn member are left out."""
    order = sorted(range(len(groups)), key=lambda g: (len(groups[g].members), g))
    done: dict[int, tuple[float, float, float, float]] = {}
    for g in order:
        members = groups[g].members
        x0 = y0 = float("inf")
        x1 = y1 = float("-inf")
        for member in members:
            corner = boxes.get(member)
            if corner is None:
                continue
            x, y = corner
            x0, y0 = min(x0, x), min(y0, y)
            x1, y1 = max(x1, x + NODE_W), max(y1, y + NODE_H)
        for h, (a0, b0, a1, b1) in done.items():
            if h != g and groups[h].members < members:
                x0, y0, x1, y1 = min(x0, a0), min(y0, b0), max(x1, a1), max(y1, b1)
        if x0 == float("inf"):
            continue
        done[g] = (x0 - PAD, y0 - PAD_TOP, x1 + PAD, y1 + PAD)
    out = []
    for g, (x0, y0, x1, y1) in done.items():
        depth = sum(1 for h in done if h != g and groups[g].members < groups[h].members)
        out.append(GroupBox(groups[g], x0, y0, x1 - x0, y1 - y0, depth))
    out.sort(key=lambda box: box.depth)  # outer groups drawn first, under inner ones
    return out


def _short(label: str, room: int) -> str:
    return label if len(label) <= room else label[: room - 1] + "…"


_LAYOUTS: OrderedDict[Hashable, Layout] = OrderedDict()
_LAYOUTS_LOCK = threading.Lock()
_LAYOUTS_KEPT = 16


def _cached_layout(
    nodes: list[Node], edges: list[tuple[str, str]], groups: Sequence[Group]
) -> Layout:
    key = (tuple(n.id for n in nodes), tuple(edges), tuple(groups))
    with _LAYOUTS_LOCK:
        hit = _LAYOUTS.get(key)
        if hit is not None:
            _LAYOUTS.move_to_end(key)
            return hit
    placed = layout(nodes, edges, groups)
    with _LAYOUTS_LOCK:
        _LAYOUTS[key] = placed
        if len(_LAYOUTS) > _LAYOUTS_KEPT:
            _LAYOUTS.popitem(last=False)
    return placed


_TICK = "M5 11l3 3 6-7"


def render_svg(
    nodes: Sequence[Node],
    edges: Iterable[tuple[str, str]],
    groups: Sequence[Group] = (),
    *,
    label: str = "graph",
    cache: bool = True,
) -> Markup:
    """The graph as an ``<svg>`` element (escaped markup, ready for a template). ``label`` is
    its accessible name. Nodes carry ``data-node`` (their id) and a ``node <STATUS>`` class;
    selection checkboxes are ``g.check`` elements with ``data-select`` (the page's script
    toggles them). The layout of a graph shape (ids, edges, groups) is kept for the next
    drawing of the same shape (the page drawn again with new statuses) unless ``cache`` is
    False; a :class:`Layout` is never changed once made.

    Example:
        >>> svg = render_svg([Node("a", "a", status="SUCCESS", href="/runs/1")], [])
        >>> 'class="node SUCCESS"' in svg, 'href="/runs/1"' in svg
        (True, True)
    """
    nodes = list(nodes)
    edges = list(edges)
    placed = _cached_layout(nodes, edges, groups) if cache else layout(nodes, edges, groups)
    w, h = f"{placed.width:.0f}", f"{placed.height:.0f}"
    out: list[str] = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="graph" width="{w}" height="{h}" '
        f'viewBox="0 0 {w} {h}" role="img" aria-label="{escape(label)}">'
        '<defs><marker id="og-arrow" viewBox="0 0 8 8" refX="8" refY="4" markerWidth="7" '
        'markerHeight="7" orient="auto"><path d="M0 0L8 4L0 8z"/></marker></defs>'
    ]
    for box in placed.groups:
        out.append(
            f'<g class="group" data-depth="{box.depth}"><rect x="{box.x:.0f}" '
            f'y="{box.y:.0f}" width="{box.w:.0f}" height="{box.h:.0f}" rx="8"/>'
            f'<text x="{box.x + 8:.0f}" y="{box.y + 15:.0f}">{escape(box.group.label)}'
            "</text></g>"
        )
    boxes = placed.boxes
    half = NODE_H / 2
    parts: list[str] = ['<g class="edges">']
    for route in placed.routes:
        sx, sy = boxes[route.source]
        tx, ty = boxes[route.target]
        x, y = sx + NODE_W, sy + half
        d = [f"M{x:.0f} {y:.0f}"]
        points = route.points
        for k in range(0, len(points), 2):
            (px, py), (qx, qy) = points[k], points[k + 1]
            dx = (px - x) / 2
            d.append(
                f"C{x + dx:.0f} {y:.0f} {px - dx:.0f} {py:.0f} {px:.0f} {py:.0f}L{qx:.0f} {qy:.0f}"
            )
            x, y = qx, qy
        ex, ey = tx - 2, ty + half
        dx = (ex - x) / 2
        d.append(f"C{x + dx:.0f} {y:.0f} {ex - dx:.0f} {ey:.0f} {ex:.0f} {ey:.0f}")
        parts.append(f'<path class="edge" d="{"".join(d)}" marker-end="url(#og-arrow)"/>')
    parts.append("</g>")
    out.extend(parts)
    width, height = f"{NODE_W:.0f}", f"{NODE_H:.0f}"
    check_x = f"{NODE_W - 22:.0f}"
    for node in nodes:
        x, y = boxes[node.id]
        status = node.status if node.status in STATUSES else None
        classes = f"node {status or 'none'}" + (" mapped" if node.mapped else "")
        text = escape(node.label)
        kind = escape(node.kind)
        tip = f"{text} ({kind})" if node.kind else str(text)
        if status:
            tip += f" · {status}"
        if node.title:
            tip += f"\n{escape(node.title)}"
        out.append(
            f'<g class="{classes}" data-node="{escape(node.id)}" '
            f'transform="translate({x:.0f} {y:.0f})"><title>{tip}</title>'
        )
        if node.mapped:
            out.append(
                f'<rect class="stack" x="5" y="-5" width="{width}" height="{height}" rx="6"/>'
            )
        if node.href is not None:
            out.append(f'<a href="{escape(node.href)}">')
        room = LABEL_CHARS if node.select is None else LABEL_CHARS - 3
        status_text = f" · {status.lower()}" if status else ""
        mapped_text = " · mapped" if node.mapped else ""
        out.append(
            f'<rect class="box" width="{width}" height="{height}" rx="6"/>'
            f'<text class="label" x="10" y="18">{escape(_short(node.label, room))}</text>'
            f'<text class="kind" x="10" y="35">{kind}{mapped_text}{status_text}</text>'
        )
        if node.href is not None:
            out.append("</a>")
        if node.select is not None:
            out.append(
                f'<g class="check" role="checkbox" tabindex="0" aria-checked="false" '
                f'aria-label="select {text}" data-select="{escape(node.select)}">'
                f'<rect x="{check_x}" y="6" width="14" height="14" rx="3"/>'
                f'<path class="tick" transform="translate({check_x} 3)" d="{_TICK}"/></g>'
            )
        out.append("</g>")
    out.append("</svg>")
    return Markup("".join(out))  # every user string above went through escape()
