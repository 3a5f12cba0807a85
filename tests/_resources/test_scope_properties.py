"""The lifecycle invariant of RunScope over random resource graphs and random failures.

Every resource that opened closes exactly once, in exact reverse order of opening; nothing that
did not open is closed; opening follows dependency order with ties by key name; and the error
raised is the one the failures call for.
"""

from __future__ import annotations

import asyncio
import heapq
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, replace
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

import outfitter as of
from outfitter._resources.scope import RunScope
from outfitter.exceptions import ResourceInitError, TeardownError

NAMES = ["api", "cache", "db", "events", "files", "gpu", "http", "index"]


class StepFailed(Exception):
    """Raised inside the scope's block to simulate a failing step."""


class SetupFailed(Exception):
    """Raised by a resource's setup."""


class TeardownFailed(Exception):
    """Raised by a resource's teardown."""


@dataclass(frozen=True)
class Scenario:
    keys: tuple[str, ...]
    deps: dict[str, tuple[str, ...]]
    requested: tuple[str, ...]
    fail_setup: frozenset[str]
    fail_teardown: frozenset[str]
    step_fails: bool
    use_open: bool
    asynchronous: frozenset[str]


@st.composite
def scenarios(draw: st.DrawFn, allow_async: bool = False) -> Scenario:
    n = draw(st.integers(min_value=1, max_value=8))
    # names are shuffled so that dependency direction and name order are unrelated
    keys = tuple(draw(st.permutations(NAMES))[:n])
    deps = {
        key: tuple(sorted(draw(st.sets(st.sampled_from(keys[:i]), max_size=3)))) if i else ()
        for i, key in enumerate(keys)
    }
    return Scenario(
        keys=keys,
        deps=deps,
        requested=tuple(draw(st.lists(st.sampled_from(keys), min_size=1, max_size=n))),
        fail_setup=frozenset(draw(st.sets(st.sampled_from(keys), max_size=2))),
        fail_teardown=frozenset(draw(st.sets(st.sampled_from(keys), max_size=3))),
        step_fails=draw(st.booleans()),
        use_open=draw(st.booleans()),
        asynchronous=frozenset(draw(st.sets(st.sampled_from(keys))) if allow_async else ()),
    )


def build(s: Scenario, log: list[tuple[str, str]]) -> dict[str, Any]:
    """Generator resources (async ones where the scenario says) that record into ``log``."""

    def sync_resource(name: str) -> of.ResourceDefinition:
        def fn() -> Iterator[str]:
            if name in s.fail_setup:
                raise SetupFailed(name)
            log.append(("open", name))
            yield name
            log.append(("close", name))
            if name in s.fail_teardown:
                raise TeardownFailed(name)

        return of.ResourceDefinition(fn, required_resource_keys=s.deps[name])

    def async_resource(name: str) -> of.ResourceDefinition:
        async def fn() -> AsyncIterator[str]:
            await asyncio.sleep(0)
            if name in s.fail_setup:
                raise SetupFailed(name)
            log.append(("open", name))
            yield name
            await asyncio.sleep(0)
            log.append(("close", name))
            if name in s.fail_teardown:
                raise TeardownFailed(name)

        return of.ResourceDefinition(fn, required_resource_keys=s.deps[name])

    return {k: async_resource(k) if k in s.asynchronous else sync_resource(k) for k in s.keys}


def model(s: Scenario) -> tuple[list[str], str | None]:
    """An independent model: the keys expected to open, in order, and the key whose setup fails
    (None if none does)."""
    users: dict[str, list[str]] = {k: [] for k in s.keys}
    waiting = {k: len(s.deps[k]) for k in s.keys}
    for k in s.keys:
        for d in s.deps[k]:
            users[d].append(k)
    ready = [k for k in s.keys if not waiting[k]]
    heapq.heapify(ready)
    order: list[str] = []
    while ready:
        k = heapq.heappop(ready)
        order.append(k)
        for u in users[k]:
            waiting[u] -= 1
            if not waiting[u]:
                heapq.heappush(ready, u)
    position = {k: i for i, k in enumerate(order)}

    def closure(key: str) -> list[str]:
        needed = {key}
        stack = [key]
        while stack:
            for d in s.deps[stack.pop()]:
                if d not in needed:
                    needed.add(d)
                    stack.append(d)
        return sorted(needed, key=position.__getitem__)

    requested = sorted(set(s.requested), key=position.__getitem__) if s.use_open else s.requested
    expected: list[str] = []
    for key in requested:
        for k in closure(key):
            if k in expected:
                continue
            if k in s.fail_setup:
                return expected, k
            expected.append(k)
    return expected, None


