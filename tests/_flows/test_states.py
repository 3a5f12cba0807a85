"""States and triggers as Prefect 1.4.1 defines them.

Prefect 1.4.1 sources pinned here:
- ``src/prefect/engine/state.py``: ``State.__eq__`` (same class and result, message and context
  ignored), ``__hash__`` by identity, ``__repr__`` ``<Success: "message">``, ``__getstate__``
  (an exception that cannot be pickled becomes a text), ``Mapped(n_map_states=)``,
  ``Retrying(run_count=)`` (1 outside a run), ``Resume``, ``TimedOut``.
- ``src/prefect/triggers.py``: ``not_all_skipped``; ``manual_only`` passing on resume.
"""

from __future__ import annotations

import pickle
from typing import Any

import pytest

import outfitter as of
from outfitter import signals, triggers


def test_states_are_equal_by_class_and_result_not_message() -> None:
    assert of.Success("one", result=1) == of.Success("two", result=1)
    assert of.Success(result=1) != of.Success(result=2)
    assert of.Success(result=1) != of.Skipped(result=1)
    assert of.Success() != "Success"


def test_extra_fields_take_part_in_equality() -> None:
    """run_count and map_states are compared too (Prefect compares the public attributes)."""
    assert of.Retrying(run_count=1) != of.Retrying(run_count=2)
    assert of.Mapped(map_states=[of.Success(result=1)]) == of.Mapped(
        "other message", map_states=[of.Success(result=1)]
    )
    assert of.Mapped(map_states=[of.Success()]) != of.Mapped(map_states=[of.Failed()])


def test_states_hash_by_identity_so_equal_states_both_stay_in_a_set() -> None:
    """Triggers gather upstream states in sets: equal children must not collapse."""
    a, b = of.Success(result=None), of.Success(result=None)
    assert a == b
    assert len({a, b}) == 2


def test_results_whose_equality_is_not_a_bool_compare_by_identity() -> None:
    class Array:
        def __eq__(self, other: object) -> Any:
            raise ValueError("the truth value of an array is ambiguous")

    value = Array()
    assert of.Success(result=value) == of.Success(result=value)
    assert of.Success(result=value) != of.Success(result=Array())


@pytest.mark.parametrize(
    ("state", "text"),
    [
        (of.Success("Task run succeeded."), '<Success: "Task run succeeded.">'),
        (of.Failed('quote "x"'), '<Failed: "quote "x"">'),
        (of.Pending(), "<Pending>"),
        (of.Skipped(""), '<Skipped: "">'),
    ],
)
def test_repr_is_the_way_prefect_prints_states(state: of.State, text: str) -> None:
    assert repr(state) == text


def test_retrying_counts_one_run_unless_told() -> None:
    assert of.Retrying().run_count == 1
    assert of.Retrying(run_count=3).run_count == 3


def test_mapped_knows_how_many_children_it_maps() -> None:
    assert of.Mapped(n_map_states=3).n_map_states == 3
    assert of.Mapped(map_states=[of.Success(), of.Success()]).n_map_states == 2


def test_resume_paused_and_timed_out_sit_where_prefect_puts_them() -> None:
    assert of.Resume().is_pending()
    assert not of.Resume().is_paused()
    assert of.Paused().is_pending()
    assert of.Paused().is_paused()
    assert of.TimedOut().is_failed()


class Unpicklable(Exception):
    def __reduce__(self) -> Any:
        raise TypeError("cannot pickle this error")


def test_a_state_whose_exception_cannot_be_pickled_still_pickles() -> None:
    """The result becomes a text naming the exception; the state keeps its class and message,
    and the original object is not changed."""
    error = Unpicklable("db down")
    state = of.Failed("it failed", result=error)
    copy = pickle.loads(pickle.dumps(state))
    assert type(copy) is of.Failed
    assert copy.message == "it failed"
    assert copy.result == (
        "The exception could not be pickled (TypeError: cannot pickle this error): "
        "Unpicklable('db down')"
    )
    assert state.result is error


def test_a_state_with_a_picklable_exception_keeps_it() -> None:
    copy = pickle.loads(pickle.dumps(of.Failed("x", result=ValueError("v"))))
    assert isinstance(copy.result, ValueError)
    assert str(copy.result) == "v"


def test_signal_states_pickle() -> None:
    state = signals.FAIL("stop").state
    assert pickle.loads(pickle.dumps(state)).message == "stop"


def test_not_all_skipped_runs_unless_all_upstreams_skipped() -> None:
    assert triggers.not_all_skipped({"a": of.Skipped(), "b": of.Success()})
    with pytest.raises(signals.SKIP):
        triggers.not_all_skipped({"a": of.Skipped(), "b": of.Skipped()})
    with pytest.raises(signals.TRIGGERFAIL, match="not_all_skipped"):
        triggers.not_all_skipped({"a": of.Failed(), "b": of.Success()})


def test_not_all_skipped_looks_into_mapped_children() -> None:
    mapped = of.Mapped(map_states=[of.Skipped(), of.Skipped()])
    with pytest.raises(signals.SKIP):
        triggers.not_all_skipped({"a": mapped})


@of.task
def maybe(x: int) -> int:
    if x:
        raise signals.SKIP("nothing")
    return x


@of.task(trigger=triggers.not_all_skipped, skip_on_upstream_skip=False)
def join(a: int, b: int) -> str:
    return f"{a},{b}"


def test_not_all_skipped_in_a_flow() -> None:
    with of.Flow("join") as flow:
        some = join(maybe(0), maybe(1))
    with of.Flow("join-all-skipped") as flow_all:
        none = join(maybe(1), maybe(1))
    assert flow.run().result[some].result == "0,None"
    assert flow_all.run().result[none].is_skipped()


def test_manual_only_passes_only_on_resume() -> None:
    with pytest.raises(signals.PAUSE):
        triggers.manual_only({})
    token = triggers_resume().set(True)
    try:
        assert triggers.manual_only({})
    finally:
        triggers_resume().reset(token)


def triggers_resume() -> Any:
    from outfitter._flows.triggers import RESUME

    return RESUME
