"""The sensors and schedules pages: status, interval or cron, next tick and last tick; start and
stop (htmx row and plain form), a foreign Origin refused; tick history after daemon ticks; the
preview of one evaluation (requests, skip reason, error with the user's frames, log lines),
escaped and with secrets masked."""

from __future__ import annotations

import datetime as dt
import re
import time
from pathlib import Path

import pytest
from starlette.testclient import TestClient

import outfitter as of
from outfitter._daemon import Daemon
from outfitter.ui import Workspace, create_app
from outfitter.ui.instigators import NEXT_AT_DAEMON_TICK, when

from .conftest import ORIGIN, MakeClient

SECRET = "hunter2-sensor-token"

DEFS = """
import outfitter as of

class Catalog(of.ConfigurableResource):
    token: str

class Database(of.ConfigurableResource):
    table: str
    password: str = "x"

@of.asset
def users(db: Database) -> str:
    return db.table

refresh = of.define_asset_job("refresh", selection=[users])

@of.sensor(job=refresh, minimum_interval_seconds=3600, default_status="RUNNING")
def new_tables(context, catalog: Catalog):
    context.log.info("catalog answered <script>alert('log')</script> for %s", catalog.token)
    context.log.debug("a debug line")
    seen = int(context.cursor or 0)
    context.update_cursor(str(seen + 1))
    return of.RunRequest(
        run_key=f"users@{seen}",
        tags={"table": "users", "token": catalog.token},
        run_config=of.RunConfig(
            resources={"db": Database(table="users", password=of.EnvVar("DB_PASSWORD"))}
        ),
    )

@of.sensor(minimum_interval_seconds=30)
def quiet(context):
    return of.SkipReason("nothing new <script>alert('skip')</script>")

@of.sensor(minimum_interval_seconds=30)
def broken(context, catalog: Catalog):
    raise PermissionError(f"catalog refused token {catalog.token} <script>x</script>")

@of.schedule("0 0 1 1 *", job=refresh, execution_timezone="Europe/Paris", name="yearly")
def yearly(context):
    return of.SkipReason("not this year")

defs = of.Definitions(
    assets=[users],
    jobs=[refresh],
    sensors=[new_tables, quiet, broken],
    schedules=[yearly],
    resources={
        "catalog": Catalog(token=of.EnvVar("CATALOG_TOKEN")),
        "db": Database.configure_at_launch(),
    },
)
"""


