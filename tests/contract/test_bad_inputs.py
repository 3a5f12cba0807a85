"""Bad input never meets a raw traceback (DESIGN §3 "Errors"): every malformed input a user can
give, through the Python API, YAML/JSON run config, definitions or the CLI, ends in an Outfitter
error (also the builtin Dagster or Prefect 1 would raise, where there is one) whose message says
what is wrong, or a clean CLI exit with such a message; nothing is recorded half-way."""

from __future__ import annotations

import math
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

import outfitter as of
from outfitter.cli.app import app
from outfitter.exceptions import OutfitterError


class Db(of.ConfigurableResource):
    url: str
    port: int = 5432


@of.asset
def users(db: Db) -> int:
    return db.port


@of.op
def one() -> int:
    return 1


@of.job
def single() -> None:
    one()


@of.task
def inc(x: int) -> int:
    return x + 1


with of.Flow("bad-inputs") as FLOW:
    inc(of.Parameter("x", default=1))

RESOURCES = {"db": Db.configure_at_launch()}

DEEP: dict[str, Any] = {}
_cursor = DEEP
for _ in range(3000):
    _cursor["a"] = {}
    _cursor = _cursor["a"]

# -- run config given to the Python API, to jobs and flows alike -------------------------------

RUN_CONFIGS: dict[str, Any] = {
    "a list": [1, 2],
    "a string": "resources: nope",
    "an int": 42,
    "bytes": b"\x00\xff",
    "resources as a list": {"resources": ["db"]},
    "resources as a string": {"resources": "db"},
    "resource entry as a list": {"resources": {"db": [1]}},
    "resource config as a list": {"resources": {"db": {"config": [1]}}},
    "resource config as a string": {"resources": {"db": {"config": "url"}}},
    "unknown resource key": {"resources": {"dbb": {"config": {"url": "x"}}}},
    "unknown field": {"resources": {"db": {"config": {"url": "x", "nope": 1}}}},
    "ill-typed field": {"resources": {"db": {"config": {"url": "x", "port": "many"}}}},
    "missing required field": {"resources": {"db": {"config": {"port": 1}}}},
    "extra entry next to config": {"resources": {"db": {"config": {"url": "x"}, "bogus": 1}}},
    "non-string resource key": {"resources": {1: {"config": {"url": "x"}}}},
    "ops as a list": {"ops": [1]},
    "unknown op": {"ops": {"nope": {"config": {}}}, "resources": {"db": {"config": {"url": "x"}}}},
    "execution as a list": {"execution": ["multiprocess"]},
    "unknown executor": {"execution": {"threads": {}}},
    "negative max_concurrent": {"execution": {"multiprocess": {"config": {"max_concurrent": -3}}}},
    "max_concurrent not a number": {
        "execution": {"multiprocess": {"config": {"max_concurrent": "four"}}}
    },
    "unknown executor option": {"execution": {"multiprocess": {"config": {"workers": 2}}}},
    "3000-deep config": {"resources": {"db": {"config": DEEP}}},
    "unknown section": {"resource": {"db": {"config": {"url": "x"}}}},
}


@pytest.mark.parametrize("run_config", RUN_CONFIGS.values(), ids=RUN_CONFIGS.keys())
@pytest.mark.parametrize("entry", ["materialize", "job", "flow"])
def test_malformed_run_config_is_an_outfitter_error(entry: str, run_config: Any) -> None:
    """Every entry point refuses it with one OutfitterError, before recording anything."""
    with of.Instance.ephemeral() as instance:
        with pytest.raises(OutfitterError):
            if entry == "materialize":
                of.materialize(
                    [users], resources=RESOURCES, run_config=run_config, instance=instance
                )
            elif entry == "job":
                of.Definitions(
                    assets=[users], resources=RESOURCES
                ).get_implicit_global_asset_job_def().execute(
                    run_config=run_config, instance=instance
                )
            else:
                FLOW.run(run_config=run_config, instance=instance, resources=RESOURCES)
        assert instance.get_runs() == []


# -- definitions ------------------------------------------------------------------------------


