"""The UI's Definitions pages: the asset graph of ``defs`` with its jobs and flows
(``/definitions``), a job's steps (``/definitions/jobs/{name}``) and a flow's schematic with its
resource-manager blocks drawn as groups (``/definitions/flows/{name}``). Every node is coloured
by its latest status, linked to its last run, and asset nodes can be selected to open the
launchpad for that selection.

Statuses come from the instance's recorded step events (read only; nothing here writes). The
drawing is :mod:`outfitter.ui.graph_svg`'s.

Example:
    >>> client.get("/definitions").status_code  # doctest: +SKIP
    200
"""

from __future__ import annotations

import math
import threading
from collections import OrderedDict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urlencode

from markupsafe import Markup
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from .._definitions.definitions import IMPLICIT_ASSET_JOB, Definitions
from .._definitions.graph import NodeGraph
from .._definitions.job import JobDefinition
from .._flows.compile import compile_flow
from .._flows.flow import Flow
from .._instance import EventType, Instance, RunRecord
from .._resources.context import did_you_mean
from ..exceptions import OutfitterError
from . import app as _app  # app imports this module: its names are read at call time
from .graph_svg import Group, Node, render_svg

__all__ = [
    "ASSET_RUN_NAMES",
    "RUNS_SCANNED",
    "StepState",
    "asset_job_names",
    "flow_graph",
    "latest_step_states",
    "routes",
    "step_graph",
]

ASSET_RUN_NAMES = (IMPLICIT_ASSET_JOB, "__materialize__")
"""The run names assets are materialized under besides the asset jobs of ``defs``: the implicit
asset job (``outfitter materialize``, the launchpad) and ``materialize()``."""

RUNS_SCANNED = 20
"""How many of the latest runs a page reads events from to find each step's latest status."""

_STEP_STATUS = {
    EventType.STEP_START: "STARTED",
    EventType.STEP_RETRY: "STARTED",
    EventType.STEP_SUCCESS: "SUCCESS",
    EventType.STEP_FAILURE: "FAILURE",
    EventType.STEP_SKIPPED: "SKIPPED",
}


@dataclass(frozen=True, slots=True)
class StepState:
    """A step's status in the latest run that ran it, and that run's id.

    Example:
        >>> StepState("SUCCESS", "0f3a").href
        '/runs/0f3a'
    """

    status: str
    run_id: str

    @property
    def href(self) -> str:
        """The page of the run."""
        return run_href(self.run_id)


def run_href(run_id: str) -> str:
    """The page of a run.

    Example:
        >>> run_href("abc")
        '/runs/abc'
    """
    return f"/runs/{quote(run_id, safe='')}"


def _path(prefix: str, name: str) -> str:
    return prefix + quote(name, safe="")


def launchpad_href(**query: str) -> str:
    """The launchpad for a job (``job=``), an asset selection (``select=``) or a flow
    (``flow=``).

    Example:
        >>> launchpad_href(select="raw/users,report")
        '/launchpad?select=raw%2Fusers%2Creport'
    """
    return "/launchpad?" + urlencode(query)


def asset_job_names(defs: Definitions) -> list[str]:
    """The run names under which assets of ``defs`` are materialized: the implicit asset job,
    ``materialize()`` and every job of ``defs`` with an asset step.

    Example:
        >>> from outfitter import Definitions, asset, define_asset_job
        >>> @asset
        ... def users() -> int:
        ...     return 1
        >>> asset_job_names(Definitions(assets=[users], jobs=[define_asset_job("nightly")]))
        ['__ASSET_JOB', '__materialize__', 'nightly']
    """
    names = list(ASSET_RUN_NAMES)
    for job in defs.jobs:
        if job.name not in names and any(n.kind == "asset" for n in job.nodes):
            names.append(job.name)
    return names


def _latest_runs(
    instance: Instance, names: Iterable[str], *, flows: bool, limit: int
) -> list[RunRecord]:
    """The latest ``limit`` runs recorded under any of ``names``, newest first; flow runs only
    when ``flows`` (a flow and a job may share a name), job runs otherwise."""
    runs: list[RunRecord] = []
    for name in dict.fromkeys(names):
        runs += [
            r
            for r in instance.get_runs(limit=limit, job_name=name)
            if (r.tags.get("kind") == "flow") == flows
        ]
    # not started yet (queued) counts as newest; the sort is stable within one name
    runs.sort(key=lambda r: -(r.start_time if r.start_time is not None else math.inf))
    return runs[:limit]


