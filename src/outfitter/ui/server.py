"""Serving the UI: uvicorn on one address, over the local instance (``OUTFITTER_HOME``); with
``dev``, the daemon loop too, in a background thread (:class:`DevDaemon`), as ``dagster dev``.

uvicorn owns the main thread and its signals: Ctrl-C / SIGTERM stop the server (open requests
finish), then the daemon finishes its current tick, its process-scoped resources close, and the
process exits 0.

Example:
    >>> serve(Workspace(file=Path("pipeline.py")), port=3000, dev=True)  # doctest: +SKIP
"""

from __future__ import annotations

import contextlib
import errno
import logging
import signal
import socket
import sys
import threading
from collections.abc import Iterator
from typing import Any

import uvicorn

from .._daemon import Daemon
from .._definitions.definitions import Definitions
from .._instance import Instance
from ..exceptions import InvocationError
from .app import create_app
from .workspace import Loaded, Workspace

__all__ = ["DevDaemon", "serve"]

_LOG = logging.getLogger("outfitter.daemon")

GRACEFUL_SECONDS = 5
"""How long open connections (a page polling a live run) may hold the server's shutdown."""


class DevDaemon:
    """The daemon of ``outfitter dev``: :class:`~outfitter._daemon.Daemon` ticking in a
    background thread. :meth:`use` swaps in new definitions (the current tick finishes, process
    resources close, a daemon over the new ones starts); :meth:`stop` ends it.

    Example:
        >>> with Instance.ephemeral() as instance:
        ...     dev = DevDaemon(Definitions(), instance, poll_interval=0.01)
        ...     dev.start()
        ...     dev.running
        ...     dev.stop()
        ...     dev.running
        True
        False
    """

    def __init__(
        self,
        defs: Definitions,
        instance: Instance,
        *,
        poll_interval: float = 1.0,
        debug: bool = False,
    ) -> None:
        self.instance = instance
        self.poll_interval = poll_interval
        self.debug = debug
        self._defs = defs
        self._lock = threading.Lock()
        self._daemon: Daemon | None = None
        self._closing = False
        self._generation = 0
        self._thread = threading.Thread(target=self._loop, name="outfitter-daemon", daemon=True)

    @property
    def daemon(self) -> Daemon | None:
        """The daemon ticking now (a new one after each :meth:`use`)."""
        return self._daemon

    @property
    def running(self) -> bool:
        """Whether the loop runs (started and not stopped)."""
        return self._thread.is_alive() and not self._closing

    @property
    def generation(self) -> int:
        """How many daemons were started (1 + the definitions swapped in)."""
        return self._generation

    def start(self) -> None:
        """Start ticking in the background."""
        self._thread.start()

    def use(self, defs: Definitions) -> None:
        """Tick over ``defs`` from now on (after the current tick)."""
        with self._lock:
            self._defs = defs
            if self._daemon is not None:
                self._daemon.stop()

    def on_reload(self, loaded: Loaded) -> None:
        """A workspace reload: a load that worked replaces the definitions; one that failed
        keeps the last good ones ticking."""
        if loaded.problems:
            _LOG.warning("the definitions did not load: the daemon keeps the last good ones")
            return
        self.use(loaded.defs if loaded.defs is not None else Definitions())

    def stop(self, timeout: float | None = None) -> None:
        """Stop after the current tick (its runs finish) and wait until process-scoped
        resources are closed."""
        with self._lock:
            self._closing = True
            if self._daemon is not None:
                self._daemon.stop()
        if self._thread.is_alive():
            self._thread.join(timeout)

    def _loop(self) -> None:
        while True:
            with self._lock:
                if self._closing:
                    return
                defs = self._defs
            try:
                daemon = Daemon(
                    defs, self.instance, poll_interval=self.poll_interval, debug=self.debug
                )
            except Exception as exc:  # e.g. resources that cannot be bound: wait for a reload
                _LOG.error("the daemon cannot start: %s: %s", type(exc).__name__, exc)
                self._wait_for_change(defs)
                continue
            with self._lock:
                if self._closing:
                    daemon.close()
                    return
                if defs is not self._defs:  # swapped while it was made
                    daemon.close()
                    continue
                self._daemon = daemon
                self._generation += 1
            names = [d.name for d in [*defs.sensors, *defs.schedules]]
            _LOG.info("daemon started: %s", ", ".join(names) or "no sensors or schedules")
            try:
                daemon.run()  # ticks until stop(), then closes process-scoped resources
            except Exception as exc:  # the daemon isolates each tick; this is its own failure
                _LOG.error("the daemon stopped: %s: %s", type(exc).__name__, exc)
                self._wait_for_change(defs)

    def _wait_for_change(self, defs: Definitions) -> None:
        stop = threading.Event()
        while not stop.wait(self.poll_interval):
            with self._lock:
                if self._closing or self._defs is not defs:
                    return


