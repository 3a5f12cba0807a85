"""``RetryPolicy`` (with ``Backoff`` and ``Jitter``) and ``RetryRequested``: how often, and
after how long, a failing asset or op is called again. A policy compiles to the retry fields
of its :class:`~outfitter._definitions.node.NodeSpec`; the step code that calls nodes retries
them (in the process that runs the step, so run-scoped resources are never opened again)."""

from __future__ import annotations

import random
from collections.abc import Callable
from enum import Enum
from typing import Any, NamedTuple

from ..exceptions import DefinitionError

__all__ = [
    "Backoff",
    "Jitter",
    "RetryPolicy",
    "RetryRequested",
    "calculate_delay",
    "retry_after",
    "retry_fields",
]


class Backoff(Enum):
    """How a :class:`RetryPolicy`'s delay grows with the retry number ``n`` (1 for the first
    retry): ``LINEAR`` waits ``n * delay``, ``EXPONENTIAL`` waits ``(2**n - 1) * delay``.

    Example:
        >>> from outfitter import Backoff, RetryPolicy
        >>> RetryPolicy(max_retries=3, delay=1, backoff=Backoff.EXPONENTIAL).calculate_delay(3)
        7.0
    """

    LINEAR = "LINEAR"
    EXPONENTIAL = "EXPONENTIAL"


class Jitter(Enum):
    """Randomness added to a :class:`RetryPolicy`'s delay after the backoff: ``FULL`` waits a
    random time between 0 and the backed-off delay, ``PLUS_MINUS`` adds a random amount between
    ``-delay`` and ``+delay`` to it (never less than 0 here).

    Example:
        >>> from outfitter import Jitter, RetryPolicy
        >>> 0 <= RetryPolicy(delay=2, jitter=Jitter.FULL).calculate_delay(1) <= 2
        True
    """

    FULL = "FULL"
    PLUS_MINUS = "PLUS_MINUS"


def calculate_delay(
    attempt_num: int,
    backoff: Backoff | None,
    jitter: Jitter | None,
    base_delay: float,
    rand: Callable[[], float] = random.random,
) -> float:
    """Seconds to wait before retry number ``attempt_num`` (1 for the first retry).

    ``rand`` returns a float in [0, 1) (a test passes a fixed one).

    Example:
        >>> calculate_delay(2, Backoff.LINEAR, None, 1.5)
        3.0
        >>> calculate_delay(2, Backoff.EXPONENTIAL, Jitter.FULL, 1.0, rand=lambda: 0.5)
        1.5
    """
    if backoff is Backoff.EXPONENTIAL:
        delay = float(2**attempt_num - 1) * base_delay
    elif backoff is Backoff.LINEAR:
        delay = float(attempt_num) * base_delay
    else:
        delay = float(base_delay)
    if jitter is Jitter.FULL:
        delay = rand() * delay
    elif jitter is Jitter.PLUS_MINUS:
        delay = delay + (2 * rand() * base_delay - base_delay)
    return max(delay, 0.0)


class _RetryFields(NamedTuple):
    max_retries: int
    delay: float | None
    backoff: Backoff | None
    jitter: Jitter | None


