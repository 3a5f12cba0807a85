"""Commands: materialize, definitions check, resources list, runs list / show."""

from __future__ import annotations

import importlib
import importlib.util
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
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table
from rich.text import Text

from .._definitions.definitions import Definitions
from .._instance import EventType, Instance, RunStatus
from ..exceptions import ConfigError, InvocationError, OutfitterError

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

out = Console(highlight=False)
err = Console(stderr=True, highlight=False)
_STATE = {"debug": False}

FileOpt = Annotated[Path | None, typer.Option("--file", "-f", help="Python file defining `defs`.")]
ModuleOpt = Annotated[str | None, typer.Option("--module", "-m", help="Module defining `defs`.")]


@app.callback()
def _root(
    debug: Annotated[bool, typer.Option("--debug", help="Show tracebacks.")] = False,
) -> None:
    _STATE["debug"] = debug


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
    """The traceback of an exception raised by the user's code, without the frames of the
    import machinery, typer and Outfitter that led to it (``--debug`` shows everything)."""
    frames = traceback.extract_tb(exc.__traceback__)
    outfitter_dir = str(Path(__file__).resolve().parents[1])
    keep = [
        f
        for f in frames
        if not f.filename.startswith(outfitter_dir)
        and "importlib" not in f.filename
        and not f.filename.startswith("<frozen")
    ]
    text = "".join(traceback.format_list(keep))
    if isinstance(exc, SyntaxError) and exc.filename:
        text += f'  File "{exc.filename}", line {exc.lineno}\n    {(exc.text or "").strip()}\n'
    return text


def _import_failure(what: str, exc: BaseException) -> InvocationError:
    frames = _user_frames(exc)
    detail = f"{type(exc).__name__}: {exc}"
    return InvocationError(
        f"importing {what} raised {detail}" + (f"\n{frames.rstrip()}" if frames else ""),
        hint="fix the error in your code (run with --debug for the full traceback).",
    )


def load_definitions(file: Path | None, module: str | None) -> Definitions:
    """The ``defs`` object of a file or module (raises InvocationError saying what is wrong)."""
    if (file is None) == (module is None):
        raise InvocationError(
            "give exactly one of -f FILE or -m MODULE",
            hint="e.g. `outfitter materialize -f pipeline.py`.",
        )
    if file is not None:
        if not file.is_file():
            raise InvocationError(f"no such file: {file}", hint="check the path passed to -f.")
        spec = importlib.util.spec_from_file_location(f"_outfitter_defs_{file.stem}", file)
        assert spec is not None
        assert spec.loader is not None
        loaded = importlib.util.module_from_spec(spec)
        sys.modules[spec.name] = loaded
        sys.path.insert(0, str(file.resolve().parent))
        try:
            spec.loader.exec_module(loaded)
        except Exception as exc:
            if _STATE["debug"]:
                raise
            raise _import_failure(str(file), exc) from None
        where = str(file)
    else:
        assert module is not None
        sys.path.insert(0, str(Path.cwd()))
        try:
            loaded = importlib.import_module(module)
        except ModuleNotFoundError as exc:
            if exc.name != module.split(".")[0] and exc.name != module:
                if _STATE["debug"]:
                    raise
                raise _import_failure(f"module {module!r}", exc) from None
            raise InvocationError(
                f"cannot import module {module!r}: {exc}",
                hint="run from the directory that contains it, or install the package.",
            ) from None
        except Exception as exc:
            if _STATE["debug"]:
                raise
            raise _import_failure(f"module {module!r}", exc) from None
        where = module
    defs = getattr(loaded, "defs", None)
    if not isinstance(defs, Definitions):
        raise InvocationError(
            f"{where} has no Definitions object named `defs`",
            hint="add `defs = Definitions(assets=[...], resources={...})` at module level.",
        )
    return defs


