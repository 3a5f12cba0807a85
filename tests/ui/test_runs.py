"""The runs pages: the list (filters, pages), a run's page (config, tags, events, logs,
tracebacks), the live fragments, id prefixes, escaping, secrets, and cancel (with a real run in
another process)."""

from __future__ import annotations

import re
import socket
import subprocess
import sys
import textwrap
import time
from pathlib import Path
from typing import Any

import pytest
from starlette.testclient import TestClient

from outfitter import Instance
from outfitter._instance import EventType, RunStatus

from .conftest import MakeClient

DEFS = """
import outfitter as of

class Store(of.ConfigurableResource):
    \"\"\"Where rows go.\"\"\"

    token: str

    def setup_for_execution(self, context):
        context.log.info("store opened with %s", self.token)

    def teardown_after_execution(self, context):
        pass

class Size(of.Config):
    rows: int = 3

@of.asset
def users(context, store: Store, config: Size) -> int:
    context.log.warning("loading %d users <script>alert('log')</script>", config.rows)
    context.log.debug("detail for users")
    return config.rows

@of.asset
def broken(users: int, store: Store) -> int:
    raise ValueError(f"no good <script>alert('exc')</script> {store.token}")

defs = of.Definitions(
    assets=[users, broken],
    resources={"store": Store(token=of.EnvVar("UI_RUNS_TOKEN"))},
)
"""

SECRET = "s3cr3t-marker-7f1d"


def rows(page: str) -> list[str]:
    """The status labels of the runs listed."""
    return re.findall(r'<span class="badge \w+">(\w+)</span>', page)


def run_asset_job(client: TestClient, instance: Instance, **kwargs: Any) -> str:
    defs = client.app.state.workspace.current.defs  # type: ignore[attr-defined]
    job = defs.get_implicit_global_asset_job_def()
    result = job.execute_in_process(instance=instance, raise_on_error=False, **kwargs)
    return str(result.run_id)


def moved(instance: Instance, run_id: str, **columns: Any) -> None:
    """Record another process (pid, host) as the one running ``run_id``."""
    sets = ", ".join(f"{name} = ?" for name in columns)
    with instance._conn:
        instance._conn.execute(
            f"update runs set {sets} where run_id = ?", [*columns.values(), run_id]
        )


@pytest.fixture
def secret_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("UI_RUNS_TOKEN", SECRET)


def test_the_list_pages_filters_and_shows_running_runs(
    make_client: MakeClient, ui_instance: Instance
) -> None:
    """120 runs: pages of 50 with newer/older links, filters by status and job, a STARTED run
    shows as running."""
    for i in range(120):
        job = "even" if i % 2 == 0 else "odd"
        run = ui_instance.create_run(job, run_id=f"{i:04d}" + "0" * 28, tags={"i": str(i)})
        if i < 10:
            ui_instance.set_run_status(run.run_id, RunStatus.SUCCESS)
    ui_instance.create_run("live", status=RunStatus.STARTED)
    client = make_client(DEFS)

    first = client.get("/runs")
    assert first.status_code == 200
    assert len(rows(first.text)) == 50
    assert rows(first.text)[0] == "RUNNING"  # newest first
    assert "Runs 1\N{EN DASH}50 of 121" in first.text
    assert 'href="/runs?page=2" rel="next"' in first.text
    assert 'rel="prev"' not in first.text

    last = client.get("/runs", params={"page": 3})
    assert len(rows(last.text)) == 21
    assert "Runs 101\N{EN DASH}121 of 121" in last.text
    assert 'href="/runs?page=2" rel="prev"' in last.text
    assert 'rel="next"' not in last.text
    assert 'href="/runs/0000' in last.text  # the oldest run is on the last page
    assert "i=0" in last.text  # tags

    done = client.get("/runs", params={"status": "SUCCESS"})
    assert rows(done.text) == ["SUCCESS"] * 10
    odd = client.get("/runs", params={"job": "odd", "page": 2})
    assert "Runs 51\N{EN DASH}60 of 60" in odd.text
    assert set(re.findall(r"<td>(even|odd|live)</td>", odd.text)) == {"odd"}
    assert '<option value="odd" selected>' in odd.text
    running = client.get("/runs", params={"status": "running"})
    assert rows(running.text) == ["RUNNING"]
    both = client.get("/runs", params={"status": "SUCCESS", "job": "odd", "page": 99})
    assert rows(both.text) == ["SUCCESS"] * 5  # a page past the end shows the last one
    assert "No runs match these filters" in client.get("/runs", params={"job": "nope"}).text
    assert "no run status &#39;bogus&#39;" in client.get("/runs", params={"status": "bogus"}).text


