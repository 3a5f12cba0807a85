"""Benchmark: a chain of N tasks inside a resource-manager block, run with ``flow.run()`` and
recorded in an ephemeral instance. Per-task overhead = (run(N) - run(1)) / (N - 1).

Prefect 1 measured ~7.7 ms per task at N=100 and ~40 ms at N=1000 for this shape.

Run: python benchmarks/bench_flow.py [--quick]
"""

from __future__ import annotations

import gc
import sys
import time
from typing import Any

import outfitter as of
from outfitter import Flow, resource_manager, task


@resource_manager
class Session:
    def setup(self) -> dict[str, int]:
        return {"n": 0}

    def cleanup(self, session: dict[str, int]) -> None:
        session.clear()


@task
def step(prev: int, session: Any) -> int:
    return prev + 1


def chain(n: int) -> Flow:
    with Flow(f"chain-{n}") as flow, Session() as session:
        value: Any = 0
        for _ in range(n):
            value = step(value, session)
    return flow


def run(flow: Flow) -> float:
    with of.Instance.ephemeral() as instance:
        gc.collect()
        start = time.perf_counter()
        state = flow.run(instance=instance)
        elapsed = time.perf_counter() - start
    assert state.is_successful()
    return elapsed


def main() -> None:
    sizes = [1, 10, 100, 1000] if "--quick" in sys.argv else [1, 10, 100, 1000, 10_000]
    runs = {n: min(run(chain(n)) for _ in range(3 if n < 10_000 else 1)) for n in sizes}
    print("| N tasks | run (ms) | per task (µs) |")
    print("| ---: | ---: | ---: |")
    for n in sizes:
        per = f"{(runs[n] - runs[1]) / (n - 1) * 1e6:.1f}" if n > 1 else "-"
        print(f"| {n:,} | {runs[n] * 1e3:.2f} | {per} |")


if __name__ == "__main__":
    main()
