"""Resource state: an API client that fetches a token in setup_for_execution, once per run,
keeps it in a PrivateAttr, and uses it from an asset."""

from __future__ import annotations

import json
import urllib.request
from typing import Any

from _local_api import local_api
from pydantic import PrivateAttr

import outfitter as of


class UsersApi(of.ConfigurableResource):
    base_url: str
    username: str
    password: str
    _api_token: str = PrivateAttr()

    def setup_for_execution(self, context: of.InitResourceContext) -> None:
        body = json.dumps({"user": self.username, "password": self.password}).encode()
        request = urllib.request.Request(f"{self.base_url}/token", data=body, method="POST")
        with urllib.request.urlopen(request, timeout=5) as response:
            self._api_token = json.load(response)["token"]

    def get_all_users(self) -> list[dict[str, Any]]:
        request = urllib.request.Request(
            f"{self.base_url}/users", headers={"Authorization": f"Bearer {self._api_token}"}
        )
        with urllib.request.urlopen(request, timeout=5) as response:
            return list(json.load(response))


@of.asset
def all_users(client: UsersApi) -> list[dict[str, Any]]:
    return client.get_all_users()


if __name__ == "__main__":
    with local_api() as url:
        client = UsersApi(base_url=url, username="svc", password="demo-api-secret")
        result = of.materialize_to_memory([all_users], resources={"client": client})
    names = [u["name"] for u in result.asset_value("all_users")]
    assert names == ["ada", "grace"], names
    print("users:", ", ".join(names))
