"""The config error that is also pydantic's ``ValidationError``.

Constructing a resource or ``Config`` with an ill-typed value raises pydantic's
``ValidationError`` in Dagster (its classes are pydantic models), and users' tests say
``pytest.raises(ValidationError)``; ours says which class and field, and how to fix it. This
error is both, so either ``except`` clause catches it. ``field_errors`` reads any pydantic
``ValidationError`` as the ``(field path, message)`` pairs our messages are made of.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from pydantic_core import InitErrorDetails, PydanticCustomError, ValidationError

from ..exceptions import ConfigError

__all__ = ["ConfigValidationError", "field_errors"]


class ConfigValidationError(ConfigError, ValidationError):
    """A :class:`~outfitter.exceptions.ConfigError` that is also ``pydantic.ValidationError``.

    ``errors()`` keeps pydantic's list (type, loc, msg, input); ``str()`` is our message.

    Example:
        >>> from pydantic import ValidationError
        >>> err = ConfigValidationError.build(
        ...     "Database", [("int_parsing", ("port",), "not an integer", "x")],
        ...     "invalid config for Database", ["Database, field 'port': not an integer"], "fix it")
        >>> isinstance(err, ValidationError), err.errors()[0]["loc"]
        (True, ('port',))
    """

    _lines: tuple[tuple[str, tuple[int | str, ...], str, Any], ...]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        # pydantic_core builds the instance (from_exception_data); build() fills in ours.
        pass

    @classmethod
    def build(
        cls,
        title: str,
        lines: Sequence[tuple[str, tuple[int | str, ...], str, Any]],
        message: str,
        problems: Sequence[str],
        hint: str | None,
    ) -> ConfigValidationError:
        """One error from pydantic-style ``lines`` (type, loc, msg, input) and our text."""
        details = [
            InitErrorDetails(
                type=PydanticCustomError(kind, msg),
                loc=loc,
                input=value,
            )
            for kind, loc, msg, value in lines
        ]
        error = cls.from_exception_data(title, details)
        error.summary = message
        error.hint = hint
        error.problems = tuple(problems) or (message,)
        text = message + "".join(f"\n  - {line}" for line in problems)
        if hint:
            text += f"\nHint: {hint}"
        error.args = (text,)
        error._lines = tuple(lines)
        return error

    @classmethod
    def from_pydantic(
        cls, exc: ValidationError, message: str, problems: Sequence[str], hint: str | None
    ) -> ConfigValidationError:
        """Our text over pydantic's own error list."""
        lines = [
            (err["type"], tuple(err["loc"]), err["msg"], err.get("input"))
            for err in exc.errors(include_url=False, include_context=False)
        ]
        return cls.build(exc.title, lines, message, problems, hint)

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else self.summary

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.summary!r})"

    def __reduce__(self) -> tuple[Any, ...]:
        # an input may be any object (not picklable): only plain values cross processes
        lines = tuple(
            (kind, loc, msg, value if isinstance(value, _PLAIN) else None)
            for kind, loc, msg, value in self._lines
        )
        return (_rebuild, (self.title, lines, self.summary, self.problems, self.hint))


_PLAIN = (str, int, float, bool, type(None))


def _rebuild(
    title: str,
    lines: Sequence[tuple[str, tuple[int | str, ...], str, Any]],
    message: str,
    problems: Sequence[str],
    hint: str | None,
) -> ConfigValidationError:
    return ConfigValidationError.build(title, lines, message, problems, hint)


def field_errors(exc: ValidationError, empty: str = "<config>") -> list[tuple[str, str]]:
    """``(dotted field path, message)`` for every error of ``exc``, never with the input value.

    A validator's own sentence loses pydantic's ``"Value error, "`` prefix (our validators write
    whole sentences); an error of the whole model has the path ``empty``.

    Example:
        >>> from pydantic import BaseModel
        >>> class Port(BaseModel):
        ...     port: int
        >>> try:
        ...     Port(port="x")
        ... except ValidationError as exc:
        ...     field_errors(exc)
        [('port', 'Input should be a valid integer, unable to parse string as an integer')]
    """
    return [
        (
            ".".join(str(p) for p in err["loc"]) or empty,
            err["msg"].removeprefix("Value error, "),
        )
        for err in exc.errors(include_url=False, include_input=False, include_context=False)
    ]
