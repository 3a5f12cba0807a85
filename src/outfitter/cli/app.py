"""Commands: materialize, definitions check, resources list, runs list / show."""

from __future__ import annotations

import json
import math
import sys
import time
import traceback
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

import typer
import yaml
from rich import box
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table
from rich.text import Text

from .. import _loading
from .._config.run_config import load_run_config_yaml
from .._definitions.definitions import IMPLICIT_ASSET_JOB, Definitions
from .._instance import EventType, Instance, RunStatus
from .._loading import user_frames
from ..exceptions import ConfigError, InvocationError, OutfitterError
from .config_cmd import config_app
from .ui_cmd import HostOpt, PortOpt

__all__ = ["app", "main"]

app = typer.Typer(
    name="outfitter",
    help="Run and inspect Outfitter definitions.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
definitions_app = typer.Typer(help="Check definitions.", no_args_is_help=True)
resources_app = typer.Typer(help="Inspect resources.", no_args_is_help=True)
runs_app = typer.Typer(help="Inspect recorded runs.", no_args_is_help=True)
app.add_typer(definitions_app, name="definitions")
app.add_typer(resources_app, name="resources")
app.add_typer(runs_app, name="runs")
sensors_app = typer.Typer(help="List, start, stop and preview sensors.", no_args_is_help=True)
schedules_app = typer.Typer(help="List, start and stop schedules.", no_args_is_help=True)
app.add_typer(sensors_app, name="sensors")
app.add_typer(schedules_app, name="schedules")
app.add_typer(config_app, name="config")

out = Console(highlight=False)
err = Console(stderr=True, highlight=False)
_STATE = {"debug": False}

FileOpt = Annotated[Path | None, typer.Option("--file", "-f", help="Python file defining `defs`.")]
ModuleOpt = Annotated[str | None, typer.Option("--module", "-m", help="Module defining `defs`.")]


def _show_version(value: bool) -> None:
    if value:
        from importlib.metadata import PackageNotFoundError, version

        try:
            number = version("outfitter")
        except PackageNotFoundError:  # running from a source tree that is not installed
            number = "unknown"
        out.print(f"outfitter {number}", markup=False)
        raise typer.Exit()


@app.callback()
def _root(
    debug: Annotated[bool, typer.Option("--debug", help="Show tracebacks.")] = False,
    version: Annotated[
        bool,
        typer.Option(
            "--version", help="Print the version and exit.", callback=_show_version, is_eager=True
        ),
    ] = False,
    log_format: Annotated[
        str,
        typer.Option(
            "--log-format",
            help="How run and daemon logs are printed on stderr: rich (default) or json "
            "(one object per line: time, level, logger, message, run_id, step).",
        ),
    ] = "rich",
) -> None:
    from .._execution.logs import set_log_format

    _STATE["debug"] = debug
    with _errors():
        set_log_format(log_format.lower())


def _fail(message: str) -> None:
    """Print an error message (as text: brackets in it are not markup) to stderr."""
    line = Text("Error: ", style="bold red")
    line.append(message)
    err.print(line, soft_wrap=True)


@contextmanager
def _errors() -> Iterator[None]:
    try:
        yield
    except OutfitterError as exc:
        if _STATE["debug"]:
            raise
        _fail(str(exc))
        raise typer.Exit(1) from None


def _user_frames(exc: BaseException) -> str:
    return user_frames(exc)


def load_definitions(file: Path | None, module: str | None) -> Definitions:
    """The ``defs`` object of a file or module (raises InvocationError saying what is wrong)."""
    return _loading.load_definitions(file, module, debug=_STATE["debug"])


def _load_module(file: Path | None, module: str | None) -> tuple[Any, str]:
    return _loading.load_module(file, module, debug=_STATE["debug"])


class _ProgressInstance:
    """An instance that also advances a progress bar as steps finish."""

    def __init__(self, instance: Instance, progress: Progress, task: Any) -> None:
        self._instance = instance
        self._progress = progress
        self._task = task
        self.run_id: str | None = None

    def create_run(self, job_name: str, **kwargs: Any) -> Any:
        record = self._instance.create_run(job_name, **kwargs)
        self.run_id = record.run_id
        return record

    def record_events(self, run_id: str, events: list[tuple[Any, ...]]) -> None:
        self._instance.record_events(run_id, events)
        for event in events:
            if event[1] in (EventType.STEP_SUCCESS, EventType.STEP_FAILURE):
                self._progress.advance(self._task)
                self._progress.update(self._task, description=f"{event[2]}")

    def report_event(self, run_id: str, event_type: EventType, **kwargs: Any) -> None:
        self._instance.report_event(run_id, event_type, **kwargs)
        if event_type in (EventType.STEP_FAILURE, EventType.STEP_SKIPPED):
            self._progress.advance(self._task)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._instance, name)


