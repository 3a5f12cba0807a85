"""Benchmark: defining a Prefect-1-style flow (the ``with Flow(...)`` block), for N tasks in
three shapes: a chain (each task feeds the next), a fan-out/fan-in (N tasks from one root into
one reducer, through a list of tasks) and a layered graph (each task fed by two of the layer
before). Building must be linear in the number of edges (issue 17: it re-sorted the whole flow
on every edge: 1,000 tasks 4.4 s, Prefect 1 0.64 s; target: 10,000 tasks in under 1 s).

The floor, measured in the same run: the same graph recorded in plain dicts (a node object per
task, an edge tuple per dependency, adjacency dicts both ways) with the cycle check a linear
builder needs (a walk from the new edge's downstream end), so the ratio is what the Flow API,
binding and validation cost over bare bookkeeping.

Run: python benchmarks/bench_flow_build.py [--quick] [--json]
"""

from __future__ import annotations

import gc
import json
import sys
import time
from collections.abc import Callable
from typing import Any

from outfitter import Flow, task


@task
def step(x: int) -> int:
    return x + 1


@task
def pair(a: int, b: int) -> int:
    return a + b


@task
def total(xs: list[int]) -> int:
    return sum(xs)


def chain(n: int) -> Flow:
    with Flow(f"chain-{n}") as flow:
        value: Any = 0
        for _ in range(n):
            value = step(value)
    return flow


def fan(n: int) -> Flow:
    with Flow(f"fan-{n}") as flow:
        root = step(0)
        total([step(root) for _ in range(n - 2)])
    return flow


def layered(n: int) -> Flow:
    width = 10
    with Flow(f"layers-{n}") as flow:
        layer: list[Any] = [step(i) for i in range(width)]
        made = width
        while made < n:
            layer = [pair(layer[i], layer[(i + 1) % width]) for i in range(width)]
            made += width
    return flow


class _Node:
    __slots__ = ("inputs", "name")

    def __init__(self, name: str) -> None:
        self.name = name
        self.inputs: dict[str, Any] = {}


def _floor(edges_of: Callable[[int], tuple[int, list[tuple[int, int]]]], n: int) -> float:
    """The plain-dict floor of one shape: N nodes, the same edges, adjacency both ways and
    a walk from each new edge's downstream end (what a linear cycle check visits)."""
    count, edges = edges_of(n)
    start = time.perf_counter()
    nodes = [_Node(f"t{i}") for i in range(count)]
    up: dict[_Node, list[tuple[_Node, _Node]]] = {node: [] for node in nodes}
    down: dict[_Node, list[tuple[_Node, _Node]]] = {node: [] for node in nodes}
    for a, b in edges:
        src, dst = nodes[a], nodes[b]
        stack, seen = [dst], {dst}
        while stack:  # nothing is downstream of a new node: as short as in the Flow
            for _, nxt in down[stack.pop()]:
                if nxt not in seen:
                    seen.add(nxt)
                    stack.append(nxt)
        edge = (src, dst)
        up[dst].append(edge)
        down[src].append(edge)
        dst.inputs["x"] = src
    return time.perf_counter() - start


def chain_edges(n: int) -> tuple[int, list[tuple[int, int]]]:
    return n, [(i, i + 1) for i in range(n - 1)]


def fan_edges(n: int) -> tuple[int, list[tuple[int, int]]]:
    middle = range(1, n - 1)
    return n, [(0, i) for i in middle] + [(i, n - 1) for i in middle]


def layered_edges(n: int) -> tuple[int, list[tuple[int, int]]]:
    width, edges = 10, []
    for base in range(width, n, width):
        for i in range(width):
            prev = base - width
            edges += [(prev + i, base + i), (prev + (i + 1) % width, base + i)]
    return n, edges


SHAPES: dict[str, tuple[Callable[[int], Flow], Callable[[int], Any]]] = {
    "chain": (chain, chain_edges),
    "fan-out/fan-in": (fan, fan_edges),
    "layered (2 inputs each)": (layered, layered_edges),
}


def best(fn: Callable[[], float], repeat: int) -> float:
    return min(fn() for _ in range(repeat))


def timed_build(build: Callable[[int], Flow], n: int) -> float:
    gc.collect()
    start = time.perf_counter()
    flow = build(n)
    elapsed = time.perf_counter() - start
    assert len(flow.tasks) >= n - 1
    return elapsed


def main() -> None:
    sizes = [100, 1_000, 10_000] if "--quick" in sys.argv else [100, 1_000, 10_000, 50_000]
    results: dict[str, dict[int, dict[str, float]]] = {}
    chain(10)  # first use in the process: lazy imports, class caches
    for label, (build, edges_of) in SHAPES.items():
        results[label] = {}
        for n in sizes:
            repeat = 3 if n <= 10_000 else 1
            built = best(lambda b=build, k=n: timed_build(b, k), repeat)  # type: ignore[misc]
            floor = best(lambda e=edges_of, k=n: _floor(e, k), repeat)  # type: ignore[misc]
            results[label][n] = {"build_s": built, "floor_s": floor, "ratio": built / floor}
    if "--json" in sys.argv:
        print(json.dumps(results, indent=2))
        return
    print("| shape | N tasks | build (ms) | per task (µs) | floor (ms) | build / floor |")
    print("| --- | ---: | ---: | ---: | ---: | ---: |")
    for label, by_size in results.items():
        for n, row in by_size.items():
            print(
                f"| {label} | {n:,} | {row['build_s'] * 1e3:.1f} | "
                f"{row['build_s'] / n * 1e6:.1f} | {row['floor_s'] * 1e3:.2f} | "
                f"{row['ratio']:.0f}x |"
            )
    big = results["chain"][10_000]["build_s"]
    print()
    print(f"10,000 chained tasks defined in {big:.2f} s (target < 1 s; Prefect 1: 1,000 in 0.64 s)")
    # linear: per-task time at the largest N within 2x of the per-task time at N=1,000
    for label, by_size in results.items():
        small, large = by_size[1_000], by_size[max(sizes)]
        growth = (large["build_s"] / max(sizes)) / (small["build_s"] / 1_000)
        print(f"{label}: per-task cost at N={max(sizes):,} vs N=1,000: {growth:.2f}x")


if __name__ == "__main__":
    main()
