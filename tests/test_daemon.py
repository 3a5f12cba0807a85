"""The daemon, in process with a controllable clock: ticks, cursors, run keys, failures, cron,
resources per evaluation, process-scoped resources, and launch config reaching the run; and
`outfitter daemon` as a real process: ticks recorded, runs launched with launch config, run_key
dedupe across a restart, SIGTERM shutdown, and the sensors/schedules commands."""

from __future__ import annotations

import datetime as dt
import logging
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

import outfitter as of
from outfitter._daemon import Daemon
from outfitter._instance import Instance
from outfitter.exceptions import DefinitionError
from outfitter.testing import ResourceRecorder


class Database(of.ConfigurableResource):
    table: str


@of.asset
def table_name(db: Database) -> str:
    return db.table


refresh = of.define_asset_job("refresh", selection=[table_name])


class Clock:
    def __init__(self, start: float = 1_700_000_000.0) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now


def make_defs(*sensors: Any, schedules: Any = (), extra: dict[str, Any] | None = None) -> Any:
    return of.Definitions(
        assets=[table_name],
        jobs=[refresh],
        sensors=list(sensors),
        schedules=list(schedules),
        resources={"db": Database.configure_at_launch(), **(extra or {})},
    )


@of.sensor(job=refresh, minimum_interval_seconds=10, default_status="RUNNING")
def per_table(context: of.SensorEvaluationContext):  # type: ignore[no-untyped-def]
    seen = int(context.cursor or 0)
    for i in range(seen, seen + 2):
        yield of.RunRequest(
            run_key=f"t{i}", run_config=of.RunConfig(resources={"db": Database(table=f"t{i}")})
        )
    context.update_cursor(str(seen + 1))


def test_ticks_cursor_run_keys_and_launch_config() -> None:
    """Each tick records its runs; the cursor persists; a run_key launches once; the launched
    run uses the RunConfig's resource config."""
    clock = Clock()
    with of.Instance.ephemeral() as instance:
        daemon = Daemon(make_defs(per_table), instance, clock=clock)
        first = daemon.tick()
        assert len(first) == 2
        assert daemon.tick() == []  # within minimum_interval_seconds: not evaluated
        clock.now += 10
        second = daemon.tick()  # cursor 1: asks t1 (already launched) and t2
        assert len(second) == 1
        daemon.close()
        tables = [
            instance.get_run(r).run_config["resources"]["db"]["config"]["table"]  # type: ignore[union-attr]
            for r in first + second
        ]
        assert tables == ["t0", "t1", "t2"]
        ticks = instance.get_ticks("per_table")
        assert [t.status for t in ticks] == ["SUCCESS", "SUCCESS"]
        assert ticks[0].run_ids == second
        assert ticks[0].cursor == "2"
        state = instance.get_instigator("per_table")
        assert state is not None
        assert state.cursor == "2"
        run = instance.get_run(first[0])
        assert run is not None
        assert run.tags["sensor"] == "per_table"
        assert run.tags["run_key"] == "t0"


def test_run_keys_survive_a_restart(tmp_path: Any) -> None:
    """A new daemon on the same instance never relaunches a used run_key."""

    @of.sensor(job=refresh, minimum_interval_seconds=1, default_status="RUNNING")
    def same_key():  # type: ignore[no-untyped-def]
        return of.RunRequest(
            run_key="only-once", run_config={"resources": {"db": {"config": {"table": "x"}}}}
        )

    clock = Clock()
    for _ in range(2):
        with of.Instance.local(tmp_path) as instance:
            daemon = Daemon(make_defs(same_key), instance, clock=clock)
            daemon.tick()
            daemon.close()
            clock.now += 5
    with of.Instance.local(tmp_path) as instance:
        assert len(instance.get_runs()) == 1
        assert [t.status for t in instance.get_ticks("same_key")] == ["SKIPPED", "SUCCESS"]


