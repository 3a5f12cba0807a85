"""Run every benchmark of this directory and print a summary table (issue 17).

Each benchmark runs in its own process with ``--quick`` (fewer sizes and rounds) and, where it
has one, ``--json``; the summary keeps the headline figure of each, and ``--full`` prints every
benchmark's own table after it. Together they take under five minutes on the 2-core machine.
Numbers are medians of alternated runs (or the best of a few where a benchmark says so); on a
shared, loaded machine compare the ratios to the floors each benchmark measures in the same run,
not the absolute times.

Run: python benchmarks/run_all.py [--full]
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent


def _run_path(data: dict[str, Any]) -> list[tuple[str, str]]:
    us, ratios = data["per_step_us"], data["ratios"]
    return [
        ("pre-built job, in-memory, per step", f"{us['job']:.1f} µs = {ratios['job/di']:.1f}x DI"),
        (
            "materialize_to_memory, per step",
            f"{us['memory']:.1f} µs = {ratios['memory/job']:.2f}x job",
        ),
        (
            "materialize, filesystem I/O, per step",
            f"{us['filesystem']:.0f} µs = {ratios['filesystem/disk']:.2f}x disk floor",
        ),
        (
            "Flow.run, 3 resource managers, per task",
            f"{us['flow']:.1f} µs = {ratios['flow/di']:.1f}x DI",
        ),
        (
            "floors: plain / DI Factory / disk, per step",
            f"{us['plain']:.2f} / {us['di']:.2f} / {us['disk']:.0f} µs",
        ),
        ("defined but unselected asset", f"{data['unselected_asset_us']:.2f} µs"),
    ]


def _chain(data: dict[str, Any]) -> list[tuple[str, str]]:
    return [
        (
            "chain job, per step (best of 3)",
            f"{data['per_step_us']:.1f} µs (plain {data['plain_per_step_us']:.2f})",
        ),
        ("chain job, N = 1 run", f"{data['per_run_fixed_ms']:.2f} ms"),
        ("peak RSS, N = 1,000", f"{data['peak_rss_mib_n1000']:.0f} MiB"),
    ]


def _flow_build(data: dict[str, Any]) -> list[tuple[str, str]]:
    chain = data["chain"]
    big = max(chain, key=int)
    return [
        (
            f"Flow build, {int(big):,} chained tasks",
            f"{chain[big]['build_s'] * 1e3:.0f} ms = {chain[big]['ratio']:.0f}x floor",
        )
    ]


def _scope(data: dict[str, Any]) -> list[tuple[str, str]]:
    return [
        (
            "run scope of 10 resources",
            f"{data['outfitter_scope_us']:.1f} µs (DI init/shutdown "
            f"{data['dependency_injector_lifecycle_us']:.1f})",
        )
    ]


def _import(data: dict[str, Any]) -> list[tuple[str, str]]:
    heavy = data.get("heavy")
    return [
        (
            "import outfitter over pydantic",
            f"+{data['over_floor_ms']:.0f} ms" + (f" (heavy: {heavy})" if heavy else ""),
        ),
    ]


def _ui_runs(data: dict[str, Any]) -> list[tuple[str, str]]:
    return [
        (
            "UI runs list, 10,000 runs",
            f"{data['first_page_ms']:.1f} ms ({data['first_page_over_floor']:.1f}x trivial route)",
        )
    ]


def _ui_graph(data: dict[str, Any]) -> list[tuple[str, str]]:
    return [
        (
            "UI graph of 1,000 assets (SVG / page)",
            f"{data['svg_ms']:.0f} / {data['page_ms']:.0f} ms",
        )
    ]


# (script, arguments, summary of its --json output, or None: its own table is the summary)
BENCHMARKS: list[
    tuple[str, list[str], Callable[[dict[str, Any]], list[tuple[str, str]]] | None]
] = [
    ("bench_run_path.py", ["--quick", "--json"], _run_path),
    ("bench_chain.py", ["--quick", "--json"], _chain),
    ("bench_flow.py", ["--quick"], None),
    ("bench_flow_build.py", ["--quick", "--json"], _flow_build),
    ("bench_scope.py", ["--json"], _scope),
    ("bench_import.py", ["--quick", "--json"], _import),
    ("bench_executors.py", ["--quick"], None),
    ("bench_ui_runs.py", ["--quick", "--json"], _ui_runs),
    ("bench_ui_graph.py", ["--quick", "--json"], _ui_graph),
]


def main() -> None:
    env = {**os.environ, "OUTFITTER_LOG_LEVEL": os.environ.get("OUTFITTER_LOG_LEVEL", "WARNING")}
    rows: list[tuple[str, str, str]] = []
    tables: list[str] = []
    began = time.perf_counter()
    for script, args, summarize in BENCHMARKS:
        if not (HERE / script).exists():
            rows.append((script, "not present", ""))
            continue
        start = time.perf_counter()
        proc = subprocess.run(
            [sys.executable, str(HERE / script), *args],
            capture_output=True,
            text=True,
            cwd=HERE.parent,
            env=env,
        )
        took = f"{time.perf_counter() - start:.0f} s"
        if proc.returncode != 0:
            rows.append((script, f"FAILED ({proc.returncode}): {proc.stderr.strip()[-200:]}", took))
            continue
        if summarize is None:
            tables.append(f"## {script}\n{proc.stdout.strip()}")
            rows.append((script, "see its table below", took))
            continue
        data = json.loads(proc.stdout)
        tables.append(f"## {script}\n{json.dumps(data, indent=2)}")
        for label, value in summarize(data):
            rows.append((label, value, took))
            took = ""
    print(f"| benchmark | result | took |  (all: {time.perf_counter() - began:.0f} s)")
    print("| --- | --- | ---: |")
    for label, value, took in rows:
        print(f"| {label} | {value} | {took} |")
    full = "--full" in sys.argv
    for table in tables:
        if full or not table.lstrip("# ").split("\n", 1)[1].lstrip().startswith("{"):
            print()
            print(table)


if __name__ == "__main__":
    main()
