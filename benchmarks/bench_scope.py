"""Micro-benchmark: open and close a run scope of 10 resources.

The scope holds three nested resources (a bucket owning credentials, a client sharing a
top-level database), one with setup/teardown, one generator, and plain/config resources.
Compared against the plain-Python floor (the same objects made and cleaned up by hand) and
against dependency-injector's own ``init_resources()``/``shutdown_resources()`` lifecycle.

Run: python benchmarks/bench_scope.py [--json]
"""

from __future__ import annotations

import json
import sys
import timeit
from collections.abc import Iterator
from typing import Any

from dependency_injector import containers, providers
from pydantic import PrivateAttr

from outfitter import ConfigurableResource, resource
from outfitter._resources.scope import RunScope, plan_for
from outfitter._resources.spec import ResourcePlan


class Credentials(ConfigurableResource):
    username: str
    password: str


class Bucket(ConfigurableResource):
    credentials: Credentials
    region: str


class Database(ConfigurableResource):
    url: str
    _conn: Any = PrivateAttr(default=None)

    def setup_for_execution(self, context: Any) -> None:
        self._conn = {"url": self.url}

    def teardown_after_execution(self, context: Any) -> None:
        self._conn = None


class Client(ConfigurableResource):
    db: Database
    timeout: float = 1.0


@resource
def session(context: Any) -> Iterator[dict[str, int]]:
    value = {"n": 0}
    yield value
    value.clear()


class Setting(ConfigurableResource):
    value: int


database = Database(url="sqlite://")
RESOURCES: dict[str, Any] = {
    "bucket": Bucket(credentials=Credentials(username="u", password="p"), region="eu"),
    "database": database,
    "client": Client(db=database),
    "session": session,
    "s1": Setting(value=1),
    "s2": Setting(value=2),
    "s3": Setting(value=3),
    "plain": {"a": 1},
    "token": "abc",
}
# 10 resources: 9 keys + the bucket's owned credentials


KEYS = ("bucket", "client", "session", "s1", "s2", "s3", "plain", "token")
PLAN = plan_for(RESOURCES)  # built once, as Definitions/Flow do


def run_scope() -> None:
    with RunScope(PLAN) as scope:
        for key in KEYS:
            scope.get(key)


def run_scope_from_dict() -> None:
    with RunScope(dict(RESOURCES)) as scope:  # a new dict of the same objects: plan cached
        for key in KEYS:
            scope.get(key)


def run_scope_planning() -> None:
    with RunScope(ResourcePlan(RESOURCES)) as scope:  # planned on every call
        for key in KEYS:
            scope.get(key)


def plain_python() -> None:
    creds = {"username": "u", "password": "p"}
    bucket = {"credentials": creds, "region": "eu"}
    conn = {"url": "sqlite://"}
    client = {"db": conn, "timeout": 1.0}
    gen_value = {"n": 0}
    values = [bucket, client, gen_value, {"v": 1}, {"v": 2}, {"v": 3}, {"a": 1}, "abc"]
    gen_value.clear()
    conn.clear()
    del values


def _db_resource(url: str) -> Iterator[dict[str, str]]:
    conn = {"url": url}
    yield conn
    conn.clear()


def _session() -> Iterator[dict[str, int]]:
    value = {"n": 0}
    yield value
    value.clear()


class DIContainer(containers.DeclarativeContainer):
    credentials = providers.Singleton(dict, username="u", password="p")
    bucket = providers.Singleton(dict, credentials=credentials, region="eu")
    database = providers.Resource(_db_resource, url="sqlite://")
    client = providers.Singleton(dict, db=database, timeout=1.0)
    session = providers.Resource(_session)
    s1 = providers.Singleton(dict, v=1)
    s2 = providers.Singleton(dict, v=2)
    s3 = providers.Singleton(dict, v=3)
    plain = providers.Object({"a": 1})
    token = providers.Object("abc")


def di_lifecycle(container: Any) -> None:
    container.init_resources()
    for name in ("bucket", "client", "session", "s1", "s2", "s3", "plain", "token"):
        getattr(container, name)()
    container.shutdown_resources()
    container.reset_singletons()


def measure(fn: Any, number: int) -> float:
    best = min(timeit.repeat(fn, number=number, repeat=5))
    return best / number * 1e6


def main() -> None:
    run_scope()  # warm caches (plan, class info)
    container = DIContainer()
    results = {
        "outfitter_scope_us": measure(run_scope, 2000),
        "outfitter_scope_from_dict_us": measure(run_scope_from_dict, 2000),
        "outfitter_scope_with_planning_us": measure(run_scope_planning, 1000),
        "plain_python_us": measure(plain_python, 20000),
        "dependency_injector_lifecycle_us": measure(lambda: di_lifecycle(container), 2000),
    }
    if "--json" in sys.argv:
        print(json.dumps(results, indent=2))
        return
    print("open+close a scope of 10 resources (best of 5, microseconds per scope)")
    for name, value in results.items():
        print(f"  {name:36s} {value:8.1f}")
    print("| workload | µs per scope |")
    print("| --- | ---: |")
    labels = {
        "outfitter_scope_us": "Outfitter `RunScope`, plan built once (as in a run)",
        "outfitter_scope_from_dict_us": "Outfitter, a dict of resources per run (plan cached)",
        "outfitter_scope_with_planning_us": "Outfitter, planning the resources each time",
        "dependency_injector_lifecycle_us": "dependency-injector init_resources/shutdown_resources",
        "plain_python_us": "plain Python floor (same objects by hand)",
    }
    for name, value in results.items():
        print(f"| {labels[name]} | {value:.1f} |")


if __name__ == "__main__":
    main()