def _progress() -> Progress:
    return Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=err,
        transient=True,
        disable=not err.is_terminal,
    )


def _with_config_file(config: Path | None) -> Any:
    """A context in which a run config ConfigError names the file it came from."""

    @contextmanager
    def naming() -> Iterator[None]:
        try:
            yield
        except ConfigError as exc:
            if config is None:
                raise
            raise ConfigError(
                f"{exc.summary} (run config {config})", problems=exc.problems, hint=exc.hint
            ) from None

    return naming()


def _error_traceback(error: BaseException | None, data: Any) -> str:
    """The traceback to show for a failure: the user's frames (every frame with ``--debug``),
    from the recorded event data when there is one, else from the exception."""
    if isinstance(data, dict):
        text = data.get("traceback" if _STATE["debug"] else "user_traceback")
        text = text or data.get("user_traceback") or data.get("traceback")
        if isinstance(text, str) and text.strip():
            return text.rstrip()
    if error is None or error.__traceback__ is None:
        return ""
    if _STATE["debug"]:
        return "".join(traceback.format_exception(error)).rstrip()
    frames = _user_frames(error).rstrip()
    return f"Traceback (user code):\n{frames}" if frames else ""


def _failure_events(events: list[Any]) -> dict[str, Any]:
    return {
        e.step_key: e.data for e in events if e.event_type == EventType.STEP_FAILURE and e.step_key
    }


def _print_run_outcome(result: Any) -> None:
    status = "[green]SUCCESS[/]" if result.success else "[red]FAILURE[/]"
    out.print(f"run {result.run_id} {status}", markup=True)
    recorded = _failure_events(list(result.all_events)) if result.failures else {}
    for failure in result.failures.values():
        err.print(f"  step {failure.step_key!r} failed: {failure.message}", markup=False)
        text = _error_traceback(failure.error, recorded.get(failure.step_key))
        if text:
            err.print(text, markup=False, highlight=False, soft_wrap=True)
    if result.teardown_error is not None:
        err.print(str(result.teardown_error), markup=False)
    if result.run_error is not None and isinstance(result.run_error, OutfitterError):
        err.print(str(result.run_error), markup=False)


@app.command()
def materialize(
    file: FileOpt = None,
    module: ModuleOpt = None,
    select: Annotated[
        list[str] | None,
        typer.Option(
            "--select",
            "-s",
            help="Assets to materialize: names, comma lists, *name (and everything upstream), "
            "+name (one level up), name+ / name* (down).",
        ),
    ] = None,
    job: Annotated[
        str | None, typer.Option("--job", "-j", help="Run this job of the Definitions.")
    ] = None,
    config: Annotated[
        Path | None, typer.Option("--config", "-c", help="Run config (YAML or JSON).")
    ] = None,
) -> None:
    """Materialize assets (all, or --select ones), or run one --job, on the local instance
    (OUTFITTER_HOME), with the Definitions' executor (or the run config's `execution`)."""
    from .._definitions.selection import parse_asset_selection
    from .._execution.materialize import materialize as run_materialize

    with _errors():
        if job is not None and select:
            raise InvocationError(
                "give --job or --select, not both",
                hint="a job runs its own assets or ops; --select picks assets of `defs`.",
            )
        defs = load_definitions(file, module)
        job_def = defs.get_job_def(job) if job is not None else None
        keys = parse_asset_selection(select, defs.assets) if select else None
        run_config = _read_config(config)
        if job_def is not None:
            count = len(job_def.nodes)
        else:
            count = len(keys) if keys is not None else len(defs.assets)
        with Instance.get() as instance, _with_config_file(config):
            progress = _progress()
            with progress:
                task = progress.add_task("starting", total=count)
                recording = _ProgressInstance(instance, progress, task)
                if job_def is not None:
                    result = job_def.execute(
                        run_config=run_config, instance=recording, raise_on_error=False
                    )
                else:
                    result = run_materialize(
                        defs.assets,
                        resources=defs._resources,
                        run_config=run_config,
                        instance=recording,
                        selection=keys,
                        raise_on_error=False,
                        executor=defs.executor,
                    )
            _print_run_outcome(result)  # reads the failures' events from the instance
        if not result.success:
            raise typer.Exit(1)


