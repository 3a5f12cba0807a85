"""Testing with resources: override one provider of a container for a block (dependency-injector's
own overriding), record the order resources open and close, and call an asset directly."""

from __future__ import annotations

from typing import Any

import outfitter as of
from outfitter.testing import ResourceRecorder, override_resources


class Mailer(of.ConfigurableResource):
    sender: str

    def send(self, to: str) -> str:
        raise RuntimeError("no mail server in tests")


class FakeMailer(Mailer):
    def send(self, to: str) -> str:
        return f"{self.sender} -> {to}"


@of.asset
def welcome(mailer: Mailer) -> str:
    return mailer.send("ada@example.com")


class Prod(of.ResourceContainer):
    mailer = Mailer(sender="noreply@example.com")


def test_welcome_with_an_overridden_provider() -> None:
    with Prod.mailer.override(FakeMailer(sender="test@example.com")):
        result = of.materialize_to_memory([welcome], resources=Prod)
    assert result.asset_value("welcome") == "test@example.com -> ada@example.com"


def test_override_helper_and_recorder() -> None:
    rec = ResourceRecorder()
    resources: dict[str, Any] = {"mailer": Mailer(sender="x"), "audit": rec.resource("audit")}
    with (
        override_resources(resources, mailer=FakeMailer(sender="y")),
        of.build_resources(resources) as res,
    ):
        assert res.mailer.send("z") == "y -> z"
    assert rec.events == [("open", "audit"), ("close", "audit")]


def test_direct_invocation() -> None:
    assert welcome(mailer=FakeMailer(sender="me")) == "me -> ada@example.com"


if __name__ == "__main__":
    for name, fn in list(globals().items()):
        if name.startswith("test_") and callable(fn):
            fn()
            print("passed:", name)
