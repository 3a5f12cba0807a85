"""In the browser: the asset graph of the main example, drawn as SVG on the server, and a
selection made on it opening the launchpad for exactly those assets."""

from __future__ import annotations

import re
from pathlib import Path

from playwright.sync_api import Page, expect

from .conftest import EXAMPLES, ServeUI, Shots


def test_assets_selected_on_the_graph_open_the_launchpad_for_that_selection(
    serve_ui: ServeUI, page: Page, shots: Shots, tmp_path: Path
) -> None:
    """The graph is an <svg> with a node per asset (never run yet); ticking a node selects it,
    and the launchpad opens for that asset only, scaffolding just the config it needs."""
    ui = serve_ui(EXAMPLES / "warehouse_report.py", env={"WAREHOUSE_REPORT_DIR": str(tmp_path)})
    page.goto(ui.at("/definitions"))
    graph = page.locator("#assets .graph-wrap svg")
    expect(graph).to_be_visible()
    nodes = graph.locator("g.node")
    expect(nodes).to_have_count(2)
    for asset in ("orders", "order_report"):
        node = graph.locator(f'g.node[data-node="{asset}"]')
        expect(node).to_contain_text(asset)
        expect(node).to_have_class(re.compile(r"\bnone\b"))  # coloured as never run
    open_button = page.get_by_role("button", name=re.compile("Open launchpad for"))
    expect(open_button).to_be_disabled()

    graph.locator('g.check[data-select="orders"]').click()
    expect(graph.locator('g.check[data-select="orders"]')).to_have_attribute("aria-checked", "true")
    expect(open_button).to_have_text("Open launchpad for 1 selected")
    shots(page, "selected")

    open_button.click()
    expect(page).to_have_url(re.compile(r"/launchpad\?select=orders$"))
    expect(page.locator("section.card").first).to_contain_text("orders")
    expect(page.locator("section.card").first).not_to_contain_text("order_report")
    scaffold = page.locator("textarea#config").input_value()
    assert "warehouse:" in scaffold  # orders opens the warehouse, whose table is set at launch
    shots(page, "launchpad")
