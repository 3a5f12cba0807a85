"""The UI's launcher: runs in a child process recorded under the id the UI made, the child's
own failure records, the launcher's record when the child died before the run, cancel, and
what never reaches the command line (issue 13)."""

from __future__ import annotations

import textwrap
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from outfitter import Instance
from outfitter._instance import EventType, RunRecord, RunStatus
from outfitter.exceptions import InvocationError
from outfitter.ui import Workspace
from outfitter.ui.launch_child import main as child_main
from outfitter.ui.launcher import Launcher, Target, instance_home, parse_run_config, parse_tags

SECRET = "tok-5ecret-91c3"

CODE = """
import os
import time

import outfitter as of
from pydantic import SecretStr

if os.environ.get("OF_TEST_HOLD"):
    time.sleep(120)
if os.environ.get("OF_TEST_BREAK"):
    raise RuntimeError(f"cannot log in with {os.environ.get('OF_TEST_TOKEN')}")

class Api(of.ConfigurableResource):
    url: str
    token: SecretStr

@of.asset
def users(api: Api) -> str:
    return api.url

@of.asset
def plain() -> int:
    return 1

@of.op
def one() -> int:
    return 1

@of.op
def add(x: int) -> int:
    return x + 1

@of.job(executor_def=of.multiprocess_executor)
def spread() -> None:
    add(one())

defs = of.Definitions(
    assets=[users, plain], jobs=[spread], resources={"api": Api.configure_at_launch()}
)
"""


@pytest.fixture
def setup(tmp_path: Path) -> Iterator[tuple[Launcher, Workspace, Instance]]:
    path = tmp_path / "pipeline.py"
    path.write_text(textwrap.dedent(CODE))
    workspace = Workspace(file=path)
    assert workspace.ok, workspace.problems
    with Instance.local(tmp_path / "home") as instance:
        launcher = Launcher(workspace, instance)
        yield launcher, workspace, instance
        assert launcher.wait(120)


def _target(workspace: Workspace, kind: str, name: str) -> Target:
    current = workspace.current
    return Target.resolve(current.defs, current.flows, kind, name)


def _wait_finished(instance: Instance, run_id: str) -> RunRecord:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        record = instance.get_run(run_id)
        if record is not None and record.status.is_finished:
            return record
        time.sleep(0.05)
    raise AssertionError(f"run {run_id} did not finish: {instance.get_run(run_id)}")


def _failure(instance: Instance, run_id: str) -> str:
    events = instance.all_events(run_id, event_type=EventType.RUN_FAILURE)
    assert len(events) == 1
    return events[0].message


def test_parse_tags_and_run_config() -> None:
    """Tags are key=value lines; YAML errors name line and column; aliases are refused."""
    assert parse_tags("a=1\n\n# note\nb = two = 2\n") == ({"a": "1", "b": "two = 2"}, [])
    tags, problems = parse_tags("a=1\na=2\n=x")
    assert tags == {"a": "1"}
    assert [str(p) for p in problems] == [
        "tags.line 2: tag 'a' is given twice (give it once)",
        "tags.line 3: '=x' is not key=value (one tag a line: team=data)",
    ]
    assert parse_run_config("") == ({}, [])
    assert parse_run_config("ops: {}") == ({"ops": {}}, [])
    _, problems = parse_run_config("resources:\n  db:\n  config: [\n")
    assert problems[0].message.startswith("YAML syntax error at line 4, column 1: ")
    _, problems = parse_run_config("- 1\n- 2\n")
    assert problems[0].message == "run config must be a mapping, got list"
    _, problems = parse_run_config("a: &x 1\nb: *x\n")
    assert "anchors and aliases are not allowed in run config" in problems[0].message


def test_an_in_memory_instance_cannot_launch(tmp_path: Path) -> None:
    """Another process cannot see an in-memory instance: launch says so and records nothing."""
    path = tmp_path / "pipeline.py"
    path.write_text(textwrap.dedent(CODE))
    workspace = Workspace(file=path)
    with Instance.ephemeral() as instance:
        assert instance_home(instance) is None
        launcher = Launcher(workspace, instance)
        with pytest.raises(InvocationError, match="its instance is in memory"):
            launcher.launch(_target(workspace, "select", "plain"), "", {})
        assert instance.get_runs() == []


def test_a_run_is_queued_at_once_then_runs_with_the_jobs_executor(
    setup: tuple[Launcher, Workspace, Instance],
) -> None:
    """The record exists (QUEUED or later) when launch returns; the multiprocess job runs in
    the child with its own executor and succeeds; output goes to a log under the instance."""
    launcher, workspace, instance = setup
    run_id = launcher.launch(_target(workspace, "job", "spread"), "", {"team": "data"})
    queued = instance.get_run(run_id)
    assert queued is not None
    assert queued.job_name == "spread"
    assert queued.tags == {"team": "data"}
    record = _wait_finished(instance, run_id)
    assert record.status is RunStatus.SUCCESS, instance.all_events(run_id)
    assert record.pid is not None
    steps = {e.step_key for e in instance.all_events(run_id, event_type=EventType.STEP_SUCCESS)}
    assert steps == {"one", "add"}
    home = instance_home(instance)
    assert home is not None
    assert (home / "launches" / f"{run_id}.log").is_file()


