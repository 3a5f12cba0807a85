"""The lifecycle invariant, over random resource graphs and random failures: every resource that
opened closes exactly once, in exact reverse order of opening; nothing else is closed."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

import outfitter as of
from outfitter._resources.scope import RunScope
from outfitter.exceptions import ResourceInitError, TeardownError


class StepFailed(Exception):
    pass


@st.composite
def scenarios(draw: st.DrawFn) -> dict[str, Any]:
    n = draw(st.integers(min_value=1, max_value=8))
    keys = [f"r{i}" for i in range(n)]
    deps = {
        key: sorted(draw(st.sets(st.sampled_from(keys[:i]), max_size=3)) if i else [])
        for i, key in enumerate(keys)
    }
    return {
        "keys": keys,
        "deps": deps,
        "requested": draw(st.lists(st.sampled_from(keys), min_size=1, max_size=n)),
        "fail_setup": draw(st.sets(st.sampled_from(keys), max_size=2)),
        "fail_teardown": draw(st.sets(st.sampled_from(keys), max_size=3)),
        "step_fails": draw(st.booleans()),
        "async_mode": draw(st.booleans()),
    }


def build(scenario: dict[str, Any], log: list[tuple[str, str]]) -> dict[str, Any]:
    resources: dict[str, Any] = {}
    for key in scenario["keys"]:

        def make(name: str) -> Any:
            def fn(context: Any) -> Iterator[str]:
                if name in scenario["fail_setup"]:
                    raise RuntimeError(f"setup {name}")
                log.append(("open", name))
                yield name
                log.append(("close", name))
                if name in scenario["fail_teardown"]:
                    raise RuntimeError(f"teardown {name}")

            return of.ResourceDefinition(fn, required_resource_keys=scenario["deps"][name])

        resources[key] = make(key)
    return resources


@settings(max_examples=150, deadline=None)
@given(scenarios())
def test_every_opened_resource_closes_once_in_reverse(scenario: dict[str, Any]) -> None:
    """Random graphs and failures never leak, double-close or close out of order."""
    log: list[tuple[str, str]] = []
    resources = build(scenario, log)
    raised: BaseException | None = None
    try:
        with RunScope(resources) as scope:
            for key in scenario["requested"]:
                scope.get(key)
            if scenario["step_fails"]:
                raise StepFailed
    except (ResourceInitError, TeardownError, StepFailed) as exc:
        raised = exc
    opened = [k for e, k in log if e == "open"]
    closed = [k for e, k in log if e == "close"]
    assert closed == list(reversed(opened))
    assert len(set(opened)) == len(opened)
    needed: set[str] = set()
    todo = list(scenario["requested"])
    while todo:
        key = todo.pop()
        if key not in needed:
            needed.add(key)
            todo.extend(scenario["deps"][key])
    if needed & scenario["fail_setup"]:
        assert isinstance(raised, ResourceInitError)
        assert raised.key in scenario["fail_setup"]
        assert set(opened).isdisjoint(scenario["fail_setup"])
    elif scenario["step_fails"]:
        assert isinstance(raised, StepFailed)
    elif set(opened) & scenario["fail_teardown"]:
        assert isinstance(raised, TeardownError)
        assert set(raised.keys) == set(opened) & scenario["fail_teardown"]
    else:
        assert raised is None


@settings(max_examples=60, deadline=None)
@given(scenarios())
def test_async_scopes_keep_the_same_invariant(scenario: dict[str, Any]) -> None:
    """The async path closes exactly what opened, in reverse."""
    import asyncio

    log: list[tuple[str, str]] = []
    resources = build(scenario, log)

    async def main() -> None:
        async with RunScope(resources) as scope:
            for key in scenario["requested"]:
                await scope.aget(key)

    with contextlib.suppress(ResourceInitError, TeardownError):
        asyncio.run(main())
    opened = [k for e, k in log if e == "open"]
    closed = [k for e, k in log if e == "close"]
    assert closed == list(reversed(opened))
