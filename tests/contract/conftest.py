"""Fixtures for the contract tests: a resource log and an instance on disk (the three
executors, ``executor``, come from tests/conftest.py)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

import outfitter as of


@pytest.fixture
def log(tmp_path: Path) -> Path:
    """The file resources log their opens and closes to."""
    path = tmp_path / "resources.log"
    path.write_text("")
    return path


@pytest.fixture
def instance(tmp_path: Path) -> Iterator[of.Instance]:
    with of.Instance.local(tmp_path / "home") as inst:
        yield inst
