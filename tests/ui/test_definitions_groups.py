"""The Definitions page shows each asset's group (``@asset(group_name=...)``, ``"default"``
when none is given, as Dagster's asset catalog groups them)."""

from __future__ import annotations

from .conftest import MakeClient

DEFS = """
import outfitter as of


@of.asset(group_name="ingest")
def users() -> list[int]:
    return [1]


@of.asset
def total(users: list[int]) -> int:
    return sum(users)


defs = of.Definitions(assets=[users, total])
"""


def test_each_asset_is_listed_with_its_group(make_client: MakeClient) -> None:
    """Beside its checkbox: "group ingest" for users, "group default" for total."""
    page = make_client(DEFS).get("/definitions").text
    users_at = page.index('value="users"> users</label>')
    total_at = page.index('value="total"> total</label>')
    assert '<span class="muted group">group ingest</span>' in page[users_at:total_at]
    assert '<span class="muted group">group default</span>' in page[total_at:]
