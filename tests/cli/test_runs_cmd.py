"""`outfitter runs list / show`, `resources list` and `materialize --job / --select`, in process
(typer's runner) on a Console 80 columns wide: short ids, folded columns, --json, run-id
prefixes, failure tracebacks and --follow."""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from outfitter import Instance
from outfitter._instance import EventType, RunStatus

LONG_JOB = "nightly_warehouse_refresh_job"

DEFS = f"""
import outfitter as of

class Store(of.ConfigurableResource):
    table: str
    password: str

@of.asset
def raw(store: Store) -> int:
    return 1

@of.asset
def clean(raw: int) -> int:
    return raw + 1

@of.asset
def report(clean: int) -> int:
    return clean + 1

@of.asset
def fragile() -> int:
    raise ValueError("upstream file is empty")

@of.op
def hello() -> int:
    return 1

@of.job(name="{LONG_JOB}")
def nightly():
    hello()

only_clean = of.define_asset_job("only_clean", selection=[raw, clean])

defs = of.Definitions(
    assets=[raw, clean, report, fragile],
    jobs=[nightly, only_clean],
    resources={{"store": Store(table="sales", password=of.EnvVar("RUNS_CMD_SECRET"))}},
)
"""


@pytest.fixture
def project(outfitter_cli: Any, outfitter_env: Any, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The test's directory (its home at ``home/``), holding defs.py."""
    outfitter_cli.write("defs.py", DEFS)
    outfitter_env.set("RUNS_CMD_SECRET", "hunter2-secret")
    monkeypatch.chdir(outfitter_cli.cwd)
    return Path(outfitter_cli.cwd)


def run_id_of(result: Any) -> str:
    assert result.stdout.startswith("run "), result.output
    return str(result.stdout.split()[1])


def test_materialize_select_syntax_runs_the_selected_assets(project: Path, invoke: Any) -> None:
    """--select takes Dagster's syntax; only the selected assets materialize."""
    done = invoke("materialize", "-f", "defs.py", "--select", "*clean")
    assert done.exit_code == 0, done.output
    with Instance.local(project / "home") as instance:
        events = instance.all_events(run_id_of(done), event_type=EventType.STEP_SUCCESS)
    assert [e.step_key for e in events] == ["raw", "clean"]


def test_materialize_job_runs_ops_and_asset_jobs_by_name(project: Path, invoke: Any) -> None:
    """--job runs an ops job or an asset job of the Definitions, recorded under its name."""
    for name, steps in ((LONG_JOB, ["hello"]), ("only_clean", ["raw", "clean"])):
        done = invoke("materialize", "-f", "defs.py", "--job", name)
        assert done.exit_code == 0, done.output
        with Instance.local(project / "home") as instance:
            run = instance.get_run(run_id_of(done))
            events = instance.all_events(run_id_of(done), event_type=EventType.STEP_SUCCESS)
        assert run is not None
        assert run.job_name == name
        assert [e.step_key for e in events] == steps


def test_materialize_prints_the_failing_steps_user_traceback(project: Path, invoke: Any) -> None:
    """A failing step's traceback shows the user's frames; --debug adds Outfitter's."""
    done = invoke("materialize", "-f", "defs.py", "--select", "fragile")
    assert done.exit_code == 1
    assert "step 'fragile' failed: ValueError: upstream file is empty" in done.stderr
    assert 'defs.py", line' in done.stderr
    assert "outfitter/_execution" not in done.stderr
    debug = invoke("--debug", "materialize", "-f", "defs.py", "--select", "fragile")
    assert debug.exit_code == 1
    assert "outfitter/_execution" in debug.stderr


def test_runs_list_at_80_columns_shows_short_ids_and_whole_job_names(
    project: Path, invoke: Any
) -> None:
    """Ids are their first 8 characters; job names are not cut; no line is wider than 80."""
    ids = [run_id_of(invoke("materialize", "-f", "defs.py", "--job", LONG_JOB))]
    ids.append(run_id_of(invoke("materialize", "-f", "defs.py", "--select", "raw")))
    listed = invoke("runs", "list")
    assert listed.exit_code == 0, listed.output
    for run_id in ids:
        assert run_id[:8] in listed.stdout
        assert run_id not in listed.stdout
    assert LONG_JOB in listed.stdout
    assert "__materialize__" in listed.stdout
    assert "…" not in listed.stdout
    assert max(len(line) for line in listed.stdout.splitlines()) <= 80


def test_long_job_names_fold_instead_of_being_cut(project: Path, invoke: Any) -> None:
    """A job name wider than its column wraps onto the next lines, every character kept."""
    name = "a_job_name_" + "x" * 70
    with Instance.local(project / "home") as instance:
        instance.create_run(name, run_id="f" * 32)
    listed = invoke("runs", "list")
    assert "…" not in listed.stdout
    lines = listed.stdout.splitlines()
    start, end = lines[0].index("job"), lines[0].index("status")
    assert "".join(line[start:end].strip() for line in lines[2:]) == name
    assert max(len(line) for line in listed.stdout.splitlines()) <= 80


def test_runs_list_and_show_json(project: Path, invoke: Any) -> None:
    """--json prints one document with stable keys."""
    run_id = run_id_of(invoke("materialize", "-f", "defs.py", "--select", "raw"))
    listed = json.loads(invoke("runs", "list", "--json").stdout)
    (run,) = listed["runs"]
    assert list(run) == [
        "run_id",
        "job_name",
        "status",
        "start_time",
        "end_time",
        "duration",
        "tags",
        "run_config",
    ]
    assert run["run_id"] == run_id
    assert run["status"] == "SUCCESS"
    shown = json.loads(invoke("runs", "show", run_id[:6], "--json").stdout)
    assert shown["run"] == run
    assert shown["events"][0]["event_type"] == "RUN_START"
    assert list(shown["events"][0]) == [
        "id",
        "timestamp",
        "event_type",
        "step_key",
        "resource_key",
        "message",
        "duration",
        "data",
    ]


def test_resources_list_json_masks_secrets_as_the_table_does(project: Path, invoke: Any) -> None:
    """resources list --json shows the EnvVar by name, as the table does, never its value."""
    table = invoke("resources", "list", "-f", "defs.py")
    shown = invoke("resources", "list", "-f", "defs.py", "--json")
    assert table.exit_code == 0, table.output
    assert shown.exit_code == 0, shown.output
    data = json.loads(shown.stdout)
    (store,) = [r for r in data["resources"] if r["key"] == "store"]
    assert list(store) == ["key", "class", "scope", "config", "used_by"]
    assert store["used_by"] == ["raw"]
    assert store["config"]["table"] == "sales"
    config = json.dumps(store["config"])
    assert "RUNS_CMD_SECRET" in config
    assert "RUNS_CMD_SECRET" in "".join(table.stdout.split())
    assert "hunter2" not in shown.stdout + table.stdout


def test_an_ambiguous_prefix_lists_the_candidates(project: Path, invoke: Any) -> None:
    """Two runs starting with the prefix: both are listed with job, status and start time,
    and the message asks for more characters (issue 12: `runs show 1` said `no run '1'`)."""
    with Instance.local(project / "home") as instance:
        instance.create_run("first_job", run_id="1" + "a" * 31)
        instance.create_run("second_job", run_id="1" + "b" * 31)
    shown = invoke("runs", "show", "1")
    assert shown.exit_code == 1
    assert "run id '1' is ambiguous: 2 runs start with it" in shown.stderr
    assert f"{'1' + 'a' * 31}  first_job  QUEUED  started -" in shown.stderr
    assert f"{'1' + 'b' * 31}  second_job  QUEUED  started -" in shown.stderr
    assert "give more characters of the run id" in shown.stderr
    assert "Traceback" not in shown.output
    assert invoke("runs", "show", "1a").exit_code == 0


def test_an_unknown_run_id_says_so_and_suggests_runs_list(project: Path, invoke: Any) -> None:
    """An id no run has is named, with a pointer to `outfitter runs list`."""
    shown = invoke("runs", "show", "deadbeef")
    assert shown.exit_code == 1
    assert "no run 'deadbeef' in this instance" in shown.stderr
    assert "outfitter runs list" in shown.stderr


def test_runs_show_prints_each_failures_traceback(project: Path, invoke: Any) -> None:
    """runs show prints the user frames of a failed step; --debug the whole traceback."""
    run_id = run_id_of(invoke("materialize", "-f", "defs.py", "--select", "fragile"))
    shown = invoke("runs", "show", run_id[:8])
    assert shown.exit_code == 0, shown.output
    assert "STEP_FAILURE fragile: ValueError: upstream file is empty" in shown.stderr
    assert shown.stderr.count('defs.py", line') == 1  # the run failure's copy is not repeated
    assert "outfitter/_execution" not in shown.stderr
    debug = invoke("--debug", "runs", "show", run_id[:8])
    assert "outfitter/_execution" in debug.stderr


def test_runs_show_without_traceback_data_still_shows_the_failure(
    project: Path, invoke: Any
) -> None:
    """A failure event recorded without traceback data (older runs) prints its message."""
    with Instance.local(project / "home") as instance:
        instance.create_run("old", run_id="0" * 32)
        instance.report_event("0" * 32, EventType.STEP_FAILURE, step_key="s", message="it broke")
        instance.flush()
    shown = invoke("runs", "show", "0000")
    assert shown.exit_code == 0, shown.output
    assert "STEP_FAILURE s: it broke" in shown.stderr


def test_follow_prints_events_until_the_run_ends(project: Path, invoke: Any) -> None:
    """--follow prints events as another process records them and stops when the run ends."""
    run_id = "c" * 32
    with Instance.local(project / "home") as instance:
        instance.create_run("live", run_id=run_id, status=RunStatus.STARTED)
    started = threading.Event()

    def writer() -> None:
        with Instance.local(project / "home") as other:
            started.wait(10)
            for step in ("one", "two"):
                other.report_event(run_id, EventType.STEP_START, step_key=step, message="")
                other.flush()
                time.sleep(0.05)
            other.report_event(run_id, EventType.RUN_SUCCESS, message="live")
            other.flush()
            other.set_run_status(run_id, RunStatus.SUCCESS)

    thread = threading.Thread(target=writer)
    thread.start()
    started.set()
    try:
        shown = invoke("runs", "show", "cccc", "--follow", "--poll", "0.01")
    finally:
        thread.join(10)
    assert shown.exit_code == 0, shown.output
    lines = shown.stdout.splitlines()
    assert lines[0] == f"run {run_id}  job live"
    assert [line.split()[1:3] for line in lines[1:3]] == [
        ["STEP_START", "one"],
        ["STEP_START", "two"],
    ]
    assert lines[3].split()[1] == "RUN_SUCCESS"
    assert lines[-1] == f"run {run_id} SUCCESS"


def test_json_is_printed_as_is(project: Path, invoke: Any) -> None:
    """Markup, emoji codes and long values reach the JSON document unchanged and unwrapped."""
    name = ":smile: [bold]x[/bold] " + "y" * 120
    with Instance.local(project / "home") as instance:
        instance.create_run(name, run_id="e" * 32)
    listed = invoke("runs", "list", "--json")
    assert json.loads(listed.stdout)["runs"][0]["job_name"] == name
