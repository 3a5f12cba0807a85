"""``build_run_status_sensor_context`` (with ``.for_run_failure()``) and
``build_multi_asset_sensor_context``: Dagster's unit-test pattern for run status, run failure and
multi-asset sensors (run a job or materialize into an instance, build the context from it, call
the sensor), plus what ``ExecuteResult`` offers that pattern (``dagster_run``,
``get_run_success_event`` / ``get_run_failure_event``)."""

from __future__ import annotations

import json
from typing import Any

import pytest

import outfitter as of
from outfitter._instance import EventType
from outfitter.exceptions import InvocationError, InvocationTypeError


class Alerts(of.ConfigurableResource):
    """Keeps what it was asked to send (stands in for Slack or a pager)."""

    channel: str = "#data"

    def send(self, text: str) -> None:
        SENT.append(f"{self.channel} {text}")


SENT: list[str] = []


@pytest.fixture(autouse=True)
def _clear_sent() -> None:
    SENT.clear()


@of.op
def succeeds() -> int:
    return 1


@of.op
def fails() -> None:
    raise ValueError("no rows today")


@of.job
def my_job_succeeds() -> None:
    succeeds()


@of.job
def my_job_fails() -> None:
    fails()


@of.run_status_sensor(run_status=of.DagsterRunStatus.SUCCESS)
def my_email_sensor(context: of.RunStatusSensorContext, alerts: Alerts) -> None:
    alerts.send(f'Job "{context.dagster_run.job_name}" succeeded.')


@of.run_failure_sensor
def my_email_failure_sensor(context: of.RunFailureSensorContext, alerts: Alerts) -> None:
    steps = [e.step_key for e in context.get_step_failure_events()]
    alerts.send(f'Job "{context.dagster_run.job_name}" failed: {context.error} (steps {steps})')


# -- build_run_status_sensor_context -------------------------------------------------------------


def test_the_documented_run_status_pattern() -> None:
    """Run a job into an instance, build the context from ``result.dagster_run`` and
    ``result.get_run_success_event()``, call the sensor (Dagster's guide
    https://docs.dagster.io/guides/automate/sensors/testing-run-status-sensors, and
    build_run_status_sensor_context in
    python_modules/dagster/dagster/_core/definitions/run_status_sensor_definition.py);
    resources given to the builder are opened for the call."""
    with of.DagsterInstance.ephemeral() as instance:
        result = my_job_succeeds.execute_in_process(instance=instance)
        context = of.build_run_status_sensor_context(
            sensor_name="my_email_sensor",
            dagster_instance=instance,
            dagster_run=result.dagster_run,
            dagster_event=result.get_run_success_event(),
            resources={"alerts": Alerts(channel="#ops")},
        )
        assert my_email_sensor(context) is None
    assert SENT == ['#ops Job "my_job_succeeds" succeeded.']
    assert context.sensor_name == "my_email_sensor"
    assert context.dagster_event is not None
    assert context.dagster_event.event_type is EventType.RUN_SUCCESS


def test_the_documented_run_failure_pattern() -> None:
    """``raise_on_error=False``, ``result.get_run_failure_event()``, then ``.for_run_failure()``
    gives the RunFailureSensorContext a run failure sensor takes (Dagster:
    RunStatusSensorContext.for_run_failure keeps the resources, run_status_sensor_definition.py);
    the failure event, the error and the step failures are those of the run."""
    with of.DagsterInstance.ephemeral() as instance:
        result = my_job_fails.execute_in_process(instance=instance, raise_on_error=False)
        context = of.build_run_status_sensor_context(
            sensor_name="my_email_failure_sensor",
            dagster_instance=instance,
            dagster_run=result.dagster_run,
            dagster_event=result.get_run_failure_event(),
            resources={"alerts": Alerts()},
        ).for_run_failure()
        assert isinstance(context, of.RunFailureSensorContext)
        assert context.failure_event == result.get_run_failure_event()
        my_email_failure_sensor(context)
    assert SENT == [
        "#data Job \"my_job_fails\" failed: ValueError: no rows today (steps ['fails'])"
    ]


def test_resources_by_keyword_and_a_plain_context_for_a_failure_sensor() -> None:
    """Resources may come as keyword arguments of the call instead (Dagster's
    get_or_create_sensor_context merges them, sensor_definition.py). A run failure sensor
    handed the plain RunStatusSensorContext gets it as a failure context (in Dagster the
    function would get the plain one and ``failure_event`` would be missing)."""
    with of.DagsterInstance.ephemeral() as instance:
        result = my_job_fails.execute_in_process(instance=instance, raise_on_error=False)
        context = of.build_run_status_sensor_context(
            "my_email_failure_sensor",
            result.get_run_failure_event(),
            instance,
            result.dagster_run,
        )
        my_email_failure_sensor(context, alerts=Alerts(channel="#kw"))
    assert SENT == ["#kw Job \"my_job_fails\" failed: ValueError: no rows today (steps ['fails'])"]


