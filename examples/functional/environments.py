"""One container per environment: local, test and prod override keys of a base container, and
OUTFITTER_ENV picks one."""

from __future__ import annotations

import os
import tempfile

import outfitter as of


class Warehouse(of.ConfigurableResource):
    dsn: str


@of.asset
def where(warehouse: Warehouse) -> str:
    return warehouse.dsn


class Local(of.ResourceContainer):
    warehouse = Warehouse(dsn=f"sqlite:///{tempfile.gettempdir()}/local.db")


class Test(Local):
    warehouse = Warehouse(dsn="sqlite://")


class Prod(Local):
    warehouse = Warehouse(dsn=of.EnvVar("WAREHOUSE_DSN"))


def defs() -> of.Definitions:
    return of.Definitions(
        assets=[where], resources=of.containers_by_env(local=Local, test=Test, prod=Prod)
    )


if __name__ == "__main__":
    os.environ["WAREHOUSE_DSN"] = "postgresql://warehouse.internal/prod"
    for env in ("local", "test", "prod"):
        os.environ["OUTFITTER_ENV"] = env
        job = defs().get_implicit_global_asset_job_def()
        print(f"{env:5s} -> {job.execute_in_process().asset_value('where')}")
