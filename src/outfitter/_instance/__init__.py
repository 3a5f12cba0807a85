"""Where runs are recorded: the embedded SQLite instance."""

from .instance import EventRecord, EventType, Instance, RunRecord, RunStatus

__all__ = ["EventRecord", "EventType", "Instance", "RunRecord", "RunStatus"]