def test_a_failing_sensor_records_a_failed_tick_and_others_go_on() -> None:
    """One sensor raising does not stop the daemon or the other sensors."""

    @of.sensor(job=refresh, minimum_interval_seconds=1, default_status="RUNNING")
    def broken():  # type: ignore[no-untyped-def]
        raise RuntimeError("catalog unreachable")

    with of.Instance.ephemeral() as instance:
        daemon = Daemon(make_defs(broken, per_table), instance, clock=Clock())
        launched = daemon.tick()
        daemon.close()
        assert len(launched) == 2
        [tick] = instance.get_ticks("broken")
        assert tick.status == "FAILURE"
        assert tick.error == "RuntimeError: catalog unreachable"


def test_stopped_sensors_are_not_evaluated_until_started() -> None:
    """default_status STOPPED waits for `sensors start` (stored in the instance)."""

    @of.sensor(job=refresh, minimum_interval_seconds=1)
    def waiting():  # type: ignore[no-untyped-def]
        return of.SkipReason("nothing to do")

    with of.Instance.ephemeral() as instance:
        daemon = Daemon(make_defs(waiting), instance, clock=Clock())
        daemon.tick()
        assert instance.get_ticks("waiting") == []
        instance.set_instigator("waiting", "sensor", status="RUNNING")
        daemon.tick()
        daemon.close()
        [tick] = instance.get_ticks("waiting")
        assert (tick.status, tick.skip_reason) == ("SKIPPED", "nothing to do")


def test_resources_open_and_close_for_each_evaluation() -> None:
    """A sensor's resources are opened for each evaluation and closed after it; process-scoped
    ones are shared and close when the daemon closes."""
    rec = ResourceRecorder()

    @of.sensor(job=refresh, minimum_interval_seconds=1, default_status="RUNNING")
    def uses(client: of.ResourceParam[str], pool: of.ResourceParam[str]):  # type: ignore[no-untyped-def]
        return of.SkipReason(f"{client} via {pool}")

    extra = {
        "client": rec.resource("client", requires=["pool"]),
        "pool": rec.resource("pool", scope="process"),
    }
    clock = Clock()
    with of.Instance.ephemeral() as instance:
        daemon = Daemon(make_defs(uses, extra=extra), instance, clock=clock)
        daemon.tick()
        clock.now += 5
        daemon.tick()
        assert rec.events == [
            ("open", "pool"),
            ("open", "client"),
            ("close", "client"),
            ("open", "client"),
            ("close", "client"),
        ]
        daemon.close()
    assert rec.events[-1] == ("close", "pool")


def test_cron_schedule_follows_a_controllable_clock() -> None:
    """A schedule fires once per cron slot; it does not backfill slots from before it started."""
    fired: list[str] = []

    @of.schedule("0 * * * *", job=refresh, default_status="RUNNING")
    def hourly(context: of.ScheduleEvaluationContext):  # type: ignore[no-untyped-def]
        when = context.scheduled_execution_time.isoformat()
        fired.append(when)
        return of.RunRequest(
            run_key=when, run_config={"resources": {"db": {"config": {"table": "h"}}}}
        )

    start = dt.datetime(2026, 1, 1, 10, 30, tzinfo=dt.UTC).timestamp()
    clock = Clock(start)
    with of.Instance.ephemeral() as instance:
        daemon = Daemon(make_defs(schedules=[hourly]), instance, clock=clock)
        daemon.tick()  # starts the schedule at 10:30, no backfill
        clock.now = start + 20 * 60  # 10:50: nothing due
        daemon.tick()
        clock.now = start + 31 * 60  # 11:01: the 11:00 slot
        daemon.tick()
        daemon.tick()  # same slot again: nothing
        clock.now = start + 3 * 3600  # 13:30: latest due slot only (13:00)
        daemon.tick()
        daemon.close()
        assert fired == ["2026-01-01T11:00:00+00:00", "2026-01-01T13:00:00+00:00"]
        assert len(instance.get_runs()) == 2


def test_definitions_validate_sensors() -> None:
    """Missing resources name the sensor; unknown jobs are reported."""

    @of.sensor(job=of.define_asset_job("ghost"))
    def needs(missing: of.ResourceParam[str]):  # type: ignore[no-untyped-def]
        return []

    with pytest.raises(DefinitionError) as info:
        make_defs(needs)
    assert "sensor 'needs' requires resource 'missing', which is not bound" in str(info.value)
    assert "sensor 'needs' targets job 'ghost'" in str(info.value)


