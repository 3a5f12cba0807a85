"""Signals a task raises to set its own state (Prefect 1 style): ``SUCCESS``, ``FAIL``,
``SKIP``, ``RETRY``, ``PAUSE`` and ``TRIGGERFAIL`` (raised by triggers).

Example:
    >>> from outfitter import signals
    >>> signals.SKIP("nothing new").state.is_skipped()
    True
"""

from ._flows.signals import FAIL, PAUSE, RETRY, SKIP, SUCCESS, TRIGGERFAIL, Signal

__all__ = ["FAIL", "PAUSE", "RETRY", "SKIP", "SUCCESS", "TRIGGERFAIL", "Signal"]
