"""Sensor and schedule definitions (``outfitter._definitions.sensors``): what is checked when one
is made and again by ``Definitions``, so a schedule that cannot run fails ``definitions check``
instead of the daemon's first tick."""

from __future__ import annotations

import datetime as dt
import math
from fractions import Fraction
from typing import Any

import pytest

import outfitter as of
from outfitter._definitions.sensors import ScheduleDefinition, SensorDefinition
from outfitter.exceptions import DefinitionError, InvocationError


@of.asset
def report() -> int:
    return 1


report_job = of.define_asset_job("report_job", selection=[report])


def tick(context: of.ScheduleEvaluationContext) -> of.RunRequest:
    return of.RunRequest(run_key="r")


def make_schedule(cron: Any, **kwargs: Any) -> ScheduleDefinition:
    return of.schedule(cron, name="nightly", **kwargs)(tick)


# -- cron expressions ---------------------------------------------------------------------------


def test_invalid_cron_is_a_definition_error_naming_the_schedule() -> None:
    """An out-of-range field fails when the schedule is decorated, naming it and the expression.

    Dagster does the same: ScheduleDefinition.__init__ raises DagsterInvalidDefinitionError
    "Found invalid cron schedule '0 25 * * *' for schedule 'typo''. Dagster recognizes standard
    cron expressions consisting of 5 fields." when `is_valid_cron_schedule` is false
    (dagster-io/dagster python_modules/dagster/dagster/_core/definitions/schedule_definition.py;
    the check is `is_valid_cron_string` in python_modules/dagster/dagster/_utils/schedules.py:
    croniter.is_valid, exactly 5 fields, and the 30th/31st of February only when the month
    field is exactly 2 and the day field exactly 30 or 31 -- so Dagster accepts '0 0 31 4 *' and
    '0 0 30,31 2 *', which never fire; Outfitter asks croniter for a fire time instead).
    """
    with pytest.raises(DefinitionError) as err:
        make_schedule("0 25 * * *")
    message = str(err.value)
    assert message.startswith(
        "schedule 'nightly': cron_schedule '0 25 * * *' is not a valid cron expression "
        "([0 25 * * *] is not acceptable, out of range)"
    )
    assert "Hint: use five fields 'minute hour day-of-month month day-of-week'" in message
    assert "hour 0-23" in message


@pytest.mark.parametrize("cron", ["not cron", "", "*/0 * * * *", "@reboot"])
def test_unparseable_cron_is_refused(cron: str) -> None:
    """Text croniter cannot read at all is refused with the same message shape."""
    with pytest.raises(DefinitionError) as err:
        make_schedule(cron)
    assert str(err.value).startswith(
        f"schedule 'nightly': cron_schedule {cron!r} is not a valid cron expression ("
    )


@pytest.mark.parametrize(("cron", "fields"), [("0 0 * * * *", 6), ("0 0 * * * * *", 7)])
def test_cron_with_seconds_or_years_field_is_refused(cron: str, fields: int) -> None:
    """croniter reads a 6th field as seconds and a 7th as years; schedules take five fields
    (as in Dagster), so a Quartz-style expression is not silently read another way."""
    with pytest.raises(DefinitionError) as err:
        make_schedule(cron)
    assert str(err.value) == (
        f"schedule 'nightly': cron_schedule {cron!r} has {fields} fields; schedules take standard "
        "cron expressions of 5 (no seconds or years field)\n"
        "Hint: use five fields 'minute hour day-of-month month day-of-week', e.g. '0 6 * * *' "
        "for 06:00 every day, '*/15 * * * *' every 15 minutes."
    )


def test_cron_that_is_not_a_string_is_refused() -> None:
    """A list or a number is refused with its type, not an AttributeError from croniter."""
    with pytest.raises(DefinitionError) as err:
        make_schedule(["0 * * * *"])
    assert str(err.value).startswith(
        "schedule 'nightly': cron_schedule must be a string, got ['0 * * * *'] of type list\n"
        "Hint: write the cron expression as a string of five fields"
    )