def test_the_config_reaches_the_child_on_stdin_only(
    setup: tuple[Launcher, Workspace, Instance],
) -> None:
    """The run config (here with a secret) is not on the child's command line nor in its
    log, and the record masks it."""
    launcher, workspace, instance = setup
    config = f"resources:\n  api:\n    config:\n      url: https://x\n      token: {SECRET}\n"
    run_id = launcher.launch(_target(workspace, "select", "users"), config, {})
    launched = launcher.launched.get(run_id)
    if launched is not None:
        assert SECRET not in " ".join(map(str, launched.process.args))
        assert "--run-id" in launched.process.args
    record = _wait_finished(instance, run_id)
    assert record.status is RunStatus.SUCCESS
    assert record.run_config == {
        "resources": {"api": {"config": {"url": "https://x", "token": "**********"}}}
    }
    assert launcher.wait(120)
    home = instance_home(instance)
    assert home is not None
    assert SECRET not in (home / "launches" / f"{run_id}.log").read_text()


def test_a_child_that_fails_to_import_records_the_masked_error(
    setup: tuple[Launcher, Workspace, Instance], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The code raises on import in the child: FAILURE with the error, the value of an
    environment variable the config names masked in the message, traceback and log."""
    launcher, workspace, instance = setup
    monkeypatch.setenv("OF_TEST_TOKEN", SECRET)
    monkeypatch.setenv("OF_TEST_BREAK", "1")
    config = "resources:\n  api:\n    config:\n      url: u\n      token: {env: OF_TEST_TOKEN}\n"
    run_id = launcher.launch(_target(workspace, "select", "users"), config, {})
    record = _wait_finished(instance, run_id)
    assert record.status is RunStatus.FAILURE
    message = _failure(instance, run_id)
    assert message.startswith("the run could not start: InvocationError: importing ")
    assert "raised RuntimeError: cannot log in with ***" in message
    event = instance.all_events(run_id, event_type=EventType.RUN_FAILURE)[0]
    assert SECRET not in str(event.data)
    assert launcher.wait(120)
    home = instance_home(instance)
    assert home is not None
    assert SECRET not in (home / "launches" / f"{run_id}.log").read_text()


def test_a_target_gone_from_the_code_is_recorded_as_failed(
    setup: tuple[Launcher, Workspace, Instance],
) -> None:
    """The job was renamed after the UI loaded the code: FAILURE naming the job."""
    launcher, workspace, instance = setup
    assert workspace.file is not None
    workspace.file.write_text(workspace.file.read_text().replace("spread", "spreads"))
    run_id = launcher.launch(_target(workspace, "job", "spread"), "", {})
    assert _wait_finished(instance, run_id).status is RunStatus.FAILURE
    assert "no job named 'spread'. Did you mean 'spreads'?" in _failure(instance, run_id)


def test_a_child_killed_before_the_run_started_is_recorded_by_the_launcher(
    setup: tuple[Launcher, Workspace, Instance], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The child dies without a word (SIGKILL while importing): the launcher reaps it and
    records FAILURE saying how it ended and where its output is."""
    launcher, workspace, instance = setup
    monkeypatch.setenv("OF_TEST_HOLD", "1")
    run_id = launcher.launch(_target(workspace, "select", "plain"), "", {})
    launcher.launched[run_id].process.kill()
    record = _wait_finished(instance, run_id)
    assert record.status is RunStatus.FAILURE
    message = _failure(instance, run_id)
    assert message.startswith("the run's process was killed by signal 9 before the run started")
    assert f"launches/{run_id}.log" in message
    assert launcher.wait(120)
    assert launcher.launched == {}


def test_cancel_before_the_run_started(
    setup: tuple[Launcher, Workspace, Instance], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A launch canceled while its process still loads the code is recorded CANCELED."""
    launcher, workspace, instance = setup
    monkeypatch.setenv("OF_TEST_HOLD", "1")
    run_id = launcher.launch(_target(workspace, "select", "plain"), "", {})
    assert launcher.cancel(run_id)
    record = _wait_finished(instance, run_id)
    assert record.status is RunStatus.CANCELED
    assert launcher.wait(120)
    assert not launcher.cancel(run_id)


def test_the_child_records_bad_yaml_itself(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Run in this process: config that does not parse fails the queued run, masked."""
    path = tmp_path / "pipeline.py"
    path.write_text(textwrap.dedent(CODE))
    home = tmp_path / "home"
    monkeypatch.setenv("OUTFITTER_HOME", str(home))
    with Instance.local(home) as instance:
        run_id = instance.create_run("__materialize__").run_id
    import io
    import json

    payload = json.dumps({"config": f"token: {SECRET}\nbad: [", "tags": {}})
    monkeypatch.setattr("sys.stdin", io.StringIO(payload))
    args = ["-f", str(path), "--kind", "select", "--target", "plain", "--run-id", run_id]
    assert child_main(args) == 1
    with Instance.local(home) as instance:
        record = instance.get_run(run_id)
        assert record is not None
        assert record.status is RunStatus.FAILURE
        message = _failure(instance, run_id)
    assert "YAML syntax error at line 2" in message
    assert SECRET not in capsys.readouterr().err
