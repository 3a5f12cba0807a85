"""The resources pages: the list, a resource's page, unknown keys, escaping, secrets, and the
main example's resources."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from .conftest import MakeClient

ROOT = Path(__file__).resolve().parents[2]

DEFS = '''
import outfitter as of
from pydantic import Field, SecretStr


class Credentials(of.ConfigurableResource):
    """Login for the store: <script>alert(1)</script>"""

    username: str = Field(description="who <script>alert(2)</script> logs in")
    password: str


class Bucket(of.ConfigurableResource):
    """A bucket holding its credentials."""

    credentials: Credentials
    region: str = "<script>alert(3)</script>"


class Pool(of.ConfigurableResource, scope="process"):
    size: int = 4


class Transaction(of.ConfigurableResource, scope="step"):
    """One transaction per step."""

    pool: Pool


class Api(of.ConfigurableResource):
    url: str
    token: str
    key: SecretStr


@of.asset
def report(bucket: Bucket, api: Api) -> int:
    return 1


@of.op
def write(tx: Transaction) -> None:
    return None


@of.job
def nightly() -> None:
    write()


@of.sensor(job=nightly)
def watcher(api: Api) -> of.SkipReason:
    return of.SkipReason("nothing new")


@of.schedule("0 * * * *", job=nightly)
def hourly(tx: Transaction) -> of.SkipReason:
    return of.SkipReason("never")


credentials = Credentials.configure_at_launch(username="ops")
defs = of.Definitions(
    assets=[report],
    jobs=[nightly],
    sensors=[watcher],
    schedules=[hourly],
    resources={
        "credentials": credentials,
        "bucket": Bucket(credentials=credentials),
        "api": Api(url="http://x", token=of.EnvVar("UI_PAGE_TOKEN"), key="key-MARKER-9f3"),
        "tx": Transaction(pool=Pool(size=2)),
    },
)
'''

FLOWS = '''
import outfitter as of


class Client(of.ConfigurableResource):
    """Talks to the service."""

    url: str


@of.task
def fetch(client: Client) -> str:
    return client.url


with of.Flow("etl", resources={"client": Client(url="http://svc")}) as flow:
    fetch()
'''

SECRET_MARKERS = ("key-MARKER-9f3", "tok-MARKER-77a")


@pytest.fixture(autouse=True)
def _environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("OUTFITTER_ENV_FILE", str(tmp_path / "absent.env"))
    monkeypatch.setenv("UI_PAGE_TOKEN", "tok-MARKER-77a")


def _main(html: str) -> str:
    """The page's own content (without the frame)."""
    return html.split("<main>", 1)[1]


def _row(html: str, key: str) -> str:
    """The list's table row of resource ``key``."""
    match = re.search(
        rf'<tr class="res-row[^"]*">\s*<td[^>]*>.*?href="/resources/{re.escape(key)}"'
        r".*?</tr>",
        html,
        re.S,
    )
    assert match is not None, key
    return match.group(0)


def test_the_list_shows_every_resource_with_class_scope_launch_and_uses(
    make_client: MakeClient,
) -> None:
    """Key, class, description, scope, the set-at-launch marker and the number of uses."""
    page = make_client(DEFS).get("/resources")
    assert page.status_code == 200
    html = _main(page.text)
    keys = re.findall(r'<a href="/resources/([^"#]+)"><code>', html)
    assert keys == ["api", "bucket", "credentials", "io_manager", "tx", "tx.pool"]
    creds = _row(html, "credentials")
    assert "<code>Credentials</code>" in creds
    assert "Login for the store: &lt;script&gt;alert(1)&lt;/script&gt;" in creds
    assert "set at launch</span>" in creds
    assert "needs password" in creds
    assert 'title="assets, ops, flow tasks, sensors and schedules that open it">1</a>' in creds
    assert "through credentials" in _row(html, "bucket")
    assert 'res-scope-step"' in _row(html, "tx")
    assert 'res-scope-process"' in _row(html, "tx.pool")
    assert 'nested in <a href="/resources/tx">tx</a>' in _row(html, "tx.pool")
    assert ">default</span>" in _row(html, "io_manager")
    assert 'that open it">2</a>' in _row(html, "api")  # the asset and the sensor


