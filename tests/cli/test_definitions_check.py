"""`outfitter definitions check` on schedules that could never run: refused before the daemon
ever ticks (run as a user runs it, a subprocess per command, as in test_app.py)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

NEVER_FIRES = """
import outfitter as of

@of.asset
def report() -> int:
    return 1

report_job = of.define_asset_job("report_job", selection=[report])

@of.schedule("0 0 30 2 *", job=report_job, execution_timezone="Europe/Paris")
def leap_typo(context):
    return of.RunRequest(run_key=context.scheduled_execution_time.isoformat())

defs = of.Definitions(assets=[report], jobs=[report_job], schedules=[leap_typo])
"""


def test_definitions_check_fails_on_a_schedule_that_never_fires(tmp_path: Path) -> None:
    """Exit 1 with the schedule, its expression and the fix; no traceback."""
    (tmp_path / "pipeline.py").write_text(NEVER_FIRES)
    env = {**os.environ, "OUTFITTER_HOME": str(tmp_path / "home"), "COLUMNS": "200"}
    done = subprocess.run(
        [sys.executable, "-m", "outfitter.cli", "definitions", "check", "-f", "pipeline.py"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 1, done.stdout
    assert "OK:" not in done.stdout
    stderr = " ".join(done.stderr.split())  # the console may wrap long lines
    assert (
        "Error: schedule 'leap_typo': cron_schedule '0 0 30 2 *' never fires: no date matches it "
        "(none in 400 years, a whole cycle of the calendar)"
    ) in stderr
    assert "Hint: use a day of the month that exists in the months it names" in stderr
    assert "Traceback" not in done.stderr
