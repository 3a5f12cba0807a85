"""``@io_manager`` / ``IOManagerDefinition``: function-based I/O managers whose per-output and
per-input config (``ops.<step>.outputs.<name>`` / ``ops.<step>.inputs.<name>``) is validated
against ``output_config_schema`` / ``input_config_schema`` when the run is launched.

Dagster: python_modules/dagster/dagster/_core/storage/io_manager.py (``io_manager`` takes
``config_schema``, ``output_config_schema``, ``input_config_schema``; ``IOManagerDefinition``
holds them) and _core/execution/context/output.py / input.py (``context.config`` is the
validated config of the output / input).
"""

from __future__ import annotations

from typing import Any

import pytest

import outfitter as of
from outfitter.exceptions import ConfigError

SEEN: list[tuple[str, Any]] = []
STORE: dict[str, Any] = {}


class Recording(of.IOManager):
    """Keeps values in STORE and what each context's config was in SEEN."""

    def __init__(self, tag: str = "") -> None:
        self.tag = tag

    def handle_output(self, context: of.OutputContext, obj: Any) -> None:
        SEEN.append((f"out {context.step_key}", context.config))
        STORE[context.step_key] = obj

    def load_input(self, context: of.InputContext) -> Any:
        SEEN.append((f"in {context.step_key}", context.config))
        assert context.upstream_output is not None
        return STORE[context.upstream_output.step_key]


@of.io_manager(
    config_schema={"tag": (str, "t")},
    output_config_schema={"fmt": (str, "csv"), "compress": (bool, False)},
    input_config_schema={"columns": list[str]},
)
def recording(context: of.InitResourceContext) -> Recording:
    return Recording(context.resource_config["tag"])


@of.asset
def first() -> int:
    return 1


@of.asset
def second(first: int) -> int:
    return first + 1


def _run(run_config: Any = None, manager: Any = recording) -> of.ExecuteResult:
    SEEN.clear()
    return of.materialize([first, second], resources={"io_manager": manager}, run_config=run_config)


def test_output_config_is_validated_and_defaults_reach_the_io_manager() -> None:
    """Output config given for one step is coerced and completed by the schema; a step given
    none still gets the schema's defaults (Dagster fills in field defaults)."""
    run_config = {
        "ops": {
            "first": {"outputs": {"result": {"compress": "yes"}}},
            "second": {"inputs": {"first": {"columns": ["a"]}}},
        }
    }
    assert _run(run_config).asset_value("second") == 2
    assert ("out first", {"fmt": "csv", "compress": True}) in SEEN
    assert ("out second", {"fmt": "csv", "compress": False}) in SEEN
    assert ("in second", {"columns": ["a"]}) in SEEN


def test_every_bad_io_config_is_reported_at_once_with_its_path() -> None:
    """A wrong type in output config, a wrong type in input config, an output and an input the
    step does not have: all four in one error, before anything runs."""
    run_config = {
        "ops": {
            "first": {"outputs": {"result": {"compress": "maybe"}, "resutl": {}}},
            "second": {"inputs": {"first": {"columns": 3}, "frist": {}}},
        }
    }
    with pytest.raises(ConfigError) as info:
        _run(run_config)
    text = str(info.value)
    assert "step 'first', output 'result', field 'compress': Input should be a valid boolean" in (
        text
    )
    assert "step 'second', input 'first', field 'columns': Input should be a valid list" in text
    assert (
        "step 'first', output 'resutl': asset 'first' has no output 'resutl' (its outputs: "
        "'result'). Did you mean 'result'?"
    ) in text
    assert (
        "step 'second', input 'frist': asset 'second' has no input 'frist' (its inputs: "
        "'first'). Did you mean 'first'?"
    ) in text
    assert SEEN == []


def test_problems_have_paths_into_the_run_config() -> None:
    """validate_run_config makes the same check, each problem with its dotted path (what the
    UI's launchpad and `outfitter config validate` point at)."""
    defs = of.Definitions(assets=[first, second], resources={"io_manager": recording})
    problems = of.validate_run_config(
        defs, {"ops": {"first": {"outputs": {"result": {"compress": "maybe"}}}}}
    )
    assert [p.path for p in problems] == ["ops.first.outputs.result.compress"]


