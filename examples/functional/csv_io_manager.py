"""A ConfigurableIOManager that stores asset outputs as CSV files under a configured root."""

from __future__ import annotations

import csv
import tempfile
from pathlib import Path
from typing import Any

import outfitter as of


class CsvIOManager(of.ConfigurableIOManager):
    root_path: str

    def _path(self, key: of.AssetKey) -> Path:
        return Path(self.root_path, *key.path).with_suffix(".csv")

    def handle_output(self, context: of.OutputContext, obj: list[dict[str, Any]]) -> None:
        path = self._path(context.asset_key)  # type: ignore[arg-type]
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("w", newline="") as f:
            writer = csv.DictWriter(f, fieldnames=list(obj[0]))
            writer.writeheader()
            writer.writerows(obj)

    def load_input(self, context: of.InputContext) -> list[dict[str, Any]]:
        with self._path(context.asset_key).open() as f:  # type: ignore[arg-type]
            return list(csv.DictReader(f))


@of.asset
def customers() -> list[dict[str, Any]]:
    return [{"name": "ada", "country": "uk"}, {"name": "grace", "country": "us"}]


@of.asset
def uk_customers(customers: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [c for c in customers if c["country"] == "uk"]


if __name__ == "__main__":
    root = tempfile.mkdtemp()
    defs = of.Definitions(
        assets=[customers, uk_customers], resources={"io_manager": CsvIOManager(root_path=root)}
    )
    defs.get_implicit_global_asset_job_def().execute_in_process()
    print((Path(root) / "uk_customers.csv").read_text().strip())
