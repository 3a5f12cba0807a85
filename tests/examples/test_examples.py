"""Every example under examples/ runs, as a user would run it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = sorted(p for p in (ROOT / "examples").rglob("*.py") if not p.name.startswith("_"))


def _needs_dask(path: Path) -> bool:
    return "import dask" in path.read_text()


try:
    import dask.dataframe  # noqa: F401
    import distributed  # noqa: F401

    HAVE_DASK = True
except ImportError:  # only when the `dask` extra is not installed
    HAVE_DASK = False


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: str(p.relative_to(ROOT)))
def test_example_runs_as_a_script(path: Path, tmp_path: Path) -> None:
    """The example exits 0 when run as a script in a fresh process."""
    if _needs_dask(path) and not HAVE_DASK:
        pytest.skip("the `dask` extra is not installed")
    env = {**os.environ, "PYTHONWARNINGS": "error", "OUTFITTER_HOME": str(tmp_path / "home")}
    proc = subprocess.run(
        [sys.executable, str(path)],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr


def test_warehouse_report_writes_the_total(tmp_path: Path) -> None:
    """The main example stores every order and publishes their total, with secrets unprinted."""
    script = ROOT / "examples" / "functional" / "warehouse_report.py"
    env = {
        **os.environ,
        "ORDERS_API_PASSWORD": "s3cr3t-api",
        "BUCKET_PASSWORD": "s3cr3t-bkt",
        "OUTFITTER_HOME": str(tmp_path / "home"),
    }
    proc = subprocess.run(
        [sys.executable, str(script), "--table", "daily", "--workdir", str(tmp_path)],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr
    assert "loaded 5 orders into 'daily'" in proc.stdout
    report = json.loads((tmp_path / "bucket" / "reports" / "total.json").read_text())
    assert report == {"total": 150.0}
    assert "s3cr3t" not in proc.stdout + proc.stderr
    # the run is recorded in the embedded SQLite instance under OUTFITTER_HOME
    from outfitter._instance import Instance, RunStatus

    with Instance.local(tmp_path / "home") as instance:
        [run] = instance.get_runs()
        assert run.status is RunStatus.SUCCESS
        assert run.run_config == {"resources": {"warehouse": {"config": {"table": "daily"}}}}
        db = (tmp_path / "home" / "runs.db").read_bytes()
    assert b"s3cr3t" not in db


@pytest.mark.parametrize(
    ("style", "flags"),
    [("functional", []), ("imperative", []), ("functional", ["--on-dask"])],
)
def test_dask_cluster_flow_writes_the_summary_and_closes_the_cluster(
    style: str, flags: list[str], tmp_path: Path
) -> None:
    """The Prefect guide's temporary-cluster flow, in both styles, on a 2-worker local cluster;
    with --on-dask its tasks also run on the workers of dask_executor."""
    if not HAVE_DASK:
        pytest.skip("the `dask` extra is not installed")
    script = ROOT / "examples" / style / "dask_cluster_flow.py"
    out = tmp_path / "summary.csv"
    proc = subprocess.run(
        [sys.executable, str(script), str(out), *flags],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr
    assert "the cluster was closed" in proc.stdout
    lines = out.read_text().splitlines()
    assert lines[0] == "index,id,x,y"
    assert lines[1].startswith("count,")


def test_scratch_database_flows_tell_the_same_story(tmp_path: Path) -> None:
    """The functional and imperative scratch-database flows produce the same report."""
    reports = []
    for style in ("functional", "imperative"):
        out = tmp_path / f"{style}.txt"
        script = ROOT / "examples" / style / "scratch_database_flow.py"
        proc = subprocess.run(
            [sys.executable, str(script), str(out)], capture_output=True, text=True, timeout=120
        )
        assert proc.returncode == 0, proc.stderr
        reports.append(out.read_text())
    assert reports[0] == reports[1] == "north: 2500\nsouth: 2450\n"
