"""Fixtures of the UI tests: a Starlette test client over a workspace written in the test's
directory and an ephemeral instance."""

from __future__ import annotations

import textwrap
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from outfitter import Instance
from outfitter.ui import Workspace, create_app

ORIGIN = "http://127.0.0.1:3000"
"""The address test clients send requests to (and the Origin their POSTs carry)."""

MakeClient = Callable[..., TestClient]


@pytest.fixture
def ui_instance() -> Iterator[Instance]:
    with Instance.ephemeral() as instance:
        yield instance


@pytest.fixture
def make_client(tmp_path: Path, ui_instance: Instance) -> Iterator[MakeClient]:
    """``make_client(source)``: a client over a file holding ``source`` (dedented) or over the
    file ``Path`` given; POSTs carry the UI's own Origin unless a test says otherwise."""
    clients: list[TestClient] = []

    def make(source: str | Path, *, instance: Instance | None = None) -> TestClient:
        if isinstance(source, Path):
            path = source
        else:
            path = tmp_path / f"defs_{len(clients)}.py"
            path.write_text(textwrap.dedent(source))
        app = create_app(Workspace(file=path), instance or ui_instance)
        client = TestClient(app, base_url=ORIGIN, headers={"origin": ORIGIN})
        clients.append(client)
        return client

    yield make
    for client in clients:
        client.close()
