"""``outfitter ui`` and ``outfitter dev``: the local web UI (the ``outfitter[ui]`` extra),
imported only when one of them runs."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from ..exceptions import InvocationError

__all__ = ["HostOpt", "PortOpt", "serve"]

HostOpt = Annotated[
    str, typer.Option("--host", help="Address to listen on (loopback unless you say otherwise).")
]
PortOpt = Annotated[int, typer.Option("--port", "-p", help="Port to listen on.")]


def _ui_module() -> Any:
    """``outfitter.ui.server`` (which imports Starlette, uvicorn and Jinja2)."""
    try:
        from ..ui import server
    except ModuleNotFoundError as exc:
        package = (exc.name or "outfitter").split(".")[0]
        if package == "outfitter":
            raise  # a broken installation of Outfitter itself, not a missing extra
        raise InvocationError(
            f"the UI needs packages that are not installed (no module named {package!r})",
            hint='install the extra: pip install "outfitter[ui]".',
        ) from None
    return server


def serve(
    file: Path | None, module: str | None, host: str, port: int, dev: bool, debug: bool = False
) -> None:
    """Check the arguments of ``outfitter ui`` / ``outfitter dev``, then serve (until Ctrl-C or
    SIGTERM); a port in use or a missing ``outfitter[ui]`` extra is an
    :class:`~outfitter.exceptions.InvocationError`.

    Example:
        >>> serve(None, None, "127.0.0.1", 3000, dev=False)
        Traceback (most recent call last):
        outfitter.exceptions.InvocationError: give exactly one of -f FILE or -m MODULE
        Hint: e.g. `outfitter ui -f pipeline.py` (or `outfitter dev -f pipeline.py`).
    """
    if (file is None) == (module is None):
        raise InvocationError(
            "give exactly one of -f FILE or -m MODULE",
            hint="e.g. `outfitter ui -f pipeline.py` (or `outfitter dev -f pipeline.py`).",
        )
    if not 0 < port < 65536:
        raise InvocationError(f"--port must be 1-65535, got {port}", hint="e.g. --port 3000.")
    server = _ui_module()
    workspace = server.Workspace(file, module)
    server.serve(workspace, host=host, port=port, dev=dev, debug=debug)
