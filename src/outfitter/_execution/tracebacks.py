"""Failure details as events keep them: the redacted message and the formatted traceback.

Failure events (STEP_FAILURE, STEP_RETRY, RESOURCE_FAILURE, RUN_FAILURE) carry
:func:`failure_details` in their ``data``: ``error_type``, ``message``, ``traceback`` (the whole
``traceback.format_exception`` text, chained causes and contexts included) and
``user_traceback`` (the same without the frames of Outfitter's own package). Every text is
passed through the run's :class:`~outfitter._config.redaction.Redactor`, so a secret the run
knows is masked in every frame's source line and every message of the chain. Workers build the
details themselves and send them as text: a traceback never crosses processes as an object.

The CLI reuses :func:`format_traceback` and :func:`is_outfitter_frame` to decide what to show.
"""

from __future__ import annotations

import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any

__all__ = [
    "OUTFITTER_DIR",
    "failure_details",
    "format_traceback",
    "is_outfitter_frame",
]

OUTFITTER_DIR = str(Path(__file__).resolve().parents[1])
"""The directory of the installed ``outfitter`` package: frames in it are Outfitter's own."""

_PREFIX = OUTFITTER_DIR.rstrip("/\\") + "/"


def _identity(text: str) -> str:
    return text


def is_outfitter_frame(filename: str) -> bool:
    """Whether a frame's file is part of the installed ``outfitter`` package.

    Example:
        >>> import outfitter._execution.driver as driver
        >>> is_outfitter_frame(driver.__file__), is_outfitter_frame("/home/me/pipeline.py")
        (True, False)
    """
    try:
        resolved = str(Path(filename).resolve())
    except (OSError, ValueError):
        return False
    return resolved.startswith(_PREFIX)


def _drop_outfitter_frames(exc: traceback.TracebackException, seen: set[int] | None = None) -> None:
    """Remove Outfitter's frames from ``exc`` and from every exception chained to it."""
    seen = set() if seen is None else seen
    if id(exc) in seen:
        return
    seen.add(id(exc))
    exc.stack = traceback.StackSummary.from_list(
        [f for f in exc.stack if not is_outfitter_frame(f.filename)]
    )
    for chained in (exc.__cause__, exc.__context__):
        if chained is not None:
            _drop_outfitter_frames(chained, seen)
    for member in getattr(exc, "exceptions", None) or ():  # an exception group's members
        _drop_outfitter_frames(member, seen)


def format_traceback(
    exc: BaseException,
    redact: Callable[[str], str] | None = None,
    *,
    user_only: bool = False,
) -> str:
    """``exc``'s full traceback as ``traceback.format_exception`` writes it (chained causes and
    contexts included), passed through ``redact`` (a run's Redactor, or ``scope.redact``);
    ``user_only`` drops the frames of Outfitter's own package.

    Example:
        >>> from outfitter._config.redaction import Redactor
        >>> try:
        ...     raise ConnectionError("401 for token hunter2")
        ... except ConnectionError as exc:
        ...     text = format_traceback(exc, Redactor(["hunter2"]))
        >>> text.splitlines()[-1]
        'ConnectionError: 401 for token ***'
    """
    redact = redact or _identity
    if not user_only:
        return redact("".join(traceback.format_exception(exc)))
    summary = traceback.TracebackException.from_exception(exc)
    _drop_outfitter_frames(summary)
    return redact("".join(summary.format()))


def failure_details(
    exc: BaseException, redact: Callable[[str], str] | None = None
) -> dict[str, Any]:
    """What a failure event keeps in its ``data`` about ``exc``, every text redacted:
    ``error_type``, ``message`` (``"Type: text"``), ``traceback`` and ``user_traceback``.

    Example:
        >>> from outfitter._config.redaction import Redactor
        >>> try:
        ...     raise ValueError("bad password hunter2")
        ... except ValueError as exc:
        ...     details = failure_details(exc, Redactor(["hunter2"]))
        >>> details["error_type"], details["message"]
        ('ValueError', 'ValueError: bad password ***')
        >>> "hunter2" in details["traceback"] + details["user_traceback"]
        False
    """
    redact = redact or _identity
    try:
        text = str(exc)
    except Exception:  # an exception whose __str__ fails
        text = "<unprintable>"
    try:
        full = format_traceback(exc, redact)
        user = format_traceback(exc, redact, user_only=True)
    except Exception:  # formatting must never fail the run it describes
        full = user = redact(f"{type(exc).__name__}: {text}\n")
    return {
        "error_type": type(exc).__name__,
        "message": redact(f"{type(exc).__name__}: {text}"),
        "traceback": full,
        "user_traceback": user,
    }