def _deep_resource() -> Any:
    """A resource whose config value nests 5,000 levels (it blew the stack when checked)."""

    class Holder(of.ConfigurableResource):
        data: Any = None

    value: dict[str, Any] = {}
    cursor = value
    for _ in range(5000):
        cursor["a"] = {}
        cursor = cursor["a"]
    return Holder(data=value)


DEFINITIONS: dict[str, Callable[[], Any]] = {
    "asset(42)": lambda: of.asset(42),  # type: ignore[call-overload]
    "asset('name')": lambda: of.asset("users"),  # type: ignore[call-overload]
    "op(42)": lambda: of.op(42),  # type: ignore[call-overload]
    "job(42)": lambda: of.job(42),  # type: ignore[call-overload]
    "graph(42)": lambda: of.graph(42),
    "task(42)": lambda: of.task(42),  # type: ignore[call-overload]
    "sensor(None)": lambda: of.sensor(None)(None),  # type: ignore[call-overload,arg-type]
    "schedule(None)": lambda: of.schedule(None),  # type: ignore[arg-type]
    "schedule with a bad cron": lambda: of.schedule("every day")(lambda: None),
    "schedule that never fires": lambda: of.schedule("0 0 30 2 *")(lambda: None),
    "schedule in an unknown timezone": lambda: of.schedule(
        "0 0 * * *", execution_timezone="Mars/Olympus"
    )(lambda: None),
    "sensor with a nan interval": lambda: of.sensor(minimum_interval_seconds=math.nan)(
        lambda: None
    ),
    "sensor with a negative interval": lambda: of.sensor(minimum_interval_seconds=-1)(lambda: None),
    "asset key escaping storage": lambda: of.asset(key_prefix=["..", ".."])(lambda: 1),
    "asset key with a separator": lambda: of.asset(key_prefix=["a/b"])(lambda: 1),
    "asset key that is absolute": lambda: of.asset(key_prefix=["/etc"])(lambda: 1),
    "empty asset key part": lambda: of.AssetKey(["a", ""]),
    "AssetKey(42)": lambda: of.AssetKey(42),  # type: ignore[arg-type]
    "Definitions(assets=42)": lambda: of.Definitions(assets=42),  # type: ignore[arg-type]
    "Definitions(assets=[42])": lambda: of.Definitions(assets=[42]),  # type: ignore[list-item]
    "Definitions(resources=42)": lambda: of.Definitions(resources=42),
    "Definitions(resources={1: 'x'})": lambda: of.Definitions(resources={1: "x"}),
    "Definitions(jobs=[42])": lambda: of.Definitions(jobs=[42]),  # type: ignore[list-item]
    "Definitions(sensors=[42])": lambda: of.Definitions(sensors=[42]),
    "Definitions(executor='dask')": lambda: of.Definitions(assets=[users], executor="dask"),
    "5000-deep resource config": _deep_resource,
    "with_resources(42, {})": lambda: of.with_resources(42, {}),  # type: ignore[arg-type]
    "Flow(None)": lambda: of.Flow(None),  # type: ignore[arg-type]
    "Flow('')": lambda: of.Flow(""),
    "Parameter(42)": lambda: of.Parameter(42),  # type: ignore[arg-type]
    "Task(max_retries='2')": lambda: of.Task(max_retries="2"),  # type: ignore[arg-type]
    "Task(max_retries=-1)": lambda: of.Task(max_retries=-1),
    "task with retry_delay=-1": lambda: of.task(retry_delay=-1)(lambda: None),
    "resource(scope='weekly')": lambda: of.resource(scope="weekly")(lambda: 1),
    "multiprocess_executor(max_concurrent=-3)": lambda: of.multiprocess_executor(max_concurrent=-3),
    "dask_executor(n_workers='two')": lambda: of.dask_executor(n_workers="two"),
    "materialize(42)": lambda: of.materialize(42),  # type: ignore[arg-type]
    "materialize([42])": lambda: of.materialize([42]),  # type: ignore[list-item]
    "materialize(selection=42)": lambda: of.materialize([users], selection=42),  # type: ignore[arg-type]
    "build_resources(42)": lambda: of.build_resources(42),
    "RunRequest(run_key=42)": lambda: of.RunRequest(run_key=42),  # type: ignore[arg-type]
    "RunConfig(resources=[...])": lambda: of.RunConfig(resources=["db"]),  # type: ignore[arg-type]
    "RunConfig(ops='x')": lambda: of.RunConfig(ops="x"),  # type: ignore[arg-type]
    "Instance.local(a file)": lambda: of.Instance.local(Path(__file__)),
}


