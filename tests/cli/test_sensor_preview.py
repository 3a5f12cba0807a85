"""`outfitter sensors preview`: the sensor's log lines (INFO and up, masked) before what it
returned; requests with launch config by EnvVar name; a skip reason printed as text; an error
with the user's frames only; nothing launched or stored."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

import outfitter as of

SECRET = "hunter2-preview-token"

DEFS = """
import outfitter as of

class Catalog(of.ConfigurableResource):
    token: str

class Database(of.ConfigurableResource):
    table: str
    password: str = "x"

@of.asset
def users(db: Database) -> str:
    return db.table

@of.sensor(minimum_interval_seconds=30)
def tables(context, catalog: Catalog):
    context.log.info("asked the catalog with %s", catalog.token)
    context.log.warning("slow catalog [bold]answer[/bold]")
    context.log.debug("a debug line")
    context.update_cursor("7")
    yield of.RunRequest(
        run_key="users@1",
        tags={"table": "users"},
        run_config=of.RunConfig(
            resources={"db": Database(table="users", password=of.EnvVar("DB_PASSWORD"))}
        ),
    )

@of.sensor(minimum_interval_seconds=30)
def quiet(context):
    context.log.info("looked, found nothing")
    return of.SkipReason("nothing new [red]<script>[/red]")

@of.sensor(minimum_interval_seconds=30)
def broken(context, catalog: Catalog):
    context.log.info("about to fail")
    raise PermissionError(f"catalog refused token {catalog.token}")

defs = of.Definitions(
    assets=[users],
    sensors=[tables, quiet, broken],
    resources={
        "catalog": Catalog(token=of.EnvVar("CATALOG_TOKEN")),
        "db": Database.configure_at_launch(),
    },
)
"""


@pytest.fixture
def project(outfitter_cli: Any, outfitter_env: Any, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The test's directory (its home at ``home/``), holding defs.py, with the secrets set."""
    outfitter_cli.write("defs.py", DEFS)
    outfitter_env.set("CATALOG_TOKEN", SECRET)
    outfitter_env.set("DB_PASSWORD", "db-password-value")
    monkeypatch.chdir(outfitter_cli.cwd)
    return Path(outfitter_cli.cwd)


@pytest.fixture
def preview(outfitter_cli: Any) -> Callable[[str], tuple[int, str, str]]:
    """``preview(name)``: ``outfitter sensors preview -f defs.py NAME`` (exit code, stdout,
    stderr), in process (the plugin's outfitter_cli)."""

    def run(name: str) -> tuple[int, str, str]:
        result = outfitter_cli("sensors", "preview", "-f", "defs.py", name)
        return result.exit_code, result.stdout, result.stderr

    return run


def test_preview_prints_log_lines_then_requests(project: Path, preview: Any) -> None:
    """INFO and WARNING lines, masked and printed as text; no DEBUG; then the request and the
    cursor; nothing is launched or stored."""
    code, out, err = preview("tables")
    assert code == 0, err
    assert out.splitlines() == [
        "log INFO: asked the catalog with ***",
        "log WARNING: slow catalog [bold]answer[/bold]",
        "run request key='users@1' tags={'table': 'users'} "
        'config={"resources": {"db": {"config": '
        '{"password": {"env": "DB_PASSWORD"}, "table": "users"}}}}',
        "cursor would become '7'",
    ]
    assert SECRET not in out + err
    with of.Instance.local(project / "home") as instance:
        assert instance.get_runs() == []
        assert instance.get_ticks("tables") == []
        assert instance.get_instigator("tables") is None


def test_preview_prints_a_skip_reason_as_text(project: Path, preview: Any) -> None:
    code, out, err = preview("quiet")
    assert code == 0, err
    assert out.splitlines() == [
        "log INFO: looked, found nothing",
        "skip: nothing new [red]<script>[/red]",
    ]


def test_preview_of_a_raising_sensor_shows_its_log_and_user_frames_masked(
    project: Path, preview: Any
) -> None:
    code, out, err = preview("broken")
    assert code == 1
    assert out.splitlines() == ["log INFO: about to fail"]
    assert "Error: sensor 'broken' raised PermissionError: catalog refused token ***" in err
    assert ", in broken" in err
    assert "defs.py" in err
    assert "_definitions" not in err
    assert "Traceback" not in err
    assert "Hint: fix the sensor (run with --debug for the full traceback)." in err
    assert SECRET not in out + err


def test_preview_of_an_unknown_sensor_suggests_a_name(project: Path, preview: Any) -> None:
    code, _, err = preview("tabels")
    assert code == 1
    assert "no sensor named 'tabels'. Did you mean 'tables'?" in err
