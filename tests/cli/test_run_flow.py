"""`outfitter run-flow`: runs a Prefect-style Flow found in a file (the only one, or --flow
NAME), parameters as YAML scalars, recorded in the local instance; unknown and missing
parameters, unknown flows and failing tasks are clear errors."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from outfitter import Instance

FLOWS = """
import json
from outfitter import Flow, Parameter, task

@task
def record(path: str, n: int, ratio: float, loud: bool, label: str) -> None:
    with open(path, "w") as f:
        json.dump({"n": n, "ratio": ratio, "loud": loud, "label": label,
                   "types": [type(v).__name__ for v in (n, ratio, loud, label)]}, f)

@task
def explode(n: int) -> int:
    raise RuntimeError(f"cannot handle {n}")

with Flow("recorder") as recorder:
    record(Parameter("path"), Parameter("n"), Parameter("ratio", default=0.5),
           Parameter("loud", default=False), Parameter("label", default="x"))

with Flow("exploder") as exploder:
    explode(Parameter("n", default=1))
"""

ONE_FLOW = """
from outfitter import Flow, Parameter, task

@task
def double(n: int) -> int:
    return n * 2

with Flow("doubler") as flow:
    double(Parameter("n"))
"""


@pytest.fixture
def project(outfitter_cli: Any, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The test's directory (its home at ``home/``), holding the flow files."""
    outfitter_cli.write("flows.py", FLOWS)
    outfitter_cli.write("one.py", ONE_FLOW)
    outfitter_cli.write("none.py", "x = 1\n")
    monkeypatch.chdir(outfitter_cli.cwd)
    return Path(outfitter_cli.cwd)


def test_the_only_flow_runs_and_is_recorded(project: Path, invoke: Any) -> None:
    """A file with one flow needs no --flow; the run is in the local instance."""
    done = invoke("run-flow", "-f", "one.py", "--param", "n=4")
    assert done.exit_code == 0, done.output
    assert done.stdout.startswith("run ")
    assert "SUCCESS" in done.stdout
    run_id = done.stdout.split()[1]
    with Instance.local(project / "home") as instance:
        run = instance.get_run(run_id)
    assert run is not None
    assert run.job_name == "doubler"
    assert run.status.value == "SUCCESS"
    assert run.run_config["parameters"] == {"n": 4}


def test_parameters_are_yaml_scalars(project: Path, invoke: Any) -> None:
    """`5` is an int, `2.5` a float, `true` a bool; text (and a list) stays a string."""
    out = project / "out.json"
    done = invoke(
        "run-flow",
        "-f",
        "flows.py",
        "--flow",
        "recorder",
        "-p",
        f"path={out}",
        "-p",
        "n=5",
        "-p",
        "ratio=2.5",
        "-p",
        "loud=true",
        "-p",
        "label=[a, b]",
    )
    assert done.exit_code == 0, done.output
    seen = json.loads(out.read_text())
    assert seen == {
        "n": 5,
        "ratio": 2.5,
        "loud": True,
        "label": "[a, b]",
        "types": ["int", "float", "bool", "str"],
    }


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["-f", "flows.py", "--flow", "recorder", "-p", "nn=1"], "unknown parameter 'nn'"),
        (["-f", "flows.py", "--flow", "recorder", "-p", "n=1"], "parameter 'path' was not given"),
        (["-f", "flows.py"], "flows.py defines 2 flows: exploder, recorder"),
        (["-f", "flows.py", "--flow", "recordr"], "no flow named 'recordr'. Did you mean"),
        (["-f", "none.py"], "none.py defines no Flow at module level"),
        (["-f", "one.py", "-p", "n"], "--param 'n' is not NAME=VALUE"),
        (["-f", "one.py", "-p", "n=1", "-p", "n=2"], "--param 'n' given twice"),
        (["-f", "missing.py"], "no such file: missing.py"),
    ],
)
def test_mistakes_are_one_clear_error(
    project: Path, args: list[str], expected: str, invoke: Any
) -> None:
    """Each mistake exits 1 with a message naming it, and no traceback."""
    done = invoke("run-flow", *args)
    assert done.exit_code == 1, done.output
    assert expected in done.stderr
    assert "Traceback" not in done.output
    assert isinstance(done.exception, SystemExit)


def test_a_failing_task_exits_1_with_its_user_traceback(project: Path, invoke: Any) -> None:
    """The failing task is named with its error and the user's frames."""
    done = invoke("run-flow", "-f", "flows.py", "--flow", "exploder", "-p", "n=3")
    assert done.exit_code == 1, done.output
    assert "FAILURE" in done.stdout
    assert "task 'explode' failed" in done.stderr
    assert "RuntimeError: cannot handle 3" in done.stderr
    assert 'flows.py", line' in done.stderr
    assert "outfitter/_execution" not in done.stderr
