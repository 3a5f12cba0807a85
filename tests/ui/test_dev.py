"""`outfitter dev` and `outfitter ui` as real processes (the UI answers, the daemon ticks,
SIGTERM stops both and closes process-scoped resources, exit 0), the dev daemon following
reloads of the definitions (keeping the last good ones when a reload fails), and the start-up
mistakes: no -f/-m, a port in use, the `outfitter[ui]` extra missing."""

from __future__ import annotations

import importlib
import os
import signal
import socket
import subprocess
import sys
import textwrap
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

import outfitter as of
from outfitter.ui import Workspace
from outfitter.ui.server import DevDaemon

cli_app = importlib.import_module("outfitter.cli.app")

DEFS = """
import os
import outfitter as of

def note(text):
    with open(os.environ["MARKER"], "a") as f:
        f.write(text + "\\n")

class Pool(of.ConfigurableResource, scope="process"):
    def setup_for_execution(self, context):
        note("open")

    def teardown_after_execution(self, context):
        note("close")

@of.sensor(minimum_interval_seconds=0.05, default_status="RUNNING")
def watch(context, pool: Pool):
    return of.SkipReason("nothing new")

defs = of.Definitions(sensors=[watch], resources={"pool": Pool()})
"""


def wait_for(condition: Callable[[], object], what: str, timeout: float = 60.0) -> None:
    """Poll ``condition`` until it is true (fails the test after ``timeout`` seconds)."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def fetch(url: str) -> str | None:
    """The page at ``url``, or None while nothing answers there."""
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            body: bytes = response.read()
            return body.decode()
    except (urllib.error.URLError, ConnectionError):
        return None


@pytest.fixture
def project(tmp_path: Path) -> Path:
    (tmp_path / "defs.py").write_text(textwrap.dedent(DEFS))
    return tmp_path


def start(command: str, project: Path, port: int) -> subprocess.Popen[str]:
    env = {
        **os.environ,
        "OUTFITTER_HOME": str(project / "home"),
        "MARKER": str(project / "marker.txt"),
    }
    return subprocess.Popen(
        [sys.executable, "-m", "outfitter.cli", command, "-f", "defs.py", "--port", str(port)],
        cwd=project,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


@pytest.fixture
def processes() -> Iterator[list[subprocess.Popen[str]]]:
    started: list[subprocess.Popen[str]] = []
    yield started
    for proc in started:  # a test that failed half-way leaves nothing running
        if proc.poll() is None:
            proc.kill()
            proc.communicate()


def test_dev_serves_the_ui_runs_the_daemon_and_stops_both_on_sigterm(
    project: Path, processes: list[subprocess.Popen[str]]
) -> None:
    """The UI answers and says the daemon runs; the RUNNING sensor ticks; SIGTERM ends the
    process with 0 after its process-scoped resource closed."""
    port = free_port()
    proc = start("dev", project, port)
    processes.append(proc)
    base = f"http://127.0.0.1:{port}"
    wait_for(lambda: fetch(f"{base}/instigators") is not None or proc.poll() is not None, "UI")
    assert proc.poll() is None, proc.communicate()
    page = fetch(f"{base}/instigators") or ""
    assert "daemon running" in page
    assert "The daemon is running in this process (outfitter dev)" in page
    wait_for(lambda: "SKIPPED" in (fetch(f"{base}/instigators/watch") or ""), "a tick")
    assert "nothing new" in (fetch(f"{base}/instigators/watch") or "")

    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err
    assert "Traceback" not in err
    assert f"Outfitter UI and daemon: http://127.0.0.1:{port}" in err
    assert "daemon started: watch" in err
    assert err.rstrip().endswith("stopped")
    assert (project / "marker.txt").read_text().splitlines() == ["open", "close"]


def test_ui_serves_pages_and_exits_on_sigterm(
    project: Path, processes: list[subprocess.Popen[str]]
) -> None:
    """`outfitter ui` runs no daemon: the sensor is not evaluated."""
    port = free_port()
    proc = start("ui", project, port)
    processes.append(proc)
    base = f"http://127.0.0.1:{port}"
    wait_for(lambda: fetch(f"{base}/resources") is not None or proc.poll() is not None, "UI")
    assert proc.poll() is None, proc.communicate()
    assert "No daemon runs in this process" in (fetch(f"{base}/instigators") or "")
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err
    assert "Traceback" not in err
    assert f"Outfitter UI: http://127.0.0.1:{port}" in err
    assert not (project / "marker.txt").exists()


def test_the_dev_daemon_follows_reloads_and_keeps_the_last_good_definitions(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A reload that works restarts the daemon over the new definitions (the old daemon's
    process resources closed); one that fails keeps the last good ones ticking."""
    monkeypatch.setenv("MARKER", str(project / "marker.txt"))
    path = project / "defs.py"
    workspace = Workspace(file=path)
    defs = workspace.current.defs
    assert defs is not None
    with of.Instance.ephemeral() as instance:
        dev = DevDaemon(defs, instance, poll_interval=0.02)
        workspace.on_reload.append(dev.on_reload)
        dev.start()
        try:
            wait_for(lambda: instance.get_ticks("watch"), "a tick of watch")
            path.write_text(textwrap.dedent(DEFS).replace("watch", "other"))
            assert workspace.reload().problems == []
            wait_for(lambda: instance.get_ticks("other"), "a tick of other")
            assert dev.generation == 2
            marker = (project / "marker.txt").read_text().splitlines()
            assert marker[:2] == ["open", "close"]  # the first daemon's pool closed

            path.write_text("raise RuntimeError('half-written')\n")
            assert "raised RuntimeError: half-written" in workspace.reload().problems[0]
            seen = len(instance.get_ticks("other"))
            wait_for(lambda: len(instance.get_ticks("other")) > seen, "ticks after a bad reload")
            assert dev.generation == 2
        finally:
            dev.stop()
        assert not dev.running
        assert (project / "marker.txt").read_text().splitlines() == ["open", "close"] * 2


def test_ui_needs_a_file_or_a_module() -> None:
    result = CliRunner().invoke(cli_app.app, ["ui"])
    assert result.exit_code == 1
    assert "Error: give exactly one of -f FILE or -m MODULE" in result.stderr
    assert "Traceback" not in result.output


def test_a_port_in_use_is_a_message(project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(project)
    monkeypatch.setenv("OUTFITTER_HOME", str(project / "home"))
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        port = taken.getsockname()[1]
        result = CliRunner().invoke(cli_app.app, ["dev", "-f", "defs.py", "--port", str(port)])
    assert result.exit_code == 1
    assert f"Error: port {port} on 127.0.0.1 is already in use" in result.stderr
    assert f"pick another port: --port {port + 1}" in result.stderr
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert not (project / "marker.txt").exists()


def test_a_missing_ui_extra_is_a_message(project: Path) -> None:
    """Without Starlette (the import blocked), `outfitter ui` says which extra to install."""
    code = (
        "import sys\n"
        "sys.modules['starlette'] = None\n"
        "from outfitter.cli.app import main\n"
        "sys.argv = ['outfitter', 'ui', '-f', 'defs.py']\n"
        "main()\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code],
        cwd=project,
        env={**os.environ, "OUTFITTER_HOME": str(project / "home")},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 1
    assert (
        "Error: the UI needs packages that are not installed (no module named 'starlette')"
        in done.stderr
    )
    assert 'Hint: install the extra: pip install "outfitter[ui]".' in done.stderr
    assert "Traceback" not in done.stderr