def _param_value(text: str) -> Any:
    """A ``--param`` value: a YAML scalar (``5`` is an int, ``true`` a bool, ``~`` None);
    anything else (a list, a mapping, a date, text YAML cannot read) stays the string given."""
    try:
        value = yaml.safe_load(text)
    except yaml.YAMLError:
        return text
    if value is None:
        return None if text.strip() in ("~", "null", "Null", "NULL") else text
    return value if isinstance(value, (str, int, float, bool)) else text


def _parse_params(params: list[str]) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for item in params:
        name, sep, raw = item.partition("=")
        name = name.strip()
        if not sep or not name:
            raise InvocationError(
                f"--param {item!r} is not NAME=VALUE", hint="e.g. --param n=5 --param label=daily."
            )
        if name in values:
            raise InvocationError(f"--param {name!r} given twice", hint="give each parameter once.")
        values[name] = _param_value(raw)
    return values


def _find_flow(loaded: Any, where: str, name: str | None) -> Any:
    return _loading.find_flow(loaded, where, name)


@app.command("run-flow")
def run_flow_cmd(
    file: FileOpt = None,
    module: ModuleOpt = None,
    flow_name: Annotated[
        str | None, typer.Option("--flow", help="The flow's name (when the file has several).")
    ] = None,
    param: Annotated[
        list[str] | None,
        typer.Option("--param", "-p", help="A parameter as NAME=VALUE (VALUE a YAML scalar)."),
    ] = None,
    config: Annotated[
        Path | None, typer.Option("--config", "-c", help="Run config (YAML or JSON).")
    ] = None,
) -> None:
    """Run a Flow defined in a file or module, recorded on the local instance; exit 1 if it
    fails."""
    with _errors():
        values = _parse_params(param or [])
        loaded, where = _load_module(file, module)
        flow = _find_flow(loaded, where, flow_name)
        run_config = _read_config(config)
        with Instance.get() as instance, _with_config_file(config):
            progress = _progress()
            with progress:
                task = progress.add_task("starting", total=None)
                recording = _ProgressInstance(instance, progress, task)
                state = flow.run(parameters=values, instance=recording, run_config=run_config)
            events = instance.all_events(recording.run_id) if recording.run_id else []
        ok = state.is_successful()
        status = "[green]SUCCESS[/]" if ok else "[red]FAILURE[/]"
        out.print(f"run {recording.run_id} {status}", markup=True)
        if not ok:
            recorded = _failure_events(events)
            results = state.result if isinstance(state.result, dict) else {}
            for task_obj, task_state in results.items():
                if not task_state.is_failed():
                    continue
                label = getattr(task_obj, "name", str(task_obj))
                err.print(f"  task {label!r} failed: {task_state.message}", markup=False)
                error = task_state.result if isinstance(task_state.result, BaseException) else None
                data = next((d for k, d in recorded.items() if k.startswith(label)), None)
                text = _error_traceback(error, data)
                if text:
                    err.print(text, markup=False, highlight=False, soft_wrap=True)
            if not results:
                err.print(f"  {state.message}", markup=False)
            raise typer.Exit(1)


