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

from ._config.env_var import EnvVar
from ._config.run_config import Config, RunConfig
from ._resources.build import build_init_resource_context, build_resources
from ._resources.configurable import (
    ConfigurableResource,
    ConfigurableResourceFactory,
    PartialResource,
)
from ._resources.container import ResourceContainer, containers_by_env
from ._resources.context import InitResourceContext
from ._resources.definition import ResourceDefinition, resource
from ._resources.markers import ResourceDependency, ResourceParam

__version__ = "0.1.0"

__all__ = [
    "Config",
    "ConfigurableResource",
    "ConfigurableResourceFactory",
    "EnvVar",
    "InitResourceContext",
    "PartialResource",
    "ResourceContainer",
    "ResourceDefinition",
    "ResourceDependency",
    "ResourceParam",
    "RunConfig",
    "build_init_resource_context",
    "build_resources",
    "containers_by_env",
    "resource",
]
