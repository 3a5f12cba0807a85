"""Run logging: ``context.log`` / ``get_logger()`` records of assets, ops and resources become LOG
events (step or resource key, secrets masked) and console lines; OUTFITTER_LOG_LEVEL filters
both; progress lines; records of steps on multiprocess and Dask workers reach the instance and
the coordinator's console.

Dagster 1.13 names the methods of ``context.log`` (a DagsterLogManager, python_modules/dagster/
dagster/_core/log_manager.py): debug, info, warning, error, critical, exception, log.
"""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from executor_helpers import Db, Opens  # noqa: F401 (Db: pickled by name on workers)

import outfitter as of
from outfitter._execution.logs import console_handler, set_log_format
from outfitter._instance import EventType
from outfitter.exceptions import ConfigError

SECRET = "hunter2-very-secret"


@pytest.fixture(autouse=True)
def _plain_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[None]:
    monkeypatch.delenv("OUTFITTER_LOG_LEVEL", raising=False)
    monkeypatch.setenv("OUTFITTER_ENV_FILE", str(tmp_path / "no.env"))
    monkeypatch.setenv("LOGS_TOKEN", SECRET)
    set_log_format("rich")
    yield
    set_log_format("rich")


class Token(of.ConfigurableResource):
    """A resource whose init context logs (with its secret in the message)."""

    value: str

    def setup_for_execution(self, context: Any) -> None:
        context.log.info("token resource opened with %s", self.value)


def logs(instance: of.Instance, run_id: str) -> list[Any]:
    return instance.all_events(run_id, event_type=EventType.LOG)


def assets() -> list[Any]:
    @of.asset
    def users(context: of.AssetExecutionContext, token: Token) -> int:
        context.log.info("loading users with %s", token.value)
        context.log.debug("a detail")
        return 1

    @of.asset
    def report(users: int) -> int:
        of.get_logger().warning("report of %d users", users)
        return users

    return [users, report]