_FINISHED: OrderedDict[str, dict[str, str]] = OrderedDict()
"""Step statuses of finished runs by run id (they no longer change; run ids are unique)."""
_FINISHED_LOCK = threading.Lock()
_FINISHED_KEPT = 64


def _run_step_states(instance: Instance, run: RunRecord) -> dict[str, str]:
    """Each step's last status in ``run``: a step still started when the run ended gets the
    run's ending status. Read once for a finished run."""
    if run.status.is_finished:
        with _FINISHED_LOCK:
            cached = _FINISHED.get(run.run_id)
        if cached is not None:
            return cached
    states: dict[str, str] = {}
    for event in instance.all_events(run.run_id):
        status = _STEP_STATUS.get(event.event_type)
        if status is not None and event.step_key is not None:
            states[event.step_key] = status
    if run.status.is_finished:
        for key, status in states.items():
            if status == "STARTED":
                states[key] = run.status.value
        with _FINISHED_LOCK:
            _FINISHED[run.run_id] = states
            if len(_FINISHED) > _FINISHED_KEPT:
                _FINISHED.popitem(last=False)
    return states


def latest_step_states(
    instance: Instance,
    names: Iterable[str],
    keys: Iterable[str],
    *,
    flows: bool = False,
    runs: int = RUNS_SCANNED,
) -> dict[str, StepState]:
    """For each step key of ``keys``, its status in the latest of the last ``runs`` runs
    recorded under ``names`` that ran it (keys no such run ran are absent).

    Example:
        >>> from outfitter import Instance, asset, materialize
        >>> @asset
        ... def users() -> int:
        ...     return 1
        >>> with Instance.ephemeral() as instance:
        ...     run_id = materialize([users], instance=instance).run_id
        ...     state = latest_step_states(instance, ["__materialize__"], ["users"])["users"]
        >>> state.status, state.run_id == run_id
        ('SUCCESS', True)
    """
    wanted = set(keys)
    found: dict[str, StepState] = {}
    if not wanted:
        return found
    for run in _latest_runs(instance, names, flows=flows, limit=runs):
        for key, status in _run_step_states(instance, run).items():
            if key in wanted and key not in found:
                found[key] = StepState(status, run.run_id)
        if len(found) == len(wanted):
            break
    return found


def _summary(text: str | None) -> str | None:
    """A description's first paragraph, shortened for a tooltip."""
    if not text:
        return None
    first = " ".join(text.strip().split("\n\n", 1)[0].split())
    return first if len(first) <= 240 else first[:239] + "…"


def step_graph(
    graph: NodeGraph, states: dict[str, StepState], *, selectable: bool = False
) -> tuple[list[Node], list[tuple[str, str]]]:
    """The nodes and edges of a job's (or the asset) graph: assets labelled by their key,
    ops by name, each with its status and last run; ``selectable`` asset nodes get a
    selection checkbox standing for their key.

    Example:
        >>> from outfitter import Definitions, asset
        >>> @asset(key_prefix="raw")
        ... def users() -> int:
        ...     return 1
        >>> graph = Definitions(assets=[users]).get_implicit_global_asset_job_def().graph
        >>> nodes, edges = step_graph(graph, {"raw__users": StepState("SUCCESS", "r1")})
        >>> nodes[0].id, nodes[0].label, nodes[0].status, nodes[0].href
        ('raw__users', 'raw/users', 'SUCCESS', '/runs/r1')
    """
    nodes: list[Node] = []
    edges: list[tuple[str, str]] = []
    for spec in graph.nodes:
        state = states.get(spec.key)
        label = spec.asset_key.to_user_string() if spec.asset_key is not None else spec.name
        nodes.append(
            Node(
                spec.key,
                label,
                kind=spec.kind,
                status=None if state is None else state.status,
                href=None if state is None else state.href,
                select=label if selectable and spec.asset_key is not None else None,
                title=_summary(spec.description),
                mapped=spec.mapped,
            )
        )
        edges.extend((up, spec.key) for up in spec.upstream)
    return nodes, edges


