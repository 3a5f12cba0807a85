"""Dagster's job, graph, with_resources and asset-level resource semantics (issue 14).

Each test cites the Dagster 1.x source it was written from; the code is our own.
"""

from __future__ import annotations

from typing import Any

import pytest

import outfitter as of
from outfitter.exceptions import ConfigError, DefinitionError


class Db(of.ConfigurableResource):
    url: str


class Recording(of.IOManager):
    """Keeps outputs by step key and records which step stored what."""

    def __init__(self) -> None:
        self.values: dict[str, Any] = {}

    def handle_output(self, context: of.OutputContext, obj: Any) -> None:
        self.values[context.step_key] = obj

    def load_input(self, context: of.InputContext) -> Any:
        assert context.upstream_output is not None
        return self.values[context.upstream_output.step_key]


@of.op
def one() -> int:
    return 1


@of.op
def add_one(x: int) -> int:
    return x + 1


class Limit(of.Config):
    n: int


@of.op
def limited(config: Limit) -> int:
    return config.n


class Simplified(of.Config):
    base: int


# -- empty jobs ------------------------------------------------------------------------------------


def test_empty_job_is_a_valid_placeholder_that_runs_no_step() -> None:
    """A job body calling no op is valid and its run succeeds with no step.

    Dagster: decorators/job_decorator.py builds the graph from do_composition, which accepts
    an empty body; the empty graph's job executes successfully.
    """

    @of.job
    def placeholder() -> None: ...

    @of.job(name="later")
    def also_placeholder() -> None:
        pass

    assert placeholder.nodes == []
    assert also_placeholder.nodes == []
    result = placeholder.execute_in_process()
    assert result.success
    assert also_placeholder.execute_in_process().success


def test_empty_graph_is_valid_and_adds_nothing_to_a_job() -> None:
    """An empty @graph composes into a job without adding steps."""

    @of.graph
    def nothing() -> None: ...

    @of.job
    def with_nothing() -> None:
        nothing()
        one()

    assert [n.key for n in with_nothing.nodes] == ["one"]


# -- @job(config=...) ------------------------------------------------------------------------------


def test_job_config_dict_is_the_default_run_config() -> None:
    """``@job(config={...})`` is the run config of every launch (Dagster's test_job_config in
    dagster_tests/.../decorators_tests/test_job.py; job_decorator.py ``config``)."""

    @of.job(config={"ops": {"limited": {"config": {"n": 3}}}})
    def configured_job() -> None:
        limited()

    assert configured_job.execute_in_process().output_for_node("limited") == 3


def test_job_config_runconfig_is_the_default_and_a_given_section_replaces_it() -> None:
    """A RunConfig works as well; a launch that gives ``ops`` replaces the default's ``ops``.

    Dagster: job_definition.py ``_config_mapping_with_default_value`` turns each top-level
    key of the default config into the default value of that top-level field, so a section
    given at launch replaces the default's section.
    """

    @of.job(config=of.RunConfig(ops={"limited": Limit(n=3)}))
    def configured_job() -> None:
        limited()

    assert configured_job.execute_in_process().output_for_node("limited") == 3
    given = {"ops": {"limited": {"config": {"n": 7}}}}
    assert configured_job.execute_in_process(run_config=given).output_for_node("limited") == 7
    replaced = of.RunConfig(ops={"limited": Limit(n=9)})
    assert configured_job.execute_in_process(run_config=replaced).output_for_node("limited") == 9


def test_job_default_config_keeps_sections_the_launch_does_not_give() -> None:
    """The default's ``resources`` stays when a launch only gives ``ops``."""

    @of.op
    def url_and_n(db: Db, config: Limit) -> str:
        return f"{db.url}:{config.n}"

    @of.job(
        resource_defs={"db": Db.configure_at_launch()},
        config={
            "resources": {"db": {"config": {"url": "sqlite://"}}},
            "ops": {"url_and_n": {"config": {"n": 1}}},
        },
    )
    def both() -> None:
        url_and_n()

    result = both.execute_in_process(run_config={"ops": {"url_and_n": {"config": {"n": 2}}}})
    assert result.output_for_node("url_and_n") == "sqlite://:2"


