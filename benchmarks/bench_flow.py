"""Benchmark: a chain of N tasks inside a resource-manager block, run with ``flow.run()`` and
recorded in an ephemeral instance. Per-task overhead = (run(N) - run(1)) / (N - 1).

Like ``bench_chain.py``'s job (built once, as a code location builds its Definitions), the flow
is built once and run several times: "run" is the best of the later runs; "first run" includes
compiling the flow for the engine (its NodeSpecs), which happens once per shape of a flow.
"build" is the time to define the flow (the ``with Flow(...)`` block).

Prefect 1 measured ~7.7 ms per task at N=100 and ~40 ms at N=1000 for this shape.

Run: python benchmarks/bench_flow.py [--quick]
"""

from __future__ import annotations

import gc
import os
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
    # the engine, not the console: at the default INFO a flow task prints Prefect 1's two
    # progress lines (docs/logging.md); set OUTFITTER_LOG_LEVEL yourself to measure them
    os.environ.setdefault("OUTFITTER_LOG_LEVEL", "WARNING")
    sizes = [1, 10, 100, 1000] if "--quick" in sys.argv else [1, 10, 100, 1000, 10_000]
    build: dict[int, float] = {}
    first: dict[int, float] = {}
    warm: dict[int, float] = {}
    run(chain(2))  # first use in the process: lazy imports, class caches
    for n in sizes:
        gc.collect()
        start = time.perf_counter()
        flow = chain(n)
        build[n] = time.perf_counter() - start
        first[n] = run(flow)
        warm[n] = min(run(flow) for _ in range(3 if n < 10_000 else 1))

    def per(times: dict[int, float], n: int) -> str:
        return f"{(times[n] - times[1]) / (n - 1) * 1e6:.1f}" if n > 1 else "-"

    print(
        "| N tasks | build (ms) | first run (ms) | run (ms) | per task, first run (µs) "
        "| per task, run (µs) |"
    )
    print("| ---: | ---: | ---: | ---: | ---: | ---: |")
    for n in sizes:
        print(
            f"| {n:,} | {build[n] * 1e3:.2f} | {first[n] * 1e3:.2f} | {warm[n] * 1e3:.2f} "
            f"| {per(first, n)} | {per(warm, n)} |"
        )


if __name__ == "__main__":
    main()
