"""The launchpad: the chooser, the scaffolded editor for a job, a selection and a flow, the
problems fragment of validation as you type, and launching (issue 13)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from outfitter import Instance
from outfitter._instance import RunRecord, RunStatus

from .conftest import MakeClient

SECRET = "s3cr3t-marker-7f2a"

DEFS = """
import outfitter as of
from pydantic import SecretStr

class Creds(of.ConfigurableResource):
    user: str
    password: SecretStr

class Warehouse(of.ConfigurableResource):
    \"\"\"The warehouse.\"\"\"
    host: str = "localhost"
    port: int
    token: str = of.EnvVar("WAREHOUSE_TOKEN")
    creds: Creds

class Mailer(of.ConfigurableResource):
    sender: str

creds = Creds.configure_at_launch()

class Limit(of.Config):
    limit: int = 10

@of.asset
def raw(warehouse: Warehouse) -> int:
    return warehouse.port

@of.asset
def clean(raw: int, config: Limit) -> int:
    return raw + config.limit

@of.asset
def report(clean: int, mailer: Mailer) -> int:
    return clean

@of.asset
def other() -> int:
    return 1

@of.op
def step(config: Limit) -> int:
    return config.limit

@of.job
def nightly() -> None:
    step()

defs = of.Definitions(
    assets=[raw, clean, report, other],
    jobs=[nightly],
    resources={
        "warehouse": Warehouse.configure_at_launch(creds=creds),
        "creds": creds,
        "mailer": Mailer.configure_at_launch(),
    },
)

@of.task
def double(n: int) -> int:
    return 2 * n

with of.Flow("doubler") as doubler:
    double(of.Parameter("n"))
"""

RUNNABLE = """
import outfitter as of
from pydantic import SecretStr

class Api(of.ConfigurableResource):
    url: str
    token: SecretStr

@of.asset
def users(api: Api) -> str:
    return api.url

@of.asset
def plain() -> int:
    return 1

defs = of.Definitions(assets=[users, plain], resources={"api": Api.configure_at_launch()})

@of.task
def double(n: int) -> int:
    return 2 * n

with of.Flow("doubler") as doubler:
    double(of.Parameter("n", default=2))
"""


def _main(page: str) -> str:
    return page[page.index("<main>") : page.index("</main>")]


def _editor(page: str) -> str:
    start = page.index('<textarea id="config"')
    return page[page.index(">", start) + 1 : page.index("</textarea>", start)]


def _validate(client: TestClient, kind: str, target: str, config: str, tags: str = "") -> str:
    response = client.post(
        "/launchpad/validate",
        data={"kind": kind, "target": target, "config": config, "tags": tags},
        headers={"hx-request": "true"},
    )
    assert response.status_code == 200
    return response.text


@pytest.fixture
def local_instance(tmp_path: Path) -> Iterator[Instance]:
    with Instance.local(tmp_path / "home") as instance:
        yield instance


def _wait_finished(instance: Instance, run_id: str) -> RunRecord:
    """The run's record once it finished (polling, with a generous deadline)."""
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        record = instance.get_run(run_id)
        if record is not None and record.status.is_finished:
            return record
        time.sleep(0.05)
    raise AssertionError(f"run {run_id} did not finish: {instance.get_run(run_id)}")


def _reap(client: TestClient) -> None:
    launcher = getattr(client.app.state, "launcher", None)  # type: ignore[attr-defined]
    if launcher is not None:
        assert launcher.wait(120)


# -- the pages -------------------------------------------------------------------------------------


def test_without_a_target_the_launchpad_lists_jobs_assets_and_flows(
    make_client: MakeClient,
) -> None:
    """The chooser links every job, all assets (and a selection form) and every flow."""
    page = make_client(DEFS).get("/launchpad")
    assert page.status_code == 200
    main = _main(page.text)
    assert '<a href="/launchpad?job=nightly">nightly</a>' in main
    assert "__ASSET_JOB" not in main
    assert '<a href="/launchpad?select=%2A">All assets</a> (4)' in main
    assert 'name="select" value="report"' in main
    assert '<a href="/launchpad?flow=doubler">doubler</a>' in main


def test_a_job_page_scaffolds_its_op_config_only(make_client: MakeClient) -> None:
    """A job's editor holds its steps' config and none of the Definitions' resources."""
    page = make_client(DEFS).get("/launchpad?job=nightly")
    assert page.status_code == 200
    assert "<h1>Launchpad · job &#39;nightly&#39;</h1>" in page.text
    editor = _editor(page.text)
    assert "ops:\n  step:\n    config:\n      limit: 10\n" in editor
    assert "resources" not in editor.split("\n", 2)[2]  # the header comment aside
    assert "✓ Valid run config for job &#39;nightly&#39;." in page.text