def test_invalid_default_job_config_is_reported_when_the_job_is_defined() -> None:
    """Dagster validates a job's default config when it builds the job
    (job_definition.py: "Error in config when building job"); ours names the job, the step
    and the field, and every problem at once."""
    with pytest.raises(ConfigError) as caught:

        @of.job(config={"ops": {"limited": {"config": {"n": "many"}}, "limted": {}}})
        def broken() -> None:
            limited()

    text = str(caught.value)
    assert text.startswith("job 'broken': 2 problem(s) in its default run config (config=...)")
    assert "run config for step 'limted', which is not part of this run. Did you mean " in text
    assert "step 'limited', config field 'n': Input should be a valid integer" in text
    assert "Hint: fix the config given to @job(config=...)" in text


def test_job_config_of_the_wrong_type_is_a_definition_error() -> None:
    """``config=`` takes a dict, a RunConfig or a ConfigMapping."""
    with pytest.raises(DefinitionError, match=r"job 'odd': config= takes a dict, a RunConfig"):

        @of.job(config=["ops"])  # type: ignore[arg-type]
        def odd() -> None:
            one()


def test_config_mapping_maps_the_launch_config_to_the_run_config() -> None:
    """Dagster's test_job_config_mapping (test_job.py): the launch gives the mapping's config,
    ``config_fn`` returns the job's run config (dagster/_core/definitions/config.py)."""

    def to_run_config(outer: dict[str, Any]) -> dict[str, Any]:
        return {"ops": {"limited": {"config": {"n": outer["n"] * 2}}}}

    mapping = of.ConfigMapping(config_fn=to_run_config, config_schema={"n": int})

    @of.job(config=mapping)
    def mapped() -> None:
        limited()

    assert mapped.execute_in_process(run_config={"n": 4}).output_for_node("limited") == 8


def test_config_mapping_with_a_config_class_passes_the_model() -> None:
    """A mapping function annotated with a Config class receives the validated model and may
    return a RunConfig (Dagster's Config-typed config mappings)."""

    def to_run_config(val: Simplified) -> of.RunConfig:
        return of.RunConfig(ops={"limited": Limit(n=val.base + 1)})

    @of.job(config=of.ConfigMapping(config_fn=to_run_config))
    def mapped() -> None:
        limited()

    assert mapped.execute_in_process(run_config={"base": 1}).output_for_node("limited") == 2


def test_config_mapping_reports_every_invalid_field() -> None:
    """Missing and unknown fields of the mapping's schema are config errors naming the job."""
    mapping = of.ConfigMapping(
        config_fn=lambda outer: {"ops": {"limited": {"config": {"n": outer["n"]}}}},
        config_schema={"n": int},
    )

    @of.job(config=mapping)
    def mapped() -> None:
        limited()

    with pytest.raises(ConfigError) as caught:
        mapped.execute_in_process(run_config={"m": 4})
    text = str(caught.value)
    assert text.startswith("job 'mapped': 2 problem(s) in the run config its ConfigMapping takes")
    assert "config field 'n': Field required" in text
    assert "config field 'm': Extra inputs are not permitted" in text
    assert "Hint: the ConfigMapping's fields are ['n']." in text


def test_config_mapping_rejects_a_runconfig_launch_and_a_bad_schema() -> None:
    """A mapped job takes the mapping's config (a dict), and a schema must be a Config class or
    a dict of types."""
    mapping = of.ConfigMapping(config_fn=lambda outer: {}, config_schema={"n": int})

    @of.job(config=mapping)
    def mapped() -> None:
        one()

    with pytest.raises(ConfigError, match=r"job 'mapped' maps its run config with a Config"):
        mapped.execute_in_process(run_config=of.RunConfig())
    with pytest.raises(DefinitionError, match=r"config_schema=...\) takes a Config class"):
        of.ConfigMapping(config_fn=lambda outer: {}, config_schema=42)
    with pytest.raises(DefinitionError, match=r"ConfigMapping\(config_fn=...\) takes a function"):
        of.ConfigMapping(config_fn=42)  # type: ignore[arg-type]


# -- graphs ----------------------------------------------------------------------------------------


@of.graph
def plus_one() -> None:
    add_one(one())


def test_graph_execute_in_process_runs_the_graph_as_a_job() -> None:
    """Dagster: graph_definition.py ``GraphDefinition.execute_in_process`` builds an ephemeral
    ``JobDefinition(graph_def=self, resource_defs=resources)`` and runs it; the graph's ops keep
    their own names."""
    result = plus_one.execute_in_process()
    assert result.success
    assert result.output_for_node("add_one") == 2