@pytest.mark.parametrize(
    "cron",
    [
        "0 0 30 2 *",  # February never has a 30th
        "0 0 31 2 *",
        "0 0 31 4 *",  # April has 30 days (Dagster accepts this one)
        "0 0 30,31 2 *",  # (and this one)
        "*/5 * 31 4,6,9,11 *",  # no 30-day month has a 31st
        "0 0 30 2 0#5",  # a day of month and a weekday that never coincide
    ],
)
def test_cron_that_never_fires_is_a_definition_error(cron: str) -> None:
    """An expression no date matches passes croniter.is_valid but would fail the daemon's first
    tick (CroniterBadDateError); it is refused when the schedule is made."""
    with pytest.raises(DefinitionError) as err:
        make_schedule(cron)
    assert str(err.value) == (
        f"schedule 'nightly': cron_schedule {cron!r} never fires: no date matches it (none in 400 "
        "years, a whole cycle of the calendar)\n"
        "Hint: use a day of the month that exists in the months it names (days 1-28 exist in "
        "every month, 29 only in leap-year Februaries; 'L' is the last day of the month, e.g. "
        "'0 0 L 2 *')."
    )


@pytest.mark.parametrize(
    ("cron", "first"),
    [
        ("0 0 29 2 *", dt.datetime(2028, 2, 29)),  # leap years only
        ("0 0 L 2 *", dt.datetime(2026, 2, 28)),
        ("0 0 31 * *", dt.datetime(2026, 1, 31)),  # months that have a 31st
        # a fifth Monday in February: 2044, then 2072 -- further apart than the 8 years between
        # leap days, so a shorter search horizon would wrongly call it "never"
        ("0 0 * 2 1#5", dt.datetime(2044, 2, 29)),
    ],
)
def test_rare_but_real_crons_are_accepted(cron: str, first: dt.datetime) -> None:
    """Expressions that fire seldom are not mistaken for ones that never fire."""
    rare = make_schedule(cron)
    start = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    assert rare.next_after(start) == first.replace(tzinfo=dt.UTC)
    assert rare.definition_problems() == []


# -- timezones ------------------------------------------------------------------------------------


def test_unknown_timezone_is_a_definition_error_with_a_suggestion() -> None:
    """A misspelt zone is refused when the schedule is made, with the closest real one."""
    with pytest.raises(DefinitionError) as err:
        make_schedule("0 6 * * *", execution_timezone="Europe/Pariss")
    assert str(err.value) == (
        "schedule 'nightly': execution_timezone 'Europe/Pariss' is not a time zone zoneinfo "
        "knows. Did you mean 'Europe/Paris'?\n"
        "Hint: use an IANA time zone name such as 'UTC', 'Europe/Paris' or 'America/New_York' "
        "(zoneinfo.available_timezones() lists them; install the tzdata package where the system "
        "has no time zone database)."
    )


@pytest.mark.parametrize("zone", ["", "Mars/Olympus_Mons", "../etc/passwd", "/etc/localtime", 3])
def test_timezones_zoneinfo_cannot_load_are_refused(zone: Any) -> None:
    """Empty, unknown, path-like or non-string zones are all the same definition error."""
    with pytest.raises(DefinitionError) as err:
        make_schedule("0 6 * * *", execution_timezone=zone)
    assert str(err.value).startswith(
        f"schedule 'nightly': execution_timezone {zone!r} is not a time zone zoneinfo knows."
    )


def test_known_timezones_are_kept() -> None:
    """A valid zone is used to read the cron; no zone means UTC."""
    paris = make_schedule("0 6 * * *", execution_timezone="Europe/Paris")
    assert paris.execution_timezone == "Europe/Paris"
    assert paris.next_after(dt.datetime(2026, 1, 5, 12, tzinfo=dt.UTC)).isoformat() == (
        "2026-01-06T06:00:00+01:00"
    )
    assert make_schedule("0 6 * * *").execution_timezone == "UTC"


