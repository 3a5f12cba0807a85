"""Outfitter's pytest plugin, run in inner pytest sessions with ``pytester``: every fixture, the
``outfitter_envs`` marker, the ``.env`` isolation against a real ``.env`` file, the opt-out
``-p no:outfitter``, and loading it twice (entry point and ``-p``).

Neither Dagster nor Prefect 1 ships a pytest plugin, so nothing here mirrors theirs: Dagster's
testing guides build an instance (``DagsterInstance.ephemeral()``) and a context by hand in each
test and call a sensor once (docs.dagster.io/guides/automate/sensors/testing-sensors and
.../testing-run-status-sensors); Prefect 1.4.1 offers ``raise_on_exception`` and
``is_serializable`` (src/prefect/utilities/debug.py)."""

from __future__ import annotations

import importlib
import os
import sys
import textwrap
from pathlib import Path

import pytest

# Inner runs are in process: pytester forgets the modules an inner run imported, and a class
# imported again is a new class (a container made in one run would not be a container in the
# next). Imported here, they stay loaded for every inner run.
importlib.import_module("outfitter._resources.container")
importlib.import_module("outfitter._daemon")
importlib.import_module("outfitter.cli.app")
importlib.import_module("outfitter.ui.app")
importlib.import_module("starlette.testclient")

pytest_plugins = ["pytester"]

PLUGIN = ("-p", "outfitter.testing.pytest_plugin")
"""Until the editable install registers the pytest11 entry point, inner runs ask for it."""

SECRET = "dotenv-s3cret-marker-4471"


def run(pytester: pytest.Pytester, source: str, *args: str) -> pytest.RunResult:
    pytester.makepyfile(test_inner=textwrap.dedent(source))
    return pytester.runpytest(*PLUGIN, "-p", "no:randomly", "-p", "no:cacheprovider", *args)


# -- outfitter_env ---------------------------------------------------------------------------------


