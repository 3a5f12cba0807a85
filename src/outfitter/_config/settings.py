"""Outfitter's own settings (``OUTFITTER_*``), read with pydantic-settings, and the lookup that
resolves :class:`~outfitter.EnvVar` names against the real environment and a ``.env`` file.

pydantic-settings is imported on first use: it costs about 100 ms, and most runs never read a
``.env`` file or the settings.
"""

from __future__ import annotations

import functools
import os
from pathlib import Path
from typing import Any

__all__ = ["EnvLookup", "get_settings", "settings_class"]


@functools.cache
def settings_class() -> Any:
    """The ``OutfitterSettings`` pydantic-settings class (built on first use)."""
    from pydantic_settings import BaseSettings, SettingsConfigDict

    class OutfitterSettings(BaseSettings):
        """Process-wide settings, each read from ``OUTFITTER_<NAME>`` (or the ``.env`` file).

        Example:
            >>> from outfitter._config.settings import settings_class
            >>> settings_class()(env="prod").env
            'prod'
        """

        model_config = SettingsConfigDict(env_prefix="OUTFITTER_", extra="ignore")

        env: str = "local"
        """Which environment's container :func:`~outfitter.containers_by_env` selects."""
        home: Path = Path(".outfitter")
        """Where :meth:`Instance.get` keeps its SQLite store and storage directory."""
        env_file: Path = Path(".env")
        """The dotenv file EnvVars fall back to when a variable is not in the environment."""
        record_runs: bool = False
        """Record runs started from the Python API (``materialize()``, ``execute_in_process()``,
        ``flow.run()``) without an ``instance=`` in the local instance (``home``) instead of an
        ephemeral one, so ``outfitter runs list`` shows them."""
        log_level: str = "INFO"
        """The level of run logs recorded as LOG events and printed on the console (DEBUG, INFO,
        WARNING, ERROR or CRITICAL); progress lines are INFO, so WARNING silences them."""

    return OutfitterSettings


def get_settings() -> Any:
    """Read the settings now (a change in the environment is seen by the next call).

    Example:
        >>> get_settings().home.name
        '.outfitter'
    """
    env_file = os.environ.get("OUTFITTER_ENV_FILE", ".env")
    return settings_class()(_env_file=env_file)


class _DotEnvCache:
    """Parsed dotenv files, re-read only when the file changes (size or mtime)."""

    def __init__(self) -> None:
        self._cache: dict[Path, tuple[tuple[int, int], dict[str, str]]] = {}

    def read(self, path: Path) -> dict[str, str]:
        path = path.absolute()  # a relative ".env" names a different file after a chdir
        try:
            stat = path.stat()
        except OSError:
            return {}
        stamp = (stat.st_mtime_ns, stat.st_size)
        hit = self._cache.get(path)
        if hit is not None and hit[0] == stamp:
            return hit[1]
        from pydantic_settings import DotEnvSettingsSource

        source = DotEnvSettingsSource(settings_class(), env_file=path, case_sensitive=True)
        values = {k: v for k, v in source.env_vars.items() if v is not None}
        self._cache[path] = (stamp, values)
        return values


_DOTENV = _DotEnvCache()


class EnvLookup:
    """Resolves variable names for one scope: the real environment first, then the ``.env`` file.

    The dotenv file is read at most once per lookup object, and only if a variable is missing
    from the real environment.
    """

    __slots__ = ("_dotenv", "_path")

    def __init__(self, env_file: str | os.PathLike[str] | None = None) -> None:
        self._path = Path(env_file or os.environ.get("OUTFITTER_ENV_FILE", ".env"))
        self._dotenv: dict[str, str] | None = None

    def get(self, name: str) -> str | None:
        """The value of ``name``, or None when neither the environment nor the file sets it."""
        value = os.environ.get(name)
        if value is not None:
            return value
        if self._dotenv is None:
            self._dotenv = _DOTENV.read(self._path)
        return self._dotenv.get(name)