def test_a_selection_scaffolds_only_the_resources_it_opens(make_client: MakeClient) -> None:
    """`*clean` selects raw and clean: warehouse and its shared partial creds are scaffolded
    (EnvVar as {env: NAME}, required values as placeholders), the mailer of `report` is not."""
    client = make_client(DEFS)
    page = client.get("/launchpad?select=*clean")
    assert page.status_code == 200
    assert "Launchpad · assets *clean" in page.text
    assert "<code>raw</code>, <code>clean</code>" in page.text
    editor = _editor(page.text)
    assert "mailer" not in editor
    assert "report" not in editor
    assert "  warehouse:\n    config:\n      host: localhost\n" in editor
    assert "      port: &#39;&lt;required: int&gt;&#39;\n" in editor
    assert "      token:\n        env: WAREHOUSE_TOKEN\n" in editor
    assert "  creds:\n    config:\n      user: &#39;&lt;required: str&gt;&#39;\n" in editor
    assert "ops:\n  clean:\n    config:\n      limit: 10\n" in editor
    # what a launch must still fill in is listed at once, by path
    main = _main(page.text)
    assert "3 problems in the run config for assets *clean" in main
    for path in ("creds.config.user", "creds.config.password", "warehouse.config.port"):
        assert f'<code class="path">resources.{path}</code>' in main
    assert '<a href="/resources/warehouse"><code>warehouse</code></a>' in main
    assert "set at launch" in main
    other = client.get("/launchpad?select=other")
    assert _editor(other.text).endswith("takes no config.\n")


def test_selections_from_the_chooser_form_and_all_assets(make_client: MakeClient) -> None:
    """Checked assets arrive as several `select` values; `*` is every asset."""
    client = make_client(DEFS)
    page = client.get("/launchpad?select=raw&select=report")
    assert "Launchpad · assets raw,report" in page.text
    assert "mailer:" in _editor(page.text)
    everything = client.get("/launchpad?select=*")
    assert "Launchpad · all assets" in everything.text
    assert "<code>other</code>" in everything.text


def test_a_flow_page_scaffolds_its_parameters(make_client: MakeClient) -> None:
    """A flow's parameters are part of its run config, a required one as a placeholder."""
    page = make_client(DEFS).get("/launchpad?flow=doubler")
    assert page.status_code == 200
    assert "parameters:\n  n: &#39;&lt;required: any&gt;&#39;\n" in _editor(page.text)
    assert '<code class="path">parameters.n</code>' in page.text


def test_unknown_targets_are_not_found(make_client: MakeClient) -> None:
    """A job, flow or asset that is not there is a 404 naming it (with close matches)."""
    client = make_client(DEFS)
    job = client.get("/launchpad?job=nighty")
    assert job.status_code == 404
    assert "no job named &#39;nighty&#39;. Did you mean &#39;nightly&#39;?" in job.text
    flow = client.get("/launchpad?flow=nope")
    assert flow.status_code == 404
    assert "no flow named &#39;nope&#39;" in flow.text
    assert "the flows defined here: doubler" in flow.text
    select = client.get("/launchpad?select=*claen")
    assert select.status_code == 404
    assert "claen" in select.text


# -- validation as you type ------------------------------------------------------------------------

VALID_CLEAN = """
resources:
  warehouse:
    config:
      port: 5432
  creds:
    config:
      user: ana
      password: pw-123
"""


def test_the_editor_validates_as_you_type_debounced(make_client: MakeClient) -> None:
    """The editor posts to /launchpad/validate on keyup, debounced, into the problems box."""
    page = make_client(DEFS).get("/launchpad?select=*clean").text
    assert 'hx-post="/launchpad/validate"' in page
    assert 'hx-trigger="keyup changed delay:400ms"' in page
    assert 'hx-target="#launch-problems"' in page
    assert '<div id="launch-problems" aria-live="polite">' in page


def test_validate_lists_every_problem_with_a_did_you_mean(make_client: MakeClient) -> None:
    """A typo'd field names the right one; an unknown step lists the run's steps."""
    client = make_client(DEFS)
    config = VALID_CLEAN.replace("port: 5432", "port: 5432\n      hots: db") + (
        "ops:\n  claen:\n    config: {}\n"
    )
    fragment = _validate(client, "select", "*clean", config)
    assert "<main>" not in fragment
    assert "2 problems in the run config for assets *clean" in fragment
    assert '<code class="path">resources.warehouse.config.hots</code>' in fragment
    assert "unknown field &#39;hots&#39;. Did you mean &#39;host&#39;?" in fragment
    assert '<code class="path">ops.claen</code>' in fragment
    assert "which is not part of this run. Did you mean &#39;clean&#39;?" in fragment
    assert "Hint: the steps of this run: raw, clean;" in fragment
    fixed = _validate(client, "select", "*clean", VALID_CLEAN)
    assert "✓ Valid run config for assets *clean." in fixed