def _block_groups(flow: Flow) -> list[Group]:
    """A group per resource-manager block: its init, setup and cleanup tasks and the tasks made
    inside it, including the tasks of blocks opened inside it."""
    members: list[set[str]] = []
    inits: list[str] = []
    for block in flow.resource_blocks:
        tasks = [block.init_task, block.setup_task, block.cleanup_task, *block.members]
        members.append({t.slug for t in tasks if t is not None and t.slug is not None})
        inits.append(block.init_task.slug or "")
    changed = True
    while changed:  # a block opened inside another: the outer one holds its tasks too
        changed = False
        for inner, init in enumerate(inits):
            for outer, held in enumerate(members):
                if outer != inner and init in held and not members[inner] <= held:
                    held |= members[inner]
                    changed = True
    return [
        Group(f"resource manager {block.name}", frozenset(held))
        for block, held in zip(flow.resource_blocks, members, strict=True)
    ]


def flow_graph(
    flow: Flow, states: dict[str, StepState]
) -> tuple[list[Node], list[tuple[str, str]], list[Group]]:
    """The nodes, edges and resource-manager groups of a flow's schematic, each task with its
    status in ``states`` (by task key, e.g. ``extract-1``).

    Example:
        >>> from outfitter import Flow, task
        >>> @task
        ... def hello() -> str:
        ...     return "hi"
        >>> with Flow("greet") as flow:
        ...     greeting = hello()
        >>> nodes, edges, groups = flow_graph(flow, {})
        >>> [(n.id, n.label, n.kind) for n in nodes], edges, groups
        ([('hello-1', 'hello', 'task')], [], [])
    """
    plan = compile_flow(flow)
    roles: dict[str, str] = {}
    for block in plan.blocks:
        roles[block.init] = "resource init"
        if block.setup is not None:
            roles[block.setup] = "resource setup"
        roles[block.cleanup] = "resource cleanup"
    nodes, edges = step_graph(plan.graph, states)
    nodes = [
        Node(
            n.id,
            n.label,
            kind=roles.get(n.id, n.kind),
            status=n.status,
            href=n.href,
            title=None if n.kind == "parameter" or n.id in roles else n.title,
            mapped=n.mapped,
        )
        for n in nodes
    ]
    return nodes, edges, _block_groups(flow)


def _last_run(instance: Instance, name: str, *, flow: bool) -> RunRecord | None:
    runs = _latest_runs(instance, [name], flows=flow, limit=5)
    return runs[0] if runs else None


@dataclass(frozen=True, slots=True)
class _Row:
    """A job or flow as the list shows it."""

    name: str
    href: str
    launch: str
    kind: str
    size: str
    description: str | None
    last: RunRecord | None

    @property
    def last_href(self) -> str | None:
        return None if self.last is None else run_href(self.last.run_id)


def _job_row(instance: Instance, job: JobDefinition) -> _Row:
    assets = sum(1 for n in job.nodes if n.kind == "asset")
    kind = "asset job" if assets == len(job.nodes) else "op job"
    return _Row(
        job.name,
        _path("/definitions/jobs/", job.name),
        launchpad_href(job=job.name),
        kind,
        f"{len(job.nodes)} step{'s' * (len(job.nodes) != 1)}",
        _summary(job.description),
        _last_run(instance, job.name, flow=False),
    )


def _flow_row(instance: Instance, flow: Flow) -> _Row:
    tasks = len(flow.tasks)
    blocks = len(flow.resource_blocks)
    size = f"{tasks} task{'s' * (tasks != 1)}"
    if blocks:
        size += f", {blocks} resource manager{'s' * (blocks != 1)}"
    return _Row(
        flow.name,
        _path("/definitions/flows/", flow.name),
        launchpad_href(flow=flow.name),
        "flow",
        size,
        None,
        _last_run(instance, flow.name, flow=True),
    )


@dataclass(frozen=True, slots=True)
class _AssetRow:
    name: str
    state: StepState | None
    group: str | None = None


