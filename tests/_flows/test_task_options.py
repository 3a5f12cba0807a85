"""Task run options Prefect 1 users rely on: ``retry_on``, ``timeout``, ``state_handlers``
(tasks and flows), ``checkpoint``/``cache_for``, ``log_stdout``; timeouts and state handlers on
every executor.

Prefect 1.4.1 sources pinned here:
- ``src/prefect/core/task.py`` ``Task.__init__``: ``retry_on`` holds exception classes and needs
  ``max_retries``; ``timeout`` is seconds or a timedelta; ``state_handlers`` is a list of
  callables; ``checkpoint`` and ``cache_for`` are accepted.
- ``src/prefect/engine/task_runner.py``: ``check_for_retry`` skips the retry of an exception
  not in ``retry_on``; ``get_task_run_state`` turns a timeout into ``TimedOut``;
  ``call_runner_target_handlers`` calls each handler as ``handler(task, old, new)``, a returned
  state replacing ``new``.
- ``src/prefect/engine/runner.py`` ``handle_state_change``: a handler's error fails the task
  ("Unexpected error while calling state handlers").
- ``src/prefect/utilities/executors.py`` ``run_task_with_timeout``: the task is interrupted
  (we interrupt in the thread running it everywhere; Prefect only warns and lets it run on in
  a daemonic process).
"""

from __future__ import annotations

import asyncio
import threading
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from flow_executors import Alerts, lines

import outfitter as of
from outfitter.exceptions import DefinitionTypeError, DefinitionValueError, TaskTimeoutError

# the executors as fixtures (from a helper module: one conftest.py per test tree)

# -- retry_on -----------------------------------------------------------------------------------


@of.task(max_retries=2, retry_delay=timedelta(0), retry_on=ConnectionError)
def flaky(log: str, error: str) -> None:
    with open(log, "a") as f:
        f.write("attempt\n")
    raise {"connection": ConnectionError, "key": KeyError}[error]("down")


def test_retry_on_retries_only_the_given_exceptions(executor: Any, tmp_path: Path) -> None:
    with of.Flow("retry-on") as flow:
        retried = flaky(str(tmp_path / "a.log"), "connection")
        not_retried = flaky(str(tmp_path / "b.log"), "key")
    state = flow.run(executor=executor)
    assert isinstance(state.result[retried].result, ConnectionError)
    assert isinstance(state.result[not_retried].result, KeyError)
    assert len(lines(tmp_path / "a.log")) == 3
    assert len(lines(tmp_path / "b.log")) == 1


def test_retry_on_is_checked() -> None:
    with pytest.raises(TypeError, match="retry_on must hold exception classes, got 'oops'"):
        of.Task(max_retries=1, retry_delay=0, retry_on=["oops"])
    with pytest.raises(ValueError, match="retry_on is set but max_retries is 0") as info:
        of.Task("t", retry_on=[ValueError])
    assert isinstance(info.value, DefinitionValueError)
    assert of.Task(max_retries=1, retry_delay=0, retry_on=[OSError]).retry_on == {OSError}


# -- timeout ------------------------------------------------------------------------------------


@of.task(timeout=0.5)
def stuck(log: str, alerts: Alerts) -> None:
    try:
        while True:
            time.sleep(0.01)
    finally:
        alerts.send(f"unwound {log}")


@of.task
def fine(x: int) -> int:
    return x


def test_a_task_over_its_timeout_is_timed_out_and_unwinds(executor: Any, tmp_path: Path) -> None:
    """The task ends TimedOut with a TaskTimeoutError naming it; its finally block ran (it
    was interrupted, not left running); the run's resource closed as often as it opened; the
    rest of the flow went on."""
    path = tmp_path / "alerts.log"
    with of.Flow("timeouts", resources={"alerts": Alerts(path=str(path))}) as flow:
        timed_out = stuck("one")
        other = fine(1)
    state = flow.run(executor=executor)
    assert state.is_failed()
    result = state.result[timed_out]
    assert type(result) is of.TimedOut
    assert isinstance(result.result, TaskTimeoutError)
    assert isinstance(result.result, TimeoutError)
    assert str(result.result).startswith("task 'stuck' timed out after 0.5s")
    assert result.message == "Task timed out during execution: task 'stuck' timed out after 0.5s"
    assert state.result[other].result == 1
    written = lines(path)
    assert "unwound one" in written
    assert written.count("open") == written.count("close") >= 1