def serve(
    workspace: Workspace,
    *,
    host: str = "127.0.0.1",
    port: int = 3000,
    dev: bool = False,
    poll_interval: float = 1.0,
    debug: bool = False,
) -> None:
    """Serve the UI until Ctrl-C / SIGTERM; with ``dev``, run the daemon alongside. A port
    already in use raises :class:`~outfitter.exceptions.InvocationError`."""
    sock = _bind(host, port)
    with contextlib.closing(sock), Instance.get() as instance, _daemon_log(dev):
        daemon: DevDaemon | None = None
        if dev:
            current = workspace.current
            defs = current.defs if current.defs is not None else Definitions()
            daemon = DevDaemon(defs, instance, poll_interval=poll_interval, debug=debug)
            workspace.on_reload.append(daemon.on_reload)
        app = create_app(workspace, instance, host=host, daemon=daemon)
        shown = f"[{host}]" if ":" in host else host
        print(
            f"Outfitter UI{' and daemon' if dev else ''}: http://{shown}:{port}  (Ctrl-C to stop)",
            file=sys.stderr,
        )
        config = uvicorn.Config(
            app, log_level="warning", timeout_graceful_shutdown=GRACEFUL_SECONDS
        )
        server = uvicorn.Server(config)
        try:
            if daemon is not None:
                daemon.start()
            with _signals_end_quietly():
                server.run(sockets=[sock])
        finally:
            if daemon is not None:
                workspace.on_reload.remove(daemon.on_reload)
                print("stopping the daemon (its current tick finishes first)", file=sys.stderr)
                with _signals_end_quietly():
                    daemon.stop()
    print("stopped", file=sys.stderr)


def _bind(host: str, port: int) -> socket.socket:
    """A listening socket on ``host:port``, or a message saying why there cannot be one."""
    try:
        family, kind, proto, _, address = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0]
    except socket.gaierror as exc:
        raise InvocationError(
            f"--host {host!r} is not an address this machine can listen on ({exc.strerror})",
            hint="use 127.0.0.1 (the default), localhost or an address of this machine.",
        ) from None
    sock = socket.socket(family, kind, proto)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(address)
        sock.listen(128)
    except OSError as exc:
        sock.close()
        if exc.errno == errno.EADDRINUSE:
            raise InvocationError(
                f"port {port} on {host} is already in use (another `outfitter ui`, `outfitter "
                "dev` or another server is listening there)",
                hint=f"stop that server, or pick another port: --port {port + 1}.",
            ) from None
        raise InvocationError(
            f"cannot listen on {host}:{port}: {exc.strerror or exc}",
            hint="use another --port (ports below 1024 need privileges) or --host 127.0.0.1.",
        ) from None
    sock.set_inheritable(True)
    return sock


@contextlib.contextmanager
def _signals_end_quietly() -> Iterator[None]:
    """uvicorn stops on SIGINT / SIGTERM, then raises the signal again for the handler it
    replaced: make that handler ignore it, so the process exits 0 after closing everything
    (a signal while the daemon finishes its tick is ignored the same way)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = {sig: signal.signal(sig, _ignore) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def _ignore(signum: int, frame: Any) -> None:
    pass


@contextlib.contextmanager
def _daemon_log(dev: bool) -> Iterator[None]:
    """With ``dev``, print the daemon's announcements (INFO and up) on stderr when nothing
    else handles Outfitter's logs (as ``outfitter daemon`` does)."""
    handled = logging.getLogger("outfitter").handlers or logging.getLogger().handlers
    if not dev or handled or _LOG.handlers:
        yield
        return
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(message)s"))
    level = _LOG.level
    _LOG.addHandler(handler)
    _LOG.setLevel(logging.INFO)
    try:
        yield
    finally:
        _LOG.removeHandler(handler)
        _LOG.setLevel(level)
