"""Benchmark: 8 independent steps, each using 3 resources, under the in-process, multiprocess
and Dask executors. Two shapes: trivial steps, and steps that sleep 0.2 s. Wall time includes
starting the worker pool (forking the workers; for Dask, starting a 2-worker LocalCluster,
also shown separately against an already running cluster). "opens/worker" counts the
RESOURCE_OPEN events of each resource per worker process: 1 means once per run per worker.

Dagster's multiprocess executor, for comparison, took 18.2 s for 8 trivial assets on 2 cores
(a process per step, resources set up in every step).

Run: python benchmarks/bench_executors.py [--quick]
"""

from __future__ import annotations

import collections
import os
import sys
import tempfile
import time
from typing import Any

import outfitter as of
from outfitter._instance import EventType

WORKERS = 2
STEPS = 8


class Warehouse(of.ConfigurableResource):
    dsn: str = "warehouse://local"

    def setup_for_execution(self, context: Any) -> None:
        time.sleep(0.01)  # a connection handshake


class Cache(of.ConfigurableResource):
    size: int = 128


class Api(of.ConfigurableResource):
    url: str = "https://api.local"


def trivial(warehouse: Warehouse, cache: Cache, api: Api) -> int:
    return os.getpid()


def sleepy(warehouse: Warehouse, cache: Cache, api: Api) -> int:
    time.sleep(0.2)
    return os.getpid()


def assets(body: Any) -> list[of.AssetsDefinition]:
    return [of.asset(name=f"step_{i}")(body) for i in range(STEPS)]


RESOURCES = {"warehouse": Warehouse(), "cache": Cache(), "api": Api()}


def measure(body: Any, executor: Any, instance: of.Instance) -> tuple[float, str, int]:
    job = of.Definitions(
        assets=assets(body), resources=RESOURCES, executor=executor
    ).get_implicit_global_asset_job_def()
    start = time.perf_counter()
    result = job.execute(instance=instance)
    wall = time.perf_counter() - start
    assert result.success
    per_worker: dict[str, collections.Counter[str]] = collections.defaultdict(collections.Counter)
    for event in result.all_events:
        if event.event_type is EventType.RESOURCE_OPEN and event.resource_key != "io_manager":
            per_worker[event.message or "coordinator"][event.resource_key or ""] += 1
    counts = {n for c in per_worker.values() for n in c.values()}
    opens = "/".join(str(n) for n in sorted(counts))
    return wall, opens, len(per_worker)


def main() -> None:
    quick = "--quick" in sys.argv
    repeats = 1 if quick else 3
    executors: list[tuple[str, Any]] = [
        ("in_process", of.in_process_executor),
        ("multiprocess (2 workers)", of.multiprocess_executor(max_concurrent=WORKERS)),
        ("dask, new LocalCluster (2 workers)", of.dask_executor(n_workers=WORKERS)),
    ]
    cluster = None
    try:
        from distributed import LocalCluster

        cluster = LocalCluster(
            n_workers=WORKERS, threads_per_worker=1, processes=True, dashboard_address=":0"
        )
        executors.append(
            (
                "dask, running cluster (2 workers)",
                of.dask_executor(address=cluster.scheduler_address),
            )
        )
    except ImportError:
        executors = executors[:2]
        print("(dask extra not installed: Dask rows skipped)")
    print(f"{STEPS} independent steps, 3 resources each; best of {repeats} (wall time, seconds)")
    print(f"{'executor':<36} {'shape':<12} {'wall s':>8} {'processes':>9} {'opens/worker':>12}")
    with tempfile.TemporaryDirectory() as home, of.Instance.local(home) as instance:
        for name, executor in executors:
            for shape, body in (("trivial", trivial), ("sleep 0.2 s", sleepy)):
                runs = [measure(body, executor, instance) for _ in range(repeats)]
                wall, opens, workers = min(runs)
                print(f"{name:<36} {shape:<12} {wall:>8.3f} {workers:>9} {opens:>12}")
    if cluster is not None:
        cluster.close()


if __name__ == "__main__":  # Dask's worker processes import this module again
    main()
