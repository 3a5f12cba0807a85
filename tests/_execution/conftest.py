"""Fixtures for the executor tests; the helpers they use live in executor_helpers.py."""

from __future__ import annotations

from pathlib import Path

import pytest
from executor_helpers import Opens


@pytest.fixture
def opens(tmp_path: Path) -> Opens:
    return Opens(tmp_path / "opens.log")
