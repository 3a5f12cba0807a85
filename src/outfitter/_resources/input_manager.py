"""Input managers: resources that load an op's input (``In(input_manager_key=...)``) instead of
the upstream step's value or I/O manager; an input with no upstream at all can be loaded by one
too (Dagster's "unconnected inputs"). Any :class:`IOManager` can serve as one; an
:class:`InputManager` only loads; ``@input_manager`` makes one from a function."""

from __future__ import annotations

import abc
import inspect
from collections.abc import Callable, Iterable
from typing import Any, overload

from .definition import ConfigSchema
from .io_manager import InputContext
from .io_manager_def import IOManagerDefinition

__all__ = ["InputManager", "InputManagerDefinition", "input_manager"]


class InputManager(abc.ABC):
    """Loads inputs of ops (``In(input_manager_key=...)``) or assets
    (``AssetIn(input_manager_key=...)``); it stores nothing.

    Example:
        >>> from outfitter import In, InputManager, job, op
        >>> class Constant(InputManager):
        ...     def load_input(self, context):
        ...         return f"loaded {context.name}"
        >>> @op(ins={"table": In(input_manager_key="loader")})
        ... def show(table: str) -> str:
        ...     return table
        >>> @job(resource_defs={"loader": Constant()})
        ... def report():
        ...     show()
        >>> report.execute_in_process().output_for_node("show")
        'loaded table'
    """

    @abc.abstractmethod
    def load_input(self, context: InputContext) -> Any:
        """Load the value of the input described by ``context``."""


class _FunctionInputManager(InputManager):
    """An input manager whose ``load_input`` is a function (of the context, or of nothing)."""

    def __init__(self, load_fn: Callable[..., Any]) -> None:
        self.load_fn = load_fn
        try:
            self.takes_context = bool(inspect.signature(load_fn).parameters)
        except (TypeError, ValueError):
            self.takes_context = True

    def load_input(self, context: InputContext) -> Any:
        return self.load_fn(context) if self.takes_context else self.load_fn()


class _MakeInputManager:
    """The resource function of an ``@input_manager``: a module-level callable, so the
    definition pickles to worker processes."""

    def __init__(self, load_fn: Callable[..., Any]) -> None:
        self.load_fn = load_fn
        self.__name__ = getattr(load_fn, "__name__", "input_manager")
        self.__doc__ = load_fn.__doc__

    def __call__(self, init_context: Any) -> InputManager:
        return _FunctionInputManager(self.load_fn)


class InputManagerDefinition(IOManagerDefinition):
    """An input manager made by a function (what ``@input_manager`` returns), bound as a
    resource; ``input_config_schema`` validates ``ops.<op>.inputs.<name>`` config.

    Example:
        >>> from outfitter import InputManagerDefinition
        >>> defn = InputManagerDefinition(lambda _: None, input_config_schema={"table": str})
        >>> defn.input_config_schema
        {'table': <class 'str'>}
    """

    def __init__(
        self,
        resource_fn: Callable[..., Any],
        config_schema: ConfigSchema = None,
        description: str | None = None,
        input_config_schema: ConfigSchema = None,
        required_resource_keys: Iterable[str] | None = None,
    ) -> None:
        super().__init__(
            resource_fn,
            config_schema=config_schema,
            description=description,
            input_config_schema=input_config_schema,
            required_resource_keys=required_resource_keys,
        )


@overload
def input_manager(fn: Callable[..., Any], /) -> InputManagerDefinition: ...


@overload
def input_manager(
    fn: None = None,
    /,
    *,
    config_schema: ConfigSchema = None,
    description: str | None = None,
    input_config_schema: ConfigSchema = None,
    required_resource_keys: Iterable[str] | None = None,
) -> Callable[[Callable[..., Any]], InputManagerDefinition]: ...


def input_manager(
    fn: Callable[..., Any] | None = None,
    /,
    *,
    config_schema: ConfigSchema = None,
    description: str | None = None,
    input_config_schema: ConfigSchema = None,
    required_resource_keys: Iterable[str] | None = None,
) -> InputManagerDefinition | Callable[[Callable[..., Any]], InputManagerDefinition]:
    """Make an input manager from a loading function: the function is ``load_input`` (it takes
    the :class:`InputContext`, or nothing), as Dagster's ``@input_manager`` does.

    Example:
        >>> from outfitter import In, input_manager, job, op
        >>> @input_manager(input_config_schema={"table": str})
        ... def table_loader(context):
        ...     return f"rows of {context.config['table']}"
        >>> @op(ins={"rows": In(input_manager_key="loader")})
        ... def count(rows: str) -> str:
        ...     return rows
        >>> @job(resource_defs={"loader": table_loader})
        ... def daily():
        ...     count()
        >>> config = {"ops": {"count": {"inputs": {"rows": {"table": "users"}}}}}
        >>> daily.execute_in_process(run_config=config).output_for_node("count")
        'rows of users'
    """

    def wrap(f: Callable[..., Any]) -> InputManagerDefinition:
        return InputManagerDefinition(
            _MakeInputManager(f),
            config_schema=config_schema,
            description=description or inspect.getdoc(f),
            input_config_schema=input_config_schema,
            required_resource_keys=required_resource_keys,
        )

    return wrap(fn) if fn is not None else wrap