def test_a_blocking_call_in_the_main_thread_is_interrupted() -> None:
    """In process, a task sleeping far past its timeout is interrupted (a SIGALRM)."""

    @of.task(timeout=timedelta(milliseconds=300))
    def sleeps() -> None:
        time.sleep(60)

    with of.Flow("sleeps") as flow:
        slept = sleeps()
    assert type(flow.run().result[slept]) is of.TimedOut


def test_a_timeout_works_in_a_flow_run_from_a_thread(tmp_path: Path) -> None:
    path = tmp_path / "alerts.log"
    with of.Flow("threaded", resources={"alerts": Alerts(path=str(path))}) as flow:
        timed_out = stuck("thread")
    states: list[of.State] = []
    thread = threading.Thread(target=lambda: states.append(flow.run()))
    thread.start()
    thread.join(60)
    assert type(states[0].result[timed_out]) is of.TimedOut
    assert "unwound thread" in lines(path)


def test_an_async_task_times_out() -> None:
    @of.task(timeout=0.3)
    async def waits() -> None:
        await asyncio.sleep(60)

    with of.Flow("async") as flow:
        waited = waits()
    assert type(flow.run().result[waited]) is of.TimedOut


def test_a_timed_out_task_is_retried(tmp_path: Path) -> None:
    """A timeout is a failure: max_retries runs it again (Prefect retries TimedOut)."""
    path = tmp_path / "alerts.log"
    with of.Flow("retried", resources={"alerts": Alerts(path=str(path))}) as flow:
        stuck("again", task_args={"max_retries": 1, "retry_delay": timedelta(0)})
    flow.run()
    assert lines(path).count("unwound again") == 2


def test_a_task_finishing_in_time_is_untouched() -> None:
    @of.task(timeout=30)
    def quick(x: int) -> int:
        return x + 1

    with of.Flow("quick") as flow:
        done = quick.map([1, 2])
    assert flow.run().result[done].result == [2, 3]


@pytest.mark.parametrize("bad", ["5", 0, -1, True])
def test_timeout_is_checked(bad: Any) -> None:
    with pytest.raises(
        DefinitionTypeError, match="timeout must be a number of seconds > 0"
    ) as info:
        of.Task("t", timeout=bad)
    assert isinstance(info.value, TypeError)
    assert "task 't'" in str(info.value)


# -- state handlers -----------------------------------------------------------------------------

SEEN: list[tuple[str, str, str]] = []


def record(obj: Any, old: of.State, new: of.State) -> None:
    SEEN.append((obj.name, type(old).__name__, type(new).__name__))


@of.task(state_handlers=[record])
def watched(x: int) -> int:
    if x < 0:
        raise ValueError("negative")
    return x


def test_state_handlers_see_every_change(executor: Any) -> None:
    """Task handlers run in the coordinating process on every executor: Pending -> Running ->
    end for each call (mapped children too, then the parent's Mapped); flow handlers see the
    flow start and end."""
    SEEN.clear()
    with of.Flow("watched", state_handlers=[record]) as flow:
        watched(1)
        watched.map([2, -1])
    flow.run(executor=executor)
    assert SEEN[0] == ("watched", "Pending", "Running")
    assert SEEN[-1] == ("watched", "Running", "Failed")
    task_changes = SEEN[1:-1]
    assert task_changes.count(("watched", "Pending", "Running")) == 3
    assert task_changes.count(("watched", "Running", "Success")) == 2
    assert task_changes.count(("watched", "Running", "Failed")) == 1
    assert task_changes.count(("watched", "Pending", "Mapped")) == 1


