"""Every page and fragment of every section escapes what the user's code and its runs wrote,
shows no secret value, and every state-changing route refuses another origin.

The workspace puts ``<script>alert(1)</script>`` in everything a user writes (descriptions,
docstrings, config defaults, log messages, tags, skip reasons, failures) and a marker secret in
every secret (an ``EnvVar``'s value, a ``SecretStr``, a secret given at launch and quoted in
logs and failures). The routes come from the app's route table, so a page added later is
covered without changing this test.
"""

from __future__ import annotations

import html
import itertools
import re
from typing import Any
from urllib.parse import quote, unquote

import pytest
from starlette.routing import Match, Route
from starlette.testclient import TestClient

from outfitter import Instance
from outfitter._daemon import Daemon

from .conftest import ORIGIN, MakeClient

XSS = "<script>alert(1)</script>"
ESCAPED = "&lt;script&gt;alert(1)&lt;/script&gt;"
ENV_SECRET = "envMarker-7f3c-SECRET"
CODE_SECRET = "codeMarker-91ab-SECRET"
LAUNCH_SECRET = "launchMarker-c2d4-SECRET"
SECRETS = (ENV_SECRET, CODE_SECRET, LAUNCH_SECRET)

WORKSPACE = f'''
"""Definitions whose every user-written string is a script and every secret a marker."""

import outfitter as of
from outfitter import Flow, Parameter, resource_manager, task
from pydantic import SecretStr

XSS = {XSS!r}


class Vault(of.ConfigurableResource):
    """A vault {XSS}."""

    token: str
    key: SecretStr
    label: str = XSS


class Holder(of.ConfigurableResource):
    """Holds a vault {XSS}."""

    vault: Vault
    note: str


class Launched(of.ConfigurableResource):
    """Given at launch {XSS}."""

    password: SecretStr
    comment: str = XSS


class StepConfig(of.Config):
    greeting: str = XSS


@of.asset(description="an asset {XSS}")
def scripted(context: of.AssetExecutionContext, config: StepConfig, holder: Holder,
             launched: Launched) -> int:
    context.log.info(
        f"{{config.greeting}} token={{holder.vault.token}}"
        f" key={{holder.vault.key.get_secret_value()}}"
        f" password={{launched.password.get_secret_value()}}"
    )
    return 1


@of.asset(description="fails {XSS}", deps=[scripted])
def failing(holder: Holder, launched: Launched) -> int:
    raise ValueError(
        f"{{XSS}} {{holder.vault.token}} {{launched.password.get_secret_value()}}"
    )


scripted_job = of.define_asset_job(
    "scripted_job", selection=[scripted], tags={{"note": XSS}}, description="a job {XSS}"
)
failing_job = of.define_asset_job("failing_job", selection=[scripted, failing])


@of.sensor(job=scripted_job, default_status="RUNNING", minimum_interval_seconds=1)
def skipping(context: of.SensorEvaluationContext):
    return of.SkipReason(f"skipped {{XSS}}")


@of.sensor(job=scripted_job, default_status="RUNNING", minimum_interval_seconds=1)
def requesting(context: of.SensorEvaluationContext):
    return of.RunRequest(
        run_key="only-once",
        tags={{"why": XSS}},
        run_config={{"resources": {{"launched": {{"config": {{"password": {LAUNCH_SECRET!r}}}}}}}}},
    )


@of.schedule("0 * * * *", job=scripted_job)
def hourly(context: of.ScheduleEvaluationContext):
    return of.RunRequest(tags={{"when": XSS}})


defs = of.Definitions(
    assets=[scripted, failing],
    jobs=[scripted_job, failing_job],
    sensors=[skipping, requesting],
    schedules=[hourly],
    resources={{
        "holder": Holder(
            vault=Vault(token=of.EnvVar("SAFETY_TOKEN"), key=SecretStr({CODE_SECRET!r})),
            note=XSS,
        ),
        "launched": Launched.configure_at_launch(),
    }},
)


@resource_manager
class Scratch:
    """A scratch area {XSS}."""

    def __init__(self, label: str = XSS) -> None:
        self.label = label

    def setup(self) -> str:
        return self.label

    def cleanup(self, value: str) -> None:
        pass


@task
def shout(area: str, words: str) -> str:
    """Shouts {XSS}."""
    of.get_logger().info(f"shouting {{words}} in {{area}}")
    return words


with Flow("scripted-flow") as flow:
    words = Parameter("words", default=XSS)
    with Scratch() as area:
        shout(area, words)
'''

