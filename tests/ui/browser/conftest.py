"""Fixtures of the real-browser tests: the UI served by uvicorn on a free loopback port in a
thread, over a file-backed instance that launched runs (separate processes) find through
``OUTFITTER_HOME``; one Chromium (Debian's, driven by Playwright) for all these tests, a fresh
page per test, and :class:`Shots` to keep a screenshot of every step.

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
import socket
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import uvicorn
from playwright.sync_api import Browser, Page, Playwright, expect, sync_playwright

from outfitter import Instance
from outfitter.ui import Workspace, create_app

ROOT = Path(__file__).resolve().parents[3]
EXAMPLES = ROOT / "examples" / "functional"
ARTIFACTS = ROOT / "test-artifacts" / "ui"
DOCS_IMAGES = ROOT / "docs" / "images"
VIEWPORT = {"width": 1280, "height": 800}
TIMEOUT_MS = 30_000
"""How long an expectation may wait (generous: CI machines are slow and shared)."""

INSTALL_CHROMIUM = "apt-get install -y --no-install-recommends chromium fonts-liberation"


def chromium_executable() -> str:
    """Debian's Chromium, or a failure that says how to install it (never a skip)."""
    path = shutil.which("chromium")
    if path is None:
        pytest.fail(
            "the browser tests need Debian's Chromium, and `chromium` is not on PATH: run\n"
            f"    {INSTALL_CHROMIUM}\n"
            "(.ci/run does this in CI; never `playwright install`, which downloads from outside "
            "the package registries)",
            pytrace=False,
        )
    return path


# Package scope, not session: while Playwright's sync API is alive it marks its event loop as
# the main thread's running loop between calls, so a later test's asyncio.run() would fail.
# The browser therefore lives exactly as long as the browser tests of this directory.
@pytest.fixture(scope="package")
def playwright() -> Iterator[Playwright]:
    chromium_executable()  # fail, saying what to install, before starting Playwright's driver
    expect.set_options(timeout=TIMEOUT_MS)
    with sync_playwright() as driver:
        yield driver


@pytest.fixture(scope="package")
def browser(playwright: Playwright) -> Iterator[Browser]:
    """One Chromium for every browser test (``--no-sandbox`` when running as root, as CI does:
    Chromium refuses to start its sandbox as root)."""
    args = ["--no-sandbox"] if os.geteuid() == 0 else []
    chromium = playwright.chromium.launch(executable_path=chromium_executable(), args=args)
    yield chromium
    chromium.close()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    """A fresh page (its own context: no cookies or cache shared between tests)."""
    context = browser.new_context(viewport=VIEWPORT)  # type: ignore[arg-type]
    context.set_default_timeout(TIMEOUT_MS)
    context.set_default_navigation_timeout(TIMEOUT_MS)
    tab = context.new_page()
    yield tab
    context.close()


@dataclass
class UI:
    """A UI being served: its ``url``, the ``instance`` it shows and the ``workspace``."""

    url: str
    instance: Instance
    workspace: Workspace
    home: Path

    def at(self, path: str) -> str:
        """The absolute address of ``path`` (e.g. ``/runs``)."""
        return self.url + path


class _ThreadServer:
    """uvicorn serving an app on an already bound socket, in a daemon thread."""

    def __init__(self, app: object) -> None:
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.bind(("127.0.0.1", 0))
        self.port: int = self.sock.getsockname()[1]
        config = uvicorn.Config(
            app,  # type: ignore[arg-type]
            log_level="warning",
            lifespan="off",
            ws="none",  # the UI uses no websockets
        )
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(
            target=self.server.run, kwargs={"sockets": [self.sock]}, daemon=True
        )

    def __enter__(self) -> _ThreadServer:
        self.thread.start()
        ready = threading.Event()
        # Poll until uvicorn reports it is serving (or the thread died trying).
        while not self.server.started:
            if not self.thread.is_alive():
                raise RuntimeError("the UI server thread stopped before serving")
            ready.wait(0.02)
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=30)
        self.sock.close()


ServeUI = Callable[..., UI]


@pytest.fixture
def serve_ui(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[ServeUI]:
    """``serve_ui(file)``: the UI of ``file`` served on a free loopback port, over an instance
    in the test's directory. ``OUTFITTER_HOME`` points there for the test (and for the run
    processes the UI launches); ``env`` sets more variables the same way."""
    started: list[tuple[_ThreadServer, Instance]] = []

    def serve(file: Path, *, env: dict[str, str] | None = None) -> UI:
        home = tmp_path / f"home{len(started)}"
        monkeypatch.setenv("OUTFITTER_HOME", str(home))
        for name, value in (env or {}).items():
            monkeypatch.setenv(name, value)
        instance = Instance.local(home)
        if file.is_absolute() and file.is_relative_to(Path.cwd()):
            file = file.relative_to(Path.cwd())  # as a user types it (pages show it)
        workspace = Workspace(file=file)
        server = _ThreadServer(create_app(workspace, instance))
        started.append((server.__enter__(), instance))
        return UI(f"http://127.0.0.1:{server.port}", instance, workspace, home)

    yield serve
    for server, instance in reversed(started):
        server.__exit__()
        instance.close()


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
