"""Where runs are recorded: the embedded SQLite instance."""

from .instance import (
    EventRecord,
    EventType,
    Instance,
    InstigatorState,
    RunRecord,
    RunSignal,
    RunStatus,
    TickRecord,
    event_row,
)

__all__ = [
    "EventRecord",
    "EventType",
    "Instance",
    "InstigatorState",
    "RunRecord",
    "RunSignal",
    "RunStatus",
    "TickRecord",
    "event_row",
]
