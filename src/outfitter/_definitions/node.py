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

__all__ = ["NO_DEFAULT", "InputSpec", "NodeSpec"]


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
    upstream: tuple[str, ...] = field(init=False)
    """Node keys this node waits for (data inputs first, then ordering-only deps)."""
    mapped: bool = field(init=False)
    """Whether any input is mapped (the node runs once per element)."""
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
        no_retry: tuple[type[BaseException], ...] = (),
        trigger: Callable[..., Any] | None = None,
        skip_on_upstream_skip: bool = False,
        local: bool = False,
        closes: bool = False,
        name: str = "",
        log_stdout: bool = False,
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
            no_retry=no_retry,
            trigger=trigger,
            skip_on_upstream_skip=skip_on_upstream_skip,
            local=local,
            closes=closes,
            name=name,
            log_stdout=log_stdout,
            upstream=tuple(upstream),
            mapped=any(i.mapped for i in inputs),
            label=(
                f"asset {asset_key.to_user_string()!r}"
                if asset_key is not None
                else f"{kind} {name!r}"
            ),
        )
