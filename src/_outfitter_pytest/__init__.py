"""Outfitter's pytest plugin, loaded by pytest in every run through the ``pytest11`` entry point
named ``outfitter`` (turn it off with ``-p no:outfitter``).

It lives outside the ``outfitter`` package on purpose: importing ``outfitter`` costs a few
hundred milliseconds (pydantic, the engine), and pytest loads this module in every test run of
an environment where Outfitter is installed, whether the tests use it or not. So this module
imports nothing but pytest; each fixture imports what it needs when a test asks for it.
``outfitter.testing.pytest_plugin`` is the name to give ``-p`` or ``pytest_plugins``: it
registers this module (once, whichever way it was asked for).

Fixtures: ``outfitter_env``, ``outfitter_instance``, ``outfitter_override``,
``resource_recorder``, ``outfitter_clock``, ``outfitter_daemon``, ``outfitter_cli``,
``outfitter_ui_client``, ``outfitter_ui_server``, ``outfitter_browser`` and
``outfitter_ui_page``. Marker: ``outfitter_envs``. See docs/testing.md.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator
    from pathlib import Path

    from playwright.sync_api import Browser, Page
    from starlette.testclient import TestClient

    from outfitter.testing import (
        AssertingInstance,
        IsolatedEnv,
        ManualClock,
        ResourceRecorder,
    )

    from .harness import CliHarness, DaemonDriver, UiServers

MARKER = "outfitter_envs"
_MARKER_HELP = (
    f"{MARKER}(*names, **containers): run the test once per Outfitter environment, with "
    "OUTFITTER_ENV set to each name (the test must use the outfitter_env fixture, directly or "
    "through another outfitter_* fixture); outfitter_env.container is the container given for "
    "the environment by name=Container."
)


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", _MARKER_HELP)


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    marker = metafunc.definition.get_closest_marker(MARKER)
    if marker is None:
        return
    names = [*marker.args, *marker.kwargs]
    where = metafunc.definition.nodeid
    if not names or not all(isinstance(n, str) for n in names):
        pytest.fail(
            f"{where}: @pytest.mark.{MARKER} needs environment names, e.g. "
            f"@pytest.mark.{MARKER}('local', 'prod') or @pytest.mark.{MARKER}(local=Local, "
            "prod=Prod)",
            pytrace=False,
        )
    if "outfitter_env" not in metafunc.fixturenames:
        pytest.fail(
            f"{where}: @pytest.mark.{MARKER} sets OUTFITTER_ENV through the outfitter_env "
            "fixture, which this test does not use: add an outfitter_env argument.",
            pytrace=False,
        )
    params = [(name, dict(marker.kwargs)) for name in names]
    metafunc.parametrize("outfitter_env", params, indirect=True, ids=names)


@pytest.fixture
def outfitter_env(
    request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> IsolatedEnv:
    """The test's environment, cut off from the developer's: ``OUTFITTER_*`` variables cleared,
    ``OUTFITTER_HOME`` and the dotenv file under ``tmp_path`` (no ``.env`` read unless the test
    writes one); ``.set(EnvVar(...), value)`` and ``.write_dotenv(...)``, undone after."""
    from outfitter.testing import IsolatedEnv

    environment, containers = getattr(request, "param", (None, None))
    return IsolatedEnv(monkeypatch, tmp_path, environment=environment, containers=containers)


@pytest.fixture
def outfitter_instance(outfitter_env: IsolatedEnv) -> Iterator[AssertingInstance]:
    """An ephemeral instance (in memory), closed after the test, with assertions over its runs
    and events (``assert_run_status``, ``resource_events``, ``assert_nowhere``)."""
    from outfitter.testing import AssertingInstance

    instance = AssertingInstance.ephemeral()
    assert isinstance(instance, AssertingInstance)
    with instance:
        yield instance


@pytest.fixture
def outfitter_override() -> Iterator[Callable[..., Any]]:
    """``outfitter_override(target, key=replacement, ...)``: override resource keys of a
    container, dict, ``Definitions``, job or flow until the end of the test; returns
    ``target``."""
    import contextlib

    with contextlib.ExitStack() as stack:

        def override(target: Any, /, **replacements: Any) -> Any:
            from outfitter.testing import override_resources

            return stack.enter_context(override_resources(target, **replacements))

        yield override


@pytest.fixture
def resource_recorder() -> ResourceRecorder:
    """A :class:`~outfitter.testing.ResourceRecorder`: ``resource_recorder.resource("db")``
    makes a resource recording its opens and closes; ``assert_closed_lifo()``,
    ``assert_each_closed_once()``."""
    from outfitter.testing import ResourceRecorder

    return ResourceRecorder()


@pytest.fixture
def outfitter_clock() -> ManualClock:
    """A clock that moves only when the test moves it (``advance(seconds, minutes=...)``,
    ``set(...)``), starting at 2024-01-01T00:00:00Z."""
    from outfitter.testing import ManualClock

    return ManualClock()


@pytest.fixture
def outfitter_daemon(
    outfitter_instance: AssertingInstance, outfitter_clock: ManualClock
) -> Iterator[Callable[..., DaemonDriver]]:
    """``outfitter_daemon(defs)``: the daemon over ``defs``, the test's instance and clock,
    driven tick by tick (``tick()``, ``tick(advance=60)``); closed after the test."""
    from .harness import DaemonDriver

    drivers: list[DaemonDriver] = []

    def make(defs: Any, **options: Any) -> DaemonDriver:
        driver = DaemonDriver(defs, outfitter_instance, outfitter_clock, **options)
        drivers.append(driver)
        return driver

    yield make
    for driver in reversed(drivers):
        driver.close()


@pytest.fixture
def outfitter_cli(outfitter_env: IsolatedEnv, monkeypatch: pytest.MonkeyPatch) -> CliHarness:
    """``outfitter_cli("runs", "list")``: the ``outfitter`` command, in process, in the test's
    directory and isolated home; returns exit code and output."""
    from .harness import CliHarness

    return CliHarness(outfitter_env, monkeypatch)


@pytest.fixture
def outfitter_ui_client(
    outfitter_env: IsolatedEnv, outfitter_instance: AssertingInstance
) -> Iterator[Callable[..., TestClient]]:
    """``outfitter_ui_client(source)``: a Starlette test client over the UI serving a
    definitions file (source text or a path) and the test's instance. Needs the ``[ui]`` extra:
    the test is skipped without it."""
    pytest.importorskip(
        "starlette.testclient",
        reason="outfitter_ui_client needs the UI extra: pip install 'outfitter[ui]'",
    )
    from .harness import UiClients

    clients = UiClients(outfitter_env, outfitter_instance)
    yield clients
    clients.close()


@pytest.fixture
def outfitter_ui_server(outfitter_env: IsolatedEnv) -> Iterator[UiServers]:
    """``outfitter_ui_server(source)``: the UI serving a definitions file (source text or a
    path) over HTTP on a free loopback port, with a file instance at the test's
    ``OUTFITTER_HOME`` (runs launched from the UI are other processes and record there).
    Returns ``url``, ``instance``, ``workspace`` and ``at(path)``. Needs the ``[ui]`` extra."""
    pytest.importorskip(
        "uvicorn", reason="outfitter_ui_server needs the UI extra: pip install 'outfitter[ui]'"
    )
    from .harness import UiServers

    servers = UiServers(outfitter_env)
    yield servers
    servers.close()


# Package scope, not session: while Playwright's sync API is alive it marks its event loop as
# the main thread's running loop between calls, so a later test's asyncio.run() would fail.
@pytest.fixture(scope="package")
def outfitter_browser() -> Iterator[Browser]:
    """One headless Chromium (the system's, driven by Playwright; never downloaded) shared by
    the browser tests of a package. ``--no-sandbox`` when running as root (Chromium refuses its
    sandbox as root, as in CI containers)."""
    import os

    from .harness import chromium_executable

    executable = chromium_executable()  # fail, saying what to install, before Playwright starts
    sync_api = pytest.importorskip(
        "playwright.sync_api", reason="the browser fixtures need playwright: pip install playwright"
    )
    args = ["--no-sandbox"] if os.geteuid() == 0 else []
    with sync_api.sync_playwright() as driver:
        browser = driver.chromium.launch(executable_path=executable, args=args)
        yield browser
        browser.close()


@pytest.fixture
def outfitter_ui_page(outfitter_browser: Browser) -> Iterator[Page]:
    """A fresh browser page (its own context: no cookies or cache shared between tests), 1280
    by 800; open a served UI with ``outfitter_ui_page.goto(outfitter_ui_server(...).url)``."""
    context = outfitter_browser.new_context(viewport={"width": 1280, "height": 800})
    page = context.new_page()
    yield page
    context.close()
