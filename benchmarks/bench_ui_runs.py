"""Benchmark: render the UI's runs list with 10,000 runs in a local (file, WAL) instance.

Pages: the first page, a page filtered by status and job, and a deep page (page 150, offset
7,450), each through Starlette's TestClient (routing, middleware, the handler in the thread
pool, Jinja rendering). Floors measured in the same run: the instance queries the page makes
(a page of runs, the count, the job names) called directly, and a trivial Starlette route
through the same client. Each figure is the median of alternated rounds (every workload once
per round, in turn), so drift affects them alike. Target: under 200 ms on the 2-core machine.

Run: python benchmarks/bench_ui_runs.py [--quick] [--json]
"""

from __future__ import annotations

import json
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path

from starlette.responses import PlainTextResponse
from starlette.routing import Route
from starlette.testclient import TestClient

from outfitter import Instance
from outfitter._instance import RunStatus
from outfitter.ui import Workspace, create_app

RUNS = 10_000
JOBS = 20
ORIGIN = "http://127.0.0.1:3000"
DEFS = """import outfitter as of

@of.asset
def a() -> int:
    return 1

defs = of.Definitions(assets=[a])
"""
STATUSES = [RunStatus.SUCCESS] * 8 + [RunStatus.FAILURE, RunStatus.CANCELED]


def fill(instance: Instance, n: int) -> None:
    """``n`` finished runs over ``JOBS`` jobs, written in one transaction."""
    now = time.time() - n
    rows = []
    for i in range(n):
        start = now + i
        rows.append(
            (
                uuid.uuid4().hex,
                f"job_{i % JOBS}",
                STATUSES[i % len(STATUSES)].value,
                start,
                start,
                start + 0.5 + (i % 7),
                json.dumps({"team": "data", "n": str(i)}),
                json.dumps({"ops": {"a": {"config": {"n": i}}}}),
            )
        )
    with instance._conn:
        instance._conn.executemany(
            "insert into runs (run_id, job_name, status, created_time, start_time, end_time, "
            "tags, run_config) values (?, ?, ?, ?, ?, ?, ?, ?)",
            rows,
        )


def median_ms(workloads: dict[str, Callable[[], object]], rounds: int) -> dict[str, float]:
    times: dict[str, list[float]] = {name: [] for name in workloads}
    for fn in workloads.values():  # warm up: templates compiled, pages cached by SQLite
        fn()
    for _ in range(rounds):
        for name, fn in workloads.items():
            start = time.perf_counter()
            fn()
            times[name].append((time.perf_counter() - start) * 1e3)
    return {name: statistics.median(values) for name, values in times.items()}


def main() -> None:
    quick = "--quick" in sys.argv
    rounds = 5 if quick else 25
    with tempfile.TemporaryDirectory() as tmp:
        defs = Path(tmp) / "defs.py"
        defs.write_text(DEFS)
        with Instance.local(Path(tmp) / "home") as instance:
            fill(instance, RUNS)
            app = create_app(Workspace(file=defs), instance)

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

            def queries() -> object:
                runs = instance.get_runs(limit=50, offset=0)
                return runs, instance.count_runs(), instance.job_names()

            def filtered_queries() -> object:
                runs = instance.get_runs(limit=50, status=RunStatus.FAILURE, job_name="job_8")
                return runs, instance.count_runs(status=RunStatus.FAILURE, job_name="job_8")

            results = median_ms(
                {
                    "first_page_ms": get("/runs"),
                    "filtered_page_ms": get("/runs?status=FAILURE&job=job_8"),
                    "deep_page_ms": get("/runs?page=150"),
                    "instance_queries_ms": queries,
                    "instance_filtered_queries_ms": filtered_queries,
                    "starlette_floor_ms": get("/bench-floor"),
                },
                rounds,
            )
            page = client.get("/runs").text
            assert page.count('class="badge ') == 50
            client.close()
    results["first_page_over_floor"] = results["first_page_ms"] / results["starlette_floor_ms"]
    if "--json" in sys.argv:
        print(json.dumps(results, indent=2))
        return
    print(f"/runs with {RUNS:,} runs (median of {rounds} alternated rounds, milliseconds)")
    labels = {
        "first_page_ms": "first page (50 runs)",
        "filtered_page_ms": "filtered page (status + job)",
        "deep_page_ms": "page 150 (offset 7,450)",
        "instance_queries_ms": "floor: the first page's instance queries alone",
        "instance_filtered_queries_ms": "floor: the filtered page's instance queries alone",
        "starlette_floor_ms": "floor: a trivial route through the same client",
    }
    print("| workload | ms |")
    print("| --- | ---: |")
    for name, label in labels.items():
        print(f"| {label} | {results[name]:.2f} |")
    print(f"first page / trivial route: {results['first_page_over_floor']:.1f}x; target < 200 ms")


if __name__ == "__main__":
    main()