def test_a_yaml_error_names_its_line_and_column(make_client: MakeClient) -> None:
    """YAML that does not parse is one problem naming where."""
    fragment = _validate(make_client(DEFS), "job", "nightly", "ops:\n  step: [1\n  x: 2\n")
    assert "YAML syntax error at line 3, column 4: expected &#39;,&#39; or &#39;]&#39;" in (
        fragment
    )
    assert "(the whole config)" in fragment


def test_ill_typed_values_and_bad_tags_are_problems(make_client: MakeClient) -> None:
    """A value of the wrong type and a tag line that is not key=value are both listed."""
    fragment = _validate(
        make_client(DEFS),
        "job",
        "nightly",
        "ops:\n  step:\n    config:\n      limit: many\n",
        "team=data\nno equals sign",
    )
    assert '<code class="path">ops.step.config.limit</code>' in fragment
    assert '<code class="path">tags.line 2</code>' in fragment
    assert "&#39;no equals sign&#39; is not key=value" in fragment


def test_flow_parameters_are_validated(make_client: MakeClient) -> None:
    """An unknown parameter gets a did-you-mean and the flow's parameters as the hint."""
    fragment = _validate(make_client(DEFS), "flow", "doubler", "parameters:\n  nn: 3\n")
    assert "unknown parameter &#39;nn&#39;. Did you mean &#39;n&#39;?" in fragment
    assert "Hint: the flow&#39;s parameters: n" in fragment
    assert "required parameter &#39;n&#39; was not given" in fragment
    ok = _validate(make_client(DEFS), "flow", "doubler", "parameters:\n  n: 3\n")
    assert "✓ Valid run config for flow &#39;doubler&#39;." in ok


def test_user_strings_are_escaped(make_client: MakeClient) -> None:
    """Asset names, config text and problem messages never reach the page as markup."""
    client = make_client(DEFS)
    fragment = _validate(client, "job", "nightly", "ops:\n  '<script>x</script>': {}\n")
    assert "<script>x</script>" not in fragment
    assert "&lt;script&gt;x&lt;/script&gt;" in fragment
    page = client.post(
        "/launchpad/launch",
        data={"kind": "job", "target": "nightly", "config": "ops: {'<script>': 1}", "tags": ""},
    )
    assert page.status_code == 422
    assert "<script>" not in _main(page.text)
    missing = client.get("/launchpad?flow=<script>alert(1)</script>")
    assert "<script>alert(1)</script>" not in missing.text


# -- launching -------------------------------------------------------------------------------------


def test_a_launch_with_problems_is_refused_and_the_page_shows_them(
    make_client: MakeClient, local_instance: Instance
) -> None:
    """Nothing is launched: the page comes back (422) with every problem, and a secret typed
    into the editor is not sent back."""
    client = make_client(RUNNABLE, instance=local_instance)
    config = f"resources:\n  api:\n    config:\n      token: {SECRET}\n"
    response = client.post(
        "/launchpad/launch",
        data={"kind": "select", "target": "users", "config": config, "tags": ""},
        follow_redirects=False,
    )
    assert response.status_code == 422
    assert "resources.api.config.url" in response.text
    assert SECRET not in response.text
    assert "token: &#39;***&#39;" in _editor(response.text) or "token: ***" in _editor(
        response.text
    )
    assert "Secret values were taken out of the editor" in response.text
    assert local_instance.get_runs() == []


def test_launch_needs_a_file_backed_instance(make_client: MakeClient) -> None:
    """Over an in-memory instance the page says why Launch is off, and a POST launches
    nothing (409)."""
    client = make_client(RUNNABLE)
    page = client.get("/launchpad?select=plain")
    assert "Launching needs a local instance" in page.text
    assert 'id="launch" disabled' in page.text
    response = client.post(
        "/launchpad/launch",
        data={"kind": "select", "target": "plain", "config": "", "tags": ""},
        follow_redirects=False,
    )
    assert response.status_code == 409
    assert "in-memory instance" in response.text


def test_launch_runs_in_another_process_and_redirects_to_the_run(
    make_client: MakeClient, local_instance: Instance
) -> None:
    """Launch redirects to /runs/{id} at once; the run is recorded under that id, with its
    tags and masked config, and succeeds; the secret is nowhere the UI shows or passes."""
    client = make_client(RUNNABLE, instance=local_instance)
    config = f"resources:\n  api:\n    config:\n      url: https://x\n      token: {SECRET}\n"
    response = client.post(
        "/launchpad/launch",
        data={"kind": "select", "target": "users", "config": config, "tags": "team=data"},
        follow_redirects=False,
    )
    assert response.status_code == 303
    location = response.headers["location"]
    assert location.startswith("/runs/")
    run_id = location.removeprefix("/runs/")
    assert SECRET not in response.text
    launcher = client.app.state.launcher  # type: ignore[attr-defined]
    launched = launcher.launched.get(run_id)
    if launched is not None:  # still running: its command line holds no config
        assert SECRET not in " ".join(map(str, launched.process.args))
    record = _wait_finished(local_instance, run_id)
    _reap(client)
    assert record.status is RunStatus.SUCCESS
    assert record.tags == {"team": "data"}
    assert record.run_config["resources"]["api"]["config"]["token"] == "**********"
    assert SECRET not in str(record.run_config)
    events = [e.event_type.value for e in local_instance.all_events(run_id)]
    assert "RUN_START" in events
    assert "RUN_SUCCESS" in events


