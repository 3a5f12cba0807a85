"""The one redaction (``outfitter._config.redaction``): secret values out of text in every
escaped form, out of data, out of exceptions (copies of the same type), and secret fields masked
in recorded config."""

from __future__ import annotations

import json
import pickle
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import BaseModel, SecretBytes, SecretStr, ValidationError

from outfitter._config.redaction import (
    MASK,
    RECORD_MASK,
    Redactor,
    escaped_forms,
    mask_secret_fields,
    secret_values,
)
from outfitter.exceptions import ResourceInitError

SECRETS = st.text(
    alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="*"),
    min_size=4,
    max_size=24,
)


class Field(BaseModel):
    name: list[int]  # refuses every string, quoting it in the message


def renderings(secret: str) -> list[str]:
    """The ways Python and pydantic write a value into a message."""
    try:
        Field(name=secret)  # type: ignore[arg-type]
    except ValidationError as exc:
        pydantic_text = str(exc)
    return [
        f"token {secret} rejected",
        repr(secret),
        ascii(secret),
        json.dumps(secret),
        json.dumps({"token": secret}),
        repr([secret, "x"]),
        repr({"token": secret}),
        str(ValueError(secret)),
        repr(ValueError(secret)),
        repr(ValueError(repr(secret))),
        json.dumps(repr(secret)),
        f"before{secret}after",
        pydantic_text,
    ]


@settings(max_examples=300)
@given(secret=SECRETS, other=SECRETS)
def test_no_form_of_a_secret_survives_redaction(secret: str, other: str) -> None:
    """Property: whatever the secret holds (quotes, backslashes, unicode, text that also
    occurs in the message), no escaped form of it is left in any rendering."""
    redact = Redactor([secret, other])
    for text in renderings(secret):
        out = redact(text)
        for form in escaped_forms(secret):
            assert form not in out, (secret, text, out)


def test_text_without_secrets_is_untouched() -> None:
    redact = Redactor(["hunter2"])
    assert redact("nothing to hide") == "nothing to hide"
    assert Redactor()("hunter2") == "hunter2"  # no secrets known: nothing to mask


def test_short_values_are_not_masked_in_text() -> None:
    """A two-character 'secret' would mask every occurrence of those letters."""
    assert Redactor(["ab"])("abc") == "abc"


def test_quotes_and_backslashes_are_masked_where_they_are_quoted() -> None:
    """An EnvVar value with a quote or a backslash escaped redaction in repr and pydantic
    messages (issue: reliability and security)."""
    secret = "pa'ss\\word\""
    redact = Redactor([secret])
    assert redact(repr(secret)) == repr(MASK)[0] + MASK + repr(MASK)[-1]
    assert secret not in redact(json.dumps({"t": secret}))
    assert "pa\\'ss" not in redact(repr({"t": secret}))


def test_bytes_secrets_are_masked_as_text_and_as_repr() -> None:
    redact = Redactor([b"\x00raw-bytes"])
    assert "raw-bytes" not in redact(repr(b"\x00raw-bytes"))
    assert "raw-bytes" not in redact("\x00raw-bytes")


def test_data_is_redacted_inside_dicts_lists_and_tuples() -> None:
    redact = Redactor(["s3cret"])
    data = {"a": ["x s3cret", ("s3cret",)], "s3cret-key": 1, "n": 5}
    assert redact.value(data) == {"a": ["x ***", ("***",)], "***-key": 1, "n": 5}


def test_an_exception_is_copied_with_its_type_and_traceback() -> None:
    """The copy matches the same `except` clauses and points at the same frames; the original
    keeps its text."""
    redact = Redactor(["hunter2"])
    try:
        raise ConnectionError("401 for token hunter2")
    except ConnectionError as exc:
        original = exc
    copy = redact.exception(original)
    assert type(copy) is ConnectionError
    assert str(copy) == "401 for token ***"
    assert copy.__traceback__ is original.__traceback__
    assert str(original) == "401 for token hunter2"


def test_clean_exceptions_are_returned_as_they_are() -> None:
    error = ValueError("no secret here")
    assert Redactor(["hunter2"]).exception(error) is error


def test_causes_contexts_and_notes_are_redacted_too() -> None:
    redact = Redactor(["hunter2"])
    try:
        try:
            raise KeyError("hunter2")
        except KeyError as inner:
            raise RuntimeError("wrapping") from inner
    except RuntimeError as exc:
        exc.add_note("seen with hunter2")
        outer = exc
    copy = redact.exception(outer)
    assert copy is not outer
    assert str(copy) == "wrapping"
    assert copy.__notes__ == ["seen with ***"]
    assert isinstance(copy.__cause__, KeyError)
    assert str(copy.__cause__) == "'***'"


def test_exceptions_with_their_own_init_and_str_are_masked() -> None:
    """An __init__ that does not take its args back, a __str__ built from attributes."""

    class ApiError(Exception):
        def __init__(self, status: int, body: str) -> None:
            super().__init__(status)
            self.body = body

        def __str__(self) -> str:
            return f"{self.args[0]}: {self.body}"

    redact = Redactor(["hunter2"])
    copy = redact.exception(ApiError(401, "bad token hunter2"))
    assert isinstance(copy, ApiError)
    assert "hunter2" not in str(copy)
    assert str(copy) == "401: bad token ***"


def test_outfitter_errors_survive_pickling_redacted() -> None:
    """What a worker sends back: the redacted copy, pickled, with its class and fields."""
    error = ResourceInitError("resource 'db' failed: token hunter2", key="db")
    copy = pickle.loads(pickle.dumps(Redactor(["hunter2"]).exception(error)))
    assert isinstance(copy, ResourceInitError)
    assert copy.key == "db"
    assert "hunter2" not in str(copy)


class Inner(BaseModel):
    password: SecretStr


class Api(BaseModel):
    url: str
    token: SecretStr | None = None
    blob: SecretBytes | None = None
    inner: Inner | None = None


def test_secret_values_finds_secret_objects_and_plain_values_of_secret_fields() -> None:
    """SecretStr objects anywhere, and plain strings given (YAML) for secret fields."""
    given_in_code = Api(url="u", token=SecretStr("code-token"), inner=Inner(password="pw-1"))  # type: ignore[arg-type]
    assert sorted(map(str, secret_values(given_in_code))) == ["code-token", "pw-1"]
    from_yaml: dict[str, Any] = {"url": "u", "token": "yaml-token", "inner": {"password": "pw-2"}}
    assert sorted(map(str, secret_values(from_yaml, Api))) == ["pw-2", "yaml-token"]
    assert list(secret_values({"url": "u"}, Api)) == []


def test_secret_fields_are_masked_in_recorded_config() -> None:
    data = {"url": "u", "token": "yaml-token", "inner": {"password": "pw"}, "extra": 1}
    assert mask_secret_fields(data, Api) == {
        "url": "u",
        "token": RECORD_MASK,
        "inner": {"password": RECORD_MASK},
        "extra": 1,
    }
    assert mask_secret_fields(data, None) is data


@pytest.mark.parametrize("text", ["", "plain"])
def test_an_empty_redactor_is_a_no_op(text: str) -> None:
    redact = Redactor()
    assert not redact
    assert redact(text) is text
    assert redact.value({"a": text}) == {"a": text}