def test_for_run_failure_keeps_everything_and_the_context_is_a_context_manager() -> None:
    """The failure context has the same run, event, instance, resources, partition key and
    logger; ``with build_run_status_sensor_context(...) as context:`` works, as in Dagster."""
    with of.Instance.ephemeral() as instance:
        result = my_job_fails.execute_in_process(instance=instance, raise_on_error=False)
        logger_source = of.build_sensor_context()
        with of.build_run_status_sensor_context(
            "s",
            result.get_run_failure_event(),
            instance,
            result.dagster_run,
            context=logger_source,
            resources={"alerts": Alerts()},
            partition_key="2026-01-01",
            repository_def=None,
            logging_tags={"team": "data"},
        ) as context:
            failure = context.for_run_failure()
    assert (failure.sensor_name, failure.dagster_run, failure.dagster_event) == (
        "s",
        result.dagster_run,
        result.get_run_failure_event(),
    )
    assert failure.instance is instance
    assert failure.resources == {"alerts": Alerts()}
    assert failure.partition_key == "2026-01-01"
    assert failure.log is logger_source.log


def test_a_direct_call_returns_a_run_request_as_is() -> None:
    """Called directly with one run, a run status sensor returns what its function returned,
    targeted or not (Dagster's RunStatusSensorDefinition.__call__ returns the raw value; only
    the evaluation of a tick checks the target)."""

    @of.run_status_sensor(run_status=of.DagsterRunStatus.SUCCESS)
    def then_report(context: of.RunStatusSensorContext) -> of.RunRequest:
        return of.RunRequest(run_key=context.dagster_run.run_id)

    with of.Instance.ephemeral() as instance:
        result = my_job_succeeds.execute_in_process(instance=instance)
        context = of.build_run_status_sensor_context(
            "then_report", result.get_run_success_event(), instance, result.dagster_run
        )
        assert then_report(context) == of.RunRequest(run_key=result.run_id)


def test_the_builder_checks_what_it_is_given() -> None:
    """A run id instead of a run record, or a missing instance, is refused with what to pass
    (an error that is also a TypeError)."""
    with of.Instance.ephemeral() as instance:
        result = my_job_succeeds.execute_in_process(instance=instance)
        with pytest.raises(InvocationTypeError) as err:
            of.build_run_status_sensor_context(
                "s",
                result.get_run_success_event(),
                None,  # type: ignore[arg-type]
                result.run_id,  # type: ignore[arg-type]
            )
    assert isinstance(err.value, TypeError)
    assert str(err.value) == (
        "build_run_status_sensor_context(): dagster_run must be a run record, got str "
        f"{result.run_id!r}; dagster_instance must be an Instance, got NoneType\n"
        "Hint: pass what a run gives: result = job.execute_in_process(instance=instance, "
        "raise_on_error=False); dagster_run=result.dagster_run, "
        "dagster_event=result.get_run_failure_event(), dagster_instance=instance."
    )


def test_result_run_events_and_their_dagster_names() -> None:
    """``get_run_success_event`` / ``get_run_failure_event`` and Dagster's older
    ``get_job_success_event`` / ``get_job_failure_event``
    (python_modules/dagster/dagster/_core/execution/execution_result.py) return the run's
    RUN_SUCCESS / RUN_FAILURE event; asking for the other one says which to call."""
    with of.Instance.ephemeral() as instance:
        ok = my_job_succeeds.execute_in_process(instance=instance)
        bad = my_job_fails.execute_in_process(instance=instance, raise_on_error=False)
        assert ok.get_job_success_event() == ok.get_run_success_event()
        assert bad.get_job_failure_event() == bad.get_run_failure_event()
        assert bad.get_run_failure_event().run_id == bad.run_id
        assert ok.dagster_run is ok.run
        with pytest.raises(InvocationError) as err:
            ok.get_run_failure_event()
    assert str(err.value) == (
        f"run {ok.run_id} has no RUN_FAILURE event (it succeeded)\n"
        "Hint: call result.get_run_success_event() for this run, or check result.success first."
    )


# -- build_multi_asset_sensor_context ------------------------------------------------------------


@of.asset
def asset_a() -> int:
    return 1


@of.asset
def asset_b() -> int:
    return 2