def test_outfitter_env_isolates_from_a_real_dotenv_and_outfitter_variables(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A developer's ./.env (a secret, OUTFITTER_ENV=prod) and OUTFITTER_* variables do not
    reach a test using outfitter_env; without the fixture, the same test would read them."""
    pytester.path.joinpath(".env").write_text(
        f"LEAKY_TOKEN={SECRET}\nOUTFITTER_ENV=prod\nOUTFITTER_RECORD_RUNS=1\n"
    )
    monkeypatch.setenv("OUTFITTER_ENV", "staging")
    monkeypatch.setenv("OUTFITTER_HOME", str(pytester.path / "developer-home"))
    monkeypatch.delenv("OUTFITTER_ENV_FILE", raising=False)
    monkeypatch.delenv("LEAKY_TOKEN", raising=False)
    result = run(
        pytester,
        """
        import os
        import pytest
        import outfitter as of
        from outfitter._config.settings import get_settings

        class Api(of.ConfigurableResource):
            token: str

        @of.asset
        def call(api: Api) -> int:
            return len(api.token)

        def test_without_the_fixture_the_dotenv_is_read():
            assert of.EnvVar("LEAKY_TOKEN").get_value() is not None

        def test_isolated(outfitter_env):
            assert of.EnvVar("LEAKY_TOKEN").get_value() is None
            assert not any(os.environ.get(k) and k.startswith("OUTFITTER_") and k not in
                           ("OUTFITTER_HOME", "OUTFITTER_ENV_FILE") for k in os.environ)
            settings = get_settings()
            assert settings.env == "local"
            assert settings.record_runs is False
            assert settings.home == outfitter_env.home
            assert outfitter_env.home.parent == outfitter_env.directory
            with pytest.raises(of.exceptions.ConfigError) as info:
                of.materialize([call], resources={"api": Api(token=of.EnvVar("LEAKY_TOKEN"))})
            assert "LEAKY_TOKEN" in str(info.value)

        def test_a_dotenv_the_test_writes_is_read(outfitter_env):
            path = outfitter_env.write_dotenv({of.EnvVar("MY_TOKEN"): 'a"b'}, OTHER="x")
            assert path == outfitter_env.dotenv_path
            assert of.EnvVar("MY_TOKEN").get_value() == 'a"b'
            assert of.EnvVar("LEAKY_TOKEN").get_value() is None

        def test_set_and_unset_are_undone(outfitter_env):
            outfitter_env.set(of.EnvVar("INNER_VAR"), "v1")
            outfitter_env.set_many({"INNER_OTHER": "v2"})
            assert of.EnvVar("INNER_VAR").get_value() == "v1"
            outfitter_env.unset("INNER_OTHER")
            assert "INNER_OTHER" not in os.environ
            outfitter_env.use_environment("qa")
            assert get_settings().env == "qa"

        def test_after(outfitter_env):
            assert "INNER_VAR" not in os.environ
        """,
        "-v",
    )
    result.assert_outcomes(passed=5)
    assert SECRET not in result.stdout.str()
    assert os.environ["OUTFITTER_ENV"] == "staging"


def test_outfitter_envs_marker_runs_a_test_per_environment(pytester: pytest.Pytester) -> None:
    """@pytest.mark.outfitter_envs parametrizes by OUTFITTER_ENV (names, or name=container);
    a test that does not use outfitter_env, or gives no names, is a collection error."""
    result = run(
        pytester,
        """
        import pytest
        import outfitter as of

        class Local(of.ResourceContainer):
            url = "sqlite://"

        class Prod(Local):
            url = "postgres://prod"

        SEEN = []

        @pytest.mark.outfitter_envs("local", "prod")
        def test_names(outfitter_env):
            SEEN.append(outfitter_env.environment)
            chosen = of.containers_by_env(local=Local, prod=Prod)
            assert chosen is {"local": Local, "prod": Prod}[outfitter_env.environment]

        @pytest.mark.outfitter_envs(local=Local, prod=Prod)
        def test_containers(outfitter_cli, outfitter_env):
            assert outfitter_env.container is of.containers_by_env(local=Local, prod=Prod)
            with of.build_resources(outfitter_env.container) as res:
                assert res.url.startswith(("sqlite", "postgres"))

        def test_seen():
            assert SEEN == ["local", "prod"]
        """,
        "-v",
    )
    result.assert_outcomes(passed=5)
    result.stdout.fnmatch_lines(["*test_names?local? PASSED*", "*test_containers?prod? PASSED*"])


def test_outfitter_envs_marker_misuse_is_a_clear_collection_error(
    pytester: pytest.Pytester,
) -> None:
    """The marker without names, or on a test without outfitter_env, says how to fix it."""
    pytester.makepyfile(
        test_no_fixture="""
        import pytest

        @pytest.mark.outfitter_envs("local")
        def test_no_fixture():
            pass
        """,
        test_no_names="""
        import pytest

        @pytest.mark.outfitter_envs()
        def test_no_names(outfitter_env):
            pass
        """,
    )
    result = pytester.runpytest(*PLUGIN, "-p", "no:randomly")
    result.assert_outcomes(errors=2)
    result.stdout.fnmatch_lines(
        [
            "*test_no_fixture: @pytest.mark.outfitter_envs sets OUTFITTER_ENV through the "
            "outfitter_env fixture, which this test does not use: add an outfitter_env argument.",
            "*test_no_names: @pytest.mark.outfitter_envs needs environment names*",
        ]
    )


def test_the_marker_is_registered_for_strict_markers(pytester: pytest.Pytester) -> None:
    """--strict-markers accepts outfitter_envs; `pytest --markers` describes it."""
    result = run(pytester, "def test_x():\n    pass\n", "--strict-markers", "--markers")
    result.stdout.fnmatch_lines(["@pytest.mark.outfitter_envs(*names, **containers): *"])


# -- outfitter_instance ----------------------------------------------------------------------------


def test_outfitter_instance_records_runs_and_asserts_over_them(pytester: pytest.Pytester) -> None:
    """An ephemeral instance per test with status, resource-event, log and nowhere assertions;
    closed after the test."""
    result = run(
        pytester,
        """
        import pytest
        import outfitter as of
        from pydantic import SecretStr

        KEPT = []

        class Vault(of.ConfigurableResource):
            password: SecretStr

        @of.asset
        def checked(context, vault: Vault, db: of.ResourceParam[str]) -> int:
            context.log.info("checking the vault")
            return len(vault.password.get_secret_value())

        @of.asset
        def broken() -> int:
            raise ValueError("no such table")

        def test_statuses_and_events(outfitter_instance, resource_recorder):
            KEPT.append(outfitter_instance)
            resources = {
                "vault": Vault(password="pw-hunter2-pw"),
                "db": resource_recorder.resource("db"),
            }
            result = of.materialize([checked], resources=resources, instance=outfitter_instance)
            record = outfitter_instance.assert_run_status("SUCCESS")
            assert record.run_id == result.run_id
            # a resource with nothing to tear down (vault) records no close
            assert outfitter_instance.resource_events(keys=["db", "vault"]) == [
                ("open", "db"), ("open", "vault"), ("close", "db")
            ]
            assert ("open", "io_manager") in outfitter_instance.resource_events()
            outfitter_instance.assert_resource_events(
                [("open", "db"), ("open", "vault"), ("close", "db")],
                result.run_id,
                keys=["db", "vault"],
            )
            assert "checking the vault" in outfitter_instance.logs()
            assert outfitter_instance.events(event_type="STEP_SUCCESS")[0].step_key == "checked"
            outfitter_instance.assert_nowhere("pw-hunter2-pw")
            with pytest.raises(AssertionError, match="is SUCCESS, expected FAILURE"):
                outfitter_instance.assert_run_status("FAILURE")
            with pytest.raises(AssertionError, match="resource events"):
                outfitter_instance.assert_resource_events([])

        def test_failure_and_a_value_found(outfitter_instance):
            of.materialize([broken], instance=outfitter_instance, raise_on_error=False)
            outfitter_instance.assert_run_status(of.RunStatus.FAILURE)
            with pytest.raises(AssertionError) as info:
                outfitter_instance.assert_run_status("SUCCESS")
            assert "STEP_FAILURE broken: ValueError: no such table" in str(info.value)
            with pytest.raises(AssertionError) as info:
                outfitter_instance.assert_nowhere("no such table", also=["clean"])
            assert "event STEP_FAILURE" in str(info.value)
            assert "the database" in str(info.value)
            assert "no such table" not in str(info.value)
            with pytest.raises(AssertionError, match=r"found in: also\\[0\\]"):
                outfitter_instance.assert_nowhere("ghost-value", also=["a ghost-value here"])

        def test_empty(outfitter_instance):
            assert KEPT[0]._closed  # the previous test's instance was closed after it
            with pytest.raises(AssertionError, match="the instance recorded no run"):
                outfitter_instance.latest_run()
        """,
    )
    result.assert_outcomes(passed=3)


def test_assert_nowhere_reads_a_file_backed_instance(tmp_path: Path) -> None:
    """On an instance on disk, assert_nowhere reads the database file and its WAL."""
    from outfitter._instance import EventType
    from outfitter.testing import AssertingInstance

    with AssertingInstance.local(tmp_path) as instance:
        run_id = instance.create_run("job", tags={"note": "disk-marker-value"}).run_id
        instance.report_event(run_id, EventType.LOG, message="plain")
        assert b"disk-marker-value" in instance.database_bytes()
        with pytest.raises(AssertionError, match=r"found in: run .*, the database"):
            instance.assert_nowhere("disk-marker-value")
        instance.assert_nowhere("never-recorded")
        assert repr(instance).startswith("AssertingInstance(")


# -- outfitter_override and resource_recorder ------------------------------------------------------


def test_outfitter_override_on_definitions_containers_jobs_and_flows(
    pytester: pytest.Pytester,
) -> None:
    """Overrides last for the test and are undone after it, for each kind of target."""
    result = run(
        pytester,
        """
        import pytest
        import outfitter as of

        class Api(of.ConfigurableResource):
            url: str

        @of.asset
        def url(api: Api) -> str:
            return api.url

        class Prod(of.ResourceContainer):
            api = Api(url="https://prod")

        DICT_DEFS = of.Definitions(assets=[url], resources={"api": Api(url="https://prod")})
        CONTAINER_DEFS = of.Definitions(assets=[url], resources=Prod)

        @of.op
        def get(api: Api) -> str:
            return api.url

        @of.job(resource_defs={"api": Api(url="https://prod")})
        def fetch():
            get()

        @of.task
        def read(api: of.ResourceParam[Api]) -> str:
            return api.url

        with of.Flow("f", resources={"api": Api(url="https://prod")}) as FLOW:
            read()

        def job_url(defs):
            result = defs.get_implicit_global_asset_job_def().execute_in_process()
            return result.asset_value("url")

        def flow_url():
            state = FLOW.run()
            return [s.result for s in state.result.values()]

        def test_override(outfitter_override):
            fake = Api(url="http://fake")
            assert outfitter_override(DICT_DEFS, api=fake) is DICT_DEFS
            outfitter_override(CONTAINER_DEFS, api=fake)
            outfitter_override(fetch, api=fake)
            outfitter_override(FLOW, api=fake)
            assert job_url(DICT_DEFS) == job_url(CONTAINER_DEFS) == "http://fake"
            assert Prod.api.overridden
            assert fetch.execute_in_process().output_for_node("get") == "http://fake"
            assert flow_url() == ["http://fake"]

        def test_undone():
            assert job_url(DICT_DEFS) == job_url(CONTAINER_DEFS) == "https://prod"
            assert not Prod.api.overridden
            assert fetch.execute_in_process().output_for_node("get") == "https://prod"
            assert flow_url() == ["https://prod"]

        def test_unknown_key(outfitter_override):
            with pytest.raises(of.exceptions.InvocationError) as info:
                outfitter_override(DICT_DEFS, apii=1)
            assert "cannot override 'apii': not bound here. Did you mean 'api'?" in str(info.value)
            with pytest.raises(of.exceptions.InvocationError, match="cannot override 'nope'"):
                outfitter_override(FLOW, nope=1)
            with pytest.raises(of.exceptions.InvocationError) as info:
                outfitter_override(3, api=1)
            assert "cannot override resources of a int" in str(info.value)
        """,
    )
    result.assert_outcomes(passed=3)


def test_resource_recorder_fixture_and_its_assertions(pytester: pytest.Pytester) -> None:
    """resource_recorder is a fresh ResourceRecorder per test, with LIFO and once assertions."""
    result = run(
        pytester,
        """
        import pytest
        import outfitter as of

        def test_recorded(resource_recorder):
            rec = resource_recorder
            api = rec.resource("api", requires=["db"])
            with of.build_resources({"db": rec.resource("db"), "api": api}):
                pass
            rec.assert_closed_lifo()
            rec.assert_each_closed_once()

        def test_fresh(resource_recorder):
            assert resource_recorder.events == []
            events = [("open", "a"), ("open", "b"), ("close", "a"), ("close", "b")]
            resource_recorder.events[:] = events
            resource_recorder.assert_each_closed_once()
            with pytest.raises(AssertionError) as info:
                resource_recorder.assert_closed_lifo()
            assert "'a' closed while 'b' (opened after it) was still open" in str(info.value)
        """,
    )
    result.assert_outcomes(passed=2)


# -- outfitter_clock and outfitter_daemon ----------------------------------------------------------


def test_outfitter_daemon_ticks_sensors_and_schedules_on_the_clock(
    pytester: pytest.Pytester,
) -> None:
    """Sensors over several ticks (interval, cursor, run-key dedupe) and a cron schedule, on
    a clock that moves only when the test moves it."""
    result = run(
        pytester,
        """
        import outfitter as of

        class Store(of.ConfigurableResource):
            table: str

        @of.asset
        def table(store: Store) -> str:
            return store.table

        refresh = of.define_asset_job("refresh", selection=[table])

        @of.sensor(job=refresh, minimum_interval_seconds=30, default_status="RUNNING")
        def new_tables(context):
            seen = int(context.cursor or 0)
            for i in (seen, seen + 1):  # asks again for the last one: deduped by run key
                yield of.RunRequest(run_key=f"t{i}", run_config=of.RunConfig(
                    resources={"store": Store(table=f"t{i}")}))
            context.update_cursor(str(seen + 1))

        @of.schedule(job=refresh, cron_schedule="0 * * * *")
        def hourly(context):
            return of.RunRequest(run_config=of.RunConfig(resources={"store": Store(table="h")}))

        DEFS = of.Definitions(assets=[table], jobs=[refresh], sensors=[new_tables],
                              schedules=[hourly], resources={"store": Store.configure_at_launch()})

        def test_sensor_ticks(outfitter_daemon, outfitter_instance, outfitter_clock):
            daemon = outfitter_daemon(DEFS)
            assert len(daemon.tick()) == 2
            assert daemon.tick(advance=10) == []  # within the interval
            assert len(daemon.tick(advance=20)) == 1  # t1 again (deduped) and t2
            assert daemon.cursor("new_tables") == "2"
            assert [t.status for t in daemon.ticks("new_tables")] == ["SUCCESS", "SUCCESS"]
            assert outfitter_instance.count_runs(status=of.RunStatus.SUCCESS) == 3
            assert outfitter_clock.datetime.isoformat() == "2024-01-01T00:00:30+00:00"

        def test_schedule_ticks(outfitter_daemon, outfitter_clock, outfitter_instance):
            daemon = outfitter_daemon(DEFS)
            daemon.stop("new_tables")
            daemon.start("hourly")
            assert daemon.tick() == []  # started now: no backfill
            outfitter_clock.advance(minutes=59)
            assert daemon.tick() == []
            [run_id] = daemon.tick(advance=60)
            outfitter_instance.assert_run_status("SUCCESS", run_id)
            assert [t.status for t in daemon.ticks("hourly")] == ["SUCCESS"]
            assert daemon.ticks("new_tables") == []
        """,
    )
    result.assert_outcomes(passed=2)


def test_daemon_driver_names_unknown_instigators(pytester: pytest.Pytester) -> None:
    """start()/stop() of an unknown name lists the known ones."""
    result = run(
        pytester,
        """
        import pytest
        import outfitter as of

        def test_unknown(outfitter_daemon):
            daemon = outfitter_daemon(of.Definitions())
            with pytest.raises(LookupError, match="no sensor or schedule named 'nope'"):
                daemon.start("nope")
        """,
    )
    result.assert_outcomes(passed=1)


# -- outfitter_cli and outfitter_ui_client ---------------------------------------------------------


def test_outfitter_cli_runs_commands_in_the_isolated_home(pytester: pytest.Pytester) -> None:
    """The CLI in process: exit code, output, files written in the test's directory, runs
    recorded in the isolated home."""
    result = run(
        pytester,
        """
        def test_cli(outfitter_cli, outfitter_env):
            outfitter_cli.write("defs.py", '''
                import outfitter as of

                @of.asset
                def numbers() -> list[int]:
                    return [1, 2, 3]

                defs = of.Definitions(assets=[numbers])
            ''')
            done = outfitter_cli("materialize", "-f", "defs.py")
            assert done.exit_code == 0, done.output
            assert done.exception is None
            assert done.stdout.startswith("run ")
            with outfitter_cli.instance() as instance:
                [run] = instance.get_runs()
            assert run.status == "SUCCESS"
            assert outfitter_cli.home == outfitter_env.home
            listed = outfitter_cli("runs", "list")
            assert run.run_id[:8] in listed.stdout
            missing = outfitter_cli("materialize", "-f", "nope.py")
            assert missing.exit_code != 0
            assert isinstance(missing.exception, SystemExit)
            assert "nope.py" in missing.output
        """,
    )
    result.assert_outcomes(passed=1)


def test_outfitter_ui_client_serves_pages_over_the_test_instance(
    pytester: pytest.Pytester,
) -> None:
    """A Starlette test client over the UI, on the test's instance; closed after the test."""
    result = run(
        pytester,
        """
        import outfitter as of

        def test_ui(outfitter_ui_client, outfitter_instance):
            client = outfitter_ui_client('''
                import outfitter as of

                class Warehouse(of.ConfigurableResource):
                    table: str

                defs = of.Definitions(resources={"warehouse": Warehouse(table="orders")})
            ''')
            page = client.get("/resources")
            assert page.status_code == 200
            assert "warehouse" in page.text
        """,
    )
    result.assert_outcomes(passed=1)


WAREHOUSE_DEFS = """
import outfitter as of

class Warehouse(of.ConfigurableResource):
    table: str

defs = of.Definitions(resources={"warehouse": Warehouse(table="orders")})
"""

SERVED = """
import os
import urllib.request

def test_served(outfitter_ui_server, outfitter_env):
    ui = outfitter_ui_server(DEFS)
    assert ui.url.startswith("http://127.0.0.1:")
    assert str(ui.home) == os.environ["OUTFITTER_HOME"]
    assert ui.home.is_relative_to(outfitter_env.directory)
    with urllib.request.urlopen(ui.at("/resources")) as page:
        assert page.status == 200
        assert "warehouse" in page.read().decode()
"""

PAGE = """
def test_page(outfitter_ui_server, outfitter_ui_page):
    ui = outfitter_ui_server(DEFS)
    outfitter_ui_page.goto(ui.at("/resources"))
    assert "warehouse" in outfitter_ui_page.content()

def test_fresh_context(outfitter_ui_page):
    assert outfitter_ui_page.context.cookies() == []
"""


def test_outfitter_ui_server_serves_the_ui_over_http(pytester: pytest.Pytester) -> None:
    """The UI served by uvicorn on a loopback port, over a file instance in the test's isolated
    home; stopped after the test."""
    result = run(pytester, f"DEFS = {WAREHOUSE_DEFS!r}\n" + SERVED)
    result.assert_outcomes(passed=1)


def test_outfitter_ui_page_drives_chromium_over_a_served_ui(pytester: pytest.Pytester) -> None:
    """A fresh Playwright page in the system's Chromium (never downloaded) on a served UI, in a
    subprocess (Playwright's sync API must own the event loop of its process)."""
    pytester.makepyfile(test_inner=f"DEFS = {WAREHOUSE_DEFS!r}\n" + PAGE)
    result = pytester.runpytest_subprocess(*PLUGIN, "-p", "no:cacheprovider")
    result.assert_outcomes(passed=2)


def test_outfitter_ui_client_skips_without_the_ui_extra(pytester: pytest.Pytester) -> None:
    """Without starlette the UI fixture skips the test and says what to install."""
    pytester.makeconftest(
        """
        import sys
        sys.modules["starlette.testclient"] = None  # as if the [ui] extra were not installed
        """
    )
    result = run(pytester, "def test_ui(outfitter_ui_client):\n    pass\n", "-rs")
    result.assert_outcomes(skipped=1)
    result.stdout.fnmatch_lines(["*outfitter_ui_client needs the UI extra: pip install*"])


# -- loading: opt-out, -p, entry point -------------------------------------------------------------

USES_FIXTURE = "def test_env(outfitter_env):\n    assert outfitter_env.home.name == 'home'\n"


def test_opt_out_with_p_no_outfitter(pytester: pytest.Pytester) -> None:
    """-p no:outfitter wins over a -p of the plugin module: its fixtures are gone."""
    result = run(pytester, USES_FIXTURE, "-p", "no:outfitter")
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["*fixture 'outfitter_env' not found*"])


