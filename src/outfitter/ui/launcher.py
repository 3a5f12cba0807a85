"""Launching runs from the UI in a separate process, and what the launchpad and that process
share: reading the editor's YAML and tags, and resolving what to run (:class:`Target`).

:class:`Launcher` records the run as QUEUED under a new id (so the UI can show its page at
once), then starts ``python -m outfitter.ui.launch_child`` with the workspace's ``-f``/``-m``
arguments, ``OUTFITTER_HOME`` set to the UI's instance directory and its output in
``<home>/launches/<run id>.log``. The run config and tags reach the child on its stdin, never
on its command line (they may hold secrets). One thread per child writes that input, reaps the
child, and, when the child ended without finishing the record (a crash before the run
started), records the run FAILURE so no page waits for it forever.

Nothing here imports Starlette: the child process imports this module too.

Example:
    >>> parse_tags("team=data\\n# a comment\\nowner = ana")
    ({'team': 'data', 'owner': 'ana'}, [])
"""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
import threading
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

from .._config.env_var import EnvVar
from .._config.problems import ConfigProblem
from .._config.redaction import RECORD_MASK, Redactor
from .._config.run_config import load_run_config_yaml, too_deep
from .._definitions.definitions import Definitions
from .._definitions.job import JobDefinition
from .._definitions.selection import parse_asset_selection
from .._execution.config_check import (
    resolve_target,
    scaffold_flow_parameters,
    scaffold_run_config,
    split_flow_parameters,
    validate_flow_parameters,
    validate_run_config,
)
from .._flows.flow import Flow
from .._instance import EventType, Instance, RunStatus
from ..exceptions import InvocationError

if TYPE_CHECKING:
    from .workspace import Workspace

__all__ = [
    "KINDS",
    "Launched",
    "Launcher",
    "Target",
    "config_redactor",
    "instance_home",
    "parse_run_config",
    "parse_tags",
]

_LOG = logging.getLogger("outfitter.ui")

KINDS = ("job", "select", "flow")
"""What a launch runs: a job by name, an asset selection, or a flow by name."""

ALL_ASSETS = "*"
"""The selection text of every asset of the Definitions."""

MATERIALIZE_JOB = "__materialize__"
"""The job name an asset selection's run is recorded under (as ``outfitter materialize``)."""


# -- the editor's text -----------------------------------------------------------------------------


_YAML_HINT = (
    "fix the YAML: run config is a mapping with `resources`, `ops` (and for flows `parameters`)"
)


