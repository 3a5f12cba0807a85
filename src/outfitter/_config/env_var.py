"""``EnvVar``: a config value read from the environment when a run opens the resource.

An ``EnvVar`` is a ``str`` holding the variable's *name*. Turning it into text (``str()``,
f-strings, ``%``, ``+``) raises, because the value is not known until launch; Dagster silently
uses the name there. The resolved value is never kept anywhere that is shown or recorded.
"""

from __future__ import annotations

import builtins
from typing import Any, ClassVar, NoReturn

from pydantic import BaseModel, ValidationError

from ..exceptions import ConfigError
from .errors import field_errors
from .redaction import Redactor
from .settings import EnvLookup

__all__ = [
    "EnvVar",
    "EnvVarNotResolvedError",
    "contains_env_var",
    "env_var_names",
    "resolve_env_vars",
]

_TRUE = frozenset({"1", "true", "t", "yes", "y", "on"})
_FALSE = frozenset({"0", "false", "f", "no", "n", "off", ""})


def _to_bool(raw: str) -> bool:
    lowered = raw.strip().lower()
    if lowered in _TRUE:
        return True
    if lowered in _FALSE:
        return False
    raise ValueError("expected one of 1/0, true/false, yes/no, on/off")


class EnvVarNotResolvedError(ConfigError, RuntimeError):
    """An EnvVar's value was asked for before the run that resolves it started. A
    ``RuntimeError`` too, as Dagster raises for ``int(EnvVar.int(...))``
    (``dagster/_config/field_utils.py``)."""


class EnvVar(str):
    """A config value taken from the environment variable ``name`` when the run opens the resource.

    Use it for any string field; :meth:`int`, :meth:`float` and :meth:`bool` give typed variants
    for other fields. The real environment wins over the ``.env`` file. An unset variable is a
    :class:`~outfitter.exceptions.ConfigError` naming the resource key, field and variable.

    Example:
        >>> from outfitter import ConfigurableResource, EnvVar
        >>> class Credentials(ConfigurableResource):
        ...     username: str
        ...     password: str
        >>> creds = Credentials(username="svc", password=EnvVar("DB_PASSWORD"))
        >>> creds.password
        EnvVar('DB_PASSWORD')
    """

    kind: ClassVar[str] = "str"

    @staticmethod
    def _convert(raw: str) -> Any:
        return raw

    __slots__ = ()

    @property
    def env_var_name(self) -> str:
        """The variable's name."""
        return str.__str__(self)

    def get_value(self, default: Any = None) -> Any:
        """The variable's current value (converted for typed variants), or ``default`` if unset.

        Example:
            >>> EnvVar("OUTFITTER_SURELY_UNSET").get_value("fallback")
            'fallback'
        """
        raw = EnvLookup().get(self.env_var_name)
        if raw is None:
            return default
        return self._convert(raw)

    @classmethod
    def int(cls, name: str) -> EnvVar:
        """An EnvVar whose value is parsed as an integer (for ``int`` fields).

        Example:
            >>> EnvVar.int("DB_PORT")
            EnvVar.int('DB_PORT')
        """
        return _IntEnvVar(name)

    @classmethod
    def float(cls, name: str) -> EnvVar:
        """An EnvVar whose value is parsed as a float (for ``float`` fields)."""
        return _FloatEnvVar(name)

    @classmethod
    def bool(cls, name: str) -> EnvVar:
        """An EnvVar whose value is parsed as a bool: 1/0, true/false, yes/no, on/off."""
        return _BoolEnvVar(name)

    def __repr__(self) -> str:
        suffix = "" if self.kind == "str" else f".{self.kind}"
        return f"EnvVar{suffix}({str.__repr__(self)})"

    def _refuse(self, how: str, used_as: str = "text") -> NoReturn:
        raise EnvVarNotResolvedError(
            f"{self!r} was used as {used_as} ({how}) before it was resolved",
            hint="an EnvVar holds the variable's *name*; its value is read when the run starts "
            "(when a run opens the resource or the step's config). Read the resolved field inside "
            "a run (self.<field>, config.<field>), or call .get_value() to read it now.",
        )

    def __int__(self) -> NoReturn:
        self._refuse("int()", "a number")

    def __float__(self) -> NoReturn:
        self._refuse("float()", "a number")

    def __str__(self) -> NoReturn:
        self._refuse("str()")

    def __format__(self, spec: str) -> NoReturn:
        self._refuse("format or f-string")

    def __add__(self, other: object) -> NoReturn:
        self._refuse("'+'")

    def __radd__(self, other: object) -> NoReturn:
        self._refuse("'+'")

    def __mod__(self, other: object) -> NoReturn:
        self._refuse("'%'")

    def __fspath__(self) -> NoReturn:
        self._refuse("as a path")

    def __reduce__(self) -> tuple[Any, ...]:
        return (type(self), (self.env_var_name,))

    def __deepcopy__(self, memo: dict[builtins.int, Any]) -> EnvVar:
        return self

    def __copy__(self) -> EnvVar:
        return self