class _ProgressInstance:
    """An instance that also advances a progress bar as steps finish."""

    def __init__(self, instance: Instance, progress: Progress, task: Any) -> None:
        self._instance = instance
        self._progress = progress
        self._task = task

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


@app.command()
def materialize(
    file: FileOpt = None,
    module: ModuleOpt = None,
    select: Annotated[
        list[str] | None, typer.Option("--select", "-s", help="Asset keys to materialize.")
    ] = None,
    config: Annotated[
        Path | None, typer.Option("--config", "-c", help="Run config (YAML or JSON).")
    ] = None,
) -> None:
    """Materialize assets (all, or --select ones) on the local instance (OUTFITTER_HOME), with
    the Definitions' executor (or the one the run config's `execution` section selects)."""
    from .._execution.materialize import materialize as run_materialize

    with _errors():
        defs = load_definitions(file, module)
        run_config = _read_config(config)
        assets = defs.assets
        count = len(select) if select else len(assets)
        with Instance.get() as instance:
            progress = Progress(
                TextColumn("[bold]{task.description}"),
                BarColumn(),
                MofNCompleteColumn(),
                TimeElapsedColumn(),
                console=err,
                transient=True,
                disable=not err.is_terminal,
            )
            with progress:
                task = progress.add_task("starting", total=count)
                try:
                    result = run_materialize(
                        assets,
                        resources=defs._resources,
                        run_config=run_config,
                        instance=_ProgressInstance(instance, progress, task),
                        selection=select,
                        raise_on_error=False,
                        executor=defs.executor,
                    )
                except ConfigError as exc:
                    if config is None:
                        raise
                    raise ConfigError(
                        f"{exc.summary} (run config {config})",
                        problems=exc.problems,
                        hint=exc.hint,
                    ) from None
        status = "[green]SUCCESS[/]" if result.success else "[red]FAILURE[/]"
        out.print(f"run {result.run_id} {status}", markup=True)
        for failure in result.failures.values():
            err.print(f"  step {failure.step_key!r} failed: {failure.message}", markup=False)
        if result.teardown_error is not None:
            err.print(str(result.teardown_error), markup=False)
        if result.run_error is not None and isinstance(result.run_error, OutfitterError):
            err.print(str(result.run_error), markup=False)
        if not result.success:
            raise typer.Exit(1)


class _NoAliasLoader(yaml.SafeLoader):
    """YAML without anchors and aliases: run config never needs them, and a few lines of
    nested aliases expand to billions of values."""

    def compose_node(self, parent: Any, index: Any) -> Any:
        if self.check_event(yaml.AliasEvent):
            event: Any = self.peek_event()  # type: ignore[no-untyped-call]
            raise yaml.composer.ComposerError(
                None, None, "anchors and aliases are not allowed in run config", event.start_mark
            )
        return super().compose_node(parent, index)


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
        if path.suffix == ".json":
            data = json.loads(text)
        else:
            data = yaml.load(text, Loader=_NoAliasLoader)  # a SafeLoader, without aliases
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


def _bindings(defs: Definitions) -> dict[str, Any]:
    from .._resources.bindings import resource_bindings

    return resource_bindings(defs._resources)


@resources_app.command("list")
def resources_list(file: FileOpt = None, module: ModuleOpt = None) -> None:
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
        table = Table("key", "class", "scope", "config", "used by")
        for key in plan.order:
            spec = plan.specs[key]
            config = json.dumps(redacted_config(spec.source), default=str)
            table.add_row(
                key, spec.label, str(spec.scope), config, ", ".join(sorted(users.get(key, [])))
            )
        out.print(table)


def _when(ts: float | None) -> str:
    if ts is None:
        return "-"
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%d %H:%M:%S")


