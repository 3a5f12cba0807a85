"""``log_stdout=True`` (Prefect 1's task option; here also per flow, job, asset and op): what a
step prints becomes INFO ``LOG`` events of that step, on every executor; steps without it
print as usual.

Prefect 1.4.1, src/prefect/core/task.py: ``Task(log_stdout=False)``, "if set, stdout of this
task will be captured and logged". Dagster has no such option (it captures compute logs to
files); ours records the lines as the step's log records, as Prefect 1 does.
"""

from __future__ import annotations

from typing import Any

import pytest

import outfitter as of
from outfitter._instance import EventType


@pytest.fixture(autouse=True)
def _info(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OUTFITTER_LOG_LEVEL", raising=False)


def logged(instance: of.Instance) -> list[tuple[str | None, str]]:
    run_id = instance.get_runs()[0].run_id
    return [(e.step_key, e.message) for e in instance.all_events(run_id, event_type=EventType.LOG)]


@of.op
def chatty_op() -> int:
    print("op printed this")
    return 1


@of.op
def quiet_op(x: int) -> int:
    print("quiet op printed this")
    return x


@of.asset(log_stdout=True)
def chatty_asset() -> int:
    print("asset printed this")
    return 1


@of.asset
def plain_asset(chatty_asset: int) -> int:
    print("plain asset printed this")
    return chatty_asset


def test_a_job_logs_what_its_steps_print(
    executor: Any, instance: of.Instance, capsys: pytest.CaptureFixture[str]
) -> None:
    @of.job(log_stdout=True, executor_def=executor)
    def chatty() -> None:
        quiet_op(chatty_op())

    assert chatty.execute_in_process(instance=instance).success
    assert ("chatty_op", "op printed this") in logged(instance)
    assert ("quiet_op", "quiet op printed this") in logged(instance)


def test_an_asset_logs_what_it_prints_and_its_neighbour_does_not(
    executor: Any, instance: of.Instance, capsys: pytest.CaptureFixture[str]
) -> None:
    defs = of.Definitions(assets=[chatty_asset, plain_asset], executor=executor)
    assert defs.get_implicit_global_asset_job_def().execute_in_process(instance=instance).success
    rows = logged(instance)
    assert ("chatty_asset", "asset printed this") in rows
    assert all(message != "plain asset printed this" for _, message in rows)


def test_an_asset_job_and_an_op_take_the_option() -> None:
    job = of.Definitions(
        assets=[plain_asset, chatty_asset],
        jobs=[of.define_asset_job("all_chatty", log_stdout=True)],
    ).get_job_def("all_chatty")
    assert all(node.log_stdout for node in job.nodes)

    @of.op(log_stdout=True)
    def one() -> int:
        return 1

    @of.job
    def single() -> None:
        one()

    assert [n.log_stdout for n in single.nodes] == [True]


@of.task
def shout(word: str) -> str:
    print(f"shouting {word}")
    return word.upper()


def test_a_flow_logs_what_its_tasks_print(
    executor: Any, instance: of.Instance, capsys: pytest.CaptureFixture[str]
) -> None:
    with of.Flow("loud", log_stdout=True, executor=executor) as flow:
        shout("hi")
    assert flow.run(instance=instance).is_successful()
    assert any(message == "shouting hi" for _, message in logged(instance))
    assert "shouting hi" not in capsys.readouterr().out
