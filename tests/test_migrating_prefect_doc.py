"""docs/migrating-from-prefect1.md stays true: every Outfitter name, option and context key it
says works ("as is" or "differs") is there, and every Prefect 1 Task/Flow option is listed."""

from __future__ import annotations

import inspect
import re
from pathlib import Path
from typing import Any

import pytest

import outfitter
from outfitter import Flow, context, task

DOC = Path(__file__).resolve().parents[1] / "docs" / "migrating-from-prefect1.md"
ROW = re.compile(
    r"^\| (?P<prefect>.+?) \| (?P<status>as is|differs|not supported) \| (?P<ours>.+?) \|"
)
OURS = re.compile(r"`outfitter\.([\w.]+)(?:\((\w+)=\)|\[\"(\w+)\"\])?`")

# Prefect 1.4.1's Task.__init__ and Flow.__init__ arguments (src/prefect/core/task.py,
# core/flow.py): each must have a row.
PREFECT_TASK_OPTIONS = [
    "name", "slug", "tags", "max_retries", "retry_delay", "timeout", "trigger",
    "skip_on_upstream_skip", "cache_for", "cache_validator", "cache_key", "checkpoint",
    "state_handlers", "on_failure", "log_stdout", "result", "target", "task_run_name", "nout",
]  # fmt: skip
PREFECT_FLOW_OPTIONS = [
    "name", "schedule", "executor", "environment", "run_config", "storage", "tasks", "edges",
    "reference_tasks", "state_handlers", "on_failure", "validate", "result",
]  # fmt: skip


def rows() -> list[tuple[str, str, str]]:
    found = []
    for line in DOC.read_text().splitlines():
        match = ROW.match(line)
        if match:
            found.append((match["prefect"], match["status"], match["ours"]))
    return found


def claims() -> list[tuple[str, str | None, str | None]]:
    """(dotted name, option, context key) for each Outfitter name a working row gives."""
    out = []
    for _, status, ours in rows():
        if status == "not supported":
            continue
        for match in OURS.finditer(ours):
            out.append((match[1], match[2], match[3]))
    return out


def resolve(dotted: str) -> Any:
    obj: Any = outfitter
    for part in dotted.split("."):
        if obj in (outfitter.Flow, outfitter.Task) and not hasattr(obj, part):
            obj = obj("doc")  # an attribute set on each instance (flow.constants)
        assert hasattr(obj, part), f"docs/migrating-from-prefect1.md says outfitter.{dotted} works"
        obj = getattr(obj, part)
    return obj


def test_the_tables_list_names() -> None:
    assert len(rows()) > 120
    assert all(r[2] == "—" for r in rows() if r[1] == "not supported")
    for prefect, status, ours in rows():
        if status != "not supported":
            assert OURS.search(ours), f"row {prefect!r} says it works but names no Outfitter name"


@pytest.mark.parametrize(("dotted", "option", "key"), claims(), ids=lambda v: str(v))
def test_every_name_said_to_work_is_there(dotted: str, option: str | None, key: str | None) -> None:
    obj = resolve(dotted)
    if option is not None:
        target = obj.__init__ if isinstance(obj, type) else obj
        assert option in inspect.signature(target).parameters, f"{dotted}({option}=) is missing"
    if key is not None:
        assert key in RUNNING_KEYS, f"outfitter.context[{key!r}] is missing in a task run"


@task
def _keys() -> list[str]:
    return sorted(context)


def _running_keys() -> list[str]:
    with Flow("keys") as flow:
        out = _keys()
    result: list[str] = flow.run().result[out].result
    return result


RUNNING_KEYS = _running_keys()


@pytest.mark.parametrize("option", PREFECT_TASK_OPTIONS)
def test_every_prefect_task_option_has_a_row(option: str) -> None:
    listed = " ".join(r[0] for r in rows())
    assert re.search(rf"`Task\((?:[^`]*\b)?{option}=", listed), f"Task({option}=) has no row"


@pytest.mark.parametrize("option", PREFECT_FLOW_OPTIONS)
def test_every_prefect_flow_option_has_a_row(option: str) -> None:
    listed = " ".join(r[0] for r in rows())
    assert re.search(rf"`Flow\((?:[^`]*\b)?{option}=", listed), f"Flow({option}=) has no row"