class RetryPolicy(_RetryFields):
    """When a failing asset or op is called again: up to ``max_retries`` more times, waiting
    ``delay`` seconds (grown by ``backoff``, randomised by ``jitter``) before each.

    Give it to ``@asset(retry_policy=...)``, ``@op(retry_policy=...)``, or to a whole job with
    ``@job(op_retry_policy=...)`` / ``define_asset_job(op_retry_policy=...)`` (a step's own
    policy wins). Every executor honours it; each retry is a ``STEP_RETRY`` event, and the
    step's run-scoped resources stay open between attempts (never opened twice).

    Example:
        >>> from outfitter import Backoff, RetryPolicy, op
        >>> @op(retry_policy=RetryPolicy(max_retries=2, delay=0.5, backoff=Backoff.LINEAR))
        ... def flaky() -> int:
        ...     return 1
        >>> RetryPolicy(max_retries=2, delay=0.5, backoff=Backoff.LINEAR).calculate_delay(2)
        1.0
    """

    __slots__ = ()

    def __new__(
        cls,
        max_retries: int = 1,
        delay: float | None = None,
        backoff: Backoff | None = None,
        jitter: Jitter | None = None,
    ) -> RetryPolicy:
        problems = []
        if not isinstance(max_retries, int) or isinstance(max_retries, bool) or max_retries < 0:
            problems.append(f"max_retries must be a whole number >= 0, got {max_retries!r}")
        if delay is not None and (
            not isinstance(delay, int | float) or isinstance(delay, bool) or delay < 0
        ):
            problems.append(f"delay must be a number of seconds >= 0, got {delay!r}")
        if backoff is not None and not isinstance(backoff, Backoff):
            problems.append(
                f"backoff must be Backoff.LINEAR or Backoff.EXPONENTIAL, got {backoff!r}"
            )
        if jitter is not None and not isinstance(jitter, Jitter):
            problems.append(f"jitter must be Jitter.FULL or Jitter.PLUS_MINUS, got {jitter!r}")
        # dagster/_core/definitions/policy.py: backoff or jitter without a delay is refused
        if backoff is not None and delay is None:
            problems.append("backoff is set without a delay (backoff multiplies the delay)")
        if jitter is not None and delay is None:
            problems.append("jitter is set without a delay (jitter randomises the delay)")
        if problems:
            raise DefinitionError(
                "invalid RetryPolicy",
                problems=problems,
                hint="e.g. RetryPolicy(max_retries=3, delay=2, backoff=Backoff.EXPONENTIAL, "
                "jitter=Jitter.PLUS_MINUS).",
            )
        return super().__new__(cls, max_retries, delay, backoff, jitter)

    def calculate_delay(self, attempt_num: int) -> float:
        """Seconds to wait before retry number ``attempt_num`` (1 for the first retry)."""
        return calculate_delay(attempt_num, self.backoff, self.jitter, self.delay or 0)


class RetryRequested(Exception):
    """Raise it from an op or asset to ask for another attempt: up to ``max_retries`` attempts
    in all for this step, ``seconds_to_wait`` apart. Raise it ``from`` the error that caused it.

    Example:
        >>> from outfitter import RetryRequested, op
        >>> @op
        ... def fetch() -> str:
        ...     try:
        ...         return "data"
        ...     except ConnectionError as exc:
        ...         raise RetryRequested(max_retries=3, seconds_to_wait=1) from exc
        >>> RetryRequested(max_retries=2).max_retries
        2
    """

    def __init__(self, max_retries: int = 1, seconds_to_wait: float = 0) -> None:
        super().__init__(f"retry requested (max_retries={max_retries})")
        self.max_retries = max_retries
        self.seconds_to_wait = seconds_to_wait

    def __reduce__(self) -> tuple[Any, ...]:
        return (RetryRequested, (self.max_retries, self.seconds_to_wait))


def retry_after(node: Any, exc: BaseException, attempt: int) -> tuple[int, float] | None:
    """``(max_retries, seconds to wait)`` when ``node`` is called again after ``exc`` ended its
    attempt number ``attempt`` (1 for the first call); None when it is not. A
    :class:`RetryRequested` brings its own limit and wait; otherwise the node's retry fields
    (from a ``RetryPolicy`` or a task's ``max_retries``/``retry_delay``) decide."""
    if isinstance(exc, RetryRequested):
        if attempt > exc.max_retries:
            return None
        return exc.max_retries, float(exc.seconds_to_wait or 0)
    if attempt > node.max_retries or isinstance(exc, node.no_retry):
        return None
    if node.retry_backoff is None and node.retry_jitter is None:
        return node.max_retries, node.retry_delay
    return node.max_retries, calculate_delay(
        attempt, node.retry_backoff, node.retry_jitter, node.retry_delay
    )


def retry_fields(policy: RetryPolicy | None) -> dict[str, Any]:
    """The NodeSpec fields of ``policy`` (none when it is None)."""
    if policy is None:
        return {}
    return {
        "max_retries": policy.max_retries,
        "retry_delay": float(policy.delay or 0),
        "retry_backoff": policy.backoff,
        "retry_jitter": policy.jitter,
    }
