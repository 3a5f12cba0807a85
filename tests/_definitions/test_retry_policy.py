"""``RetryPolicy``, ``Backoff``, ``Jitter`` and ``RetryRequested``: the delay formula, the checks
at construction, where a policy applies (op, asset, a job's ``op_retry_policy``) and how a
retried step runs in process (events, a resource opened once, ``RetryRequested``).

Dagster's semantics (dagster/_core/definitions/policy.py): ``Backoff.LINEAR`` waits
``attempt * delay``, ``Backoff.EXPONENTIAL`` ``(2**attempt - 1) * delay``; ``Jitter.FULL``
scales that by ``random()``, ``Jitter.PLUS_MINUS`` adds ``2 * random() * delay - delay``;
backoff or jitter without a delay is a definition error; ``max_retries`` defaults to 1. An op's
own policy wins over its job's ``op_retry_policy``
(dagster/_core/definitions/job_definition.py, ``op_retry_policy``: "used if retry policy is not
defined on the op definition or op invocation"). ``RetryRequested(max_retries=, seconds_to_wait=)``
raised from an op asks for another attempt (dagster/_core/definitions/events.py).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

import outfitter as of
from outfitter._definitions.policy import calculate_delay, retry_after
from outfitter._instance import EventType
from outfitter.exceptions import DefinitionError

B, J = of.Backoff, of.Jitter


@pytest.mark.parametrize(
    ("attempt", "backoff", "expected"),
    [
        (1, None, 2.0),
        (3, None, 2.0),
        (1, B.LINEAR, 2.0),
        (3, B.LINEAR, 6.0),
        (1, B.EXPONENTIAL, 2.0),
        (2, B.EXPONENTIAL, 6.0),
        (3, B.EXPONENTIAL, 14.0),
    ],
)
def test_backoff_formula(attempt: int, backoff: Any, expected: float) -> None:
    """LINEAR: n * delay; EXPONENTIAL: (2**n - 1) * delay; none: delay."""
    assert calculate_delay(attempt, backoff, None, 2.0) == expected


@pytest.mark.parametrize(
    ("rand", "jitter", "expected"),
    [
        (0.25, J.FULL, 1.5),  # 0.25 * (2**2 - 1) * 2
        (0.0, J.FULL, 0.0),
        (0.75, J.PLUS_MINUS, 7.0),  # 6 + (2 * 0.75 * 2 - 2)
        (0.25, J.PLUS_MINUS, 5.0),  # 6 + (2 * 0.25 * 2 - 2)
    ],
)
def test_jitter_after_backoff(rand: float, jitter: Any, expected: float) -> None:
    """Jitter applies after the backoff, scaled by the base delay (PLUS_MINUS)."""
    assert calculate_delay(2, B.EXPONENTIAL, jitter, 2.0, rand=lambda: rand) == expected


def test_plus_minus_jitter_never_goes_below_zero() -> None:
    """Dagster can return a negative wait here; we wait 0 instead."""
    assert calculate_delay(1, None, J.PLUS_MINUS, 1.0, rand=lambda: 0.0) == 0


def test_policy_defaults_and_calculate_delay() -> None:
    """max_retries defaults to 1 and no delay; calculate_delay uses the policy's fields."""
    assert of.RetryPolicy() == (1, None, None, None)
    assert of.RetryPolicy(max_retries=2, delay=1.5, backoff=B.LINEAR).calculate_delay(2) == 3.0
    assert of.RetryPolicy(max_retries=2).calculate_delay(1) == 0


def test_invalid_policies_list_every_problem() -> None:
    """Backoff and jitter need a delay; numbers are checked; all problems in one error."""
    with pytest.raises(DefinitionError) as err:
        of.RetryPolicy(max_retries=-1, backoff=B.EXPONENTIAL, jitter=J.FULL)
    text = str(err.value)
    assert text.startswith("invalid RetryPolicy")
    assert "max_retries must be a whole number >= 0, got -1" in text
    assert "backoff is set without a delay" in text
    assert "jitter is set without a delay" in text
    assert "Hint: e.g. RetryPolicy(max_retries=3, delay=2" in text
    with pytest.raises(DefinitionError, match="delay must be a number of seconds >= 0"):
        of.RetryPolicy(delay=-1)
    with pytest.raises(DefinitionError, match=r"backoff must be Backoff\.LINEAR or"):
        of.RetryPolicy(delay=1, backoff="LINEAR")  # type: ignore[arg-type]


def test_retry_policy_must_be_a_policy() -> None:
    """A number where a RetryPolicy goes names the op and shows the fix."""
    with pytest.raises(DefinitionError, match=r"op 'x': retry_policy= takes a RetryPolicy"):

        @of.op(name="x", retry_policy=3)  # type: ignore[arg-type]
        def x() -> None: ...

    with pytest.raises(DefinitionError, match=r"job 'j': op_retry_policy= takes a RetryPolicy"):

        @of.job(name="j", op_retry_policy={"max_retries": 1})  # type: ignore[arg-type]
        def j() -> None: ...


@of.op
def plain() -> int:
    return 1


@of.op(retry_policy=of.RetryPolicy(max_retries=5))
def own() -> int:
    return 1


@of.graph
def inner() -> None:
    plain()


