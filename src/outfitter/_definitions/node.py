"""``NodeSpec``: the one frozen record every step becomes, whatever front-end made it
(``@asset``, ``@op``, ``@task``, a ``Task`` subclass, a ``Parameter``). The engine only ever sees
NodeSpecs: what to call, where its inputs come from, which resources it needs, and the rules
that decide whether and how often it runs (trigger, retries, mapping, skip rules)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from .._resources.asset_key import AssetKey
from .params import Params
from .policy import Backoff, Jitter

__all__ = ["NO_DEFAULT", "InputSpec", "NodeSpec", "OutputSpec", "io_manager_keys"]


class _NoDefault:
    """The "no value given" sentinel; one object, also after pickling to a worker."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "NO_DEFAULT"

    def __reduce__(self) -> str:
        return "NO_DEFAULT"


NO_DEFAULT: Any = _NoDefault()


class InputSpec(NamedTuple):
    """Where one input of a node comes from: an upstream node's output (``upstream``, the node
    key), an asset (``asset_key``, resolved to a node or loaded through the I/O manager), or a
    constant ``value``. A ``mapped`` input is iterated: the node runs once per element.
    (A named tuple: immutable, and cheap to make for every input of every compiled node.)"""

    name: str
    upstream: str | None = None
    asset_key: AssetKey | None = None
    value: Any = NO_DEFAULT
    default: Any = NO_DEFAULT
    mapped: bool = False
    upstream_output: str | None = None
    """Which output of ``upstream`` (a node with several outputs); None: its one output."""
    input_manager_key: str | None = None
    """The resource whose ``load_input`` loads this input (``In(input_manager_key=...)``),
    instead of the upstream's value or I/O manager."""


class OutputSpec(NamedTuple):
    """One declared output of a node with several outputs (``@op(out={...})``,
    ``@multi_asset(outs={...})``): its name, the I/O manager storing it, the asset it
    materializes, and whether the step must produce it."""

    name: str
    io_manager_key: str = "io_manager"
    asset_key: AssetKey | None = None
    is_required: bool = True
    description: str | None = None
    metadata: Any = None


