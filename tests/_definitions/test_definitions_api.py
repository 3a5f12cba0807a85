"""``Definitions`` access and loading under Dagster 1.13's names: ``resolve_job_def``,
``resolve_implicit_global_asset_job_def``, ``resolve_sensor_def``, ``resolve_schedule_def``
(our ``get_*`` names stay as aliases), ``Definitions.validate_loadable``, ``Definitions.merge``,
and ``@definitions`` found by the loader the CLI, the daemon and the UI use.

Dagster: dagster/_core/definitions/definitions_class.py (``resolve_job_def`` and friends,
``validate_loadable`` as a static method raising every problem, ``merge`` refusing a resource
key bound to different objects and different executors);
dagster/_core/definitions/decorators/definitions_decorator.py (``@definitions`` wraps a
function returning ``Definitions``, optionally taking a load context; the code-location loader
calls it, one per module).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

import outfitter as of
from outfitter._loading import load_definitions
from outfitter.exceptions import DefinitionError, InvocationError, InvocationTypeError


@of.asset
def users() -> list[str]:
    return ["ada"]


@of.asset(group_name="reports")
def user_count(users: list[str]) -> int:
    return len(users)


@of.op
def noop() -> None: ...


@of.job
def nightly() -> None:
    noop()


@of.sensor(job=nightly)
def on_file() -> of.RunRequest:
    return of.RunRequest()


@of.schedule(cron_schedule="0 2 * * *", job=nightly)
def every_night() -> dict[str, str]:
    return {}


DEFS = of.Definitions(
    assets=[users, user_count],
    jobs=[nightly, of.define_asset_job("counts", of.AssetSelection.groups("reports"))],
    sensors=[on_file],
    schedules=[every_night],
)


def test_resolve_names_and_their_aliases() -> None:
    """Each resolve_* returns what its get_* alias returns."""
    assert DEFS.resolve_job_def("nightly") is DEFS.get_job_def("nightly")
    assert DEFS.resolve_job_def("counts").name == "counts"
    assert DEFS.resolve_implicit_global_asset_job_def() is DEFS.get_implicit_global_asset_job_def()
    assert DEFS.resolve_sensor_def("on_file") is DEFS.get_sensor_def("on_file") is on_file
    assert DEFS.resolve_schedule_def("every_night") is every_night


def test_unknown_names_say_what_exists() -> None:
    """An unknown job, sensor or schedule name raises with a did-you-mean and the list."""
    with pytest.raises(DefinitionError) as err:
        DEFS.resolve_job_def("nigthly")
    assert str(err.value) == (
        "no job named 'nigthly'. Did you mean 'nightly'?\nHint: jobs defined here: counts, nightly."
    )
    with pytest.raises(DefinitionError, match=r"no sensor named 'on_fil'\. Did you mean 'on_file'"):
        DEFS.resolve_sensor_def("on_fil")
    with pytest.raises(DefinitionError, match=r"schedules defined here: every_night\."):
        DEFS.resolve_schedule_def("daily")


def test_no_assets_means_no_implicit_job() -> None:
    """Definitions without assets say so instead of naming an internal job."""
    with pytest.raises(DefinitionError) as err:
        of.Definitions(jobs=[nightly]).resolve_implicit_global_asset_job_def()
    assert str(err.value).startswith(
        "these definitions have no assets, so they have no implicit asset job"
    )


def test_validate_loadable_passes_and_reports_every_problem() -> None:
    """validate_loadable is silent on good definitions and lists every problem of bad ones
    (here: changed after they were built), in one DefinitionError."""
    of.Definitions.validate_loadable(DEFS)
    defs = of.Definitions(assets=[users])

    @of.asset
    def report(userz: list[str], db: of.ResourceParam[dict]) -> int:  # type: ignore[type-arg]
        return 0

    defs.assets.append(report)
    with pytest.raises(DefinitionError) as err:
        of.Definitions.validate_loadable(defs)
    assert err.value.problems == (
        "asset 'report', input 'userz': no asset 'userz' is defined. Did you mean 'users'?",
        "asset 'report' requires resource 'db', which is not bound.",
    )


def test_validate_loadable_takes_definitions() -> None:
    """Anything else is a TypeError (as Dagster's parameter check)."""
    with pytest.raises(InvocationTypeError, match="validate_loadable takes a Definitions object"):
        of.Definitions.validate_loadable([users])  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        of.Definitions.validate_loadable(None)  # type: ignore[arg-type]


def test_merge_combines_and_refuses_conflicts() -> None:
    """merge keeps everything; one key bound to two objects is an error naming it."""
    a = of.Definitions(assets=[users], resources={"db": {"x": 1}})
    b = of.Definitions(jobs=[nightly], sensors=[on_file], resources={"api": "token"})
    merged = of.Definitions.merge(a, b)
    assert [x.key.to_user_string() for x in merged.assets] == ["users"]
    assert merged.resolve_job_def("nightly").name == "nightly"
    assert merged.resolve_sensor_def("on_file") is on_file
    assert merged.resolve_implicit_global_asset_job_def().execute_in_process().success
    with pytest.raises(DefinitionError) as err:
        of.Definitions.merge(a, of.Definitions(resources={"db": {"x": 2}}))
    assert "resource key 'db' is bound to different resources" in str(err.value)
    with pytest.raises(InvocationTypeError, match="merge takes Definitions objects"):
        of.Definitions.merge(a, [users])  # type: ignore[arg-type]


CODE_LOCATION = """
import outfitter as of

class Api(of.ConfigurableResource):
    url: str

@of.asset(group_name="ingest")
def users(api: Api) -> list[str]:
    return [api.url]

@of.definitions
def location():
    return of.Definitions(assets=[users], resources={"api": Api(url="http://x")})
"""


def test_loader_finds_and_calls_the_definitions_function(tmp_path: Path) -> None:
    """A module with an @definitions function (any name) loads as its Definitions."""
    path = tmp_path / "location.py"
    path.write_text(CODE_LOCATION)
    defs = load_definitions(path, None)
    assert [a.key.to_user_string() for a in defs.assets] == ["users"]
    job = defs.resolve_implicit_global_asset_job_def()
    assert job.execute_in_process().asset_value("users") == ["http://x"]


def test_definitions_function_may_take_a_load_context(tmp_path: Path) -> None:
    """As in Dagster, the function may take one parameter (the load context)."""
    path = tmp_path / "ctx.py"
    path.write_text(
        "import outfitter as of\n"
        "@of.definitions\n"
        "def defs(context):\n"
        "    assert context.load_type == 'initialization'\n"
        "    return of.Definitions()\n"
    )
    assert load_definitions(path, None).assets == []


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (
            "@of.definitions\ndef one():\n    return of.Definitions()\n"
            "@of.definitions\ndef two():\n    return of.Definitions()\n",
            "has 2 @definitions functions: one, two",
        ),
        (
            "@of.definitions\ndef defs():\n    return [1]\n",
            "@definitions function 'defs' returned list [1], not a Definitions",
        ),
        (
            "@of.definitions\ndef defs():\n    raise RuntimeError('no network')\n",
            "(its @definitions function 'defs') raised RuntimeError: no network",
        ),
    ],
)
def test_bad_definitions_functions_are_named(tmp_path: Path, body: str, message: str) -> None:
    """Two functions, a wrong return value or an exception: an InvocationError naming it."""
    path = tmp_path / "bad.py"
    path.write_text("import outfitter as of\n" + body)
    with pytest.raises(InvocationError) as err:
        load_definitions(path, None)
    assert message in str(err.value)


def test_cli_lists_assets_of_a_definitions_function_with_groups(tmp_path: Path) -> None:
    """`outfitter definitions check` and `definitions list` load an @definitions module; the
    list shows each asset's group."""
    (tmp_path / "location.py").write_text(CODE_LOCATION)
    env = {**os.environ, "OUTFITTER_HOME": str(tmp_path / "home"), "COLUMNS": "200"}

    def cli(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "outfitter.cli", "definitions", *args, "-f", "location.py"],
            cwd=tmp_path,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )

    check = cli("check")
    assert check.returncode == 0, check.stderr
    assert "OK: 1 asset(s)" in check.stdout
    listed = cli("list", "--json")
    assert listed.returncode == 0, listed.stderr
    import json

    assert json.loads(listed.stdout) == {
        "assets": [{"key": "users", "group": "ingest", "upstream": [], "resources": ["api"]}],
        "jobs": [],
    }
    table = cli("list")
    assert "users" in table.stdout
    assert "ingest" in table.stdout
