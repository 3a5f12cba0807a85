"""ResourceContainer, dependency-injector providers as resources, overrides, environments, and
the testing helpers."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from dependency_injector import containers, providers, resources

import outfitter as of
from outfitter._resources.scope import RunScope
from outfitter.exceptions import ConfigError, InvocationError
from outfitter.testing import ResourceRecorder, override_resources


class Warehouse(of.ConfigurableResource):
    dsn: str


class Client:
    def __init__(self, warehouse: Any, timeout: float = 1.0) -> None:
        self.warehouse = warehouse
        self.timeout = timeout


def test_container_attributes_of_every_form_become_keys() -> None:
    """Resources, bare values and providers in a container body are all keys."""

    class Local(of.ResourceContainer):
        warehouse = Warehouse(dsn="sqlite://")
        token = "abc"
        client = providers.Factory(Client, warehouse=warehouse, timeout=2.0)

    with of.build_resources(Local) as res:
        assert res.warehouse.dsn == "sqlite://"
        assert res.token == "abc"
        assert res.client.warehouse is res.warehouse
        assert res.client.timeout == 2.0


def test_factory_depending_on_a_provider_key_shares_the_scope_instance() -> None:
    """A Factory argument that is another provider of the container comes from the scope."""

    class Plain(containers.DeclarativeContainer):
        warehouse = providers.Object(Warehouse(dsn="x"))
        client = providers.Factory(Client, warehouse=warehouse)

    with RunScope(Plain) as scope:
        client = scope.get("client")
        assert client.warehouse is scope.get("warehouse")


def test_di_resource_provider_opens_and_shuts_down_per_scope() -> None:
    """providers.Resource initializers run per scope, not via init_resources()."""
    events: list[str] = []

    def connect(dsn: str) -> Iterator[str]:
        events.append(f"open {dsn}")
        yield f"conn:{dsn}"
        events.append(f"close {dsn}")

    class Shutdownable(resources.Resource):  # type: ignore[misc]
        def init(self, name: str) -> str:
            events.append(f"init {name}")
            return name

        def shutdown(self, value: str) -> None:
            events.append(f"shutdown {value}")

    class DI(containers.DeclarativeContainer):
        conn = providers.Resource(connect, dsn="db")
        other = providers.Resource(Shutdownable, name="svc")

    for _ in range(2):
        with of.build_resources(DI) as res:
            assert res.conn == "conn:db"
            assert res.other == "svc"
    assert events.count("open db") == 2
    assert events.count("close db") == 2
    assert events.count("shutdown svc") == 2


def test_override_is_seen_by_the_next_scope_and_gone_after() -> None:
    """Container.key.override(x) as a context manager swaps the resource for runs inside."""

    class Prod(of.ResourceContainer):
        warehouse = Warehouse(dsn="prod")

    with Prod.warehouse.override(Warehouse(dsn="test")), of.build_resources(Prod) as res:
        assert res.warehouse.dsn == "test"
    with of.build_resources(Prod) as res:
        assert res.warehouse.dsn == "prod"


def test_container_instances_and_instance_overrides() -> None:
    """A container instance works wherever resources are accepted, with its own overrides."""

    class Prod(of.ResourceContainer):
        warehouse = Warehouse(dsn="prod")

    container = Prod()
    with (
        container.warehouse.override(Warehouse(dsn="instance")),
        of.build_resources(container) as res,
    ):
        assert res.warehouse.dsn == "instance"
    with of.build_resources(Prod) as res:
        assert res.warehouse.dsn == "prod"


def test_containers_by_env_reads_outfitter_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """OUTFITTER_ENV picks the environment's container; an unknown one lists the known ones."""

    class Local(of.ResourceContainer):
        warehouse = Warehouse(dsn="local")

    class Prod(Local):
        warehouse = Warehouse(dsn="prod")

    monkeypatch.delenv("OUTFITTER_ENV", raising=False)
    assert of.containers_by_env(local=Local, prod=Prod) is Local
    monkeypatch.setenv("OUTFITTER_ENV", "prod")
    chosen = of.containers_by_env(local=Local, prod=Prod)
    with of.build_resources(chosen) as res:
        assert res.warehouse.dsn == "prod"
    monkeypatch.setenv("OUTFITTER_ENV", "qa")
    with pytest.raises(ConfigError) as info:
        of.containers_by_env(local=Local, prod=Prod)
    assert "OUTFITTER_ENV is 'qa'" in str(info.value)
    assert "local, prod" in str(info.value)


def test_override_resources_helper_for_containers_and_dicts() -> None:
    """outfitter.testing.override_resources swaps keys and restores them; unknown keys fail."""

    class Prod(of.ResourceContainer):
        warehouse = Warehouse(dsn="prod")

    with (
        override_resources(Prod, warehouse=Warehouse(dsn="fake")),
        of.build_resources(Prod) as res,
    ):
        assert res.warehouse.dsn == "fake"
    with of.build_resources(Prod) as res:
        assert res.warehouse.dsn == "prod"

    plain: dict[str, Any] = {"token": "real"}
    with override_resources(plain, token="fake"):
        assert plain["token"] == "fake"
    assert plain["token"] == "real"
    with (
        pytest.raises(InvocationError, match=r"cannot override 'tokn'.*Did you mean 'token'"),
        override_resources(plain, tokn="x"),
    ):
        pass


def test_recorder_records_order_and_can_fail() -> None:
    """ResourceRecorder resources record open/close and fail on request."""
    rec = ResourceRecorder()
    resources = {"db": rec.resource("db"), "api": rec.resource("api", requires=["db"])}
    with of.build_resources(resources):
        pass
    assert rec.events == [("open", "db"), ("open", "api"), ("close", "api"), ("close", "db")]
    failing = ResourceRecorder()
    with (
        pytest.raises(of.exceptions.ResourceInitError),
        of.build_resources({"x": failing.resource("x", fail_on="open")}),
    ):
        pass
    assert failing.events == []
