"""Credentials from environment variables: EnvVar is resolved when the run opens the resource,
the real environment wins over a .env file, and an unset variable is a clear error."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import outfitter as of


class Credentials(of.ConfigurableResource):
    username: str
    password: str


@of.asset
def login_name(credentials: Credentials) -> str:
    return f"{credentials.username} ({len(credentials.password)} character password)"


def resources() -> dict[str, Credentials]:
    return {
        "credentials": Credentials(
            username=of.EnvVar("MY_USERNAME"), password=of.EnvVar("MY_PASSWORD")
        )
    }


if __name__ == "__main__":
    workdir = Path(tempfile.mkdtemp())
    (workdir / ".env").write_text("MY_USERNAME=from-dotenv\nMY_PASSWORD=dotenv-secret\n")
    os.chdir(workdir)
    os.environ.pop("MY_USERNAME", None)
    os.environ.pop("MY_PASSWORD", None)
    print("repr never shows values:", resources()["credentials"])
    result = of.materialize_to_memory([login_name], resources=resources())
    assert result.asset_value("login_name").startswith("from-dotenv")
    os.environ["MY_USERNAME"] = "from-environment"  # the real environment wins
    result = of.materialize_to_memory([login_name], resources=resources())
    assert result.asset_value("login_name").startswith("from-environment")
    print("resolved:", result.asset_value("login_name"))
    (workdir / ".env").unlink()
    os.environ.pop("MY_PASSWORD", None)
    try:
        of.materialize_to_memory([login_name], resources=resources())
    except of.exceptions.ConfigError as exc:
        print("unset variable:", str(exc).splitlines()[1].strip())
    else:
        raise AssertionError("expected a ConfigError")