def test_every_problem_of_a_schedule_is_listed_at_once() -> None:
    """A bad cron, a bad zone and a bad status are reported together, one fix each."""
    with pytest.raises(DefinitionError) as err:
        ScheduleDefinition(
            tick,
            cron_schedule="0 0 31 4 *",
            name="monthly",
            execution_timezone="Europe/Pariss",
            default_status="ON",
        )
    assert err.value.problems == (
        "schedule 'monthly': cron_schedule '0 0 31 4 *' never fires: no date matches it (none in "
        "400 years, a whole cycle of the calendar). Fix: use a day of the month that exists in "
        "the months it names (days 1-28 exist in every month, 29 only in leap-year Februaries; "
        "'L' is the last day of the month, e.g. '0 0 L 2 *').",
        "schedule 'monthly': execution_timezone 'Europe/Pariss' is not a time zone zoneinfo "
        "knows. Did you mean 'Europe/Paris'? Fix: use an IANA time zone name such as 'UTC', "
        "'Europe/Paris' or 'America/New_York' (zoneinfo.available_timezones() lists them; "
        "install the tzdata package where the system has no time zone database).",
        "schedule 'monthly': default_status must be 'RUNNING' or 'STOPPED', got 'ON'. Fix: use "
        "'RUNNING' to start evaluating as soon as the daemon starts.",
    )
    assert str(err.value).startswith("3 problems in schedule 'monthly'\n  - schedule 'monthly'")
    assert str(err.value).endswith("\nHint: fix every item listed.")


# -- sensors ------------------------------------------------------------------------------------


def poll(context: of.SensorEvaluationContext) -> None:
    return None


@pytest.mark.parametrize(
    ("interval", "shown"),
    [
        (math.nan, "nan"),
        (math.inf, "inf"),
        (-math.inf, "-inf"),
        (-5, "-5"),
        (0, "0"),
        (0.0, "0.0"),
        ("30", "'30' of type str"),
        (None, "None of type NoneType"),
        (True, "True of type bool"),
        (dt.timedelta(seconds=30), "datetime.timedelta(seconds=30) of type timedelta"),
    ],
)
def test_sensor_interval_must_be_a_finite_positive_number(interval: Any, shown: str) -> None:
    """nan would never be due (every comparison is false) and inf never again; zero or less
    would evaluate without pause. Each is refused with the value given."""
    with pytest.raises(DefinitionError) as err:
        of.sensor(minimum_interval_seconds=interval, name="poller")(poll)
    assert str(err.value) == (
        "sensor 'poller': minimum_interval_seconds must be a finite number of seconds greater "
        f"than 0, got {shown}\n"
        "Hint: pass the seconds to wait between evaluations as a number, e.g. "
        "minimum_interval_seconds=30."
    )


@pytest.mark.parametrize("interval", [30, 0.5, Fraction(1, 4)])
def test_sensor_interval_accepts_positive_numbers(interval: Any) -> None:
    """Ints, floats and other real numbers are kept as given."""
    made = SensorDefinition(poll, minimum_interval_seconds=interval)
    assert made.minimum_interval_seconds == interval
    assert made.definition_problems() == []


def test_sensor_problems_are_listed_together() -> None:
    """A bad interval and a bad status are one error."""
    with pytest.raises(DefinitionError) as err:
        SensorDefinition(poll, name="poller", minimum_interval_seconds=-1, default_status="go")
    assert [line.split(":")[1].split(" must")[0] for line in err.value.problems] == [
        " minimum_interval_seconds",
        " default_status",
    ]


# -- Definitions --------------------------------------------------------------------------------


