"""In the browser: a sensor stopped and started again from the sensors & schedules page, and
its evaluation previewed (the table-update sensor example)."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from playwright.sync_api import Page, expect

from outfitter import Instance

from .conftest import EXAMPLES, ServeUI, Shots


def _tables_db(path: Path) -> None:
    """The example's catalog: two tables at version 1."""
    conn = sqlite3.connect(path)
    with conn:
        conn.execute("create table catalog (name text primary key, version integer)")
        conn.executemany("insert into catalog values (?, 1)", [("orders",), ("users",)])
    conn.close()


def _status(home: Path, name: str) -> str | None:
    """The status the instance records (read with a connection of the test's own)."""
    with Instance.local(home) as instance:
        state = instance.get_instigator(name)
    return None if state is None else state.status


def test_a_sensor_is_stopped_started_and_previewed(
    serve_ui: ServeUI, page: Page, shots: Shots, tmp_path: Path
) -> None:
    """Stop and Start swap the sensor's row in place and change what the instance records; the
    sensor's page previews its evaluation (a run request per table) without launching."""
    tables = tmp_path / "tables.db"
    _tables_db(tables)
    ui = serve_ui(EXAMPLES / "table_update_sensor.py", env={"TABLES_DB": str(tables)})

    page.goto(ui.at("/instigators"))
    row = page.locator("tr.instigator", has_text="tables_changed")
    expect(row.locator(".badge").first).to_have_text("RUNNING")  # its default status
    shots(page, "listed", docs="instigators")

    row.get_by_role("button", name="Stop").click()
    expect(row.locator(".badge").first).to_have_text("STOPPED")
    expect(row.get_by_role("button", name="Start")).to_be_visible()
    assert _status(ui.home, "tables_changed") == "STOPPED"
    shots(page, "stopped")

    row.get_by_role("button", name="Start").click()
    expect(row.locator(".badge").first).to_have_text("RUNNING")
    expect(row.get_by_role("button", name="Stop")).to_be_visible()
    assert _status(ui.home, "tables_changed") == "RUNNING"
    shots(page, "started")

    page.reload()  # the page shows what is stored, not only what the swap drew
    expect(row.locator(".badge").first).to_have_text("RUNNING")

    row.get_by_role("link", name="tables_changed").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("tables_changed")
    page.get_by_role("button", name="Preview evaluation").click()
    preview = page.locator("#preview")
    expect(preview).to_contain_text("orders@1")
    expect(preview).to_contain_text("users@1")
    shots(page, "previewed", docs="instigator")
    assert ui.instance.get_runs() == []  # a preview launches nothing
