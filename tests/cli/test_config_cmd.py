"""`outfitter config scaffold` and `outfitter config validate` (issue 12).

Like Dagster's `dagster job scaffold_config` (dagster-io/dagster,
python_modules/dagster/dagster/_cli/config_scaffolder.py), scaffold prints the run config a job
needs as YAML; here it covers asset selections and flows too, and required values without a
default are `<required: TYPE>` placeholders that `validate` reports.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

DEFS = """
import outfitter as of
from pydantic import SecretStr

class Db(of.ConfigurableResource):
    host: str = "localhost"
    password: SecretStr

class LimitConfig(of.Config):
    limit: int = 10

@of.asset(key_prefix="raw")
def users(db: Db, config: LimitConfig) -> int:
    return config.limit

@of.asset
def plain() -> int:
    return 1

@of.op
def hello() -> str:
    return "hi"

@of.job
def hello_job() -> None:
    hello()

@of.task
def uses_db(db: Db) -> str:
    return db.host

with of.Flow("db_flow", resources={"db": Db.configure_at_launch()}) as flow:
    uses_db()

defs = of.Definitions(assets=[users, plain], jobs=[hello_job],
                      resources={"db": Db.configure_at_launch()})
"""


@pytest.fixture
def project(outfitter_cli: Any, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The definitions file, in the test's directory (a module name of its own, for -m)."""
    name = f"cfgdefs_{outfitter_cli.cwd.name.replace('-', '_')}"
    monkeypatch.chdir(outfitter_cli.cwd)
    return Path(outfitter_cli.write(f"{name}.py", DEFS))


@pytest.fixture
def run(outfitter_cli: Any) -> Callable[..., tuple[int, str]]:
    """``run(*args)``: ``outfitter config ARGS`` in process (exit code, output)."""

    def config(*args: str) -> tuple[int, str]:
        result = outfitter_cli("config", *args)
        return result.exit_code, result.output

    return config


def test_scaffold_prints_yaml_for_what_the_selection_opens(project: Path, run: Any) -> None:
    code, out = run("scaffold", "-f", str(project))
    assert code == 0, out
    assert yaml.safe_load(out) == {
        "resources": {"db": {"config": {"host": "localhost", "password": "<required: SecretStr>"}}},
        "ops": {"raw__users": {"config": {"limit": 10}}},
    }
    code, out = run("scaffold", "-f", str(project), "--select", "plain")
    assert (code, out) == (0, "{}\n")
    # the selection syntax of `outfitter materialize --select`
    code, out = run("scaffold", "-f", str(project), "--select", "raw/users,plain")
    assert code == 0, out
    assert "raw__users" in out


def test_scaffold_to_a_file_then_validate_it(project: Path, run: Any) -> None:
    target = project.parent / "run.yaml"
    code, out = run("scaffold", "-f", str(project), "--output", str(target))
    assert code == 0, out
    code, out = run("validate", "-f", str(project), "--config", str(target))
    assert code == 1
    assert "1 problem(s)" in out
    assert "resources.db.config.password: required but not given" in out
    assert "Traceback" not in out
    target.write_text(target.read_text().replace("'<required: SecretStr>'", "{env: PW}"))
    code, out = run("validate", "-f", str(project), "--config", str(target))
    assert code == 0, out
    assert "valid" in out


def test_validate_lists_every_problem_with_hints(project: Path, run: Any) -> None:
    bad = project.parent / "bad.yaml"
    bad.write_text("ops:\n  users:\n    config:\n      limit: x\n")
    code, out = run("validate", "-f", str(project), "-c", str(bad))
    assert code == 1
    assert "ops.users: run config for step 'users'" in out
    assert "raw__users" in out  # the valid step names are listed
    assert "resources.db.config.password" in out


def test_job_and_flow_selection(project: Path, run: Any) -> None:
    code, out = run("scaffold", "-f", str(project), "--job", "hello_job")
    assert (code, out) == (0, "{}\n")
    code, out = run("scaffold", "-f", str(project), "--flow", "db_flow")
    assert code == 0, out
    assert "password: '<required: SecretStr>'" in out
    code, out = run("scaffold", "-f", str(project), "--flow", "nope")
    assert code == 1
    assert "no flow named 'nope'" in out
    code, out = run("scaffold", "-f", str(project), "--job", "x", "--select", "plain")
    assert code == 1
    assert "at most one of --select, --job and --flow" in out


def test_module_option(project: Path, run: Any) -> None:
    code, out = run("scaffold", "-m", project.stem)
    assert code == 0, out
    assert "raw__users" in out


def test_materialize_prints_every_problem_and_the_example(
    project: Path, outfitter_cli: Any
) -> None:
    """The launch error of `outfitter materialize` keeps the paths and the valid config."""
    bad = project.parent / "bad.yaml"
    bad.write_text("ops:\n  raw__users:\n    config:\n      limit: x\n")
    result = outfitter_cli("materialize", "-f", str(project), "-c", str(bad))
    assert result.exit_code == 1
    out = result.output
    assert "ops.raw__users.config.limit:" in out
    assert "resources.db.config.password:" in out
    assert "password: '<required: SecretStr>'" in out
    assert "Traceback" not in out