def test_graph_execute_in_process_takes_resources_and_run_config() -> None:
    """``resources=`` and ``run_config=`` reach the graph's ops."""

    @of.op
    def url(db: Db, config: Limit) -> str:
        return f"{db.url}/{config.n}"

    @of.graph
    def reads() -> None:
        url()

    result = reads.execute_in_process(
        run_config={"ops": {"url": {"config": {"n": 5}}}}, resources={"db": Db(url="pg://")}
    )
    assert result.output_for_node("url") == "pg:///5"


def test_graph_to_job_names_ops_as_the_graph_does_and_takes_job_options() -> None:
    """``to_job`` (graph_definition.py): the graph is the job's top level; name, resources,
    default config and tags are the job's."""

    @of.op
    def needs_db(db: Db, config: Limit) -> str:
        return f"{db.url}:{config.n}"

    @of.graph
    def g() -> None:
        needs_db()

    job_def = g.to_job(
        name="g_job",
        resource_defs={"db": Db(url="u")},
        config={"ops": {"needs_db": {"config": {"n": 2}}}},
        tags={"team": "data"},
    )
    assert job_def.name == "g_job"
    assert job_def.tags == {"team": "data"}
    assert [n.key for n in job_def.nodes] == ["needs_db"]
    assert job_def.execute_in_process().output_for_node("needs_db") == "u:2"


def test_graph_inside_a_job_prefixes_its_ops() -> None:
    """Inside a job, a graph's ops are named ``<graph>.<op>`` (Dagster's node handles)."""

    @of.job
    def outer() -> None:
        plus_one()

    assert [n.key for n in outer.nodes] == ["plus_one.one", "plus_one.add_one"]
    assert outer.execute_in_process().output_for_node("plus_one.add_one") == 2


def test_graph_called_outside_a_job_body_says_how_to_run_it() -> None:
    """Calling a graph outside a job body points to to_job / execute_in_process."""
    with pytest.raises(DefinitionError) as caught:
        plus_one()
    assert "graph 'plus_one' was called outside a job body" in str(caught.value)
    assert "graph.execute_in_process()" in str(caught.value)


# -- definition-time checks ------------------------------------------------------------------------


def test_resource_dependency_cycle_in_job_resource_defs_is_reported_at_definition() -> None:
    """A cycle among a job's resource_defs fails when the job is defined, not at its first run
    (issue 14; Dagster resolves a job's resource dependencies when the JobDefinition is
    built)."""

    @of.resource(required_resource_keys={"b"})
    def a(_context: Any) -> int:
        return 1

    @of.resource(required_resource_keys={"a"})
    def b(_context: Any) -> int:
        return 2

    with pytest.raises(DefinitionError) as caught:

        @of.job(resource_defs={"a": a, "b": b})
        def cyclic() -> None:
            one()

    text = str(caught.value)
    assert text.startswith("job 'cyclic': its resource_defs depend on each other in a cycle")
    assert "resource dependency cycle: 'a' -> 'b' -> 'a'" in text
    assert "Hint: a resource cannot (directly or indirectly) depend on itself" in text


def test_job_resource_defs_may_leave_dependencies_to_definitions() -> None:
    """A job resource needing a key that Definitions binds later is not a definition error of
    the job (only cycles are checked there)."""

    @of.resource(required_resource_keys={"base"})
    def derived(context: Any) -> str:
        return f"{context.resources.base}+"

    @of.op(required_resource_keys={"derived"})
    def read(context: Any) -> str:
        return str(context.resources.derived)

    @of.job(resource_defs={"derived": derived})
    def partial() -> None:
        read()

    defs = of.Definitions(
        jobs=[partial], resources={"base": of.ResourceDefinition.hardcoded_resource("b")}
    )
    assert defs.get_job_def("partial").execute_in_process().output_for_node("read") == "b+"


# -- with_resources --------------------------------------------------------------------------------


