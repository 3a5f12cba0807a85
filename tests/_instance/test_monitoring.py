"""Run monitoring in the instance: the process that starts a run is recorded with it, heartbeats
stamp it, and mark_dead_runs() fails the STARTED runs whose process is gone (killed with a
real SIGKILL here), whose pid now belongs to another process, or (another host) that stopped
heartbeating; a live run is never marked. Also run keys claimed with their run."""

from __future__ import annotations

import os
import socket
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from outfitter._instance import EventType, Instance, RunStatus
from outfitter._instance import instance as instance_module

STARTER = """
import sys, time
from outfitter._instance import Instance, RunStatus
with Instance.local(sys.argv[1]) as instance:
    run = instance.create_run("victim")
    instance.set_run_status(run.run_id, RunStatus.STARTED)
    print(run.run_id, flush=True)
    time.sleep(120)
"""


def start_and_kill(home: Path) -> tuple[str, int]:
    """A real process starts a run, then is killed with SIGKILL: (run id, its pid)."""
    proc = subprocess.Popen(
        [sys.executable, "-c", STARTER, str(home)], stdout=subprocess.PIPE, text=True
    )
    try:
        assert proc.stdout is not None
        run_id = proc.stdout.readline().strip()
        assert run_id, "the run never started"
    finally:
        proc.kill()
        proc.communicate(timeout=60)
    return run_id, proc.pid


def edit(home: Path, sql: str, *args: object) -> None:
    conn = sqlite3.connect(home / "runs.db")
    with conn:
        conn.execute(sql, args)
    conn.close()


def test_starting_a_run_records_its_process_and_heartbeats_stamp_it(tmp_path: Path) -> None:
    """STARTED stamps the pid, host and a first heartbeat; record_heartbeat moves it on."""
    with Instance.local(tmp_path) as instance:
        run = instance.create_run("j")
        assert instance.get_run(run.run_id).pid is None  # type: ignore[union-attr]
        instance.set_run_status(run.run_id, RunStatus.STARTED)
        started = instance.get_run(run.run_id)
        assert started is not None
        assert (started.pid, started.host) == (os.getpid(), socket.gethostname())
        assert started.heartbeat_time is not None
        edit(tmp_path, "update runs set heartbeat_time = 1 where run_id = ?", run.run_id)
        instance.record_heartbeat(run.run_id)
        beaten = instance.get_run(run.run_id)
        assert beaten is not None
        assert beaten.heartbeat_time is not None
        assert beaten.heartbeat_time > 1


def test_a_killed_process_leaves_a_run_that_the_next_look_fails(tmp_path: Path) -> None:
    """SIGKILL of the run's process: opening the instance records the run FAILURE with a
    RUN_FAILURE event naming the pid and host and saying what to do; marking is done once."""
    run_id, pid = start_and_kill(tmp_path)
    with Instance.local(tmp_path) as instance:  # opening looks
        run = instance.get_run(run_id)
        assert run is not None
        assert run.status is RunStatus.FAILURE
        assert run.end_time is not None
        [event] = instance.all_events(run_id, event_type=EventType.RUN_FAILURE)
        host = socket.gethostname()
        assert event.message.startswith(
            f"the process running this run (pid {pid} on {host}) stopped without finishing it "
            "(the process no longer exists)"
        )
        assert "rerun it" in event.message
        assert instance.mark_dead_runs() == []  # already marked: not again


def test_a_live_run_is_never_marked(tmp_path: Path) -> None:
    """A run whose process is alive stays STARTED, however old its heartbeat."""
    with Instance.local(tmp_path) as instance:
        run = instance.create_run("alive")
        instance.set_run_status(run.run_id, RunStatus.STARTED)
        edit(tmp_path, "update runs set heartbeat_time = 1 where run_id = ?", run.run_id)
        assert instance.mark_dead_runs(stale_after=0) == []
        assert instance.get_run(run.run_id).status is RunStatus.STARTED  # type: ignore[union-attr]


def test_a_reused_pid_is_not_the_run_process(tmp_path: Path) -> None:
    """The run's pid now belongs to another process (another start time): the run is dead."""
    if instance_module._identity(os.getpid()) is None:
        pytest.skip("no /proc: process identities are not recorded here")
    with Instance.local(tmp_path) as instance:
        run = instance.create_run("reused")
        instance.set_run_status(run.run_id, RunStatus.STARTED)
        identity = instance_module._identity(os.getpid())
        assert identity is not None
        machine, _, started = identity.rpartition("|")
        edit(
            tmp_path,
            "update runs set process = ? where run_id = ?",
            f"{machine}|{int(started) - 1}",
            run.run_id,
        )
        assert instance.mark_dead_runs() == [run.run_id]


def test_runs_on_another_host_are_judged_by_their_heartbeat(tmp_path: Path) -> None:
    """Another host's process cannot be checked from here: its run is dead once it missed
    heartbeats for longer than the limit, and not before."""
    with Instance.local(tmp_path) as instance:
        fresh, stale = instance.create_run("fresh"), instance.create_run("stale")
        for run in (fresh, stale):
            instance.set_run_status(run.run_id, RunStatus.STARTED)
            sql = "update runs set host = 'elsewhere', pid = 1 where run_id = ?"
            edit(tmp_path, sql, run.run_id)
        old = time.time() - instance_module.STALE_AFTER - 30
        edit(tmp_path, "update runs set heartbeat_time = ? where run_id = ?", old, stale.run_id)
        assert instance.mark_dead_runs() == [stale.run_id]
        assert instance.get_run(fresh.run_id).status is RunStatus.STARTED  # type: ignore[union-attr]
        [event] = instance.all_events(stale.run_id, event_type=EventType.RUN_FAILURE)
        assert "(pid 1 on elsewhere)" in event.message
        assert f"more than the {instance_module.STALE_AFTER:g} s limit" in event.message


