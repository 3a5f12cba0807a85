"""The one redaction: every text and object that leaves a run goes through a :class:`Redactor`.

A run's redactor learns the secret values the run resolves or is given: ``EnvVar`` values when a
resource opens, ``SecretStr``/``SecretBytes`` values wherever they come from (code, a
``RunConfig``, dict or YAML launch config). It then replaces each of them with ``***`` in text,
in every form the value takes when it is quoted: as is, as ``repr`` writes it inside quotes
(``\\'``, ``\\\\``, ``\\n``, a backslash-x escape with two hex digits), as JSON writes it
(``\\"``, a backslash-u escape with four hex digits), and the same
once more nested (a repr of a repr, JSON of a repr: an exception's args inside a message).

Values shorter than :data:`MIN_SECRET` characters are not replaced in text (a one- or
two-character "secret" would mask every occurrence of that letter); they are still masked in
records, which know which fields are secret.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

__all__ = [
    "MASK",
    "MIN_SECRET",
    "RECORD_MASK",
    "Redactor",
    "escaped_forms",
    "mask_secret_fields",
    "secret_values",
]

MASK = "***"
MIN_SECRET = 3
RECORD_MASK = "**********"
"""How a secret field's value is shown in records and pages (pydantic's own mask)."""


def _repr_inner(text: str) -> str:
    return repr(text)[1:-1]


def _json_inner(text: str) -> str:
    return json.dumps(text)[1:-1]


def _ascii_inner(text: str) -> str:
    return ascii(text)[1:-1]


def escaped_forms(secret: str) -> set[str]:
    r"""``secret`` and the forms it takes when it is quoted once or twice (repr, ascii, JSON).

    Example:
        >>> for form in sorted(escaped_forms('pa"ss')):
        ...     print(form)
        pa"ss
        pa\"ss
        pa\\"ss
        pa\\\"ss
    """
    forms = {secret}
    for first in (_repr_inner, _json_inner, _ascii_inner):
        once = first(secret)
        forms.add(once)
        for second in (_repr_inner, _json_inner):
            forms.add(second(once))
    return {f for f in forms if len(f) >= MIN_SECRET}


class Redactor:
    """The secret values one run knows, and how to take them out of text, data and exceptions.

    Adding a value is cheap; the matching pattern is rebuilt lazily when text is redacted after
    a change. A redactor with no secrets returns what it is given, untouched (and quickly).

    Example:
        >>> redact = Redactor(["hunter2"])
        >>> redact("login failed for token hunter2")
        'login failed for token ***'
        >>> redact(repr({"token": "hunter2"}))
        "{'token': '***'}"
    """

    __slots__ = ("_forms", "_pattern", "_secrets")

    def __init__(self, secrets: Iterable[str | bytes] = ()) -> None:
        self._secrets: set[str] = set()
        self._forms: set[str] = set()
        self._pattern: re.Pattern[str] | None = None
        for secret in secrets:
            self.add(secret)

    def add(self, secret: str | bytes) -> None:
        """Learn a secret value (bytes are decoded leniently; their escaped forms too)."""
        if isinstance(secret, bytes):
            self.add(secret.decode("utf-8", "replace"))
            self.add(repr(secret)[2:-1])
            return
        if not isinstance(secret, str) or len(secret) < MIN_SECRET or secret in self._secrets:
            return
        self._secrets.add(secret)
        self._forms |= escaped_forms(secret)
        self._pattern = None

    def update(self, other: Redactor) -> None:
        """Learn every secret ``other`` knows."""
        for secret in other._secrets:
            self.add(secret)

    def __contains__(self, value: object) -> bool:
        return value in self._secrets

    def __bool__(self) -> bool:
        return bool(self._secrets)

    def __len__(self) -> int:
        return len(self._secrets)

    def __iter__(self) -> Any:
        return iter(self._secrets)

    def _compiled(self) -> re.Pattern[str]:
        pattern = self._pattern
        if pattern is None:
            # longest first, so a form is replaced whole before any shorter form inside it
            forms = sorted(self._forms, key=len, reverse=True)
            pattern = self._pattern = re.compile("|".join(map(re.escape, forms)))
        return pattern

    def __call__(self, text: str) -> str:
        """``text`` with every secret, in every escaped form, replaced by ``***``."""
        if not self._secrets or not text:
            return text
        pattern = self._compiled()
        for _ in range(8):  # a mask next to a secret containing '*' could form a new match
            redacted = pattern.sub(MASK, text)
            if redacted == text:
                return redacted
            text = redacted
        return text

    def value(self, data: Any) -> Any:
        """``data`` with secrets replaced in every string inside dicts, lists and tuples (other
        objects are returned as they are)."""
        if not self._secrets:
            return data
        if isinstance(data, str):
            return self(data)
        if isinstance(data, Mapping):
            return {self.value(k): self.value(v) for k, v in data.items()}
        if isinstance(data, list):
            return [self.value(v) for v in data]
        if isinstance(data, tuple):
            return tuple(self.value(v) for v in data)
        return data

    def exception(self, exc: BaseException) -> BaseException:
        """An exception that says what ``exc`` says with the secrets masked: ``exc`` itself when
        neither it nor its causes mention a secret, else a copy of the same type (so ``except``
        clauses still match) with redacted args and notes, the same traceback, and redacted
        copies of its ``__cause__`` and ``__context__``."""
        return _redacted_exception(self, exc, {})


def _leaks(redact: Redactor, exc: BaseException) -> bool:
    try:
        text = str(exc)
    except Exception:  # an exception whose __str__ fails says nothing we could leak
        text = ""
    if redact(text) != text:
        return True
    if any(isinstance(a, str) and redact(a) != a for a in exc.args):
        return True
    return any(redact(n) != n for n in getattr(exc, "__notes__", ()) if isinstance(n, str))


def _redacted_exception(
    redact: Redactor, exc: BaseException, seen: dict[int, BaseException]
) -> BaseException:
    if not redact:
        return exc
    done = seen.get(id(exc))
    if done is not None:
        return done
    seen[id(exc)] = exc  # a cycle in the chain resolves to the exception itself
    cause = exc.__cause__
    context = exc.__context__
    new_cause = None if cause is None else _redacted_exception(redact, cause, seen)
    new_context = None if context is None else _redacted_exception(redact, context, seen)
    if not _leaks(redact, exc) and new_cause is cause and new_context is context:
        return exc
    copy = _copy(redact, exc)
    copy.__cause__ = new_cause
    copy.__context__ = new_context
    copy.__suppress_context__ = exc.__suppress_context__
    copy.__traceback__ = exc.__traceback__
    notes = getattr(exc, "__notes__", None)
    if notes is not None:
        copy.__notes__ = [redact(n) if isinstance(n, str) else n for n in notes]
    seen[id(exc)] = copy
    return copy


def _copy(redact: Redactor, exc: BaseException) -> BaseException:
    cls = type(exc)
    args = tuple(redact.value(a) for a in exc.args)
    copy: BaseException
    try:
        copy = cls(*args)
    except Exception:  # an __init__ that does not take its args back
        copy = cls.__new__(cls)
        copy.args = args
    state = getattr(exc, "__dict__", None)
    if state:
        copy.__dict__.update({k: redact.value(v) for k, v in state.items()})
    if _leaks(redact, copy):  # a __str__ built from something we could not reach
        text = redact(_safe_str(exc))
        try:
            masked: Any = type(
                cls.__name__, (cls,), {"__str__": lambda self: text, "__module__": cls.__module__}
            )
            replacement = masked.__new__(masked)
            replacement.args = (text,)
            copy = replacement
        except TypeError:  # a class that cannot be subclassed this way
            copy = RuntimeError(f"{cls.__name__}: {text}")
    return copy


def _safe_str(exc: BaseException) -> str:
    try:
        return str(exc)
    except Exception:
        return type(exc).__name__


# -- secrets in config -----------------------------------------------------------------------------


def _secret_types() -> tuple[type, ...]:
    from pydantic import SecretBytes, SecretStr

    return (SecretStr, SecretBytes)


def _is_secret_annotation(annotation: Any) -> bool:
    """Whether a field annotation is SecretStr / SecretBytes (or an Optional / union of one)."""
    import typing

    secret = _secret_types()
    if isinstance(annotation, type) and issubclass(annotation, secret):
        return True
    return any(_is_secret_annotation(a) for a in typing.get_args(annotation))


def _model_of(annotation: Any) -> Any:
    """The pydantic model class a field holds (its Optional unwrapped), or None."""
    import typing

    from pydantic import BaseModel

    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in typing.get_args(annotation):
        found = _model_of(arg)
        if found is not None:
            return found
    return None


def secret_values(value: Any, model: Any = None) -> Iterator[str | bytes]:
    """Every secret value in ``value``: ``SecretStr``/``SecretBytes`` objects anywhere inside
    it (models, dicts, lists), and, when ``model`` (a pydantic model class) says how ``value``
    (a dict, e.g. YAML launch config) will be read, the plain strings given for its secret
    fields.

    Example:
        >>> from pydantic import SecretStr, create_model
        >>> Api = create_model("Api", token=(SecretStr, ...))
        >>> list(secret_values({"token": "from-yaml"}, Api))
        ['from-yaml']
    """
    from pydantic import BaseModel, SecretBytes, SecretStr

    if isinstance(value, SecretStr | SecretBytes):
        yield value.get_secret_value()
    elif isinstance(value, BaseModel):
        # the raw values of the EnvVars a run resolved into this (Config) model
        yield from (value.__pydantic_private__ or {}).get("_outfitter_secrets", ())
        model_fields = type(value).model_fields
        for name, field_value in value.__dict__.items():
            declared = model_fields.get(name)
            yield from secret_values(field_value, None if declared is None else declared.annotation)
    elif isinstance(value, Mapping):
        fields: Any = getattr(_model_of(model), "model_fields", None) if model is not None else None
        for key, item in value.items():
            field = fields.get(key) if fields else None
            if (
                field is not None
                and _is_secret_annotation(field.annotation)
                and isinstance(item, str | bytes)
            ):
                yield item
                continue
            yield from secret_values(item, None if field is None else field.annotation)
    elif isinstance(value, list | tuple | set | frozenset):
        for item in value:
            yield from secret_values(item)


def mask_secret_fields(value: Any, model: Any) -> Any:
    """``value`` (plain data, e.g. a resource's or op's config dict as given in YAML) with the
    values of ``model``'s secret fields replaced by :data:`RECORD_MASK`, nested models too.

    Example:
        >>> from pydantic import SecretStr, create_model
        >>> Api = create_model("Api", url=(str, ...), token=(SecretStr, ...))
        >>> mask_secret_fields({"url": "https://x", "token": "from-yaml"}, Api)
        {'url': 'https://x', 'token': '**********'}
    """
    fields = getattr(_model_of(model), "model_fields", None)
    if not fields or not isinstance(value, Mapping):
        return value
    out: dict[Any, Any] = {}
    for key, item in value.items():
        field = fields.get(key)
        if field is None:
            out[key] = item
        elif _is_secret_annotation(field.annotation) and isinstance(item, str | bytes):
            out[key] = RECORD_MASK
        else:
            out[key] = mask_secret_fields(item, field.annotation)
    return out
