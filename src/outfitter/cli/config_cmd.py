"""``outfitter config``: scaffold the run config a selection needs, and validate a run config
file against it (the same check every launch makes)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console

from ..exceptions import InvocationError

config_app = typer.Typer(help="Scaffold and validate run config.", no_args_is_help=True)
out = Console(highlight=False, soft_wrap=True)

FileOpt = Annotated[
    Path | None, typer.Option("--file", "-f", help="Python file defining `defs` (or a Flow).")
]
ModuleOpt = Annotated[
    str | None, typer.Option("--module", "-m", help="Module defining `defs` (or a Flow).")
]
SelectOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--select",
        "-s",
        help="Assets the run materializes, as `outfitter materialize --select` takes them.",
    ),
]
JobOpt = Annotated[str | None, typer.Option("--job", help="A job of the Definitions.")]
FlowOpt = Annotated[str | None, typer.Option("--flow", help="A Flow the file or module defines.")]


def _flow(file: Path | None, module: str | None, name: str) -> Any:
    """The Flow named ``name`` (its name, or the variable holding it) in the file or module."""
    from .._flows.flow import Flow
    from .app import load_definitions

    try:
        load_definitions(file, module)
    except InvocationError as exc:
        if "has no Definitions object" not in exc.summary:
            raise
    loaded = sys.modules.get(f"_outfitter_defs_{file.stem}" if file is not None else str(module))
    flows = [v for v in vars(loaded).values() if isinstance(v, Flow)] if loaded else []
    for var, value in (vars(loaded) if loaded else {}).items():
        if isinstance(value, Flow) and name in (var, value.name):
            return value
    names = sorted({f.name for f in flows})
    raise InvocationError(
        f"no flow named {name!r} in {file or module}",
        hint=f"the flows defined there: {', '.join(names) or 'none'}.",
    )


def _target(
    file: Path | None,
    module: str | None,
    select: list[str] | None,
    job: str | None,
    flow: str | None,
) -> tuple[Any, list[Any] | None, str]:
    """What the config is for: a flow, a job, or (a selection of) the Definitions' assets."""
    from .app import load_definitions

    if sum(x is not None for x in (select, job, flow)) > 1:
        raise InvocationError(
            "give at most one of --select, --job and --flow",
            hint="--select picks assets of `defs`, --job one of its jobs, --flow a Flow.",
        )
    if flow is not None:
        return _flow(file, module, flow), None, f"flow {flow!r}"
    from .._definitions.selection import parse_asset_selection

    defs = load_definitions(file, module)
    if job is not None:
        return defs.get_job_def(job), None, f"job {job!r}"
    if not select:
        return defs, None, "all assets"
    keys = parse_asset_selection(select, defs.assets)  # the syntax `materialize` takes
    return defs, keys, f"assets {', '.join(select)}"


@config_app.command("scaffold")
def config_scaffold(
    file: FileOpt = None,
    module: ModuleOpt = None,
    select: SelectOpt = None,
    job: JobOpt = None,
    flow: FlowOpt = None,
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Write the YAML here, not to stdout.")
    ] = None,
) -> None:
    """Print the run config YAML the selection needs: only the resources and steps it opens,
    defaults as values, `{env: NAME}` for EnvVars, `<required: TYPE>` for values to fill in."""
    from .._execution.config_check import run_config_yaml, scaffold_run_config
    from .app import _errors

    with _errors():
        target, selection, _ = _target(file, module, select, job, flow)
        text = run_config_yaml(scaffold_run_config(target, selection=selection))
        if output is None:
            out.print(text, end="", markup=False)
        else:
            output.write_text(text, encoding="utf-8")
            out.print(f"wrote {output}", markup=False)


@config_app.command("validate")
def config_validate(
    config: Annotated[Path, typer.Option("--config", "-c", help="Run config (YAML or JSON).")],
    file: FileOpt = None,
    module: ModuleOpt = None,
    select: SelectOpt = None,
    job: JobOpt = None,
    flow: FlowOpt = None,
) -> None:
    """Check a run config file for the selection without running anything: exit 0 when it is
    valid, 1 listing every problem (its path, message and hint)."""
    from .._execution.config_check import validate_run_config
    from .app import _errors, _read_config

    with _errors():
        target, selection, what = _target(file, module, select, job, flow)
        data = _read_config(config)
        problems = validate_run_config(target, data, selection=selection)
    if not problems:
        out.print(f"{config}: valid run config for {what}", markup=False)
        return
    out.print(f"{config}: {len(problems)} problem(s) in the run config for {what}", markup=False)
    for problem in problems:
        out.print(f"  - {problem}", markup=False)
    raise typer.Exit(1)
