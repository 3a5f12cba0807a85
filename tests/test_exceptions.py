"""Outfitter's exceptions (``outfitter.exceptions``): one base, messages with problems and a
hint, and every class survives pickling with its class and fields (workers send them back)."""

from __future__ import annotations

import pickle

import pytest

from outfitter.exceptions import (
    ConfigError,
    DefinitionError,
    InvocationError,
    MissingResourceError,
    OutfitterError,
    ResourceInitError,
    TeardownError,
)

ERRORS = {
    "OutfitterError": OutfitterError("broken", hint="fix it", problems=["a", "b"]),
    "DefinitionError": DefinitionError("cycle", hint="remove it"),
    "MissingResourceError": MissingResourceError("no 'db'", keys=["db"], hint="bind it"),
    "ConfigError": ConfigError("bad config", problems=["field 'x': required"]),
    "ResourceInitError": ResourceInitError("resource 'db' failed to open", key="db", hint="h"),
    "TeardownError": TeardownError({"db": OSError("commit failed")}),
    "InvocationError": InvocationError("scope closed", hint="open a new one"),
}


@pytest.mark.parametrize("error", ERRORS.values(), ids=ERRORS.keys())
def test_every_error_survives_pickling_with_its_fields(error: OutfitterError) -> None:
    copy = pickle.loads(pickle.dumps(error))
    assert type(copy) is type(error)
    assert str(copy) == str(error)
    assert copy.problems == error.problems
    assert copy.hint == error.hint
    for field in ("key", "keys"):
        if hasattr(error, field):
            assert getattr(copy, field) == getattr(error, field)


def test_teardown_errors_of_several_processes_merge() -> None:
    """One error for a coordinator's and its workers' failed closes, every line kept."""
    first = TeardownError({"db": OSError("x")}, problems=["db: OSError: x (worker pid 1)"])
    second = TeardownError({"cache": OSError("y")})
    merged = TeardownError.merge([first, second])
    assert merged.keys == ("db", "cache")
    assert merged.problems == ("db: OSError: x (worker pid 1)", "cache: OSError: y")
    assert TeardownError.merge([first]) is first
