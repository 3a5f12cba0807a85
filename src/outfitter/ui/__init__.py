"""The local web UI (``outfitter ui`` / ``outfitter dev``): pages rendered on the server by
Starlette and Jinja2 over the local instance, htmx (vendored) for partial updates.

Install it with ``pip install "outfitter[ui]"``. Nothing here is imported by ``import
outfitter`` or by the other CLI commands.

Example:
    >>> from outfitter.ui import create_app  # doctest: +SKIP
    >>> app = create_app(Workspace(file=Path("pipeline.py")), Instance.get())  # doctest: +SKIP
"""

from __future__ import annotations

from .app import create_app
from .workspace import Workspace

__all__ = ["Workspace", "create_app"]