def check(s: Scenario, log: list[tuple[str, str]], raised: BaseException | None) -> None:
    opened = [k for e, k in log if e == "open"]
    closed = [k for e, k in log if e == "close"]
    expected_open, failing = model(s)
    assert opened == expected_open
    assert closed == list(reversed(opened))
    assert len(set(closed)) == len(closed)
    failed_teardowns = [k for k in closed if k in s.fail_teardown]
    if failing is not None:
        assert isinstance(raised, ResourceInitError)
        assert raised.key == failing
        assert isinstance(raised.__cause__, SetupFailed)
        if failed_teardowns:
            notes = "\n".join(getattr(raised.__cause__, "__notes__", []))
            assert all(repr(k) in notes for k in failed_teardowns)
    elif s.step_fails:
        assert isinstance(raised, StepFailed)
        notes = "\n".join(getattr(raised, "__notes__", []))
        assert all(repr(k) in notes for k in failed_teardowns)
    elif failed_teardowns:
        assert isinstance(raised, TeardownError)
        assert raised.keys == tuple(failed_teardowns)
        assert all(isinstance(e, TeardownFailed) for e in raised.errors.values())
    else:
        assert raised is None


@settings(max_examples=200, deadline=None)
@given(scenarios())
def test_sync_lifecycle_invariant(s: Scenario) -> None:
    """Random graphs, requests and failures never leak, double-close or close out of order."""
    log: list[tuple[str, str]] = []
    resources = build(s, log)
    raised: BaseException | None = None
    try:
        with RunScope(resources) as scope:
            if s.use_open:
                scope.open(s.requested)
            else:
                for key in s.requested:
                    scope.get(key)
            if s.step_fails:
                raise StepFailed
    except (ResourceInitError, TeardownError, StepFailed) as exc:
        raised = exc
    check(s, log, raised)


@settings(max_examples=100, deadline=None)
@given(scenarios(allow_async=True))
def test_async_lifecycle_invariant(s: Scenario) -> None:
    """The same invariant holds for async scopes mixing sync and async generator resources."""
    log: list[tuple[str, str]] = []
    resources = build(s, log)

    async def run() -> None:
        async with RunScope(resources) as scope:
            if s.use_open:
                await scope.aopen(s.requested)
            else:
                for key in s.requested:
                    await scope.aget(key)
            if s.step_fails:
                raise StepFailed

    raised: BaseException | None = None
    try:
        asyncio.run(run())
    except (ResourceInitError, TeardownError, StepFailed) as exc:
        raised = exc
    check(s, log, raised)


@settings(max_examples=100, deadline=None)
@given(scenarios(), st.integers(min_value=1, max_value=3))
def test_step_scopes_keep_the_invariant(s: Scenario, steps: int) -> None:
    """With every resource step-scoped, each step scope opens and closes its own set in reverse."""
    s = replace(s, use_open=False)  # step scopes are driven key by key
    log: list[tuple[str, str]] = []
    resources = {
        k: of.ResourceDefinition(d.resource_fn, required_resource_keys=s.deps[k], scope="step")
        for k, d in build(s, log).items()
    }
    with RunScope(resources) as run:
        for _ in range(steps):
            start = len(log)
            raised: BaseException | None = None
            try:
                with run.step_scope() as step:
                    for key in s.requested:
                        step.get(key)
                    if s.step_fails:
                        raise StepFailed
            except (ResourceInitError, TeardownError, StepFailed) as exc:
                raised = exc
            check(s, log[start:], raised)
        assert run.opened == ()
    assert len(log) == steps * 2 * len(model(s)[0])