def test_required_output_config_missing_names_the_step_and_the_io_manager() -> None:
    """A schema with a required field makes output config required for every output the I/O
    manager stores (Dagster: a required field makes its parent section required)."""

    @of.io_manager(output_config_schema={"table": str})
    def tables(_: Any) -> Recording:
        return Recording()

    with pytest.raises(ConfigError) as info:
        _run(manager=tables)
    text = str(info.value)
    assert (
        "step 'first', output 'result': I/O manager 'io_manager' needs output config for: table"
        in text
    )
    assert "step 'second', output 'result'" in text
    given = {"ops": {s: {"outputs": {"result": {"table": s}}} for s in ("first", "second")}}
    assert _run(given, manager=tables).success
    assert ("out first", {"table": "first"}) in SEEN


def test_io_config_for_a_step_not_in_the_run_is_reported() -> None:
    """An ``ops`` entry holding only I/O sections is still checked against the run's steps."""
    with pytest.raises(ConfigError, match=r"run config for step 'thrid', which is not part"):
        _run({"ops": {"thrid": {"outputs": {"result": {}}}}})
    with pytest.raises(ConfigError) as info:  # named once, whatever sections it has
        _run({"ops": {"thrid": {"config": {}, "outputs": {"result": {}}, "inputs": {"x": {}}}}})
    assert len(info.value.problems) == 1


def test_without_schemas_io_config_passes_through_unchanged() -> None:
    """An @io_manager without output/input schemas hands the config over as given (and none
    when none is given), like a ConfigurableIOManager."""

    @of.io_manager
    def plain(_: Any) -> Recording:
        return Recording()

    run_config = {"ops": {"first": {"outputs": {"result": {"anything": [1, 2]}}}}}
    assert _run(run_config, manager=plain).success
    assert ("out first", {"anything": [1, 2]}) in SEEN
    assert ("out second", None) in SEEN


def test_an_io_manager_definition_is_a_resource_definition() -> None:
    """Its resource config, direct invocation and configured() are a resource's."""
    assert isinstance(recording, of.ResourceDefinition)
    assert recording(of.build_init_resource_context(config={"tag": "x"})).tag == "x"
    tagged = recording.configured({"tag": "y"})
    assert isinstance(tagged, of.IOManagerDefinition)
    assert tagged.output_config_schema == recording.output_config_schema
    assert recording.input_config_schema == {"columns": list[str]}


def test_flow_tasks_have_no_io_manager_for_io_config() -> None:
    """I/O config for a step whose values are handed over in memory (a flow's task) says so."""
    with of.Flow("f") as flow:

        @of.task
        def one() -> int:
            return 1

        one()
    with pytest.raises(ConfigError, match="has no I/O manager to read this config"):
        flow.run(run_config={"ops": {"one-1": {"outputs": {"result": {}}}}})


def test_each_declared_output_is_checked_against_its_own_io_manager() -> None:
    """An op with two outputs, the second stored by an @io_manager whose output schema requires
    a field: only that output needs config, named by output and I/O manager key; given, it
    reaches that manager (and the first output's manager gets none)."""

    @of.io_manager(output_config_schema={"table": str})
    def tables(_: Any) -> Recording:
        return Recording()

    @of.op(out={"plain": of.Out(), "stored": of.Out(io_manager_key="tables")})
    def split() -> tuple[int, int]:
        return 1, 2

    @of.job(resource_defs={"io_manager": Recording(), "tables": tables})
    def both() -> None:
        split()

    with pytest.raises(ConfigError) as info:
        both.execute_in_process()
    text = str(info.value)
    assert "1 problem(s)" in text
    assert (
        "step 'split', output 'stored': I/O manager 'tables' needs output config for: table"
    ) in text
    SEEN.clear()
    given = {"ops": {"split": {"outputs": {"stored": {"table": "t"}}}}}
    assert both.execute_in_process(run_config=given).success
    assert ("out split", {"table": "t"}) in SEEN
    assert ("out split", None) in SEEN
