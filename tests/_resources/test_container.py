"""ResourceContainer: attributes as resources, dependency-injector providers, overriding,
container instances and environments; the outfitter.testing helpers with containers."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from dependency_injector import containers, providers
from dependency_injector import resources as di_resources

import outfitter as of
from outfitter._resources.scope import RunScope
from outfitter.exceptions import ConfigError, DefinitionError, InvocationError, ResourceInitError
from outfitter.testing import ResourceRecorder, override_resources


class Warehouse(of.ConfigurableResource):
    dsn: str


class Client:
    def __init__(self, warehouse: Any, timeout: float = 1.0) -> None:
        self.warehouse = warehouse
        self.timeout = timeout


def make_client(warehouse: Any) -> Client:
    return Client(warehouse, timeout=9.0)


# -- attributes ------------------------------------------------------------------------------------


def test_attributes_of_every_form_become_keys() -> None:
    """Configurable resources, @resource functions, partials, bare values and providers are keys."""
    rec = ResourceRecorder()

    @of.resource
    def greeting() -> str:
        return "hello"

    class Api(of.ConfigurableResource):
        url: str

    class Local(of.ResourceContainer):
        warehouse = Warehouse(dsn="sqlite://")
        greeter = greeting
        api = Api.configure_at_launch()
        token = "abc"
        limits = {"rows": 10}  # noqa: RUF012
        recorded = rec.resource("recorded")
        client = providers.Factory(Client, warehouse=warehouse, timeout=2.0)
        made = providers.Callable(make_client, warehouse)
        single = providers.Singleton(dict, kind="singleton")
        obj = providers.Object(42)

        @staticmethod
        def helper() -> str:
            return "not a resource"

    assert set(Local.providers) == {
        "warehouse",
        "greeter",
        "api",
        "token",
        "limits",
        "recorded",
        "client",
        "made",
        "single",
        "obj",
    }
    assert Local.helper() == "not a resource"
    launch = {"api": {"config": {"url": "http://x"}}}
    with of.build_resources(Local, resource_config=launch) as res:
        assert res.warehouse.dsn == "sqlite://"
        assert res.greeter == "hello"
        assert res.api.url == "http://x"
        assert res.token == "abc"
        assert res.limits == {"rows": 10}
        assert res.recorded == "recorded"
        assert res.client.warehouse is res.warehouse
        assert res.client.timeout == 2.0
        assert res.made.warehouse is res.warehouse
        assert res.made.timeout == 9.0
        assert res.single == {"kind": "singleton"}
        assert res.obj == 42
    assert rec.events == [("open", "recorded"), ("close", "recorded")]


def test_container_is_a_dependency_injector_declarative_container() -> None:
    """A ResourceContainer subclass is a DeclarativeContainer; bare attributes are Objects."""

    class Local(of.ResourceContainer):
        token = "abc"

    assert issubclass(Local, containers.DeclarativeContainer)
    assert isinstance(Local.token, providers.Object)
    assert Local.token() == "abc"


def test_plain_declarative_container_works_as_resources() -> None:
    """A container not derived from ResourceContainer is accepted too."""

    class Plain(containers.DeclarativeContainer):
        warehouse = providers.Object(Warehouse(dsn="plain"))
        client = providers.Factory(Client, warehouse=warehouse)

    with RunScope(Plain) as scope:
        assert scope.get("client").warehouse is scope.get("warehouse")
        assert scope.get("warehouse").dsn == "plain"


def test_factory_depending_on_another_key_shares_the_scope_instance() -> None:
    """Factory arguments that are bound resources come from the run scope, opened first."""
    log: list[str] = []

    class Session(of.ConfigurableResource):
        def setup_for_execution(self, context: of.InitResourceContext) -> None:
            log.append("open session")

        def teardown_after_execution(self, context: of.InitResourceContext) -> None:
            log.append("close session")

    def build(session: Any) -> dict[str, Any]:
        log.append("build client")
        return {"session": session}

    class Local(of.ResourceContainer):
        session = Session()
        client = providers.Factory(build, session=session)
        other = providers.Factory(build, session=client)

    with RunScope(Local) as scope:
        other = scope.get("other")
        assert other["session"] is scope.get("client")
        assert scope.get("client")["session"] is scope.get("session")
        assert scope.opened == ("session", "client", "other")
    assert log == ["open session", "build client", "build client", "close session"]


def test_factory_instances_are_fresh_per_scope() -> None:
    """A Factory is called once per scope, never shared between scopes."""

    class Local(of.ResourceContainer):
        client = providers.Factory(Client, warehouse="w")

    with RunScope(Local) as one, RunScope(Local) as two:
        assert one.get("client") is one.get("client")
        assert one.get("client") is not two.get("client")


def test_di_resource_provider_with_a_generator_opens_and_shuts_down_per_scope() -> None:
    """providers.Resource initializers run per scope, with cleanup at scope close."""
    log: list[str] = []

    def connect(dsn: str) -> Iterator[str]:
        log.append(f"open {dsn}")
        yield f"conn:{dsn}"
        log.append(f"close {dsn}")

    class DI(containers.DeclarativeContainer):
        conn = providers.Resource(connect, dsn="db")

    for _ in range(2):
        with RunScope(DI) as scope:
            assert scope.get("conn") == "conn:db"
            assert log[-1] == "open db"
    assert log == ["open db", "close db", "open db", "close db"]
    assert not DI.conn.initialized


def test_di_resource_subclass_is_initialised_and_shut_down_per_scope() -> None:
    """A dependency_injector.resources.Resource subclass gets init() and shutdown(value)."""
    log: list[str] = []

    class Pool(di_resources.Resource):  # type: ignore[misc]
        def init(self, size: int) -> list[int]:
            log.append(f"init {size}")
            return list(range(size))

        def shutdown(self, value: list[int]) -> None:
            log.append(f"shutdown {len(value)}")

    class DI(containers.DeclarativeContainer):
        pool = providers.Resource(Pool, size=3)

    with RunScope(DI) as scope:
        assert scope.get("pool") == [0, 1, 2]
    assert log == ["init 3", "shutdown 3"]


def test_di_resource_cleanups_run_in_reverse_order_past_failures() -> None:
    """Resource providers close LIFO, and a failing cleanup does not stop the others."""
    log: list[str] = []

    def first() -> Iterator[str]:
        yield "first"
        log.append("close first")

    def second(dep: str) -> Iterator[str]:
        yield f"second({dep})"
        log.append("close second")
        raise RuntimeError("second cleanup")

    class DI(containers.DeclarativeContainer):
        a = providers.Resource(first)
        b = providers.Resource(second, dep=a)

    with pytest.raises(of.exceptions.TeardownError) as info, RunScope(DI) as scope:
        assert scope.get("b") == "second(first)"
    assert info.value.keys == ("b",)
    assert log == ["close second", "close first"]


def test_failing_provider_is_a_resource_init_error() -> None:
    """A Factory raising while it builds fails with ResourceInitError naming the key."""

    def explode() -> None:
        raise RuntimeError("no network")

    class Local(of.ResourceContainer):
        client = providers.Factory(explode)

    with RunScope(Local) as scope, pytest.raises(ResourceInitError) as info:
        scope.get("client")
    assert info.value.key == "client"
    assert "resource 'client' (Factory provider) failed to open" in str(info.value)
    assert isinstance(info.value.__cause__, RuntimeError)


def test_undefined_dependency_provider_is_a_definition_error() -> None:
    """A Dependency provider nobody overrode fails with an error naming the key."""

    class Local(of.ResourceContainer):
        external = providers.Dependency(instance_of=str)

    with RunScope(Local) as scope, pytest.raises(DefinitionError) as info:
        scope.get("external")
    assert "resource 'external' (Dependency provider) could not be provided" in str(info.value)
    with Local.external.override("given"), RunScope(Local) as scope:
        assert scope.get("external") == "given"


# -- overriding ------------------------------------------------------------------------------------


def test_override_is_seen_by_the_next_scope_and_gone_after() -> None:
    """Container.key.override(x) as a context manager is seen inside and undone after."""

    class Prod(of.ResourceContainer):
        warehouse = Warehouse(dsn="prod")

    with RunScope(Prod) as before:
        assert before.get("warehouse").dsn == "prod"
    with Prod.warehouse.override(Warehouse(dsn="test")), RunScope(Prod) as inside:
        assert inside.get("warehouse").dsn == "test"
    with RunScope(Prod) as after:
        assert after.get("warehouse").dsn == "prod"


def test_override_with_a_provider() -> None:
    """A key can be overridden by a provider, e.g. a Factory."""

    class Prod(of.ResourceContainer):
        warehouse = Warehouse(dsn="prod")

    with (
        Prod.warehouse.override(providers.Factory(Warehouse, dsn="factory")),
        RunScope(Prod) as scope,
    ):
        assert scope.get("warehouse").dsn == "factory"


def test_overriding_a_dependency_reaches_factories_that_use_it() -> None:
    """A Factory depending on an overridden key gets the override, shared with the scope."""

    class Prod(of.ResourceContainer):
        warehouse = Warehouse(dsn="prod")
        client = providers.Factory(Client, warehouse=warehouse)

    class PlainProd(containers.DeclarativeContainer):
        warehouse = providers.Object(Warehouse(dsn="prod"))
        client = providers.Factory(Client, warehouse)

    for container in (Prod, PlainProd):
        with container.warehouse.override(Warehouse(dsn="test")), RunScope(container) as scope:
            client = scope.get("client")
            assert client.warehouse.dsn == "test"
            assert client.warehouse is scope.get("warehouse")
        with RunScope(container) as scope:
            client = scope.get("client")
            assert client.warehouse.dsn == "prod"
            assert client.warehouse is scope.get("warehouse")


def test_override_providers_is_seen_and_reset() -> None:
    """A container instance's override_providers(...) block is seen inside and reset after."""

    class Prod(of.ResourceContainer):
        token = "real"
        warehouse = Warehouse(dsn="prod")

    container = Prod()
    with container.override_providers(token="fake"), RunScope(container) as scope:
        assert scope.get("token") == "fake"
        assert scope.get("warehouse").dsn == "prod"
    with RunScope(container) as scope:
        assert scope.get("token") == "real"


