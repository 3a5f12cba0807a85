"""A sensor that launches one run per updated table, configuring the run's database resource at
launch (the resource guide's table-update sensor, against a local SQLite file).

`tables_changed` looks at a catalog of tables and their versions; for each table whose version
it has not seen, it yields a RunRequest whose run_key includes the version (so the same change
never launches twice, even across daemon restarts) and whose RunConfig completes the
`configure_at_launch()` database resource with the table name.

Run it:  python examples/functional/table_update_sensor.py
Or with the daemon (TABLES_DB names the database):
    outfitter daemon -f examples/functional/table_update_sensor.py
"""

from __future__ import annotations

import os
import sqlite3
import tempfile
from pathlib import Path

import outfitter as of


class DatabaseResource(of.ConfigurableResource):
    """A SQLite database; `table` is chosen per run at launch."""

    path: str
    table: str

    def row_count(self) -> int:
        with sqlite3.connect(self.path) as conn:
            (count,) = conn.execute(f"select count(*) from {self.table}").fetchone()
        conn.close()
        return int(count)


class Catalog(of.ConfigurableResource):
    """Lists tables and their current versions."""

    path: str

    def versions(self) -> dict[str, int]:
        with sqlite3.connect(self.path) as conn:
            rows = conn.execute("select name, version from catalog").fetchall()
        conn.close()
        return dict(rows)


@of.asset
def table_row_count(db_conn: DatabaseResource) -> int:
    return db_conn.row_count()


update_data_job = of.define_asset_job(name="update_data_job", selection=[table_row_count])


@of.sensor(job=update_data_job, minimum_interval_seconds=1, default_status="RUNNING")
def tables_changed(context: of.SensorEvaluationContext, catalog: Catalog):  # type: ignore[no-untyped-def]
    for table, version in sorted(catalog.versions().items()):
        yield of.RunRequest(
            run_key=f"{table}@{version}",
            run_config=of.RunConfig(
                resources={"db_conn": DatabaseResource(path=catalog.path, table=table)}
            ),
            tags={"table": table},
        )


defs = of.Definitions(
    assets=[table_row_count],
    jobs=[update_data_job],
    sensors=[tables_changed],
    resources={
        "db_conn": DatabaseResource.configure_at_launch(path=of.EnvVar("TABLES_DB")),
        "catalog": Catalog(path=of.EnvVar("TABLES_DB")),
    },
)


def create_database(path: str) -> None:
    with sqlite3.connect(path) as conn:
        conn.execute("create table catalog (name text primary key, version integer)")
        for name, rows in (("users", 3), ("orders", 5)):
            conn.execute(f"create table {name} (id integer)")
            conn.executemany(f"insert into {name} values (?)", [(i,) for i in range(rows)])
            conn.execute("insert into catalog values (?, 1)", (name,))
    conn.close()


def update_table(path: str, name: str) -> None:
    with sqlite3.connect(path) as conn:
        conn.execute(f"insert into {name} values (99)")
        conn.execute("update catalog set version = version + 1 where name = ?", (name,))
    conn.close()


if __name__ == "__main__":
    from outfitter._daemon import Daemon

    workdir = Path(tempfile.mkdtemp())
    os.environ.setdefault("TABLES_DB", str(workdir / "tables.db"))
    create_database(os.environ["TABLES_DB"])
    clock = [1_000.0]
    with of.Instance.local(workdir / "home") as instance:
        daemon = Daemon(defs, instance, clock=lambda: clock[0])
        first = daemon.tick()  # one run per table
        clock[0] += 5
        again = daemon.tick()  # nothing changed: no run
        update_table(os.environ["TABLES_DB"], "orders")
        clock[0] += 5
        third = daemon.tick()  # only the updated table
        daemon.close()
        for run_id in first + third:
            run = instance.get_run(run_id)
            assert run is not None
            table = run.run_config["resources"]["db_conn"]["config"]["table"]
            print(f"run {run_id[:8]} {run.status.value}: table {table}")
        assert (len(first), len(again), len(third)) == (2, 0, 1)
        print("ticks:", [t.status for t in reversed(instance.get_ticks("tables_changed"))])
