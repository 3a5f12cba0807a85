"""Flow tasks log like Prefect 1 tasks: ``self.logger`` on a Task subclass and ``get_logger()``
in a task become LOG events of the task and console lines; ``log_stdout=True`` logs what the
task prints; progress lines use Prefect 1's wording.

Prefect 1.4.1 (src/prefect/core/task.py: ``Task.__init__(..., log_stdout=False)``,
``self.logger = logging.get_logger(self.name)``; src/prefect/engine/task_runner.py:
"Task '{name}': Starting task run...", "Task '{name}': Finished task run for task with final
state: '{state}'"; src/prefect/engine/flow_runner.py: "Flow run SUCCESS: all reference tasks
succeeded", "Flow run FAILED: some reference tasks failed.").
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

import outfitter as of
from outfitter import Flow, Task, get_logger, task
from outfitter._execution.logs import set_log_format
from outfitter._instance import EventType


@pytest.fixture(autouse=True)
def _plain_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("OUTFITTER_LOG_LEVEL", raising=False)
    monkeypatch.setenv("OUTFITTER_ENV_FILE", str(tmp_path / "no.env"))
    set_log_format("rich")


class Add(Task):
    def run(self, x: int, y: int) -> int:
        self.logger.info("adding %d and %d", x, y)
        print("add printed this")
        return x + y


def log_rows(instance: of.Instance, run_id: str) -> list[tuple[str | None, str]]:
    return [(e.step_key, e.message) for e in instance.all_events(run_id, event_type=EventType.LOG)]


def test_self_logger_and_get_logger_become_log_events_and_progress_lines(
    capsys: pytest.CaptureFixture[str],
) -> None:
    @task
    def one() -> int:
        get_logger().info("one is running")
        return 1

    with Flow("sums") as flow:
        total = Add(name="add")(one(), 2)
    with of.Instance.ephemeral() as instance:
        state = flow.run(instance=instance)
        run_id = instance.get_runs()[0].run_id
        rows = log_rows(instance, run_id)
    assert state.result[total].result == 3
    assert (total.slug, "adding 1 and 2") in rows
    assert any(message == "one is running" for _, message in rows)
    assert all(m != "add printed this" for _, m in rows)
    out = capsys.readouterr()
    assert "add printed this" in out.out  # log_stdout is off by default
    err = out.err
    assert "Task 'one': Starting task run..." in err
    assert "Task 'add': Finished task run for task with final state: 'Success'" in err
    assert "Flow run SUCCESS: all reference tasks succeeded" in err
    assert "adding 1 and 2" in err


def test_a_failed_flow_says_so(capsys: pytest.CaptureFixture[str]) -> None:
    @task
    def broken() -> None:
        raise ValueError("nope")

    with Flow("fails") as flow:
        broken()
    flow.run()
    err = capsys.readouterr().err
    assert "Task 'broken': Exception encountered during task execution!" in err
    assert "ValueError: nope" in err
    assert "Task 'broken': Finished task run for task with final state: 'Failed'" in err
    assert "Flow run FAILED: some reference tasks failed." in err


def test_log_stdout_turns_prints_into_info_log_events(capsys: pytest.CaptureFixture[str]) -> None:
    @task(log_stdout=True)
    def chatty() -> int:
        print("first line")
        print("second", "line", end="")
        return 1

    with Flow("chatty") as flow:
        chatty()
        Add(log_stdout=True, name="add")(1, 2)
    with of.Instance.ephemeral() as instance:
        flow.run(instance=instance)
        run_id = instance.get_runs()[0].run_id
        events = instance.all_events(run_id, event_type=EventType.LOG)
    messages = [e.message for e in events]
    assert "first line" in messages
    assert "second line" in messages
    assert "add printed this" in messages
    assert {e.data["level"] for e in events} == {"INFO"}
    out = capsys.readouterr()
    assert "first line" not in out.out
    assert "first line" in out.err


def test_log_stdout_on_an_async_task() -> None:
    @task(log_stdout=True)
    async def later() -> int:
        print("awaited print")
        return 2

    with Flow("async") as flow:
        later()
    with of.Instance.ephemeral() as instance:
        flow.run(instance=instance)
        run_id = instance.get_runs()[0].run_id
        assert "awaited print" in [m for _, m in log_rows(instance, run_id)]


def test_a_subclass_run_keeps_its_signature_and_hints() -> None:
    """run() is wrapped for log_stdout; the task's inputs are still those of the user's run."""
    assert Add().params.inputs == ("x", "y")


def test_outside_a_run_the_logger_is_outfitter_user() -> None:
    def probe(task_: Any) -> str:
        return str(task_.logger.name)

    assert probe(Add()) == "outfitter.user"


def test_task_logs_on_worker_processes_reach_the_instance(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """A task on a multiprocess worker: self.logger and log_stdout records come back with the
    task's events and are printed by the coordinating process."""
    with Flow("far") as flow:
        Add(name="add", log_stdout=True)(1, 2)
    with of.Instance.ephemeral() as instance:
        flow.run(instance=instance, executor=of.multiprocess_executor(max_concurrent=2))
        run_id = instance.get_runs()[0].run_id
        messages = [m for _, m in log_rows(instance, run_id)]
    assert "adding 1 and 2" in messages
    assert "add printed this" in messages
    err = capsys.readouterr().err
    assert "adding 1 and 2" in err
    assert "Task 'add': Starting task run..." in err