def test_asset_and_resource_records_become_log_events_and_console_lines(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """An asset's context.log, get_logger() in a step and a resource's init context log."""
    with of.Instance.ephemeral() as instance:
        result = of.materialize(
            assets(), resources={"token": Token(value=of.EnvVar("LOGS_TOKEN"))}, instance=instance
        )
        rows = [
            (e.step_key, e.resource_key, e.message, e.data["level"], e.data["logger"])
            for e in logs(instance, result.run_id)
        ]
    assert rows == [
        (None, "token", "token resource opened with ***", "INFO", "outfitter.resources.token"),
        ("users", None, "loading users with ***", "INFO", "outfitter.steps.users"),
        ("report", None, "report of 1 users", "WARNING", "outfitter.steps.report"),
    ]
    err = capsys.readouterr().err
    assert "token resource opened with ***" in err
    assert "loading users with ***" in err
    assert "report of 1 users" in err
    assert "a detail" not in err  # DEBUG is below the default INFO
    assert SECRET not in err
    # a job's step lines are DEBUG, as Dagster logs STEP_START/STEP_SUCCESS
    # (dagster docs/docs/guides/monitor/logging/index.md); the run's end is INFO
    assert "step 'users' started" not in err
    assert "step 'users' succeeded in" not in err
    assert f"run {result.run_id[:8]} SUCCESS" in err


def test_log_events_sit_between_the_step_s_start_and_end() -> None:
    with of.Instance.ephemeral() as instance:
        result = of.materialize(assets(), resources={"token": Token(value="t")}, instance=instance)
        kinds = [e.event_type for e in instance.all_events(result.run_id) if e.step_key == "users"]
    assert kinds[0] is EventType.STEP_START
    assert kinds[1] is EventType.LOG
    assert kinds[-1] is EventType.STEP_SUCCESS


def test_an_op_logs_and_a_failure_prints_its_line(capsys: pytest.CaptureFixture[str]) -> None:
    @of.op
    def fetch(context: of.OpExecutionContext) -> int:
        context.log.error("about to fail")
        raise ValueError("broken fetch")

    @of.job
    def pipeline() -> None:
        fetch()

    with of.Instance.ephemeral() as instance:
        result = pipeline.execute_in_process(instance=instance, raise_on_error=False)
        events = logs(instance, result.run_id)
    assert [(e.step_key, e.message, e.data["level"]) for e in events] == [
        ("fetch", "about to fail", "ERROR")
    ]
    err = capsys.readouterr().err
    assert "step 'fetch' failed: ValueError: broken fetch" in err
    assert f"run {result.run_id[:8]} FAILURE" in err


def test_a_step_skipped_after_a_failure_says_so(capsys: pytest.CaptureFixture[str]) -> None:
    @of.asset
    def first() -> int:
        raise ValueError("no first")

    @of.asset
    def second(first: int) -> int:
        return first

    of.materialize([first, second], raise_on_error=False)
    err = capsys.readouterr().err
    assert "step 'first' failed: ValueError: no first" in err
    assert "step 'second' skipped: upstream step 'first' did not succeed" in err


def test_context_log_has_the_logger_methods() -> None:
    """context.log is a logging.Logger: exception() records the traceback, masked."""

    @of.asset
    def noisy(context: of.AssetExecutionContext, token: Token) -> None:
        assert isinstance(context.log, logging.Logger)
        try:
            raise RuntimeError(f"bad {token.value}")
        except RuntimeError:
            context.log.exception("caught")
        context.log.critical("critical %s", "c")
        context.log.log(logging.WARNING, "via log()")

    with of.Instance.ephemeral() as instance:
        result = of.materialize(
            [noisy], resources={"token": Token(value=of.EnvVar("LOGS_TOKEN"))}, instance=instance
        )
        events = [e for e in logs(instance, result.run_id) if e.step_key == "noisy"]
    assert [e.data["level"] for e in events] == ["ERROR", "CRITICAL", "WARNING"]
    assert "RuntimeError: bad ***" in events[0].message
    assert SECRET not in events[0].message


def test_a_secret_is_masked_in_the_database_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    home = tmp_path / "home"
    with of.Instance.local(home) as instance:
        result = of.materialize(
            assets(), resources={"token": Token(value=of.EnvVar("LOGS_TOKEN"))}, instance=instance
        )
    files = [p for p in home.rglob("*") if p.is_file()]
    dump = b"".join(p.read_bytes() for p in files)
    for db in (p for p in files if p.suffix in (".db", ".sqlite", ".sqlite3")):
        with sqlite3.connect(db) as conn:
            dump += "\n".join(conn.iterdump()).encode()
    assert SECRET.encode() not in dump
    with of.Instance.local(home) as instance:
        assert "loading users with ***" in [e.message for e in logs(instance, result.run_id)]
    assert SECRET not in capsys.readouterr().err


def test_log_level_warning_filters_records_and_progress_lines(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("OUTFITTER_LOG_LEVEL", "warning")
    with of.Instance.ephemeral() as instance:
        result = of.materialize(assets(), resources={"token": Token(value="t")}, instance=instance)
        events = logs(instance, result.run_id)
    assert [e.message for e in events] == ["report of 1 users"]
    err = capsys.readouterr().err
    assert "report of 1 users" in err
    assert "loading users" not in err
    assert "started" not in err
    assert "SUCCESS" not in err


def test_log_level_debug_records_debug_and_prints_step_lines(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """DEBUG records are kept, and a job's Dagster-style step lines print: start, end with its
    duration, the run's end."""
    monkeypatch.setenv("OUTFITTER_LOG_LEVEL", "DEBUG")
    with of.Instance.ephemeral() as instance:
        result = of.materialize(assets(), resources={"token": Token(value="t")}, instance=instance)
        assert "a detail" in [e.message for e in logs(instance, result.run_id)]
    err = capsys.readouterr().err
    assert "step 'users' started" in err
    assert "step 'users' succeeded in" in err
    assert f"run {result.run_id[:8]} SUCCESS" in err


def test_log_level_from_the_env_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Read through the pydantic-settings OutfitterSettings (log_level)."""
    env = tmp_path / "levels.env"
    env.write_text("OUTFITTER_LOG_LEVEL=ERROR\n")
    monkeypatch.setenv("OUTFITTER_ENV_FILE", str(env))
    with of.Instance.ephemeral() as instance:
        result = of.materialize(assets(), resources={"token": Token(value="t")}, instance=instance)
        assert logs(instance, result.run_id) == []


def test_an_invalid_log_level_is_a_config_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OUTFITTER_LOG_LEVEL", "LOUD")
    with pytest.raises(ConfigError) as info:
        of.materialize(assets(), resources={"token": Token(value="t")})
    text = str(info.value)
    assert "OUTFITTER_LOG_LEVEL is 'LOUD'" in text
    assert "DEBUG, INFO, WARNING, ERROR, CRITICAL" in text


def test_get_logger_outside_a_run_is_the_plain_outfitter_logger() -> None:
    assert of.get_logger() is logging.getLogger("outfitter.user")


def test_json_format_prints_one_object_per_line(capsys: pytest.CaptureFixture[str]) -> None:
    import json

    set_log_format("json")
    with of.Instance.ephemeral() as instance:
        result = of.materialize(assets(), resources={"token": Token(value="t")}, instance=instance)
    lines = [json.loads(line) for line in capsys.readouterr().err.splitlines()]
    users = [x for x in lines if x["message"] == "loading users with t"]
    assert users[0]["step"] == "users"
    assert users[0]["run_id"] == result.run_id
    assert users[0]["level"] == "INFO"
    assert users[0]["logger"] == "outfitter.steps.users"
    assert set(users[0]) == {"time", "level", "logger", "message", "run_id", "step"}


def test_the_console_handler_is_made_once_per_format() -> None:
    assert console_handler(logging.INFO) is console_handler(logging.WARNING)


def worker_assets() -> list[Any]:
    @of.asset
    def far(context: of.AssetExecutionContext, token: Token) -> int:
        context.log.info("on a worker with %s", token.value)
        return 2

    @of.asset
    def farther(far: int) -> int:
        of.get_logger().warning("farther got %d", far)
        return far

    return [far, farther]


@pytest.mark.parametrize("kind", ["multiprocess", "dask"])
def test_worker_records_reach_the_instance_and_the_console(
    kind: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    if kind == "dask":
        pytest.importorskip("distributed", reason="the `dask` extra is not installed")
        executor: Any = of.dask_executor(n_workers=1)
    else:
        executor = of.multiprocess_executor(max_concurrent=2)
    defs = of.Definitions(
        assets=worker_assets(),
        resources={
            "token": Token(value=of.EnvVar("LOGS_TOKEN")),
            "io_manager": of.FilesystemIOManager(base_dir=str(tmp_path / "store")),
        },
        executor=executor,
    )
    with of.Instance.local(tmp_path / "home") as instance:
        result = defs.get_implicit_global_asset_job_def().execute(instance=instance)
        rows = {(e.step_key, e.resource_key, e.message) for e in logs(instance, result.run_id)}
    assert ("far", None, "on a worker with ***") in rows
    assert ("farther", None, "farther got 2") in rows
    assert (None, "token", "token resource opened with ***") in rows
    err = capsys.readouterr().err
    assert "on a worker with ***" in err  # printed by the coordinator
    assert "farther got 2" in err
    assert f"run {result.run_id[:8]} SUCCESS" in err
    assert SECRET not in err


def test_an_io_manager_logs_through_the_run_as_its_resource_and_the_step() -> None:
    """``context.log`` in ``handle_output``/``load_input`` is the run's: LOG events naming the
    I/O manager's key and the step it handled (Dagster's InputContext/OutputContext.log is the
    run's log manager too: dagster/_core/execution/context/output.py ``log``)."""
    stored: dict[str, Any] = {}

    class Loud(of.ConfigurableIOManager):
        def handle_output(self, context: Any, obj: Any) -> None:
            context.log.info("storing %s", context.step_key)
            stored[context.asset_key.to_user_string()] = obj

        def load_input(self, context: Any) -> Any:
            context.log.info("loading for %s", context.step_key)
            return stored[context.asset_key.to_user_string()]

    @of.asset
    def up() -> int:
        return 1

    @of.asset
    def down(up: int) -> int:
        return up + 1

    with of.Instance.ephemeral() as instance:
        resources = {"io_manager": Loud()}
        assert of.materialize([up], resources=resources, instance=instance).success
        # only `down`: its input is loaded by the I/O manager
        assert of.materialize(
            [up, down], resources=resources, instance=instance, selection=["down"]
        ).success
        rows = [
            (e.step_key, e.resource_key, e.message)
            for run in instance.get_runs()
            for e in instance.all_events(run.run_id, event_type=EventType.LOG)
        ]
    assert ("up", "io_manager", "storing up") in rows
    assert ("down", "io_manager", "loading for down") in rows