class _IntEnvVar(EnvVar):
    kind = "int"

    @staticmethod
    def _convert(raw: str) -> Any:
        return int(raw)

    __slots__ = ()


class _FloatEnvVar(EnvVar):
    kind = "float"

    @staticmethod
    def _convert(raw: str) -> Any:
        return float(raw)

    __slots__ = ()


class _BoolEnvVar(EnvVar):
    kind = "bool"

    @staticmethod
    def _convert(raw: str) -> Any:
        return _to_bool(raw)

    __slots__ = ()


def contains_env_var(value: Any) -> bool:
    """True when ``value`` is an EnvVar or a list/tuple/set/dict holding one, at any depth."""
    if isinstance(value, EnvVar):
        return True
    if isinstance(value, BaseModel):  # a nested Config (its defaults included)
        return any(contains_env_var(v) for v in value.__dict__.values())
    if isinstance(value, dict):
        return any(contains_env_var(v) for v in value.values())
    if isinstance(value, list | tuple | set | frozenset):
        return any(contains_env_var(v) for v in value)
    return False


def env_var_names(value: Any) -> list[str]:
    """The names of every EnvVar inside ``value``, in order of appearance."""
    if isinstance(value, EnvVar):
        return [value.env_var_name]
    if isinstance(value, BaseModel):
        return [n for v in value.__dict__.values() for n in env_var_names(v)]
    if isinstance(value, dict):
        return [n for v in value.values() for n in env_var_names(v)]
    if isinstance(value, list | tuple | set | frozenset):
        return [n for v in value for n in env_var_names(v)]
    return []


def resolve_env_vars(
    value: Any, lookup: EnvLookup, path: str, secrets: Redactor, problems: list[str]
) -> Any:
    """``value`` with every EnvVar replaced by its converted value, in dicts, lists and nested
    config models too (a model is validated again with the resolved values).

    Unset or unconvertible variables are appended to ``problems`` (naming ``path`` and the variable,
    never the value); every resolved raw value is added to ``secrets`` so it can be redacted.
    """
    if isinstance(value, EnvVar):
        name = value.env_var_name
        raw = lookup.get(name)
        if raw is None:
            problems.append(f"{path}: environment variable {name} is not set")
            return None
        if raw:
            secrets.add(raw)
        try:
            return value._convert(raw)
        except ValueError:  # the exception text would quote the (secret) value
            problems.append(f"{path}: environment variable {name} is not a valid {value.kind}")
            return None
    if isinstance(value, BaseModel):
        return _resolve_model(value, lookup, path, secrets, problems)
    if isinstance(value, dict):
        return {
            k: resolve_env_vars(v, lookup, f"{path}.{k}", secrets, problems)
            for k, v in value.items()
        }
    if isinstance(value, list | tuple | set | frozenset):
        items = [
            resolve_env_vars(v, lookup, f"{path}[{i}]", secrets, problems)
            for i, v in enumerate(value)
        ]
        return type(value)(items)
    return value


def _resolve_model(
    model: BaseModel, lookup: EnvLookup, path: str, secrets: Redactor, problems: list[str]
) -> Any:
    """A nested config model with its EnvVars resolved, validated again (a resolved string
    must still become the field's type); the model itself when it holds none."""
    if not contains_env_var(model):
        return model
    before = len(problems)
    found = Redactor()
    data = {
        name: resolve_env_vars(v, lookup, f"{path}.{name}", found, problems)
        for name, v in model.__dict__.items()
    }
    secrets.update(found)
    if len(problems) > before:
        return None
    cls = type(model)
    try:
        new = cls.model_validate(data, by_alias=False, by_name=True)
    except ValidationError as exc:
        # a validator's message may quote the resolved (secret) value
        problems.extend(f"{path}.{loc}: {secrets(msg)}" for loc, msg in field_errors(exc, ""))
        return None
    object.__setattr__(new, "__pydantic_fields_set__", set(model.__pydantic_fields_set__))
    private = new.__pydantic_private__
    if private is not None and "_outfitter_env_fields" in private:  # a Config
        original = model.__dict__
        private["_outfitter_env_fields"] = {
            n: original[n] for n in original if contains_env_var(original[n])
        }
        private["_outfitter_secrets"] = tuple(found)
    return new
