"""A code location as Dagster's docs write one: an `@definitions` function, a `multi_asset` with
two outputs stored by the filesystem I/O manager, asset groups and an `AssetSelection` job, a
`RetryPolicy`, a schedule that names its job with `job_name=`, and a `run_failure_sensor` that
alerts through a resource.

Run it:  python examples/functional/code_location.py
It drives the `outfitter` command as a user would: the daemon's first tick starts the failure
sensor, `outfitter materialize --job` runs the asset job (it succeeds) and the flaky op job (it
fails after its retries), and the next tick alerts about that failure through `Alerts`.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path

import outfitter as of


class Alerts(of.ConfigurableResource):
    """Where alerts go: appended to a file (a chat webhook in real life)."""

    path: str

    def send(self, text: str) -> None:
        with open(self.path, "a") as f:
            f.write(text + "\n")


@of.multi_asset(
    outs={"orders": of.AssetOut(), "refunds": of.AssetOut()},
    group_name="ingest",
)
def ledger() -> tuple[list[float], list[float]]:
    """One read of the ledger yields two assets, each stored in its own file."""
    entries = [12.5, -2.5, 30.0, -5.0]
    return [e for e in entries if e > 0], [-e for e in entries if e < 0]


@of.asset(group_name="finance")
def net_revenue(orders: list[float], refunds: list[float]) -> float:
    return sum(orders) - sum(refunds)


finance_job = of.define_asset_job(
    "finance_job", selection=of.AssetSelection.groups("finance").upstream()
)


@of.op(retry_policy=of.RetryPolicy(max_retries=2, delay=0.01, backoff=of.Backoff.LINEAR))
def call_partner_api() -> str:
    raise ConnectionError("partner API unreachable")


@of.job
def partner_sync() -> None:
    call_partner_api()


@of.schedule(cron_schedule="0 6 * * *", job_name="finance_job")
def every_morning() -> of.RunRequest:
    return of.RunRequest()


@of.run_failure_sensor(default_status=of.DefaultSensorStatus.RUNNING, minimum_interval_seconds=1)
def alert_on_failure(context: of.RunFailureSensorContext, alerts: Alerts) -> None:
    alerts.send(f"{context.dagster_run.job_name} failed: {context.error}")


@of.definitions
def defs() -> of.Definitions:
    return of.Definitions(
        assets=[ledger, net_revenue],
        jobs=[finance_job, partner_sync],
        schedules=[every_morning],
        sensors=[alert_on_failure],
        resources={"alerts": Alerts(path=of.EnvVar("ALERTS_FILE"))},
    )


def outfitter_cli(*args: str) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "outfitter.cli", *args]
    return subprocess.run(command, capture_output=True, text=True, timeout=300)


def main() -> None:
    work = Path(tempfile.mkdtemp(prefix="code-location-"))
    os.environ.setdefault("OUTFITTER_HOME", str(work / "home"))
    os.environ["ALERTS_FILE"] = str(work / "alerts.txt")
    here = str(Path(__file__).resolve())

    checked = outfitter_cli("definitions", "check", "-f", here)
    assert checked.returncode == 0, checked.stderr
    first_tick = outfitter_cli("daemon", "-f", here, "--max-ticks", "1", "--poll", "0.1")
    assert first_tick.returncode == 0, first_tick.stderr

    finance = outfitter_cli("materialize", "-f", here, "--job", "finance_job")
    assert finance.returncode == 0, finance.stderr
    partner = outfitter_cli("materialize", "-f", here, "--job", "partner_sync")
    assert partner.returncode == 1, partner.stderr  # failed after 2 retries

    second_tick = outfitter_cli("daemon", "-f", here, "--max-ticks", "1", "--poll", "0.1")
    assert second_tick.returncode == 0, second_tick.stderr
    alerts = Path(os.environ["ALERTS_FILE"]).read_text()
    assert alerts.startswith("partner_sync failed: ConnectionError: partner API unreachable")
    print(alerts, end="")

    with of.Instance.get() as instance:
        [run] = [r for r in instance.get_runs() if r.job_name == "finance_job"]
        stored = Path(instance.storage_directory())
        assert (stored / "orders").exists()
        assert (stored / "refunds").exists()
        print(f"finance_job {run.status.value}; orders and refunds stored under {stored}")


if __name__ == "__main__":
    main()