@of.multi_asset_sensor(monitored_assets=[of.AssetKey("asset_a"), of.AssetKey("asset_b")])
def asset_a_and_b_sensor(context: of.MultiAssetSensorEvaluationContext, alerts: Alerts) -> Any:
    asset_events = context.latest_materialization_records_by_key()
    if all(asset_events.values()):
        context.advance_all_cursors()
        alerts.send(f"{context.sensor_name}: both")
        yield of.RunRequest(run_key=",".join(str(e.storage_id) for e in asset_events.values()))


def test_the_documented_multi_asset_pattern() -> None:
    """Materialize into an instance, build the context over the monitored keys, call the
    sensor (Dagster's build_multi_asset_sensor_context,
    python_modules/dagster/dagster/_core/definitions/multi_asset_sensor_definition.py); the
    context takes the sensor's name and keeps the advanced cursor, so a second call sees
    nothing new."""
    with of.DagsterInstance.ephemeral() as instance:
        of.materialize([asset_a, asset_b], instance=instance)
        context = of.build_multi_asset_sensor_context(
            monitored_assets=[of.AssetKey("asset_a"), of.AssetKey("asset_b")],
            instance=instance,
            resources={"alerts": Alerts()},
        )
        [request] = asset_a_and_b_sensor(context)
        assert context.cursor is not None
        positions = json.loads(context.cursor)
        assert request.run_key == f"{positions['asset_a']},{positions['asset_b']}"
        assert asset_a_and_b_sensor(context) == []  # nothing new after the cursor
    assert SENT == ["#data asset_a_and_b_sensor: both"]


def test_multi_asset_resources_by_keyword_and_definitions() -> None:
    """Resources as keyword arguments; ``definitions=`` resolves an AssetSelection of
    monitored assets (Dagster resolves it against the definitions' assets)."""
    defs = of.Definitions(assets=[asset_a, asset_b])
    with of.Instance.ephemeral() as instance:
        of.materialize([asset_a, asset_b], instance=instance)
        context = of.build_multi_asset_sensor_context(
            monitored_assets=of.AssetSelection.keys("asset_a", "asset_b"),
            instance=instance,
            definitions=defs,
        )
        assert context.asset_keys == [of.AssetKey("asset_a"), of.AssetKey("asset_b")]
        assert len(asset_a_and_b_sensor(context, alerts=Alerts(channel="#kw"))) == 1
    assert SENT == ["#kw asset_a_and_b_sensor: both"]


def test_cursor_from_latest_materializations_and_a_given_cursor() -> None:
    """``cursor_from_latest_materializations=True`` starts after what is recorded (only newer
    materializations count); a given cursor is read as ours (key: last event id handled)."""
    with of.Instance.ephemeral() as instance:
        of.materialize([asset_a, asset_b], instance=instance)
        latest = of.build_multi_asset_sensor_context(
            monitored_assets=["asset_a", "asset_b"],
            instance=instance,
            cursor_from_latest_materializations=True,
            resources={"alerts": Alerts()},
        )
        assert asset_a_and_b_sensor(latest) == []
        from_zero = of.build_multi_asset_sensor_context(
            monitored_assets=["asset_a", "asset_b"],
            instance=instance,
            cursor='{"asset_a": 0, "asset_b": 0}',
            resources={"alerts": Alerts()},
        )
        assert len(asset_a_and_b_sensor(from_zero)) == 1


def test_multi_asset_builder_errors() -> None:
    """Both a cursor and cursor_from_latest_materializations, the latter without an instance,
    an AssetSelection without definitions, and a cursor that is not ours are refused, each
    saying what to pass (Dagster raises DagsterInvalidInvocationError for the first two)."""
    keys = ["asset_a", "asset_b"]
    with of.Instance.ephemeral() as instance, pytest.raises(InvocationError) as err:
        of.build_multi_asset_sensor_context(
            monitored_assets=keys,
            instance=instance,
            cursor="{}",
            cursor_from_latest_materializations=True,
        )
    assert str(err.value).startswith(
        "build_multi_asset_sensor_context() was given both cursor= and "
        "cursor_from_latest_materializations=True"
    )
    with pytest.raises(InvocationError) as err:
        of.build_multi_asset_sensor_context(
            monitored_assets=keys, cursor_from_latest_materializations=True
        )
    assert "Hint: pass instance=instance" in str(err.value)
    with pytest.raises(InvocationError) as err:
        of.build_multi_asset_sensor_context(monitored_assets=of.AssetSelection.all())
    assert str(err.value).startswith(
        "build_multi_asset_sensor_context(): monitored_assets is an AssetSelection, and there "
        "are no definitions to resolve it against"
    )
    with pytest.raises(InvocationError) as err:
        of.build_multi_asset_sensor_context(monitored_assets=keys, cursor="5")
    assert str(err.value).startswith(
        "build_multi_asset_sensor_context(): cursor '5' is not a multi-asset sensor cursor"
    )
