"""A retried op or asset on every executor (in process, multiprocess, Dask): a ``RetryPolicy``
calls the step again in the process that ran it, so its run-scoped resources stay open between
attempts (opened once, closed once), and each retry is a ``STEP_RETRY`` event.

Dagster's ``RetryPolicy`` (dagster/_core/definitions/policy.py) is honoured by every executor
of Dagster's; it re-runs the step in a new step process on the multiprocess executor (and so
opens its resources again). Ours never re-opens them: DESIGN §6, resources once per run per
process. Also ``op_selection`` on every executor (dagster/_core/selector/subset_selector.py).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

import outfitter as of
from outfitter._instance import EventType


class Counter(of.ConfigurableResource):
    """Counts attempts in ``path`` and logs its opens and closes (with the pid) to ``log``."""

    path: str
    log: str

    def setup_for_execution(self, context: Any) -> None:
        with open(self.log, "a") as f:
            f.write(f"open {os.getpid()}\n")

    def teardown_after_execution(self, context: Any) -> None:
        with open(self.log, "a") as f:
            f.write(f"close {os.getpid()}\n")

    def attempt(self) -> int:
        count = int(Path(self.path).read_text() or 0) + 1 if Path(self.path).exists() else 1
        Path(self.path).write_text(str(count))
        return count


@of.op(retry_policy=of.RetryPolicy(max_retries=3))
def flaky_op(counter: Counter) -> int:
    n = counter.attempt()
    if n < 3:
        raise ConnectionError(f"attempt {n} lost the connection")
    return n


@of.job
def retried_job() -> None:
    flaky_op()


@of.asset(retry_policy=of.RetryPolicy(max_retries=2))
def flaky_asset(counter: Counter) -> int:
    n = counter.attempt()
    if n < 3:
        raise ConnectionError(f"attempt {n} lost the connection")
    return n


def _resources(tmp_path: Path) -> dict[str, Any]:
    return {"counter": Counter(path=str(tmp_path / "count"), log=str(tmp_path / "opens.log"))}


def _opens(tmp_path: Path) -> list[str]:
    return [line.split()[0] for line in (tmp_path / "opens.log").read_text().splitlines()]


@pytest.mark.parametrize("front", ["op job", "asset job"])
def test_a_retried_step_succeeds_with_its_resource_opened_once(
    front: str, executor: Any, tmp_path: Path, instance: of.Instance
) -> None:
    """Two failed attempts, then success: one open, one close, two STEP_RETRY events."""
    if front == "op job":
        defs = of.Definitions(jobs=[retried_job], resources=_resources(tmp_path), executor=executor)
        result = defs.resolve_job_def("retried_job").execute(instance=instance)
        key = "flaky_op"
    else:
        defs = of.Definitions(
            assets=[flaky_asset], resources=_resources(tmp_path), executor=executor
        )
        result = defs.resolve_implicit_global_asset_job_def().execute(instance=instance)
        key = "flaky_asset"
    assert result.success
    assert result.output_for_node(key) == 3
    assert _opens(tmp_path) == ["open", "close"]
    retries = [e for e in result.all_events if e.event_type is EventType.STEP_RETRY]
    assert [e.step_key for e in retries] == [key, key]
    limit = 3 if front == "op job" else 2
    assert retries[0].message.startswith(
        f"retry 1 of {limit}: ConnectionError: attempt 1 lost the connection"
    )
    assert retries[1].message.startswith(f"retry 2 of {limit}: ConnectionError: attempt 2")


@of.asset
def always_fails(counter: Counter) -> int:
    raise ConnectionError(f"attempt {counter.attempt()} failed")


def test_retries_run_out_and_the_step_fails(executor: Any, tmp_path: Path) -> None:
    """A job's op_retry_policy (max_retries=1) on an asset without its own: two attempts,
    then the step fails with the last error; the resource opened and closed once."""
    limited = of.define_asset_job("limited", op_retry_policy=of.RetryPolicy(max_retries=1))
    defs = of.Definitions(
        assets=[always_fails], jobs=[limited], resources=_resources(tmp_path), executor=executor
    )
    result = defs.resolve_job_def("limited").execute(raise_on_error=False)
    assert not result.success
    assert (tmp_path / "count").read_text() == "2"
    assert _opens(tmp_path) == ["open", "close"]
    events = [e for e in result.all_events if e.step_key == "always_fails"]
    assert [e.event_type for e in events].count(EventType.STEP_RETRY) == 1
    failure = [e for e in events if e.event_type is EventType.STEP_FAILURE]
    assert "attempt 2 failed" in failure[0].message


@of.op
def first() -> int:
    return 1


@of.op
def second(n: int = 10) -> int:
    return n + 1


@of.job
def two_steps() -> None:
    second(first())


def test_op_selection_on_every_executor(executor: Any) -> None:
    """job.execute(op_selection=...) runs only the selected op, on any executor; its input
    from the unselected op falls back to its default."""
    defs = of.Definitions(jobs=[two_steps], executor=executor)
    result = defs.resolve_job_def("two_steps").execute(op_selection=["second"])
    assert result.output_for_node("second") == 11
    ran = {e.step_key for e in result.all_events if e.event_type is EventType.STEP_SUCCESS}
    assert ran == {"second"}
