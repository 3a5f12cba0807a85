"""The public surface: exactly the pinned names, each importable and documented, and the error
hierarchy of outfitter.exceptions."""

from __future__ import annotations

import importlib
import inspect
import typing

import pytest

import outfitter
from outfitter import exceptions

PUBLIC = [
    "AssetExecutionContext",
    "AssetIn",
    "AssetKey",
    "AssetOut",
    "AssetSelection",
    "AssetSensorDefinition",
    "AssetsDefinition",
    "Backoff",
    "Cancelled",
    "Config",
    "ConfigMapping",
    "ConfigProblem",
    "ConfigurableIOManager",
    "ConfigurableIOManagerFactory",
    "ConfigurableResource",
    "ConfigurableResourceFactory",
    "DagsterInstance",
    "DagsterRunStatus",
    "DefaultScheduleStatus",
    "DefaultSensorStatus",
    "Definitions",
    "EnvVar",
    "EventLogEntry",
    "EventType",
    "ExecuteResult",
    "Failed",
    "FilesystemIOManager",
    "Flow",
    "IOManager",
    "IOManagerDefinition",
    "In",
    "InMemoryIOManager",
    "InitResourceContext",
    "InputContext",
    "InputManager",
    "InputManagerDefinition",
    "Instance",
    "Jitter",
    "Mapped",
    "MaterializeResult",
    "MultiAssetSensorDefinition",
    "MultiAssetSensorEvaluationContext",
    "OpExecutionContext",
    "Out",
    "Output",
    "OutputContext",
    "Parameter",
    "PartialResource",
    "Paused",
    "Pending",
    "ResourceContainer",
    "ResourceDefinition",
    "ResourceDependency",
    "ResourceManager",
    "ResourceParam",
    "Resume",
    "RetryPolicy",
    "RetryRequested",
    "Retrying",
    "RunConfig",
    "RunFailureSensorContext",
    "RunRequest",
    "RunStatus",
    "RunStatusSensorContext",
    "RunStatusSensorDefinition",
    "Running",
    "ScheduleDefinition",
    "ScheduleEvaluationContext",
    "SensorDefinition",
    "SensorEvaluationContext",
    "SkipReason",
    "Skipped",
    "State",
    "Success",
    "Task",
    "TimedOut",
    "TriggerFailed",
    "apply_map",
    "asset",
    "asset_sensor",
    "build_asset_context",
    "build_init_resource_context",
    "build_multi_asset_sensor_context",
    "build_op_context",
    "build_resources",
    "build_run_status_sensor_context",
    "build_schedule_context",
    "build_sensor_context",
    "case",
    "configured",
    "containers_by_env",
    "context",
    "dask_executor",
    "define_asset_job",
    "definitions",
    "get_logger",
    "graph",
    "ifelse",
    "in_process_executor",
    "input_manager",
    "io_manager",
    "job",
    "materialize",
    "materialize_to_memory",
    "merge",
    "multi_asset",
    "multi_asset_sensor",
    "multiprocess_executor",
    "op",
    "resource",
    "resource_manager",
    "run_config_yaml",
    "run_failure_sensor",
    "run_status_sensor",
    "scaffold_run_config",
    "schedule",
    "sensor",
    "signals",
    "switch",
    "task",
    "triggers",
    "unmapped",
    "validate_run_config",
    "with_resources",
]

ALIASES = {"ResourceParam", "ResourceDependency"}  # typing aliases: no runtime docstring

ERRORS = [
    "ConfigError",
    "DefinitionAttributeError",
    "DefinitionError",
    "DefinitionTypeError",
    "DefinitionValueError",
    "InvocationError",
    "InvocationRuntimeError",
    "InvocationTypeError",
    "MissingResourceAttributeError",
    "MissingResourceError",
    "MissingResourceKeyError",
    "OutfitterError",
    "ResourceInitError",
    "TaskTimeoutError",
    "TeardownError",
]


def test_all_is_exactly_the_pinned_names() -> None:
    """outfitter.__all__ is pinned, sorted and free of duplicates."""
    assert outfitter.__all__ == sorted(PUBLIC)
    assert len(set(outfitter.__all__)) == len(outfitter.__all__)


def test_star_import_gives_exactly_all() -> None:
    """`from outfitter import *` binds every public name and nothing private."""
    namespace: dict[str, object] = {}
    exec("from outfitter import *", namespace)
    assert sorted(k for k in namespace if k != "__builtins__") == sorted(PUBLIC)


