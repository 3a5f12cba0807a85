"""Inputs from this run are loaded through the upstream's I/O manager, in process too, as in
Dagster; only the in-memory I/O manager hands values over as they are.

Dagster 1.13: dagster/_core/execution/plan/inputs.py — ``FromStepOutput`` loads an input
through the I/O manager of the upstream *output's* handle (its ``io_manager_key``), calling
``load_input`` with an ``InputContext`` whose ``upstream_output`` is that output; the in-memory
I/O manager (dagster/_core/storage/mem_io_manager.py) keeps values in a dict.
"""

from __future__ import annotations

from typing import Any

import pytest

import outfitter as of


class Tagging(of.ConfigurableIOManager):
    """Stores ``obj`` and, on load, returns it tagged with this manager's name (a manager that
    converts on load, as a DataFrame-reading one does)."""

    name: str

    def handle_output(self, context: Any, obj: Any) -> None:
        _STORE[(self.name, context.step_key)] = obj

    def load_input(self, context: Any) -> Any:
        _LOADS.append((self.name, context.step_key, context.upstream_output.step_key))
        return (self.name, _STORE[(self.name, context.upstream_output.step_key)])


_STORE: dict[tuple[str, str], Any] = {}
_LOADS: list[tuple[str, str, str]] = []


@pytest.fixture(autouse=True)
def _clean() -> None:
    _STORE.clear()
    _LOADS.clear()


@of.asset(io_manager_key="first")
def up() -> int:
    return 1


@of.asset(io_manager_key="second")
def down(up: Any) -> Any:
    return up


def test_an_input_is_loaded_through_the_upstream_s_io_manager_within_one_run() -> None:
    defs = of.Definitions(
        assets=[up, down],
        resources={"first": Tagging(name="first"), "second": Tagging(name="second")},
    )
    result = defs.get_implicit_global_asset_job_def().execute_in_process()
    # `down` received what `up`'s manager ("first") loaded, not `up`'s return value
    assert result.output_for_node("down") == ("first", 1)
    assert _LOADS == [("first", "down", "up")]


def test_the_in_memory_io_manager_hands_the_value_over_without_loading() -> None:
    made: list[object] = []

    @of.asset
    def thing() -> object:
        made.append(object())
        return made[0]

    @of.asset
    def same(thing: object) -> bool:
        return thing is made[0]

    result = of.materialize_to_memory([thing, same])
    assert result.asset_value("same") is True


def test_on_workers_inputs_load_through_the_upstream_s_io_manager_too(tmp_path: Any) -> None:
    """The multiprocess executor loads every input; through the upstream's manager."""
    a = of.FilesystemIOManager(base_dir=str(tmp_path / "a"))
    b = of.FilesystemIOManager(base_dir=str(tmp_path / "b"))

    @of.asset(io_manager_key="a_io")
    def source() -> int:
        return 41

    @of.asset(io_manager_key="b_io")
    def plus_one(source: int) -> int:
        return source + 1

    defs = of.Definitions(
        assets=[source, plus_one],
        resources={"a_io": a, "b_io": b},
        executor=of.multiprocess_executor(max_concurrent=1),
    )
    with of.Instance.ephemeral() as instance:
        result = defs.get_implicit_global_asset_job_def().execute(instance=instance)
    assert result.success
    assert result.asset_value("plus_one") == 42
    assert (tmp_path / "a" / "source").exists()
    assert not (tmp_path / "b" / "source").exists()


def test_output_and_input_config_reach_the_io_manager_as_context_config() -> None:
    """``ops.<op>.outputs.result`` / ``ops.<op>.inputs.<name>`` in run config are the I/O
    manager's ``context.config`` (dagster/_core/execution/context/output.py ``config``: "the
    configuration for the output"; input.py: "the config attached to the input"), not the op's
    config."""
    seen: list[tuple[str, Any]] = []

    class Recording(of.ConfigurableIOManager):
        def handle_output(self, context: Any, obj: Any) -> None:
            seen.append(("out " + context.step_key, context.config))
            _STORE[("rec", context.step_key)] = obj

        def load_input(self, context: Any) -> Any:
            seen.append(("in " + context.step_key, context.config))
            return _STORE[("rec", context.upstream_output.step_key)]

    @of.asset
    def first() -> int:
        return 1

    @of.asset
    def second(first: int) -> int:
        return first + 1

    defs = of.Definitions(assets=[first, second], resources={"io_manager": Recording()})
    run_config = {
        "ops": {
            "first": {"outputs": {"result": {"format": "csv"}}},
            "second": {"inputs": {"first": {"columns": ["a"]}}},
        }
    }
    result = defs.get_implicit_global_asset_job_def().execute_in_process(run_config=run_config)
    assert result.output_for_node("second") == 2
    assert ("out first", {"format": "csv"}) in seen
    assert ("in second", {"columns": ["a"]}) in seen
    assert ("out second", None) in seen
