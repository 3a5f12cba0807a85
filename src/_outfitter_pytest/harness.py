"""What the plugin's daemon, CLI and UI fixtures return. Imported only when a test asks for one
of them (it imports Outfitter's daemon, command line and UI, the top layers of the library)."""

from __future__ import annotations

import contextlib
import os
import textwrap
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pytest
    from starlette.testclient import TestClient

    from outfitter._instance import Instance, TickRecord
    from outfitter.testing import AssertingInstance, IsolatedEnv, ManualClock

__all__ = [
    "CliHarness",
    "CliResult",
    "DaemonDriver",
    "ServedUI",
    "UiClients",
    "UiServers",
    "chromium_executable",
]


class DaemonDriver:
    """The daemon over ``defs``, moved one tick at a time on a :class:`ManualClock`.

    ``tick()`` evaluates every due sensor and schedule once and returns the ids of the runs it
    launched (each run finishes before ``tick()`` returns); ``tick(advance=...)`` first moves
    the clock. Sensors and schedules start as their ``default_status`` says; ``start(name)``
    starts a stopped one, as ``outfitter sensors start`` does.
    """

    def __init__(
        self, defs: Any, instance: AssertingInstance, clock: ManualClock, **options: Any
    ) -> None:
        from outfitter._daemon import Daemon

        self.defs = defs
        self.instance = instance
        self.clock = clock
        self.daemon = Daemon(defs, instance, clock=clock, **options)

    def tick(self, advance: float = 0.0) -> list[str]:
        """Move the clock by ``advance`` seconds, then run one tick; the launched run ids."""
        if advance:
            self.clock.advance(advance)
        return self.daemon.tick()

    def _kind(self, name: str) -> str:
        for definition in [*self.defs.sensors, *self.defs.schedules]:
            if definition.name == name:
                return str(definition.kind)
        known = sorted(d.name for d in [*self.defs.sensors, *self.defs.schedules])
        raise LookupError(f"no sensor or schedule named {name!r} (known: {', '.join(known)})")

    def start(self, *names: str) -> None:
        """Start sensors or schedules (their state in the instance becomes RUNNING)."""
        for name in names:
            self.instance.set_instigator(name, self._kind(name), status="RUNNING")

    def stop(self, *names: str) -> None:
        """Stop sensors or schedules."""
        for name in names:
            self.instance.set_instigator(name, self._kind(name), status="STOPPED")

    def ticks(self, name: str) -> list[TickRecord]:
        """The recorded ticks of a sensor or schedule, oldest first."""
        return list(reversed(self.instance.get_ticks(name)))

    def cursor(self, name: str) -> str | None:
        """The stored cursor of a sensor."""
        state = self.instance.get_instigator(name)
        return None if state is None else state.cursor

    def close(self) -> None:
        """Close the daemon's process-scoped resources."""
        self.daemon.close()


@dataclass(frozen=True)
class CliResult:
    """What one command did: its exit code, what it printed, and what ended it
    (``exception``: as click's runner reports it, a ``SystemExit`` when the command exited
    with a non-zero code, the exception itself when one escaped, e.g. with ``--debug``)."""

    exit_code: int
    stdout: str
    stderr: str
    exception: BaseException | None

    @property
    def output(self) -> str:
        """stdout then stderr."""
        return self.stdout + self.stderr

    def __repr__(self) -> str:
        return f"<CliResult exit_code={self.exit_code}>"


class CliHarness:
    """The ``outfitter`` command in process (typer's test runner): ``cli("runs", "list")``.

    Commands run in :attr:`cwd` (the test's directory; ``write()`` puts files there), with the
    test's isolated ``OUTFITTER_HOME`` (:attr:`home`), on consoles :attr:`width` columns wide so
    output does not depend on the terminal.
    """

    def __init__(self, env: IsolatedEnv, monkeypatch: pytest.MonkeyPatch, width: int = 200):
        self.env = env
        self.cwd = env.directory
        """Where commands run (a relative ``-f defs.py`` is found here)."""
        self.home = env.home
        """The instance directory commands read and write."""
        self.width = width
        self._mp = monkeypatch

    def write(self, name: str, source: str) -> Path:
        """Write ``source`` (dedented) to ``cwd / name``; returns the path."""
        path = self.cwd / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(source))
        return path

    def __call__(self, *args: str, input: str | None = None) -> CliResult:
        """Run ``outfitter <args>``."""
        import importlib

        from rich.console import Console
        from typer.testing import CliRunner

        # the package exports `app`, the Typer object, under the module's name
        cli_app = importlib.import_module("outfitter.cli.app")
        config_cmd = importlib.import_module("outfitter.cli.config_cmd")

        with self._mp.context() as mp:
            mp.setattr(cli_app, "out", Console(width=self.width, highlight=False))
            mp.setattr(cli_app, "err", Console(stderr=True, width=self.width, highlight=False))
            mp.setattr(
                config_cmd, "out", Console(width=self.width, highlight=False, soft_wrap=True)
            )
            mp.setenv("COLUMNS", str(self.width))
            mp.chdir(self.cwd)
            result = CliRunner().invoke(cli_app.app, list(args), input=input)
        return CliResult(result.exit_code, result.stdout, result.stderr, result.exception)

    @contextlib.contextmanager
    def instance(self) -> Iterator[Instance]:
        """The instance the commands used (``Instance.local(home)``), open for the block."""
        from outfitter import Instance

        with Instance.local(self.home) as instance:
            yield instance

    def __repr__(self) -> str:
        return f"CliHarness(cwd={str(self.cwd)!r})"


