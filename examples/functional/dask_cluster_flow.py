"""A temporary Dask cluster for part of a flow (functional style).

The `DaskCluster` resource manager starts a local cluster when the block's first task is ready
and closes it once every task in the block has finished, whatever they did. Its resource is the
cluster's scheduler address: a plain string, so the flow also runs with its tasks on worker
processes (`--on-dask` runs them on a second, 2-worker Dask cluster made for the run with
`dask_executor`; the resource manager itself always runs in the coordinating process).
`write_csv` runs after the block and does not need the cluster.

Run it:  python examples/functional/dask_cluster_flow.py [out.csv] [--on-dask]
"""

from __future__ import annotations

import sys
from typing import Any

import dask
import dask.dataframe
from dask.distributed import Client, LocalCluster

from outfitter import Flow, Parameter, dask_executor, resource_manager, task

CLUSTERS: list[LocalCluster] = []  # every cluster made, so a caller can check they were closed


@resource_manager
class DaskCluster:
    """A temporary local Dask cluster; its resource is the scheduler's address."""

    def __init__(self, n_workers: int | None = None) -> None:
        self.n_workers = n_workers

    def setup(self) -> str:
        self.cluster = LocalCluster(
            n_workers=self.n_workers, threads_per_worker=1, dashboard_address=":0"
        )
        CLUSTERS.append(self.cluster)
        return str(self.cluster.scheduler_address)

    def cleanup(self, address: str) -> None:
        self.cluster.close()


@task
def load_data(days: int) -> dask.dataframe.DataFrame:
    """A synthetic time series, partitioned by day."""
    return dask.datasets.timeseries(start="2000-01-01", end=f"2000-01-{1 + days:02d}", freq="60s")


@task
def summarize(df: dask.dataframe.DataFrame, scheduler: str) -> Any:
    """Summary statistics, computed on the temporary cluster."""
    with Client(scheduler) as client:
        return client.compute(df.describe()).result()


@task
def write_csv(df: Any, path: str) -> None:
    df.to_csv(path, index_label="index")


with Flow("dask-example") as flow:
    n_workers = Parameter("n_workers", default=2)
    out_path = Parameter("out_path", default="summary.csv")
    days = Parameter("days", default=2)

    with DaskCluster(n_workers=n_workers) as scheduler:
        df = load_data(days)
        summary = summarize(df, scheduler)

    write_csv(summary, out_path)


if __name__ == "__main__":
    args = [a for a in sys.argv[1:] if a != "--on-dask"]
    path = args[0] if args else "summary.csv"
    executor = dask_executor(n_workers=2) if "--on-dask" in sys.argv else None
    state = flow.run(out_path=path, executor=executor)
    assert state.is_successful(), state.result
    assert CLUSTERS
    assert all(c.status.name == "closed" for c in CLUSTERS)
    print(f"{state.message} Summary written to {path}; the cluster was closed.")