def parse_run_config(text: str) -> tuple[dict[str, Any], list[ConfigProblem]]:
    """The run config in the editor's YAML ``text`` (empty text is ``{}``), or the problem
    that stops it being read, naming the line and column.

    Example:
        >>> parse_run_config("ops:\\n  users: [1\\n")[1][0].message
        "YAML syntax error at line 3, column 1: expected ',' or ']', but got '<stream end>'"
    """
    try:
        data = load_run_config_yaml(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        place = f" at line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""
        problem = getattr(exc, "problem", None) or str(exc)
        return {}, [ConfigProblem("", f"YAML syntax error{place}: {problem}", _YAML_HINT)]
    except RecursionError:
        return {}, [ConfigProblem("", "the YAML is nested too deeply", _YAML_HINT)]
    if data is None:
        return {}, []
    if not isinstance(data, dict):
        return {}, [
            ConfigProblem(
                "", f"run config must be a mapping, got {type(data).__name__}", _YAML_HINT
            )
        ]
    deep = too_deep(data)
    if deep is not None:
        return {}, [ConfigProblem(deep, "run config nests too deeply here", _YAML_HINT)]
    return data, []


def parse_tags(text: str) -> tuple[dict[str, str], list[ConfigProblem]]:
    """Tags from ``key=value`` lines (blank lines and ``#`` comments skipped), and a problem
    for each line that is not one (path ``tags.line N``).

    Example:
        >>> parse_tags("team=data\\nnonsense")[1][0].message
        "'nonsense' is not key=value"
    """
    tags: dict[str, str] = {}
    problems: list[ConfigProblem] = []
    for number, line in enumerate(text.splitlines(), start=1):
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        key, sep, value = stripped.partition("=")
        key = key.strip()
        where = f"tags.line {number}"
        if not sep or not key:
            problems.append(
                ConfigProblem(where, f"{stripped!r} is not key=value", "one tag a line: team=data")
            )
        elif key in tags:
            problems.append(ConfigProblem(where, f"tag {key!r} is given twice", "give it once"))
        else:
            tags[key] = value.strip()
    return tags, problems


def config_redactor(data: Any, bindings: Mapping[str, Any] | None = None) -> Redactor:
    """A redactor for text about a launch before its run has its own: every string value of
    the run config ``data`` (a secret may be any of them), the values of the environment
    variables it names (``{env: NAME}``), and the secrets and EnvVar values of ``bindings``
    (the resources in code).

    Example:
        >>> config_redactor({"resources": {"api": {"config": {"token": "t0ken"}}}})("bad t0ken")
        'bad ***'
    """
    redactor = Redactor()
    stack: list[Any] = [data, *(bindings or {}).values()]
    seen = 0
    while stack and seen < 100_000:
        seen += 1
        value = stack.pop()
        if isinstance(value, EnvVar):
            env = os.environ.get(value.env_var_name)
            if env:
                redactor.add(env)
        elif isinstance(value, str):
            redactor.add(value)
        elif isinstance(value, Mapping):
            if set(value) == {"env"} and isinstance(value["env"], str):
                env = os.environ.get(value["env"])
                if env:
                    redactor.add(env)
                continue
            stack.extend(value.values())
        elif isinstance(value, list | tuple):
            stack.extend(value)
        elif hasattr(value, "get_secret_value"):  # SecretStr, SecretBytes
            redactor.add(value.get_secret_value())
        elif hasattr(type(value), "model_fields"):  # a resource or config model in code
            stack.extend(vars(value).values())
        elif hasattr(value, "defaults") and isinstance(value.defaults, Mapping):  # a partial
            stack.extend(value.defaults.values())
    return redactor


def _masked_strings(given: Any, masked: Any, found: set[str]) -> None:
    """The strings of ``given`` that the record ``masked`` (the same data, secret fields
    masked) hides."""
    if isinstance(given, Mapping) and isinstance(masked, Mapping):
        for key, value in given.items():
            if key in masked:
                _masked_strings(value, masked[key], found)
    elif isinstance(given, list) and isinstance(masked, list):
        for one, other in zip(given, masked, strict=False):
            _masked_strings(one, other, found)
    elif isinstance(given, str) and masked == RECORD_MASK and given != RECORD_MASK:
        found.add(given)


# -- what to run -----------------------------------------------------------------------------------


@dataclass
class Target:
    """What a launch runs, resolved against loaded code: a job, an asset selection (``name``
    is the selection text, ``*`` for every asset) or a flow.

    Example:
        >>> from outfitter import Definitions, asset
        >>> @asset
        ... def users() -> int:
        ...     return 1
        >>> target = Target.resolve(Definitions(assets=[users]), {}, "select", "users")
        >>> target.label, target.steps
        ('assets users', ['users'])
    """

    kind: str
    name: str
    obj: Any
    selection: list[Any] | None = None
    _resolved: tuple[Any, Any] | None = field(default=None, repr=False)

    @classmethod
    def resolve(
        cls, defs: Definitions | None, flows: Mapping[str, Flow], kind: str, name: str
    ) -> Target:
        """The target ``kind``/``name`` in ``defs`` and ``flows``; an InvocationError (or the
        selection's DefinitionError) names what is not there."""
        if kind == "flow":
            flow = flows.get(name)
            if flow is None:
                known = ", ".join(sorted(flows)) or "none"
                raise InvocationError(
                    f"no flow named {name!r}", hint=f"the flows defined here: {known}."
                )
            return cls(kind, name, flow)
        if kind not in KINDS:
            raise InvocationError(
                f"unknown launch kind {kind!r}", hint="launch a job, a selection or a flow."
            )
        if defs is None:
            raise InvocationError(
                "the code defines no Definitions object named `defs`",
                hint="jobs and assets are launched from `defs = Definitions(...)`.",
            )
        if kind == "job":
            return cls(kind, name, defs.get_job_def(name))
        if name.strip() in (ALL_ASSETS, ""):
            return cls(kind, ALL_ASSETS, defs)
        keys = parse_asset_selection([name], defs.assets, "the selection")
        return cls(kind, name, defs, keys)

    @property
    def label(self) -> str:
        """How pages name it: ``job 'x'``, ``assets a, b``, ``all assets``, ``flow 'f'``."""
        if self.kind == "select":
            return "all assets" if self.selection is None else f"assets {self.name}"
        return f"{self.kind} {self.name!r}"

    @property
    def job_name(self) -> str:
        """The job name its run is recorded under."""
        if isinstance(self.obj, JobDefinition):
            return self.obj.name
        if isinstance(self.obj, Flow):
            return self.obj.name
        return MATERIALIZE_JOB

    def _graph_plan(self) -> tuple[Any, Any]:
        if self._resolved is None:
            graph, plan, _ = resolve_target(self.obj, self.selection)
            self._resolved = (graph, plan)
        return self._resolved

    @property
    def steps(self) -> list[str]:
        """The step keys the run has, in order."""
        return [node.key for node in self._graph_plan()[0].nodes]

    def resources(self) -> list[tuple[str, Any]]:
        """``(key, spec)`` of every resource the run can open, in opening order."""
        graph, plan = self._graph_plan()
        wanted = {k for key in graph.resource_keys for k in plan.closure.get(key, (key,))}
        return [(key, plan.specs[key]) for key in plan.order if key in wanted]

    def bindings(self) -> Mapping[str, Any]:
        """The resources in code, by key."""
        bindings: Mapping[str, Any] = self._graph_plan()[1].bindings
        return bindings

    def scaffold(self) -> dict[str, Any]:
        """The run config it takes (flows: their ``parameters`` first)."""
        if isinstance(self.obj, Flow):
            params = scaffold_flow_parameters(self.obj)
            rest = scaffold_run_config(self.obj)
            return {"parameters": params, **rest} if params else rest
        return scaffold_run_config(self.obj, selection=self.selection)

    def validate(self, data: Mapping[str, Any]) -> list[ConfigProblem]:
        """Every problem of the run config ``data``: the engine's own check."""
        if isinstance(self.obj, Flow):
            params, rest = split_flow_parameters(data)
            return [
                *validate_flow_parameters(self.obj, params),
                *validate_run_config(self.obj, rest),
            ]
        return validate_run_config(self.obj, data, selection=self.selection)

    def record_config(self, data: Mapping[str, Any]) -> Any:
        """What the run record keeps of ``data``: secret fields masked, as the engine
        records it."""
        from .._execution.launch import record_config
        from .._resources.configurable import redacted_config

        graph, plan = self._graph_plan()
        if isinstance(self.obj, Flow):
            params, rest = split_flow_parameters(data)
            given = record_config(rest, plan, graph)
            record: dict[str, Any] = {"parameters": redacted_config(dict(params or {}))}
            return {**redacted_config(dict(given or {})), **record}
        return record_config(data, plan, graph)

    def secrets_in(self, data: Mapping[str, Any]) -> Redactor:
        """A redactor of the secret values ``data`` gives (the values of secret fields)."""
        found: set[str] = set()
        try:
            _masked_strings(data, self.record_config(data), found)
        except Exception:  # config too broken to compare: every string might be a secret
            return config_redactor(data)
        return Redactor(found)

    def run(self, data: Mapping[str, Any], tags: Mapping[str, str], instance: Any) -> bool:
        """Run it with its executor, recorded in ``instance``; True when it succeeded."""
        if isinstance(self.obj, Flow):
            params, rest = split_flow_parameters(data)
            problems = validate_flow_parameters(self.obj, params)
            if problems:
                from ..exceptions import ConfigError

                raise ConfigError(
                    f"{len(problems)} problem(s) in the parameters of flow {self.name!r}",
                    problems=[str(p) for p in problems],
                    hint="fix every item listed. Nothing was run.",
                )
            state = self.obj.run(parameters=dict(params or {}), instance=instance, run_config=rest)
            return bool(state.is_successful())
        if isinstance(self.obj, JobDefinition):
            result = self.obj.execute(
                run_config=data, instance=instance, raise_on_error=False, tags=dict(tags)
            )
            return bool(result.success)
        from .._execution.materialize import materialize

        defs: Definitions = self.obj
        result = materialize(
            defs.assets,
            resources=defs._resources,
            run_config=data,
            instance=instance,
            selection=self.selection,
            raise_on_error=False,
            tags=dict(tags),
            executor=defs.executor,
        )
        return bool(result.success)


# -- the launcher ----------------------------------------------------------------------------------


def instance_home(instance: Instance) -> Path | None:
    """The directory of a file-backed instance (``Instance.local``/``Instance.get``), which a
    child process can open through ``OUTFITTER_HOME``; None for an in-memory one.

    Example:
        >>> with Instance.ephemeral() as instance:
        ...     print(instance_home(instance))
        None
    """
    if instance.in_memory:
        return None
    home = Path(instance.storage_directory()).parent
    return home if (home / "runs.db").exists() else None


@dataclass
class Launched:
    """One child process the launcher started: its run id, the process (``process.args`` is
    its command line, which holds no config) and the log of its output.

    Example:
        >>> launcher.launched[run_id].log_path.name  # doctest: +SKIP
        '6f1c....log'
    """

    run_id: str
    process: subprocess.Popen[bytes]
    log_path: Path
    watcher: threading.Thread | None = None
    canceled: bool = False


def record_failure(instance: Instance, run_id: str, message: str, data: Any = None) -> None:
    """Finish the run ``run_id`` as FAILURE with ``message`` (creating its record if it has
    none), unless it already finished.

    Example:
        >>> with Instance.ephemeral() as instance:
        ...     run_id = instance.create_run("nightly").run_id
        ...     record_failure(instance, run_id, "the code did not import")
        ...     instance.get_run(run_id).status
        <RunStatus.FAILURE: 'FAILURE'>
    """
    record = instance.get_run(run_id)
    if record is None:
        instance.create_run("<unknown>", run_id=run_id)
    elif record.status.is_finished:
        return
    instance.report_event(run_id, EventType.RUN_FAILURE, message=message, data=data)
    instance.set_run_status(run_id, RunStatus.FAILURE)
    instance.flush()


class Launcher:
    """Starts runs of the workspace's code in child processes recording into ``instance`` (a
    file-backed instance), and reaps them.

    Example:
        >>> launcher = Launcher(workspace, instance)  # doctest: +SKIP
        >>> run_id = launcher.launch(target, "resources: {}", {"team": "data"})  # doctest: +SKIP
    """

    def __init__(self, workspace: Workspace, instance: Instance) -> None:
        self.workspace = workspace
        self.instance = instance
        self._lock = threading.Lock()
        self.launched: dict[str, Launched] = {}

    @property
    def home(self) -> Path | None:
        """The instance directory children record into (None: the instance is in memory)."""
        return instance_home(self.instance)

    def launch(self, target: Target, config_text: str, tags: Mapping[str, str]) -> str:
        """Record a QUEUED run of ``target`` and start the process that runs it with the run
        config ``config_text`` (YAML, already validated) and ``tags``; returns the run id."""
        home = self.home
        if home is None:
            raise InvocationError(
                "runs cannot be launched from this UI: its instance is in memory, and another "
                "process cannot see it",
                hint="start the UI over a local instance (OUTFITTER_HOME, default ./.outfitter).",
            )
        data, _ = parse_run_config(config_text)
        run_id = uuid.uuid4().hex
        run_tags = {**tags, "kind": "flow"} if target.kind == "flow" else dict(tags)
        self.instance.create_run(
            target.job_name, run_config=target.record_config(data), tags=run_tags, run_id=run_id
        )
        self.instance.flush()
        logs = home / "launches"
        logs.mkdir(parents=True, exist_ok=True)
        log_path = logs / f"{run_id}.log"
        args = [
            sys.executable,
            "-m",
            "outfitter.ui.launch_child",
            *self.workspace.source_args(),
            "--kind",
            target.kind,
            "--target",
            target.name,
            "--run-id",
            run_id,
        ]
        env = {**os.environ, "OUTFITTER_HOME": str(home)}
        package_root = str(Path(__file__).resolve().parents[2])  # where `outfitter` imports from
        env["PYTHONPATH"] = os.pathsep.join(
            p for p in (package_root, os.environ.get("PYTHONPATH")) if p
        )
        fd = os.open(log_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        try:
            with os.fdopen(fd, "wb") as log:
                process = subprocess.Popen(
                    args,
                    stdin=subprocess.PIPE,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    env=env,
                    start_new_session=True,  # the UI's Ctrl-C does not cancel launched runs
                )
        except OSError as exc:
            record_failure(self.instance, run_id, f"the run's process could not start: {exc}")
            raise
        launched = Launched(run_id, process, log_path)
        payload = json.dumps({"config": config_text, "tags": dict(tags)}).encode()
        launched.watcher = threading.Thread(
            target=self._watch,
            args=(launched, payload, data),
            name=f"outfitter-launch-{run_id[:8]}",
            daemon=True,
        )
        with self._lock:
            self.launched[run_id] = launched
        launched.watcher.start()
        return run_id

    def _watch(self, launched: Launched, payload: bytes, data: Any) -> None:
        """Give the child its input, wait for it (reaping it), then make sure its run's record
        is finished."""
        process = launched.process
        try:
            assert process.stdin is not None
            try:
                process.stdin.write(payload)
                process.stdin.close()
            except OSError:  # the child exited before reading: its exit is handled below
                pass
            code = process.wait()
            self._after_exit(launched, code, data)
        except Exception:  # never an unhandled exception in a thread
            _LOG.exception("watching the launch of run %s failed", launched.run_id)
        finally:
            with self._lock:
                self.launched.pop(launched.run_id, None)

    def _after_exit(self, launched: Launched, code: int, data: Any) -> None:
        if self.instance.in_memory:
            return
        record = self.instance.get_run(launched.run_id)
        if record is not None and record.status.is_finished:
            return
        if record is not None and record.status is RunStatus.STARTED:
            self.instance.mark_dead_runs()  # its process is gone: the usual check finishes it
            return
        if launched.canceled:
            self.instance.report_event(
                launched.run_id, EventType.RUN_CANCELED, message="canceled before it started"
            )
            self.instance.set_run_status(launched.run_id, RunStatus.CANCELED)
            self.instance.flush()
            return
        how = f"exited with code {code}" if code >= 0 else f"was killed by signal {-code}"
        redact = config_redactor(data)
        last = _last_line(launched.log_path)
        message = (
            f"the run's process {how} before the run started"
            + (f": {redact(last)}" if last else "")
            + f" (its output: {launched.log_path})"
        )
        record_failure(self.instance, launched.run_id, message)

    def cancel(self, run_id: str) -> bool:
        """Stop the process of a launched run that has not started yet (a started run is
        canceled through its record, as any other); True when a process was told to stop."""
        with self._lock:
            launched = self.launched.get(run_id)
        if launched is None or launched.process.poll() is not None:
            return False
        launched.canceled = True
        launched.process.terminate()
        return True

    def wait(self, timeout: float | None = None) -> bool:
        """Wait for every launched process to end and be reaped; True when none is left."""
        with self._lock:
            watchers = [w for w in (x.watcher for x in self.launched.values()) if w is not None]
        for watcher in watchers:
            watcher.join(timeout)
        with self._lock:
            return not self.launched


def _last_line(path: Path) -> str:
    """The last non-empty line of a log file (at most 500 characters), or ''."""
    try:
        with path.open("rb") as file:
            file.seek(0, os.SEEK_END)
            file.seek(max(0, file.tell() - 4096))
            lines = file.read().decode("utf-8", "replace").splitlines()
    except OSError:
        return ""
    for line in reversed(lines):
        if line.strip():
            return line.strip()[:500]
    return ""
