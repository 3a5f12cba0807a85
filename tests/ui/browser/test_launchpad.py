"""In the browser: a launchpad session on the main example. The scaffold asks for the
warehouse table (a ``configure_at_launch()`` field); a misspelt field name is reported as you
type with a did-you-mean hint; following the hint makes the config valid; Launch starts the run
in its own process and opens its page, which updates by itself until the run succeeds. The
run then shows in the runs list and colours the asset graph."""

from __future__ import annotations

import contextlib
import importlib.util
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Locator, Page, expect

from .conftest import EXAMPLES, UI, ServeUI, Shots

PLACEHOLDER = "table: '<required: str>'"
"""The scaffold's line for the warehouse table, which a launch must give."""


def _local_api() -> Any:
    """The example's stand-in HTTP API (examples/functional/_local_api.py)."""
    spec = importlib.util.spec_from_file_location("_local_api", EXAMPLES / "_local_api.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def warehouse_ui(serve_ui: ServeUI, tmp_path: Path) -> Iterator[UI]:
    """The main example served with everything its run needs: the stand-in API, a working
    directory and the credentials its EnvVars read (the launched process inherits them)."""
    workdir = tmp_path / "work"
    workdir.mkdir()  # the example's served `defs` keeps its warehouse file there
    with contextlib.ExitStack() as stack:
        url = stack.enter_context(_local_api().local_api())
        yield serve_ui(
            EXAMPLES / "warehouse_report.py",
            env={
                "ORDERS_API_URL": url,
                "WAREHOUSE_REPORT_DIR": str(workdir),
                "ORDERS_API_PASSWORD": "demo-api-secret",
                "BUCKET_USER": "reporter",
                "BUCKET_PASSWORD": "demo-bucket-secret",
            },
        )


def type_into(editor: Locator, text: str, typed: str) -> None:
    """Make ``editor`` hold ``text`` as a user would: everything before ``typed`` (the last
    occurrence) is put in at once, then ``typed`` and the rest is typed key by key (the
    launchpad validates on key-up)."""
    start = text.rindex(typed)
    editor.fill(text[:start])
    editor.press("End")
    editor.press_sequentially(text[start:])


def test_a_typo_is_fixed_by_following_the_hint_and_the_run_is_watched_to_success(
    warehouse_ui: UI, page: Page, shots: Shots
) -> None:
    """Scaffold → typo → did-you-mean hint → fix → valid → Launch → run page goes live to
    SUCCESS; the runs list shows the run; the asset graph draws its assets."""
    ui = warehouse_ui
    page.goto(ui.at("/launchpad"))
    page.get_by_role("link", name="All assets").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("all assets")
    editor = page.locator("textarea#config")
    problems = page.locator("#launch-problems")
    scaffold = editor.input_value()
    assert PLACEHOLDER in scaffold  # exactly what this launch still needs
    expect(problems).to_contain_text("resources.warehouse.config.table")
    shots(page, "scaffold")

    type_into(editor, scaffold.replace(PLACEHOLDER, "tabel: daily_orders"), "tabel: daily_orders")
    problem = problems.locator("li.problem", has_text="tabel")
    expect(problem).to_contain_text("resources.warehouse.config.tabel")
    expect(problem).to_contain_text("unknown field 'tabel'")
    expect(problem).to_contain_text("unknown field 'tabel'. Did you mean 'table'?")
    shots(page, "typo", docs="launchpad")

    # Follow the hint: the name it suggests replaces the misspelt one.
    found = re.search(r"Did you mean '(\w+)'\?", problem.inner_text())
    assert found is not None
    suggested = found.group(1)
    fixed = scaffold.replace(PLACEHOLDER, f"{suggested}: daily_orders")
    type_into(editor, fixed, f"{suggested}: daily_orders")
    expect(problems.locator(".valid-config")).to_contain_text("Valid run config")
    expect(problems.locator("li.problem")).to_have_count(0)
    type_into(page.locator("textarea#tags"), "team=reporting", "team=reporting")
    expect(problems.locator(".valid-config")).to_be_visible()
    shots(page, "valid")

    page.get_by_role("button", name="Launch run").click()
    expect(page).to_have_url(re.compile(r"/runs/[0-9a-f-]+$"))
    run_id = page.url.rsplit("/", 1)[1]
    header = page.locator("#run-header")
    shots(page, "launched")
    # No reload: the page polls and swaps in the new status, events and timeline itself.
    badge = header.locator(".badge")
    expect(badge).to_have_text(re.compile("success|failure|cancel", re.I))
    if "success" not in badge.inner_text().lower():
        shots(page, "ended")
        pytest.fail(f"the run ended {badge.inner_text()}:\n{page.locator('#events').inner_text()}")
    events = page.locator("#events")
    expect(events).to_contain_text("api token acquired")  # the resource's own log line
    expect(page.locator("#timeline svg")).to_be_visible()
    expect(page.locator("#timeline")).to_contain_text("warehouse")  # a resource span
    expect(page.locator(".run-details")).to_contain_text("daily_orders")
    expect(page.locator(".run-details")).to_contain_text("reporting")
    shots(page, "succeeded", docs="run")
    # Checked at the end, so that the steps after it still run when it fails.
    stale_placeholder = page.locator("#events .no-events").count()

    record = ui.instance.get_run(run_id)
    assert record is not None
    assert record.status.value == "SUCCESS"
    assert record.tags.get("team") == "reporting"

    page.get_by_role("link", name="Runs", exact=True).click()
    row = page.locator("table.runs tr", has=page.locator(f'a[href="/runs/{run_id}"]'))
    expect(row.locator(".badge")).to_have_text(re.compile("success", re.I))
    shots(page, "runs", docs="runs")

    page.get_by_role("link", name="Definitions", exact=True).click()
    graph = page.locator("svg").first
    expect(graph).to_be_visible()
    for asset in ("orders", "order_report"):
        expect(graph).to_contain_text(asset)
    expect(graph).to_contain_text("success")  # nodes coloured by their latest run
    shots(page, "graph", docs="definitions")

    assert stale_placeholder == 0, "the live run page still says 'No events yet' under its events"
