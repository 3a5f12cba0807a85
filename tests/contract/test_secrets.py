"""No secret value leaves a run (DESIGN §6), for every front-end on every executor.

A resource holds two secrets: a ``SecretStr`` token and an ``EnvVar`` password. Its step, its
setup or its teardown fails with a message quoting both (as careless code does). Each secret
comes from code, or, for the token, from dict/YAML launch config (the documented CLI form,
which stored it raw before). Neither may appear in any event, the run record, the database
file and its WAL, the exceptions Outfitter hands back (their text and their chained causes),
a flow's states, or ``outfitter runs show``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pipelines as p
import pytest
from pydantic import SecretStr

import outfitter as of
from outfitter._instance import RunStatus

TOKEN = "tok-3x4mpl3'\\\"-SECRET"
PASSWORD = "pw-s3cr3t-from-env"


def texts_of(error: BaseException | None) -> list[str]:
    """The text of an exception and of every exception chained to it."""
    out: list[str] = []
    seen: set[int] = set()
    while error is not None and id(error) not in seen:
        seen.add(id(error))
        out.append(str(error))
        out.append(repr(error))
        out.extend(getattr(error, "__notes__", []))
        error = error.__cause__ or error.__context__
    return out


def assert_nowhere(texts: list[str], where: str) -> None:
    for secret in (TOKEN, PASSWORD):
        forms = {secret, repr(secret)[1:-1]}
        for text in texts:
            for form in forms:
                assert form not in text, f"{where}: {text!r}"


def database_bytes(home: Path) -> bytes:
    return b"".join(f.read_bytes() for f in home.glob("runs.db*"))


@pytest.mark.parametrize("token_from", ["code", "yaml"])
@pytest.mark.parametrize("fail_on", ["a", "open", "close"])
@pytest.mark.parametrize("front", p.FRONTS)
def test_secrets_appear_nowhere(
    front: str,
    fail_on: str,
    token_from: str,
    executor: Any,
    log: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("CONTRACT_PASSWORD", PASSWORD)
    password = of.EnvVar("CONTRACT_PASSWORD")
    if token_from == "code":
        resources = {
            "db": p.Rec(log=str(log), fail_on=fail_on, token=SecretStr(TOKEN), password=password)
        }
        run_config = None
    else:
        resources = {"db": p.Rec.configure_at_launch(log=str(log), password=password)}
        run_config = {"resources": {"db": {"config": {"fail_on": fail_on, "token": TOKEN}}}}
    home = tmp_path / "home"
    with of.Instance.local(home) as instance:
        ended = p.run(front, p.build(front), resources, instance, executor, run_config=run_config)
        [record] = instance.get_runs()
    assert ended.status is RunStatus.FAILURE
    assert_nowhere([e.message for e in ended.events], "events")
    assert_nowhere([str(record.run_config), str(record.tags)], "run record")
    assert_nowhere(texts_of(ended.error), "the exception handed back")
    assert_nowhere([ended.message, str(ended.values)], "the flow's state")
    surfaced = [
        t
        for x in ended.surfaced
        for t in (texts_of(x) if isinstance(x, BaseException) else [str(x)])
    ]
    assert_nowhere(surfaced, "task states and step failures")
    raw = database_bytes(home)
    for secret in (TOKEN, PASSWORD):
        assert secret.encode() not in raw
    if token_from == "yaml":
        assert record.run_config["resources"]["db"]["config"]["token"] == "**********"


def test_a_job_s_failures_and_reraised_exceptions_are_redacted(
    log: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """result.failures[k].error and the exception raise_on_error raises are masked copies of
    the same type; the exception as raised stays reachable as original_error, in process."""
    monkeypatch.setenv("CONTRACT_PASSWORD", PASSWORD)
    resources = {
        "db": p.Rec(
            log=str(log),
            fail_on="a",
            token=SecretStr(TOKEN),
            password=of.EnvVar("CONTRACT_PASSWORD"),
        )
    }
    job = of.Definitions(
        assets=[p.asset_a, p.asset_b], resources=resources
    ).get_implicit_global_asset_job_def()
    result = job.execute_in_process(raise_on_error=False)
    failure = result.failures["a"]
    assert isinstance(failure.error, ValueError)
    assert_nowhere([*texts_of(failure.error), failure.message], "result.failures")
    assert failure.original_error is not None
    assert PASSWORD in str(failure.original_error)
    with pytest.raises(ValueError, match="a failed on purpose") as info:
        job.execute_in_process()
    assert_nowhere(texts_of(info.value), "the re-raised step exception")


def test_runs_show_prints_no_secret(log: Path, tmp_path: Path) -> None:
    """`outfitter runs show` of a run whose YAML launch config carried a SecretStr."""
    from typer.testing import CliRunner

    from outfitter.cli.app import app

    home = tmp_path / "home"
    run_config = {"resources": {"db": {"config": {"token": TOKEN, "fail_on": "a"}}}}
    with of.Instance.local(home) as instance:
        p.run(
            "asset job",
            p.build("asset job"),
            {"db": p.Rec.configure_at_launch(log=str(log))},
            instance,
            None,
            run_config=run_config,
        )
        [record] = instance.get_runs()
    shown = CliRunner().invoke(
        app, ["runs", "show", record.run_id], env={"OUTFITTER_HOME": str(home), "COLUMNS": "200"}
    )
    assert shown.exit_code == 0, shown.output
    assert "a failed on purpose" in shown.output
    assert_nowhere([shown.output], "runs show")


class Catalog(of.ConfigurableResource):
    token: str


def test_a_sensor_s_error_is_masked_in_ticks_and_preview(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A sensor that raises quoting its resource's EnvVar value: the exception raised to the
    caller, the tick record and `outfitter sensors preview` show it masked (the value reached
    the tick record, the daemon's log and preview before)."""
    from typer.testing import CliRunner

    from outfitter._daemon import Daemon
    from outfitter.cli.app import app

    monkeypatch.setenv("CATALOG_TOKEN", PASSWORD)
    monkeypatch.chdir(tmp_path)
    (tmp_path / "defs.py").write_text(
        "import outfitter as of\n"
        "class Catalog(of.ConfigurableResource):\n    token: str\n"
        "@of.sensor(minimum_interval_seconds=1)\n"
        "def watch(catalog: Catalog):\n"
        "    raise PermissionError(f'catalog refused token {catalog.token}')\n"
        "defs = of.Definitions(sensors=[watch], "
        "resources={'catalog': Catalog(token=of.EnvVar('CATALOG_TOKEN'))})\n"
    )

    @of.sensor(minimum_interval_seconds=1)
    def watch(catalog: Catalog) -> None:
        raise PermissionError(f"catalog refused token {catalog.token}")

    with pytest.raises(PermissionError) as info:
        watch(catalog=Catalog(token=of.EnvVar("CATALOG_TOKEN")))
    assert_nowhere(texts_of(info.value), "a directly invoked sensor")

    defs = of.Definitions(
        sensors=[watch], resources={"catalog": Catalog(token=of.EnvVar("CATALOG_TOKEN"))}
    )
    with of.Instance.local(tmp_path / "home") as instance:
        instance.set_instigator("watch", "sensor", status="RUNNING")
        Daemon(defs, instance, clock=lambda: 100.0).tick()
        [tick] = instance.get_ticks("watch")
    assert tick.status == "FAILURE"
    assert "catalog refused token ***" in (tick.error or "")
    assert_nowhere([tick.error or ""], "the tick record")
    shown = CliRunner().invoke(
        app,
        ["sensors", "preview", "-f", "defs.py", "watch"],
        env={"OUTFITTER_HOME": str(tmp_path / "home")},
    )
    assert "catalog refused token ***" in shown.output
    assert_nowhere([shown.output], "sensors preview")


