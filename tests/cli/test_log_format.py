"""``outfitter --log-format json``: run logs and progress lines on stderr, one JSON object per
line (time, level, logger, message, run_id, step), for runs the CLI launches and the daemon."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

DEFS = """
import outfitter as of

class Token(of.ConfigurableResource):
    value: str

    def setup_for_execution(self, context):
        context.log.info("token opened: %s", self.value)

@of.asset
def users(context, token: Token) -> int:
    context.log.info("loading with %s", token.value)
    return 1

@of.asset
def total(users: int) -> int:
    of.get_logger().warning("total is %d", users)
    return users

defs = of.Definitions(
    assets=[users, total], resources={"token": Token(value=of.EnvVar("LOG_SECRET"))}
)
"""

FLOW = """
from outfitter import Flow, task

@task(log_stdout=True)
def hello() -> str:
    print("hello from a task")
    return "hi"

with Flow("greet") as flow:
    hello()
"""

SENSOR = """
import outfitter as of

@of.asset
def pinged(context) -> int:
    context.log.info("pinged by the sensor")
    return 1

job = of.define_asset_job("ping", selection=[pinged])

@of.sensor(job=job, minimum_interval_seconds=1, default_status="RUNNING")
def every_tick(context):
    context.log.info("sensor evaluated")
    return of.RunRequest(run_key=None)

defs = of.Definitions(assets=[pinged], jobs=[job], sensors=[every_tick])
"""


def cli(args: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "OUTFITTER_HOME": str(cwd / "home"),
        "OUTFITTER_ENV_FILE": str(cwd / "none.env"),
        "LOG_SECRET": "s3cret-token",
        "COLUMNS": "200",
    }
    env.pop("OUTFITTER_LOG_LEVEL", None)
    return subprocess.run(
        [sys.executable, "-m", "outfitter.cli", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def json_lines(stderr: str) -> list[dict[str, object]]:
    return [json.loads(line) for line in stderr.splitlines() if line.startswith("{")]


def test_materialize_prints_json_lines(tmp_path: Path) -> None:
    (tmp_path / "pipeline.py").write_text(DEFS)
    done = cli(["--log-format", "json", "materialize", "-f", "pipeline.py"], tmp_path)
    assert done.returncode == 0, done.stderr
    lines = json_lines(done.stderr)
    assert lines, done.stderr
    for line in lines:
        assert set(line) == {"time", "level", "logger", "message", "run_id", "step"}
    by_message = {line["message"]: line for line in lines}
    users = by_message["loading with ***"]
    assert users["step"] == "users"
    assert users["level"] == "INFO"
    assert users["logger"] == "outfitter.steps.users"
    assert by_message["token opened: ***"]["step"] == "token"
    assert by_message["total is 1"]["level"] == "WARNING"
    assert "step 'users' started" not in by_message  # a job's step lines are DEBUG
    run_id = users["run_id"]
    assert f"run {str(run_id)[:8]} SUCCESS" in by_message
    assert "s3cret-token" not in done.stderr + done.stdout


def test_run_flow_prints_json_lines_with_prefect_wording(tmp_path: Path) -> None:
    (tmp_path / "greet.py").write_text(FLOW)
    done = cli(["--log-format", "json", "run-flow", "-f", "greet.py"], tmp_path)
    assert done.returncode == 0, done.stderr
    messages = [line["message"] for line in json_lines(done.stderr)]
    assert "Task 'hello': Starting task run..." in messages
    assert "hello from a task" in messages
    assert "Flow run SUCCESS: all reference tasks succeeded" in messages


def test_the_daemon_and_its_runs_print_json_lines(tmp_path: Path) -> None:
    (tmp_path / "sensing.py").write_text(SENSOR)
    done = cli(
        ["--log-format", "json", "daemon", "-f", "sensing.py", "--max-ticks", "1", "--poll", "0.1"],
        tmp_path,
    )
    assert done.returncode == 0, done.stderr
    lines = json_lines(done.stderr)
    messages = [line["message"] for line in lines]
    assert "pinged by the sensor" in messages
    assert "sensor evaluated" in messages
    assert any(line["logger"] == "outfitter.daemon" for line in lines), done.stderr


def test_rich_is_the_default(tmp_path: Path) -> None:
    (tmp_path / "pipeline.py").write_text(DEFS)
    done = cli(["materialize", "-f", "pipeline.py"], tmp_path)
    assert done.returncode == 0, done.stderr
    assert "loading with ***" in done.stderr
    assert json_lines(done.stderr) == []


@pytest.mark.parametrize("value", ["xml"])
def test_an_unknown_format_is_refused(tmp_path: Path, value: str) -> None:
    (tmp_path / "pipeline.py").write_text(DEFS)
    done = cli(["--log-format", value, "materialize", "-f", "pipeline.py"], tmp_path)
    assert done.returncode == 1
    assert f"--log-format {value!r} is not a log format" in done.stderr
    assert "--log-format json" in done.stderr
