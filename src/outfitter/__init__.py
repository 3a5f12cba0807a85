"""Outfitter: resources for data pipelines.

A dependency-injection container for runs: resources (connections, clients, clusters, I/O
managers) are declared once, configured with pydantic (``EnvVar``, launch-time config), opened
lazily for each run, shared by its steps and closed in reverse order whatever fails.

Example:
    >>> import outfitter as of
    >>> class Greeter(of.ConfigurableResource):
    ...     greeting: str = "hello"
    ...     def greet(self, who: str) -> str:
    ...         return f"{self.greeting}, {who}"
    >>> with of.build_resources({"greeter": Greeter()}) as res:
    ...     res.greeter.greet("world")
    'hello, world'
"""

from typing import TYPE_CHECKING

from . import signals, triggers
from ._config.env_var import EnvVar
from ._config.run_config import Config, RunConfig
from ._definitions.asset_key import AssetIn, AssetKey
from ._definitions.asset_sensors import (
    AssetSensorDefinition,
    EventLogEntry,
    MultiAssetSensorDefinition,
    MultiAssetSensorEvaluationContext,
    asset_sensor,
    build_multi_asset_sensor_context,
    multi_asset_sensor,
)
from ._definitions.decorators import AssetsDefinition, asset, op
from ._definitions.definitions import Definitions, definitions, with_resources
from ._definitions.job import ConfigMapping, define_asset_job, graph, job
from ._definitions.multi_asset import multi_asset
from ._definitions.outputs import AssetOut, In, MaterializeResult, Out, Output
from ._definitions.policy import Backoff, Jitter, RetryPolicy, RetryRequested
from ._definitions.run_status_sensors import (
    RunFailureSensorContext,
    RunStatusSensorContext,
    RunStatusSensorDefinition,
    build_run_status_sensor_context,
    run_failure_sensor,
    run_status_sensor,
)
from ._definitions.selection import AssetSelection
from ._definitions.sensors import (
    DefaultScheduleStatus,
    DefaultSensorStatus,
    RunRequest,
    ScheduleDefinition,
    ScheduleEvaluationContext,
    SensorDefinition,
    SensorEvaluationContext,
    SkipReason,
    build_schedule_context,
    build_sensor_context,
    schedule,
    sensor,
)
from ._execution.config_check import (
    ConfigProblem,
    run_config_yaml,
    scaffold_run_config,
    validate_run_config,
)
from ._execution.context import AssetExecutionContext, OpExecutionContext
from ._execution.executors import dask_executor, in_process_executor, multiprocess_executor
from ._execution.invoke import build_asset_context, build_op_context
from ._execution.logs import get_logger
from ._execution.materialize import materialize, materialize_to_memory
from ._execution.result import ExecuteResult
from ._flows.context import context
from ._flows.control_flow import apply_map, case, ifelse, merge, switch
from ._flows.flow import Flow
from ._flows.resource_manager import ResourceManager, resource_manager
from ._flows.state import (
    Cancelled,
    Failed,
    Mapped,
    Paused,
    Pending,
    Resume,
    Retrying,
    Running,
    Skipped,
    State,
    Success,
    TimedOut,
    TriggerFailed,
)
from ._flows.task import Parameter, Task, task, unmapped
from ._instance import EventType, Instance, RunStatus
from ._resources.build import build_init_resource_context, build_resources
from ._resources.configurable import (
    ConfigurableResource,
    ConfigurableResourceFactory,
    PartialResource,
)
from ._resources.context import InitResourceContext
from ._resources.definition import ResourceDefinition, configured, resource
from ._resources.input_manager import InputManager, InputManagerDefinition, input_manager
from ._resources.io_manager import (
    ConfigurableIOManager,
    ConfigurableIOManagerFactory,
    FilesystemIOManager,
    InMemoryIOManager,
    InputContext,
    IOManager,
    OutputContext,
)
from ._resources.io_manager_def import IOManagerDefinition, io_manager
from ._resources.markers import ResourceDependency, ResourceParam

if TYPE_CHECKING:
    from ._resources.container import ResourceContainer, containers_by_env

__version__ = "0.1.0"

DagsterInstance = Instance
"""Dagster's name for :class:`Instance`."""
DagsterRunStatus = RunStatus
"""Dagster's name for the run status enum (``outfitter._instance.RunStatus``)."""

_LAZY = {"ResourceContainer", "containers_by_env"}


def __getattr__(name: str) -> object:
    # dependency-injector (~50 ms to import) loads only when a container is first used.
    if name in _LAZY:
        from ._resources import container

        value = getattr(container, name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'outfitter' has no attribute {name!r}")


__all__ = [
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