def test_job_policy_applies_to_ops_without_their_own() -> None:
    """op_retry_policy fills in ops without a policy, nested graphs included; an op's own wins."""
    job_policy = of.RetryPolicy(max_retries=2, delay=0.5, backoff=B.LINEAR)

    @of.job(op_retry_policy=job_policy)
    def both() -> None:
        plain()
        own()
        inner()

    nodes = {n.key: n for n in both.nodes}
    assert (nodes["plain"].max_retries, nodes["plain"].retry_delay) == (2, 0.5)
    assert nodes["plain"].retry_backoff is B.LINEAR
    assert nodes["inner.plain"].max_retries == 2
    assert nodes["own"].max_retries == 5
    assert inner.to_job(op_retry_policy=job_policy).nodes[0].max_retries == 2
    assert inner.to_job().nodes[0].max_retries == 0


def test_asset_job_policy_applies_to_assets_without_their_own() -> None:
    """define_asset_job(op_retry_policy=...) for the assets without a policy."""

    @of.asset
    def a() -> int:
        return 1

    @of.asset(retry_policy=of.RetryPolicy(max_retries=4))
    def b() -> int:
        return 2

    defs = of.Definitions(
        assets=[a, b],
        jobs=[of.define_asset_job("all", op_retry_policy=of.RetryPolicy(max_retries=1))],
    )
    nodes = {n.key: n for n in defs.resolve_job_def("all").nodes}
    assert (nodes["a"].max_retries, nodes["b"].max_retries) == (1, 4)
    assert {n.key: n.max_retries for n in defs.resolve_implicit_global_asset_job_def().nodes} == {
        "a": 0,
        "b": 4,
    }


class Opens(of.ConfigurableResource):
    """Logs each open to ``log``."""

    log: str

    def setup_for_execution(self, context: Any) -> None:
        with open(self.log, "a") as f:
            f.write("open\n")


def test_retry_requested_uses_its_own_limit_and_wait(tmp_path: Path) -> None:
    """RetryRequested(max_retries=2) from an op without a policy: 3 attempts in all, each retry
    an event, the resource opened once."""
    attempts: list[int] = []

    @of.op
    def fetch(opens: Opens) -> int:
        attempts.append(1)
        if len(attempts) < 3:
            try:
                raise ConnectionError("flaky")
            except ConnectionError as exc:
                raise of.RetryRequested(max_retries=2) from exc
        return len(attempts)

    @of.job(resource_defs={"opens": Opens(log=str(tmp_path / "log"))})
    def fetching() -> None:
        fetch()

    result = fetching.execute_in_process()
    assert result.output_for_node("fetch") == 3
    assert (tmp_path / "log").read_text() == "open\n"
    retries = [e for e in result.all_events if e.event_type is EventType.STEP_RETRY]
    assert [e.message.split(":")[0] for e in retries] == ["retry 1 of 2", "retry 2 of 2"]


def test_retry_requested_beyond_its_limit_fails_the_step() -> None:
    """Once its max_retries are used up, the RetryRequested fails the step."""

    @of.op
    def never() -> None:
        raise of.RetryRequested(max_retries=1)

    @of.job
    def failing() -> None:
        never()

    result = failing.execute_in_process(raise_on_error=False)
    assert not result.success
    kinds = [e.event_type for e in result.all_events if e.step_key == "never"]
    assert kinds.count(EventType.STEP_RETRY) == 1


def test_retry_after_uses_the_policy_delay() -> None:
    """The wait before each retry follows the node's backoff (no clock involved)."""
    node = of.op(retry_policy=of.RetryPolicy(3, delay=1.0, backoff=B.EXPONENTIAL))(lambda: 1)

    @of.job
    def j() -> None:
        node()

    spec = j.nodes[0]
    err = ValueError("x")
    assert [retry_after(spec, err, n) for n in (1, 2, 3, 4)] == [
        (3, 1.0),
        (3, 3.0),
        (3, 7.0),
        None,
    ]
    assert retry_after(spec, of.RetryRequested(max_retries=1, seconds_to_wait=5), 1) == (1, 5.0)


def test_retry_policy_pickles() -> None:
    """A policy crosses to worker processes (NodeSpecs carry its fields)."""
    import pickle

    policy = of.RetryPolicy(2, 1.0, B.LINEAR, J.FULL)
    assert pickle.loads(pickle.dumps(policy)) == policy
    error = pickle.loads(pickle.dumps(of.RetryRequested(max_retries=3, seconds_to_wait=2)))
    assert (error.max_retries, error.seconds_to_wait) == (3, 2)


def test_the_retry_event_says_how_long_the_step_waits() -> None:
    """A retry with a delay ends its message with the wait before the next attempt."""
    calls: list[int] = []

    @of.asset(retry_policy=of.RetryPolicy(max_retries=1, delay=0.01))
    def slow_start() -> int:
        calls.append(1)
        if len(calls) == 1:
            raise TimeoutError("not yet")
        return 1

    result = of.materialize_to_memory([slow_start])
    [retry] = [e for e in result.all_events if e.event_type is EventType.STEP_RETRY]
    assert retry.message == "retry 1 of 1: TimeoutError: not yet (next attempt in 0.01s)"


def test_async_steps_retry_with_their_policy() -> None:
    """An async asset is retried on the run's event loop the same way."""
    calls: list[int] = []

    @of.asset(retry_policy=of.RetryPolicy(max_retries=2, delay=0.001, backoff=B.LINEAR))
    async def fetched() -> int:
        calls.append(1)
        if len(calls) < 3:
            raise ConnectionError("again")
        return len(calls)

    result = of.materialize_to_memory([fetched])
    assert result.asset_value("fetched") == 3
    kinds = [e.event_type for e in result.all_events]
    assert kinds.count(EventType.STEP_RETRY) == 2
