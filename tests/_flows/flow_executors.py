"""Helpers for the flow-semantics tests (imported by name; a module name no other test directory
uses, so worker processes unpickle from here): a resource that writes lines to a file any
process can append to. The executors come from tests/conftest.py."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import outfitter as of


class Alerts(of.ConfigurableResource):
    """An alerting client: ``send`` appends a line to ``path``; opens and closes are noted."""

    path: str

    def setup_for_execution(self, context: Any) -> None:
        self.send("open")

    def teardown_after_execution(self, context: Any) -> None:
        self.send("close")

    def send(self, text: str) -> None:
        with open(self.path, "a") as f:
            f.write(text + "\n")


def lines(path: Path) -> list[str]:
    """The lines written to ``path`` so far (none if it does not exist)."""
    return path.read_text().splitlines() if path.exists() else []
