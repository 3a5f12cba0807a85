"""Fixtures for the contract tests: the three executors (one Dask LocalCluster shared by the
session's contract tests), a resource log, and an instance on disk."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import outfitter as of

EXECUTORS = ("in_process", "multiprocess", "dask")


@pytest.fixture(scope="session")
def dask_address() -> Iterator[str]:
    """A 2-worker cluster for every contract test that runs on Dask."""
    import dask
    import distributed

    with (
        dask.config.set({"distributed.scheduler.allowed-failures": 0}),
        distributed.LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0"
        ) as cluster,
    ):
        yield str(cluster.scheduler_address)


@pytest.fixture(params=EXECUTORS)
def executor(request: pytest.FixtureRequest) -> Any:
    """Each executor in turn (Dask on the shared cluster)."""
    if request.param == "in_process":
        return of.in_process_executor
    if request.param == "multiprocess":
        return of.multiprocess_executor(max_concurrent=2)
    address = request.getfixturevalue("dask_address")
    return of.dask_executor(address=address)


@pytest.fixture
def log(tmp_path: Path) -> Path:
    """The file resources log their opens and closes to."""
    path = tmp_path / "resources.log"
    path.write_text("")
    return path


@pytest.fixture
def instance(tmp_path: Path) -> Iterator[of.Instance]:
    with of.Instance.local(tmp_path / "home") as inst:
        yield inst
