"""A temporary scratch database for part of a flow (functional style; no Dask needed).

`ScratchDatabase` creates a SQLite database in a temporary directory when the block starts and
deletes it once every task in the block has finished. Sales are loaded one region at a time (a
mapped task: one run per region). The report is written after the block, from the block's
result, so it does not need the database. A state handler alerts through the `alerts` resource
when a task fails: run with an unknown region and the load of that region fails, the alert is
sent, and the scratch database is still removed.

Run it:  python examples/functional/scratch_database_flow.py [report.txt]
"""

from __future__ import annotations

import shutil
import sqlite3
import sys
import tempfile
from pathlib import Path

from outfitter import Flow, Parameter, ResourceParam, State, Task, resource_manager, task, unmapped

REMOVED: list[str] = []  # directories cleaned up, so a caller can check


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


@task(state_handlers=[alert_on_failure])
def load_sales(db: str, region: str, rows: int) -> int:
    """Load one region's sales (odd rows are the north's, even rows the south's)."""
    if region not in ("north", "south"):
        raise ValueError(f"no sales feed for region {region!r}")
    parity = 1 if region == "north" else 0
    sales = [(region, float(i)) for i in range(rows) if i % 2 == parity]
    with sqlite3.connect(db) as conn:
        conn.executemany("insert into sales values (?, ?)", sales)
    conn.close()
    return len(sales)


@task
def totals_by_region(db: str, loaded: list[int]) -> dict[str, float]:
    with sqlite3.connect(db) as conn:
        result = dict(conn.execute("select region, sum(amount) from sales group by region"))
    conn.close()
    return result


@task
def write_report(totals: dict[str, float], path: str) -> None:
    Path(path).write_text("".join(f"{k}: {v:.0f}\n" for k, v in sorted(totals.items())))


alerts = Alerts()

with Flow("scratch-database", resources={"alerts": alerts}) as flow:
    rows = Parameter("rows", default=100)
    regions = Parameter("regions", default=["north", "south"])
    out_path = Parameter("out_path", default="report.txt")

    with ScratchDatabase() as db:
        loaded = load_sales.map(unmapped(db), regions, unmapped(rows))
        totals = totals_by_region(db, loaded)

    write_report(totals, out_path)


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
