"""A temporary scratch database for part of a flow (functional style; no Dask needed).

`ScratchDatabase` creates a SQLite database in a temporary directory when the block starts and
deletes it once every task in the block has finished. The report is written after the block,
from the block's result, so it does not need the database.

Run it:  python examples/functional/scratch_database_flow.py [report.txt]
"""

from __future__ import annotations

import shutil
import sqlite3
import sys
import tempfile
from pathlib import Path

from outfitter import Flow, Parameter, resource_manager, task

REMOVED: list[str] = []  # directories cleaned up, so a caller can check


@resource_manager
class ScratchDatabase:
    """A throwaway SQLite database; its resource is the database path."""

    def __init__(self, prefix: str = "scratch-") -> None:
        self.prefix = prefix

    def setup(self) -> str:
        self.directory = tempfile.mkdtemp(prefix=self.prefix)
        path = str(Path(self.directory) / "scratch.db")
        with sqlite3.connect(path) as conn:
            conn.execute("create table sales (region text, amount real)")
        conn.close()
        return path

    def cleanup(self, path: str) -> None:
        shutil.rmtree(self.directory)
        REMOVED.append(self.directory)


@task
def load_sales(db: str, rows: int) -> int:
    with sqlite3.connect(db) as conn:
        conn.executemany(
            "insert into sales values (?, ?)",
            [("north" if i % 2 else "south", float(i)) for i in range(rows)],
        )
    conn.close()
    return rows


@task
def totals_by_region(db: str, loaded: int) -> dict[str, float]:
    with sqlite3.connect(db) as conn:
        result = dict(conn.execute("select region, sum(amount) from sales group by region"))
    conn.close()
    return result


@task
def write_report(totals: dict[str, float], path: str) -> None:
    Path(path).write_text("".join(f"{k}: {v:.0f}\n" for k, v in sorted(totals.items())))


with Flow("scratch-database") as flow:
    rows = Parameter("rows", default=100)
    out_path = Parameter("out_path", default="report.txt")

    with ScratchDatabase() as db:
        loaded = load_sales(db, rows)
        totals = totals_by_region(db, loaded)

    write_report(totals, out_path)


if __name__ == "__main__":
    path = sys.argv[1] if len(sys.argv) > 1 else str(Path(tempfile.mkdtemp()) / "report.txt")
    state = flow.run(out_path=path)
    assert state.is_successful(), state.result
    assert REMOVED
    assert not Path(REMOVED[0]).exists()
    print(Path(path).read_text().strip())
    print(f"{state.message} The scratch database was removed.")