@pytest.mark.parametrize("make", DEFINITIONS.values(), ids=DEFINITIONS.keys())
def test_malformed_definitions_are_outfitter_errors(make: Callable[[], Any]) -> None:
    with pytest.raises(OutfitterError):
        make()


# -- the command line ------------------------------------------------------------------------

CODE = """
import outfitter as of

class Db(of.ConfigurableResource):
    url: str

@of.asset
def users(db: Db) -> int:
    return 1

defs = of.Definitions(assets=[users], resources={"db": Db.configure_at_launch()})
"""

CONFIG_FILES: dict[str, tuple[str, str]] = {
    "yaml syntax error": ("run.yaml", "resources: [unclosed"),
    "yaml tab indentation": ("run.yaml", "resources:\n\tdb: 1"),
    "yaml list": ("run.yaml", "- 1\n- 2"),
    "yaml scalar": ("run.yaml", "hello"),
    "yaml binary": ("run.yaml", "\x00\x01\x02"),
    "json syntax error": ("run.json", '{"resources": '),
    "json list": ("run.json", "[1, 2]"),
    "yaml resource config a list": ("run.yaml", "resources:\n  db:\n    config: [1]\n"),
    "yaml unknown field": ("run.yaml", "resources:\n  db:\n    config:\n      urll: x\n"),
    "yaml 3000-deep": ("run.yaml", "a: " * 3000 + "1"),
    "yaml anchors bomb": (
        "run.yaml",
        "a: &a [1,1,1,1,1,1,1,1,1]\n"
        + "".join(
            f"{chr(98 + i)}: &{chr(98 + i)} [*{chr(97 + i)},*{chr(97 + i)},*{chr(97 + i)},"
            f"*{chr(97 + i)},*{chr(97 + i)},*{chr(97 + i)},*{chr(97 + i)},*{chr(97 + i)}]\n"
            for i in range(8)
        ),
    ),
    "not utf-8": ("run.yaml", "config: \udcff"),
}


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("OUTFITTER_HOME", str(tmp_path / "home"))
    (tmp_path / "defs.py").write_text(CODE)
    return tmp_path


def assert_clean_failure(result: Any, *expected: str) -> None:
    output = result.output
    assert result.exit_code != 0, output
    assert "Traceback" not in output, output
    assert not isinstance(result.exception, Exception) or isinstance(
        result.exception, SystemExit
    ), repr(result.exception)
    for text in expected:
        assert text in output, output


@pytest.mark.parametrize("name", CONFIG_FILES, ids=CONFIG_FILES.keys())
def test_bad_config_files_exit_cleanly(name: str, workdir: Path) -> None:
    filename, text = CONFIG_FILES[name]
    path = workdir / filename
    if name == "not utf-8":
        path.write_bytes(b"config: \xff\xfe")
    else:
        path.write_text(text)
    result = CliRunner().invoke(app, ["materialize", "-f", "defs.py", "-c", str(path)])
    assert_clean_failure(result, filename)