def test_with_resources_reports_missing_resource_keys_at_call_time() -> None:
    """Dagster's test_asset_def_partial_application (asset_defs_tests/test_with_resources.py):
    "resource with key 'bar' required by op 'the_asset' was not provided", raised by
    ``AssetsDefinition.with_resources`` (dagster/_core/definitions/assets.py,
    ensure_requirements_satisfied) when with_resources is called."""

    @of.asset(required_resource_keys={"foo", "bar"})
    def the_asset(context: Any) -> None:
        return None

    with pytest.raises(DefinitionError) as caught:
        of.with_resources([the_asset], {"foo": of.ResourceDefinition.hardcoded_resource("f")})
    text = str(caught.value)
    assert "asset 'the_asset' requires resource 'bar', which with_resources does not bind" in text
    assert "Hint: bind every resource the assets ask for in resource_defs (keys: foo)" in text


def test_with_resources_missing_key_suggests_a_close_name() -> None:
    """A misspelt key gets a did-you-mean."""

    @of.asset
    def reads(db: Db) -> str:
        return db.url

    with pytest.raises(DefinitionError, match=r"does not bind\. Did you mean 'dbb'\?"):
        of.with_resources([reads], {"dbb": Db(url="x")})


def test_with_resources_ignores_config_for_keys_it_does_not_bind() -> None:
    """dagster/_core/execution/with_resources.py loops over resource_defs and configures only
    keys it binds; other keys of resource_config_by_key are ignored."""

    @of.asset
    def reads(db: Db) -> str:
        return db.url

    [bound] = of.with_resources(
        [reads], {"db": Db(url="a")}, {"db": {"config": {"url": "b"}}, "elsewhere": {"x": 1}}
    )
    assert of.materialize([bound]).asset_value("reads") == "b"


def test_with_resources_validates_config_values_at_call_time() -> None:
    """with_resources.py validates each resource's config when called (raising
    DagsterInvalidConfigError); ours is a ConfigError listing every problem with its key."""

    @of.asset(required_resource_keys={"db", "counter", "later"})
    def uses(context: Any) -> None:
        return None

    counter = of.ResourceDefinition(lambda c: c.resource_config, config_schema={"n": int})
    with pytest.raises(ConfigError) as caught:
        of.with_resources(
            [uses],
            {"db": Db(url="a"), "counter": counter, "later": Db.configure_at_launch()},
            {
                "db": {"config": {"url": 3}},
                "counter": {"config": {"n": "x"}},
                "later": {"config": {"port": 1}},
            },
        )
    text = str(caught.value)
    assert text.startswith("with_resources: 3 problem(s) in resource_config_by_key")
    assert "resource 'db': " in text
    assert "'url'" in text
    assert "resource 'counter', field 'n': Input should be a valid integer" in text
    assert "resource 'later', field 'port': Db has no such field." in text