def test_a_run_is_found_by_a_unique_prefix_and_ambiguity_lists_the_candidates(
    make_client: MakeClient, ui_instance: Instance
) -> None:
    """A unique prefix redirects to the full id; an ambiguous one lists the runs; an unknown
    one is a 404 page saying so."""
    ui_instance.create_run("a", run_id="abc1" + "0" * 28)
    ui_instance.create_run("b", run_id="abc2" + "0" * 28)
    client = make_client(DEFS)
    unique = client.get("/runs/abc1", follow_redirects=False)
    assert unique.status_code == 307
    assert unique.headers["location"] == "/runs/abc1" + "0" * 28
    assert client.get("/runs/abc2/events?after=0", follow_redirects=False).headers["location"] == (
        "/runs/abc2" + "0" * 28 + "/events?after=0"
    )
    ambiguous = client.get("/runs/abc")
    assert ambiguous.status_code == 300
    assert "is ambiguous" in ambiguous.text
    assert 'href="/runs/abc1' in ambiguous.text
    assert 'href="/runs/abc2' in ambiguous.text
    unknown = client.get("/runs/zzz")
    assert unknown.status_code == 404
    assert "no run &#39;zzz&#39; in this instance" in unknown.text


def test_the_run_page_shows_config_tags_logs_and_tracebacks(
    make_client: MakeClient, ui_instance: Instance, secret_env: None
) -> None:
    """Run config as YAML, tags, LOG events with their level and logger, the failure's
    message and traceback in a <details>."""
    client = make_client(DEFS)
    run_id = run_asset_job(
        client,
        ui_instance,
        run_config={"ops": {"users": {"config": {"rows": 7}}}},
        tags={"team": "data"},
    )
    page = client.get(f"/runs/{run_id}")
    assert page.status_code == 200
    text = page.text
    assert '<span class="badge FAILURE">FAILURE</span>' in text
    assert "ops:\n  users:\n    config:\n      rows: 7" in text
    assert "<th>team</th><td>data</td>" in text
    logs = re.findall(r'<tr class="event LOG".*?</tr>', text, re.S)
    (warning,) = [row for row in logs if "loading 7 users" in row]
    assert '<td class="level WARNING">WARNING' in warning
    assert "outfitter.steps.users" in warning
    assert "<td>users</td>" in warning
    (opened,) = [row for row in logs if "store opened with ***" in row]
    assert "<td>store</td>" in opened  # a resource's log names the resource
    failure = re.search(r"<code>STEP_FAILURE</code>.*?</tr>", text, re.S)
    assert failure is not None
    assert '<details class="traceback">' in failure.group(0)
    assert "ValueError: traceback" in failure.group(0)
    assert "raise ValueError(f&#34;no good" in failure.group(0)
    assert "<td>broken</td>" in failure.group(0)
    assert "Cancel run" not in text  # finished
    assert 'id="events-poller"></div>' in text  # no polling for a finished run
    assert 'hx-trigger="every' not in text