def test_direct_invocation_and_contexts() -> None:
    """Sensors and schedules can be called directly with built contexts and resources."""

    @of.sensor
    def counts(context: of.SensorEvaluationContext, db: Database):  # type: ignore[no-untyped-def]
        context.update_cursor("next")
        return [of.RunRequest(run_key=db.table)]

    context = of.build_sensor_context(cursor="start")
    [request] = counts(context, db=Database(table="users"))
    assert request.run_key == "users"
    assert context.cursor == "next"
    # a direct call returns what the function returned, unchecked (Dagster's
    # SensorDefinition.__call__ returns the raw result, sensor_definition.py); the daemon's
    # evaluation is what refuses it
    assert of.sensor(lambda: 3)(of.build_sensor_context()) == 3
    with pytest.raises(of.exceptions.InvocationError, match="returned int"):
        of.sensor(lambda: 3).evaluate(of.build_sensor_context())


def test_run_loop_stops_and_closes_process_resources() -> None:
    """Daemon.run ends (max_ticks or stop()) and closes process-scoped resources."""
    rec = ResourceRecorder()

    @of.sensor(job=refresh, minimum_interval_seconds=1, default_status="RUNNING")
    def pooled(pool: of.ResourceParam[str]):  # type: ignore[no-untyped-def]
        return of.SkipReason(pool)

    with of.Instance.ephemeral() as instance:
        daemon = Daemon(
            make_defs(pooled, extra={"pool": rec.resource("pool", scope="process")}),
            instance,
            clock=Clock(),
            poll_interval=0.01,
        )
        daemon.run(max_ticks=3)
    assert rec.events == [("open", "pool"), ("close", "pool")]


def test_asset_selection_limits_the_launched_run() -> None:
    """RunRequest(asset_selection=...) materializes only those assets."""

    @of.asset
    def other() -> int:
        return 1

    @of.sensor(minimum_interval_seconds=1, default_status="RUNNING")
    def only_other():  # type: ignore[no-untyped-def]
        return of.RunRequest(run_key="k", asset_selection=["other"])

    defs = of.Definitions(
        assets=[table_name, other], sensors=[only_other], resources={"db": Database(table="unused")}
    )
    with of.Instance.ephemeral() as instance:
        daemon = Daemon(defs, instance, clock=Clock())
        [run_id] = daemon.tick()
        daemon.close()
        steps = {e.step_key for e in instance.all_events(run_id) if e.step_key}
    assert steps == {"other"}


# -- `outfitter daemon` as a real process ----------------------------------------------------------


ROOT = Path(__file__).resolve().parents[1]


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


# -- SIGTERM, isolation, concurrent daemons -------------------------------------------------------

DEFS = ROOT / "tests" / "daemon_defs.py"


def start_daemon(work: Path, **settings: str) -> subprocess.Popen[str]:
    env = {
        **os.environ,
        "OUTFITTER_HOME": str(work / "home"),
        "DAEMON_WORK": str(work),
        **{f"DAEMON_{k.upper()}": v for k, v in settings.items()},
    }
    return subprocess.Popen(
        [sys.executable, "-m", "outfitter.cli", "daemon", "-f", str(DEFS), "--poll", "0.02"],
        env=env,
        stderr=subprocess.PIPE,
        text=True,
    )


def log_lines(path: Path) -> list[str]:
    return path.read_text().splitlines() if path.exists() else []


