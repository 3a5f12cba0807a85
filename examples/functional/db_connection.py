"""A database connection held open for the whole run with yield_for_execution: committed when
the run succeeds, rolled back when it fails."""

from __future__ import annotations

import contextlib
import sqlite3
import tempfile
from collections.abc import Iterator
from pathlib import Path

from pydantic import PrivateAttr

import outfitter as of


class Database(of.ConfigurableResource):
    path: str
    _conn: sqlite3.Connection = PrivateAttr()

    @contextlib.contextmanager
    def yield_for_execution(self, context: of.InitResourceContext) -> Iterator[Database]:
        conn = sqlite3.connect(self.path)
        try:
            with conn:  # commit on success, roll back if the run raised
                self._conn = conn
                yield self
        finally:
            conn.close()

    def query(self, sql: str, *args: object) -> list[tuple[object, ...]]:
        return self._conn.execute(sql, args).fetchall()


@of.asset
def events(db: Database) -> int:
    db.query("create table if not exists events (name text)")
    db.query("insert into events values ('signup')")
    return len(db.query("select * from events"))


@of.asset
def broken(db: Database) -> None:
    db.query("insert into events values ('lost')")
    raise RuntimeError("the run fails after writing")


if __name__ == "__main__":
    path = str(Path(tempfile.mkdtemp()) / "app.db")
    resources = {"db": Database(path=path)}
    assert of.materialize_to_memory([events], resources=resources).asset_value("events") == 1
    failed = of.materialize_to_memory([broken], resources=resources, raise_on_error=False)
    assert not failed.success
    with sqlite3.connect(path) as conn:
        rows = [r[0] for r in conn.execute("select name from events")]
    conn.close()
    assert rows == ["signup"], rows  # the failed run's insert was rolled back
    print("committed:", rows)
