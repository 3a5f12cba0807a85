"""The local web UI (``outfitter ui`` / ``outfitter dev``): pages rendered on the server by
Starlette and Jinja2 over the local instance, htmx (vendored) for partial updates.

Install it with ``pip install "outfitter[ui]"``. Nothing here is imported by ``import
outfitter`` or by the other CLI commands; importing this package imports no web library
either until :func:`create_app` or :class:`Workspace` is used (a launched run's process
loads ``outfitter.ui.launch_child`` without Starlette).

Example:
    >>> from outfitter.ui import create_app  # doctest: +SKIP
    >>> app = create_app(Workspace(file=Path("pipeline.py")), Instance.get())  # doctest: +SKIP
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .app import create_app
    from .workspace import Workspace

__all__ = ["Workspace", "create_app"]


def __getattr__(name: str) -> Any:
    if name == "create_app":
        from .app import create_app

        return create_app
    if name == "Workspace":
        from .workspace import Workspace

        return Workspace
    raise AttributeError(f"module 'outfitter.ui' has no attribute {name!r}")