def _read_config(path: Path | None) -> Any:
    """The run config file at ``path`` as data: YAML, or JSON for ``.json`` files. Every way
    it can be unreadable is a ConfigError naming the file (and the line and column)."""
    if path is None:
        return None
    if path.is_dir():
        raise ConfigError(f"run config {path} is a directory", hint="pass a YAML or JSON file.")
    if not path.is_file():
        raise InvocationError(f"no such run config file: {path}", hint="check --config.")
    fix = "fix the file: run config is a mapping with `resources`, `ops` and `execution`."
    try:
        text = path.read_text(encoding="utf-8")
        data = json.loads(text) if path.suffix == ".json" else load_run_config_yaml(text)
    except UnicodeDecodeError as exc:
        raise ConfigError(f"run config {path} is not UTF-8 text ({exc.reason})", hint=fix) from None
    except json.JSONDecodeError as exc:
        raise ConfigError(
            f"run config {path}, line {exc.lineno}, column {exc.colno}: {exc.msg}", hint=fix
        ) from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        place = f", line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""
        problem = getattr(exc, "problem", None) or str(exc)
        raise ConfigError(f"run config {path}{place}: {problem}", hint=fix) from None
    except RecursionError:
        raise ConfigError(f"run config {path} is nested too deeply", hint=fix) from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ConfigError(
            f"run config {path} holds a {type(data).__name__}, not a mapping", hint=fix
        )
    return data


@definitions_app.command("check")
def definitions_check(file: FileOpt = None, module: ModuleOpt = None) -> None:
    """Load and validate the definitions; exit 1 listing every problem."""
    with _errors():
        defs = load_definitions(file, module)
        keys = len(_bindings(defs))
        out.print(f"OK: {len(defs.assets)} asset(s), {len(defs.jobs)} job(s), {keys} resource(s)")


@definitions_app.command("list")
def definitions_list(
    file: FileOpt = None, module: ModuleOpt = None, as_json: JsonOpt = False
) -> None:
    """Assets (key, group, upstream assets, resources) and jobs (name, steps)."""
    with _errors():
        defs = load_definitions(file, module)
        assets = [
            {
                "key": key.to_user_string(),
                "group": group,
                "upstream": sorted({k.to_user_string() for k in (*a.input_keys.values(), *a.deps)}),
                "resources": sorted(a.resource_keys),
            }
            for a in defs.assets
            for key, group in a.group_names_by_key.items()  # a multi_asset has several keys
        ]
        jobs: list[dict[str, Any]] = [
            {"name": j.name, "steps": [n.key for n in j.nodes]}
            for j in defs.jobs
            if j.name != IMPLICIT_ASSET_JOB
        ]
        if as_json:
            _print_json({"assets": assets, "jobs": jobs})
            return
        table = Table("asset", "group", "upstream", "resources")
        for row in sorted(assets, key=lambda r: (r["group"], r["key"])):
            table.add_row(
                row["key"], row["group"], ", ".join(row["upstream"]), ", ".join(row["resources"])
            )
        out.print(table)
        if jobs:
            job_table = Table("job", "steps")
            for job_row in jobs:
                job_table.add_row(job_row["name"], ", ".join(job_row["steps"]))
            out.print(job_table)


def _bindings(defs: Definitions) -> dict[str, Any]:
    from .._resources.bindings import resource_bindings

    return resource_bindings(defs._resources)


JsonOpt = Annotated[bool, typer.Option("--json", help="Print one JSON document instead.")]


def _print_json(data: Any) -> None:
    """One JSON document on stdout, as it is: no wrapping, markup, emoji codes or colour."""
    out.file.write(json.dumps(data, indent=2, default=str) + "\n")
    out.file.flush()


@resources_app.command("list")
def resources_list(
    file: FileOpt = None, module: ModuleOpt = None, as_json: JsonOpt = False
) -> None:
    """Resources by key: class, scope, config (EnvVar names shown, secrets masked), users."""
    from .._resources.configurable import redacted_config
    from .._resources.spec import ResourcePlan

    with _errors():
        defs = load_definitions(file, module)
        plan = ResourcePlan(_bindings(defs))
        users: dict[str, list[str]] = {}
        for job in defs.jobs:
            for node in job.nodes:
                label = node.asset_key.to_user_string() if node.asset_key else node.key
                for key in node.resource_keys:
                    users.setdefault(key, [])
                    if label not in users[key]:
                        users[key].append(label)
        rows = [
            {
                "key": key,
                "class": plan.specs[key].label,
                "scope": str(plan.specs[key].scope),
                "config": redacted_config(plan.specs[key].source),
                "used_by": sorted(users.get(key, [])),
            }
            for key in plan.order
        ]
        if as_json:
            _print_json({"resources": rows})
            return
        table = Table("key", "class", "scope", "config", "used by")
        for column in table.columns:
            column.overflow = "fold"
        for row in rows:
            table.add_row(
                row["key"],
                row["class"],
                row["scope"],
                json.dumps(row["config"], default=str),
                ", ".join(row["used_by"]),
            )
        out.print(table)


