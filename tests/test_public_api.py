"""The public surface: exactly the names of the contract, each documented."""

from __future__ import annotations

import inspect

import pytest

import outfitter
from outfitter import exceptions

PUBLIC = [
    "AssetExecutionContext",
    "AssetIn",
    "AssetKey",
    "Cancelled",
    "Config",
    "ConfigurableIOManager",
    "ConfigurableIOManagerFactory",
    "ConfigurableResource",
    "ConfigurableResourceFactory",
    "Definitions",
    "EnvVar",
    "ExecuteResult",
    "Failed",
    "FilesystemIOManager",
    "Flow",
    "IOManager",
    "InMemoryIOManager",
    "InitResourceContext",
    "InputContext",
    "Instance",
    "Mapped",
    "OpExecutionContext",
    "OutputContext",
    "Parameter",
    "PartialResource",
    "Pending",
    "ResourceContainer",
    "ResourceDefinition",
    "ResourceDependency",
    "ResourceManager",
    "ResourceParam",
    "Retrying",
    "RunConfig",
    "RunRequest",
    "Running",
    "ScheduleEvaluationContext",
    "SensorEvaluationContext",
    "SkipReason",
    "Skipped",
    "State",
    "Success",
    "Task",
    "TriggerFailed",
    "asset",
    "build_asset_context",
    "build_init_resource_context",
    "build_op_context",
    "build_resources",
    "build_schedule_context",
    "build_sensor_context",
    "containers_by_env",
    "define_asset_job",
    "graph",
    "in_process_executor",
    "job",
    "materialize",
    "materialize_to_memory",
    "op",
    "resource",
    "resource_manager",
    "schedule",
    "sensor",
    "signals",
    "task",
    "triggers",
    "unmapped",
    "with_resources",
]


def test_all_is_exactly_the_public_names() -> None:
    """outfitter.__all__ is pinned."""
    assert sorted(outfitter.__all__) == sorted(PUBLIC)


@pytest.mark.parametrize("name", PUBLIC)
def test_public_names_are_documented(name: str) -> None:
    """Every public name has a docstring with an example (type aliases excepted)."""
    obj = getattr(outfitter, name)
    if name in {"ResourceParam", "ResourceDependency"}:
        return
    if name == "in_process_executor":
        obj = type(obj)
    doc = inspect.getdoc(obj) or ""
    assert "Example" in doc, name


def test_every_error_is_an_outfitter_error_and_ends_with_its_hint() -> None:
    """The hierarchy has one base; a hint is the message's last line."""
    for name in exceptions.__all__:
        assert issubclass(getattr(exceptions, name), exceptions.OutfitterError)
    err = exceptions.ConfigError("bad", hint="do this", problems=["one", "two"])
    assert str(err).splitlines() == ["bad", "  - one", "  - two", "Hint: do this"]
