"""Every ```python block in docs/*.md runs.

The blocks of one file run in order in one namespace, like the cells of a notebook, so a later
block may use what an earlier block of the same file defined. Blocks that are not meant to run
(shell sessions, YAML, pseudo-code) are tagged ```bash, ```yaml or ```text instead.

Each file runs in an empty temporary working directory, with ``OUTFITTER_HOME`` in another
temporary directory and the other ``OUTFITTER_*`` settings unset, so nothing is written into the
repository. The environment is restored afterwards, including variables a block sets itself.
Variables a file relies on without setting them are set here, per file, in ``DOC_ENV``.
"""

from __future__ import annotations

import contextlib
import os
import re
import sys
import types
from collections.abc import Iterator
from pathlib import Path

import pytest

DOCS = Path(__file__).resolve().parents[1] / "docs"
DOC_FILES = sorted(DOCS.glob("*.md"))
PYTHON_BLOCK = re.compile(r"^```python[ \t]*\n(.*?)^```[ \t]*$", re.S | re.M)
OUTFITTER_SETTINGS = ("OUTFITTER_ENV", "OUTFITTER_ENV_FILE", "OUTFITTER_RECORD_RUNS")

DOC_ENV: dict[str, dict[str, str]] = {
    # Definitions bind Api(url=EnvVar("API_URL")); the docs say it is set where the job runs.
    "functional.md": {"API_URL": "https://api.example.com"},
}
"""Environment variables set for the blocks of a docs file, by file name."""


def python_blocks(path: Path) -> list[tuple[int, str]]:
    """The ```python blocks of ``path``: (line number of the block's first line of code, code)."""
    text = path.read_text()
    return [
        (text.count("\n", 0, match.start(1)) + 1, match.group(1))
        for match in PYTHON_BLOCK.finditer(text)
    ]


@contextlib.contextmanager
def environ_restored() -> Iterator[None]:
    """Put ``os.environ`` back as it was, whatever the block changed."""
    saved = dict(os.environ)
    try:
        yield
    finally:
        os.environ.clear()
        os.environ.update(saved)


def test_python_blocks_are_found_with_their_line_numbers() -> None:
    """The block pattern finds the docs' blocks and the line each one starts at."""
    found = 0
    for doc in DOC_FILES:
        lines = doc.read_text().splitlines()
        for line, code in python_blocks(doc):
            assert lines[line - 2].startswith("```python")
            assert lines[line - 1] == code.splitlines()[0]
            found += 1
    assert found


@pytest.mark.parametrize("doc", DOC_FILES, ids=lambda path: path.name)
def test_doc_python_blocks_run(
    doc: Path,
    tmp_path: Path,
    tmp_path_factory: pytest.TempPathFactory,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The ```python blocks of one docs file run, in order, in one namespace."""
    monkeypatch.chdir(tmp_path)
    for name in OUTFITTER_SETTINGS:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("OUTFITTER_HOME", str(tmp_path_factory.mktemp("outfitter-home")))
    for name, value in DOC_ENV.get(doc.name, {}).items():
        monkeypatch.setenv(name, value)
    # A real module, so that pickle, dataclasses and pydantic find what the blocks define.
    module = types.ModuleType(f"docs_{doc.stem.replace('-', '_')}")
    module.__file__ = str(doc)
    monkeypatch.setitem(sys.modules, module.__name__, module)
    with environ_restored():
        for line, code in python_blocks(doc):
            # Padding keeps line numbers, so tracebacks point into the markdown file.
            compiled = compile("\n" * (line - 1) + code, str(doc), "exec")
            try:
                exec(compiled, module.__dict__)
            except BaseException as exc:
                exc.add_note(f"in the ```python block of {doc.name} starting at line {line}")
                raise
