"""validate_run_config, scaffold_run_config and the launch errors built from them (issue 12).

Scaffolding follows Dagster's config scaffolder (dagster-io/dagster,
python_modules/dagster/dagster/_cli/config_scaffolder.py: ``scaffold_job_config`` walks the
job's run config schema, and with ``skip_non_required`` lists only what the run needs) and the
launchpad's "scaffold missing config" (defaults shown as values, see
dagster/_core/snap/snap_to_yaml.py ``default_values_yaml_from_type_snap``). Unlike Dagster, which
fills required scalars with type zero values (0, ""), a value without a default is the
placeholder ``<required: TYPE>`` so that validating the untouched scaffold reports exactly those.
"""

from __future__ import annotations

import pytest
import yaml
from pydantic import SecretStr

import outfitter as of
from outfitter.exceptions import ConfigError, DefinitionError


class Db(of.ConfigurableResource):
    host: str = "localhost"
    port: int = 5432
    user: str = of.EnvVar("CC_DB_USER")
    password: SecretStr
    token: SecretStr = SecretStr("default-s3cret")


class Unused(of.ConfigurableResource):
    x: int


class LimitConfig(of.Config):
    limit: int
    name: str = "a"


@of.asset(key_prefix=["raw"])
def users(db: Db, config: LimitConfig) -> int:
    return config.limit


@of.asset
def plain() -> int:
    return 1


def make_defs() -> of.Definitions:
    return of.Definitions(
        assets=[users, plain],
        resources={"db": Db.configure_at_launch(), "unused": Unused.configure_at_launch()},
    )


VALID = {
    "resources": {"db": {"config": {"password": {"env": "CC_DB_PASSWORD"}}}},
    "ops": {"raw__users": {"config": {"limit": 3}}},
}


def test_valid_config_has_no_problems() -> None:
    assert of.validate_run_config(make_defs(), VALID) == []


def test_every_problem_has_a_path_message_and_hint() -> None:
    problems = of.validate_run_config(
        make_defs(),
        {
            "resources": {"db": {"config": {"port": "x"}}},
            "ops": {"users": {"config": {"limit": 1}}},
        },
    )
    by_path = {p.path: p for p in problems}
    assert set(by_path) == {
        "resources.db.config.password",
        "resources.db.config.port",
        "ops.users",
        "ops.raw__users.config.limit",
    }
    assert "required" in by_path["resources.db.config.password"].message
    assert "integer" in by_path["resources.db.config.port"].message
    unknown = by_path["ops.users"]
    assert "Did you mean 'raw__users'?" in unknown.message
    assert unknown.hint is not None
    assert "raw__users, plain" in unknown.hint or "plain, raw__users" in unknown.hint
    assert "['raw', 'users'] -> raw__users" in unknown.hint
    with pytest.raises(AttributeError):
        unknown.path = "x"  # type: ignore[misc]  # frozen


def test_selection_only_checks_what_the_selection_opens() -> None:
    """`plain` opens no resource: db's missing password is not a problem of that run."""
    assert of.validate_run_config(make_defs(), {}, selection=["plain"]) == []
    assert of.scaffold_run_config(make_defs(), selection=["plain"]) == {}


def test_scaffold_lists_only_what_the_run_opens_with_defaults_env_and_placeholders() -> None:
    scaffold = of.scaffold_run_config(make_defs())
    assert scaffold == {
        "resources": {
            "db": {
                "config": {
                    "host": "localhost",
                    "port": 5432,
                    "user": {"env": "CC_DB_USER"},
                    "password": "<required: SecretStr>",
                }
            }
        },
        "ops": {"raw__users": {"config": {"limit": "<required: int>", "name": "a"}}},
    }
    text = of.run_config_yaml(scaffold)
    assert "default-s3cret" not in text  # a secret default is never shown
    assert "unused" not in text  # configure_at_launch, but no step of this run opens it
    assert yaml.safe_load(text) == scaffold


def test_validate_reports_exactly_the_placeholders_left_in_a_scaffold() -> None:
    scaffold = of.scaffold_run_config(make_defs())
    problems = of.validate_run_config(make_defs(), scaffold)
    assert sorted(p.path for p in problems) == [
        "ops.raw__users.config.limit",
        "resources.db.config.password",
    ]
    assert all("placeholder" in p.message for p in problems)
    scaffold["ops"]["raw__users"]["config"]["limit"] = 5
    scaffold["resources"]["db"]["config"]["password"] = {"env": "CC_DB_PASSWORD"}
    assert of.validate_run_config(make_defs(), scaffold) == []


