"""The user's code as the UI sees it: loaded from ``-f FILE`` or ``-m MODULE``, reloadable, and
kept as a list of problems (the page shows them) when it does not load, so the server keeps
running while the user fixes the code.

Example:
    >>> ws = Workspace(module="json")
    >>> ws.ok, ws.problems[0]
    (False, 'json has no Definitions object named `defs` and no Flow at module level')
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .._definitions.definitions import Definitions
from .._flows.flow import Flow
from .._loading import find_definitions, find_flows, load_module
from ..exceptions import OutfitterError

__all__ = ["Loaded", "Workspace"]


@dataclass(frozen=True)
class Loaded:
    """One load of the user's code: its ``defs`` (None when the module has only flows), its
    flows by name, and the problems that stopped it loading (empty when it loaded)."""

    defs: Definitions | None = None
    flows: dict[str, Flow] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)
    loaded_at: float = 0.0
    generation: int = 0


class Workspace:
    """The definitions a UI serves. ``reload()`` imports the code again; readers take
    :attr:`current` once per request, so a reload never changes a page half-way."""

    def __init__(self, file: Path | None = None, module: str | None = None) -> None:
        self.file = file
        self.module = module
        self._lock = threading.Lock()
        self.current = Loaded()
        self.on_reload: list[Callable[[Loaded], None]] = []
        """Called with each new load, after it became :attr:`current` (``outfitter dev``
        restarts its daemon with the new definitions)."""
        self.reload()

    @property
    def where(self) -> str:
        """How messages name the code: the file or module given."""
        return str(self.file) if self.file is not None else str(self.module)

    @property
    def ok(self) -> bool:
        """True when the last load found definitions or flows and raised nothing."""
        return not self.current.problems

    @property
    def problems(self) -> list[str]:
        """What stopped the last load, one problem per item (empty when it loaded)."""
        return self.current.problems

    def source_args(self) -> list[str]:
        """The ``-f``/``-m`` arguments that load this code in another process."""
        if self.file is not None:
            return ["-f", str(self.file.resolve())]
        return ["-m", str(self.module)]

    def reload(self) -> Loaded:
        """Import the code again and make that load :attr:`current` (also when it failed)."""
        with self._lock:
            generation = self.current.generation + 1
            try:
                module, where = load_module(self.file, self.module, debug=False)
                loaded = _inspect(module, where, generation)
            except OutfitterError as exc:
                loaded = Loaded(problems=_problems(str(exc)), generation=generation)
            except Exception as exc:  # the definitions' own validation, or anything else
                loaded = Loaded(problems=[f"{type(exc).__name__}: {exc}"], generation=generation)
            self.current = current = Loaded(
                loaded.defs, loaded.flows, loaded.problems, time.time(), generation
            )
        for callback in list(self.on_reload):
            callback(current)
        return current


def _inspect(module: Any, where: str, generation: int) -> Loaded:
    defs = find_definitions(module, where)  # `defs`, or the @definitions function's
    flows = {flow.name: flow for _, flow in find_flows(module)}
    if not isinstance(defs, Definitions):
        defs = None
        if not flows:
            return Loaded(
                problems=[
                    f"{where} has no Definitions object named `defs` and no Flow at module level"
                ],
                generation=generation,
            )
    return Loaded(defs, flows, [], generation=generation)


def _problems(text: str) -> list[str]:
    """An Outfitter error's text as the page lists it: its first line, then each problem."""
    return [line for line in text.splitlines() if line.strip()] or [text]
