"""Function-based I/O managers: ``@io_manager`` and ``IOManagerDefinition``.

A ``ResourceDefinition`` whose function returns an :class:`IOManager`, with two more schemas:
the config each output may give its ``handle_output`` (``ops.<step>.outputs.<name>`` in run
config) and each input its ``load_input`` (``ops.<step>.inputs.<name>``). Both reach the I/O
manager as ``context.config``, validated (and defaulted) when the run is launched.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any, overload

from .definition import ConfigSchema, ConfigValidator, ResourceDefinition
from .markers import Scope

__all__ = ["IOManagerDefinition", "io_manager"]


class IOManagerDefinition(ResourceDefinition):
    """An I/O manager made by a function, with optional schemas for per-output and per-input
    config (Dagster's ``output_config_schema`` / ``input_config_schema``).

    Example:
        >>> from outfitter import IOManager, IOManagerDefinition
        >>> class Memo(IOManager):
        ...     def handle_output(self, context, obj): ...
        ...     def load_input(self, context): ...
        >>> defn = IOManagerDefinition(lambda _: Memo(), output_config_schema={"fmt": str})
        >>> defn.output_config.validate({"fmt": "csv"}, "output 'result'")
        {'fmt': 'csv'}
    """

    def __init__(
        self,
        resource_fn: Callable[..., Any],
        config_schema: ConfigSchema = None,
        description: str | None = None,
        output_config_schema: ConfigSchema = None,
        input_config_schema: ConfigSchema = None,
        required_resource_keys: Iterable[str] | None = None,
        scope: Scope | str = Scope.RUN,
    ) -> None:
        super().__init__(
            resource_fn,
            config_schema=config_schema,
            description=description,
            required_resource_keys=required_resource_keys,
            scope=scope,
        )
        self.output_config = ConfigValidator(output_config_schema, f"{self.name} output")
        self.input_config = ConfigValidator(input_config_schema, f"{self.name} input")

    @property
    def output_config_schema(self) -> ConfigSchema:
        """The schema of each output's config (None: any config is passed on as given)."""
        return self.output_config.source

    @property
    def input_config_schema(self) -> ConfigSchema:
        """The schema of each input's config (None: any config is passed on as given)."""
        return self.input_config.source


@overload
def io_manager(fn: Callable[..., Any], /) -> IOManagerDefinition: ...


@overload
def io_manager(
    fn: None = None,
    /,
    *,
    config_schema: ConfigSchema = None,
    description: str | None = None,
    output_config_schema: ConfigSchema = None,
    input_config_schema: ConfigSchema = None,
    required_resource_keys: Iterable[str] | None = None,
) -> Callable[[Callable[..., Any]], IOManagerDefinition]: ...


def io_manager(
    fn: Callable[..., Any] | None = None,
    /,
    *,
    config_schema: ConfigSchema = None,
    description: str | None = None,
    output_config_schema: ConfigSchema = None,
    input_config_schema: ConfigSchema = None,
    required_resource_keys: Iterable[str] | None = None,
) -> IOManagerDefinition | Callable[[Callable[..., Any]], IOManagerDefinition]:
    """Turn a function returning an :class:`IOManager` into an I/O manager definition, as
    ``@resource`` does for resources. ``output_config_schema`` / ``input_config_schema``
    validate the config run config gives an output (``ops.<step>.outputs.<name>``) or an input
    (``ops.<step>.inputs.<name>``); the I/O manager reads it as ``context.config``.

    Example:
        >>> from outfitter import IOManager, asset, io_manager, materialize
        >>> class Printing(IOManager):
        ...     def handle_output(self, context, obj):
        ...         print(context.config["prefix"], obj)
        ...     def load_input(self, context): ...
        >>> @io_manager(output_config_schema={"prefix": (str, ">")})
        ... def printing(_):
        ...     return Printing()
        >>> @asset(io_manager_key="printing")
        ... def answer() -> int:
        ...     return 42
        >>> _ = materialize([answer], resources={"printing": printing})
        > 42
    """

    def wrap(f: Callable[..., Any]) -> IOManagerDefinition:
        return IOManagerDefinition(
            f,
            config_schema=config_schema,
            description=description,
            output_config_schema=output_config_schema,
            input_config_schema=input_config_schema,
            required_resource_keys=required_resource_keys,
        )

    return wrap(fn) if fn is not None else wrap
