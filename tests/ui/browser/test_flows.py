"""In the browser: a Prefect-style flow (examples/functional/scratch_database_flow.py), from
its schematic, where the resource-manager block is drawn as a group, through the launchpad with
a parameter changed, to its run's page and back to a schematic coloured by that run."""

from __future__ import annotations

import re
from pathlib import Path

from playwright.sync_api import Page, expect

from .conftest import EXAMPLES, ServeUI, Shots


def test_a_flow_schematic_launches_the_flow_and_shows_its_latest_run(
    serve_ui: ServeUI, page: Page, shots: Shots, tmp_path: Path
) -> None:
    """The schematic draws the tasks and the ScratchDatabase block; its launchpad scaffolds
    the flow's parameters; the launched run succeeds, writes where the parameter said, and
    the schematic then shows its status."""
    ui = serve_ui(EXAMPLES / "scratch_database_flow.py")
    page.goto(ui.at("/definitions"))
    page.locator("#flows").get_by_role("link", name="scratch-database").first.click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("scratch-database")
    schematic = page.locator(".graph-wrap svg")
    for name in ("load_sales", "totals_by_region", "write_report", "ScratchDatabase"):
        expect(schematic).to_contain_text(name)
    expect(page.locator(".graph-toolbar")).to_contain_text("Never run")
    shots(page, "schematic", docs="flow")

    page.get_by_role("link", name="Open in launchpad").click()
    editor = page.locator("textarea#config")
    scaffold = editor.input_value()
    assert "out_path: report.txt" in scaffold  # the flow's parameters, with their defaults
    report = tmp_path / "report.txt"
    editor.fill(scaffold.replace("out_path: report.txt", f"out_path: {report}"))
    editor.press("End")
    editor.press_sequentially(" ")  # the launchpad validates on key-up
    expect(page.locator("#launch-problems .valid-config")).to_be_visible()
    page.get_by_role("button", name="Launch run").click()

    expect(page).to_have_url(re.compile(r"/runs/[0-9a-f-]+$"))
    badge = page.locator("#run-header .badge")
    expect(badge).to_have_text(re.compile("success|failure|cancel", re.I))
    assert "success" in badge.inner_text().lower(), page.locator("#events").inner_text()
    expect(page.locator("#timeline")).to_contain_text("ScratchDatabase")
    shots(page, "run")
    assert report.read_text() == "north: 2500\nsouth: 2450\n"

    page.goto(ui.at("/definitions/flows/scratch-database"))
    expect(page.locator(".graph-toolbar .badge")).to_have_text("SUCCESS")
    shots(page, "coloured")
