"""The Definitions pages: the asset graph with jobs and flows, a job's steps and a flow's
schematic, coloured by the latest recorded statuses and linked to runs; unknown names."""

from __future__ import annotations

import re

from outfitter import Instance

from .conftest import MakeClient

XSS = "<script>alert(1)</script>"

DEFS = f'''
import outfitter as of


@of.asset(key_prefix="raw")
def users() -> list[int]:
    """Users from the API."""
    return [1, 2]


@of.asset(key_prefix="raw")
def orders() -> list[int]:
    return [3]


@of.asset(ins={{"users": of.AssetIn("raw/users"), "orders": of.AssetIn("raw/orders")}})
def joined(users: list[int], orders: list[int]) -> int:
    return len(users) + len(orders)


@of.asset(name="<script>x", description={XSS!r})
def scripted(joined: int) -> int:
    return joined


@of.asset
def report(joined: int) -> int:
    raise ValueError("boom")


@of.asset(deps=["report"])
def dashboard() -> None:
    return None


@of.op
def hello() -> str:
    return "hi"


@of.op
def shout(text: str) -> str:
    return text.upper()


@of.job
def greet():
    """Says hello loudly."""
    shout(hello())


defs = of.Definitions(
    assets=[users, orders, joined, scripted, report, dashboard],
    jobs=[greet, of.define_asset_job("raw_only", ["raw/users", "raw/orders"])],
)
'''

FLOWS = """
from outfitter import Flow, Parameter, resource_manager, task


@resource_manager
class Scratch:
    def __init__(self, size: int):
        self.size = size

    def setup(self):
        return [0] * self.size

    def cleanup(self, buffer):
        buffer.clear()


@resource_manager
class Tmp:
    def setup(self):
        return "/tmp"

    def cleanup(self, path):
        pass


@task
def numbers(n):
    return list(range(n))


@task
def double(x):
    return 2 * x


@task
def total(xs, buf):
    return sum(xs) + len(buf)


@task
def write(t, path):
    return t


@task
def notify(t):
    return t


with Flow("demo") as flow:
    n = Parameter("n", default=3)
    with Scratch(3) as buf:
        xs = numbers(n)
        ys = double.map(xs)
        t = total(ys, buf)
        with Tmp() as path:
            w = write(t, path)
    notify(w)
"""


def node(page: str, step: str) -> str:
    """The SVG of one node of a page's graph."""
    match = re.search(
        rf'<g class="node [^"]*" data-node="{re.escape(step)}".*?</g>(?=<g|</svg>)', page, re.S
    )
    assert match, f"no node {step!r}"
    return match.group(0)


def status_of(page: str, step: str) -> str:
    found = re.search(r'<g class="node (\w+)', node(page, step))
    assert found
    return found.group(1)


def test_the_asset_graph_is_coloured_by_the_latest_run_and_links_to_it(
    make_client: MakeClient, ui_instance: Instance
) -> None:
    """After a run of every asset, each node shows its step's status and links to that run;
    prefixed assets are found by their step key (``raw__users``)."""
    client = make_client(DEFS)
    before = client.get("/definitions")
    assert before.status_code == 200
    assert status_of(before.text, "raw__users") == "none"
    defs = client.app.state.workspace.current.defs  # type: ignore[attr-defined]
    run = defs.get_implicit_global_asset_job_def().execute_in_process(
        instance=ui_instance, raise_on_error=False
    )
    page = client.get("/definitions").text
    assert status_of(page, "raw__users") == "SUCCESS"
    assert status_of(page, "joined") == "SUCCESS"
    assert status_of(page, "report") == "FAILURE"
    assert status_of(page, "dashboard") == "SKIPPED"
    assert f'<a href="/runs/{run.run_id}">' in node(page, "raw__users")
    assert 'data-select="raw/users"' in node(page, "raw__users")
    assert "raw/users" in node(page, "raw__users")


def test_a_later_run_of_another_asset_job_becomes_the_link(
    make_client: MakeClient, ui_instance: Instance
) -> None:
    """Assets run in the implicit job and in asset jobs of ``defs``: the newest run wins."""
    client = make_client(DEFS)
    defs = client.app.state.workspace.current.defs  # type: ignore[attr-defined]
    first = defs.get_implicit_global_asset_job_def().execute_in_process(
        instance=ui_instance, raise_on_error=False
    )
    second = defs.get_job_def("raw_only").execute_in_process(instance=ui_instance)
    page = client.get("/definitions").text
    assert f"/runs/{second.run_id}" in node(page, "raw__orders")
    assert f"/runs/{first.run_id}" in node(page, "joined")
    jobs = client.get("/definitions").text
    assert 'href="/definitions/jobs/raw_only"' in jobs
    raw_only = client.get("/definitions/jobs/raw_only").text
    assert status_of(raw_only, "raw__users") == "SUCCESS"


def test_selection_form_and_launchpad_links(make_client: MakeClient) -> None:
    """A checkbox per asset for the launchpad selection, "Launch all", a launchpad per job."""
    page = make_client(DEFS).get("/definitions").text
    for name in ("raw/users", "raw/orders", "joined", "report", "dashboard"):
        assert f'<input type="checkbox" name="select" value="{name}">' in page
    assert 'action="/launchpad"' in page
    assert "/launchpad?select=raw%2Forders%2Craw%2Fusers%2Cjoined%2C" in page
    assert 'href="/launchpad?job=greet"' in page
    assert 'href="/definitions/jobs/greet"' in page
    assert "__ASSET_JOB" not in page
    assert "No flows in" in page


