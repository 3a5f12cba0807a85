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
    try:
        from .. import ui
    except ImportError as exc:
        raise InvocationError(
            f"the UI needs packages that are not installed ({exc.name or exc})",
            hint='install the extra: pip install "outfitter[ui]".',
        ) from None
    return ui


def serve(file: Path | None, module: str | None, host: str, port: int, dev: bool) -> None:
    if (file is None) == (module is None):
        raise InvocationError(
            "give exactly one of -f FILE or -m MODULE",
            hint="e.g. `outfitter ui -f pipeline.py`.",
        )
    if not 0 < port < 65536:
        raise InvocationError(f"--port must be 1-65535, got {port}", hint="e.g. --port 3000.")
    ui = _ui_module()
    from ..ui.server import serve

    serve(ui.Workspace(file, module), host=host, port=port, dev=dev)