def _when(ts: float | None) -> str:
    if ts is None:
        return "-"
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%d %H:%M:%S")


SHORT_ID = 8
"""Characters of a run id shown in tables (as Dagster's UI shows them); any unambiguous
prefix finds the run."""


def _duration(run: Any) -> float | None:
    if run.start_time is None or run.end_time is None:
        return None
    return float(run.end_time - run.start_time)


def _run_json(run: Any) -> dict[str, Any]:
    return {
        "run_id": run.run_id,
        "job_name": run.job_name,
        "status": run.status.value,
        "start_time": run.start_time,
        "end_time": run.end_time,
        "duration": _duration(run),
        "tags": run.tags,
        "run_config": run.run_config,
    }


def _event_json(event: Any) -> dict[str, Any]:
    return {
        "id": event.id,
        "timestamp": event.timestamp,
        "event_type": event.event_type.value,
        "step_key": event.step_key,
        "resource_key": event.resource_key,
        "message": event.message,
        "duration": event.duration,
        "data": event.data,
    }


@runs_app.command("list")
def runs_list(
    limit: Annotated[
        int, typer.Option("--limit", "-n", help="How many runs.", min=1, max=1_000_000)
    ] = 20,
    status: Annotated[str | None, typer.Option(help="Only runs with this status.")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Recent runs of the local instance (ids shortened to 8 characters; `runs show` takes
    any unambiguous prefix)."""
    with _errors():
        wanted = None
        if status is not None:
            try:
                wanted = RunStatus(status.upper())
            except ValueError:
                raise InvocationError(
                    f"unknown status {status!r}",
                    hint=f"use one of {', '.join(s.value for s in RunStatus)}.",
                ) from None
        with Instance.get() as instance:
            runs = instance.get_runs(limit=limit, status=wanted)
        if as_json:
            _print_json({"runs": [_run_json(r) for r in runs]})
            return
        table = Table(box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False, collapse_padding=True)
        table.add_column("run id", no_wrap=True, min_width=SHORT_ID)
        table.add_column("job", overflow="fold", ratio=1)
        table.add_column("status", no_wrap=True)
        table.add_column("started (UTC)", overflow="fold")
        table.add_column("duration", no_wrap=True, justify="right")
        for run in runs:
            took = _duration(run)
            table.add_row(
                run.run_id[:SHORT_ID],
                run.job_name,
                run.status.value,
                _when(run.start_time),
                "-" if took is None else f"{took:.3f}s",
            )
        out.print(table)


def _find_run(instance: Instance, run_id: str) -> Any:
    """The run whose id is ``run_id`` or starts with it; an InvocationError when none does or
    when several do (listing them)."""
    run = instance.get_run(run_id)
    if run is not None:
        return run
    matches = [r for r in instance.get_runs() if r.run_id.startswith(run_id)] if run_id else []
    if len(matches) == 1:
        return matches[0]
    if not matches:
        raise InvocationError(
            f"no run {run_id!r} in this instance",
            hint="list runs with `outfitter runs list`.",
        )
    shown = matches[:10]
    lines = [
        f"{r.run_id}  {r.job_name}  {r.status.value}  started {_when(r.start_time)}" for r in shown
    ]
    if len(matches) > len(shown):
        lines.append(f"... and {len(matches) - len(shown)} more")
    raise InvocationError(
        f"run id {run_id!r} is ambiguous: {len(matches)} runs start with it",
        problems=lines,
        hint="give more characters of the run id.",
    )


_FAILURES = (EventType.STEP_FAILURE, EventType.RESOURCE_FAILURE, EventType.RUN_FAILURE)


def _events_after(instance: Any, run_id: str, cursor: int) -> tuple[list[Any], int]:
    """The run's events recorded after ``cursor`` and the cursor to ask from next."""
    method = getattr(instance, "events_after", None)
    if method is not None:
        events, new_cursor = method(run_id, cursor)
        return list(events), int(new_cursor)
    events = [e for e in instance.all_events(run_id) if e.id > cursor]
    return events, max((e.id for e in events), default=cursor)


def _print_failure(event: Any, shown: set[str]) -> None:
    """A failure event and its traceback (one already printed, as a run failure repeating
    its step's, is not printed again)."""
    where = event.step_key or event.resource_key or "run"
    line = Text(f"{event.event_type.value} {where}: ", style="bold red")
    line.append(event.message)
    err.print(line, soft_wrap=True)
    text = _error_traceback(None, event.data)
    if text and text not in shown:
        shown.add(text)
        err.print(text, markup=False, highlight=False, soft_wrap=True)


@runs_app.command("show")
def runs_show(
    run_id: Annotated[str, typer.Argument(help="The run's id or an unambiguous prefix of it.")],
    as_json: JsonOpt = False,
    follow: Annotated[
        bool, typer.Option("--follow", help="Print events as they happen until the run ends.")
    ] = False,
    poll: Annotated[
        float, typer.Option(help="Seconds between looks at a followed run.", min=0.01)
    ] = 0.5,
) -> None:
    """One run and its events, with timings, and the traceback of each failure (user frames;
    every frame with --debug)."""
    with _errors():
        if follow and as_json:
            raise InvocationError(
                "--follow and --json do not go together",
                hint="--json prints a finished document; drop one of them.",
            )
        with Instance.get() as instance:
            run = _find_run(instance, run_id)
            if follow:
                _follow(instance, run, poll)
                return
            events = instance.all_events(run.run_id)
        if as_json:
            _print_json({"run": _run_json(run), "events": [_event_json(e) for e in events]})
            return
        out.print(f"run {run.run_id}  job {run.job_name}  status {run.status.value}", markup=False)
        out.print(f"tags {json.dumps(run.tags)}", markup=False, soft_wrap=True)
        out.print(
            f"run config {json.dumps(run.run_config, default=str)}", markup=False, soft_wrap=True
        )
        start = events[0].timestamp if events else time.time()
        table = Table(box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False, collapse_padding=True)
        table.add_column("+ms", justify="right", no_wrap=True)
        table.add_column("event", no_wrap=True)
        for name in ("step", "resource"):
            table.add_column(name, overflow="fold")
        table.add_column("duration", justify="right", no_wrap=True)
        table.add_column("message", overflow="fold", ratio=1)
        for e in events:
            table.add_row(
                f"{(e.timestamp - start) * 1e3:.1f}",
                e.event_type.value,
                e.step_key or "",
                e.resource_key or "",
                "" if e.duration is None else f"{e.duration * 1e3:.2f}ms",
                e.message,
            )
        out.print(table)
        shown: set[str] = set()
        for e in events:
            if e.event_type in _FAILURES:
                _print_failure(e, shown)


def _follow(instance: Instance, run: Any, poll: float) -> None:
    """Print the run's events as they are recorded, until it has ended and every event is
    printed."""
    out.print(f"run {run.run_id}  job {run.job_name}", markup=False)
    cursor = 0
    start: float | None = None
    shown: set[str] = set()
    while True:
        current = instance.get_run(run.run_id) or run
        events, cursor = _events_after(instance, run.run_id, cursor)
        for e in events:
            start = e.timestamp if start is None else start
            where = e.step_key or e.resource_key or ""
            line = f"+{(e.timestamp - start) * 1e3:.1f}ms {e.event_type.value} {where} {e.message}"
            out.print(line.rstrip(), markup=False, soft_wrap=True)
            if e.event_type in _FAILURES:
                text = _error_traceback(None, e.data)
                if text and text not in shown:
                    shown.add(text)
                    err.print(text, markup=False, highlight=False, soft_wrap=True)
        if current.status.is_finished and not events:
            out.print(f"run {run.run_id} {current.status.value}", markup=False)
            return
        if not events:
            time.sleep(poll)


@app.command()
def daemon(
    file: FileOpt = None,
    module: ModuleOpt = None,
    poll: Annotated[float, typer.Option(help="Seconds between ticks.")] = 1.0,
    max_ticks: Annotated[
        int | None, typer.Option(help="Stop after this many ticks (default: run until stopped).")
    ] = None,
) -> None:
    """Evaluate running sensors and schedules and launch their runs, until SIGTERM / Ctrl-C."""
    from .._daemon import Daemon

    with _errors():
        if not math.isfinite(poll) or poll <= 0:
            raise InvocationError(
                f"--poll must be a positive number of seconds, got {poll}",
                hint="e.g. --poll 1 (the default) or --poll 0.5.",
            )
        defs = load_definitions(file, module)
        with Instance.get() as instance, _daemon_log():
            names = [d.name for d in [*defs.sensors, *defs.schedules]]
            err.print(f"daemon started: {', '.join(names) or 'no sensors or schedules'}")
            daemon = Daemon(defs, instance, poll_interval=poll, debug=_STATE["debug"])
            daemon.run(max_ticks=max_ticks)
            err.print("daemon stopped")


@contextmanager
def _daemon_log() -> Iterator[None]:
    """The daemon announces its runs and failed ticks through the ``outfitter.daemon`` logger;
    when nothing else handles Outfitter's logs, print them (INFO and up) on stderr."""
    import logging

    logger = logging.getLogger("outfitter.daemon")
    handled = logging.getLogger("outfitter").handlers or logging.getLogger().handlers
    if handled or logger.handlers:
        yield
        return
    from .._execution.logs import JsonFormatter, log_format

    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(
        JsonFormatter()
        if log_format() == "json"
        else logging.Formatter("%(asctime)s %(levelname)s %(message)s")
    )
    level = logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG if _STATE["debug"] else logging.INFO)
    try:
        yield
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)