def test_events_filter_by_step_type_and_level(
    make_client: MakeClient, ui_instance: Instance, secret_env: None
) -> None:
    """The fragment's query filters the rows; the page takes the same filters."""
    client = make_client(DEFS)
    run_id = run_asset_job(client, ui_instance)

    def types(response: Any) -> list[str]:
        return re.findall(r"<td><code>(\w+)</code></td>", response.text)

    by_step = client.get(f"/runs/{run_id}/events", params={"step": "broken"})
    assert by_step.status_code == 200
    assert "STEP_FAILURE" in types(by_step)
    assert "<td>users</td>" not in by_step.text
    assert set(types(client.get(f"/runs/{run_id}/events", params={"type": "LOG"}))) == {"LOG"}
    errors = client.get(f"/runs/{run_id}/events", params={"level": "error"})
    assert set(types(errors)) == {"STEP_FAILURE", "RUN_FAILURE"}
    warnings = types(client.get(f"/runs/{run_id}/events", params={"level": "WARNING"}))
    assert warnings.count("LOG") == 1  # the warning, not the info nor the debug record
    page = client.get(f"/runs/{run_id}", params={"type": "RESOURCE_OPEN"})
    assert set(types(page)) == {"RESOURCE_OPEN"}
    assert '<option value="RESOURCE_OPEN" selected>' in page.text
    nothing = client.get(f"/runs/{run_id}/events", params={"step": "nope"})
    assert "No events match these filters" in nothing.text


def test_polling_returns_only_newer_events_and_stops_when_the_run_ends(
    make_client: MakeClient, ui_instance: Instance
) -> None:
    """events?after=CURSOR: the newer rows, the next poller (its cursor moved) and the header
    out of band; once the run finished, the poller polls no more; the timeline likewise."""
    run = ui_instance.create_run("live", status=RunStatus.STARTED)
    ui_instance.report_event(run.run_id, EventType.RUN_START, message="live")
    ui_instance.report_event(run.run_id, EventType.STEP_START, step_key="first")
    client = make_client(DEFS)
    page = client.get(f"/runs/{run.run_id}")
    assert '<span class="badge STARTED">RUNNING</span>' in page.text
    assert "Cancel run" in page.text
    poll = re.search(r'id="events-poller" hx-get="([^"]+)" hx-trigger="every 1s"', page.text)
    assert poll is not None
    url = poll.group(1).replace("&amp;", "&")
    assert url == f"/runs/{run.run_id}/events?after=2"
    assert 'hx-target="#event-rows" hx-swap="beforeend"' in page.text
    assert f'hx-get="/runs/{run.run_id}/timeline" hx-trigger="every 2s"' in page.text

    quiet = client.get(url)
    assert "<tr" not in quiet.text
    assert "events?after=2" in quiet.text

    ui_instance.report_event(run.run_id, EventType.STEP_SUCCESS, step_key="first")
    ui_instance.report_event(run.run_id, EventType.LOG, message="later", data={"level": "INFO"})
    newer = client.get(url)
    assert re.findall(r"<td><code>(\w+)</code></td>", newer.text) == ["STEP_SUCCESS", "LOG"]
    assert newer.text.index("<tr") < newer.text.index('id="events-poller"')  # rows first
    assert 'id="events-poller" hx-get="/runs/' in newer.text
    assert "events?after=4" in newer.text
    assert 'hx-swap-oob="true"' in newer.text
    assert 'id="run-header"' in newer.text

    filtered = client.get(f"/runs/{run.run_id}/events", params={"after": 2, "type": "LOG"})
    assert re.findall(r"<td><code>(\w+)</code></td>", filtered.text) == ["LOG"]
    assert "after=4&amp;type=LOG" in filtered.text or "type=LOG&amp;after=4" in filtered.text

    ui_instance.report_event(run.run_id, EventType.RUN_SUCCESS, message="live")
    ui_instance.set_run_status(run.run_id, RunStatus.SUCCESS)
    last = client.get(f"/runs/{run.run_id}/events", params={"after": 4})
    assert re.findall(r"<td><code>(\w+)</code></td>", last.text) == ["RUN_SUCCESS"]
    assert '<div id="events-poller" hx-swap-oob="true"></div>' in last.text
    assert '<span class="badge SUCCESS">SUCCESS</span>' in last.text
    assert "Cancel run" not in last.text
    timeline = client.get(f"/runs/{run.run_id}/timeline")
    assert timeline.status_code == 200
    assert "hx-trigger" not in timeline.text