CLI_CALLS: dict[str, list[str]] = {
    "runs list --limit huge": ["runs", "list", "--limit", "99999999999999999999999"],
    "runs list --limit -1": ["runs", "list", "--limit", "-1"],
    "runs list --status bogus": ["runs", "list", "--status", "BOGUS"],
    "runs show unknown": ["runs", "show", "nope"],
    "daemon --poll -1": ["daemon", "-f", "defs.py", "--poll", "-1"],
    "daemon --poll nan": ["daemon", "-f", "defs.py", "--poll", "nan"],
    "materialize no file": ["materialize", "-f", "missing.py"],
    "materialize both -f and -m": ["materialize", "-f", "defs.py", "-m", "defs"],
    "materialize unknown module": ["materialize", "-m", "no_such_module_here"],
    "materialize unknown select": ["materialize", "-f", "defs.py", "--select", "nope"],
    "materialize missing launch config": ["materialize", "-f", "defs.py"],
    "materialize config is a directory": ["materialize", "-f", "defs.py", "-c", "."],
    "definitions check missing file": ["definitions", "check", "-f", "missing.py"],
    "sensors preview unknown": ["sensors", "preview", "-f", "defs.py", "nope"],
    "schedules start unknown": ["schedules", "start", "-f", "defs.py", "nope"],
}


@pytest.mark.parametrize("args", CLI_CALLS.values(), ids=CLI_CALLS.keys())
def test_bad_command_lines_exit_cleanly(args: list[str], workdir: Path) -> None:
    assert_clean_failure(CliRunner().invoke(app, args))


BROKEN_FILES: dict[str, str] = {
    "syntax error": "def broken(:\n",
    "import error": "import no_such_module_anywhere\n",
    "raises at import": "raise RuntimeError('boom at import')\n",
    "no defs": "x = 1\n",
    "defs of the wrong type": "defs = 42\n",
    "invalid definitions": "import outfitter as of\n"
    "@of.asset\ndef a(missing: of.ResourceParam[int]) -> int:\n    return missing\n"
    "defs = of.Definitions(assets=[a])\n",
}


@pytest.mark.parametrize("code", BROKEN_FILES.values(), ids=BROKEN_FILES.keys())
@pytest.mark.parametrize("command", ["materialize", "definitions check", "resources list"])
def test_broken_definition_files_exit_cleanly(code: str, command: str, workdir: Path) -> None:
    (workdir / "broken.py").write_text(code)
    result = CliRunner().invoke(app, [*command.split(), "-f", "broken.py"])
    assert_clean_failure(result)


# -- damaged instances -----------------------------------------------------------------------


def test_a_home_that_is_a_file_is_a_clean_error(tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.write_text("not a directory")
    with pytest.raises(OutfitterError, match=str(home)):
        of.Instance.local(home)
    result = CliRunner().invoke(app, ["runs", "list"], env={"OUTFITTER_HOME": str(home)})
    assert_clean_failure(result, str(home))


@pytest.mark.parametrize("damage", ["garbage", "truncated", "empty header"])
def test_a_corrupt_database_names_the_file_and_the_fix(tmp_path: Path, damage: str) -> None:
    with of.Instance.local(tmp_path):
        pass
    db = tmp_path / "runs.db"
    data = db.read_bytes()
    if damage == "garbage":
        db.write_bytes(b"this is not a database" * 100)
    elif damage == "truncated":
        db.write_bytes(data[: len(data) // 3])
    else:
        db.write_bytes(b"\x00" * 100 + data[100:])
    for extra in tmp_path.glob("runs.db-*"):
        extra.unlink()
    with pytest.raises(OutfitterError) as info, of.Instance.local(tmp_path) as instance:
        instance.get_runs()
    assert str(db) in str(info.value)
    result = CliRunner().invoke(app, ["runs", "list"], env={"OUTFITTER_HOME": str(tmp_path)})
    assert_clean_failure(result, str(db))


def test_a_storage_path_that_is_a_file_is_a_clean_error(tmp_path: Path) -> None:
    (tmp_path / "storage").write_text("in the way")
    with pytest.raises(OutfitterError, match="storage"):
        of.Instance.local(tmp_path)


def test_a_dependency_of_any_type_takes_any_resource() -> None:
    """`ResourceDependency[Any]` crashed (isinstance(x, Any)); any bound value is accepted."""
    holder = type(
        "Holder",
        (of.ConfigurableResource,),
        {"__annotations__": {"dep": of.ResourceDependency[Any]}},
    )
    with of.build_resources({"h": holder(dep={"a": 1})}) as resources:
        assert resources.h.dep == {"a": 1}