ORIGIN = "http://127.0.0.1:3000"
"""The address the UI test clients send requests to (and the Origin their POSTs carry)."""


class UiClients:
    """``clients(source)``: a Starlette test client over the UI serving definitions from
    ``source`` (code, dedented and written to a file in the test's directory, or a ``Path``)
    and the test's instance (or ``instance=``). POSTs carry the UI's own Origin unless
    ``headers`` say otherwise. Every client is closed after the test."""

    def __init__(self, env: IsolatedEnv, instance: Instance) -> None:
        self.env = env
        self.instance = instance
        self.clients: list[TestClient] = []

    def __call__(
        self,
        source: str | Path | os.PathLike[str],
        *,
        instance: Instance | None = None,
        headers: dict[str, str] | None = None,
    ) -> TestClient:
        from starlette.testclient import TestClient

        from outfitter.ui import Workspace, create_app

        if isinstance(source, str):
            path = self.env.directory / f"defs_{len(self.clients)}.py"
            path.write_text(textwrap.dedent(source))
        else:
            path = Path(source)
        app = create_app(Workspace(file=path), instance or self.instance)
        client = TestClient(app, base_url=ORIGIN, headers={"origin": ORIGIN, **(headers or {})})
        self.clients.append(client)
        return client

    def close(self) -> None:
        for client in self.clients:
            client.close()


class _ThreadServer:
    """uvicorn serving an app on an already bound loopback socket, in a daemon thread."""

    def __init__(self, app: object) -> None:
        import socket
        import threading

        import uvicorn

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

    def start(self) -> None:
        import threading

        self.thread.start()
        pause = threading.Event()
        while not self.server.started:  # until uvicorn serves (or its thread died trying)
            if not self.thread.is_alive():
                raise RuntimeError("the UI server thread stopped before serving")
            pause.wait(0.02)

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=30)
        self.sock.close()


@dataclass
class ServedUI:
    """A UI served over HTTP for a test: its base ``url``, the ``instance`` it shows (on disk
    under the test's ``OUTFITTER_HOME``, so runs it launches in other processes record there)
    and its ``workspace``; ``at("/runs")`` is the absolute address of a page."""

    url: str
    instance: Instance
    workspace: Any
    home: Path

    def at(self, path: str) -> str:
        return self.url + path


class UiServers:
    """``serve(source)``: the UI of ``source`` (code, dedented and written to a file in the
    test's directory, or a ``Path``) served by uvicorn on a free loopback port, over a file
    instance at the test's ``OUTFITTER_HOME``; ``env={...}`` sets more variables for the test
    and the runs the UI launches. Every server stops, and its instance closes, after the test."""

    def __init__(self, env: IsolatedEnv) -> None:
        self.env = env
        self.started: list[tuple[_ThreadServer, Instance]] = []

    def __call__(
        self, source: str | Path | os.PathLike[str], *, env: dict[str, str] | None = None
    ) -> ServedUI:
        from outfitter import Instance
        from outfitter.ui import Workspace, create_app

        if isinstance(source, str):
            path = self.env.directory / f"ui_defs_{len(self.started)}.py"
            path.write_text(textwrap.dedent(source))
        else:
            path = Path(source)
            if path.is_absolute() and path.is_relative_to(Path.cwd()):
                path = path.relative_to(Path.cwd())  # as a user types it (pages show it)
        for name, value in (env or {}).items():
            self.env.set(name, value)
        home = Path(os.environ["OUTFITTER_HOME"])
        instance = Instance.local(home)
        workspace = Workspace(file=path)
        server = _ThreadServer(create_app(workspace, instance))
        server.start()
        self.started.append((server, instance))
        return ServedUI(f"http://127.0.0.1:{server.port}", instance, workspace, home)

    def close(self) -> None:
        for server, instance in reversed(self.started):
            server.stop()
            instance.close()


CHROMIUM_HINT = (
    "the browser fixtures drive the system's Chromium, and `chromium` is not on PATH: install it "
    "(Debian/Ubuntu: apt-get install -y --no-install-recommends chromium fonts-liberation); "
    "`playwright install` is not needed"
)


def chromium_executable() -> str:
    """The system's Chromium, or a test failure that says how to install it."""
    import shutil

    import pytest

    path = shutil.which("chromium")
    if path is None:
        pytest.fail(CHROMIUM_HINT, pytrace=False)
    return path
