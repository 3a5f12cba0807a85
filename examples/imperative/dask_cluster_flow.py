"""A temporary Dask cluster for part of a flow (imperative style): the same story as
examples/functional/dask_cluster_flow.py, with Task subclasses bound to the flow explicitly.

Run it:  python examples/imperative/dask_cluster_flow.py [out.csv]
"""

from __future__ import annotations

import sys
from typing import Any

import dask
import dask.dataframe
from dask.distributed import Client

from outfitter import Flow, Parameter, Task, resource_manager

CLIENTS: list[Client] = []  # every client made, so a caller can check that they were closed


@resource_manager
class DaskCluster:
    """A temporary local Dask cluster; its resource is the connected Client."""

    def __init__(self, n_workers: int | None = None) -> None:
        self.n_workers = n_workers

    def setup(self) -> Client:
        client = Client(n_workers=self.n_workers, threads_per_worker=1, dashboard_address=None)
        CLIENTS.append(client)
        return client

    def cleanup(self, client: Client) -> None:
        client.close()


class LoadData(Task):
    """A synthetic time series, partitioned by day."""

    def run(self, days: int) -> dask.dataframe.DataFrame:
        end = f"2000-01-{1 + days:02d}"
        return dask.datasets.timeseries(start="2000-01-01", end=end, freq="60s")


class Summarize(Task):
    """Summary statistics, computed on the cluster."""

    def run(self, df: dask.dataframe.DataFrame, client: Client) -> Any:
        return df.describe().compute()


class WriteCSV(Task):
    def run(self, df: Any, path: str) -> None:
        df.to_csv(path, index_label="index")


flow = Flow("dask-example")
n_workers = Parameter("n_workers", default=2)
out_path = Parameter("out_path", default="summary.csv")
days = Parameter("days", default=2)

with DaskCluster(n_workers=n_workers, flow=flow) as client:
    df = LoadData().bind(days, flow=flow)
    summary = Summarize().bind(df, client, flow=flow)

WriteCSV().bind(summary, out_path, flow=flow)


if __name__ == "__main__":
    path = sys.argv[1] if len(sys.argv) > 1 else "summary.csv"
    state = flow.run(out_path=path)
    assert state.is_successful(), state.result
    assert CLIENTS
    assert all(c.status == "closed" for c in CLIENTS)
    print(f"{state.message} Summary written to {path}; the cluster was closed.")