def test_definitions_checks_schedules_and_sensors_again_listing_every_problem() -> None:
    """Definitions re-checks what was valid when made but changed since, together with its own
    checks (a missing resource), in one error."""

    @of.schedule("0 0 1 * *", job=report_job, name="monthly")
    def monthly(context: of.ScheduleEvaluationContext) -> None:
        return None

    @of.schedule("0 6 * * *", job=report_job, name="morning")
    def morning(context: of.ScheduleEvaluationContext) -> None:
        return None

    @of.sensor(job=report_job, name="watcher")
    def watcher(context: of.SensorEvaluationContext, catalog: of.ResourceParam[dict]) -> None:
        return None

    monthly.cron_schedule = "0 0 31 4 *"
    morning.execution_timezone = "Mars/Olympus_Mons"
    watcher.minimum_interval_seconds = math.nan
    with pytest.raises(DefinitionError) as err:
        of.Definitions(
            assets=[report], jobs=[report_job], sensors=[watcher], schedules=[monthly, morning]
        )
    text = str(err.value)
    assert text.startswith("4 problem(s) in the definitions\n")
    assert (
        "  - sensor 'watcher': minimum_interval_seconds must be a finite number of seconds "
        "greater than 0, got nan. Fix: pass the seconds to wait between evaluations as a number, "
        "e.g. minimum_interval_seconds=30.\n"
        "  - sensor 'watcher' requires resource 'catalog', which is not bound.\n"
        "  - schedule 'monthly': cron_schedule '0 0 31 4 *' never fires: no date matches it "
        "(none in 400 years, a whole cycle of the calendar). Fix: use a day of the month"
    ) in text
    assert (
        "  - schedule 'morning': execution_timezone 'Mars/Olympus_Mons' is not a time zone "
        "zoneinfo knows. Fix: use an IANA time zone name"
    ) in text


def test_definitions_accepts_valid_schedules_and_sensors() -> None:
    """Nothing is reported for schedules and sensors that can run."""

    @of.schedule("0 0 29 2 *", job=report_job, execution_timezone="America/New_York")
    def leap_day(context: of.ScheduleEvaluationContext) -> None:
        return None

    @of.sensor(job=report_job, minimum_interval_seconds=0.5)
    def quick(context: of.SensorEvaluationContext) -> None:
        return None

    defs = of.Definitions(assets=[report], jobs=[report_job], sensors=[quick], schedules=[leap_day])
    assert defs.get_schedule_def("leap_day") is leap_day
    assert defs.get_sensor_def("quick") is quick


def test_schedule_without_a_cron_is_refused_by_the_decorator() -> None:
    """A bare @schedule (the function taken as the cron) or a None cron fails at once."""
    with pytest.raises(DefinitionError) as bare:
        of.schedule(tick)  # type: ignore[arg-type]
    assert str(bare.value) == (
        "@schedule needs a cron expression; it was given the function 'tick'\n"
        "Hint: write @schedule('0 6 * * *') (or @schedule(cron_schedule=...)) above the "
        "function, not a bare @schedule."
    )
    with pytest.raises(DefinitionError) as none:
        of.schedule(None, name="nightly")  # type: ignore[arg-type]
    assert str(none.value).startswith(
        "schedule 'nightly': cron_schedule must be a string, got None of type NoneType\n"
    )


def test_definitions_refuses_what_is_not_a_sensor_or_schedule() -> None:
    """A stray value, or a schedule given as a sensor, is listed with where it was found."""
    nightly = make_schedule("0 0 * * *")
    with pytest.raises(DefinitionError) as err:
        of.Definitions(sensors=[42, nightly])
    assert err.value.problems == (
        "sensors= holds 42 (int), which is not a SensorDefinition; make it with @sensor above a "
        "function",
        f"sensors= holds {nightly!r} (ScheduleDefinition), which is not a SensorDefinition; make "
        "it with @sensor above a function",
    )


def test_run_request_fields_are_checked() -> None:
    """A run key that is not a string would be stored and compared wrongly: refused."""
    with pytest.raises(InvocationError) as err:
        of.RunRequest(run_key=42, tags=["x"])  # type: ignore[arg-type]
    assert str(err.value).startswith(
        "invalid RunRequest: run_key must be a string or None, got 42 of type int; tags must be "
        "a mapping, got list\nHint: e.g. RunRequest(run_key=f'users@{version}'"
    )
