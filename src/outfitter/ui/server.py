"""Serving the UI: uvicorn on one address, over the local instance (``OUTFITTER_HOME``).

Example:
    >>> serve(Workspace(file=Path("pipeline.py")), port=3000)  # doctest: +SKIP
"""

from __future__ import annotations

import sys

import uvicorn

from .._instance import Instance
from .app import create_app
from .workspace import Workspace

__all__ = ["serve"]


def serve(
    workspace: Workspace, *, host: str = "127.0.0.1", port: int = 3000, dev: bool = False
) -> None:
    """Serve the UI until Ctrl-C / SIGTERM (uvicorn handles both, finishing open requests)."""
    with Instance.get() as instance:
        app = create_app(workspace, instance, host=host)
        shown = f"[{host}]" if ":" in host else host
        print(f"Outfitter UI: http://{shown}:{port}  (Ctrl-C to stop)", file=sys.stderr)
        uvicorn.run(app, host=host, port=port, log_level="warning")
