"""`outfitter daemon` as a real process: ticks recorded, runs launched with launch config,
run_key dedupe across a restart, SIGTERM shutdown; and the sensors/schedules commands."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from outfitter._instance import Instance

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "functional" / "table_update_sensor.py"


def env_for(tmp_path: Path) -> dict[str, str]:
    return {
        **os.environ,
        "OUTFITTER_HOME": str(tmp_path / "home"),
        "TABLES_DB": str(tmp_path / "tables.db"),
        "COLUMNS": "200",
    }


def cli(args: list[str], tmp_path: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "outfitter.cli", *args, "-f", str(EXAMPLE)],
        env=env_for(tmp_path),
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.fixture
def database(tmp_path: Path) -> Path:
    sys.path.insert(0, str(EXAMPLE.parent))
    try:
        import table_update_sensor
    finally:
        sys.path.remove(str(EXAMPLE.parent))
    table_update_sensor.create_database(str(tmp_path / "tables.db"))
    return tmp_path / "tables.db"


def wait_for(predicate: object, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():  # type: ignore[operator]
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.1)


def runs(tmp_path: Path) -> list[str]:
    if not (tmp_path / "home" / "runs.db").exists():
        return []
    with Instance.local(tmp_path / "home") as instance:
        return [
            r.run_config["resources"]["db_conn"]["config"]["table"]  # type: ignore[index]
            for r in instance.get_runs()
        ]


def test_daemon_launches_dedupes_across_restart_and_stops_on_sigterm(
    database: Path, tmp_path: Path
) -> None:
    """Two runs for two tables; a restarted daemon launches nothing new; an update launches
    one; SIGTERM ends the daemon cleanly."""
    args = [sys.executable, "-m", "outfitter.cli", "daemon", "-f", str(EXAMPLE), "--poll", "0.2"]
    proc = subprocess.Popen(args, env=env_for(tmp_path), stderr=subprocess.PIPE, text=True)
    try:
        wait_for(lambda: len(runs(tmp_path)) == 2)
        os.kill(proc.pid, signal.SIGTERM)
        _, stderr = proc.communicate(timeout=60)
        assert proc.returncode == 0, stderr
        assert "daemon stopped" in stderr
    finally:
        if proc.poll() is None:
            proc.kill()
    assert sorted(runs(tmp_path)) == ["orders", "users"]

    again = subprocess.run(
        [*args, "--max-ticks", "10"],
        env=env_for(tmp_path),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert again.returncode == 0, again.stderr
    assert len(runs(tmp_path)) == 2  # same run keys: nothing relaunched
    with Instance.local(tmp_path / "home") as instance:
        reasons = {t.skip_reason for t in instance.get_ticks("tables_changed")}
    assert "every requested run_key was already launched" in reasons

    with sqlite3.connect(database) as conn:
        conn.execute("update catalog set version = 2 where name = 'users'")
    conn.close()
    third = subprocess.run(
        [*args, "--max-ticks", "10"],
        env=env_for(tmp_path),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert third.returncode == 0, third.stderr
    assert sorted(runs(tmp_path)) == ["orders", "users", "users"]


def test_sensor_commands_reflect_and_change_stored_status(database: Path, tmp_path: Path) -> None:
    """list shows status; stop/start change it; preview shows requests without launching."""
    listed = cli(["sensors", "list"], tmp_path)
    assert listed.returncode == 0, listed.stderr
    assert "tables_changed" in listed.stdout
    assert "RUNNING" in listed.stdout
    stopped = cli(["sensors", "stop", "tables_changed"], tmp_path)
    assert stopped.stdout.strip() == "sensor tables_changed STOPPED"
    assert "STOPPED" in cli(["sensors", "list"], tmp_path).stdout
    preview = cli(["sensors", "preview", "tables_changed"], tmp_path)
    assert preview.returncode == 0, preview.stderr
    assert "key='orders@1'" in preview.stdout
    assert '"table": "orders"' in preview.stdout
    assert runs(tmp_path) == []
    unknown = cli(["sensors", "start", "tables_changd"], tmp_path)
    assert unknown.returncode == 1
    assert "Did you mean 'tables_changed'?" in unknown.stderr
    schedules = cli(["schedules", "list"], tmp_path)
    assert schedules.returncode == 0, schedules.stderr
