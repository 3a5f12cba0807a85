"""Every command, given a user's mistake, exits non-zero with a one-screen message and no
traceback; `--debug` shows the traceback; `--version` prints the installed version."""

from __future__ import annotations

import os
import subprocess
import sys
from importlib.metadata import version
from pathlib import Path
from typing import Any

import pytest

DEFS = """
import outfitter as of

@of.asset
def raw() -> int:
    return 1

@of.asset
def clean(raw: int) -> int:
    return raw

@of.sensor(minimum_interval_seconds=30)
def watcher():
    return of.SkipReason("nothing new")

@of.schedule(cron_schedule="0 * * * *")
def hourly():
    return of.RunRequest()

defs = of.Definitions(assets=[raw, clean], sensors=[watcher], schedules=[hourly])
"""

RAISES_ON_IMPORT = """
def load():
    raise KeyError("missing [bold]setting[/bold]")

load()
"""


@pytest.fixture
def project(outfitter_cli: Any, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The test's directory (its home at ``home/``), holding definitions and config files."""
    outfitter_cli.write("defs.py", DEFS)
    outfitter_cli.write("raises.py", RAISES_ON_IMPORT)
    outfitter_cli.write("nodefs.py", "x = 1\n")
    outfitter_cli.write("bad.yaml", "resources:\n  store: [1, 2\n")
    outfitter_cli.write("bad.json", '{"resources": }')
    outfitter_cli.write("list.yaml", "- 1\n")
    monkeypatch.chdir(outfitter_cli.cwd)
    return Path(outfitter_cli.cwd)


F = ["-f", "defs.py"]

MISTAKES = [
    (["materialize", "-f", "missing.py"], "no such file: missing.py"),
    (["materialize", "-m", "no_such_module_xyz"], "cannot import module 'no_such_module_xyz'"),
    (["materialize"], "give exactly one of -f FILE or -m MODULE"),
    (["materialize", *F, "-m", "defs"], "give exactly one of -f FILE or -m MODULE"),
    (["materialize", "-f", "nodefs.py"], "has no Definitions object named `defs`"),
    (["materialize", "-f", "raises.py"], "importing raises.py raised KeyError"),
    (["materialize", *F, "--job", "nigthly"], "no job named 'nigthly'"),
    (["materialize", *F, "--select", "cleen"], "unknown asset 'cleen' (did you mean 'clean'?)"),
    (["materialize", *F, "--select", "raw++x"], "'raw++x' is not a selection clause"),
    (["materialize", *F, "--select", "raw", "--job", "x"], "give --job or --select, not both"),
    (["materialize", *F, "-c", "nope.yaml"], "no such run config file: nope.yaml"),
    (["materialize", *F, "-c", "bad.yaml"], "run config bad.yaml, line 3, column 1"),
    (["materialize", *F, "-c", "bad.json"], "run config bad.json, line 1, column 15"),
    (["materialize", *F, "-c", "list.yaml"], "holds a list, not a mapping"),
    (["run-flow", *F], "defs.py defines no Flow at module level"),
    (["definitions", "check", "-f", "missing.py"], "no such file: missing.py"),
    (["resources", "list", "-m", "no_such_module_xyz"], "cannot import module"),
    (["resources", "list", "--json", "-f", "nodefs.py"], "has no Definitions object"),
    (["runs", "list", "--status", "DONE"], "unknown status 'DONE'"),
    (["runs", "show", "abc123"], "no run 'abc123' in this instance"),
    (["runs", "show", "abc123", "--json"], "no run 'abc123' in this instance"),
    (["runs", "show", "abc123", "--follow"], "no run 'abc123' in this instance"),
    (["sensors", "list", "-f", "missing.py"], "no such file"),
    (["sensors", "start", "wacher", *F], "no sensor named 'wacher'. Did you mean 'watcher'?"),
    (["sensors", "stop", "nope", *F], "no sensor named 'nope'"),
    (["sensors", "preview", "nope", *F], "no sensor named 'nope'"),
    (["schedules", "list", "-f", "nodefs.py"], "has no Definitions object"),
    (["schedules", "start", "hourlly", *F], "no schedule named 'hourlly'"),
    (["schedules", "stop", "nope", *F], "no schedule named 'nope'"),
    (["daemon", *F, "--poll", "0"], "--poll must be a positive number of seconds"),
    (["daemon", "-f", "missing.py"], "no such file"),
]


@pytest.mark.parametrize(("args", "expected"), MISTAKES, ids=[" ".join(a) for a, _ in MISTAKES])
def test_a_user_mistake_is_a_short_message_without_traceback(
    project: Path, args: list[str], expected: str, invoke: Any
) -> None:
    """Non-zero exit, the message on stderr naming the problem, at most a screen, no
    traceback (the command ended by exiting, not by an exception escaping)."""
    done = invoke(*args)
    assert done.exit_code == 1, done.output
    assert isinstance(done.exception, SystemExit), done.exception
    assert expected in done.stderr
    assert done.stderr.startswith("Error: ")
    assert "Traceback" not in done.output
    assert len(done.output.splitlines()) <= 24


def test_import_failures_show_user_frames_and_text_not_markup(project: Path, invoke: Any) -> None:
    """An import error shows the user's frame (not importlib's or Outfitter's), and square
    brackets in a message are printed as they are."""
    done = invoke("materialize", "-f", "raises.py")
    assert 'raises.py", line 3, in load' in done.stderr
    assert "[bold]setting[/bold]" in done.stderr
    assert "importlib" not in done.stderr
    assert "outfitter" not in done.stderr.replace("outfitter.", "")


def test_debug_shows_the_traceback(project: Path, invoke: Any) -> None:
    """With --debug the exception escapes (typer prints its traceback)."""
    done = invoke("--debug", "materialize", *F, "--job", "nigthly")
    assert done.exit_code == 1
    assert type(done.exception).__name__ == "DefinitionError"


def test_debug_prints_a_traceback_in_a_real_process(project: Path) -> None:
    """As a user runs it: no traceback without --debug, a traceback with it."""
    env = {**os.environ, "OUTFITTER_HOME": str(project / "home")}
    base = [sys.executable, "-m", "outfitter.cli"]
    args = ["materialize", *F, "--select", "cleen"]
    plain = subprocess.run([*base, *args], env=env, capture_output=True, text=True, timeout=60)
    debug = subprocess.run(
        [*base, "--debug", *args], env=env, capture_output=True, text=True, timeout=60
    )
    assert plain.returncode == 1
    assert "Traceback" not in plain.stderr
    assert "unknown asset 'cleen'" in plain.stderr
    assert debug.returncode == 1
    assert "Traceback (most recent call last)" in debug.stderr


def test_version_prints_the_installed_version(project: Path, invoke: Any) -> None:
    """--version comes from the installed package's metadata."""
    done = invoke("--version")
    assert done.exit_code == 0
    assert done.stdout == f"outfitter {version('outfitter')}\n"
