"""A temporary scratch database for part of a flow (imperative style; no Dask needed): the same
story as examples/functional/scratch_database_flow.py with Task subclasses: a scratch database
for the block, sales loaded one region at a time (a mapped task), and a state handler that
alerts through the `alerts` resource when a task fails.

Run it:  python examples/imperative/scratch_database_flow.py [report.txt]
"""

from __future__ import annotations

import shutil
import sqlite3
import sys
import tempfile
from pathlib import Path

from outfitter import Flow, Parameter, ResourceParam, State, Task, resource_manager, unmapped

REMOVED: list[str] = []


class Alerts:
    """Where failures are reported (a chat channel, a pager); here it keeps the messages."""

    def __init__(self) -> None:
        self.sent: list[str] = []

    def send(self, text: str) -> None:
        self.sent.append(text)


def alert_on_failure(task: Task, old: State, new: State, alerts: ResourceParam[Alerts]) -> None:
    """A state handler: called on each state change of the task; alerts when it fails."""
    if new.is_failed():
        alerts.send(f"{task.name} failed: {new.message}")


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
    """Load one region's sales (odd rows are the north's, even rows the south's)."""

    def run(self, db: str, region: str, rows: int) -> int:
        if region not in ("north", "south"):
            raise ValueError(f"no sales feed for region {region!r}")
        parity = 1 if region == "north" else 0
        sales = [(region, float(i)) for i in range(rows) if i % 2 == parity]
        with sqlite3.connect(db) as conn:
            conn.executemany("insert into sales values (?, ?)", sales)
        conn.close()
        return len(sales)


class TotalsByRegion(Task):
    def run(self, db: str, loaded: list[int]) -> dict[str, float]:
        with sqlite3.connect(db) as conn:
            result = dict(conn.execute("select region, sum(amount) from sales group by region"))
        conn.close()
        return result


class WriteReport(Task):
    def run(self, totals: dict[str, float], path: str) -> None:
        Path(path).write_text("".join(f"{k}: {v:.0f}\n" for k, v in sorted(totals.items())))


alerts = Alerts()
flow = Flow("scratch-database", resources={"alerts": alerts})
rows = Parameter("rows", default=100)
regions = Parameter("regions", default=["north", "south"])
out_path = Parameter("out_path", default="report.txt")

with ScratchDatabase(flow=flow) as db:
    load = LoadSales(name="load_sales", state_handlers=[alert_on_failure])
    loaded = load.bind(unmapped(db), regions, unmapped(rows), mapped=True, flow=flow)
    totals = TotalsByRegion().bind(db, loaded, flow=flow)

WriteReport().bind(totals, out_path, flow=flow)


if __name__ == "__main__":
    path = sys.argv[1] if len(sys.argv) > 1 else str(Path(tempfile.mkdtemp()) / "report.txt")
    state = flow.run(out_path=path)
    assert state.is_successful(), state.result
    assert REMOVED
    assert not Path(REMOVED[0]).exists()
    assert alerts.sent == []
    print(Path(path).read_text().strip())
    print(f"{state.message} The scratch database was removed.")

    # one region without a feed: its load fails, the alert goes out, the database is removed
    failed = flow.run(regions=["north", "mars"], out_path=path + ".unused")
    assert failed.is_failed()
    assert len(REMOVED) == 2
    assert not Path(REMOVED[1]).exists()
    assert not Path(path + ".unused").exists()
    print(f"With region 'mars': {failed.message} Alert: {alerts.sent[0]}")
