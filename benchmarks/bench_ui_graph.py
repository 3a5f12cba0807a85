"""Benchmark: draw the asset graph of 1,000 assets, and serve the Definitions page showing it.

The graph: 1,000 assets, each after the first ten depending on one to three of the 60 before it
(seeded), so the layout has long edges to route and crossings to reduce. Workloads: the SVG
alone (:func:`outfitter.ui.graph_svg.render_svg`: layout and markup; again with the layout of
the shape kept, as when the page is drawn again with new statuses), the layout alone, and
``GET /definitions`` through Starlette's TestClient over a local instance holding one recorded
run of every asset (routing, middleware, the handler in the thread pool, the statuses, Jinja).
Floors measured in the same run: the least any drawing does (the topological sort, one
formatted string per node and per edge), the page's status reads alone (a finished run's step
statuses are read from its events once, then kept), and a trivial Starlette route through the
same client. Each figure is the median of alternated rounds (every workload once per round, in
turn). Target: under 200 ms on the 2-core machine.

Run: python benchmarks/bench_ui_graph.py [--quick] [--json]
"""

from __future__ import annotations

import json
import os
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from markupsafe import escape
from starlette.responses import PlainTextResponse
from starlette.routing import Route
from starlette.testclient import TestClient

from outfitter import Instance
from outfitter._graph import toposort
from outfitter.ui import Workspace, create_app
from outfitter.ui.definitions import asset_job_names, latest_step_states
from outfitter.ui.graph_svg import Node, layout, render_svg

ASSETS = 1_000
ORIGIN = "http://127.0.0.1:3000"
DEFS = f"""import random

import outfitter as of

rng = random.Random(7)
assets = []
for i in range({ASSETS}):
    picks = rng.sample(range(max(0, i - 60), i), k=min(i, rng.randint(1, 3))) if i >= 10 else []

    def fn() -> None:
        return None

    assets.append(of.asset(name=f"asset_{{i}}", deps=[f"asset_{{j}}" for j in picks])(fn))

defs = of.Definitions(assets=assets)
"""


def graph() -> tuple[list[Node], list[tuple[str, str]]]:
    """The same shape as ``DEFS``, as graph_svg nodes with statuses, links and checkboxes."""
    rng = random.Random(7)
    nodes, edges = [], []
    statuses = ["SUCCESS", "SUCCESS", "FAILURE", "SKIPPED", None]
    for i in range(ASSETS):
        name = f"asset_{i}"
        status = statuses[i % len(statuses)]
        href = None if status is None else f"/runs/{i:032x}"
        nodes.append(Node(name, name, kind="asset", status=status, href=href, select=name))
        picks = rng.sample(range(max(0, i - 60), i), k=min(i, rng.randint(1, 3))) if i >= 10 else []
        edges += [(f"asset_{j}", name) for j in picks]
    return nodes, edges


def floor(nodes: list[Node], edges: list[tuple[str, str]]) -> str:
    """The least a drawing does: order the nodes, and one escaped string per node and edge."""
    ups: dict[str, list[str]] = {n.id: [] for n in nodes}
    for a, b in edges:
        ups[b].append(a)
    order = toposort(ups)
    parts = [
        f'<rect x="{i}" y="0" width="184" height="44"/>{escape(k)}' for i, k in enumerate(order)
    ]
    parts += [f'<path d="M{a} {b}"/>' for a, b in edges]
    return "".join(parts)


def median_ms(workloads: dict[str, Callable[[], object]], rounds: int) -> dict[str, float]:
    times: dict[str, list[float]] = {name: [] for name in workloads}
    for fn in workloads.values():  # warm up: templates compiled, SQLite pages cached
        fn()
    for _ in range(rounds):
        for name, fn in workloads.items():
            start = time.perf_counter()
            fn()
            times[name].append((time.perf_counter() - start) * 1e3)
    return {name: statistics.median(values) for name, values in times.items()}


def main() -> None:
    os.environ.setdefault("OUTFITTER_LOG_LEVEL", "WARNING")
    quick = "--quick" in sys.argv
    rounds = 5 if quick else 21
    nodes, edges = graph()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "defs.py"
        path.write_text(DEFS)
        with Instance.local(Path(tmp) / "home") as instance:
            workspace = Workspace(file=path)
            defs = workspace.current.defs
            assert defs is not None, workspace.problems
            job = defs.get_implicit_global_asset_job_def()
            assert job.execute_in_process(instance=instance).success
            app = create_app(workspace, instance)

            async def hello(request: object) -> PlainTextResponse:
                return PlainTextResponse("ok")

            app.router.routes.append(Route("/bench-floor", hello))
            client = TestClient(app, base_url=ORIGIN, headers={"origin": ORIGIN})

            def get(url: str) -> Callable[[], object]:
                def call() -> object:
                    response = client.get(url)
                    assert response.status_code == 200, (url, response.status_code)
                    return response

                return call

            names = asset_job_names(defs)
            keys = job.graph.keys()

            def statuses() -> object:
                return latest_step_states(instance, names, keys)

            results = median_ms(
                {
                    "svg_ms": lambda: render_svg(nodes, edges, cache=False),
                    "svg_cached_layout_ms": lambda: render_svg(nodes, edges),
                    "layout_ms": lambda: layout(nodes, edges),
                    "drawing_floor_ms": lambda: floor(nodes, edges),
                    "page_ms": get("/definitions"),
                    "statuses_ms": statuses,
                    "starlette_floor_ms": get("/bench-floor"),
                },
                rounds,
            )
            page = client.get("/definitions").text
            assert page.count('<g class="node SUCCESS"') == ASSETS
            results["svg_kib"] = len(render_svg(nodes, edges, cache=False)) / 1024
            results["page_kib"] = len(page) / 1024
            client.close()
    results["svg_over_floor"] = results["svg_ms"] / results["drawing_floor_ms"]
    results["page_over_floor"] = results["page_ms"] / results["starlette_floor_ms"]
    if "--json" in sys.argv:
        print(json.dumps(results, indent=2))
        return
    print(f"the graph of {ASSETS:,} assets (median of {rounds} alternated rounds, milliseconds)")
    labels = {
        "svg_ms": "render_svg: layout + escaped SVG markup",
        "svg_cached_layout_ms": "render_svg, the layout of this shape kept (new statuses)",
        "layout_ms": "layout alone (layers, sweeps, coordinates, routes)",
        "drawing_floor_ms": "floor: toposort + one escaped string per node and edge",
        "page_ms": "GET /definitions (1,000 assets, statuses of one recorded run, warm)",
        "statuses_ms": "floor: the page's status reads alone",
        "starlette_floor_ms": "floor: a trivial route through the same client",
    }
    print("| workload | ms |")
    print("| --- | ---: |")
    for name, label in labels.items():
        print(f"| {label} | {results[name]:.2f} |")
    print(
        f"SVG / drawing floor: {results['svg_over_floor']:.1f}x; page / trivial route: "
        f"{results['page_over_floor']:.1f}x; SVG {results['svg_kib']:.0f} KiB, page "
        f"{results['page_kib']:.0f} KiB; target < 200 ms"
    )


if __name__ == "__main__":
    main()
