"""A temporary Dask cluster for part of a flow (functional style).

The `DaskCluster` resource manager starts a local cluster when the block's first task is ready
and closes it once every task in the block has finished, whatever they did. `write_csv` runs
after the block and does not need the cluster.

Run it:  python examples/functional/dask_cluster_flow.py [out.csv]
"""

from __future__ import annotations

import sys
from typing import Any

import dask
import dask.dataframe
from dask.distributed import Client

from outfitter import Flow, Parameter, resource_manager, task

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


@task
def load_data(days: int) -> dask.dataframe.DataFrame:
    """A synthetic time series, partitioned by day."""
    return dask.datasets.timeseries(start="2000-01-01", end=f"2000-01-{1 + days:02d}", freq="60s")


@task
def summarize(df: dask.dataframe.DataFrame, client: Client) -> Any:
    """Summary statistics, computed on the cluster."""
    return df.describe().compute()


@task
def write_csv(df: Any, path: str) -> None:
    df.to_csv(path, index_label="index")


with Flow("dask-example") as flow:
    n_workers = Parameter("n_workers", default=2)
    out_path = Parameter("out_path", default="summary.csv")
    days = Parameter("days", default=2)

    with DaskCluster(n_workers=n_workers) as client:
        df = load_data(days)
        summary = summarize(df, client)

    write_csv(summary, out_path)


if __name__ == "__main__":
    path = sys.argv[1] if len(sys.argv) > 1 else "summary.csv"
    state = flow.run(out_path=path)
    assert state.is_successful(), state.result
    assert CLIENTS
    assert all(c.status == "closed" for c in CLIENTS)
    print(f"{state.message} Summary written to {path}; the cluster was closed.")