def test_sigterm_lets_the_run_in_flight_finish(tmp_path: Path) -> None:
    """SIGTERM while a launched run's step runs: the run completes (SUCCESS, resources
    closed), its tick is recorded, and the daemon exits 0."""
    proc = start_daemon(tmp_path, keys="1", step_seconds="1.5")
    try:
        wait_for(
            lambda: any(line.startswith("start k0") for line in log_lines(tmp_path / "steps.log"))
        )
        os.kill(proc.pid, signal.SIGTERM)
        _, stderr = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert proc.returncode == 0, stderr
    assert "SIGTERM received: finishing the current tick" in stderr
    assert "daemon stopped" in stderr
    assert [line.split()[0:2] for line in log_lines(tmp_path / "steps.log")] == [
        ["start", "k0"],
        ["finish", "k0"],
    ]
    resources = [line.split()[0] for line in log_lines(tmp_path / "resources.log")]
    assert resources == ["open", "close"]
    with Instance.local(tmp_path / "home") as instance:
        [run] = instance.get_runs()
        assert run.status.value == "SUCCESS"
        [tick] = instance.get_ticks("keys")
        assert (tick.status, tick.run_ids) == ("SUCCESS", [run.run_id])
        assert instance.run_key_run("keys", "k0") == run.run_id


def test_a_second_sigterm_cancels_the_run_in_flight(tmp_path: Path) -> None:
    """Asked twice, the daemon cancels the run in flight: it is recorded CANCELED after its
    resources closed, and the daemon stops."""
    proc = start_daemon(tmp_path, keys="1", step_seconds="120")
    try:
        wait_for(
            lambda: any(line.startswith("start k0") for line in log_lines(tmp_path / "steps.log"))
        )
        os.kill(proc.pid, signal.SIGTERM)
        wait_for(lambda: "SIGTERM received" in (proc.stderr.readline() if proc.stderr else ""))
        os.kill(proc.pid, signal.SIGTERM)
        proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert proc.returncode != 0
    resources = [line.split()[0] for line in log_lines(tmp_path / "resources.log")]
    assert resources == ["open", "close"]
    with Instance.local(tmp_path / "home") as instance:
        [run] = instance.get_runs()
        assert run.status.value == "CANCELED"


def test_a_schedule_that_fails_to_schedule_is_isolated() -> None:
    """An unknown timezone and a cron that never fires are FAILURE ticks (the same failure
    recorded once a minute, not at every poll); the good sensor launches."""

    @of.schedule("0 * * * *", job=refresh, default_status="RUNNING")
    def lost_in_space(context: of.ScheduleEvaluationContext):  # type: ignore[no-untyped-def]
        return of.RunRequest(run_key="never")

    @of.schedule("0 * * * *", job=refresh, default_status="RUNNING")
    def never(context: of.ScheduleEvaluationContext):  # type: ignore[no-untyped-def]
        return of.RunRequest(run_key="never")

    clock = Clock()
    defs = make_defs(per_table, schedules=[lost_in_space, never])
    # what definition-time validation refuses, set afterwards: the loop must survive it anyway
    lost_in_space.execution_timezone = "Mars/Olympus_Mons"
    never.cron_schedule = "0 0 31 2 *"
    with of.Instance.ephemeral() as instance:
        daemon = Daemon(defs, instance, clock=clock)
        for name in ("lost_in_space", "never"):  # started before: a slot is looked for
            instance.set_instigator(
                name, "schedule", status="RUNNING", last_tick_time=clock.now - 7200
            )
        assert len(daemon.tick()) == 2
        clock.now += 10
        assert len(daemon.tick()) == 1  # t2; the broken schedules fail again, unrecorded
        clock.now += 60
        daemon.tick()
        daemon.close()
        for name, error in (
            ("lost_in_space", "Mars/Olympus_Mons"),
            ("never", "CroniterBadDateError"),
        ):
            ticks = instance.get_ticks(name)
            assert [t.status for t in ticks] == ["FAILURE", "FAILURE"], name
            assert error in (ticks[0].error or "")


def test_a_request_that_cannot_launch_fails_the_tick_not_the_others() -> None:
    """A request whose run config is invalid claims nothing and is named in the FAILURE tick;
    the other requests of the evaluation launch."""
    requests = [
        of.RunRequest(run_key="bad", run_config={"resources": {"db": {"config": {"tabel": 1}}}}),
        of.RunRequest(run_key="good", run_config={"resources": {"db": {"config": {"table": "g"}}}}),
    ]

    @of.sensor(job=refresh, minimum_interval_seconds=1, default_status="RUNNING")
    def mixed():  # type: ignore[no-untyped-def]
        return requests

    with of.Instance.ephemeral() as instance:
        daemon = Daemon(make_defs(mixed), instance, clock=Clock())
        [launched] = daemon.tick()
        daemon.close()
        [tick] = instance.get_ticks("mixed")
        assert tick.status == "FAILURE"
        assert tick.run_ids == [launched]
        assert (tick.error or "").startswith("run request 'bad': ConfigError:")
        assert instance.run_key_run("mixed", "bad") is None
        assert instance.run_key_run("mixed", "good") == launched