def test_container_instances_work_and_keep_their_overrides_to_themselves() -> None:
    """A container instance is accepted; overriding it does not touch the class."""

    class Prod(of.ResourceContainer):
        warehouse = Warehouse(dsn="prod")
        client = providers.Factory(Client, warehouse=warehouse)

    container = Prod()
    with RunScope(container) as scope:
        assert scope.get("client").warehouse is scope.get("warehouse")
    with container.warehouse.override(Warehouse(dsn="instance")):
        with RunScope(container) as scope:
            assert scope.get("warehouse").dsn == "instance"
            assert scope.get("client").warehouse is scope.get("warehouse")
        with RunScope(Prod) as scope:
            assert scope.get("warehouse").dsn == "prod"


def test_subclass_per_environment_overrides_keys() -> None:
    """A subclass replaces some keys and inherits the others."""

    class Local(of.ResourceContainer):
        warehouse = Warehouse(dsn="sqlite://")
        api_url = "http://localhost"

    class Prod(Local):
        warehouse = Warehouse(dsn="postgres://prod")

    with of.build_resources(Prod) as res:
        assert res.warehouse.dsn == "postgres://prod"
        assert res.api_url == "http://localhost"
    with of.build_resources(Local) as res:
        assert res.warehouse.dsn == "sqlite://"


