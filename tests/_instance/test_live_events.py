"""Events of a running run reach the instance while it runs (at step ends and at least every
quarter second), so another process can follow it with :meth:`Instance.events_after`.

The follower here is the test process; the run goes in a real subprocess whose second step
blocks until the test releases it, on each executor.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

import outfitter as of
from outfitter._instance import EventRecord, EventType, RunStatus

SCRIPT = """
import os, sys, time
from pathlib import Path

import outfitter as of

@of.asset(name="first")
def first() -> int:
    return 1


@of.asset(name="blocked")
def blocked(context: of.AssetExecutionContext, first: int) -> int:
    context.log.info("waiting for the release")
    release = Path(os.environ["LIVE_RELEASE"])
    for _ in range(6000):  # at most a minute
        if release.exists():
            break
        time.sleep(0.01)
    return first + 1


if __name__ == "__main__":  # the Dask cluster's helper process imports this file
    home, executor = sys.argv[1], sys.argv[2]
    executors = {
        "in_process": of.in_process_executor,
        "multiprocess": of.multiprocess_executor(max_concurrent=1),
        "dask": of.dask_executor(n_workers=1),
    }
    defs = of.Definitions(assets=[first, blocked], executor=executors[executor])
    with of.Instance.local(home) as instance:
        defs.get_implicit_global_asset_job_def().execute(instance=instance)
"""


def _follow_until(
    instance: of.Instance,
    run_id: str,
    cursor: int,
    done: Callable[[EventRecord], bool],
    proc: subprocess.Popen[bytes],
) -> tuple[list[EventRecord], int]:
    """Poll ``events_after`` until an event matches ``done`` (a predicate) or the run's process
    ends (a bound for a broken run, not a timing assertion)."""
    seen: list[EventRecord] = []
    for _ in range(6000):
        events, cursor = instance.events_after(run_id, cursor)
        seen.extend(events)
        if any(done(e) for e in events):
            return seen, cursor
        if proc.poll() is not None:
            break
        time.sleep(0.01)
    return seen, cursor


@pytest.mark.parametrize("executor", ["in_process", "multiprocess", "dask"])
def test_another_process_sees_a_running_run_s_events(tmp_path: Path, executor: str) -> None:
    home = tmp_path / "home"
    script = tmp_path / "live_run.py"
    script.write_text(SCRIPT)
    release = tmp_path / "release"
    env = {**os.environ, "LIVE_RELEASE": str(release)}
    proc = subprocess.Popen([sys.executable, str(script), str(home), executor], env=env)
    try:
        run_id = None
        while run_id is None and proc.poll() is None:  # until the run is recorded
            if (home / "runs.db").exists():
                with of.Instance.local(home) as probe:
                    runs = probe.get_runs()
                run_id = runs[0].run_id if runs else None
            time.sleep(0.02)
        assert run_id is not None, f"the run's process ended with {proc.returncode}"
        with of.Instance.local(home) as instance:

            def first_done(e: EventRecord) -> bool:
                return e.event_type is EventType.STEP_SUCCESS and e.step_key == "first"

            seen, cursor = _follow_until(instance, run_id, 0, first_done, proc)
            # step "first" finished and was read while "blocked" still waits: the run is live
            assert proc.poll() is None
            assert any(first_done(e) for e in seen)
            record = instance.get_run(run_id)
            assert record is not None
            assert record.status is RunStatus.STARTED
            assert seen[0].event_type is EventType.RUN_START
            assert not any(e.event_type is EventType.RUN_SUCCESS for e in seen)

            # the running step's own events are written while it runs, from every executor:
            # its STEP_START and its log record, long before it ends
            def waiting(e: EventRecord) -> bool:
                return e.event_type is EventType.LOG and e.message == "waiting for the release"

            if not any(waiting(e) for e in seen):
                more, cursor = _follow_until(instance, run_id, cursor, waiting, proc)
                seen += more
            assert any(waiting(e) for e in seen), [(e.event_type, e.message) for e in seen]
            assert proc.poll() is None
            assert any(
                e.event_type is EventType.STEP_START and e.step_key == "blocked" for e in seen
            )
            release.write_text("go")
            assert proc.wait(timeout=120) == 0
            rest, cursor = instance.events_after(run_id, cursor)
            assert rest[-1].event_type is EventType.RUN_SUCCESS
            assert any(
                e.event_type is EventType.STEP_SUCCESS and e.step_key == "blocked" for e in rest
            )
            # following by cursor reads each event once, in order: the same as all_events
            assert [e.id for e in seen + rest] == [e.id for e in instance.all_events(run_id)]
            # and each once: what was written while the step ran is not written again
            kinds = [(e.event_type, e.step_key, e.message) for e in seen + rest]
            assert len(kinds) == len(set(kinds)), kinds
            assert instance.events_after(run_id, cursor) == ([], cursor)
    finally:
        release.write_text("go")
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def test_events_after_reads_one_run_from_a_cursor(tmp_path: Path) -> None:
    with of.Instance.local(tmp_path / "home") as instance:
        one = instance.create_run("one").run_id
        two = instance.create_run("two").run_id
        assert instance.events_after(one, 0) == ([], 0)
        instance.report_event(one, EventType.RUN_START, message="one")
        instance.report_event(two, EventType.RUN_START, message="two")
        events, cursor = instance.events_after(one, 0)
        assert [e.message for e in events] == ["one"]
        instance.report_event(two, EventType.RUN_SUCCESS, message="two ends")
        instance.report_event(one, EventType.STEP_START, step_key="a")
        instance.report_event(one, EventType.RUN_SUCCESS, message="one ends")
        more, cursor = instance.events_after(one, cursor)
        assert [(e.event_type, e.message) for e in more] == [
            (EventType.STEP_START, ""),
            (EventType.RUN_SUCCESS, "one ends"),
        ]
        assert cursor == more[-1].id
        assert instance.events_after(one, cursor) == ([], cursor)
        assert [e.message for e in instance.events_after(two, 0)[0]] == ["two", "two ends"]


def test_live_events_writes_buffered_events_without_a_flush(tmp_path: Path) -> None:
    """The driver's writer thread flushes what waits: another connection sees it."""
    from outfitter._execution.driver import live_events

    with of.Instance.local(tmp_path / "home") as instance, live_events(instance, 0.01):
        run_id = instance.create_run("live").run_id
        instance.report_event(run_id, EventType.RUN_START)
        with of.Instance.local(tmp_path / "home") as reader:
            for _ in range(3000):  # a bound, not a timing assertion
                if reader.events_after(run_id, 0)[0]:
                    break
                time.sleep(0.01)
            assert [e.event_type for e in reader.events_after(run_id, 0)[0]] == [
                EventType.RUN_START
            ]
        assert instance.unflushed == 0
