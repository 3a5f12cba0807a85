"""Definitions for tests that run ``outfitter daemon -f tests/daemon_defs.py`` as a real process:
a sensor that requests runs keyed ``k0``, ``k1``, ... (``DAEMON_PER_TICK`` per evaluation, up
to ``DAEMON_KEYS``), each running one step that logs its start and finish to
``$DAEMON_WORK/steps.log`` and takes ``DAEMON_STEP_SECONDS``, with a resource that logs its
opens and closes (``$DAEMON_WORK/resources.log``)."""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

import outfitter as of


def setting(name: str, default: str) -> str:
    return os.environ.get(name, default)


def note(log: str, text: str) -> None:
    work = Path(setting("DAEMON_WORK", "."))
    with open(work / log, "a") as f:
        f.write(f"{text} {os.getpid()}\n")


class Rec(of.ConfigurableResource):
    """Logs ``open PID`` / ``close PID``."""

    def setup_for_execution(self, context: Any) -> None:
        note("resources.log", "open")

    def teardown_after_execution(self, context: Any) -> None:
        note("resources.log", "close")


class KeyConfig(of.Config):
    key: str


@of.asset
def work(config: KeyConfig, rec: Rec) -> str:
    note("steps.log", f"start {config.key}")
    end = time.monotonic() + float(setting("DAEMON_STEP_SECONDS", "0.05"))
    while time.monotonic() < end:
        time.sleep(0.005)
    note("steps.log", f"finish {config.key}")
    return config.key


work_job = of.define_asset_job("work_job", selection=[work])


@of.sensor(job=work_job, minimum_interval_seconds=0.01, default_status="RUNNING")
def keys(context: of.SensorEvaluationContext):  # type: ignore[no-untyped-def]
    total = int(setting("DAEMON_KEYS", "3"))
    seen = int(context.cursor or 0)
    if seen >= total:
        return of.SkipReason("every key was requested")
    batch = list(range(seen, min(seen + int(setting("DAEMON_PER_TICK", "3")), total)))
    context.update_cursor(str(batch[-1] + 1))
    return [
        of.RunRequest(run_key=f"k{i}", run_config={"ops": {"work": {"config": {"key": f"k{i}"}}}})
        for i in batch
    ]


defs = of.Definitions(assets=[work], jobs=[work_job], sensors=[keys], resources={"rec": Rec()})