def test_a_flow_launch_runs_with_its_parameters(
    make_client: MakeClient, local_instance: Instance
) -> None:
    """A flow's parameters from the editor reach flow.run()."""
    client = make_client(RUNNABLE, instance=local_instance)
    response = client.post(
        "/launchpad/launch",
        data={"kind": "flow", "target": "doubler", "config": "parameters:\n  n: 21\n", "tags": ""},
        follow_redirects=False,
    )
    assert response.status_code == 303
    run_id = response.headers["location"].removeprefix("/runs/")
    record = _wait_finished(local_instance, run_id)
    _reap(client)
    assert record.status is RunStatus.SUCCESS
    assert record.job_name == "doubler"
    assert record.run_config["parameters"] == {"n": 21}
    assert record.tags == {"kind": "flow"}


def test_a_launch_whose_code_no_longer_imports_is_recorded_as_failed(
    make_client: MakeClient, local_instance: Instance, tmp_path: Path
) -> None:
    """The code broke after the UI loaded it: the run is recorded FAILURE with the error."""
    path = tmp_path / "pipeline.py"
    path.write_text(RUNNABLE)
    client = make_client(path, instance=local_instance)
    path.write_text("raise ValueError('the pipeline <is> broken')\n")
    response = client.post(
        "/launchpad/launch",
        data={"kind": "select", "target": "plain", "config": "", "tags": ""},
        follow_redirects=False,
    )
    assert response.status_code == 303
    run_id = response.headers["location"].removeprefix("/runs/")
    record = _wait_finished(local_instance, run_id)
    _reap(client)
    assert record.status is RunStatus.FAILURE
    failure = local_instance.all_events(run_id)[-1]
    assert failure.event_type.value == "RUN_FAILURE"
    assert failure.message.startswith("the run could not start: InvocationError: importing ")
    assert "raised ValueError: the pipeline <is> broken" in failure.message


def test_validating_a_target_gone_since_the_page_was_drawn(
    make_client: MakeClient, tmp_path: Path
) -> None:
    """After a reload without the job, the fragment says so (htmx swaps only a 200)."""
    path = tmp_path / "pipeline.py"
    path.write_text(DEFS)
    client = make_client(path)
    path.write_text(DEFS.replace("nightly", "nightly2"))
    client.post("/reload")
    fragment = _validate(client, "job", "nightly", "")
    assert "no job named &#39;nightly&#39;. Did you mean &#39;nightly2&#39;?" in fragment
    assert "Hint: reload the launchpad page" in fragment


def test_the_target_may_come_from_the_query_string(make_client: MakeClient) -> None:
    """`POST /launchpad/validate?job=NAME` works without the form's kind and target."""
    response = make_client(DEFS).post(
        "/launchpad/validate?job=nightly", data={"config": "ops: {stepp: {}}"}
    )
    assert response.status_code == 200
    assert "Did you mean &#39;step&#39;?" in response.text


SECRET_DEFAULTS = """
import outfitter as of
from pydantic import SecretStr

class Vault(of.ConfigurableResource):
    password: SecretStr = SecretStr("code-default-9d1e")
    token: str = of.EnvVar("LAUNCHPAD_TEST_TOKEN")
    region: str

@of.asset
def sealed(vault: Vault) -> int:
    return 1

defs = of.Definitions(assets=[sealed], resources={"vault": Vault.configure_at_launch()})
"""


def test_secrets_of_the_code_and_environment_never_reach_the_page(
    make_client: MakeClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A SecretStr default is left out of the scaffold, an EnvVar shows its name only, and
    neither value is in the page or a validation fragment."""
    monkeypatch.setenv("LAUNCHPAD_TEST_TOKEN", SECRET)
    client = make_client(SECRET_DEFAULTS)
    page = client.get("/launchpad?select=sealed")
    editor = _editor(page.text)
    assert "token:\n        env: LAUNCHPAD_TEST_TOKEN\n" in editor
    assert "password" not in editor
    fragment = _validate(client, "select", "sealed", "resources: {vault: {config: {}}}")
    for body in (page.text, fragment):
        assert SECRET not in body
        assert "code-default-9d1e" not in body
