"""The UI's frame: requests it refuses, reload, definition problems shown on the page."""

from __future__ import annotations

from starlette.testclient import TestClient

from .conftest import ORIGIN, MakeClient

DEFS = """
import outfitter as of

@of.asset
def users() -> int:
    return 1

defs = of.Definitions(assets=[users])
"""


def test_a_foreign_host_header_is_refused(make_client: MakeClient) -> None:
    client = make_client(DEFS)
    # DNS rebinding: a page of evil.example resolved to 127.0.0.1 sends its own Host.
    rebound = TestClient(client.app, base_url="http://evil.example:3000")
    assert rebound.get("/resources").status_code == 400


def test_posts_from_another_origin_are_refused(make_client: MakeClient) -> None:
    client = make_client(DEFS)
    refused = client.post("/reload", headers={"origin": "http://evil.example"})
    assert refused.status_code == 403
    assert "did not come from the Outfitter UI" in refused.text
    no_proof = TestClient(client.app, base_url=ORIGIN).post("/reload")
    assert no_proof.status_code == 403
    htmx = TestClient(client.app, base_url=ORIGIN).post(
        "/reload", headers={"hx-request": "true"}, follow_redirects=False
    )
    assert htmx.status_code == 204
    same = client.post("/reload", follow_redirects=False)
    assert same.status_code == 303


def test_definition_problems_are_shown_and_reload_picks_up_the_fix(
    make_client: MakeClient, tmp_path
) -> None:
    path = tmp_path / "broken.py"
    path.write_text("import outfitter as of\nraise ValueError('bad <b>thing</b>')\n")
    client = make_client(path)
    page = client.get("/")
    assert "did not load" in page.text
    assert "ValueError: bad &lt;b&gt;thing&lt;/b&gt;" in page.text
    assert "<b>thing</b>" not in page.text
    path.write_text(DEFS)
    client.post("/reload")
    assert "did not load" not in client.get("/").text


def test_the_web_stack_is_imported_only_by_the_ui_commands() -> None:
    """``import outfitter`` and the other CLI commands never import Starlette, Jinja2 or
    uvicorn (import time is a tracked figure); the UI package itself imports them only when
    its app is made."""
    import subprocess
    import sys

    code = (
        "import sys, outfitter, outfitter.cli, outfitter.ui.launch_child\n"
        "from typer.testing import CliRunner\n"
        "CliRunner().invoke(outfitter.cli.app, ['--help'])\n"
        "web = sorted(m for m in ('starlette', 'jinja2', 'uvicorn') if m in sys.modules)\n"
        "print(web)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
