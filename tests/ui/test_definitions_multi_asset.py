"""The Definitions pages with a multi_asset: one step node for the multi_asset (named by its
op), its downstream assets linked to it, and the pages render after a run."""

from __future__ import annotations

import re

from outfitter import Instance

from .conftest import MakeClient

DEFS = """
import outfitter as of


@of.multi_asset(outs={"users": of.AssetOut(), "orders": of.AssetOut(key_prefix="raw")})
def extract():
    return [1, 2], [3]


@of.asset
def user_count(users: list[int]) -> int:
    return len(users)


defs = of.Definitions(
    assets=[extract, user_count], resources={"io_manager": of.InMemoryIOManager()}
)
"""


def test_a_multi_asset_is_one_step_node_linked_to_its_downstream_assets(
    make_client: MakeClient, ui_instance: Instance
) -> None:
    """The asset graph shows the multi_asset's step and its downstream asset, with statuses."""
    client = make_client(DEFS)
    assert client.get("/definitions").status_code == 200
    defs = client.app.state.workspace.current.defs  # type: ignore[attr-defined]
    defs.get_implicit_global_asset_job_def().execute_in_process(instance=ui_instance)
    page = client.get("/definitions").text
    for step in ("extract", "user_count"):
        found = re.search(rf'<g class="node (\w+)[^"]*" data-node="{step}"', page)
        assert found, f"no node {step!r}"
        assert found.group(1) == "SUCCESS"