def _instigators(defs: Definitions, kind: str) -> list[Any]:
    return list(defs.sensors if kind == "sensor" else defs.schedules)


def _instigator_kind(definition: Any) -> str:
    """What kind of sensor it is (``asset``, ``multi_asset``, ``run_status FAILURE``, ...) or
    ``cron`` for a schedule, as ``sensors list`` shows it."""
    if definition.kind == "schedule":
        return "cron"
    status = getattr(definition, "run_status", None)
    if status is not None:
        watched = getattr(definition, "monitored_job_names", ())
        return f"run_status {status.value}" + (f" of {', '.join(watched)}" if watched else "")
    if getattr(definition, "asset_key", None) is not None:
        return f"asset {definition.asset_key.to_user_string()}"
    keys = getattr(definition, "asset_keys", None)
    if keys:
        return "multi_asset " + ", ".join(k.to_user_string() for k in keys)
    return "sensor"


def _list(kind: str, file: Path | None, module: str | None) -> None:
    with _errors():
        defs = load_definitions(file, module)
        table = Table(
            "name",
            "kind",
            "status",
            "default",
            "jobs",
            "every" if kind == "sensor" else "cron",
            "last tick (UTC)",
            "last result",
        )
        for column in table.columns:
            column.overflow = "fold"  # wrap long names at 80 columns, never cut them
        with Instance.get() as instance:
            for definition in _instigators(defs, kind):
                state = instance.get_instigator(definition.name)
                status = state.status if state else definition.default_status
                ticks = instance.get_ticks(definition.name, limit=1)
                last = ticks[0] if ticks else None
                when = (
                    f"{definition.minimum_interval_seconds:g}s"
                    if kind == "sensor"
                    else definition.cron_schedule
                )
                table.add_row(
                    definition.name,
                    _instigator_kind(definition),
                    status,
                    definition.default_status,
                    ", ".join(definition.job_names) or "(all assets)",
                    when,
                    _when(last.timestamp) if last else "-",
                    f"{last.status} {len(last.run_ids)} run(s)" if last else "-",
                )
        out.print(table)