LEGEND = ("SUCCESS", "FAILURE", "STARTED", "SKIPPED")


def _definitions(request: Request) -> Response:
    load = _app.loaded(request)
    instance: Instance = request.app.state.instance
    defs = load.defs
    graph: Markup | None = None
    assets: list[_AssetRow] = []
    jobs: list[_Row] = []
    launch_all: str | None = None
    if defs is not None:
        if defs.assets:
            asset_graph = defs.get_implicit_global_asset_job_def().graph
            states = latest_step_states(instance, asset_job_names(defs), asset_graph.keys())
            nodes, edges = step_graph(asset_graph, states, selectable=True)
            graph = render_svg(nodes, edges, label="asset graph")
            groups = {  # @asset(group_name=...), shown beside each asset
                k.to_user_string(): g for a in defs.assets for k, g in a.group_names_by_key.items()
            }
            assets = [_AssetRow(n.label, states.get(n.id), groups.get(n.label)) for n in nodes]
            launch_all = launchpad_href(select=",".join(a.name for a in assets))
        jobs = [_job_row(instance, j) for j in defs.jobs if j.name != IMPLICIT_ASSET_JOB]
    flows = [_flow_row(instance, f) for f in load.flows.values()]
    return _app.render(
        request,
        "definitions.html",
        {
            "graph": graph,
            "assets": assets,
            "launch_all": launch_all,
            "jobs": jobs,
            "flows": flows,
            "legend": LEGEND,
        },
    )


def _unknown(what: str, name: str, known: Sequence[str]) -> Exception:
    listed = ", ".join(sorted(known)) or "none"
    return _app.not_found(
        f"There is no {what} named {name!r}.{did_you_mean(name, known)} "
        f"The {what}s defined here: {listed}."
    )


def _job(request: Request) -> Response:
    name: str = request.path_params["job_name"]
    load = _app.loaded(request)
    instance: Instance = request.app.state.instance
    defs = load.defs
    jobs = {} if defs is None else {j.name: j for j in defs.jobs}
    job = jobs.get(name)
    if defs is None or job is None:
        raise _unknown("job", name, [k for k in jobs if k != IMPLICIT_ASSET_JOB])
    has_assets = any(n.kind == "asset" for n in job.nodes)
    names = asset_job_names(defs) if has_assets else [job.name]
    states = latest_step_states(instance, names, job.graph.keys())
    nodes, edges = step_graph(job.graph, states)
    return _app.render(
        request,
        "definitions_job.html",
        {
            "job": _job_row(instance, job),
            "graph": render_svg(nodes, edges, label=f"steps of job {job.name}"),
            "steps": nodes,
            "resource_keys": sorted(job.resource_keys),
            "legend": LEGEND,
        },
    )


def _flow(request: Request) -> Response:
    name: str = request.path_params["flow_name"]
    load = _app.loaded(request)
    instance: Instance = request.app.state.instance
    flow = load.flows.get(name)
    if flow is None:
        raise _unknown("flow", name, list(load.flows))
    row = _flow_row(instance, flow)
    states: dict[str, StepState] = {}
    if row.last is not None:
        run_states = _run_step_states(instance, row.last)
        states = {k: StepState(s, row.last.run_id) for k, s in run_states.items()}
    problem: str | None = None
    graph: Markup | None = None
    nodes: list[Node] = []
    groups: list[Group] = []
    try:
        nodes, edges, groups = flow_graph(flow, states)
        graph = render_svg(nodes, edges, groups, label=f"schematic of flow {flow.name}")
    except OutfitterError as exc:  # a flow changed since it loaded into something invalid
        problem = str(exc)
    parameters: list[Any] = sorted(flow.parameters(), key=lambda p: p.name)
    return _app.render(
        request,
        "definitions_flow.html",
        {
            "flow": row,
            "graph": graph,
            "problem": problem,
            "steps": nodes,
            "groups": groups,
            "parameters": parameters,
            "legend": LEGEND,
        },
    )


routes: list[BaseRoute] = [
    Route("/definitions", _definitions),
    Route("/definitions/jobs/{job_name:path}", _job),
    Route("/definitions/flows/{flow_name:path}", _flow),
]
