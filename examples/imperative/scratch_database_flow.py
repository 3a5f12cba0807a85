"""A temporary scratch database for part of a flow (imperative style; no Dask needed): the same
story as examples/functional/scratch_database_flow.py with Task subclasses.

Run it:  python examples/imperative/scratch_database_flow.py [report.txt]
"""

from __future__ import annotations

import shutil
import sqlite3
import sys
import tempfile
from pathlib import Path

from outfitter import Flow, Parameter, Task, resource_manager

REMOVED: list[str] = []


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


class LoadSales(Task):
    def run(self, db: str, rows: int) -> int:
        with sqlite3.connect(db) as conn:
            conn.executemany(
                "insert into sales values (?, ?)",
                [("north" if i % 2 else "south", float(i)) for i in range(rows)],
            )
        conn.close()
        return rows


class TotalsByRegion(Task):
    def run(self, db: str, loaded: int) -> dict[str, float]:
        with sqlite3.connect(db) as conn:
            result = dict(conn.execute("select region, sum(amount) from sales group by region"))
        conn.close()
        return result


class WriteReport(Task):
    def run(self, totals: dict[str, float], path: str) -> None:
        Path(path).write_text("".join(f"{k}: {v:.0f}\n" for k, v in sorted(totals.items())))


flow = Flow("scratch-database")
rows = Parameter("rows", default=100)
out_path = Parameter("out_path", default="report.txt")

with ScratchDatabase(flow=flow) as db:
    loaded = LoadSales().bind(db, rows, flow=flow)
    totals = TotalsByRegion().bind(db, loaded, flow=flow)

WriteReport().bind(totals, out_path, flow=flow)


if __name__ == "__main__":
    path = sys.argv[1] if len(sys.argv) > 1 else str(Path(tempfile.mkdtemp()) / "report.txt")
    state = flow.run(out_path=path)
    assert state.is_successful(), state.result
    assert REMOVED
    assert not Path(REMOVED[0]).exists()
    print(Path(path).read_text().strip())
    print(f"{state.message} The scratch database was removed.")
