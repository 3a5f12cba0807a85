"""Benchmark: the run path per step, as ratios to floors measured in the same run (issue 17).

The workload is ``bench_chain.py``'s: a chain of N assets, each step calling a method on three
resources (``Db`` with setup/teardown and a config field, ``Client`` nested on ``Db``,
``Session`` with ``yield_for_execution``) that reads a private attribute. Rows:

- a pre-built job (``Definitions(...).get_implicit_global_asset_job_def()``) with the
  in-memory I/O manager, every event recorded in an instance;
- ``materialize_to_memory(assets, resources=...)`` as a test calls it (no instance: it makes
  its own, and the result's events are decoded only when read);
- ``materialize(...)`` with a ``FilesystemIOManager``: one pickle file written per step and
  one read per input, as in Dagster;
- ``Flow.run`` of a chain of tasks inside three ``resource_manager`` blocks, each task using
  the three managers' resources;
- ``materialize_to_memory(selection=AssetSelection.assets("a0"))`` over N defined assets: the
  cost per defined but unselected asset (the plan is cached per asset set and selection).

Floors, measured in the same rounds: plain Python (the same step functions called by hand with
the same resources opened by hand); dependency-injector (one ``providers.Factory`` per step
injecting the three resources, called with the upstream value, as a DI container would run the
chain); and for the filesystem row the same plain steps plus what each step must do on disk:
one atomic small-file write (pickle, a new temporary file, ``os.replace``) and one small-file
read of its input, in the same directory.

Per step = (median of run(N) - median of run(1)) / (N - 1), over alternated rounds (every
workload once per round, in turn), so a loaded machine hits every row alike.

Run: python benchmarks/bench_run_path.py [--quick] [--json]
"""

from __future__ import annotations

import gc
import json
import os
import pickle
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from typing import Any

from bench_chain import Client, Db, Session, chain, first, resources, step
from dependency_injector import containers, providers

import outfitter as of
from outfitter import Flow, resource_manager, task


def job_workload(n: int, instance: of.Instance) -> Callable[[], Any]:
    assets = chain(n)
    bound = {**resources(), "io_manager": of.InMemoryIOManager()}
    job = of.Definitions(assets=assets, resources=bound).get_implicit_global_asset_job_def()
    return lambda: job.execute_in_process(instance=instance)


def memory_workload(n: int) -> Callable[[], Any]:
    assets, bound = chain(n), resources()
    return lambda: of.materialize_to_memory(assets, resources=bound)


def filesystem_workload(n: int, base_dir: str) -> Callable[[], Any]:
    assets = chain(n)
    bound = {**resources(), "io_manager": of.FilesystemIOManager(base_dir=base_dir)}
    return lambda: of.materialize(assets, resources=bound)


def selection_workload(n: int, instance: of.Instance) -> Callable[[], Any]:
    assets, bound = chain(n), resources()
    picked = of.AssetSelection.assets("a0")
    return lambda: of.materialize_to_memory(
        assets, resources=bound, instance=instance, selection=picked
    )


@resource_manager
class Handle:
    """A Prefect 1 resource manager: setup returns the value tasks use, cleanup closes it."""

    def __init__(self, name: str) -> None:
        self.name = name

    def setup(self) -> dict[str, Any]:
        return {"name": self.name, "open": True}

    def cleanup(self, handle: dict[str, Any]) -> None:
        handle["open"] = False


@task
def flow_step(prev: int, a: dict[str, Any], b: dict[str, Any], c: dict[str, Any]) -> int:
    a.get("open")
    b.get("open")
    c.get("open")
    return prev + 1


def flow_workload(n: int, instance: of.Instance) -> Callable[[], Any]:
    with Flow(f"chain-{n}") as flow, Handle("a") as a, Handle("b") as b, Handle("c") as c:
        value: Any = 0
        for _ in range(n):
            value = flow_step(value, a, b, c)
    return lambda: flow.run(instance=instance)


def plain_floor(n: int) -> Callable[[], Any]:
    def run() -> int:
        db = Db(url="sqlite://")
        client, session = Client(db=db), Session()
        db.setup_for_execution(None)
        with session.yield_for_execution(None):
            value = first(db, client, session)
            for _ in range(n - 1):
                value = step(value, db, client, session)
        db.teardown_after_execution(None)
        return value

    return run


def di_floor(n: int) -> Callable[[], Any]:
    """One dependency-injector Factory per step, injecting the three resources (Singleton
    providers, as a DI container holds shared clients)."""

    class Container(containers.DeclarativeContainer):
        db_ = providers.Singleton(Db, url="sqlite://")
        client = providers.Singleton(Client, db=db_)
        session = providers.Singleton(Session)

    c = Container()
    db = c.db_()
    head = providers.Factory(first, db=c.db_, client=c.client, session=c.session)
    steps = [
        providers.Factory(step, db=c.db_, client=c.client, session=c.session) for _ in range(n - 1)
    ]

    def run() -> int:
        db.setup_for_execution(None)
        with c.session().yield_for_execution(None):
            value = head()
            for factory in steps:
                value = factory(prev=value)
        db.teardown_after_execution(None)
        return value

    return run


_OPEN_NEW = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0)


