"""Fixtures of the real-browser tests, on the pytest plugin's: the UI served by uvicorn on a
free loopback port in a thread, over a file-backed instance that launched runs (separate
processes) find through ``OUTFITTER_HOME`` (``outfitter_ui_server``); one Chromium (Debian's,
driven by Playwright, ``outfitter_browser``) for all these tests, a fresh page per test
(``outfitter_ui_page``), and :class:`Shots` to keep a screenshot of every step.

Screenshots go to ``test-artifacts/ui/<test>/`` at the repository root (gitignored; CI keeps
them). With ``OUTFITTER_UPDATE_SCREENSHOTS=1`` the steps named for the docs are also written to
``docs/images/ui-<name>.png``.

Chromium is never downloaded (``playwright install`` fetches it from outside the package
registries): the tests fail, and say what to install, when Debian's ``chromium`` is missing.
"""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from _outfitter_pytest.harness import ServedUI

ROOT = Path(__file__).resolve().parents[3]
EXAMPLES = ROOT / "examples" / "functional"
ARTIFACTS = ROOT / "test-artifacts" / "ui"
DOCS_IMAGES = ROOT / "docs" / "images"
TIMEOUT_MS = 30_000
"""How long an expectation may wait (generous: CI machines are slow and shared)."""

# The browser, the page and the served UI are the pytest plugin's (outfitter_browser,
# outfitter_ui_page, outfitter_ui_server): these tests use them as a user's would.
UI = ServedUI
ServeUI = Callable[..., UI]


@pytest.fixture
def page(outfitter_ui_page: Page) -> Page:
    """The plugin's fresh page, with generous timeouts for expectations and navigation."""
    expect.set_options(timeout=TIMEOUT_MS)
    outfitter_ui_page.set_default_timeout(TIMEOUT_MS)
    outfitter_ui_page.set_default_navigation_timeout(TIMEOUT_MS)
    return outfitter_ui_page


@pytest.fixture
def serve_ui(outfitter_ui_server: Any) -> ServeUI:
    """``serve_ui(file, env={...})``: the plugin's served UI of ``file``, over a file instance
    at the test's isolated ``OUTFITTER_HOME`` (where the runs it launches record)."""
    return outfitter_ui_server  # type: ignore[no-any-return]


@dataclass
class Shots:
    """Screenshots of one test's steps, numbered in order, under ``test-artifacts/ui/<test>/``.

    ``shots(page, "launched", docs="launchpad")`` also writes ``docs/images/ui-launchpad.png``
    when ``OUTFITTER_UPDATE_SCREENSHOTS=1``."""

    folder: Path
    taken: list[Path] = field(default_factory=list)

    def __call__(self, page: Page, step: str, *, docs: str | None = None) -> Path:
        path = self.folder / f"{len(self.taken) + 1:02d}-{step}.png"
        page.screenshot(path=str(path), full_page=True)
        self.taken.append(path)
        if docs is not None and os.environ.get("OUTFITTER_UPDATE_SCREENSHOTS") == "1":
            DOCS_IMAGES.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(DOCS_IMAGES / f"ui-{docs}.png"))  # the viewport only
        return path


@pytest.fixture
def shots(request: pytest.FixtureRequest) -> Shots:
    """Where this test's screenshots go (emptied first, so the folder shows the last run)."""
    name = re.sub(r"[^A-Za-z0-9_.-]+", "_", request.node.name)
    folder = ARTIFACTS / name
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    return Shots(folder)
