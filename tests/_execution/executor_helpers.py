"""Helpers for the executor tests (imported by name; a module name no other test directory uses,
so worker processes unpickle ``Db`` from here): a resource that logs its opens and closes with
the pid of the process that ran them, to a file every worker process can append to."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

import outfitter as of


def note(log: str, text: str) -> None:
    with open(log, "a") as f:
        f.write(f"{text} {os.getpid()}\n")


class Db(of.ConfigurableResource):
    """Logs ``open PID`` / ``close PID``; ``url`` is only config."""

    log: str
    url: str = "x"

    def setup_for_execution(self, context: Any) -> None:
        note(self.log, "open")

    def teardown_after_execution(self, context: Any) -> None:
        note(self.log, "close")


class Opens:
    """Reads a Db log: which pids opened and closed."""

    def __init__(self, path: Path) -> None:
        self.path = path
        path.write_text("")

    def lines(self) -> list[tuple[str, int]]:
        pairs = (line.split() for line in self.path.read_text().splitlines())
        return [(kind, int(pid)) for kind, pid in pairs]

    def pids(self, kind: str) -> list[int]:
        return sorted(pid for k, pid in self.lines() if k == kind)


def wait_for_files(paths: list[Path], timeout: float = 30.0, alive: Any = None) -> bool:
    """True once every path exists (a barrier between steps in different processes); False
    after ``timeout`` seconds, or as soon as the ``alive`` process (a Popen) has exited."""
    import time

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if all(p.exists() for p in paths):
            return True
        if alive is not None and alive.poll() is not None:
            return False
        time.sleep(0.01)
    return False


@pytest.fixture
def opens(tmp_path: Path) -> Opens:
    """A fresh open/close log (import this fixture into the test modules that use it)."""
    return Opens(tmp_path / "opens.log")