# -- outfitter.testing.override_resources ----------------------------------------------------------


def test_override_resources_on_a_container() -> None:
    """override_resources(Container, key=value) swaps keys for scopes inside the block only."""

    class Prod(of.ResourceContainer):
        warehouse = Warehouse(dsn="prod")
        token = "real"

    with override_resources(Prod, warehouse=Warehouse(dsn="fake"), token="t") as target:
        assert target is Prod
        with RunScope(Prod) as scope:
            assert scope.get("warehouse").dsn == "fake"
            assert scope.get("token") == "t"
    with RunScope(Prod) as scope:
        assert scope.get("warehouse").dsn == "prod"
        assert scope.get("token") == "real"


def test_override_resources_is_undone_when_the_block_fails() -> None:
    """The override is gone even if the block raised."""

    class Prod(of.ResourceContainer):
        token = "real"

    with pytest.raises(RuntimeError), override_resources(Prod, token="fake"):
        raise RuntimeError("test failed")
    with RunScope(Prod) as scope:
        assert scope.get("token") == "real"


def test_override_resources_rejects_unknown_keys() -> None:
    """An unknown key is an InvocationError with a did-you-mean and the bound keys."""

    class Prod(of.ResourceContainer):
        warehouse = Warehouse(dsn="prod")

    with pytest.raises(InvocationError) as info, override_resources(Prod, warehose="x"):
        pass
    text = str(info.value)
    assert "cannot override 'warehose': not bound here" in text
    assert "Did you mean 'warehouse'?" in text
    assert "Hint: bound keys: warehouse." in text