def disk_floor(n: int, base_dir: str) -> Callable[[], Any]:
    """The plain steps plus what each must do on disk: pickle its output and write it
    atomically (a new temporary file, then ``os.replace``), and read its input's file."""
    counter = iter(range(10**12))

    def write(path: str, value: Any) -> None:
        tmp = f"{base_dir}/.tmp-floor-{next(counter)}"
        fd = os.open(tmp, _OPEN_NEW, 0o600)
        os.write(fd, pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL))
        os.close(fd)
        os.replace(tmp, path)

    def read(path: str) -> Any:
        with open(path, "rb") as f:
            return pickle.load(f)

    def run() -> int:
        db = Db(url="sqlite://")
        client, session = Client(db=db), Session()
        db.setup_for_execution(None)
        with session.yield_for_execution(None):
            value = first(db, client, session)
            write(f"{base_dir}/f0", value)
            for i in range(1, n):
                value = step(read(f"{base_dir}/f{i - 1}"), db, client, session)
                write(f"{base_dir}/f{i}", value)
        db.teardown_after_execution(None)
        return value

    return run


def medians(workloads: dict[str, Callable[[], Any]], rounds: int) -> dict[str, float]:
    times: dict[str, list[float]] = {name: [] for name in workloads}
    for fn in workloads.values():  # warm up: lazy imports, cached plans, SQLite pages
        fn()
    for _ in range(rounds):
        for name, fn in workloads.items():
            gc.collect()
            start = time.perf_counter()
            fn()
            times[name].append(time.perf_counter() - start)
    return {name: statistics.median(values) for name, values in times.items()}


ROWS = {
    "job": "pre-built job, in-memory I/O, every event recorded",
    "memory": "`materialize_to_memory` (its own instance)",
    "filesystem": "`materialize`, `FilesystemIOManager` (write + read per step)",
    "flow": "`Flow.run`, 3 resource managers",
    "plain": "floor: plain Python (same step functions, resources by hand)",
    "di": "floor: dependency-injector `Factory` per step",
    "disk": "floor: plain Python + one atomic small-file write and one read per step",
}


def main() -> None:
    os.environ.setdefault("OUTFITTER_LOG_LEVEL", "WARNING")  # the engine, not the console
    quick = "--quick" in sys.argv
    n, n_disk = 1000, 300
    rounds = 5 if quick else 11
    with tempfile.TemporaryDirectory() as tmp, of.Instance.ephemeral() as instance:
        fs_dir, floor_dir = os.path.join(tmp, "io"), os.path.join(tmp, "floor")
        os.makedirs(floor_dir)
        sizes = {name: (n_disk if name in ("filesystem", "disk") else n) for name in ROWS}
        builders: dict[str, Callable[[int], Callable[[], Any]]] = {
            "job": lambda k: job_workload(k, instance),
            "memory": memory_workload,
            "filesystem": lambda k: filesystem_workload(k, fs_dir),
            "flow": lambda k: flow_workload(k, instance),
            "plain": plain_floor,
            "di": di_floor,
            "disk": lambda k: disk_floor(k, floor_dir),
            "selection": lambda k: selection_workload(k, instance),
        }
        workloads = {}
        for name, build in builders.items():
            big = sizes.get(name, n)
            workloads[f"{name}@{big}"] = build(big)
            workloads[f"{name}@1"] = build(1)
        timed = medians(workloads, rounds)
    per_step = {
        name: (timed[f"{name}@{sizes.get(name, n)}"] - timed[f"{name}@1"])
        / (sizes.get(name, n) - 1)
        * 1e6
        for name in builders
    }
    results: dict[str, Any] = {
        "per_step_us": per_step,
        "unselected_asset_us": per_step.pop("selection"),
        "ratios": {
            "job/di": per_step["job"] / per_step["di"],
            "job/plain": per_step["job"] / per_step["plain"],
            "memory/job": per_step["memory"] / per_step["job"],
            "filesystem/disk": per_step["filesystem"] / per_step["disk"],
            "flow/di": per_step["flow"] / per_step["di"],
        },
        "fixed_ms": {name: timed[f"{name}@1"] * 1e3 for name in ROWS},
        "rounds": rounds,
        "n": n,
        "n_disk": n_disk,
    }
    if "--json" in sys.argv:
        print(json.dumps(results, indent=2))
        return
    ratio_of = {
        "job": "job/di",
        "memory": "memory/job",
        "filesystem": "filesystem/disk",
        "flow": "flow/di",
    }
    targets = {"job/di": "≤ 2x", "memory/job": "≤ 1.5x", "filesystem/disk": "≤ 1.5x"}
    print(
        f"per step (µs), chain of {n:,} ({n_disk:,} on disk) resource-touching steps; "
        f"median of {rounds} alternated rounds"
    )
    print("| path | µs per step | ratio | target | run of 1 step (ms) |")
    print("| --- | ---: | ---: | ---: | ---: |")
    for name, label in ROWS.items():
        key = ratio_of.get(name)
        ratio = f"{results['ratios'][key]:.2f}x {key.split('/')[1]}" if key else ""
        target = targets.get(key or "", "")
        print(
            f"| {label} | {per_step[name]:.1f} | {ratio} | {target} | "
            f"{results['fixed_ms'][name]:.2f} |"
        )
    print(
        f"defined but unselected asset (selection of 1 of {n:,}): "
        f"{results['unselected_asset_us']:.2f} µs each"
    )


if __name__ == "__main__":
    main()
