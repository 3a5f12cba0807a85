"""Every error Outfitter raises on purpose.

All of them derive from :class:`OutfitterError`, so ``except OutfitterError`` catches anything the
library reports about *your* code, configuration or resources. Each message names the thing that is
wrong (resource key, field path, class) and ends with a line starting ``Hint:`` that says how to fix
it. Errors that gather several problems keep them in ``.problems`` and list them all at once.

Hierarchy::

    OutfitterError
    ├── DefinitionError            definitions are inconsistent (cycles, scopes, shapes, types)
    │   ├── DefinitionValueError   ... a bad value: a cycle, a duplicate name (also a ValueError)
    │   ├── DefinitionTypeError    ... an object of the wrong kind (also a TypeError)
    │   ├── DefinitionAttributeError  ... an attribute that does not exist (also an AttributeError)
    │   └── MissingResourceError   something asks for a resource key nobody bound
    │       ├── MissingResourceAttributeError   ... by attribute (also an AttributeError)
    │       └── MissingResourceKeyError         ... by [key] (also a KeyError)
    ├── ConfigError                config, launch config, parameters or environment variables are
    │                              wrong (also a ValueError, as pydantic's ValidationError is)
    ├── ResourceInitError          a resource failed to open (setup, __enter__, generator start)
    ├── TaskTimeoutError           a flow task ran longer than its ``timeout`` (also a TimeoutError)
    ├── TeardownError              one or more resources failed to close
    └── InvocationError            an API was used in a way that cannot work (sync/async, `with`)
        ├── InvocationTypeError    a call's arguments do not fit (also a TypeError)
        └── InvocationRuntimeError a call at a moment it cannot work (also a RuntimeError)

Where Dagster or Prefect 1 raise a builtin exception for the same mistake (Prefect 1's
``ValueError`` for a cycle or a missing flow context, ``TypeError`` for a non-task added to a
flow), ours is also that builtin, so ``except ValueError:`` written for them keeps working.

Example:
    >>> from outfitter.exceptions import ConfigError, OutfitterError
    >>> issubclass(ConfigError, OutfitterError)
    True
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

__all__ = [
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


class OutfitterError(Exception):
    """Base class of every error Outfitter raises about user code, config or resources.

    ``problems`` holds one line per problem (a single-problem error has one entry) and ``hint`` the
    advice that ends the message.

    Example:
        >>> err = OutfitterError("resource 'db' is broken", hint="fix it")
        >>> str(err)
        "resource 'db' is broken\\nHint: fix it"
    """

    def __init__(
        self, message: str, *, hint: str | None = None, problems: Sequence[str] = ()
    ) -> None:
        self.summary = message
        self.hint = hint
        self.problems: tuple[str, ...] = tuple(problems) or (message,)
        text = message
        if problems:
            text += "".join(f"\n  - {line}" for line in problems)
        if hint:
            text += f"\nHint: {hint}"
        super().__init__(text)

    def __reduce__(self) -> tuple[Any, ...]:
        # Rebuilt from its message and fields, not by calling __init__ again (subclasses take
        # other arguments), so every Outfitter error crosses to and from worker processes.
        return (_rebuild, (type(self), self.args, self.__dict__))


def _rebuild(cls: type[OutfitterError], args: tuple[Any, ...], state: dict[str, Any]) -> Any:
    error = cls.__new__(cls)
    error.args = args
    error.__dict__.update(state)
    return error


class DefinitionError(OutfitterError):
    """Definitions cannot work as written: a cycle, a scope violation, an ambiguous lifecycle shape,
    a type mismatch between a bound resource and the parameter that asks for it.

    Example:
        >>> raise DefinitionError("resource 'a' depends on itself", hint="remove the cycle")
        Traceback (most recent call last):
        ...
        outfitter.exceptions.DefinitionError: resource 'a' depends on itself
        Hint: remove the cycle
    """


class DefinitionValueError(DefinitionError, ValueError):
    """A :class:`DefinitionError` about a bad value (a cycle among tasks, a duplicate Parameter
    name, a reserved argument name, no active flow): also a ``ValueError``, as Prefect 1's is.

    Example:
        >>> from outfitter import Flow, Parameter
        >>> flow = Flow("f")
        >>> _ = flow.add_task(Parameter("n"))
        >>> try:
        ...     flow.add_task(Parameter("n"))
        ... except ValueError:
        ...     print("ValueError")
        ValueError
    """


class DefinitionTypeError(DefinitionError, TypeError):
    """A :class:`DefinitionError` about an object of the wrong kind (a non-task added to a flow,
    tags given as one string, missing inputs, mapping over a set): also a ``TypeError``, as
    Prefect 1's is.

    Example:
        >>> from outfitter import Flow
        >>> try:
        ...     Flow("f").add_task(print)  # type: ignore[arg-type]
        ... except TypeError:
        ...     print("TypeError")
        TypeError
    """


class DefinitionAttributeError(DefinitionError, AttributeError):
    """A :class:`DefinitionError` about an attribute that does not exist (``task_args`` naming
    one a task lacks): also an ``AttributeError``, as Prefect 1's is.

    Example:
        >>> from outfitter import Task
        >>> try:
        ...     Task().copy(colour="red")
        ... except AttributeError:
        ...     print("AttributeError")
        AttributeError
    """


class MissingResourceError(DefinitionError):
    """A step, resource or test asks for a resource key that is not bound.

    ``keys`` holds the missing keys.

    Example:
        >>> MissingResourceError("no resource 'db'", keys=["db"]).keys
        ('db',)
    """

    def __init__(
        self,
        message: str,
        *,
        keys: Sequence[str] = (),
        hint: str | None = None,
        problems: Sequence[str] = (),
    ) -> None:
        self.keys = tuple(keys)
        super().__init__(message, hint=hint, problems=problems)


class MissingResourceAttributeError(MissingResourceError, AttributeError):
    """The :class:`MissingResourceError` of attribute access (``context.resources.db``): also an
    ``AttributeError``, as Dagster's is, so ``hasattr`` and ``getattr(..., default)`` work.

    Example:
        >>> from outfitter._resources.context import Resources
        >>> hasattr(Resources({"db": 1}), "cache")
        False
    """


class MissingResourceKeyError(MissingResourceError, KeyError):
    """The :class:`MissingResourceError` of item access (``context.resources["db"]``): also a
    ``KeyError``, as a missing mapping key is.

    Example:
        >>> from outfitter._resources.context import Resources
        >>> try:
        ...     Resources({"db": 1})["cache"]
        ... except KeyError:
        ...     print("missing")
        missing
    """

    def __str__(self) -> str:
        # KeyError would show the message's repr, quoted with escaped newlines
        return Exception.__str__(self)


class ConfigError(OutfitterError, ValueError):
    """Config is missing, unknown, ill-typed, or refers to an environment variable that is unset;
    a flow's parameters are unknown or missing. Also a ``ValueError``, as pydantic's
    ``ValidationError`` and Prefect 1's parameter errors are.

    Messages give the resource key and the field path (``db.port``) but never a secret value.

    Example:
        >>> str(ConfigError("resource 'db', field 'port': not an integer", hint="use a number"))
        "resource 'db', field 'port': not an integer\\nHint: use a number"
    """


class ResourceInitError(OutfitterError):
    """A resource raised while it was being opened. ``key`` names it; ``__cause__`` is the error.

    Example:
        >>> ResourceInitError("resource 'db' failed to open", key="db").key
        'db'
    """

    def __init__(self, message: str, *, key: str, hint: str | None = None) -> None:
        self.key = key
        super().__init__(message, hint=hint)


class TeardownError(OutfitterError):
    """One or more resources raised while being closed. Every other resource was still closed.

    ``errors`` maps each failed key to the exception its teardown raised, in closing order.

    Example:
        >>> err = TeardownError({"db": RuntimeError("commit failed")})
        >>> err.keys
        ('db',)
    """

    def __init__(
        self,
        errors: dict[str, BaseException],
        *,
        redact: Callable[[str], str] = str,
        problems: Sequence[str] | None = None,
    ) -> None:
        self.errors = dict(errors)
        self.keys = tuple(errors)
        names = ", ".join(repr(k) for k in self.keys)
        if problems is None:
            problems = [
                f"{key}: {type(exc).__name__}: {redact(str(exc))}" for key, exc in errors.items()
            ]
        super().__init__(
            f"{len(errors)} resource(s) failed to close: {names}",
            problems=problems,
            hint="every other resource was still closed; fix the teardown of the keys listed "
            "(teardown_after_execution, the code after `yield`, or __exit__).",
        )

    @classmethod
    def merge(cls, errors: Sequence[TeardownError]) -> TeardownError:
        """One error for the teardown failures of several processes (a run's coordinator and
        its workers), keeping each one's (already redacted) problem lines.

        Example:
            >>> a = TeardownError({"db": RuntimeError("x")})
            >>> b = TeardownError({"cache": RuntimeError("y")})
            >>> TeardownError.merge([a, b]).keys
            ('db', 'cache')
        """
        if len(errors) == 1:
            return errors[0]
        merged: dict[str, BaseException] = {}
        problems: list[str] = []
        for error in errors:
            for key, exc in error.errors.items():
                merged.setdefault(key, exc)
            problems.extend(error.problems)
        return cls(merged, problems=problems)


class InvocationError(OutfitterError):
    """An API was called in a way that cannot work: a resource that needs ``with`` used without it,
    an async resource opened from sync code, a closed scope used again.

    Example:
        >>> raise InvocationError("scope is closed", hint="open a new scope")
        Traceback (most recent call last):
        ...
        outfitter.exceptions.InvocationError: scope is closed
        Hint: open a new scope
    """


class InvocationTypeError(InvocationError, TypeError):
    """A direct call's arguments do not fit the function (a value given twice, an unknown or
    missing argument): also a ``TypeError``, as Python's own error for such a call is.

    Example:
        >>> from outfitter import asset
        >>> @asset
        ... def doubled(x: int) -> int:
        ...     return 2 * x
        >>> try:
        ...     doubled(1, x=2)
        ... except TypeError:
        ...     print("TypeError")
        TypeError
    """


class InvocationRuntimeError(InvocationError, RuntimeError):
    """An API was called at a moment it cannot work (``flow.run()`` inside the flow's own
    ``with`` block): also a ``RuntimeError``, as Prefect 1's is.

    Example:
        >>> from outfitter import Flow
        >>> with Flow("f") as flow:
        ...     try:
        ...         flow.run()
        ...     except RuntimeError:
        ...         print("RuntimeError")
        RuntimeError
    """


class TaskTimeoutError(OutfitterError, TimeoutError):
    """A flow task ran longer than its ``timeout=`` and was interrupted: the task ends
    ``TimedOut`` with this error as its result (Prefect 1's ``TaskTimeoutSignal``); also a
    ``TimeoutError``.

    Example:
        >>> err = TaskTimeoutError("task 'load' timed out after 2s", hint="raise timeout=")
        >>> isinstance(err, TimeoutError)
        True
    """