def test_runs_without_a_process_are_left_alone(tmp_path: Path) -> None:
    """Queued runs, and STARTED runs recorded before monitoring existed, are not judged."""
    with Instance.local(tmp_path) as instance:
        queued = instance.create_run("queued")
        legacy = instance.create_run("legacy")
        edit(tmp_path, "update runs set status = 'STARTED' where run_id = ?", legacy.run_id)
        assert instance.mark_dead_runs(stale_after=0) == []
        assert instance.get_run(queued.run_id).status is RunStatus.QUEUED  # type: ignore[union-attr]


def test_many_lookers_mark_a_dead_run_once(tmp_path: Path) -> None:
    """Processes and threads looking at once: one RUN_FAILURE event, one marking."""
    run_id, _ = start_and_kill(tmp_path / "home")
    script = (
        "import sys\nfrom outfitter._instance import Instance\n"
        "with Instance(sys.argv[1] + '/runs.db', sys.argv[1] + '/storage') as i:\n"
        "    print(len(i.mark_dead_runs()))\n"
    )
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", script, str(tmp_path / "home")],
            stdout=subprocess.PIPE,
            text=True,
        )
        for _ in range(4)
    ]
    marked: list[int] = []

    def look() -> None:
        with Instance(str(tmp_path / "home" / "runs.db"), str(tmp_path / "storage")) as i:
            marked.append(len(i.mark_dead_runs()))

    threads = [threading.Thread(target=look) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for p in procs:
        out, _ = p.communicate(timeout=60)
        marked.append(int(out))
    assert sum(marked) == 1
    with Instance.local(tmp_path / "home") as instance:
        assert len(instance.all_events(run_id, event_type=EventType.RUN_FAILURE)) == 1


def test_a_version_2_database_gains_run_monitoring(tmp_path: Path) -> None:
    """A database from before heartbeats is upgraded: its runs are kept, without a process."""
    db, storage = str(tmp_path / "runs.db"), str(tmp_path / "storage")
    with Instance(db, storage, migrations=instance_module.MIGRATIONS[:2]) as old:
        run = old.create_run("before")
    with Instance.local(tmp_path) as new:
        record = new.get_run(run.run_id)
        assert record is not None
        assert (record.pid, record.host, record.heartbeat_time) == (None, None, None)


def test_a_run_key_is_claimed_with_its_run_or_not_at_all(tmp_path: Path) -> None:
    """create_run_for_key claims the key and creates the run in one transaction; a key that
    launched a run is never claimed again; one claimed by an older daemon that crashed before
    creating its run is taken over."""
    with Instance.local(tmp_path) as instance:
        first = instance.create_run_for_key("s", "k", "job", status=RunStatus.STARTED)
        assert first is not None
        assert instance.run_key_run("s", "k") == first.run_id
        assert instance.get_run(first.run_id).pid == os.getpid()  # type: ignore[union-attr]
        assert instance.create_run_for_key("s", "k", "job") is None
        assert len(instance.get_runs()) == 1
        assert instance.claim_run_key("s", "old")  # an older daemon's claim, never launched
        assert instance.run_key_run("s", "old") is None
        taken = instance.create_run_for_key("s", "old", "job")
        assert taken is not None
        assert instance.run_key_run("s", "old") == taken.run_id


def test_a_damaged_database_and_a_home_in_the_way_are_config_errors(tmp_path: Path) -> None:
    """The errors name the file and say what to do."""
    from outfitter.exceptions import ConfigError

    (tmp_path / "file").write_text("x")
    with pytest.raises(ConfigError, match="is a file, not a directory"):
        Instance.local(tmp_path / "file")
    with Instance.local(tmp_path / "home"):
        pass
    (tmp_path / "home" / "runs.db").write_bytes(b"not sqlite" * 500)
    for extra in (tmp_path / "home").glob("runs.db-*"):
        extra.unlink()
    with pytest.raises(ConfigError) as info:
        Instance.local(tmp_path / "home")
    assert str(tmp_path / "home" / "runs.db") in str(info.value)
    assert "move it aside" in str(info.value)


def test_an_ephemeral_run_is_alive_while_its_process_is(outfitter_instance: Instance) -> None:
    """In memory, the run is this process's: looking never marks it."""
    instance = outfitter_instance
    run = instance.create_run("mem")
    instance.set_run_status(run.run_id, RunStatus.STARTED)
    instance.record_heartbeat(run.run_id)
    assert instance.mark_dead_runs(stale_after=0) == []
    assert instance.in_memory


def test_signal_zero_decides_where_no_identity_was_recorded(tmp_path: Path) -> None:
    """A run recorded where /proc was missing (no identity) is judged by whether its pid
    exists."""
    run_id, pid = start_and_kill(tmp_path)
    edit(tmp_path, "update runs set process = null, status = 'STARTED' where run_id = ?", run_id)
    with Instance(str(tmp_path / "runs.db"), str(tmp_path / "storage")) as instance:
        mine = instance.create_run("mine")
        instance.set_run_status(mine.run_id, RunStatus.STARTED)
        edit(tmp_path, "update runs set process = null where run_id = ?", mine.run_id)
        gone_now = instance.mark_dead_runs()
    assert run_id in gone_now or _pid_exists(pid)
    assert mine.run_id not in gone_now


def _pid_exists(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True