def test_two_daemons_on_one_instance_launch_each_key_once(tmp_path: Path) -> None:
    """Two daemons ticking at once over the same keys: every key has exactly one run."""
    import threading

    @of.sensor(job=refresh, minimum_interval_seconds=1, default_status="RUNNING")
    def shared():  # type: ignore[no-untyped-def]
        return [
            of.RunRequest(
                run_key=f"k{i}", run_config={"resources": {"db": {"config": {"table": f"t{i}"}}}}
            )
            for i in range(8)
        ]

    errors: list[BaseException] = []

    def one_daemon() -> None:
        try:
            with Instance.local(tmp_path) as instance:
                daemon = Daemon(make_defs(shared), instance, clock=Clock())
                daemon.tick()
                daemon.close()
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=one_daemon) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    with Instance.local(tmp_path) as instance:
        keys = sorted(r.tags["run_key"] for r in instance.get_runs())
    assert keys == [f"k{i}" for i in range(8)]


def test_a_key_claimed_by_a_daemon_that_crashed_before_launching_is_launched(
    tmp_path: Path,
) -> None:
    """An older daemon claimed the key, then died before its run was created: the next
    evaluation that asks for it launches it."""
    with Instance.local(tmp_path) as instance:
        assert instance.claim_run_key("per_table", "t0")
        daemon = Daemon(make_defs(per_table), instance, clock=Clock())
        launched = daemon.tick()
        daemon.close()
        assert len(launched) == 2
        assert instance.run_key_run("per_table", "t0") in launched


# -- what the daemon prints (logger "outfitter.daemon") ------------------------------------------


def _daemon_records(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.name == "outfitter.daemon"]


def test_each_launched_run_is_announced(caplog: pytest.LogCaptureFixture) -> None:
    """Every launched run is logged at INFO with the sensor, its run key and the run id."""
    caplog.set_level(logging.INFO, logger="outfitter.daemon")
    with of.Instance.ephemeral() as instance:
        daemon = Daemon(make_defs(per_table), instance, clock=Clock())
        launched = daemon.tick()
        daemon.close()
    infos = [r.getMessage() for r in _daemon_records(caplog) if r.levelno == logging.INFO]
    assert len(infos) == 2
    for run_id, key, line in zip(launched, ["t0", "t1"], infos, strict=True):
        assert line == f"sensor 'per_table' launched run {run_id} (run key '{key}'): SUCCESS"


