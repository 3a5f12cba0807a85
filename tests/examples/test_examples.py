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


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: str(p.relative_to(ROOT)))
def test_example_runs_as_a_script(path: Path, tmp_path: Path) -> None:
    """The example exits 0 when run as a script in a fresh process."""
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
