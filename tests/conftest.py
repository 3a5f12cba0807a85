"""Fixtures for the whole suite: Outfitter's own pytest plugin (its ``outfitter_*`` fixtures,
also before the editable install registers its ``pytest11`` entry point; loading it twice loads
it once), and the three executors, with one Dask LocalCluster shared by the session."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

pytest_plugins = ["outfitter.testing.pytest_plugin"]

EXECUTORS = ("in_process", "multiprocess", "dask")


@pytest.fixture(scope="session")
def dask_address() -> Iterator[str]:
    """A 2-worker cluster for every test that runs on Dask; a killed task is not retried."""
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
    """Each executor in turn (Dask on the session's cluster)."""
    import outfitter as of

    if request.param == "in_process":
        return of.in_process_executor
    if request.param == "multiprocess":
        return of.multiprocess_executor(max_concurrent=2)
    return of.dask_executor(address=request.getfixturevalue("dask_address"))


@pytest.fixture
def invoke(outfitter_cli: Any) -> Any:
    """The CLI in process (the plugin's outfitter_cli, with the test's isolated home), on
    consoles 80 columns wide so that wrapped output is the same everywhere (the CLI tests)."""
    outfitter_cli.width = 80
    return outfitter_cli