LAUNCH = {"resources": {"launched": {"config": {"password": LAUNCH_SECRET}}}}


@pytest.fixture
def client(
    make_client: MakeClient, ui_instance: Instance, monkeypatch: pytest.MonkeyPatch
) -> TestClient:
    """The UI over the scripted workspace, after a successful run, a failed run, a flow run and
    a daemon tick of its sensors (one skips, one launches)."""
    monkeypatch.setenv("SAFETY_TOKEN", ENV_SECRET)
    client = make_client(WORKSPACE)
    loaded = client.app.state.workspace.current  # type: ignore[attr-defined]
    assert not loaded.problems, loaded.problems
    defs = loaded.defs
    tags = {"team": XSS}
    ok = defs.get_job_def("scripted_job").execute_in_process(
        run_config=LAUNCH, instance=ui_instance, tags=tags
    )
    assert ok.success
    failed = defs.get_job_def("failing_job").execute_in_process(
        run_config=LAUNCH, instance=ui_instance, tags=tags, raise_on_error=False
    )
    assert not failed.success
    assert loaded.flows["scripted-flow"].run(instance=ui_instance).is_successful()
    daemon = Daemon(defs, ui_instance)
    try:
        assert len(daemon.tick()) == 1  # `requesting` launches, `skipping` skips
    finally:
        daemon.close()
    return client


def names(client: TestClient) -> dict[str, list[str]]:
    """What a path parameter can be: every name the workspace defines and every run's id."""
    loaded = client.app.state.workspace.current  # type: ignore[attr-defined]
    instance: Instance = client.app.state.instance  # type: ignore[attr-defined]
    defs = loaded.defs
    return {
        "resource": ["holder", "holder.vault", "launched", "io_manager"],
        "job": [job.name for job in defs.jobs],
        "asset": ["scripted", "failing"],
        "flow": sorted(loaded.flows),
        "instigator": ["skipping", "requesting", "hourly"],
        "run": [run.run_id for run in instance.get_runs()],
    }


def _kind(path: str, known: dict[str, list[str]]) -> list[str]:
    """The values to try for a parameter of ``path``: by the section it is in, else all."""
    for word, kind in (
        ("resources", "resource"),
        ("flows", "flow"),
        ("jobs", "job"),
        ("assets", "asset"),
        ("instigators", "instigator"),
        ("runs", "run"),
    ):
        if path.startswith(f"/{word}/") or f"/{word}/" in path:
            return known[kind]
    return sorted(set(itertools.chain.from_iterable(known.values())))


def routes(client: TestClient, method: str) -> list[Route]:
    """The app's routes (static files aside) that answer ``method``."""
    return [
        route
        for route in client.app.routes  # type: ignore[attr-defined]
        if isinstance(route, Route) and route.methods and method in route.methods
    ]


PARAM = re.compile(r"\{\w+(?::\w+)?\}")


def filled(path: str, known: dict[str, list[str]]) -> list[str]:
    """``path`` with its parameters filled in every way the workspace and its runs allow."""
    count = len(PARAM.findall(path))
    urls = []
    for values in itertools.product(_kind(path, known), repeat=count):
        url = path
        for value in values:
            url = PARAM.sub(quote(value, safe=""), url, count=1)
        urls.append(url)
    return urls


def queries(known: dict[str, list[str]]) -> list[str]:
    """Query strings the pages take (selections, filters), tried on every page."""
    return [
        "",
        *(f"?job={quote(job)}" for job in known["job"]),
        *(f"?flow={quote(flow)}" for flow in known["flow"]),
        "?select=scripted,failing",
        "?select=*",
        "?status=FAILURE",
        "?status=SUCCESS&job=scripted_job",
        "?level=DEBUG&type=LOG",
        "?after=0",
    ]


LINK = re.compile(r'(?:href|hx-get|src|action)="(/[^"#]*)', re.I)


def assert_safe(url: str, body: str, secrets: tuple[str, ...] = SECRETS) -> None:
    assert "<script>alert" not in body.lower(), f"{url} renders a user string unescaped"
    for secret in secrets:
        assert secret not in body, f"{url} shows a secret value"