def test_with_resources_accepts_env_vars_resolved_at_launch(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """An EnvVar in resource_config_by_key is not checked at the call but at launch."""
    monkeypatch.setenv("WITH_RESOURCES_N", "4")

    @of.asset(required_resource_keys={"counter"})
    def count(context: Any) -> Any:
        return context.resources.counter

    counter = of.ResourceDefinition(lambda c: c.resource_config, config_schema={"n": int})
    [bound] = of.with_resources(
        [count], {"counter": counter}, {"counter": {"config": {"n": of.EnvVar("WITH_RESOURCES_N")}}}
    )
    assert of.materialize([bound]).asset_value("count") == {"n": 4}


def test_with_resources_rejects_rebinding_an_assets_own_resource() -> None:
    """Dagster's AssetsDefinition.with_resources raises on "conflicting resource definitions
    with provided resources" for keys the asset already has (assets.py)."""

    @of.asset(resource_defs={"db": Db(url="own")})
    def reads(db: Db) -> str:
        return db.url

    with pytest.raises(DefinitionError) as caught:
        of.with_resources([reads], {"db": Db(url="other")})
    assert (
        "asset 'reads' already has its own resource 'db'; with_resources binds another one at "
        "that key" in str(caught.value)
    )


# -- asset-level resources and I/O managers --------------------------------------------------------


def test_asset_resource_defs_are_the_assets_own_resources() -> None:
    """``@asset(resource_defs=...)`` (decorators/asset_decorator.py): the asset brings its
    resources to a run."""

    @of.asset(resource_defs={"db": Db(url="own")})
    def reads(db: Db) -> str:
        return db.url

    assert of.materialize([reads]).asset_value("reads") == "own"
    assert of.Definitions(assets=[reads]).get_implicit_global_asset_job_def() is not None


def test_asset_io_manager_def_is_bound_under_the_asset_key_and_used() -> None:
    """asset_decorator.py: an io_manager_def without io_manager_key is bound at
    ``AssetKey.to_python_identifier("io_manager")`` and stores the asset's output."""
    storage = Recording()

    @of.asset(key_prefix="raw", io_manager_def=of.ResourceDefinition.hardcoded_resource(storage))
    def numbers() -> list[int]:
        return [1, 2]

    assert numbers.io_manager_key == "raw__numbers__io_manager"
    assert set(numbers.resource_defs) == {"raw__numbers__io_manager"}
    assert of.materialize([numbers]).success
    assert storage.values == {"raw__numbers": [1, 2]}


def test_asset_io_manager_def_with_an_explicit_key() -> None:
    """With an io_manager_key the definition is bound at that key."""
    storage = Recording()

    @of.asset(
        io_manager_key="store", io_manager_def=of.ResourceDefinition.hardcoded_resource(storage)
    )
    def value() -> int:
        return 3

    assert value.io_manager_key == "store"
    of.materialize([value])
    assert storage.values == {"value": 3}


def test_asset_io_manager_def_conflicting_with_resource_defs_is_an_error() -> None:
    """asset_decorator.py: "Provided conflicting definitions for io manager key"."""
    with pytest.raises(DefinitionError) as caught:

        @of.asset(
            io_manager_key="store",
            io_manager_def=of.ResourceDefinition.hardcoded_resource(Recording()),
            resource_defs={"store": of.ResourceDefinition.hardcoded_resource(Recording())},
        )
        def value() -> int:
            return 3

    assert (
        "asset 'value': io_manager_def and resource_defs both bind the I/O manager key 'store'"
        in str(caught.value)
    )


def test_the_steps_io_manager_is_reachable_from_its_context() -> None:
    """An output's io_manager_key is a required resource of its op in Dagster
    (op_definition.py resource requirements), so ``context.resources.io_manager`` works in
    assets and ops."""
    storage = Recording()
    io = of.ResourceDefinition.hardcoded_resource(storage)
    seen: dict[str, Any] = {}

    @of.asset
    def an_asset(context: Any) -> int:
        seen["asset"] = context.resources.io_manager
        return 1

    @of.op
    def an_op(context: Any) -> int:
        seen["op"] = context.resources.io_manager
        return 1

    @of.job(resource_defs={"io_manager": io})
    def a_job() -> None:
        an_op()

    of.materialize([an_asset], resources={"io_manager": io})
    a_job.execute_in_process()
    assert seen == {"asset": storage, "op": storage}


# -- per-output / per-input I/O manager config ---------------------------------------------------


def test_io_configs_reads_outputs_and_inputs_sections() -> None:
    """Dagster's run config ``ops: {my_op: {outputs: {result: {...}}}}`` (and ``inputs``) is
    I/O manager config (dagster/_core/execution/context/output.py ``OutputContext.config``);
    ``io_configs`` collects it per step, section and name."""
    from outfitter._resources.io_manager import io_configs

    run_config = {
        "ops": {
            "clean": {"config": {"n": 1}, "outputs": {"result": {"fmt": "csv"}}},
            "load": {"inputs": {"rows": {"path": "x"}}},
        }
    }
    assert io_configs(run_config) == {
        ("clean", "outputs", "result"): {"fmt": "csv"},
        ("load", "inputs", "rows"): {"path": "x"},
    }
    assert io_configs(of.RunConfig()) == {}
    assert io_configs(None) == {}


def test_an_ops_entry_with_only_io_sections_is_not_read_as_op_config() -> None:
    """``ops.<op>`` holding only ``outputs``/``inputs`` is not op config: the op's missing
    config is reported as missing, not as an unknown field ``outputs``."""

    @of.job
    def j() -> None:
        limited()

    with pytest.raises(ConfigError) as caught:
        j.execute_in_process(run_config={"ops": {"limited": {"outputs": {"result": {}}}}})
    text = str(caught.value)
    assert "step 'limited', config field 'n': Field required" in text
    assert "outputs" not in text.split("Hint:")[0]
    result = j.execute_in_process(
        run_config={"ops": {"limited": {"config": {"n": 2}, "outputs": {"result": {}}}}}
    )
    assert result.output_for_node("limited") == 2
