"""Configuring a resource at launch time: the table is chosen per run, in a RunConfig."""

from __future__ import annotations

import sqlite3
import tempfile
from pathlib import Path

import outfitter as of

DB = str(Path(tempfile.mkdtemp()) / "tables.db")


class DatabaseResource(of.ConfigurableResource):
    table: str

    def read(self) -> list[tuple[int]]:
        with sqlite3.connect(DB) as conn:
            rows = conn.execute(f"select n from {self.table}").fetchall()
        conn.close()
        return rows


@of.asset
def data_from_database(db_conn: DatabaseResource) -> list[tuple[int]]:
    return db_conn.read()


update_data_job = of.define_asset_job(name="update_data_job", selection=[data_from_database])

defs = of.Definitions(
    assets=[data_from_database],
    jobs=[update_data_job],
    resources={"db_conn": DatabaseResource.configure_at_launch()},
)


if __name__ == "__main__":
    with sqlite3.connect(DB) as conn:
        for name, n in (("users", 1), ("orders", 2)):
            conn.execute(f"create table {name} (n integer)")
            conn.execute(f"insert into {name} values ({n})")
    conn.close()
    job = defs.get_job_def("update_data_job")
    for table in ("users", "orders"):
        launch = of.RunConfig(resources={"db_conn": DatabaseResource(table=table)})
        rows = job.execute_in_process(run_config=launch).asset_value("data_from_database")
        print(table, rows)
    try:
        job.execute_in_process()
    except of.exceptions.ConfigError as exc:
        print("without launch config:", str(exc).splitlines()[1].strip())