def crawl(client: TestClient, start: list[str], limit: int = 3000) -> dict[str, int]:
    """GET ``start`` and every same-site link, htmx source and form found in the answers
    (static files aside), checking each answer; returns each URL's status."""
    seen: dict[str, int] = {}
    queue = list(start)
    while queue and len(seen) < limit:
        url = queue.pop(0)
        if url in seen or url.startswith("/static/"):
            continue
        response = client.get(url, follow_redirects=False)
        seen[url] = response.status_code
        assert response.status_code < 500, f"GET {url}: {response.status_code}"
        assert_safe(url, response.text)
        if response.is_redirect:
            queue.append(response.headers["location"])
        for link in LINK.findall(response.text):
            link = html.unescape(link)
            if link not in seen:
                queue.append(link)
    return seen


def test_every_page_and_fragment_escapes_user_strings_and_hides_secrets(
    client: TestClient,
) -> None:
    """GET every route with every value of its parameters and the queries pages take, and
    every link those pages give: no unescaped script and no secret in any answer (page,
    fragment or JSON); every route answers for some value; the scripts were shown, escaped."""
    known = names(client)
    start = [
        url + query
        for route in routes(client, "GET")
        for url in filled(route.path, known)
        for query in queries(known)
    ]
    seen = crawl(client, start)
    for route in routes(client, "GET"):
        answered = [
            url
            for url, status in seen.items()
            if status < 400 and route.matches(_scope(url))[0] is Match.FULL
        ]
        assert answered, f"no value of its parameters made {route.path} answer"
    bodies = "".join(client.get(url).text for url in ("/resources", "/definitions", "/runs"))
    assert ESCAPED in bodies


def _scope(url: str) -> dict[str, Any]:
    """An ASGI scope for ``url``, to ask a route whether it matches."""
    path = url.split("?", 1)[0]
    return {"type": "http", "path": unquote(path), "method": "GET"}


def test_posts_from_the_ui_escape_what_they_echo_and_hide_secrets(client: TestClient) -> None:
    """Every POST from the UI's own pages (validate and launch a config, preview, start, stop,
    cancel, reload) answers with what it echoes escaped and no secret, also a secret typed into
    the config it checks (the instance is in memory: a launch is refused, nothing is spawned)."""
    known = names(client)
    config = (
        f"resources:\n  launched:\n    config:\n      password: {LAUNCH_SECRET}\n"
        f"      comment: '{XSS}'\n      '{XSS}': 1\n"
    )
    targets = [
        *(("job", job) for job in known["job"]),
        *(("flow", flow) for flow in known["flow"]),
        ("select", "*"),
        ("select", XSS),
    ]
    instance: Instance = client.app.state.instance  # type: ignore[attr-defined]
    runs = len(instance.get_runs())
    posted = 0
    for route in routes(client, "POST"):
        for url in filled(route.path, known):
            for kind, target in targets:
                form = {"kind": kind, "target": target, "config": config, "tags": f"note={XSS}"}
                for headers in ({"hx-request": "true"}, {}):
                    response = client.post(url, data=form, headers=headers, follow_redirects=True)
                    assert response.status_code < 500, f"POST {url}: {response.status_code}"
                    # A flow has no resource `launched`: there the typed password is no secret
                    # field, and the editor may give back what was typed.
                    shown = SECRETS if kind != "flow" else (ENV_SECRET, CODE_SECRET)
                    assert_safe(f"POST {url} {kind}={target}", response.text, shown)
                    posted += 1
    assert posted
    assert len(instance.get_runs()) == runs  # nothing launched


def test_every_post_route_refuses_another_origin(client: TestClient) -> None:
    """Each state-changing route answers 403 to a request from another site, and changes
    nothing: no run is launched, cancelled, or sensor started or stopped."""
    known = names(client)
    instance: Instance = client.app.state.instance  # type: ignore[attr-defined]
    before = [(run.run_id, run.status) for run in instance.get_runs()]
    states = {name: instance.get_instigator(name) for name in known["instigator"]}
    posts = routes(client, "POST")
    assert "/reload" in [route.path for route in posts]
    for route in posts:
        for url in filled(route.path, known):
            for origin in ("http://evil.example", "null", ORIGIN.replace("127.0.0.1", "evil")):
                response = client.post(
                    url, data={"job": "scripted_job"}, headers={"origin": origin}
                )
                assert response.status_code == 403, f"POST {url} from {origin}"
    assert [(run.run_id, run.status) for run in instance.get_runs()] == before
    assert {name: instance.get_instigator(name) for name in known["instigator"]} == states
