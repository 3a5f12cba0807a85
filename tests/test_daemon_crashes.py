"""The daemon killed with SIGKILL at seeded random moments, again and again, then restarted until
its sensor's 120 keyed requests are done: no request is lost (every key has a run) and none is
launched twice (one run per key, one start of its step). Runs cut off by a kill are recorded as
FAILURE (their process died) by the next daemon, and never relaunched.

``OUTFITTER_FAULT_TRIALS`` sets the number of kills (default 20).
"""

from __future__ import annotations

import collections
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

from outfitter._instance import Instance, RunStatus

DEFS = Path(__file__).parent / "daemon_defs.py"
KEYS = 120


def start(work: Path) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "OUTFITTER_HOME": str(work / "home"),
        "DAEMON_WORK": str(work),
        "DAEMON_KEYS": str(KEYS),
        "DAEMON_PER_TICK": "3",
        "DAEMON_STEP_SECONDS": "0.05",
    }
    return subprocess.Popen(
        [sys.executable, "-m", "outfitter.cli", "daemon", "-f", str(DEFS), "--poll", "0.01"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def runs_by_key(home: Path) -> dict[str, list[RunStatus]]:
    if not (home / "runs.db").exists():
        return {}
    with Instance.local(home) as instance:
        out: dict[str, list[RunStatus]] = collections.defaultdict(list)
        for run in instance.get_runs():
            out[run.tags["run_key"]].append(run.status)
        return dict(out)


def test_kill_9_at_random_moments_loses_no_request_and_launches_none_twice(
    tmp_path: Path,
) -> None:
    kills = int(os.environ.get("OUTFITTER_FAULT_TRIALS", 20))
    rng = random.Random(4242)
    landed_mid_run = 0
    steps_log = tmp_path / "steps.log"
    for _ in range(kills):
        proc = start(tmp_path)
        try:
            # the daemon's import takes about half a second; its ticks run after that
            time.sleep(rng.uniform(0.3, 1.0))
            steps = steps_log.read_text() if steps_log.exists() else ""
            landed_mid_run += steps.count("start ") > steps.count("finish ")
            os.kill(proc.pid, signal.SIGKILL)
        finally:
            proc.kill()
            proc.wait(timeout=60)
    proc = start(tmp_path)  # the last restart finishes what is left
    try:
        deadline = time.monotonic() + 120
        while len(runs_by_key(tmp_path / "home")) < KEYS and time.monotonic() < deadline:
            time.sleep(0.05)
        os.kill(proc.pid, signal.SIGTERM)
        proc.wait(timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=60)
    by_key = runs_by_key(tmp_path / "home")
    starts = collections.Counter(
        line.split()[1]
        for line in (tmp_path / "steps.log").read_text().splitlines()
        if line.startswith("start ")
    )
    lost = sorted({f"k{i}" for i in range(KEYS)} - set(by_key))
    twice = sorted(k for k, statuses in by_key.items() if len(statuses) > 1)
    started_twice = sorted(k for k, n in starts.items() if n > 1)
    unfinished = sorted(
        k
        for k, statuses in by_key.items()
        if statuses[0] not in (RunStatus.SUCCESS, RunStatus.FAILURE)
    )
    dead = sum(statuses == [RunStatus.FAILURE] for statuses in by_key.values())
    print(
        f"daemon: {kills} kills, {landed_mid_run} mid-run, {dead} runs cut off (FAILURE), "
        f"violations: {len(lost) + len(twice) + len(started_twice) + len(unfinished)}"
    )
    assert lost == []
    assert twice == []
    assert started_twice == []
    assert unfinished == []
    with Instance.local(tmp_path / "home") as instance:
        for run in instance.get_runs(status=RunStatus.FAILURE):
            [event] = instance.all_events(run.run_id, event_type=None)[-1:]
            assert "stopped without finishing it" in event.message