@dataclass(frozen=True, init=False)
class NodeSpec:
    """One step of a graph.

    ``resource_keys`` are every resource the step may use: its resource parameters, its
    ``required_resource_keys`` and its I/O manager. ``after`` are nodes it must wait for without
    taking their output (asset ``deps``, ``upstream_tasks``). ``io_manager_key`` is None for
    nodes whose outputs are handed over in memory (flow tasks). ``no_retry`` are exception types
    that end a call at once, whatever ``max_retries`` says (a task's SKIP or SUCCESS signal).
    ``trigger`` decides from the upstream results whether the node runs (flow tasks);
    ``skip_on_upstream_skip`` skips it when an upstream node was skipped. ``local`` nodes run in
    the coordinating process even on executors with workers (a resource manager's tasks).
    """

    key: str
    fn: Callable[..., Any]
    kind: str
    params: Params
    inputs: tuple[InputSpec, ...] = ()
    resource_keys: frozenset[str] = frozenset()
    context_resource_keys: frozenset[str] = frozenset()
    io_manager_key: str | None = "io_manager"
    asset_key: AssetKey | None = None
    config_type: Any = None
    after: tuple[str, ...] = ()
    description: str | None = None
    tags: dict[str, str] = field(default_factory=dict)
    max_retries: int = 0
    retry_delay: float = 0.0
    retry_backoff: Backoff | None = None
    retry_jitter: Jitter | None = None
    """How ``retry_delay`` grows and varies from one retry to the next (a ``RetryPolicy``'s)."""
    no_retry: tuple[type[BaseException], ...] = ()
    trigger: Callable[..., Any] | None = None
    skip_on_upstream_skip: bool = False
    local: bool = False
    closes: bool = False
    """Whether the call closes a resource (a resource manager's cleanup): Ctrl-C and SIGTERM
    wait until it returns, so it runs once and whole."""
    name: str = ""
    """How messages name the node (a task's name; defaults to the key)."""
    log_stdout: bool = False
    """Whether what the call prints becomes INFO records of its logger (Prefect 1's
    ``log_stdout=True``)."""
    outputs: tuple[OutputSpec, ...] | None = None
    """The declared outputs of a node with several (or named, optional, or yielded) outputs;
    None for the classic single ``result`` output, which keeps the cheap path. Such a node's
    value in a run is a dict of output name to value (the outputs it produced)."""
    upstream: tuple[str, ...] = field(init=False)
    """Node keys this node waits for (data inputs first, then ordering-only deps)."""
    mapped: bool = field(init=False)
    """Whether any input is mapped (the node runs once per element)."""
    routed_inputs: bool = field(init=False)
    """Whether an input names an upstream output or an input manager (the policy then
    routes inputs one by one; precomputed so other nodes skip that work)."""
    label: str = field(init=False)
    """``asset 'a/b'``, ``op 'x'``, ``task 'y'``: how errors name this node."""

    def __init__(
        self,
        key: str,
        fn: Callable[..., Any],
        kind: str,
        params: Params,
        inputs: tuple[InputSpec, ...] = (),
        resource_keys: frozenset[str] = frozenset(),
        context_resource_keys: frozenset[str] = frozenset(),
        io_manager_key: str | None = "io_manager",
        asset_key: AssetKey | None = None,
        config_type: Any = None,
        after: tuple[str, ...] = (),
        description: str | None = None,
        tags: dict[str, str] | None = None,
        max_retries: int = 0,
        retry_delay: float = 0.0,
        retry_backoff: Backoff | None = None,
        retry_jitter: Jitter | None = None,
        no_retry: tuple[type[BaseException], ...] = (),
        trigger: Callable[..., Any] | None = None,
        skip_on_upstream_skip: bool = False,
        local: bool = False,
        closes: bool = False,
        name: str = "",
        log_stdout: bool = False,
        outputs: tuple[OutputSpec, ...] | None = None,
    ) -> None:
        # One update of the instance dict instead of a frozen-dataclass setattr per field: a
        # flow compiles a NodeSpec per task, so this is on the path of its first run.
        upstream = [i.upstream for i in inputs if i.upstream is not None]
        upstream += after
        if len(set(upstream)) != len(upstream):  # an op taking one upstream output twice
            upstream = list(dict.fromkeys(upstream))
        name = name or key
        self.__dict__.update(
            key=key,
            fn=fn,
            kind=kind,
            params=params,
            inputs=inputs,
            resource_keys=resource_keys,
            context_resource_keys=context_resource_keys,
            io_manager_key=io_manager_key,
            asset_key=asset_key,
            config_type=config_type,
            after=after,
            description=description,
            tags={} if tags is None else tags,
            max_retries=max_retries,
            retry_delay=retry_delay,
            retry_backoff=retry_backoff,
            retry_jitter=retry_jitter,
            no_retry=no_retry,
            trigger=trigger,
            skip_on_upstream_skip=skip_on_upstream_skip,
            local=local,
            closes=closes,
            name=name,
            log_stdout=log_stdout,
            outputs=outputs or None,
            upstream=tuple(upstream),
            mapped=any(i.mapped for i in inputs),
            routed_inputs=any(
                i.upstream_output is not None or i.input_manager_key is not None for i in inputs
            ),
            label=(
                f"asset {asset_key.to_user_string()!r}"
                if asset_key is not None
                else f"multi_asset {name!r}"
                if kind == "asset"
                else f"{kind} {name!r}"
            ),
        )


def io_manager_keys(nodes: Any) -> dict[Any, str | None]:
    """The I/O manager key of each node's output, by node key, and of each declared output of
    a node with several, by ``(node key, output name)``: an input from this run is loaded
    through the I/O manager of the output it takes."""
    keys: dict[Any, str | None] = {}
    for node in nodes:
        keys[node.key] = node.io_manager_key
        for out in node.outputs or ():
            keys[(node.key, out.name)] = out.io_manager_key
    return keys
