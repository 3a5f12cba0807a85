"""The sensor and schedule forms of Dagster code locations (``outfitter._definitions.sensors``,
``asset_sensors``, ``run_status_sensors``): how they are made, what a direct call returns, how
``Definitions`` reports what is wrong with them, and how ``sensors list`` shows them."""

from __future__ import annotations

import importlib
from pathlib import Path
from typing import Any

import pytest
from rich.console import Console
from typer.testing import CliRunner

import outfitter as of
from outfitter._instance import EventRecord, EventType, RunRecord
from outfitter.exceptions import DefinitionError, MissingResourceError

cli_app = importlib.import_module("outfitter.cli.app")


@of.asset
def report() -> int:
    return 1


report_job = of.define_asset_job("report_job", selection=[report])


class Alerts(of.ConfigurableResource):
    channel: str = "#data"


# -- definitions ---------------------------------------------------------------------------------


def test_sensor_targets_job_job_name_or_jobs() -> None:
    """``job=``, ``job_name=`` and ``jobs=[...]`` (objects or names) all name the targets
    (Dagster's @sensor, python_modules/dagster/dagster/_core/definitions/decorators/
    sensor_decorator.py); ``job_name`` is set only when there is exactly one."""

    @of.sensor(job=report_job)
    def a() -> None:
        return None

    @of.sensor(job_name="report_job")
    def b() -> None:
        return None

    @of.sensor(jobs=[report_job, "other_job"])
    def c() -> None:
        return None

    assert (a.job_names, a.job_name) == (("report_job",), "report_job")
    assert (b.job_names, b.job_name) == (("report_job",), "report_job")
    assert (c.job_names, c.job_name) == (("report_job", "other_job"), None)


def test_sensor_with_two_kinds_of_target_is_refused() -> None:
    """Dagster raises when a sensor gets more than one of job/jobs/job_name
    (sensor_definition.py); so do we, naming the sensor and what it got."""
    with pytest.raises(DefinitionError) as err:

        @of.sensor(job=report_job, job_name="report_job")
        def both() -> None:
            return None

    assert str(err.value).startswith(
        "sensor 'both' was given job and job_name; it takes only one of them\nHint: pass "
    )


def test_public_constructors_match_dagster() -> None:
    """``SensorDefinition(name=, evaluation_fn=, ...)`` and ``ScheduleDefinition(name=,
    cron_schedule=, job_name=, run_config=, execution_timezone=)`` as Dagster spells them
    (sensor_definition.py, schedule_definition.py)."""

    def check(context: of.SensorEvaluationContext) -> of.SkipReason:
        return of.SkipReason("nothing")

    watch = of.SensorDefinition(
        name="watch",
        evaluation_fn=check,
        job_name="report_job",
        minimum_interval_seconds=5,
        default_status=of.DefaultSensorStatus.RUNNING,
        required_resource_keys={"alerts"},
    )
    assert (watch.name, watch.job_name, watch.default_status) == ("watch", "report_job", "RUNNING")
    assert watch.resource_keys == {"alerts"}
    nightly = of.ScheduleDefinition(
        name="nightly",
        cron_schedule="0 3 * * *",
        job=report_job,
        run_config={"ops": {"report": {"config": {}}}},
        execution_timezone="Europe/Paris",
    )
    assert (nightly.name, nightly.job_name, nightly.default_status) == (
        "nightly",
        "report_job",
        "STOPPED",
    )
    assert nightly.execution_timezone == "Europe/Paris"


def test_schedule_definition_without_function_needs_a_name() -> None:
    """The daemon and the CLI know a schedule by name; one without a function has no other."""
    with pytest.raises(DefinitionError, match="a ScheduleDefinition without a function needs a"):
        of.ScheduleDefinition(cron_schedule="0 3 * * *", job_name="report_job")


def test_run_status_must_have_an_event() -> None:
    """QUEUED (and anything that is not a status) is refused: no event records it."""
    with pytest.raises(DefinitionError) as err:

        @of.run_status_sensor(run_status="QUEUED")
        def queued(context: of.RunStatusSensorContext) -> None:
            return None

    assert str(err.value).startswith(
        "sensor 'queued': run_status must be one of STARTED, SUCCESS, FAILURE, CANCELED, got "
        "'QUEUED'"
    )


def test_asset_sensor_needs_an_event_parameter() -> None:
    """Dagster calls an asset sensor with (context, asset_event); one without the second
    parameter is refused when decorated (asset_sensor_definition.py)."""
    with pytest.raises(DefinitionError) as err:

        @of.asset_sensor(asset_key="orders", job_name="report_job")
        def no_event(context: of.SensorEvaluationContext) -> None:
            return None

    assert str(err.value).startswith(
        "sensor 'no_event' takes no parameter for the materialization it reacts to\n"
        "Hint: write `def my_sensor(context, asset_event): ...`"
    )


