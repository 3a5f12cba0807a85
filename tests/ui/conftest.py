"""Fixtures of the UI tests, on Outfitter's pytest plugin: ``make_client`` is
``outfitter_ui_client`` (a Starlette test client over a workspace written in the test's
directory and the test's ephemeral instance), ``ui_instance`` is ``outfitter_instance``."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from starlette.testclient import TestClient

from outfitter import Instance

ORIGIN = "http://127.0.0.1:3000"
"""The address test clients send requests to (and the Origin their POSTs carry)."""

MakeClient = Callable[..., TestClient]


@pytest.fixture
def ui_instance(outfitter_instance: Instance) -> Instance:
    return outfitter_instance


@pytest.fixture
def make_client(outfitter_ui_client: Any) -> MakeClient:
    """``make_client(source)``: a client over a file holding ``source`` (dedented) or over the
    file ``Path`` given; POSTs carry the UI's own Origin unless a test says otherwise."""
    client: MakeClient = outfitter_ui_client
    return client
