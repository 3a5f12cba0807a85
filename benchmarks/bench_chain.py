"""Benchmark: a chain of N assets, each receiving three resources, run in process with events
recorded in an ephemeral instance.

Resources: ``Db`` (setup/teardown and a config field), ``Client`` (nested on ``Db``) and
``Session`` (``yield_for_execution``). Each step calls a method on each of the three, and each
method reads a private attribute (``PrivateAttr``), as resource code does. Per-step overhead =
(run(N) - run(1)) / (N - 1), compared with the plain-Python floor: the same step functions
called by hand with the same resources. ``bench_run_path.py`` reuses this workload for its
ratios to floors.

Run: python benchmarks/bench_chain.py [--quick] [--json]
"""

from __future__ import annotations

import contextlib
import gc
import json
import os
import resource
import subprocess
import sys
import time
from collections.abc import Iterator
from typing import Any

from pydantic import PrivateAttr

import outfitter as of


class Db(of.ConfigurableResource):
    url: str
    _conn: dict[str, Any] | None = PrivateAttr(default=None)

    def setup_for_execution(self, context: Any) -> None:
        self._conn = {"url": self.url}

    def teardown_after_execution(self, context: Any) -> None:
        self._conn = None

    def query(self) -> dict[str, Any] | None:
        return self._conn


class Client(of.ConfigurableResource):
    db: Db
    _calls: int = PrivateAttr(default=0)

    def calls(self) -> int:
        return self._calls


class Session(of.ConfigurableResource):
    _open: bool = PrivateAttr(default=False)

    @contextlib.contextmanager
    def yield_for_execution(self, context: Any) -> Iterator[Session]:
        self._open = True
        yield self
        self._open = False

    def is_open(self) -> bool:
        return self._open


def first(db: Db, client: Client, session: Session) -> int:
    db.query()
    client.calls()
    session.is_open()
    return 0


def step(prev: int, db: Db, client: Client, session: Session) -> int:
    db.query()
    client.calls()
    session.is_open()
    return prev + 1


def chain(n: int) -> list[of.AssetsDefinition]:
    assets = [of.asset(name="a0")(first)]
    for i in range(1, n):
        assets.append(of.asset(name=f"a{i}", ins={"prev": of.AssetIn(f"a{i - 1}")})(step))
    return assets


def resources() -> dict[str, Any]:
    db = Db(url="sqlite://")
    return {"db": db, "client": Client(db=db), "session": Session()}


def job_of(assets: list[of.AssetsDefinition]) -> Any:
    """The asset job, built once as a code location does when it loads its Definitions."""
    res = {**resources(), "io_manager": of.InMemoryIOManager()}
    return of.Definitions(assets=assets, resources=res).get_implicit_global_asset_job_def()


def run(job: Any) -> float:
    """One run of the job, with its events recorded in an ephemeral instance."""
    with of.Instance.ephemeral() as instance:
        gc.collect()
        start = time.perf_counter()
        result = job.execute_in_process(instance=instance)
        elapsed = time.perf_counter() - start
    assert result.success
    return elapsed


def run_materialize(assets: list[of.AssetsDefinition]) -> float:
    """materialize_to_memory() on assets it has not seen: the graph is planned inside the call
    (later calls over the same assets reuse the plan, as a job does)."""
    from outfitter._definitions import selection

    selection._GRAPHS.clear()
    with of.Instance.ephemeral() as instance:
        gc.collect()
        start = time.perf_counter()
        result = of.materialize_to_memory(assets, resources=resources(), instance=instance)
        elapsed = time.perf_counter() - start
    assert result.success
    return elapsed


def plain(n: int) -> float:
    """The floor: the same step functions called by hand with resources opened by hand."""
    db = Db(url="sqlite://")
    client, session = Client(db=db), Session()
    start = time.perf_counter()
    db.setup_for_execution(None)
    with session.yield_for_execution(None):
        value = first(db, client, session)
        for _ in range(n - 1):
            value = step(value, db, client, session)
    db.teardown_after_execution(None)
    return time.perf_counter() - start


def best(fn: Any, *args: Any, repeat: int = 3) -> float:
    return min(fn(*args) for _ in range(repeat))


def import_time() -> float:
    code = "import time; t=time.perf_counter(); import outfitter; print(time.perf_counter()-t)"
    runs = [float(subprocess.check_output([sys.executable, "-c", code])) for _ in range(3)]
    return min(runs)


def peak_rss_mib(n: int) -> float:
    code = (
        "import sys, resource; sys.path.insert(0, 'benchmarks'); import bench_chain as b; "
        f"b.run(b.job_of(b.chain({n}))); "
        # VmHWM is reset by exec (ru_maxrss would include the forking parent's footprint)
        "print(int([l for l in open('/proc/self/status') if l.startswith('VmHWM')][0]"
        ".split()[1]) / 1024)"
    )
    return float(subprocess.check_output([sys.executable, "-c", code]))


def main() -> None:
    # the engine, not the console: at the default INFO a flow task prints Prefect 1's two
    # progress lines (docs/logging.md); set OUTFITTER_LOG_LEVEL yourself to measure them
    os.environ.setdefault("OUTFITTER_LOG_LEVEL", "WARNING")
    quick = "--quick" in sys.argv
    sizes = [1, 10, 100, 1000] if quick else [1, 10, 100, 1000, 100_000]
    runs: dict[int, float] = {}
    planned: dict[int, float] = {}
    for n in sizes:
        assets = chain(n)
        repeat = 1 if n >= 100_000 else 3
        runs[n] = best(run, job_of(assets), repeat=repeat)
        planned[n] = best(run_materialize, assets, repeat=repeat)
    floor = {n: best(plain, n) for n in sizes}
    big = max(sizes)
    per_step = (runs[big] - runs[1]) / (big - 1) * 1e6
    floor_step = (floor[big] - floor[1]) / (big - 1) * 1e6
    results = {
        "run_seconds": runs,
        "materialize_seconds": planned,
        "per_step_us": per_step,
        "plain_per_step_us": floor_step,
        "per_run_fixed_ms": runs[1] * 1e3,
        "import_ms": import_time() * 1e3,
        "peak_rss_mib_n1000": peak_rss_mib(1000),
        "rusage_self_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }
    if "--json" in sys.argv:
        print(json.dumps(results, indent=2))
        return
    print(
        "| N | job run (ms) | per step (µs) | materialize() incl. planning (ms) | per step (µs) |"
    )
    print("| ---: | ---: | ---: | ---: | ---: |")
    for n in sizes:
        step = f"{(runs[n] - runs[1]) / (n - 1) * 1e6:.1f}" if n > 1 else "-"
        pstep = f"{(planned[n] - planned[1]) / (n - 1) * 1e6:.1f}" if n > 1 else "-"
        print(f"| {n:,} | {runs[n] * 1e3:.2f} | {step} | {planned[n] * 1e3:.2f} | {pstep} |")
    print()
    print(f"per-step overhead (N={big:,}): {per_step:.1f} µs; plain Python: {floor_step:.2f} µs")
    print(f"per-run fixed cost (N=1): {runs[1] * 1e3:.2f} ms")
    print(f"import outfitter: {results['import_ms']:.0f} ms")
    print(f"peak RSS at N=1000: {results['peak_rss_mib_n1000']:.0f} MiB")


if __name__ == "__main__":
    main()