def _set_status(kind: str, name: str, status: str, file: Path | None, module: str | None) -> None:
    with _errors():
        defs = load_definitions(file, module)
        getter = defs.get_sensor_def if kind == "sensor" else defs.get_schedule_def
        definition = getter(name)
        with Instance.get() as instance:
            instance.set_instigator(
                definition.name, kind, status=status, default_status=definition.default_status
            )
        out.print(f"{kind} {name} {status}")


NameArg = Annotated[str, typer.Argument(help="The sensor's or schedule's name.")]


@sensors_app.command("list")
def sensors_list(file: FileOpt = None, module: ModuleOpt = None) -> None:
    """Sensors with their stored status and last tick."""
    _list("sensor", file, module)


@sensors_app.command("start")
def sensors_start(name: NameArg, file: FileOpt = None, module: ModuleOpt = None) -> None:
    """Let the daemon evaluate this sensor."""
    _set_status("sensor", name, "RUNNING", file, module)


@sensors_app.command("stop")
def sensors_stop(name: NameArg, file: FileOpt = None, module: ModuleOpt = None) -> None:
    """Stop evaluating this sensor."""
    _set_status("sensor", name, "STOPPED", file, module)


@sensors_app.command("preview")
def sensors_preview(name: NameArg, file: FileOpt = None, module: ModuleOpt = None) -> None:
    """Evaluate the sensor once with its stored cursor and show what it logs (INFO and up) and
    would request; nothing is launched or recorded."""
    from .._daemon import preview

    with _errors():
        defs = load_definitions(file, module)
        with Instance.get() as instance:
            shown = preview(defs, instance, name, debug=_STATE["debug"])
        _print_preview(shown)