def _every_form(texts: list[str], where: str) -> None:
    """No secret, as is, as repr quotes it or as JSON escapes it, in ``texts``."""
    import json

    for secret in (TOKEN, PASSWORD):
        for form in {secret, repr(secret)[1:-1], json.dumps(secret)[1:-1]}:
            for text in texts:
                assert form not in text, f"{where}: {text!r}"


@pytest.mark.parametrize("outcome", ["success", "step", "setup", "teardown"])
def test_no_secret_in_what_the_caller_gets_events_tracebacks_or_the_database(
    outcome: str,
    executor: Any,
    log: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    request: pytest.FixtureRequest,
) -> None:
    """Issue 12: failure events now keep tracebacks. The setup failure is the documented case
    (`ConnectionError` quoting the token in setup, chained under ResourceInitError). Nothing the
    caller gets (str, repr, the formatted traceback with its chain), no event (message and
    data, tracebacks included) and neither the database nor its WAL holds a secret."""
    import json
    import traceback

    monkeypatch.setenv("CONTRACT_PASSWORD", PASSWORD)
    if request.node.callspec.params["executor"] == "dask":  # the EnvVar resolves on workers
        import os

        import distributed

        def setenv(name: str, value: str) -> None:  # runs in each worker process
            os.environ[name] = value

        with distributed.Client(request.getfixturevalue("dask_address")) as client:
            client.run(setenv, "CONTRACT_PASSWORD", PASSWORD)
    fail_on = {"success": "", "step": "a", "setup": "open", "teardown": "close"}[outcome]
    resources = {
        "db": p.Rec(
            log=str(log),
            fail_on=fail_on,
            token=SecretStr(TOKEN),
            password=of.EnvVar("CONTRACT_PASSWORD"),
        )
    }
    defs = of.Definitions(assets=[p.asset_a, p.asset_b], resources=resources, executor=executor)
    home = tmp_path / "home"
    with of.Instance.local(home) as instance:
        job = defs.get_implicit_global_asset_job_def()
        caught: BaseException | None = None
        try:
            job.execute(instance=instance)
        except Exception as exc:
            caught = exc
        assert (caught is None) == (outcome == "success")
        [record] = instance.get_runs()
        events = instance.all_events(record.run_id)
        while_open = database_bytes(home)  # the WAL still holds the run's pages
    assert (home / "runs.db-wal").exists() or while_open
    if caught is not None:
        _every_form(
            [str(caught), repr(caught), "".join(traceback.format_exception(caught))],
            "the exception raised to the caller",
        )
        _every_form(texts_of(caught), "its chained causes")
    traced = [e for e in events if isinstance(e.data, dict) and "traceback" in e.data]
    assert bool(traced) == (outcome != "success")
    _every_form([json.dumps([(e.message, e.data) for e in events])], "events")
    for raw in (while_open, database_bytes(home)):
        for secret in (TOKEN, PASSWORD):
            for form in {secret, json.dumps(secret)[1:-1], repr(secret)[1:-1]}:
                assert form.encode() not in raw
