"""A temporary Dask cluster for part of a flow (imperative style): the same story as
examples/functional/dask_cluster_flow.py, with Task subclasses bound to the flow explicitly.

Run it:  python examples/imperative/dask_cluster_flow.py [out.csv] [--on-dask]
"""

from __future__ import annotations

import sys
from typing import Any

import dask
import dask.dataframe
from dask.distributed import Client, LocalCluster

from outfitter import Flow, Parameter, Task, dask_executor, resource_manager

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


class LoadData(Task):
    """A synthetic time series, partitioned by day."""

    def run(self, days: int) -> dask.dataframe.DataFrame:
        end = f"2000-01-{1 + days:02d}"
        return dask.datasets.timeseries(start="2000-01-01", end=end, freq="60s")


class Summarize(Task):
    """Summary statistics, computed on the temporary cluster."""

    def run(self, df: dask.dataframe.DataFrame, scheduler: str) -> Any:
        with Client(scheduler) as client:
            return client.compute(df.describe()).result()


class WriteCSV(Task):
    def run(self, df: Any, path: str) -> None:
        df.to_csv(path, index_label="index")


flow = Flow("dask-example")
n_workers = Parameter("n_workers", default=2)
out_path = Parameter("out_path", default="summary.csv")
days = Parameter("days", default=2)

with DaskCluster(n_workers=n_workers, flow=flow) as scheduler:
    df = LoadData().bind(days, flow=flow)
    summary = Summarize().bind(df, scheduler, flow=flow)

WriteCSV().bind(summary, out_path, flow=flow)


if __name__ == "__main__":
    args = [a for a in sys.argv[1:] if a != "--on-dask"]
    path = args[0] if args else "summary.csv"
    executor = dask_executor(n_workers=2) if "--on-dask" in sys.argv else None
    state = flow.run(out_path=path, executor=executor)
    assert state.is_successful(), state.result
    assert CLUSTERS
    assert all(c.status.name == "closed" for c in CLUSTERS)
    print(f"{state.message} Summary written to {path}; the cluster was closed.")
