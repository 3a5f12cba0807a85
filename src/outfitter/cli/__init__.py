"""The ``outfitter`` command line (typer + rich).

Commands load a ``Definitions`` object named ``defs`` from ``-f FILE`` or ``-m MODULE``. Errors
print Outfitter's message (no traceback unless ``--debug``); secrets are never printed.
"""

from .app import app, main

__all__ = ["app", "main"]