def test_a_resource_page_shows_config_env_var_names_and_masked_secrets(
    make_client: MakeClient,
) -> None:
    """Config rows: values from code, the EnvVar's name and that it is set, the secret masked."""
    page = make_client(DEFS).get("/resources/api")
    assert page.status_code == 200
    html = _main(page.text)
    assert "<code>&#34;http://x&#34;</code>" in html
    assert "<code>UI_PAGE_TOKEN</code>" in html
    assert "UI_PAGE_TOKEN: set</span>" in html
    assert '<code>**********</code> <span class="muted">(secret)</span>' in html
    assert '<a href="/definitions?select=report">report</a>' in html
    assert '<a href="/instigators/watcher">watcher</a>' in html


def test_an_unset_env_var_is_shown_unset(
    make_client: MakeClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The page says when a run would not find the variable."""
    monkeypatch.delenv("UI_PAGE_TOKEN")
    html = _main(make_client(DEFS).get("/resources/api").text)
    assert "UI_PAGE_TOKEN: not set</span>" in html


def test_what_a_launch_must_configure_is_listed_with_its_path_and_launchpad(
    make_client: MakeClient,
) -> None:
    """The partial's own page, and the page of the bucket that holds it, name the config a
    launch must give and link to the launchpad of what uses it."""
    client = make_client(DEFS)
    own = _main(client.get("/resources/credentials").text)
    assert "A launch must configure" in own
    assert "must give <strong><code>resources.credentials.config.password</code></strong>" in own
    assert "may override <code>username</code>" in own
    assert 'href="/launchpad?select=report">materialize the asset using it</a>' in own
    assert "required at launch" in own
    bucket = _main(client.get("/resources/bucket").text)
    assert "A launch must configure" in bucket
    assert '<a href="/resources/credentials"><code>credentials</code></a>' in bucket
    assert "nested, shared by key" in bucket
    assert "resources.credentials.config.password" in bucket
    assert "A launch" not in _main(client.get("/resources/api").text)


def test_nested_resources_are_linked_both_ways(make_client: MakeClient) -> None:
    """Parent to child and child to parent, for a shared partial and an owned resource."""
    client = make_client(DEFS)
    bucket = _main(client.get("/resources/bucket").text)
    assert '<td><a href="/resources/credentials"><code>credentials</code></a></td>' in bucket
    assert "shared: bound at top level" in bucket
    creds = _main(client.get("/resources/credentials").text)
    assert 'Held by:\n<a href="/resources/bucket"><code>bucket</code></a>' in creds
    tx = _main(client.get("/resources/tx").text)
    assert '<td><a href="/resources/tx.pool"><code>tx.pool</code></a></td>' in tx
    assert "owned: opened for <code>tx</code> only" in tx
    pool = client.get("/resources/tx.pool")
    assert pool.status_code == 200
    assert '<a href="/resources/tx"><code>tx</code></a>' in _main(pool.text)
    assert "<code>resources.tx.config.pool.size</code>" not in _main(pool.text)  # not a partial


def test_uses_from_ops_jobs_schedules_and_through_other_resources(
    make_client: MakeClient,
) -> None:
    """An op and its job, a schedule, and a use through the resource that holds this one."""
    client = make_client(DEFS)
    pool = _main(client.get("/resources/tx.pool").text)
    assert '<a href="/definitions/jobs/nightly">write</a></td>\n      <td>job nightly</td>' in pool
    assert 'through <a href="/resources/tx"><code>tx</code></a>' in pool
    assert '<a href="/instigators/hourly">hourly</a>' in pool
    assert 'href="/launchpad?job=nightly">job nightly</a>' not in pool  # no launch config
    creds = _main(client.get("/resources/credentials").text)
    assert 'through <a href="/resources/bucket"><code>bucket</code></a>' in creds


def test_flows_only_workspace(make_client: MakeClient) -> None:
    """A module with only flows lists their resources and the tasks using them."""
    client = make_client(FLOWS)
    listing = _main(client.get("/resources").text)
    assert "Talks to the service." in _row(listing, "client")
    page = _main(client.get("/resources/client").text)
    assert '<td>task</td>\n      <td><a href="/definitions/flows/etl">fetch</a></td>' in page
    assert "flow etl" in page
    assert "bound by</span> flow &#39;etl&#39;" in page


def test_an_unknown_key_is_a_404_with_a_suggestion(make_client: MakeClient) -> None:
    """The page names the key, what is bound, and the close match."""
    page = make_client(DEFS).get("/resources/credentails")
    assert page.status_code == 404
    assert (
        "no resource &#39;credentails&#39; is bound in these definitions (resources: "
        "&#39;api&#39;, &#39;bucket&#39;, &#39;credentials&#39;, &#39;io_manager&#39;, "
        "&#39;tx&#39;, &#39;tx.pool&#39;). Did you mean &#39;credentials&#39;?"
    ) in page.text


def test_a_key_with_markup_is_escaped_in_the_404(make_client: MakeClient) -> None:
    """The unknown key from the URL appears only escaped."""
    page = make_client(DEFS).get("/resources/%3Cscript%3Ealert(1)%3C%2Fscript%3E")
    assert page.status_code == 404
    assert "<script>alert" not in page.text
    assert "no resource &#39;&lt;script&gt;alert(1)&lt;/script&gt;&#39;" in page.text


def test_user_text_is_escaped_everywhere(make_client: MakeClient) -> None:
    """A docstring, a field description and a config value holding <script> appear escaped."""
    client = make_client(DEFS)
    for path in ("/resources", "/resources/credentials", "/resources/bucket"):
        html = client.get(path).text
        assert "<script>alert" not in html, path
    creds = _main(client.get("/resources/credentials").text)
    assert "Login for the store: &lt;script&gt;alert(1)&lt;/script&gt;" in creds
    assert "who &lt;script&gt;alert(2)&lt;/script&gt; logs in" in creds
    bucket = _main(client.get("/resources/bucket").text)
    assert "&#34;&lt;script&gt;alert(3)&lt;/script&gt;&#34;" in bucket


def test_no_secret_value_on_any_resources_page(make_client: MakeClient) -> None:
    """Neither the EnvVar's value nor the SecretStr's value is on the list or any page."""
    client = make_client(DEFS)
    listing = client.get("/resources").text
    pages = [listing] + [
        client.get(f"/resources/{key}").text
        for key in re.findall(r'<a href="/resources/([^"#]+)"><code>', listing)
    ]
    assert len(pages) == 7
    for html in pages:
        for marker in SECRET_MARKERS:
            assert marker not in html


def test_empty_state(make_client: MakeClient) -> None:
    """Definitions without resources say how to bind one."""
    source = "import outfitter as of\n\ndefs = of.Definitions()\n"
    html = _main(make_client(source).get("/resources").text)
    assert "No resources are bound." in html
    assert "<table" not in html


def test_the_main_examples_resources(
    make_client: MakeClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    """warehouse_report.py: EnvVar names with set/unset, the launch-time table, the nested
    credentials; the password's value never appears."""
    marker = "wh-MARKER-secret-51c"
    monkeypatch.setenv("ORDERS_API_PASSWORD", marker)
    monkeypatch.delenv("BUCKET_USER", raising=False)
    monkeypatch.delenv("BUCKET_PASSWORD", raising=False)
    client = make_client(ROOT / "examples" / "functional" / "warehouse_report.py")
    listing = client.get("/resources")
    assert listing.status_code == 200
    html = _main(listing.text)
    assert "did not load" not in listing.text
    assert "set at launch</span>" in _row(html, "warehouse")
    assert "needs table" in _row(html, "warehouse")
    api = _main(client.get("/resources/api").text)
    assert "<code>ORDERS_API_PASSWORD</code>" in api
    assert "ORDERS_API_PASSWORD: set</span>" in api
    creds = _main(client.get("/resources/bucket.credentials").text)
    # the served defs set the example's demo credentials when they are not in the environment
    assert "BUCKET_USER: set</span>" in creds
    assert "BUCKET_PASSWORD: set</span>" in creds
    assert '<a href="/resources/bucket"><code>bucket</code></a>' in creds
    warehouse = _main(client.get("/resources/warehouse").text)
    assert "must give <strong><code>resources.warehouse.config.table</code></strong>" in warehouse
    assert "/launchpad?select=order_report,orders" in warehouse
    for path in (
        "/resources",
        "/resources/api",
        "/resources/warehouse",
        "/resources/bucket",
        "/resources/bucket.credentials",
        "/resources/io_manager",
    ):
        page = client.get(path)
        assert page.status_code == 200, path
        assert marker not in page.text, path


def test_code_that_does_not_load_shows_no_resources(
    make_client: MakeClient, tmp_path: Path
) -> None:
    """The page still renders, pointing at the problems shown above it."""
    path = tmp_path / "broken.py"
    path.write_text("import outfitter as of\nraise RuntimeError('boom')\n")
    page = make_client(path).get("/resources")
    assert page.status_code == 200
    assert "No resources to show: the definitions did not load" in page.text
    assert "RuntimeError: boom" in page.text
