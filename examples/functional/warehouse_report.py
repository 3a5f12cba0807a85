"""A small reporting pipeline, end to end, with every resource opened and closed by Outfitter.

The story: a token-authenticated API client fetches orders from a (local stand-in) HTTP API, a
SQLite warehouse connection kept open for the run stores them, and a file-store bucket whose
credentials come from environment variables writes the report. The report's table is chosen at
launch time.

Run it:  python examples/functional/warehouse_report.py  [--table daily_orders]
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import sqlite3
import tempfile
import threading
import urllib.request
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from pydantic import PrivateAttr

import outfitter as of

# -- resources -------------------------------------------------------------------------------------


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
    username: str
    password: str


class FileStoreBucket(of.ConfigurableResource):
    """Writes objects under a local directory, standing in for a cloud bucket."""

    credentials: Credentials
    root: str

    def write(self, name: str, data: str) -> Path:
        assert self.credentials.password, "credentials must be resolved at run time"
        path = Path(self.root) / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(data)
        return path


def resources(api_url: str, workdir: str) -> dict[str, Any]:
    """The pipeline's resources. The warehouse table is configured at launch."""
    return {
        "api": OrdersApi(
            base_url=api_url, username="reporter", password=of.EnvVar("ORDERS_API_PASSWORD")
        ),
        "warehouse": Warehouse.configure_at_launch(path=os.path.join(workdir, "warehouse.db")),
        "bucket": FileStoreBucket(
            credentials=Credentials(
                username=of.EnvVar("BUCKET_USER"), password=of.EnvVar("BUCKET_PASSWORD")
            ),
            root=os.path.join(workdir, "bucket"),
        ),
    }


# -- the pipeline: plain functions taking resources ------------------------------------------------


def load_orders(api: OrdersApi, warehouse: Warehouse) -> int:
    return warehouse.store(api.orders())


def publish_report(warehouse: Warehouse, bucket: FileStoreBucket) -> Path:
    return bucket.write("reports/total.json", json.dumps({"total": warehouse.total()}))


def run_pipeline(api_url: str, workdir: str, table: str) -> dict[str, Any]:
    launch = of.RunConfig(resources={"warehouse": {"config": {"table": table}}})
    with of.build_resources(resources(api_url, workdir), resource_config=launch) as res:
        loaded = load_orders(res.api, res.warehouse)
        report = publish_report(res.warehouse, res.bucket)
    return {"loaded": loaded, "report": str(report), "total": json.loads(report.read_text())}


# -- a local stand-in for the orders API -------------------------------------------------------


class _ApiHandler(BaseHTTPRequestHandler):
    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length", 0))
        creds = json.loads(self.rfile.read(length))
        ok = creds.get("password") == os.environ.get("ORDERS_API_PASSWORD")
        self._reply(200 if ok else 401, {"token": "t-123"} if ok else {"error": "denied"})

    def do_GET(self) -> None:
        if self.headers.get("Authorization") != "Bearer t-123":
            self._reply(401, {"error": "no token"})
            return
        self._reply(200, [{"id": i, "amount": 10.0 * i} for i in range(1, 6)])

    def _reply(self, status: int, payload: Any) -> None:
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args: Any) -> None:
        pass


@contextlib.contextmanager
def local_api() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _ApiHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--table", default="orders")
    parser.add_argument("--workdir", default=None)
    args = parser.parse_args(argv)
    # Demo credentials; in real use they come from the environment or a .env file.
    os.environ.setdefault("ORDERS_API_PASSWORD", "demo-api-secret")
    os.environ.setdefault("BUCKET_USER", "reporter")
    os.environ.setdefault("BUCKET_PASSWORD", "demo-bucket-secret")
    workdir = args.workdir or tempfile.mkdtemp(prefix="outfitter-example-")
    with local_api() as url:
        result = run_pipeline(url, workdir, args.table)
    print(f"loaded {result['loaded']} orders into table {args.table!r}")
    print(f"report {result['report']}: {result['total']}")
    return result


if __name__ == "__main__":
    main()