def test_user_text_is_escaped_on_every_runs_page(
    make_client: MakeClient, ui_instance: Instance, secret_env: None
) -> None:
    """<script> in a log message, a tag, an exception message, a job name, a step and a
    resource key is shown as text, never as markup."""
    client = make_client(DEFS)
    real = run_asset_job(client, ui_instance, tags={"note": "<script>alert('tag')</script>"})
    odd = ui_instance.create_run(
        "<script>alert('job')</script>", tags={"<script>k": "v"}, status=RunStatus.STARTED
    )
    ui_instance.report_event(odd.run_id, EventType.STEP_START, step_key="<script>alert('s')")
    ui_instance.report_event(
        odd.run_id, EventType.RESOURCE_OPEN, resource_key="<script>alert('r')", duration=0.1
    )
    urls = [
        "/runs",
        f"/runs?job={odd.job_name}",
        f"/runs/{real}",
        f"/runs/{real}/events",
        f"/runs/{real}/events?after=0",
        f"/runs/{real}/timeline",
        f"/runs/{odd.run_id}",
        f"/runs/{odd.run_id}/events?after=0",
        f"/runs/{odd.run_id}/timeline",
    ]
    for url in urls:
        response = client.get(url)
        assert response.status_code == 200, url
        assert "<script>alert" not in response.text, url
        assert "<script>k" not in response.text, url
    page = client.get(f"/runs/{real}").text
    assert "&lt;script&gt;alert(&#39;log&#39;)" in page
    assert "&lt;script&gt;alert(&#39;exc&#39;)" in page
    assert "&lt;script&gt;alert(&#39;tag&#39;)" in page
    assert "&lt;script&gt;alert(&#39;s&#39;)" in client.get(f"/runs/{odd.run_id}/timeline").text


def test_no_secret_on_any_runs_page_or_fragment(
    make_client: MakeClient, ui_instance: Instance, secret_env: None
) -> None:
    """An EnvVar's value, logged by the resource and quoted in an exception, appears on no
    page: the list, the run page, the events (whole and polled), the timeline, the ambiguous
    prefix page, the cancel answer."""
    client = make_client(DEFS)
    run_id = run_asset_job(
        client,
        ui_instance,
        run_config={"resources": {"store": {"config": {"token": {"env": "UI_RUNS_TOKEN"}}}}},
    )
    second = run_asset_job(client, ui_instance)
    common = next(i for i in range(1, 32) if run_id[:i] != second[:i]) - 1
    urls = [
        "/runs",
        "/runs?status=FAILURE",
        f"/runs?job={ui_instance.get_run(run_id).job_name}",  # type: ignore[union-attr]
        f"/runs/{run_id}",
        f"/runs/{run_id}?level=DEBUG",
        f"/runs/{run_id}/events",
        f"/runs/{run_id}/events?after=0",
        f"/runs/{run_id}/events?after=0&type=LOG",
        f"/runs/{run_id}/timeline",
        f"/runs/{second}",
        f"/runs/{run_id[:common]}" if common else "/runs/",
    ]
    seen = 0
    for url in urls:
        response = client.get(url)
        assert SECRET not in response.text, url
        seen += "***" in response.text
    assert seen >= 2  # the masked value is shown where the secret was
    cancel = client.post(f"/runs/{run_id}/cancel")
    assert SECRET not in cancel.text
    events = ui_instance.all_events(run_id)
    assert any("***" in e.message for e in events)