@pytest.fixture(autouse=True)
def _secrets(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CATALOG_TOKEN", SECRET)
    monkeypatch.setenv("DB_PASSWORD", "db-password-value")


def cells(html: str, name: str) -> str:
    """The table row of ``name`` on the list page, tags stripped, whitespace collapsed."""
    row = re.search(
        rf'<tr class="instigator">\s*<td><a href="/instigators/{name}">.*?</tr>', html, re.S
    )
    assert row is not None, f"no row for {name}"
    return " ".join(re.sub(r"<[^>]+>", " ", row.group(0)).split())


def loaded_defs(client: TestClient) -> of.Definitions:
    workspace: Workspace = client.app.state.workspace  # type: ignore[attr-defined]
    defs = workspace.current.defs
    assert defs is not None, workspace.problems
    return defs


def test_the_list_shows_every_sensor_and_schedule_with_status_and_next_tick(
    make_client: MakeClient,
) -> None:
    """Status comes from the definition's default until stored; a running sensor never
    evaluated is due at the next daemon tick; a stopped one has no next tick; the schedule
    shows its cron and time zone; without a daemon in the process, the page says how to run
    one."""
    client = make_client(DEFS)
    page = client.get("/instigators")
    assert page.status_code == 200
    assert cells(page.text, "new_tables") == (
        f"new_tables sensor refresh RUNNING every 3600s {NEXT_AT_DAEMON_TICK} never Stop"
    )
    assert (
        cells(page.text, "quiet")
        == "quiet sensor all assets STOPPED every 30s - (stopped) never Start"
    )
    assert cells(page.text, "yearly").startswith(
        "yearly schedule refresh STOPPED 0 0 1 1 * (Europe/Paris) - (stopped)"
    )
    assert 'href="/definitions/jobs/refresh"' in page.text
    assert "No daemon runs in this process: run `outfitter daemon` or `outfitter dev`" in page.text


def test_start_and_stop_change_the_stored_status(
    make_client: MakeClient, ui_instance: of.Instance
) -> None:
    """A plain form POST redirects back; htmx gets the new row; a foreign Origin is refused and
    changes nothing; an unknown name is a 404 with a did-you-mean."""
    client = make_client(DEFS)
    started = client.post("/instigators/yearly/start", follow_redirects=False)
    assert started.status_code == 303
    assert started.headers["location"] == "/instigators"
    state = ui_instance.get_instigator("yearly")
    assert state is not None
    assert (state.kind, state.status) == ("schedule", "RUNNING")
    row = cells(client.get("/instigators").text, "yearly")
    defs = loaded_defs(client)
    nxt = defs.get_schedule_def("yearly").next_after(dt.datetime.now(dt.UTC))
    assert (
        f"RUNNING 0 0 1 1 * (Europe/Paris) {nxt.strftime('%Y-%m-%d 00:00 CET')} (23:00 UTC)" in row
    )

    back = client.post(
        "/instigators/yearly/stop",
        headers={"referer": f"{ORIGIN}/instigators/yearly"},
        follow_redirects=False,
    )
    assert back.headers["location"] == f"{ORIGIN}/instigators/yearly"
    assert ui_instance.get_instigator("yearly").status == "STOPPED"  # type: ignore[union-attr]

    fragment = client.post("/instigators/new_tables/stop", headers={"hx-request": "true"})
    assert fragment.status_code == 200
    assert fragment.text.lstrip().startswith('<tr class="instigator">')
    assert "<html" not in fragment.text
    assert "STOPPED" in fragment.text
    assert 'hx-post="/instigators/new_tables/start"' in fragment.text

    refused = client.post(
        "/instigators/new_tables/start", headers={"origin": "http://evil.example"}
    )
    assert refused.status_code == 403
    assert ui_instance.get_instigator("new_tables").status == "STOPPED"  # type: ignore[union-attr]

    unknown = client.post("/instigators/yearli/start")
    assert unknown.status_code == 404
    assert (
        "no sensor or schedule named &#39;yearli&#39;. Did you mean &#39;yearly&#39;?"
        in unknown.text
    )
    assert client.get("/instigators/new_tabels").status_code == 404


def test_tick_history_after_daemon_ticks(make_client: MakeClient, ui_instance: of.Instance) -> None:
    """Ticks the daemon recorded are listed newest first with their runs linked, cursor, skip
    reason (escaped) and error (masked); the next tick follows the minimum interval."""
    client = make_client(DEFS)
    defs = loaded_defs(client)
    for name in ("quiet", "broken"):
        ui_instance.set_instigator(name, "sensor", status="RUNNING")
    start = time.time()
    clock = {"now": start}
    daemon = Daemon(defs, ui_instance, clock=lambda: clock["now"])
    try:
        [first] = daemon.tick()
        clock["now"] += 3600
        [second] = daemon.tick()
    finally:
        daemon.close()

    page = client.get("/instigators/new_tables")
    assert page.status_code == 200
    text = page.text
    assert text.index(f'href="/runs/{second}"') < text.index(f'href="/runs/{first}"')
    assert f"<code>{second[:8]}</code>" in text
    assert "<tr><th>Cursor</th><td><code>2</code></td></tr>" in text
    assert f'<td class="next-tick">{when(start + 7200)}</td>' in text
    assert SECRET not in text

    listed = cells(client.get("/instigators").text, "new_tables")
    assert f"{when(start + 7200)} SUCCESS {when(start + 3600)}" in listed

    quiet = client.get("/instigators/quiet").text
    assert "nothing new &lt;script&gt;alert(&#39;skip&#39;)&lt;/script&gt;" in quiet
    assert "<script>alert" not in quiet
    assert '<span class="badge SKIPPED">SKIPPED</span>' in quiet

    broken = client.get("/instigators/broken").text
    assert "PermissionError: catalog refused token *** &lt;script&gt;x&lt;/script&gt;" in broken
    assert SECRET not in broken
    assert "<script>x" not in broken


def test_only_the_latest_100_ticks_are_listed(
    make_client: MakeClient, ui_instance: of.Instance
) -> None:
    """A long history is cut to the newest 100 and says so."""
    client = make_client(DEFS)
    for i in range(105):
        ui_instance.record_tick(
            "quiet", "sensor", timestamp=1_700_000_000 + i, status="SKIPPED", skip_reason=f"r{i}"
        )
    page = client.get("/instigators/quiet").text
    assert "The latest 100 ticks." in page
    assert page.count('<span class="badge SKIPPED">') == 100
    assert "<td>r104</td>" in page
    assert "<td>r4</td>" not in page
    assert "<td>r5</td>" in page


def test_preview_shows_requests_cursor_and_log_lines_without_launching(
    make_client: MakeClient, ui_instance: of.Instance
) -> None:
    """The requests with their run key, tags and launch config (EnvVar by name, secrets
    masked), the cursor it would store, its INFO lines (escaped, masked, no DEBUG); nothing
    launched, no tick or cursor stored."""
    client = make_client(DEFS)
    ui_instance.set_instigator("new_tables", "sensor", cursor="4")
    shown = client.post("/instigators/new_tables/preview", headers={"hx-request": "true"})
    assert shown.status_code == 200
    text = shown.text
    assert "<html" not in text
    assert "Preview of new_tables" in text
    assert "<code>users@4</code>" in text
    assert "<code>table=users</code>" in text
    assert "<code>token=***</code>" in text
    assert "&#34;env&#34;: &#34;DB_PASSWORD&#34;" in text
    assert "&#34;table&#34;: &#34;users&#34;" in text
    assert "The cursor would become <code>5</code>." in text
    assert (
        "<pre>catalog answered &lt;script&gt;alert(&#39;log&#39;)&lt;/script&gt; for ***</pre>"
        in text
    )
    assert "a debug line" not in text
    assert SECRET not in text
    assert "db-password-value" not in text
    assert ui_instance.get_runs() == []
    assert ui_instance.get_ticks("new_tables") == []
    assert ui_instance.get_instigator("new_tables").cursor == "4"  # type: ignore[union-attr]

    page = client.post("/instigators/new_tables/preview")  # without htmx: the whole page
    assert "<html" in page.text
    assert '<div id="preview">' in page.text
    assert "<code>users@4</code>" in page.text


def test_preview_of_a_skip_and_of_an_error(make_client: MakeClient) -> None:
    """A SkipReason is shown escaped; an error shows its type and masked message and the
    user's own frames only; a schedule is not previewed."""
    client = make_client(DEFS)
    skip = client.post("/instigators/quiet/preview", headers={"hx-request": "true"}).text
    assert (
        'Skipped: <span class="skip-reason">nothing new '
        "&lt;script&gt;alert(&#39;skip&#39;)&lt;/script&gt;</span>" in skip
    )
    assert "It logged nothing." in skip

    error = client.post("/instigators/broken/preview", headers={"hx-request": "true"}).text
    assert "The evaluation raised" in error
    assert (
        '<pre class="error">PermissionError: catalog refused token *** '
        "&lt;script&gt;x&lt;/script&gt;</pre>" in error
    )
    traceback = re.search(r'<pre class="traceback">(.*?)</pre>', error, re.S)
    assert traceback is not None
    assert ", in broken" in traceback.group(1)
    assert "defs_0.py" in traceback.group(1)
    assert "outfitter" not in traceback.group(1).replace("import outfitter", "")
    assert SECRET not in error

    schedule = client.post("/instigators/yearly/preview", headers={"hx-request": "true"})
    assert schedule.status_code == 400
    assert "only sensors are previewed" in schedule.text
    assert client.post("/instigators/nope/preview").status_code == 404


def test_a_schedule_page_lists_its_next_times(make_client: MakeClient) -> None:
    """In its time zone, with the UTC time; no preview for a schedule."""
    client = make_client(DEFS)
    page = client.get("/instigators/yearly").text
    assert "Next scheduled times" in page
    assert "Preview evaluation" not in page
    assert page.count(" 00:00 CET (23:00 UTC)</li>") == 5


def test_with_a_daemon_in_the_process_the_pages_say_it_runs(
    tmp_path: Path, ui_instance: of.Instance
) -> None:
    """``outfitter dev`` gives the app its daemon: the nav and the note say it is running."""
    path = tmp_path / "defs.py"
    path.write_text(DEFS)
    app = create_app(Workspace(file=path), ui_instance, daemon=object())
    with TestClient(app, base_url=ORIGIN) as client:
        page = client.get("/instigators").text
    assert "daemon running" in page
    assert "The daemon is running in this process (outfitter dev)" in page
    assert "No daemon runs" not in page


def test_without_definitions_the_list_says_so(make_client: MakeClient, tmp_path: Path) -> None:
    """Code that does not load: the page explains the empty list (the banner lists why)."""
    path = tmp_path / "broken.py"
    path.write_text("raise RuntimeError('nope')\n")
    page = make_client(path).get("/instigators")
    assert page.status_code == 200
    assert "No sensors or schedules in" in page.text
    assert "(the definitions did not load)" in page.text
