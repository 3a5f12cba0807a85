"""The daemon running every kind of sensor and schedule Dagster code locations use, with a
controllable clock: ``@sensor(job_name=...)``, ``@sensor(jobs=[...])`` with
``RunRequest(job_name=...)``, ``@asset_sensor``, ``@multi_asset_sensor``,
``@run_status_sensor``, ``@run_failure_sensor`` alerting through a resource,
``ScheduleDefinition`` without a function, and ``default_status`` honoured; cursors persist in
the instance across ticks and daemons."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest

import outfitter as of
from outfitter._daemon import Daemon


class Clock:
    def __init__(self, start: float = 1_700_000_000.0) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now


class Alerts(of.ConfigurableResource):
    """Appends one line per alert to ``path`` (stands in for Slack or a pager)."""

    path: str

    def send(self, text: str) -> None:
        with open(self.path, "a") as f:
            f.write(text + "\n")


@of.asset
def orders() -> int:
    return 1


@of.asset
def users() -> int:
    return 2


@of.asset
def report() -> int:
    return 3


@of.asset
def broken() -> int:
    raise ValueError("upstream file is empty")


orders_job = of.define_asset_job("orders_job", selection=[orders])
users_job = of.define_asset_job("users_job", selection=[users])
report_job = of.define_asset_job("report_job", selection=[report])
broken_job = of.define_asset_job("broken_job", selection=[broken])


def make_defs(*sensors: Any, schedules: Any = (), resources: Any = None) -> of.Definitions:
    return of.Definitions(
        assets=[orders, users, report, broken],
        jobs=[orders_job, users_job, report_job, broken_job],
        sensors=list(sensors),
        schedules=list(schedules),
        resources=resources or {},
    )


def job_names(instance: of.Instance, run_ids: list[str]) -> list[str]:
    names = []
    for run_id in run_ids:
        run = instance.get_run(run_id)
        assert run is not None
        names.append(run.job_name)
    return names


def run(defs: of.Definitions, name: str, instance: of.Instance) -> of.ExecuteResult:
    result: of.ExecuteResult = defs.get_job_def(name).execute(
        instance=instance, raise_on_error=False
    )
    return result


# -- @sensor(job_name=...), @sensor(jobs=[...]) -------------------------------------------------


def test_sensor_with_job_name_launches_that_job() -> None:
    """``job_name=`` targets a job of the Definitions by name (Dagster's @sensor(job_name=...),
    python_modules/dagster/dagster/_core/definitions/decorators/sensor_decorator.py)."""

    @of.sensor(job_name="report_job", minimum_interval_seconds=1, default_status="RUNNING")
    def by_name(context: of.SensorEvaluationContext) -> of.RunRequest:
        return of.RunRequest(run_key="once")

    with of.Instance.ephemeral() as instance:
        daemon = Daemon(make_defs(by_name), instance, clock=Clock())
        launched = daemon.tick()
        daemon.close()
        assert job_names(instance, launched) == ["report_job"]


def test_sensor_with_several_jobs_launches_the_one_each_request_names() -> None:
    """``jobs=[...]``: each RunRequest names its job with ``job_name=`` (Dagster:
    sensor_definition.py resolves RunRequest.job_name among the sensor's targets)."""

    @of.sensor(jobs=[orders_job, users_job], minimum_interval_seconds=1, default_status="RUNNING")
    def both():  # type: ignore[no-untyped-def]
        yield of.RunRequest(run_key="o", job_name="orders_job")
        yield of.RunRequest(run_key="u", job_name="users_job")

    with of.Instance.ephemeral() as instance:
        daemon = Daemon(make_defs(both), instance, clock=Clock())
        launched = daemon.tick()
        daemon.close()
        assert job_names(instance, launched) == ["orders_job", "users_job"]


def test_a_request_without_job_name_from_a_several_jobs_sensor_fails_its_tick() -> None:
    """A sensor with several jobs must say which one each request runs; the tick fails with a
    message naming the sensor and the fix, and a job outside its targets is refused too."""

    @of.sensor(jobs=[orders_job, users_job], minimum_interval_seconds=1, default_status="RUNNING")
    def vague():  # type: ignore[no-untyped-def]
        yield of.RunRequest(run_key="a")
        yield of.RunRequest(run_key="b", job_name="report_job")

    with of.Instance.ephemeral() as instance:
        daemon = Daemon(make_defs(vague), instance, clock=Clock())
        assert daemon.tick() == []
        daemon.close()
        [tick] = instance.get_ticks("vague")
        assert tick.status == "FAILURE"
        assert tick.error is not None
        assert (
            "sensor 'vague' targets several jobs (orders_job, users_job) and a RunRequest does "
            "not say which" in tick.error
        )
        assert (
            "sensor 'vague' requested a run of job 'report_job', which is not one of its jobs "
            "(orders_job, users_job)" in tick.error
        )


# -- default_status ------------------------------------------------------------------------------


def test_default_status_enums_are_honoured() -> None:
    """DefaultSensorStatus.RUNNING is evaluated at the first tick; STOPPED waits for a start
    stored in the instance (Dagster: DefaultSensorStatus in sensor_definition.py,
    DefaultScheduleStatus in schedule_definition.py; the stored state wins once there is one)."""

    @of.sensor(job_name="report_job", default_status=of.DefaultSensorStatus.RUNNING)
    def on() -> of.SkipReason:
        return of.SkipReason("on")

    @of.sensor(job_name="report_job", default_status=of.DefaultSensorStatus.STOPPED)
    def off() -> of.SkipReason:
        return of.SkipReason("off")

    with of.Instance.ephemeral() as instance:
        daemon = Daemon(make_defs(on, off), instance, clock=Clock())
        daemon.tick()
        assert [t.skip_reason for t in instance.get_ticks("on")] == ["on"]
        assert instance.get_ticks("off") == []
        state = instance.get_instigator("off")
        assert state is not None
        assert state.status == "STOPPED"
        instance.set_instigator("off", "sensor", status="RUNNING")
        instance.set_instigator("on", "sensor", status="STOPPED")
        daemon.clock.now += 60  # type: ignore[attr-defined]
        daemon.tick()
        daemon.close()
        assert [t.skip_reason for t in instance.get_ticks("off")] == ["off"]
        assert len(instance.get_ticks("on")) == 1  # stopped: not evaluated again


def test_schedule_definition_without_a_function_requests_its_run_config() -> None:
    """``ScheduleDefinition(name=, cron_schedule=, job_name=, run_config=)`` asks for one run
    per cron slot with that config (Dagster's ScheduleDefinition without execution_fn,
    schedule_definition.py); DefaultScheduleStatus.RUNNING starts it without a command."""
    nightly = of.ScheduleDefinition(
        name="nightly",
        cron_schedule="0 3 * * *",
        job_name="report_job",
        run_config={"ops": {}},
        execution_timezone="Europe/Paris",
        default_status=of.DefaultScheduleStatus.RUNNING,
    )
    start = dt.datetime(2026, 1, 1, 12, 0, tzinfo=dt.UTC).timestamp()
    clock = Clock(start)
    with of.Instance.ephemeral() as instance:
        daemon = Daemon(make_defs(schedules=[nightly]), instance, clock=clock)
        assert daemon.tick() == []  # starts now: no backfill
        clock.now = start + 15 * 3600  # 03:00 Paris is 02:00 UTC the next day
        launched = daemon.tick()
        daemon.close()
        assert job_names(instance, launched) == ["report_job"]
        run_record = instance.get_run(launched[0])
        assert run_record is not None
        assert run_record.tags["schedule"] == "nightly"


# -- @asset_sensor -------------------------------------------------------------------------------


def test_asset_sensor_fires_once_per_new_materialization_and_keeps_its_cursor(
    tmp_path: Path,
) -> None:
    """An asset sensor is called with the newest materialization after its cursor, and stores
    that event's id as cursor, so the next tick only sees newer ones (Dagster:
    asset_sensor_definition.py reads the latest event after the cursor and calls
    context.update_cursor(str(storage_id))). The cursor survives a new daemon."""
    seen: list[str] = []

    @of.asset_sensor(
        asset_key=of.AssetKey("orders"),
        job=report_job,
        minimum_interval_seconds=1,
        default_status="RUNNING",
    )
    def orders_changed(
        context: of.SensorEvaluationContext, asset_event: of.EventLogEntry
    ) -> of.RunRequest:
        seen.append(asset_event.dagster_event.asset_key.to_user_string())
        return of.RunRequest(run_key=str(asset_event.storage_id))

    defs = make_defs(orders_changed)
    clock = Clock()
    with of.Instance.local(tmp_path) as instance:
        daemon = Daemon(defs, instance, clock=clock)
        assert daemon.tick() == []  # nothing materialized yet
        run(defs, "users_job", instance)  # another asset: not seen
        clock.now += 1
        assert daemon.tick() == []
        first = run(defs, "orders_job", instance)
        clock.now += 1
        launched = daemon.tick()
        assert job_names(instance, launched) == ["report_job"]
        [event] = instance.all_events(
            first.run_id, event_type=of._instance.EventType.ASSET_MATERIALIZATION
        )
        state = instance.get_instigator("orders_changed")
        assert state is not None
        assert state.cursor == str(event.id)
        clock.now += 1
        assert daemon.tick() == []  # the same materialization is not seen twice
        daemon.close()
        # a tick that finds nothing of its asset moves past every event it scanned, so the
        # next scan does not read them again
        state = instance.get_instigator("orders_changed")
        assert state is not None
        assert state.cursor == str(instance.last_event_id())
    with of.Instance.local(tmp_path) as instance:  # a restarted daemon reads the cursor
        daemon = Daemon(defs, instance, clock=clock)
        run(defs, "orders_job", instance)
        run(defs, "orders_job", instance)
        clock.now += 1
        assert len(daemon.tick()) == 1  # the newest of the two new ones only
        daemon.close()
    assert seen == ["orders", "orders"]


# -- @multi_asset_sensor -------------------------------------------------------------------------


def test_multi_asset_sensor_waits_for_every_monitored_asset() -> None:
    """The function reads the newest materialization per key after the cursor and advances all
    cursors when it requests a run (Dagster's MultiAssetSensorEvaluationContext,
    multi_asset_sensor_definition.py); the cursor is stored as JSON, one position per key."""

    @of.multi_asset_sensor(
        monitored_assets=[orders, of.AssetKey("users")],
        job_name="report_job",
        minimum_interval_seconds=1,
        default_status="RUNNING",
    )
    def both_fresh(context: of.MultiAssetSensorEvaluationContext):  # type: ignore[no-untyped-def]
        latest = context.latest_materialization_records_by_key()
        if not all(latest.values()):
            return of.SkipReason(
                "waiting for "
                + ", ".join(k.to_user_string() for k, v in latest.items() if v is None)
            )
        context.advance_all_cursors()
        return of.RunRequest(run_key=",".join(str(r.storage_id) for r in latest.values() if r))

    defs = make_defs(both_fresh)
    clock = Clock()
    with of.Instance.ephemeral() as instance:
        daemon = Daemon(defs, instance, clock=clock)
        run(defs, "orders_job", instance)
        daemon.tick()
        assert instance.get_ticks("both_fresh")[0].skip_reason == "waiting for users"
        run(defs, "users_job", instance)
        clock.now += 1
        launched = daemon.tick()
        assert job_names(instance, launched) == ["report_job"]
        clock.now += 1
        daemon.tick()  # cursors advanced: both wait again
        assert instance.get_ticks("both_fresh")[0].skip_reason == "waiting for orders, users"
        daemon.close()
        state = instance.get_instigator("both_fresh")
        assert state is not None
        assert state.cursor is not None
        assert set(json.loads(state.cursor)) == {"orders", "users"}


def test_multi_asset_sensor_that_requests_without_advancing_fails_its_tick() -> None:
    """Requesting runs without advancing the cursor would handle the same materializations
    again at every tick; Dagster raises DagsterInvalidDefinitionError there
    (multi_asset_sensor_definition.py), we fail the tick with the fix."""

    @of.multi_asset_sensor(monitored_assets=["orders"], job_name="report_job")
    def forgetful(context):  # type: ignore[no-untyped-def]
        if context.latest_materialization_records_by_key()[of.AssetKey("orders")]:
            return of.RunRequest()
        return None

    defs = make_defs(forgetful)
    with of.Instance.ephemeral() as instance:
        run(defs, "orders_job", instance)
        with pytest.raises(of.exceptions.InvocationError) as err:
            forgetful(of.build_sensor_context(instance=instance))
    assert str(err.value).startswith(
        "sensor 'forgetful' requested runs for materializations but did not advance its cursor"
    )
    assert "context.advance_all_cursors()" in str(err.value)


# -- @run_status_sensor, @run_failure_sensor -----------------------------------------------------


def test_run_status_sensor_fires_once_per_run_after_it_started() -> None:
    """A run status sensor sees each monitored run that reaches the status after its first
    evaluation, once, and requests ``request_job`` (Dagster: run_status_sensor_definition.py
    starts its cursor at the latest event on the first tick; monitored_jobs filters; the guide
    https://docs.dagster.io/guides/automate/sensors/run-status-sensors shows request_job)."""
    seen: list[str] = []

    @of.run_status_sensor(
        run_status=of.DagsterRunStatus.SUCCESS,
        monitored_jobs=[orders_job],
        request_job=report_job,
        minimum_interval_seconds=1,
        default_status="RUNNING",
    )
    def after_orders(context: of.RunStatusSensorContext) -> of.RunRequest:
        seen.append(context.dagster_run.job_name)
        return of.RunRequest(run_key=context.dagster_run.run_id)

    defs = make_defs(after_orders)
    clock = Clock()
    with of.Instance.ephemeral() as instance:
        run(defs, "orders_job", instance)  # before the sensor started: never seen
        daemon = Daemon(defs, instance, clock=clock)
        assert daemon.tick() == []
        first = run(defs, "orders_job", instance)
        run(defs, "users_job", instance)  # not monitored
        clock.now += 1
        launched = daemon.tick()
        assert job_names(instance, launched) == ["report_job"]
        report = instance.get_run(launched[0])
        assert report is not None
        assert report.tags["run_key"] == first.run_id
        clock.now += 1
        assert daemon.tick() == []  # once per run (the report run is not monitored)
        daemon.close()
    assert seen == ["orders_job"]


def test_run_failure_sensor_alerts_through_a_resource(tmp_path: Path) -> None:
    """A run failure sensor is called once per failed run with the run and its failure (Dagster:
    RunFailureSensorContext.dagster_run / failure_event, run_status_sensor_definition.py), and
    takes a resource by annotation, opened for the evaluation."""
    alerts_file = tmp_path / "alerts.txt"

    @of.run_failure_sensor(minimum_interval_seconds=1, default_status="RUNNING")
    def alert_on_failure(context: of.RunFailureSensorContext, alerts: Alerts) -> None:
        event = context.failure_event
        assert event is not None
        assert event.run_id == context.dagster_run.run_id
        alerts.send(f"{context.dagster_run.job_name} failed: {context.error}")

    defs = make_defs(alert_on_failure, resources={"alerts": Alerts(path=str(alerts_file))})
    clock = Clock()
    with of.Instance.ephemeral() as instance:
        daemon = Daemon(defs, instance, clock=clock)
        daemon.tick()  # starts watching
        run(defs, "broken_job", instance)
        run(defs, "orders_job", instance)  # succeeds: no alert
        clock.now += 1
        daemon.tick()
        clock.now += 1
        daemon.tick()  # the same failure is not alerted twice
        daemon.close()
        ticks = [t.status for t in instance.get_ticks("alert_on_failure")]
    assert alerts_file.read_text() == "broken_job failed: ValueError: upstream file is empty\n"
    assert ticks == ["SKIPPED", "SKIPPED", "SKIPPED"]


def test_a_run_status_sensor_that_raises_sees_the_run_again() -> None:
    """When the function raises, the cursor does not move: the next tick handles the same runs
    again (an alert is not lost to a transient error)."""
    calls: list[str] = []

    @of.run_failure_sensor(minimum_interval_seconds=1, default_status="RUNNING")
    def flaky(context: of.RunFailureSensorContext) -> None:
        calls.append(context.dagster_run.run_id)
        if len(calls) == 1:
            raise ConnectionError("pager unreachable")

    defs = make_defs(flaky)
    clock = Clock()
    with of.Instance.ephemeral() as instance:
        daemon = Daemon(defs, instance, clock=clock)
        daemon.tick()
        failed = run(defs, "broken_job", instance)
        clock.now += 1
        daemon.tick()
        clock.now += 1
        daemon.tick()
        daemon.close()
        statuses = [t.status for t in instance.get_ticks("flaky")]
    assert calls == [failed.run_id, failed.run_id]
    assert statuses == ["SKIPPED", "FAILURE", "SKIPPED"]


def test_required_resource_keys_reach_context_resources(tmp_path: Path) -> None:
    """``required_resource_keys=`` opens those resources for the evaluation and exposes them on
    ``context.resources`` (Dagster's older style, sensor_definition.py)."""
    alerts_file = tmp_path / "alerts.txt"

    @of.sensor(
        job_name="report_job",
        required_resource_keys={"alerts"},
        minimum_interval_seconds=1,
        default_status="RUNNING",
    )
    def noisy(context: of.SensorEvaluationContext) -> of.SkipReason:
        context.resources.alerts.send("hello")
        return of.SkipReason("sent")

    defs = make_defs(noisy, resources={"alerts": Alerts(path=str(alerts_file))})
    with of.Instance.ephemeral() as instance:
        daemon = Daemon(defs, instance, clock=Clock())
        daemon.tick()
        daemon.close()
    assert alerts_file.read_text() == "hello\n"


def test_multi_asset_sensor_advances_one_key_at_a_time() -> None:
    """``advance_cursor({key: record})`` moves only that key's position; the other key's
    materializations stay to be read (Dagster's MultiAssetSensorEvaluationContext.advance_cursor,
    multi_asset_sensor_definition.py); ``materialization_records_for_key`` lists them oldest
    first."""

    @of.multi_asset_sensor(
        monitored_assets=["orders", "users"],
        job_name="report_job",
        minimum_interval_seconds=1,
        default_status="RUNNING",
    )
    def per_key(context: of.MultiAssetSensorEvaluationContext):  # type: ignore[no-untyped-def]
        orders_records = context.materialization_records_for_key("orders")
        if not orders_records:
            return of.SkipReason(
                f"users waiting: {len(context.materialization_records_for_key('users'))}"
            )
        context.advance_cursor({of.AssetKey("orders"): orders_records[-1]})
        return of.RunRequest(run_key=f"orders-{len(orders_records)}")

    defs = make_defs(per_key)
    clock = Clock()
    with of.Instance.ephemeral() as instance:
        run(defs, "orders_job", instance)
        run(defs, "orders_job", instance)
        run(defs, "users_job", instance)
        daemon = Daemon(defs, instance, clock=clock)
        launched = daemon.tick()
        clock.now += 1
        daemon.tick()
        daemon.close()
        [skipped, requested] = instance.get_ticks("per_key")
        assert skipped.skip_reason == "users waiting: 1"
        assert requested.status == "SUCCESS"
        run_record = instance.get_run(launched[0])
        assert run_record is not None
        assert run_record.tags["run_key"] == "orders-2"


def test_run_status_sensor_for_started_runs() -> None:
    """``run_status=STARTED`` reacts to RUN_START events (the status list of Dagster's
    run_status_sensor, run_status_sensor_definition.py)."""
    started: list[str] = []

    @of.run_status_sensor(
        run_status=of.DagsterRunStatus.STARTED, minimum_interval_seconds=1, default_status="RUNNING"
    )
    def on_start(context: of.RunStatusSensorContext) -> None:
        started.append(context.dagster_run.job_name)

    defs = make_defs(on_start)
    clock = Clock()
    with of.Instance.ephemeral() as instance:
        daemon = Daemon(defs, instance, clock=clock)
        daemon.tick()
        run(defs, "broken_job", instance)
        run(defs, "users_job", instance)
        clock.now += 1
        daemon.tick()
        daemon.close()
    assert started == ["broken_job", "users_job"]


def test_a_run_status_sensor_without_request_job_that_requests_fails_its_tick() -> None:
    """A run status sensor with neither ``request_job`` nor ``request_jobs`` that returns a
    RunRequest fails its tick, launching nothing, with an error naming it and saying to add
    ``request_job=`` (Dagster fails the tick of a sensor without a target that returns a
    RunRequest: resolve_run_requests in
    python_modules/dagster/dagster/_core/definitions/sensor_definition.py). The cursor does not
    move past the run, so once fixed the sensor still handles it."""

    @of.run_failure_sensor(minimum_interval_seconds=1, default_status="RUNNING")
    def retry_failed(context: of.RunFailureSensorContext) -> of.RunRequest:
        return of.RunRequest(run_key=context.dagster_run.run_id)

    defs = make_defs(retry_failed)
    clock = Clock()
    with of.Instance.ephemeral() as instance:
        daemon = Daemon(defs, instance, clock=clock)
        daemon.tick()  # starts watching
        state = instance.get_instigator("retry_failed")
        assert state is not None
        cursor = state.cursor
        run(defs, "broken_job", instance)
        runs_before = instance.count_runs()
        clock.now += 1
        assert daemon.tick() == []
        daemon.close()
        assert instance.count_runs() == runs_before
        ticks = instance.get_ticks("retry_failed")
        state = instance.get_instigator("retry_failed")
        assert state is not None
        assert state.cursor == cursor
    assert sorted(t.status for t in ticks) == ["FAILURE", "SKIPPED"]
    [tick] = [t for t in ticks if t.status == "FAILURE"]
    assert tick.error is not None
    assert (
        "sensor 'retry_failed' returned a RunRequest, but it has no job to run: a "
        "@run_failure_sensor launches only its request_job (or one of its request_jobs), and it "
        "was given neither" in tick.error
    )
    assert "add request_job=my_job to @run_failure_sensor(...)" in tick.error


def test_an_untargeted_run_status_sensor_evaluated_directly_raises() -> None:
    """Evaluated over an instance (as a tick is), an untargeted ``@run_status_sensor`` that
    requests raises the same error; one that only alerts (returns None) is fine."""

    @of.run_status_sensor(run_status=of.DagsterRunStatus.SUCCESS)
    def rerun(context: of.RunStatusSensorContext) -> of.RunRequest:
        return of.RunRequest()

    with of.Instance.ephemeral() as instance:
        context = of.build_sensor_context(instance=instance)
        rerun(context)  # places the cursor
        run(make_defs(), "orders_job", instance)
        with pytest.raises(of.exceptions.InvocationError) as err:
            rerun(context)
    assert str(err.value).startswith(
        "sensor 'rerun' returned a RunRequest, but it has no job to run: a @run_status_sensor "
        "launches only its request_job"
    )
