"""``IsolatedEnv``: what the ``outfitter_env`` fixture returns. A test's view of the process
environment, cut off from the developer's: ``OUTFITTER_*`` variables cleared, the instance
home and the dotenv file under the test's temporary directory (no ``.env`` is read unless the
test writes one), and helpers to set the variables that ``EnvVar`` names. Every change goes
through pytest's ``monkeypatch`` and is undone after the test."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pytest

__all__ = ["IsolatedEnv"]

PREFIX = "OUTFITTER_"


def _name(variable: str) -> str:
    """The variable's name, for a plain string or an ``EnvVar`` (whose ``str()`` refuses)."""
    name = getattr(variable, "env_var_name", variable)
    return str.__str__(name)


def _quoted(value: str) -> str:
    escaped = value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
    return f'"{escaped}"'


class IsolatedEnv:
    """The environment of one test (the ``outfitter_env`` fixture).

    Made with a ``monkeypatch`` and a directory (the test's ``tmp_path``): every ``OUTFITTER_*``
    variable of the outer environment is removed, ``OUTFITTER_HOME`` points at ``<dir>/home``
    and ``OUTFITTER_ENV_FILE`` at ``<dir>/.env``, which does not exist until the test writes it
    (:meth:`write_dotenv`), so the developer's ``./.env`` is never read.

    Example:
        >>> import tempfile
        >>> import pytest
        >>> from outfitter import EnvVar
        >>> from outfitter.testing import IsolatedEnv
        >>> with pytest.MonkeyPatch.context() as mp:
        ...     env = IsolatedEnv(mp, Path(tempfile.mkdtemp()))
        ...     env.set(EnvVar("API_TOKEN"), "t0ken")
        ...     EnvVar("API_TOKEN").get_value(), env.home.name
        ('t0ken', 'home')
    """

    def __init__(
        self,
        monkeypatch: pytest.MonkeyPatch,
        directory: Path,
        *,
        environment: str | None = None,
        containers: Mapping[str, Any] | None = None,
    ) -> None:
        self._mp = monkeypatch
        self.directory = Path(directory)
        """The test's directory (home and dotenv file live in it)."""
        for name in list(os.environ):
            if name.startswith(PREFIX):
                monkeypatch.delenv(name)
        self.home = self.directory / "home"
        """``OUTFITTER_HOME``: where ``Instance.get()`` and the CLI keep runs."""
        self.dotenv_path = self.directory / ".env"
        """``OUTFITTER_ENV_FILE``: the only dotenv file read (absent until written)."""
        monkeypatch.setenv("OUTFITTER_HOME", str(self.home))
        monkeypatch.setenv("OUTFITTER_ENV_FILE", str(self.dotenv_path))
        self.environment = environment
        """The ``OUTFITTER_ENV`` this test runs in (set by ``@pytest.mark.outfitter_envs``);
        None when the test is not parametrized by environment."""
        self._containers = dict(containers or {})
        if environment is not None:
            monkeypatch.setenv("OUTFITTER_ENV", environment)

    @property
    def container(self) -> Any:
        """The container ``@pytest.mark.outfitter_envs(local=Local, prod=Prod)`` gave for this
        test's environment (what ``containers_by_env(...)`` returns in it)."""
        if self.environment is None or self.environment not in self._containers:
            raise LookupError(
                "no container for this test: give them to the marker, e.g. "
                "@pytest.mark.outfitter_envs(local=Local, prod=Prod)"
            )
        return self._containers[self.environment]

    def set(self, variable: str, value: str) -> None:
        """Set the variable ``variable`` names (a name or an ``EnvVar``) for this test."""
        self._mp.setenv(_name(variable), value)

    def set_many(self, values: Mapping[str, str]) -> None:
        """Set several variables: ``{name or EnvVar: value}``."""
        for variable, value in values.items():
            self.set(variable, value)

    def unset(self, variable: str) -> None:
        """Remove a variable (a name or an ``EnvVar``) for this test, if set."""
        self._mp.delenv(_name(variable), raising=False)

    def use_environment(self, name: str) -> None:
        """Set ``OUTFITTER_ENV`` (which container ``containers_by_env`` picks) for this test."""
        self.environment = name
        self._mp.setenv("OUTFITTER_ENV", name)

    def write_dotenv(self, values: Mapping[str, str] | None = None, **more: str) -> Path:
        """Write the test's dotenv file (``OUTFITTER_ENV_FILE``) with these variables,
        replacing what it held; returns its path."""
        items = {**{_name(k): v for k, v in (values or {}).items()}, **more}
        self.dotenv_path.parent.mkdir(parents=True, exist_ok=True)
        self.dotenv_path.write_text("".join(f"{k}={_quoted(v)}\n" for k, v in items.items()))
        return self.dotenv_path

    def __repr__(self) -> str:
        return f"IsolatedEnv(home={str(self.home)!r}, environment={self.environment!r})"