@runs_app.command("list")
def runs_list(
    limit: Annotated[
        int, typer.Option("--limit", "-n", help="How many runs.", min=1, max=1_000_000)
    ] = 20,
    status: Annotated[str | None, typer.Option(help="Only runs with this status.")] = None,
) -> None:
    """Recent runs of the local instance."""
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
        table = Table("job", "status", "started (UTC)", "duration")
        table.add_column("run id", no_wrap=True, min_width=32)
        for run in runs:
            duration = (
                f"{run.end_time - run.start_time:.3f}s"
                if run.start_time is not None and run.end_time is not None
                else "-"
            )
            table.add_row(
                run.job_name, run.status.value, _when(run.start_time), duration, run.run_id
            )
        out.print(table)


@runs_app.command("show")
def runs_show(run_id: Annotated[str, typer.Argument(help="The run's id.")]) -> None:
    """One run and its events, with timings."""
    with _errors():
        with Instance.get() as instance:
            run = instance.get_run(run_id)
            if run is None:
                matches = [r for r in instance.get_runs() if r.run_id.startswith(run_id)]
                if len(matches) != 1:
                    raise InvocationError(
                        f"no run {run_id!r} in this instance",
                        hint="list runs with `outfitter runs list`.",
                    )
                run = matches[0]
            events = instance.all_events(run.run_id)
        out.print(f"run {run.run_id}  job {run.job_name}  status {run.status.value}")
        out.print(f"tags {json.dumps(run.tags)}")
        out.print(f"run config {json.dumps(run.run_config, default=str)}")
        start = events[0].timestamp if events else time.time()
        table = Table("+ms", "event", "step", "resource", "duration", "message")
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
        with Instance.get() as instance:
            names = [d.name for d in [*defs.sensors, *defs.schedules]]
            err.print(f"daemon started: {', '.join(names) or 'no sensors or schedules'}")
            Daemon(defs, instance, poll_interval=poll).run(max_ticks=max_ticks)
            err.print("daemon stopped")


def _instigators(defs: Definitions, kind: str) -> list[Any]:
    return list(defs.sensors if kind == "sensor" else defs.schedules)


def _list(kind: str, file: Path | None, module: str | None) -> None:
    with _errors():
        defs = load_definitions(file, module)
        table = Table(
            "name",
            "status",
            "job",
            "every" if kind == "sensor" else "cron",
            "last tick (UTC)",
            "last result",
        )
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
                    status,
                    definition.job_name or "(all assets)",
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
    """Evaluate the sensor once with its stored cursor and show what it would request; nothing
    is launched or recorded."""
    from .._definitions.sensors import SensorEvaluationContext, SkipReason
    from .._resources.bindings import resource_bindings

    with _errors():
        defs = load_definitions(file, module)
        definition = defs.get_sensor_def(name)
        with Instance.get() as instance:
            state = instance.get_instigator(name)
            context = SensorEvaluationContext(
                sensor_name=name, cursor=state.cursor if state else None, instance=instance
            )
            try:
                result = definition.evaluate(context, resources=resource_bindings(defs._resources))
            except OutfitterError:
                raise
            except Exception as exc:  # the sensor's own code raised (its secrets masked)
                if _STATE["debug"]:
                    raise
                frames = _user_frames(exc).rstrip()
                raise InvocationError(
                    f"sensor {name!r} raised {type(exc).__name__}: {exc}"
                    + (f"\n{frames}" if frames else ""),
                    hint="fix the sensor (run with --debug for the full traceback).",
                ) from None
        if isinstance(result, SkipReason):
            out.print(f"skip: {result.message}")
            return
        from .._config.run_config import RunConfig
        from .._resources.configurable import redacted_config

        for request in result:
            config = request.run_config
            shown = config.to_config_dict() if isinstance(config, RunConfig) else config
            out.print(
                f"run request key={request.run_key!r} tags={dict(request.tags)} "
                f"config={json.dumps(redacted_config(shown), default=str)}",
                soft_wrap=True,
                markup=False,
            )
        if context.cursor_updated:
            out.print(f"cursor would become {context.cursor!r}")


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