def test_user_strings_are_escaped_on_every_definitions_page(
    make_client: MakeClient, ui_instance: Instance
) -> None:
    """An asset named and described with a script shows escaped, in the graph and the list."""
    client = make_client(DEFS)
    defs = client.app.state.workspace.current.defs  # type: ignore[attr-defined]
    defs.get_implicit_global_asset_job_def().execute_in_process(
        instance=ui_instance, raise_on_error=False
    )
    for url in ("/definitions", "/definitions/jobs/__ASSET_JOB"):
        page = client.get(url).text
        assert "<script>alert" not in page
        assert "<script>x" not in page
        assert "&lt;script&gt;x" in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in client.get("/definitions").text


def test_a_job_page_shows_its_steps_and_opens_the_launchpad(
    make_client: MakeClient, ui_instance: Instance
) -> None:
    """An op job's graph is coloured by its own runs, with its description and a launchpad."""
    client = make_client(DEFS)
    never = client.get("/definitions/jobs/greet")
    assert never.status_code == 200
    assert status_of(never.text, "shout") == "none"
    defs = client.app.state.workspace.current.defs  # type: ignore[attr-defined]
    run = defs.get_job_def("greet").execute_in_process(instance=ui_instance)
    page = client.get("/definitions/jobs/greet").text
    assert status_of(page, "hello") == "SUCCESS"
    assert status_of(page, "shout") == "SUCCESS"
    assert f'<a href="/runs/{run.run_id}">' in node(page, "shout")
    assert 'href="/launchpad?job=greet"' in page
    assert "Open in launchpad" in page
    assert "Says hello loudly." in page
    assert 'class="check"' not in page  # selection is on the asset graph


def test_a_flow_schematic_draws_resource_manager_blocks_and_the_latest_run(
    make_client: MakeClient, ui_instance: Instance
) -> None:
    """Blocks are groups (nested ones inside), mapped tasks are marked, and after a run every
    task shows its status in that run and links to it."""
    client = make_client(FLOWS)
    never = client.get("/definitions/flows/demo")
    assert never.status_code == 200
    assert "Never run." in never.text
    assert 'href="/launchpad?flow=demo"' in never.text
    text = never.text
    assert text.count('<g class="group"') == 2
    assert ">resource manager Scratch</text>" in text
    assert ">resource manager Tmp</text>" in text
    assert 'data-depth="1"><rect' in text  # Tmp is opened inside Scratch
    assert 'class="node none mapped" data-node="double-1"' in text
    assert "resource setup" in node(text, "Scratch.setup-1")
    assert "resource cleanup" in node(text, "Tmp.cleanup-1")
    flow = client.app.state.workspace.current.flows["demo"]  # type: ignore[attr-defined]
    assert flow.run(instance=ui_instance).is_successful()
    [run] = ui_instance.get_runs(job_name="demo")
    page = client.get("/definitions/flows/demo").text
    for step in ("n", "Scratch-1", "numbers-1", "double-1", "write-1", "Tmp.cleanup-1"):
        assert status_of(page, step) == "SUCCESS", step
        assert f'<a href="/runs/{run.run_id}">' in node(page, step)
    assert "Colours show the latest run" in page


def test_unknown_names_are_not_found_with_a_suggestion(make_client: MakeClient) -> None:
    """A job or flow that does not exist: a 404 page naming close matches and what exists."""
    defs_client = make_client(DEFS)
    job = defs_client.get("/definitions/jobs/gret")
    assert job.status_code == 404
    assert "There is no job named &#39;gret&#39;. Did you mean &#39;greet&#39;?" in job.text
    assert "raw_only" in job.text
    assert defs_client.get("/definitions/flows/demo").status_code == 404
    flows_client = make_client(FLOWS)
    flow = flows_client.get("/definitions/flows/dmeo")
    assert flow.status_code == 404
    assert "Did you mean &#39;demo&#39;?" in flow.text
    assert flows_client.get("/definitions/jobs/greet").status_code == 404
    assert "&lt;b&gt;" in flows_client.get("/definitions/flows/<b>").text


def test_a_flows_only_module(make_client: MakeClient) -> None:
    """No Definitions: the page lists the flows and shows no asset or job section."""
    page = make_client(FLOWS).get("/definitions")
    assert page.status_code == 200
    assert 'href="/definitions/flows/demo"' in page.text
    assert "12 tasks, 2 resource managers" in page.text
    assert 'href="/launchpad?flow=demo"' in page.text
    assert 'id="assets"' not in page.text
    assert 'id="jobs"' not in page.text


def test_a_defs_module_without_assets_and_a_module_that_does_not_load(
    make_client: MakeClient, tmp_path
) -> None:
    """Jobs only: no graph, the jobs listed; broken code: the page still answers."""
    only_jobs = make_client(
        """
        import outfitter as of

        @of.op
        def one() -> int:
            return 1

        @of.job
        def single():
            one()

        defs = of.Definitions(jobs=[single])
        """
    ).get("/definitions")
    assert only_jobs.status_code == 200
    assert "These definitions have no assets." in only_jobs.text
    assert 'href="/definitions/jobs/single"' in only_jobs.text
    broken = tmp_path / "broken.py"
    broken.write_text("raise RuntimeError('nope')\n")
    page = make_client(broken).get("/definitions")
    assert page.status_code == 200
    assert "did not load" in page.text
    assert "Nothing is loaded" in page.text
