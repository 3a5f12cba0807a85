"""The name of Outfitter's pytest plugin for ``-p`` and ``pytest_plugins``.

pytest loads the plugin by itself, through the ``pytest11`` entry point named ``outfitter``
(``-p no:outfitter`` turns it off). Where plugin autoloading is off
(``PYTEST_DISABLE_PLUGIN_AUTOLOAD``), ask for it with ``-p outfitter`` or with
``pytest_plugins = ["outfitter.testing.pytest_plugin"]`` in a top-level ``conftest.py``.

Loading this module registers the plugin under the name ``outfitter`` unless it is registered
already, so asking for it twice (the entry point and ``-p``) loads it once, and
``-p no:outfitter`` still wins. The plugin's code lives in a module outside the ``outfitter``
package (``_outfitter_pytest``): pytest imports it in every test run, and importing ``outfitter``
would cost every run a few hundred milliseconds.

Example:
    >>> from outfitter.testing import pytest_plugin
    >>> pytest_plugin.PLUGIN_NAME
    'outfitter'
"""

from __future__ import annotations

from typing import Any

import _outfitter_pytest

__all__ = ["PLUGIN_NAME", "pytest_plugin_registered"]

PLUGIN_NAME = "outfitter"
"""The plugin's name: the entry point's, and what ``-p no:outfitter`` blocks."""


def pytest_plugin_registered(plugin: Any, manager: Any) -> None:
    """When pytest registers this module, register the plugin itself under its own name."""
    import sys

    if plugin is not sys.modules[__name__] or manager.is_registered(_outfitter_pytest):
        return
    if manager.get_plugin(PLUGIN_NAME) is None and not manager.is_blocked(PLUGIN_NAME):
        manager.register(_outfitter_pytest, PLUGIN_NAME)