# -- direct invocation ---------------------------------------------------------------------------


def test_direct_call_returns_what_the_function_returned() -> None:
    """A direct call returns the function's own value (Dagster's SensorDefinition.__call__ and
    ScheduleDefinition.__call__ return the raw result, sensor_definition.py /
    schedule_definition.py): a RunRequest, a list, a SkipReason, None. A generator's items come
    back as a list, produced while the sensor's resources are open (Dagster returns the
    generator itself, which would run after our resources closed)."""

    @of.sensor
    def one() -> of.RunRequest:
        return of.RunRequest(run_key="a")

    @of.sensor
    def many() -> list[of.RunRequest]:
        return [of.RunRequest(run_key="a"), of.RunRequest(run_key="b")]

    @of.sensor
    def gen(context: of.SensorEvaluationContext):  # type: ignore[no-untyped-def]
        yield of.RunRequest(run_key="a")
        yield of.RunRequest(run_key="b")

    @of.sensor
    def skip() -> of.SkipReason:
        return of.SkipReason("nothing new")

    @of.sensor
    def nothing() -> None:
        return None

    @of.schedule("0 * * * *", job_name="report_job")
    def hourly(context: of.ScheduleEvaluationContext) -> of.RunRequest:
        return of.RunRequest(run_key="h")

    context = of.build_sensor_context()
    assert one(context) == of.RunRequest(run_key="a")
    assert [r.run_key for r in many(context)] == ["a", "b"]
    assert [r.run_key for r in gen(context)] == ["a", "b"]
    assert skip(context) == of.SkipReason("nothing new")
    assert nothing(context) is None
    assert hourly(of.build_schedule_context()) == of.RunRequest(run_key="h")


def test_directly_invoked_sensor_names_itself_when_a_resource_is_missing() -> None:
    """The missing-resource error of a direct call names the sensor, not "this run" (Dagster
    names it too: validate_and_get_resource_dict in sensor_definition.py)."""

    @of.sensor
    def needs_alerts(context: of.SensorEvaluationContext, alerts: Alerts) -> None:
        return None

    with pytest.raises(MissingResourceError) as err:
        needs_alerts(of.build_sensor_context())
    assert str(err.value) == (
        "sensor 'needs_alerts' asks for resource 'alerts', which is not bound (bound: none).\n"
        "Hint: bind it, e.g. resources={'alerts': ...}, or fix the name."
    )


def test_built_context_takes_the_sensor_name() -> None:
    """build_sensor_context() makes a context named after the sensor it is passed to."""

    @of.sensor
    def named(context: of.SensorEvaluationContext) -> of.SkipReason:
        return of.SkipReason(context.sensor_name)

    assert named(of.build_sensor_context()) == of.SkipReason("named")


def test_required_resource_keys_on_a_direct_call() -> None:
    """``required_resource_keys`` are read from ``context.resources`` during the call."""

    @of.sensor(required_resource_keys={"alerts"})
    def legacy(context: of.SensorEvaluationContext) -> of.SkipReason:
        return of.SkipReason(context.resources.alerts.channel)

    result = legacy(of.build_sensor_context(resources={"alerts": Alerts(channel="#ops")}))
    assert result == of.SkipReason("#ops")


def test_run_status_sensor_called_with_one_run() -> None:
    """A run status sensor called with a RunStatusSensorContext runs for that run (Dagster's
    build_run_status_sensor_context + direct call, run_status_sensor_definition.py); a failure
    context exposes the failure event and its error."""
    failures: list[str] = []

    @of.run_failure_sensor
    def alert(context: of.RunFailureSensorContext, alerts: Alerts) -> None:
        failures.append(f"{alerts.channel}: {context.dagster_run.job_name}: {context.error}")

    run = RunRecord("r1", "etl", of.DagsterRunStatus.FAILURE, None, None, {}, None)
    event = EventRecord(
        9, "r1", 0.0, EventType.RUN_FAILURE, None, None, "etl", None, {"message": "KeyError: 'x'"}
    )
    context = of.RunFailureSensorContext(sensor_name="alert", dagster_run=run, dagster_event=event)
    assert alert(context, alerts=Alerts()) is None
    assert failures == ["#data: etl: KeyError: 'x'"]