def test_plugin_module_named_twice_loads_once(pytester: pytest.Pytester) -> None:
    """-p of the module and pytest_plugins naming it again register the plugin once."""
    pytester.makeconftest('pytest_plugins = ["outfitter.testing.pytest_plugin"]')
    result = run(pytester, USES_FIXTURE, "-p", "outfitter.testing.pytest_plugin")
    result.assert_outcomes(passed=1)


def fake_entry_point(pytester: pytest.Pytester) -> dict[str, str]:
    """A distribution on the path declaring the plugin's pytest11 entry point, as the package's
    metadata does once installed; the environment to run pytest with it."""
    site = pytester.path / "site"
    dist = site / "outfitter_entry_point-0.1.dist-info"
    dist.mkdir(parents=True)
    dist.joinpath("METADATA").write_text(
        "Metadata-Version: 2.1\nName: outfitter-entry-point\nVersion: 0.1\n"
    )
    dist.joinpath("entry_points.txt").write_text("[pytest11]\noutfitter = _outfitter_pytest\n")
    src = Path(__file__).resolve().parents[2] / "src"
    path = os.pathsep.join([str(site), str(src), os.environ.get("PYTHONPATH", "")])
    return {"PYTHONPATH": path}


def test_entry_point_loads_the_plugin_and_p_no_outfitter_turns_it_off(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Through the pytest11 entry point named outfitter: the fixtures are there, -p of the
    module as well loads it once, and -p no:outfitter removes them."""
    for name, value in fake_entry_point(pytester).items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("PYTEST_DISABLE_PLUGIN_AUTOLOAD", raising=False)
    pytester.makepyfile(test_inner=USES_FIXTURE)
    base = ("-p", "no:randomly", "-p", "no:cacheprovider")
    loaded = pytester.runpytest_subprocess(*base)
    loaded.assert_outcomes(passed=1)
    both = pytester.runpytest_subprocess(*base, *PLUGIN)
    both.assert_outcomes(passed=1)
    off = pytester.runpytest_subprocess(*base, "-p", "no:outfitter")
    off.assert_outcomes(errors=1)
    off.stdout.fnmatch_lines(["*fixture 'outfitter_env' not found*"])


def test_loading_the_plugin_imports_no_outfitter() -> None:
    """The module pytest loads in every run imports pytest only: not outfitter, pydantic or
    dependency-injector."""
    import subprocess

    code = (
        "import sys, _outfitter_pytest\n"
        "heavy = [m for m in ('outfitter', 'pydantic', 'dependency_injector', 'typer') "
        "if m in sys.modules]\n"
        "print(heavy)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert out.strip() == "[]"