def _print_preview(shown: Any) -> None:
    """A preview (``outfitter._daemon.Preview``) as ``sensors preview`` prints it: the sensor's
    log lines, then its run requests or skip reason; an error raises (masked, user frames)."""
    for line in shown.logs:
        out.print(f"log {line.level}: {line.message}", markup=False, soft_wrap=True)
    if shown.exception is not None:
        if isinstance(shown.exception, OutfitterError):
            raise shown.exception
        frames = shown.traceback.rstrip()
        raise InvocationError(
            f"sensor {shown.name!r} raised {shown.error}" + (f"\n{frames}" if frames else ""),
            hint="fix the sensor (run with --debug for the full traceback).",
        )
    if shown.skip_reason is not None:
        out.print(f"skip: {shown.skip_reason}", markup=False, soft_wrap=True)
        return
    for request in shown.requests:
        out.print(
            f"run request key={request.run_key!r} tags={request.tags} "
            f"config={json.dumps(request.run_config, default=str, sort_keys=True)}",
            soft_wrap=True,
            markup=False,
        )
    if shown.cursor_updated:
        out.print(f"cursor would become {shown.cursor!r}", markup=False, soft_wrap=True)


@schedules_app.command("list")
def schedules_list(file: FileOpt = None, module: ModuleOpt = None) -> None:
    """Schedules with their stored status and last tick."""
    _list("schedule", file, module)


@schedules_app.command("start")
def schedules_start(name: NameArg, file: FileOpt = None, module: ModuleOpt = None) -> None:
    """Let the daemon run this schedule."""
    _set_status("schedule", name, "RUNNING", file, module)


@schedules_app.command("stop")
def schedules_stop(name: NameArg, file: FileOpt = None, module: ModuleOpt = None) -> None:
    """Stop running this schedule."""
    _set_status("schedule", name, "STOPPED", file, module)


def main() -> None:
    """Entry point of the ``outfitter`` command."""
    app()


@app.command()
def ui(
    file: FileOpt = None,
    module: ModuleOpt = None,
    host: HostOpt = "127.0.0.1",
    port: PortOpt = 3000,
) -> None:
    """Serve the web UI over the local instance (OUTFITTER_HOME): resources, definitions, a
    launchpad, runs, sensors and schedules. Needs the `outfitter[ui]` extra."""
    from .ui_cmd import serve

    with _errors():
        serve(file, module, host, port, dev=False)


@app.command()
def dev(
    file: FileOpt = None,
    module: ModuleOpt = None,
    host: HostOpt = "127.0.0.1",
    port: PortOpt = 3000,
) -> None:
    """The web UI and the daemon in one process (as `dagster dev`)."""
    from .ui_cmd import serve

    with _errors():
        serve(file, module, host, port, dev=True)
