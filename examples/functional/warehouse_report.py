"""The main example: a reporting job run end to end on the embedded SQLite instance.

A token-authenticated API client fetches orders from a (local stand-in) HTTP API, a SQLite
warehouse connection held open for the run stores them, and a file-store bucket whose
credentials come from environment variables publishes the report. The warehouse table is chosen
at launch. The run and its events are recorded under OUTFITTER_HOME (default ./.outfitter):
inspect them with `outfitter runs list` and `outfitter runs show RUN_ID`.

Run it:  python examples/functional/warehouse_report.py [--table daily_orders]
See it in the UI and launch it there:  outfitter dev -f examples/functional/warehouse_report.py
(the served `defs` reads the API address from ORDERS_API_URL, else serves the local stand-in,
and keeps its files under WAREHOUSE_REPORT_DIR).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import sqlite3
import tempfile
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from _local_api import local_api, serve_local_api
from pydantic import PrivateAttr

import outfitter as of


class OrdersApi(of.ConfigurableResource):
    """An API client that exchanges its credentials for a token once per run."""

    base_url: str
    username: str
    password: str
    _token: str = PrivateAttr()

    def setup_for_execution(self, context: of.InitResourceContext) -> None:
        body = json.dumps({"user": self.username, "password": self.password}).encode()
        request = urllib.request.Request(f"{self.base_url}/token", data=body, method="POST")
        with urllib.request.urlopen(request, timeout=5) as response:
            self._token = json.load(response)["token"]
        context.log.info("api token acquired")

    def orders(self) -> list[dict[str, Any]]:
        request = urllib.request.Request(
            f"{self.base_url}/orders", headers={"Authorization": f"Bearer {self._token}"}
        )
        with urllib.request.urlopen(request, timeout=5) as response:
            return list(json.load(response))


class Warehouse(of.ConfigurableResource):
    """A SQLite connection kept open for the whole run; committed on success, rolled back on
    failure (the run's exception reaches the context manager)."""

    path: str
    table: str
    _conn: sqlite3.Connection = PrivateAttr()

    @contextlib.contextmanager
    def yield_for_execution(self, context: of.InitResourceContext) -> Iterator[Warehouse]:
        conn = sqlite3.connect(self.path)
        try:
            with conn:  # commits, or rolls back if the run raised
                self._conn = conn
                yield self
        finally:
            conn.close()

    def store(self, rows: list[dict[str, Any]]) -> int:
        self._conn.execute(
            f"create table if not exists {self.table} (id integer primary key, amount real)"
        )
        self._conn.executemany(f"insert or replace into {self.table} values (:id, :amount)", rows)
        return len(rows)

    def total(self) -> float:
        (value,) = self._conn.execute(f"select sum(amount) from {self.table}").fetchone()
        return float(value or 0.0)


class Credentials(of.ConfigurableResource):
    """The file store's login; the bucket holds it as a nested resource."""

    username: str
    password: str


class FileStoreBucket(of.ConfigurableResource):
    """Writes objects under a local directory, standing in for a cloud bucket."""

    credentials: Credentials
    root: str

    def write(self, name: str, data: str) -> Path:
        path = Path(self.root) / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(data)
        return path


@of.asset
def orders(api: OrdersApi, warehouse: Warehouse) -> int:
    """Load every order into the warehouse; returns how many were stored."""
    return warehouse.store(api.orders())


@of.asset(deps=[orders])
def order_report(warehouse: Warehouse, bucket: FileStoreBucket) -> str:
    """Publish the orders' total to the bucket; returns the report's path."""
    path = bucket.write("reports/total.json", json.dumps({"total": warehouse.total()}))
    return str(path)


def definitions(api_url: str, workdir: str) -> of.Definitions:
    """The job's definitions. The warehouse table is configured at launch."""
    return of.Definitions(
        assets=[orders, order_report],
        resources={
            "api": OrdersApi(
                base_url=api_url, username="reporter", password=of.EnvVar("ORDERS_API_PASSWORD")
            ),
            "warehouse": Warehouse.configure_at_launch(path=os.path.join(workdir, "wh.db")),
            "bucket": FileStoreBucket(
                credentials=Credentials(
                    username=of.EnvVar("BUCKET_USER"), password=of.EnvVar("BUCKET_PASSWORD")
                ),
                root=os.path.join(workdir, "bucket"),
            ),
        },
    )


def _demo_environment() -> None:
    """Demo credentials; in real use they come from the environment or a .env file."""
    os.environ.setdefault("ORDERS_API_PASSWORD", "demo-api-secret")
    os.environ.setdefault("BUCKET_USER", "reporter")
    os.environ.setdefault("BUCKET_PASSWORD", "demo-bucket-secret")


def _served_definitions() -> of.Definitions:
    """The `defs` that `outfitter ui/dev -f` and `outfitter materialize -f` load: the API at
    ORDERS_API_URL, else the local stand-in served from this process on a loopback port (each
    process that loads the file, such as a run launched from the UI, serves its own)."""
    _demo_environment()
    url = os.environ.get("ORDERS_API_URL") or serve_local_api()
    workdir = os.environ.get(
        "WAREHOUSE_REPORT_DIR", os.path.join(tempfile.gettempdir(), "outfitter-warehouse-report")
    )
    os.makedirs(workdir, exist_ok=True)
    return definitions(url, workdir)


defs = _served_definitions()


def main(argv: list[str] | None = None) -> of.ExecuteResult:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--table", default="orders")
    parser.add_argument("--workdir", default=None)
    args = parser.parse_args(argv)
    _demo_environment()
    workdir = args.workdir or tempfile.mkdtemp(prefix="outfitter-example-")
    launch = of.RunConfig(resources={"warehouse": {"config": {"table": args.table}}})
    with local_api() as url, of.Instance.get() as instance:
        job = definitions(url, workdir).get_implicit_global_asset_job_def()
        result = job.execute_in_process(run_config=launch, instance=instance)
    report = Path(result.asset_value("order_report"))
    print(f"run {result.run_id}: loaded {result.asset_value('orders')} orders into {args.table!r}")
    print(f"report {report}: {json.loads(report.read_text())}")
    print("inspect it with: outfitter runs show " + result.run_id)
    return result


if __name__ == "__main__":
    main()