def test_a_request_that_cannot_launch_is_one_error_with_its_config_problems(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A RunRequest whose run config is invalid is reported once per tick as a launch failure
    naming the config problem, not as the sensor failing, and without a traceback."""

    @of.sensor(job=refresh, minimum_interval_seconds=1, default_status="RUNNING")
    def misconfigured():  # type: ignore[no-untyped-def]
        yield of.RunRequest(run_key="a", run_config={"resources": {"db": {"config": {"tabel": 1}}}})
        yield of.RunRequest(run_key="b", run_config={"resources": {"db": {"config": {"tabel": 2}}}})

    caplog.set_level(logging.DEBUG, logger="outfitter.daemon")
    with of.Instance.ephemeral() as instance:
        daemon = Daemon(make_defs(misconfigured), instance, clock=Clock())
        assert daemon.tick() == []
        daemon.close()
    errors = [r for r in _daemon_records(caplog) if r.levelno >= logging.ERROR]
    assert len(errors) == 1
    text = errors[0].getMessage()
    assert text.startswith("sensor 'misconfigured': tick failed: 2 of 2 run request(s) could not")
    assert "run request 'a': ConfigError" in text
    assert "run request 'b': ConfigError" in text
    assert "tabel" in text
    assert "evaluation raised" not in text
    assert all(r.exc_info is None for r in _daemon_records(caplog))


def test_an_evaluation_that_raises_is_an_evaluation_failure(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A sensor that raises is logged as its evaluation failing, once, with a traceback only
    when the daemon runs with debug."""

    @of.sensor(job=refresh, minimum_interval_seconds=1, default_status="RUNNING")
    def raising():  # type: ignore[no-untyped-def]
        raise RuntimeError("catalog unreachable")

    caplog.set_level(logging.INFO, logger="outfitter.daemon")
    for debug in (False, True):
        caplog.clear()
        with of.Instance.ephemeral() as instance:
            daemon = Daemon(make_defs(raising), instance, clock=Clock(), debug=debug)
            daemon.tick()
            daemon.close()
        (record,) = _daemon_records(caplog)
        assert record.levelno == logging.ERROR
        assert record.getMessage() == (
            "sensor 'raising': tick failed: evaluation raised RuntimeError: catalog unreachable"
        )
        assert (record.exc_info is not None) is debug


def test_the_daemon_command_prints_its_announcements(tmp_path: Path) -> None:
    """`outfitter daemon` shows launched runs and failed ticks on stderr, without a traceback."""
    (tmp_path / "defs.py").write_text(
        "import outfitter as of\n"
        "@of.asset\n"
        "def one() -> int:\n"
        "    return 1\n"
        "@of.sensor(minimum_interval_seconds=1, default_status='RUNNING')\n"
        "def good():\n"
        "    return of.RunRequest(run_key='k1')\n"
        "@of.sensor(minimum_interval_seconds=1, default_status='RUNNING')\n"
        "def bad():\n"
        "    return of.RunRequest(run_key='k2', run_config={'ops': {'nope': {}}})\n"
        "defs = of.Definitions(assets=[one], sensors=[good, bad])\n"
    )
    env = {**os.environ, "OUTFITTER_HOME": str(tmp_path / "home")}
    done = subprocess.run(
        [sys.executable, "-m", "outfitter.cli", "daemon", "-f", "defs.py", "--max-ticks", "1"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert "sensor 'good' launched run " in done.stderr
    assert "(run key 'k1'): SUCCESS" in done.stderr
    assert "sensor 'bad': tick failed: 1 of 1 run request(s) could not launch" in done.stderr
    assert "nope" in done.stderr
    assert "Traceback" not in done.stderr


def test_a_sensor_s_log_lines_are_masked_in_the_daemon_s_log(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """``context.log`` of a sensor the daemon evaluates prints through the daemon's log
    (``outfitter.daemon.<sensor>``) with the secrets its resources resolved masked, in the
    message, its arguments and a logged traceback."""
    marker = "daemon-log-marker-7f3a"
    monkeypatch.setenv("SENSOR_TOKEN", marker)

    class Api(of.ConfigurableResource):
        token: str

    @of.asset
    def rows() -> int:
        return 1

    all_rows = of.define_asset_job("all_rows")

    @of.sensor(job=all_rows, minimum_interval_seconds=1)
    def chatty(context: of.SensorEvaluationContext, api: Api) -> of.SkipReason:
        context.log.info("checking with %s", api.token)
        try:
            raise ValueError(f"refused {api.token}")
        except ValueError:
            context.log.exception("call failed")
        return of.SkipReason("nothing new")

    defs = of.Definitions(
        assets=[rows],
        jobs=[all_rows],
        sensors=[chatty],
        resources={"api": Api(token=of.EnvVar("SENSOR_TOKEN"))},
    )
    with Instance.ephemeral() as instance, caplog.at_level(logging.INFO, "outfitter.daemon"):
        instance.set_instigator("chatty", "sensor", status="RUNNING")
        Daemon(defs, instance).tick()
    lines = [(r.name, r.getMessage()) for r in caplog.records]
    assert ("outfitter.daemon.chatty", "checking with ***") in lines
    assert any(m.startswith("call failed\nTraceback") and "refused ***" in m for _, m in lines)
    assert marker not in caplog.text
