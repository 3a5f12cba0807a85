"""Signal safety (DESIGN §1, §6): interrupts wait while a resource closes and while the run record
is written, so every resource that opened closes exactly once, every resource-manager cleanup
runs at most once, and the record never stays STARTED, whenever Ctrl-C or SIGTERM arrives and
however many arrive. Real subprocesses, real signals; the random moments are seeded."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

import outfitter as of
from outfitter._instance import RunStatus

HERE = Path(__file__).parent

SCRIPT = '''
import sys, time
sys.path.insert(0, {here!r})
import outfitter as of
from pipelines import note

front, log, home, slow = sys.argv[1:5]
pause = float(slow)


class Slow(of.ConfigurableResource):
    """Opens and closes slowly, logging both ends of each."""

    log: str
    key: str

    def setup_for_execution(self, context):
        note(self.log, f"opening {{self.key}}")
        time.sleep(pause)
        note(self.log, f"open {{self.key}}")

    def teardown_after_execution(self, context):
        note(self.log, f"closing {{self.key}}")
        time.sleep(pause)
        note(self.log, f"close {{self.key}}")


@of.resource_manager
class Scratch:
    def __init__(self, log):
        self.log = log

    def setup(self):
        note(self.log, "setup scratch")
        return "scratch"

    def cleanup(self, value):
        note(self.log, "cleaning scratch")
        time.sleep(pause)
        note(self.log, "cleanup scratch")


def work(db, scratch=None):
    time.sleep(pause)
    return 1


resources = {{"db": Slow(log=log, key="db"), "cache": Slow(log=log, key="cache")}}
if __name__ == "__main__":
    with of.Instance.local(home) as instance:
        if front == "flow":
            @of.task
            def step(db: of.ResourceParam[Slow], cache: of.ResourceParam[Slow], scratch=None):
                return work(db, scratch)

            with of.Flow("interrupted", resources=resources) as flow:
                with Scratch(log) as scratch:
                    step(scratch=scratch)
                    step(scratch=scratch)
            flow.run(instance=instance)
        else:
            @of.asset
            def first(db: of.ResourceParam[Slow], cache: of.ResourceParam[Slow]) -> int:
                return work(db)

            @of.asset
            def second(first: int, db: of.ResourceParam[Slow]) -> int:
                return work(db)

            of.materialize([first, second], resources=resources, instance=instance)
'''


def start(tmp_path: Path, front: str, pause: float) -> tuple[subprocess.Popen[bytes], Path, Path]:
    log, home = tmp_path / "log", tmp_path / "home"
    log.write_text("")
    script = tmp_path / "run.py"
    script.write_text(SCRIPT.format(here=str(HERE)))
    proc = subprocess.Popen(
        [sys.executable, str(script), front, str(log), str(home), str(pause)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    return proc, log, home


def lines(log: Path) -> list[str]:
    return [" ".join(line.split()[:-1]) for line in log.read_text().splitlines()]


def wait_for_line(log: Path, wanted: str, proc: subprocess.Popen[bytes]) -> bool:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if wanted in lines(log):
            return True
        if proc.poll() is not None:
            return False
        time.sleep(0.005)
    return False


def check(log: Path, home: Path, proc: subprocess.Popen[bytes]) -> list[str]:
    """The promises after the process ended; returns what was violated."""
    seen = lines(log)
    problems = []
    for key in ("db", "cache"):
        opens, closes = seen.count(f"open {key}"), seen.count(f"close {key}")
        if closes != opens or opens > 1:
            problems.append(f"{key}: {opens} open(s), {closes} close(s): {seen}")
        if seen.count(f"closing {key}") != closes:
            problems.append(f"{key}: a close was cut short: {seen}")
    if seen.count("cleaning scratch") > 1 or seen.count("cleaning scratch") != seen.count(
        "cleanup scratch"
    ):
        problems.append(f"cleanup ran twice or was cut short: {seen}")
    if "setup scratch" in seen and "cleaning scratch" not in seen:
        problems.append(f"the scratch resource was set up and never cleaned up: {seen}")
    with of.Instance.local(home) as instance:
        runs = instance.get_runs()
    if runs and runs[0].status is RunStatus.STARTED:
        problems.append("the run record was left STARTED")
    # (a SIGTERM that arrives after the run ended may still end the process, with Python's
    # default handler back in place: what matters is that nothing was cut short before)
    return problems


def finish(proc: subprocess.Popen[bytes]) -> str:
    try:
        _, err = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
    return err.decode()


@pytest.mark.parametrize("front", ["job", "flow"])
# "opening db": the second resource is interrupted while it opens, so the scope rolls back the
# one already open ("closing cache") and the second signal lands in that roll-back
@pytest.mark.parametrize(
    "moment", ["closing db", "cleaning scratch", "opening cache", "opening db"]
)
@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM], ids=["ctrl-c", "sigterm"])
def test_two_signals_at_the_worst_moment_skip_nothing(
    front: str, moment: str, sig: signal.Signals, tmp_path: Path
) -> None:
    """A signal while a resource closes (or a cleanup runs, or a resource opens), then a second
    one right after: the close (cleanup) finishes once, every other resource still closes,
    the record is finished, and the process is not killed mid-teardown."""
    if front == "job" and moment == "cleaning scratch":
        pytest.skip("jobs have no resource-manager block")
    proc, log, home = start(tmp_path, front, pause=0.3)
    if not wait_for_line(log, moment, proc):
        pytest.fail(f"never reached {moment!r}: {lines(log)}\n{finish(proc)[-2000:]}")
    os.kill(proc.pid, sig)
    time.sleep(0.05)
    os.kill(proc.pid, sig)
    err = finish(proc)
    assert check(log, home, proc) == [], err[-2000:]


@pytest.mark.parametrize("front", ["job", "flow"])
def test_signals_at_random_moments(front: str, tmp_path: Path) -> None:
    """Seeded fault injection: 12 runs, each interrupted by one or two signals (Ctrl-C or
    SIGTERM) at a random moment between start and end (setup, steps, cleanup, teardown);
    no violation of the promises in any of them."""
    rng = random.Random(20261202 + (front == "flow"))
    violations: list[str] = []
    for trial in range(12):
        workdir = tmp_path / f"t{trial}"
        workdir.mkdir()
        proc, log, home = start(workdir, front, pause=0.05)
        if not wait_for_line(log, "opening db", proc):
            violations.append(f"trial {trial}: never started: {finish(proc)[-500:]}")
            continue
        time.sleep(rng.uniform(0, 0.6))
        for _ in range(rng.choice([1, 2])):
            if proc.poll() is None:
                os.kill(proc.pid, rng.choice([signal.SIGINT, signal.SIGTERM]))
                time.sleep(rng.uniform(0, 0.1))
        finish(proc)
        violations += [f"trial {trial}: {p}" for p in check(log, home, proc)]
    assert violations == []
