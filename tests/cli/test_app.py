"""The `outfitter` command, run as a user runs it (a subprocess per command)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

DEFS = """
import outfitter as of

class Creds(of.ConfigurableResource):
    user: str
    password: str

class Store(of.ConfigurableResource):
    creds: Creds
    table: str

@of.asset
def numbers(store: Store) -> list[int]:
    return [1, 2, 3]

@of.asset
def total(numbers: list[int]) -> int:
    return sum(numbers)

defs = of.Definitions(
    assets=[numbers, total],
    resources={"store": Store.configure_at_launch(
        creds=Creds(user="svc", password=of.EnvVar("CLI_SECRET")))},
)
"""

BROKEN = """
import outfitter as of

class Db(of.ConfigurableResource):
    url: str

@of.asset
def a(db: Db, cache: Db) -> int:
    return 1

defs = of.Definitions(assets=[a], resources={"dbb": Db(url="x")})
"""


def cli(args: list[str], home: Path, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "OUTFITTER_HOME": str(home), "CLI_SECRET": "top-s3cret", "COLUMNS": "200"}
    return subprocess.run(
        [sys.executable, "-m", "outfitter.cli", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.fixture
def project(tmp_path: Path) -> Path:
    (tmp_path / "pipeline.py").write_text(DEFS)
    (tmp_path / "broken.py").write_text(BROKEN)
    (tmp_path / "run.yaml").write_text("resources:\n  store:\n    config:\n      table: sales\n")
    return tmp_path


def test_materialize_then_list_and_show_runs(project: Path) -> None:
    """materialize records a run; runs list/show display it; secrets never printed."""
    home = project / "home"
    done = cli(["materialize", "-f", "pipeline.py", "-c", "run.yaml"], home, project)
    assert done.returncode == 0, done.stderr
    assert "SUCCESS" in done.stdout
    run_id = done.stdout.split()[1]
    listed = cli(["runs", "list"], home, project)
    assert run_id[:8] in listed.stdout  # tables show the first 8 characters
    shown = cli(["runs", "show", run_id[:8]], home, project)
    assert "ASSET_MATERIALIZATION" in shown.stdout
    assert "RESOURCE_OPEN" in shown.stdout
    assert '"table": "sales"' in shown.stdout
    for out in (done, listed, shown):
        assert "top-s3cret" not in out.stdout + out.stderr


def test_materialize_with_module_and_selection(project: Path) -> None:
    """-m loads a module; --select limits the run."""
    home = project / "home"
    first = cli(["materialize", "-m", "pipeline", "-c", "run.yaml", "-s", "numbers"], home, project)
    assert first.returncode == 0, first.stderr
    second = cli(["materialize", "-m", "pipeline", "-c", "run.yaml", "-s", "total"], home, project)
    assert second.returncode == 0, second.stderr


def test_materialize_runs_on_the_executor_the_run_config_selects(project: Path) -> None:
    """An `execution` section in the run config sends the steps to worker processes, whose
    resource opens the run records with their pid."""
    (project / "mp.yaml").write_text(
        "resources:\n  store:\n    config:\n      table: sales\n"
        "execution:\n  multiprocess:\n    config:\n      max_concurrent: 2\n"
    )
    home = project / "home"
    done = cli(["materialize", "-f", "pipeline.py", "-c", "mp.yaml"], home, project)
    assert done.returncode == 0, done.stderr
    run_id = done.stdout.split()[1]
    shown = cli(["runs", "show", run_id[:8]], home, project)
    assert "RESOURCE_OPEN" in shown.stdout
    assert "pid " in shown.stdout
    assert "top-s3cret" not in shown.stdout + done.stdout + done.stderr


def test_missing_launch_config_is_a_clean_error(project: Path) -> None:
    """Errors print the Outfitter message and exit 1, with no traceback unless --debug."""
    done = cli(["materialize", "-f", "pipeline.py"], project / "home", project)
    assert done.returncode == 1
    assert "resource 'store' needs launch config for: table" in done.stderr
    assert "Traceback" not in done.stderr
    debug = cli(["--debug", "materialize", "-f", "pipeline.py"], project / "home", project)
    assert "Traceback" in debug.stderr


def test_definitions_check(project: Path) -> None:
    """check passes for good definitions and lists every problem for bad ones."""
    ok = cli(["definitions", "check", "-f", "pipeline.py"], project / "home", project)
    assert ok.returncode == 0
    assert "OK: 2 asset(s)" in ok.stdout
    bad = cli(["definitions", "check", "-f", "broken.py"], project / "home", project)
    assert bad.returncode == 1
    assert "requires resource 'db', which is not bound. Did you mean 'dbb'?" in bad.stderr
    assert "requires resource 'cache', which is not bound" in bad.stderr


def test_resources_list_masks_secrets_and_names_users(project: Path) -> None:
    """resources list shows key, class, scope, redacted config and the assets using it."""
    done = cli(["resources", "list", "-f", "pipeline.py"], project / "home", project)
    assert done.returncode == 0, done.stderr
    assert "store" in done.stdout
    assert '{"env": "CLI_SECRET"}' in done.stdout
    assert "numbers" in done.stdout
    assert "top-s3cret" not in done.stdout


def test_loading_errors_are_explained(project: Path) -> None:
    """A missing file or a module without defs is a clear error."""
    missing = cli(["definitions", "check", "-f", "nope.py"], project / "home", project)
    assert "no such file: nope.py" in missing.stderr
    (project / "empty.py").write_text("x = 1\n")
    empty = cli(["definitions", "check", "-f", "empty.py"], project / "home", project)
    assert "has no Definitions object named `defs`" in empty.stderr
