"""Runs a page at a time (filters, offsets, counts, job names, id prefixes), the schema
migration that indexes them, and signalling a run's process."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from outfitter._instance import Instance, RunSignal, RunStatus
from outfitter._instance import instance as instance_module


def test_pages_of_runs_newest_first_with_filters_and_counts(outfitter_instance: Instance) -> None:
    """limit/offset pages cover every run once, in order; counts match the filters."""
    instance = outfitter_instance
    made = [
        instance.create_run("even" if i % 2 == 0 else "odd", run_id=f"run{i:03d}")
        for i in range(120)
    ]
    for run in made[:30]:
        instance.set_run_status(run.run_id, RunStatus.SUCCESS)
    newest_first = [r.run_id for r in reversed(made)]
    pages = [instance.get_runs(limit=50, offset=o) for o in (0, 50, 100, 150)]
    assert [len(p) for p in pages] == [50, 50, 20, 0]
    assert [r.run_id for p in pages for r in p] == newest_first
    assert instance.count_runs() == 120
    assert instance.count_runs(job_name="odd") == 60
    assert instance.count_runs(status=RunStatus.SUCCESS) == 30
    assert instance.count_runs(status=RunStatus.SUCCESS, job_name="even") == 15
    assert instance.count_runs(job_name="nothing") == 0
    odd = instance.get_runs(job_name="odd", limit=10, offset=5)
    assert [r.run_id for r in odd] == [i for i in newest_first if int(i[3:]) % 2][5:15]
    done = instance.get_runs(status=RunStatus.SUCCESS, offset=25)
    assert [r.run_id for r in done] == ["run004", "run003", "run002", "run001", "run000"]
    assert instance.get_runs(limit=0) == []
    assert len(instance.get_runs()) == 120  # the old call still lists every run
    assert instance.job_names() == ["even", "odd"]


def test_runs_by_id_prefix(outfitter_instance: Instance) -> None:
    """Only ids starting with the prefix; an empty prefix filters nothing."""
    instance = outfitter_instance
    for run_id in ("abc1", "abc2", "abd3", "ab", "b"):
        instance.create_run("j", run_id=run_id)
    assert {r.run_id for r in instance.get_runs(run_id_prefix="abc")} == {"abc1", "abc2"}
    assert {r.run_id for r in instance.get_runs(run_id_prefix="ab")} == {
        "abc1",
        "abc2",
        "abd3",
        "ab",
    }
    assert instance.get_runs(run_id_prefix="zz") == []
    assert len(instance.get_runs(run_id_prefix="", limit=3)) == 3


def test_a_version_3_database_gains_the_run_list_indexes(tmp_path: Path) -> None:
    """A database from before the runs page is upgraded when opened, its runs kept and listed
    through the new indexes."""
    db, storage = str(tmp_path / "runs.db"), str(tmp_path / "storage")
    with Instance(db, storage, migrations=instance_module.MIGRATIONS[:3]) as old:
        run = old.create_run("before")
        assert old.schema_version == 3
    with Instance.local(tmp_path) as new:
        assert new.schema_version == len(instance_module.MIGRATIONS) == 4
        assert [r.run_id for r in new.get_runs(job_name="before", limit=50)] == [run.run_id]
        indexes = {
            row[0]
            for row in new._conn.execute("select name from sqlite_master where type = 'index'")
        }
        assert {"runs_by_status_created", "runs_by_job_created"} <= indexes
        plan = new._conn.execute(
            "explain query plan select run_id from runs where job_name = ? "
            "order by created_time desc, rowid desc limit 50",
            ("before",),
        ).fetchall()
        assert "runs_by_job_created" in str(plan)


def _started_by(instance: Instance, run_id: str, pid: int, identity: str | None) -> None:
    instance._conn.execute(
        "update runs set pid = ?, process = ?, host = ? where run_id = ?",
        (pid, identity, socket.gethostname(), run_id),
    )
    instance._conn.commit()


def test_signal_run_says_why_it_sent_nothing(tmp_path: Path) -> None:
    """No run, queued, finished, this very process, another host, a dead process, a reused
    pid: nothing is signalled, and the answer says which."""
    with Instance.local(tmp_path) as instance:
        assert instance.signal_run("nope") is RunSignal.NO_RUN
        queued = instance.create_run("j")
        assert instance.signal_run(queued.run_id) is RunSignal.NOT_STARTED
        mine = instance.create_run("j", status=RunStatus.STARTED)
        assert instance.signal_run(mine.run_id) is RunSignal.OWN_PROCESS
        instance.set_run_status(mine.run_id, RunStatus.SUCCESS)
        assert instance.signal_run(mine.run_id) is RunSignal.FINISHED

        elsewhere = instance.create_run("j", status=RunStatus.STARTED)
        instance._conn.execute(
            "update runs set host = 'another-host' where run_id = ?", (elsewhere.run_id,)
        )
        instance._conn.commit()
        assert instance.signal_run(elsewhere.run_id) is RunSignal.ELSEWHERE

        dead = subprocess.Popen([sys.executable, "-c", "pass"])
        dead.wait()
        gone = instance.create_run("j", status=RunStatus.STARTED)
        _started_by(instance, gone.run_id, dead.pid, instance_module._identity(os.getpid()))
        assert instance.signal_run(gone.run_id) is RunSignal.GONE


@pytest.mark.skipif(not os.path.exists("/proc/self/stat"), reason="process identity needs /proc")
def test_signal_run_never_signals_a_reused_pid(tmp_path: Path) -> None:
    """A live process whose start time differs from the recorded one is another process that
    took the pid: it gets no signal."""
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        with Instance.local(tmp_path) as instance:
            run = instance.create_run("j", status=RunStatus.STARTED)
            real = instance_module._identity(child.pid)
            assert real is not None
            machine, _, started = real.rpartition("|")
            _started_by(instance, run.run_id, child.pid, f"{machine}|{int(started) - 1}")
            assert instance.signal_run(run.run_id) is RunSignal.GONE
            assert child.poll() is None  # untouched
            _started_by(instance, run.run_id, child.pid, real)
            assert instance.signal_run(run.run_id) is RunSignal.SENT
            assert child.wait(timeout=30) == -signal.SIGTERM
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()


def test_signal_run_without_a_process_identity_needs_a_recent_heartbeat(tmp_path: Path) -> None:
    """Where no identity was recorded, only a run whose process heartbeat recently is
    signalled."""
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        with Instance.local(tmp_path) as instance:
            run = instance.create_run("j", status=RunStatus.STARTED)
            _started_by(instance, run.run_id, child.pid, None)
            instance._conn.execute(
                "update runs set heartbeat_time = 0 where run_id = ?", (run.run_id,)
            )
            instance._conn.commit()
            assert instance.signal_run(run.run_id) is RunSignal.UNVERIFIED
            assert child.poll() is None
            instance.record_heartbeat(run.run_id)
            assert instance.signal_run(run.run_id, signal.SIGKILL) is RunSignal.SENT
            assert child.wait(timeout=30) == -signal.SIGKILL
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
