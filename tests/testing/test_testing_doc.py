"""The examples of docs/testing.md are pytest tests: run them, with the plugin, in an inner pytest
session (tests/test_docs.py only executes the blocks, which defines the tests without running
them)."""

from __future__ import annotations

import importlib
import re
from pathlib import Path

import pytest

importlib.import_module("outfitter._resources.container")  # kept loaded across inner runs
importlib.import_module("outfitter._daemon")
importlib.import_module("outfitter.cli.app")
importlib.import_module("outfitter.ui.app")
importlib.import_module("starlette.testclient")

pytest_plugins = ["pytester"]

DOC = Path(__file__).resolve().parents[2] / "docs" / "testing.md"
PYTHON_BLOCK = re.compile(r"^```python[ \t]*\n(.*?)^```[ \t]*$", re.S | re.M)


def test_the_examples_of_the_testing_doc_pass(pytester: pytest.Pytester) -> None:
    """Every test function the doc shows passes (parametrized ones once per parameter), in a
    directory holding a .env that the isolated tests must not read."""
    blocks = PYTHON_BLOCK.findall(DOC.read_text())
    source = "\n\n".join(blocks)
    defined = re.findall(r"^def (test_\w+)", source, re.M)
    assert len(defined) == 10
    pytester.path.joinpath(".env").write_text("WAREHOUSE_PASSWORD=from-the-developer\n")
    pytester.makepyfile(test_testing_doc_blocks=source)
    # in a subprocess: the browser example's Playwright must own its process's event loop
    result = pytester.runpytest_subprocess(
        "-p", "outfitter.testing.pytest_plugin", "-p", "no:randomly", "-p", "no:cacheprovider"
    )
    result.assert_outcomes(passed=len(defined) + 2)  # two tests run twice