@pytest.mark.parametrize("name", PUBLIC)
def test_public_name_is_importable_and_documented(name: str) -> None:
    """Each name imports from the package and has a docstring with an example."""
    module = importlib.import_module("outfitter")
    obj = getattr(module, name)
    assert obj is not None
    if name in ALIASES:
        assert typing.get_origin(obj[int]) is typing.Annotated
        return
    doc = inspect.getdoc(obj) or ""
    assert doc.strip(), f"{name} has no docstring"
    assert "Example" in doc, f"{name}'s docstring has no example"


def test_unknown_attribute_is_an_attribute_error() -> None:
    """The lazy module __getattr__ still raises AttributeError for other names."""
    with pytest.raises(AttributeError, match="has no attribute 'Nope'"):
        outfitter.Nope  # type: ignore[attr-defined]


def test_exceptions_all_is_pinned() -> None:
    """outfitter.exceptions exports exactly the documented errors."""
    assert sorted(exceptions.__all__) == ERRORS


@pytest.mark.parametrize("name", ERRORS)
def test_every_error_is_an_outfitter_error(name: str) -> None:
    """Every error subclasses OutfitterError (and Exception), and is documented."""
    cls = getattr(exceptions, name)
    assert issubclass(cls, exceptions.OutfitterError)
    assert issubclass(cls, Exception)
    assert inspect.getdoc(cls)


def test_error_hierarchy() -> None:
    """MissingResourceError is a DefinitionError; the others derive from the base directly."""
    assert issubclass(exceptions.MissingResourceError, exceptions.DefinitionError)
    for name in ("DefinitionError", "ResourceInitError", "TeardownError"):
        assert getattr(exceptions, name).__bases__ == (exceptions.OutfitterError,)
    # config errors are also ValueErrors, as pydantic's ValidationError and Prefect 1's
    # unknown/missing parameter errors are
    assert exceptions.ConfigError.__bases__ == (exceptions.OutfitterError, ValueError)
    assert exceptions.InvocationError.__bases__ == (exceptions.OutfitterError,)


def test_message_ends_with_the_hint_line() -> None:
    """With a hint, the last line is `Hint: ...`; problems are listed before it."""
    err = exceptions.ConfigError("bad", hint="do this", problems=["one", "two"])
    assert str(err).splitlines() == ["bad", "  - one", "  - two", "Hint: do this"]
    assert err.summary == "bad"
    assert err.hint == "do this"
    assert err.problems == ("one", "two")


def test_message_without_hint_has_no_hint_line() -> None:
    """Without a hint the message is just the summary; problems default to it."""
    err = exceptions.DefinitionError("just this")
    assert str(err) == "just this"
    assert err.problems == ("just this",)
    assert err.hint is None


@pytest.mark.parametrize(
    "err",
    [
        exceptions.OutfitterError("m", hint="h"),
        exceptions.DefinitionError("m", hint="h"),
        exceptions.MissingResourceError("m", keys=["k"], hint="h"),
        exceptions.ConfigError("m", hint="h"),
        exceptions.ResourceInitError("m", key="k", hint="h"),
        exceptions.InvocationError("m", hint="h"),
    ],
    ids=lambda e: type(e).__name__,
)
def test_every_error_ends_with_its_hint(err: exceptions.OutfitterError) -> None:
    """Whatever the subclass, a given hint is the message's last line."""
    assert str(err).splitlines()[-1] == "Hint: h"


def test_specific_error_attributes() -> None:
    """MissingResourceError.keys, ResourceInitError.key and TeardownError.keys/errors."""
    assert exceptions.MissingResourceError("m", keys=["a", "b"]).keys == ("a", "b")
    assert exceptions.ResourceInitError("m", key="db").key == "db"
    boom, bang = RuntimeError("boom"), ValueError("bang")
    err = exceptions.TeardownError({"b": boom, "a": bang})
    assert err.keys == ("b", "a")
    assert err.errors == {"b": boom, "a": bang}
    lines = str(err).splitlines()
    assert lines[0] == "2 resource(s) failed to close: 'b', 'a'"
    assert lines[1:3] == ["  - b: RuntimeError: boom", "  - a: ValueError: bang"]
    assert lines[-1].startswith("Hint: ")


def test_teardown_error_redacts() -> None:
    """TeardownError runs each failure's text through the given redactor."""
    err = exceptions.TeardownError(
        {"db": RuntimeError("password hunter2")}, redact=lambda s: s.replace("hunter2", "***")
    )
    assert "hunter2" not in str(err)
    assert "db: RuntimeError: password ***" in str(err)
