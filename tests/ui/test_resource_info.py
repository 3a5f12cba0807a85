"""What the resources pages show, computed from definitions and flows (no server)."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import Field, SecretStr

import outfitter as of
from outfitter.ui.resource_info import ResourceCatalog, resource_catalog


class Credentials(of.ConfigurableResource):
    """Login for the file store.

    A second paragraph that the list does not show."""

    username: str = Field(description="who logs in")
    password: str


class Bucket(of.ConfigurableResource):
    """A bucket holding its credentials."""

    credentials: Credentials
    region: str = "eu-west-1"


class Pool(of.ConfigurableResource, scope="process"):
    """A connection pool shared by every run of the daemon."""

    size: int = 4


class Transaction(of.ConfigurableResource, scope="step"):
    """One transaction per step."""

    pool: Pool


class Api(of.ConfigurableResource):
    url: str
    token: str
    key: SecretStr


@of.resource(config_schema={"limit": int})
def counter(context: of.InitResourceContext) -> int:
    """A counter whose limit is given per run."""
    return int(context.resource_config["limit"])


@of.asset
def report(bucket: Bucket, api: Api) -> int:
    return 1


@of.op
def write(tx: Transaction) -> None:
    return None


@of.job
def nightly() -> None:
    write()


@of.sensor(job=nightly)
def watcher(api: Api) -> of.SkipReason:
    return of.SkipReason("nothing new")


@of.schedule("0 * * * *", job=nightly)
def hourly(counter: of.ResourceParam[int]) -> of.SkipReason:
    return of.SkipReason("never")


def _defs() -> of.Definitions:
    credentials = Credentials.configure_at_launch(username="ops")
    return of.Definitions(
        assets=[report],
        jobs=[nightly],
        sensors=[watcher],
        schedules=[hourly],
        resources={
            "credentials": credentials,
            "bucket": Bucket(credentials=credentials),
            "api": Api(url="http://x", token=of.EnvVar("UI_INFO_TOKEN"), key="k-marker-123"),
            "tx": Transaction(pool=Pool(size=2)),
            "counter": counter,
        },
    )


@pytest.fixture
def catalog(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> ResourceCatalog:
    monkeypatch.setenv("OUTFITTER_ENV_FILE", str(tmp_path / "absent.env"))
    monkeypatch.delenv("UI_INFO_TOKEN", raising=False)
    return resource_catalog(_defs(), {})


def test_keys_are_sorted_with_owned_nested_resources_under_their_owner(
    catalog: ResourceCatalog,
) -> None:
    """Top-level keys in order, each followed by the resources it owns."""
    assert list(catalog.resources) == [
        "api",
        "bucket",
        "counter",
        "credentials",
        "io_manager",
        "tx",
        "tx.pool",
    ]
    assert catalog.resources["tx.pool"].owner == "tx"
    assert catalog.resources["tx.pool"].depth == 1
    assert catalog.resources["io_manager"].by_default


def test_class_description_and_scope(catalog: ResourceCatalog) -> None:
    """The class, the first paragraph of its own docstring (never a base class's) and scope."""
    creds = catalog.resources["credentials"]
    assert (creds.class_name, creds.description) == ("Credentials", "Login for the file store.")
    assert catalog.resources["api"].description is None
    assert catalog.resources["counter"].class_name == "@resource counter"
    assert catalog.resources["counter"].description == "A counter whose limit is given per run."
    assert catalog.resources["tx"].scope == "step"
    assert catalog.resources["tx.pool"].scope == "process"
    assert catalog.resources["api"].scope == "run"


def test_set_at_launch_partials_and_resource_functions(catalog: ResourceCatalog) -> None:
    """A partial and an @resource without config are set at launch, with what must be given."""
    creds = catalog.resources["credentials"]
    assert creds.set_at_launch
    assert creds.launch_required == ("password",)
    assert catalog.resources["counter"].launch_required == ("limit",)
    assert not catalog.resources["api"].set_at_launch
    [need] = catalog.resources["bucket"].launch_needs
    assert (need.key, need.path, need.required, need.optional) == (
        "credentials",
        "resources.credentials.config",
        ("password",),
        ("username",),
    )
    assert catalog.resources["bucket"].needs_launch
    assert not catalog.resources["bucket"].set_at_launch


def test_config_rows_show_env_var_names_and_mask_secrets(catalog: ResourceCatalog) -> None:
    """An EnvVar row names the variable and says whether it is set; a secret is masked."""
    rows = {row.field: row for row in catalog.resources["api"].config}
    assert (rows["url"].shown, rows["url"].origin) == ('"http://x"', "code")
    assert (rows["token"].shown, rows["token"].origin) == ("env UI_INFO_TOKEN", "env")
    [status] = rows["token"].env_vars
    assert (status.name, status.status, status.is_set) == ("UI_INFO_TOKEN", "not set", False)
    assert (rows["key"].shown, rows["key"].origin) == ("**********", "secret")
    creds = {row.field: row for row in catalog.resources["credentials"].config}
    assert creds["username"].description == "who logs in"
    assert (creds["username"].shown, creds["username"].at_launch) == ('"ops"', "optional")
    assert (creds["password"].origin, creds["password"].at_launch) == ("launch", "required")
    assert creds["password"].launch_path == "resources.credentials.config.password"
    pool = {row.field: row for row in catalog.resources["tx.pool"].config}
    assert pool["size"].launch_path == "resources.tx.config.pool.size"


def test_an_env_var_set_in_the_environment_is_reported_set_without_its_value(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """Only the fact that it is set is kept, never the value."""
    monkeypatch.setenv("OUTFITTER_ENV_FILE", str(tmp_path / "absent.env"))
    monkeypatch.setenv("UI_INFO_TOKEN", "tok-marker-456")
    info = resource_catalog(_defs(), {}).resources["api"]
    [status] = next(row for row in info.config if row.field == "token").env_vars
    assert status.status == "set"
    assert "tok-marker-456" not in repr(info)
    assert "k-marker-123" not in repr(info)


def test_nested_resources_are_linked_both_ways(catalog: ResourceCatalog) -> None:
    """A shared partial child and an owned child, seen from the parent and from the child."""
    [child] = catalog.resources["bucket"].children
    assert (child.field, child.key, child.shared, child.partial) == (
        "credentials",
        "credentials",
        True,
        True,
    )
    [parent] = catalog.resources["credentials"].parents
    assert (parent.key, parent.field, parent.href) == ("bucket", "credentials", "/resources/bucket")
    [owned] = catalog.resources["tx"].children
    assert (owned.key, owned.shared, owned.class_name) == ("tx.pool", False, "Pool")
    assert [p.key for p in catalog.resources["tx.pool"].parents] == ["tx"]


def test_uses_by_assets_ops_jobs_sensors_and_schedules(catalog: ResourceCatalog) -> None:
    """Each use names its kind, where it lives and whether it asks directly or through another."""

    def uses(key: str) -> list[tuple[str, str, str | None, tuple[str, ...]]]:
        return [(u.kind, u.name, u.owner, u.via) for u in catalog.resources[key].uses]

    assert uses("api") == [("asset", "report", None, ()), ("sensor", "watcher", None, ())]
    assert uses("credentials") == [("asset", "report", None, ("bucket",))]
    assert uses("tx.pool") == [
        ("op", "write", "nightly", ("tx",)),
        ("job", "nightly", None, ("tx",)),
    ]
    assert uses("counter") == [("schedule", "hourly", None, ())]
    assert catalog.resources["api"].use_count == 2
    assert catalog.resources["tx"].use_count == 1  # the job is made of its op: counted once
    hrefs = {
        u.kind: u.href for key in ("api", "tx", "counter") for u in catalog.resources[key].uses
    }
    assert hrefs == {
        "asset": "/definitions?select=report",
        "sensor": "/instigators/watcher",
        "op": "/definitions/jobs/nightly",
        "job": "/definitions/jobs/nightly",
        "schedule": "/instigators/hourly",
    }
    assert catalog.resources["credentials"].launch_links == (
        ("materialize the asset using it", "/launchpad?select=report"),
    )
    assert catalog.resources["tx"].launch_links == (("job nightly", "/launchpad?job=nightly"),)


def test_flows_only_tasks_by_annotation_and_bound_resource_managers() -> None:
    """A flow's container resources are used by its tasks; a manager bound to a key is a
    resource; a `with Manager()` block is listed as a block."""

    class Client(of.ConfigurableResource):
        """Talks to the service."""

        url: str

    @of.resource_manager
    class Cluster:
        """A throwaway cluster."""

        def __init__(self, workers: int = 2, token: SecretStr | None = None) -> None:
            self.workers = workers

        def setup(self) -> str:
            return "addr"

        def cleanup(self, address: str) -> None:
            return None

    @of.task
    def fetch(client: Client) -> str:
        return client.url

    @of.task
    def compute(cluster: of.ResourceParam[str]) -> str:
        return cluster

    @of.task
    def scratch(address: str) -> str:
        return address

    bound = {"client": Client(url="http://svc"), "cluster": Cluster(workers=3, token="t-secret")}
    with of.Flow("etl", resources=bound) as etl:
        fetch()
        compute()
    with of.Flow("blocks") as blocks, Cluster(workers=1) as address:
        scratch(address)
    catalog = resource_catalog(None, {"etl": etl, "blocks": blocks})
    assert list(catalog.resources) == ["client", "cluster"]
    client = catalog.resources["client"]
    assert [(u.kind, u.name, u.owner, u.href) for u in client.uses] == [
        ("task", "fetch", "etl", "/definitions/flows/etl")
    ]
    assert client.bound_by == ("flow 'etl'",)
    assert client.launch_links == (("flow etl", "/launchpad?flow=etl"),)
    cluster = catalog.resources["cluster"]
    assert (cluster.class_name, cluster.kind) == ("Cluster", "resource manager")
    assert [u.name for u in cluster.uses] == ["compute"]
    rows = {row.field: row.shown for row in cluster.config}
    assert rows == {"workers": "3", "token": "**********"}
    [block] = catalog.blocks
    assert (block.flow, block.class_name, block.description, block.tasks) == (
        "blocks",
        "Cluster",
        "A throwaway cluster.",
        ("scratch",),
    )


def test_an_empty_load_has_no_resources() -> None:
    """No definitions and no flows: nothing to list."""
    assert resource_catalog(None, {}) == ResourceCatalog({})


def test_containers_providers_objects_and_resource_functions() -> None:
    """Resources from a container: a provider names what it makes, a bare object takes no
    config, an @resource's config schema becomes rows (its secret default masked)."""
    from dependency_injector import providers

    class Db(of.ConfigurableResource):
        url: str = "sqlite://"

    class Local(of.ResourceContainer):
        db = Db()
        client = providers.Factory(dict, a=1)
        raw = frozenset({"x"})
        limit = of.resource(config_schema=int)(lambda ctx: ctx.resource_config)
        login = of.ResourceDefinition(
            lambda ctx: ctx, config_schema={"password": SecretStr, "user": str}
        ).configured({"password": "pw-marker-55", "user": "<b>ada</b>"})

    @of.asset
    def a(
        db: Db,
        client: of.ResourceParam[dict],
        raw: of.ResourceParam[frozenset[str]],
        limit: of.ResourceParam[int],
        login: of.ResourceParam[object],
    ) -> int:
        return 1

    catalog = resource_catalog(of.Definitions(assets=[a], resources=Local), {})
    client = catalog.resources["client"]
    assert (client.class_name, client.kind, client.description) == (
        "Factory(dict)",
        "dependency-injector provider",
        None,
    )
    assert (catalog.resources["raw"].kind, catalog.resources["raw"].config) == (
        "object bound as it is",
        (),
    )
    limit = catalog.resources["limit"]
    assert limit.set_at_launch
    assert [(r.field, r.type, r.at_launch) for r in limit.config] == [("config", "int", "required")]
    login = catalog.resources["login"]
    assert not login.set_at_launch
    assert [(r.field, r.shown) for r in login.config] == [
        ("password", "**********"),
        ("user", '"<b>ada</b>"'),
    ]
    assert "pw-marker-55" not in repr(catalog)
    assert all(u.name == "a" for info in catalog.resources.values() for u in info.uses)
