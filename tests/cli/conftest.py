"""The CLI tests' ``invoke``: the CLI in process (the plugin's ``outfitter_cli``, with the
test's isolated home), on consoles 80 columns wide so that wrapped output is the same everywhere."""

from __future__ import annotations

from typing import Any

import pytest


@pytest.fixture
def invoke(outfitter_cli: Any) -> Any:
    """The CLI in process (the plugin's outfitter_cli), on consoles 80 columns wide."""
    outfitter_cli.width = 80
    return outfitter_cli