def test_job_and_flow_targets() -> None:
    @of.op
    def step(config: LimitConfig) -> int:
        return config.limit

    @of.job
    def a_job() -> None:
        step()

    assert of.scaffold_run_config(a_job) == {
        "ops": {"step": {"config": {"limit": "<required: int>", "name": "a"}}}
    }
    assert [p.path for p in of.validate_run_config(a_job, {})] == ["ops.step.config.limit"]

    @of.task
    def uses_db(db: Db) -> str:
        return db.host

    with of.Flow("f", resources={"db": Db.configure_at_launch()}) as flow:
        uses_db()
    assert of.scaffold_run_config(flow)["resources"]["db"]["config"]["port"] == 5432
    assert [p.path for p in of.validate_run_config(flow, {})] == ["resources.db.config.password"]


def test_wrong_targets_and_shape_problems() -> None:
    with pytest.raises(DefinitionError, match="cannot check run config against a str"):
        of.validate_run_config("defs", {})
    problems = of.validate_run_config(make_defs(), {"resorces": {}, "ops": []})
    assert {p.path for p in problems} == {"resorces", "ops"}


def test_every_launch_path_raises_one_error_with_paths_and_the_example() -> None:
    """materialize, materialize_to_memory, execute_in_process and flow.run all raise the same
    error: every problem with its path, then the YAML of valid config for that run."""
    defs = make_defs()
    bad = {"resources": {"db": {"config": {"password": "pw-s3cret", "port": "x"}}}}
    calls = [
        lambda: of.materialize_to_memory([users, plain], resources=defs.resources, run_config=bad),
        lambda: defs.get_implicit_global_asset_job_def().execute_in_process(run_config=bad),
    ]
    for call in calls:
        with pytest.raises(ConfigError) as info:
            call()
        text = str(info.value)
        assert "2 problem(s) in the run config of the assets selected" in text
        assert "__ASSET_JOB" not in text
        assert "resources.db.config.port:" in text
        assert "ops.raw__users.config.limit:" in text
        assert "Nothing was run." in text
        example = text.split("marks values without a default):\n", 1)[1]
        assert yaml.safe_load(example) == of.scaffold_run_config(defs)
        assert "s3cret" not in text


def test_flow_launch_error_keeps_the_example() -> None:
    @of.task
    def uses_db(db: Db) -> str:
        return db.host

    with of.Flow("needs_db", resources={"db": Db.configure_at_launch()}) as flow:
        uses_db()
    with pytest.raises(ConfigError) as info:
        flow.run()
    text = str(info.value)
    assert "resources.db.config.password:" in text
    assert "password: '<required: SecretStr>'" in text
    assert "The flow's parameters are none" in text


def test_a_daemon_launched_run_logs_every_problem_and_the_example(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A sensor's run request with bad config: the daemon's log lists each problem with its
    path and the scaffold of valid config, and no run is recorded."""
    import logging

    from outfitter._daemon import Daemon

    @of.sensor(minimum_interval_seconds=1, default_status="RUNNING")
    def bad_config() -> of.RunRequest:
        return of.RunRequest(run_key="k", run_config={"ops": {"users": {"config": {}}}})

    defs = of.Definitions(
        assets=[users, plain],
        sensors=[bad_config],
        resources={"db": Db.configure_at_launch()},
    )
    caplog.set_level(logging.INFO, logger="outfitter.daemon")
    with of.Instance.ephemeral() as instance:
        daemon = Daemon(defs, instance, clock=lambda: 1_700_000_000.0)
        daemon.tick()
        daemon.close()
        assert instance.get_runs() == []
    text = "\n".join(r.getMessage() for r in caplog.records if r.name == "outfitter.daemon")
    assert "ops.users: run config for step 'users'" in text
    assert "ops.raw__users.config.limit:" in text
    assert "resources.db.config.password:" in text
    assert "limit: '<required: int>'" in text


def test_launch_config_for_a_nested_resource_that_was_never_built_says_how_to_give_one() -> None:
    """A nested resource is an object in code (Dagster binds a partial nested resource under a
    key of its own: its resources guide, "Resources that depend on other resources"); launch
    config cannot make one, and the problem says what to do instead of naming a key that
    does not exist."""

    class Creds(of.ConfigurableResource):
        user: str

    class Bucket(of.ConfigurableResource):
        creds: Creds
        root: str

    @of.asset
    def report(bucket: Bucket) -> int:
        return 1

    defs = of.Definitions(assets=[report], resources={"bucket": Bucket.configure_at_launch()})
    config = {"resources": {"bucket": {"config": {"root": "x", "creds": {"user": "u"}}}}}
    messages = [p.message for p in of.validate_run_config(defs, config)]
    assert (
        "resource 'bucket', field 'creds': a nested resource cannot be made from launch config; "
        "construct it in code (Bucket(..., creds=Creds(...))), or bind "
        "Creds.configure_at_launch() under a key of its own, pass that object, and give its "
        "launch config under that key"
    ) in messages
    assert not any("its own key" in m for m in messages)