def test_asset_sensor_called_directly_reads_the_instance() -> None:
    """An asset sensor called with build_sensor_context(instance=...) reacts to that instance's
    materializations and moves the context's cursor; without one it says how to pass it."""

    @of.asset
    def orders() -> int:
        return 1

    @of.asset_sensor(asset_key="orders", job_name="report_job")
    def changed(context: of.SensorEvaluationContext, asset_event: of.EventLogEntry) -> Any:
        return of.RunRequest(run_key=asset_event.run_id)

    with of.Instance.ephemeral() as instance:
        result = of.materialize([orders], instance=instance)
        context = of.build_sensor_context(instance=instance)
        assert changed(context) == of.RunRequest(run_key=result.run_id)
        assert context.cursor is not None
        assert changed(context) is None  # nothing newer than the cursor
    with pytest.raises(of.exceptions.InvocationError) as err:
        changed(of.build_sensor_context())
    assert str(err.value).startswith(
        "sensor 'changed' reads materializations from an instance, and its context has none"
    )


# -- Definitions ---------------------------------------------------------------------------------


def test_definitions_report_unknown_jobs_with_a_did_you_mean() -> None:
    """Every job a sensor or schedule names must be in the Definitions: its target (job_name,
    jobs) and the jobs a run status sensor monitors; one message each, naming both, with a
    did-you-mean (Dagster fails to load the code location in the same case)."""

    @of.sensor(job_name="reprot_job")
    def typo() -> None:
        return None

    @of.run_status_sensor(run_status="SUCCESS", monitored_jobs=["ghost"], request_job=report_job)
    def watcher(context: of.RunStatusSensorContext) -> None:
        return None

    nightly = of.ScheduleDefinition(name="nightly", cron_schedule="0 3 * * *", job_name="report_jb")
    with pytest.raises(DefinitionError) as err:
        of.Definitions(
            assets=[report], jobs=[report_job], sensors=[typo, watcher], schedules=[nightly]
        )
    problems = err.value.problems
    assert (
        "sensor 'typo' targets job 'reprot_job', which is not in these definitions (jobs: "
        "report_job). Did you mean 'report_job'?" in problems
    )
    assert (
        "sensor 'watcher' monitors job 'ghost', which is not in these definitions (jobs: "
        "report_job)." in problems
    )
    assert (
        "schedule 'nightly' targets job 'report_jb', which is not in these definitions (jobs: "
        "report_job). Did you mean 'report_job'?" in problems
    )


def test_definitions_report_missing_required_resource_keys() -> None:
    """``required_resource_keys`` are checked like annotated resources."""

    @of.run_failure_sensor(required_resource_keys={"alert"})
    def pager(context: of.RunFailureSensorContext) -> None:
        return None

    with pytest.raises(DefinitionError) as err:
        of.Definitions(assets=[report], sensors=[pager], resources={"alerts": Alerts()})
    assert (
        "sensor 'pager' requires resource 'alert', which is not bound. Did you mean 'alerts'?"
        in err.value.problems
    )


# -- CLI -----------------------------------------------------------------------------------------

DEFS = """
import outfitter as of

@of.asset
def orders() -> int:
    return 1

orders_job = of.define_asset_job("orders_job", selection=[orders])
other_job = of.define_asset_job("other_job", selection=[orders])

@of.sensor(jobs=[orders_job, other_job], default_status=of.DefaultSensorStatus.RUNNING)
def plain():
    return None

@of.asset_sensor(asset_key="orders", job_name="other_job")
def on_orders(context, asset_event):
    return None

@of.run_failure_sensor(monitored_jobs=[orders_job])
def on_failure(context):
    return None

nightly = of.ScheduleDefinition(name="nightly", cron_schedule="0 3 * * *", job=orders_job)

defs = of.Definitions(
    assets=[orders], jobs=[orders_job, other_job], sensors=[plain, on_orders, on_failure],
    schedules=[nightly],
)
"""


def test_sensors_list_shows_kind_jobs_and_default_status(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``outfitter sensors list`` shows each sensor's kind, target jobs and default status;
    ``schedules list`` the schedule's job."""
    (tmp_path / "defs.py").write_text(DEFS)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("OUTFITTER_HOME", str(tmp_path / "home"))
    monkeypatch.setattr(cli_app, "out", Console(width=250, highlight=False))
    result = CliRunner().invoke(cli_app.app, ["sensors", "list", "-f", "defs.py"])
    assert result.exit_code == 0, result.stderr
    rows = {line.split()[1]: line for line in result.stdout.splitlines() if "│" in line[:2]}
    assert "sensor" in rows["plain"]
    assert "orders_job, other_job" in rows["plain"]
    assert rows["plain"].count("RUNNING") == 2  # status and default
    assert "asset orders" in rows["on_orders"]
    assert "run_status FAILURE of orders_job" in rows["on_failure"]
    assert rows["on_failure"].count("STOPPED") == 2
    schedules = CliRunner().invoke(cli_app.app, ["schedules", "list", "-f", "defs.py"])
    assert schedules.exit_code == 0, schedules.stderr
    assert "nightly" in schedules.stdout
    assert "orders_job" in schedules.stdout