def test_retries_show_as_retrying_then_running(tmp_path: Path) -> None:
    SEEN.clear()
    with of.Flow("retries") as flow:
        flaky(
            str(tmp_path / "log"),
            "connection",
            task_args={"state_handlers": [record], "max_retries": 1},
        )
    flow.run()
    assert [(o, n) for _, o, n in SEEN] == [
        ("Pending", "Running"),
        ("Running", "Retrying"),
        ("Retrying", "Running"),
        ("Running", "Failed"),
    ]


def forgive(task: Any, old: of.State, new: of.State) -> of.State | None:
    if new.is_failed():
        return of.Success("forgiven", result=0)
    return None


def test_a_handler_may_replace_the_state() -> None:
    """The returned state is the task's: downstream tasks run with its result."""
    with of.Flow("forgive") as flow:
        forgiven = watched(-1, task_args={"state_handlers": [forgive]})
        after = fine(forgiven)
    state = flow.run()
    assert state.is_successful()
    assert state.result[forgiven] == of.Success(result=0)
    assert state.result[after].result == 0


def test_a_flow_handler_may_replace_the_flow_state() -> None:
    with of.Flow("forgiven-flow", state_handlers=[forgive]) as flow:
        watched(-1)
    state = flow.run()
    assert state.message == "forgiven"


def broken_handler(task: Any, old: of.State, new: of.State) -> None:
    raise RuntimeError("handler bug")


def test_a_handler_that_raises_fails_the_task() -> None:
    with of.Flow("broken") as flow:
        done = fine(1, task_args={"state_handlers": [broken_handler]})
    state = flow.run().result[done]
    assert state.is_failed()
    assert state.message == (
        "Unexpected error while calling state handlers: RuntimeError('handler bug')"
    )


def alert_on_failure(task: Any, old: of.State, new: of.State, alerts: Alerts) -> None:
    """Alert through the flow's `alerts` resource when a task fails."""
    if new.is_failed():
        alerts.send(f"{task.name} failed: {new.message}")


def test_a_handler_alerts_through_a_resource(executor: Any, tmp_path: Path) -> None:
    """A handler asks for a resource by annotation; it gets it from the run (opened in the
    coordinating process, closed at the end of the run)."""
    path = tmp_path / "alerts.log"
    with of.Flow("alerting", resources={"alerts": Alerts(path=str(path))}) as flow:
        watched.map([1, -1], task_args={"state_handlers": [alert_on_failure]})
    flow.run(executor=executor)
    written = lines(path)
    assert "watched failed: Error during execution of task: ValueError: negative" in written
    assert written.count("open") == written.count("close") >= 1


def report_flow(flow: Any, old: of.State, new: of.State, alerts: Alerts) -> None:
    alerts.send(f"{flow.name}: {type(old).__name__} -> {type(new).__name__}")


def test_a_flow_handler_reaches_a_resource_at_start_and_end(tmp_path: Path) -> None:
    """The end handler runs before the run's resources close."""
    path = tmp_path / "alerts.log"
    alerts = Alerts(path=str(path))
    with of.Flow("reported", resources={"alerts": alerts}, state_handlers=[report_flow]) as flow:
        fine(1)
    flow.run()
    written = lines(path)
    assert "reported: Pending -> Running" in written
    assert written.index("reported: Running -> Success") < written.index("close")


@pytest.mark.parametrize("bad", ["record", [1]])
def test_state_handlers_are_checked(bad: Any) -> None:
    with pytest.raises(TypeError, match="state_handlers must be"):
        of.Task("t", state_handlers=bad)


# -- accepted options ---------------------------------------------------------------------------


def test_checkpoint_and_cache_for_are_accepted_and_kept() -> None:
    """Accepted so Prefect 1 code runs; results are not checkpointed nor cached here."""
    t = of.Task("t", checkpoint=False, cache_for=timedelta(hours=1))
    assert t.checkpoint is False
    assert t.cache_for == timedelta(hours=1)
    with pytest.raises(TypeError, match="cache_for must be a timedelta"):
        of.Task("t", cache_for=60)


def test_log_stdout_is_a_task_option() -> None:
    assert of.Task("t", log_stdout=True).log_stdout is True
