"""In the browser: the resources of the main example (examples/functional/warehouse_report.py),
from the list to a resource's config, where an EnvVar shows its name and never its value, and
through a nested resource and back."""

from __future__ import annotations

from pathlib import Path

from playwright.sync_api import Locator, Page, expect

from .conftest import EXAMPLES, ServeUI, Shots

SECRET = "api-password-4c1e"
"""ORDERS_API_PASSWORD in the server's environment: no page may show it."""


def test_the_main_examples_resources_show_config_with_env_var_names(
    serve_ui: ServeUI, page: Page, shots: Shots, tmp_path: Path
) -> None:
    """The list names every resource with its class, scope and set-at-launch marker; a
    resource's page shows its config with EnvVar names and whether each is set; the nested
    credentials link to the bucket that holds them and back."""
    ui = serve_ui(
        EXAMPLES / "warehouse_report.py",
        env={"ORDERS_API_PASSWORD": SECRET, "WAREHOUSE_REPORT_DIR": str(tmp_path)},
    )
    page.goto(ui.url)  # the home page is the resources list
    expect(page.get_by_role("heading", level=1)).to_have_text("Resources")
    table = page.locator("table.res-list")

    def key_link(key: str) -> Locator:
        return page.locator("table.res-list td.res-key > a").get_by_text(key, exact=True)

    for key in ("api", "warehouse", "bucket", "bucket.credentials"):
        expect(key_link(key)).to_be_visible()
    warehouse = table.locator("tr", has=page.locator("td.res-key > a").get_by_text("warehouse"))
    expect(warehouse).to_contain_text("set at launch")
    expect(warehouse).to_contain_text("Warehouse")
    expect(warehouse).to_contain_text("table")  # what a launch must give
    shots(page, "list", docs="resources")

    key_link("api").click()
    expect(page).to_have_url(ui.at("/resources/api"))
    expect(page.get_by_role("heading", level=1)).to_have_text("api")
    expect(page.locator(".res-description")).to_contain_text("exchanges its credentials")
    config = page.locator("table.res-config")
    password = config.locator("tr", has_text="password")
    expect(password).to_contain_text("ORDERS_API_PASSWORD")
    expect(password.locator(".res-env")).to_have_class("res-env res-env-set")
    expect(config.locator("tr", has_text="username")).to_contain_text("reporter")
    expect(page.locator("#uses ~ table")).to_contain_text("orders")
    assert SECRET not in page.content()
    shots(page, "api", docs="resource")

    page.get_by_role("link", name="Resources", exact=True).first.click()
    key_link("bucket").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("bucket")
    children = page.locator("table.res-children")
    expect(children).to_contain_text("credentials")
    shots(page, "bucket")

    children.get_by_role("link").first.click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("credentials")
    config = page.locator("table.res-config")
    expect(config).to_contain_text("BUCKET_USER")
    expect(config).to_contain_text("BUCKET_PASSWORD")
    # The served example sets its demo credentials: the page says they are set, never their
    # values.
    expect(config.locator(".res-env-set").first).to_be_visible()
    expect(config).not_to_contain_text("demo-bucket-secret")
    shots(page, "credentials")

    page.get_by_role("link", name="bucket", exact=True).first.click()  # held by: back up
    expect(page.get_by_role("heading", level=1)).to_have_text("bucket")