def test_override_resources_on_a_dict_restores_after() -> None:
    """A dict is updated in place inside the block and restored after, even on failure."""
    real = Warehouse(dsn="real")
    resources: dict[str, Any] = {"warehouse": real, "token": "abc"}
    with override_resources(resources, warehouse=Warehouse(dsn="fake")) as target:
        assert target is resources
        with of.build_resources(resources) as res:
            assert res.warehouse.dsn == "fake"
    assert resources == {"warehouse": real, "token": "abc"}
    with pytest.raises(KeyError), override_resources(resources, token="x"):
        raise KeyError("boom")
    assert resources["token"] == "abc"
    with (
        pytest.raises(InvocationError, match="cannot override 'tokn'"),
        override_resources(resources, tokn="x"),
    ):
        pass


def test_override_resources_rejects_other_targets() -> None:
    """Only containers and dicts can be overridden."""
    with (
        pytest.raises(InvocationError, match="cannot override resources of a tuple"),
        override_resources(("a",), a=1),
    ):
        pass


# -- containers_by_env -----------------------------------------------------------------------------


class LocalEnv(of.ResourceContainer):
    warehouse = Warehouse(dsn="local")


class ProdEnv(LocalEnv):
    warehouse = Warehouse(dsn="prod")


def test_containers_by_env_defaults_to_local(monkeypatch: pytest.MonkeyPatch) -> None:
    """Without OUTFITTER_ENV the local container is chosen."""
    monkeypatch.delenv("OUTFITTER_ENV", raising=False)
    assert of.containers_by_env(local=LocalEnv, prod=ProdEnv) is LocalEnv


def test_containers_by_env_reads_outfitter_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """OUTFITTER_ENV=prod picks the prod container, read at call time."""
    monkeypatch.setenv("OUTFITTER_ENV", "prod")
    chosen = of.containers_by_env(local=LocalEnv, prod=ProdEnv)
    assert chosen is ProdEnv
    with of.build_resources(chosen) as res:
        assert res.warehouse.dsn == "prod"
    monkeypatch.setenv("OUTFITTER_ENV", "local")
    assert of.containers_by_env(local=LocalEnv, prod=ProdEnv) is LocalEnv


def test_containers_by_env_default_applies_only_when_unset(monkeypatch: pytest.MonkeyPatch) -> None:
    """default= is used when OUTFITTER_ENV is unset; a set variable wins."""
    monkeypatch.delenv("OUTFITTER_ENV", raising=False)
    assert of.containers_by_env("prod", local=LocalEnv, prod=ProdEnv) is ProdEnv
    monkeypatch.setenv("OUTFITTER_ENV", "local")
    assert of.containers_by_env("prod", local=LocalEnv, prod=ProdEnv) is LocalEnv


def test_containers_by_env_unknown_env_lists_the_known_ones(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """An environment without a container is a ConfigError naming the known environments."""
    monkeypatch.setenv("OUTFITTER_ENV", "staging")
    with pytest.raises(ConfigError) as info:
        of.containers_by_env(prod=ProdEnv, local=LocalEnv)
    text = str(info.value)
    assert "OUTFITTER_ENV is 'staging', but no container is registered for it" in text
    assert "(known: local, prod)" in text
    assert "Hint:" in text


def test_containers_by_env_needs_containers() -> None:
    """Calling it with nothing is a definition error."""
    with pytest.raises(DefinitionError, match="got no containers"):
        of.containers_by_env()


def test_container_resources_keep_the_lifecycle_order() -> None:
    """Resources in a container open in dependency order and close in reverse."""
    rec = ResourceRecorder()

    class Local(of.ResourceContainer):
        db = rec.resource("db")
        api = rec.resource("api", requires=["db"])
        unused = rec.resource("unused")

    with RunScope(Local) as scope:
        scope.get("api")
    assert rec.events == [("open", "db"), ("open", "api"), ("close", "api"), ("close", "db")]


# -- containers through build_resources, and the testing helpers -----------------------------------


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

    class Shutdownable(di_resources.Resource):  # type: ignore[misc]
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


def test_override_is_seen_by_the_next_scope_and_gone_after_in_build_resources() -> None:
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


def test_containers_by_env_reads_outfitter_env_and_lists_known_envs(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
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
