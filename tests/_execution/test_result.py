"""``ExecuteResult`` (``outfitter._execution.result``): what a run returns, and the in-memory
I/O manager's short path in ``step.py``'s output handoff."""

from __future__ import annotations

from typing import Any

import pytest

import outfitter as of
from outfitter._instance import EventType
from outfitter._instance import instance as instance_module
from outfitter._resources.io_manager import OutputContext


@of.asset
def up() -> int:
    return 1


@of.asset
def down(up: int) -> int:
    return up + 1


def test_events_of_a_run_without_an_instance_are_decoded_only_when_read(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A run given no instance records in its own ephemeral one, closed with the run; the
    result keeps the stored events and decodes them on first read (once), in order, with the
    same records the instance would give."""
    calls: list[str] = []
    decode = instance_module.decode_events

    def counting(run_id: str, rows: Any, event_type: Any = None) -> Any:
        calls.append(run_id)
        return decode(run_id, rows, event_type)

    monkeypatch.setattr(instance_module, "decode_events", counting)
    result = of.materialize_to_memory([up, down])
    assert calls == []
    events = result.all_events
    assert calls == [result.run_id]
    assert result.all_events is events
    assert calls == [result.run_id]
    kinds = [e.event_type for e in events]
    assert kinds[0] is EventType.RUN_START
    assert kinds[-1] is EventType.RUN_SUCCESS
    assert [e.step_key for e in events if e.event_type is EventType.STEP_SUCCESS] == [
        "up",
        "down",
    ]
    assert [e.id for e in events] == sorted(e.id for e in events)
    assert {e.run_id for e in events} == {result.run_id}


def test_events_of_a_run_in_a_given_instance_are_read_from_it() -> None:
    """With an instance, the result reads the run's events from it when asked, as the
    instance itself gives them."""
    with of.Instance.ephemeral() as instance:
        result = of.materialize_to_memory([up, down], instance=instance)
        assert result.all_events == instance.all_events(result.run_id)


def test_the_in_memory_io_manager_keeps_outputs_where_handle_output_would() -> None:
    """A bound InMemoryIOManager gets each output under the key its handle_output uses (the
    asset path; run id, step, output name for an op) without a context being built; a
    subclass still receives handle_output with the full context."""
    memory = of.InMemoryIOManager()
    result = of.materialize([up, down], resources={"io_manager": memory})
    assert memory.values == {("up",): 1, ("down",): 2}

    @of.op
    def one() -> int:
        return 1

    @of.job(resource_defs={"io_manager": memory})
    def single() -> None:
        one()

    ran = single.execute_in_process()
    assert memory.values[(ran.run_id, "one", "result")] == 1

    seen: list[tuple[str, str, Any]] = []

    class Watching(of.InMemoryIOManager):
        def handle_output(self, context: OutputContext, obj: Any) -> None:
            seen.append((context.step_key, context.name, context.run_id))
            super().handle_output(context, obj)

    watching = Watching()
    result = of.materialize([up, down], resources={"io_manager": watching})
    assert seen == [("up", "result", result.run_id), ("down", "result", result.run_id)]
    assert watching.values == {("up",): 1, ("down",): 2}
