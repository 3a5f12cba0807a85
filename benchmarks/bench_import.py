"""Benchmark: the cost of ``import outfitter`` in a fresh process, against the floor any
pydantic-based library pays (``from pydantic import BaseModel``), and the heavy modules it loads.

Each figure is the median of alternated rounds (every workload once per round, in turn), each a
fresh ``python -c`` process, so start-up noise and a loaded machine hit both the same way. The
processes share a bytecode cache (``PYTHONPYCACHEPREFIX``, warmed first): an environment with
``PYTHONDONTWRITEBYTECODE=1`` would otherwise recompile the editable checkout on every import.
The issue-17 target: ``import outfitter`` at most the floor + 60 ms, and none of ``HEAVY``
imported until used (each is imported by the function that needs it: asyncio by async resources
and the Dask executor, dependency-injector by ``ResourceContainer``, YAML by the config commands).

Run: python benchmarks/bench_import.py [--quick] [--json] [--importtime]
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

# Modules `import outfitter` must not load: each is imported by the code that uses it (this
# list is the one tests/test_import_light.py pins). sqlite3 is not on it: every run opens an
# instance, and its import costs about a millisecond.
HEAVY = (
    "asyncio",
    "click",
    "concurrent.futures",
    "croniter",
    "ctypes",
    "dask",
    "dependency_injector",
    "distributed",
    "jinja2",
    "multiprocessing",
    "pydantic_settings",
    "rich",
    "starlette",
    "subprocess",
    "typer",
    "unittest",
    "uvicorn",
    "yaml",
    "outfitter._daemon",
    "outfitter._execution.dask",
    "outfitter._resources.container",
    "outfitter.cli",
    "outfitter.ui",
)

FLOOR = "from pydantic import BaseModel (floor)"
FIRST_MODEL = "... and define one model"
WORKLOADS = {
    FLOOR: "from pydantic import BaseModel",
    # What any library that defines a pydantic model at import pays on top of the floor (and
    # every Outfitter user pays when defining a first resource): pydantic imports the rest of
    # itself and its plugin loader, which imports importlib.metadata and scans every installed
    # distribution's entry points for pydantic plugins.
    FIRST_MODEL: "from pydantic import BaseModel\nclass M(BaseModel):\n    x: int",
    "import outfitter": "import outfitter",
}
TARGET_MS = 60.0


def _env(cache: str) -> dict[str, str]:
    env = dict(os.environ, PYTHONPYCACHEPREFIX=cache)
    env.pop("PYTHONDONTWRITEBYTECODE", None)  # else nothing is cached and every run recompiles
    src = Path(__file__).resolve().parent.parent / "src"
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(src), env.get("PYTHONPATH")) if p)
    return env


def _run_ms(code: str, env: dict[str, str]) -> float:
    start = time.perf_counter()
    subprocess.run([sys.executable, "-c", code], env=env, check=True)
    return (time.perf_counter() - start) * 1e3


def median_ms(env: dict[str, str], rounds: int) -> dict[str, float]:
    for code in WORKLOADS.values():  # warm the bytecode cache and the page cache
        _run_ms(code, env)
    times: dict[str, list[float]] = {name: [] for name in WORKLOADS}
    for _ in range(rounds):
        for name, code in WORKLOADS.items():
            times[name].append(_run_ms(code, env))
    return {name: statistics.median(values) for name, values in times.items()}


def heavy_loaded(env: dict[str, str]) -> list[str]:
    code = f"import sys, outfitter\nprint(','.join(m for m in {HEAVY!r} if m in sys.modules))"
    out = subprocess.run(
        [sys.executable, "-c", code], env=env, check=True, capture_output=True, text=True
    ).stdout.strip()
    return [name for name in out.split(",") if name]


def importtime_top(env: dict[str, str], count: int = 25) -> list[tuple[int, str]]:
    """The largest cumulative import times (µs) under ``import outfitter`` (``-X importtime``),
    leaving out interpreter start-up (``site`` and what it imports, paid by the floor too)."""
    err = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", "import outfitter"],
        env=env,
        check=True,
        capture_output=True,
        text=True,
    ).stderr
    rows: list[tuple[int, str]] = []
    for line in err.splitlines():
        parts = line.split("|")
        if len(parts) != 3 or not parts[1].strip().isdigit():
            continue
        name = parts[2].rstrip()
        if name.strip() == "site":  # modules are listed after their imports: drop start-up
            rows = []
            continue
        rows.append((int(parts[1]), name))
    return sorted(rows, reverse=True)[:count]


def main() -> None:
    rounds = 11 if "--quick" in sys.argv else 31
    with tempfile.TemporaryDirectory(prefix="outfitter-pycache-") as cache:
        env = _env(cache)
        results = median_ms(env, rounds)
        heavy = heavy_loaded(env)
        top = importtime_top(env) if "--importtime" in sys.argv else []
    floor = results[FLOOR]
    over = results["import outfitter"] - floor
    if "--json" in sys.argv:
        print(json.dumps({"median_ms": results, "over_floor_ms": over, "heavy": heavy}))
    else:
        print(f"fresh-process import (median of {rounds} alternated rounds, milliseconds)")
        print("| workload | ms | over the floor |")
        print("| --- | ---: | ---: |")
        for name, value in results.items():
            print(f"| {name} | {value:.0f} | {value - floor:+.0f} |")
        print()
        verdict = "met" if over <= TARGET_MS else "NOT met"
        print(f"import outfitter: {over:.0f} ms over the floor (<= {TARGET_MS:.0f}: {verdict})")
        print(f"heavy modules loaded by import outfitter: {', '.join(heavy) or 'none'}")
        for micros, name in top:
            print(f"{micros / 1e3:8.1f} ms {name}")
    assert not heavy, f"import outfitter loads heavy modules: {heavy}"


if __name__ == "__main__":
    main()