def test_cancel_explains_why_a_run_cannot_be_canceled(
    make_client: MakeClient, ui_instance: Instance
) -> None:
    """Finished, queued, on another host, its process gone (then marked FAILURE), or run by
    the UI's own process: nothing is signalled and the page says why. Foreign POSTs are
    refused."""
    client = make_client(DEFS)
    done = ui_instance.create_run("j", status=RunStatus.STARTED)
    ui_instance.set_run_status(done.run_id, RunStatus.SUCCESS)
    answer = client.post(f"/runs/{done.run_id}/cancel", follow_redirects=False)
    assert answer.status_code == 303
    assert answer.headers["location"] == f"/runs/{done.run_id}?cancel=FINISHED"
    assert "already finished" in client.get(answer.headers["location"]).text

    queued = ui_instance.create_run("j")
    assert "has not started" in client.post(f"/runs/{queued.run_id}/cancel").text

    mine = ui_instance.create_run("j", status=RunStatus.STARTED)
    assert "this UI&#39;s own process" in client.post(f"/runs/{mine.run_id}/cancel").text
    assert ui_instance.get_run(mine.run_id).status is RunStatus.STARTED  # type: ignore[union-attr]

    far = ui_instance.create_run("j", status=RunStatus.STARTED)
    moved(ui_instance, far.run_id, host="far-away")
    far_page = client.post(f"/runs/{far.run_id}/cancel").text
    assert "runs on another host" in far_page
    assert "pid" in far_page
    assert "far-away" in far_page

    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    gone = ui_instance.create_run("j", status=RunStatus.STARTED)
    moved(ui_instance, gone.run_id, pid=dead.pid, host=socket.gethostname())
    gone_page = client.post(f"/runs/{gone.run_id}/cancel").text
    assert "no longer exists: the run was marked FAILURE" in gone_page
    assert '<span class="badge FAILURE">FAILURE</span>' in gone_page

    refused = client.post(f"/runs/{far.run_id}/cancel", headers={"origin": "http://evil.example"})
    assert refused.status_code == 403


LONG_JOB = """
import sys, time
from pathlib import Path
import outfitter as of

started = Path(sys.argv[2])

@of.resource
def conn(context):
    yield "conn"

@of.asset(required_resource_keys={"conn"})
def slow(context):
    started.write_text("started")
    while True:
        time.sleep(0.05)

with of.Instance.local(sys.argv[1]) as instance:
    try:
        of.materialize([slow], resources={"conn": conn}, instance=instance)
    except KeyboardInterrupt:
        sys.exit(130)
"""


def test_cancel_stops_a_run_going_in_another_process(
    make_client: MakeClient, tmp_path: Path
) -> None:
    """A real run in a subprocess: its page offers Cancel; POST cancel sends SIGTERM to that
    process, which records the run CANCELED after closing its resources."""
    script = tmp_path / "long.py"
    script.write_text(textwrap.dedent(LONG_JOB))
    home, started = tmp_path / "home", tmp_path / "started"
    proc = subprocess.Popen([sys.executable, str(script), str(home), str(started)])
    try:
        deadline = time.monotonic() + 60
        while not started.exists():
            assert proc.poll() is None, "the run ended before its step started"
            assert time.monotonic() < deadline, "the step never started"
            time.sleep(0.05)
        with Instance.local(home) as instance:
            client = make_client(DEFS, instance=instance)
            (run,) = instance.get_runs()
            assert run.status is RunStatus.STARTED
            assert run.pid == proc.pid
            page = client.get(f"/runs/{run.run_id}").text
            assert "Cancel run" in page
            assert f"pid {proc.pid}" in page
            answer = client.post(f"/runs/{run.run_id}/cancel")
            assert "Cancel requested" in answer.text
            assert proc.wait(timeout=60) == 130
            final = instance.get_run(run.run_id)
            assert final is not None
            assert final.status is RunStatus.CANCELED
            closes = instance.all_events(run.run_id, event_type=EventType.RESOURCE_CLOSE)
            assert [e.resource_key for e in closes] == ["conn"]
            after = client.get(f"/runs/{run.run_id}").text
            assert '<span class="badge CANCELED">CANCELED</span>' in after
            assert "Cancel run" not in after
            assert "already finished" in client.post(f"/runs/{run.run_id}/cancel").text
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
