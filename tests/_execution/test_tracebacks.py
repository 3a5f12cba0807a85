"""Failure events keep the redacted message and the whole traceback (chained causes included),
masked, with a copy that leaves out Outfitter's own frames; the same from workers."""

from __future__ import annotations

import json
import traceback
from pathlib import Path
from typing import Any

import pytest
from pydantic import SecretStr

import outfitter as of
from outfitter._config.redaction import Redactor
from outfitter._execution.tracebacks import (
    OUTFITTER_DIR,
    failure_details,
    format_traceback,
    is_outfitter_frame,
)
from outfitter._instance import EventRecord, EventType
from outfitter.exceptions import ResourceInitError

SECRET = "s3cr3t-tok3n-value"


def _raise_chained() -> None:
    try:
        raise ConnectionError(f"401 for token {SECRET}")
    except ConnectionError as exc:
        raise RuntimeError(f"login failed ({SECRET!r})") from exc


def test_format_traceback_keeps_the_chain_and_masks_every_secret() -> None:
    with pytest.raises(RuntimeError) as info:
        _raise_chained()
    text = format_traceback(info.value, Redactor([SECRET]))
    assert text == Redactor([SECRET])("".join(traceback.format_exception(info.value)))
    assert "ConnectionError: 401 for token ***" in text
    assert "RuntimeError: login failed ('***')" in text
    assert "direct cause" in text
    assert "_raise_chained" in text
    assert SECRET not in text  # also not in the source line of the raising frame
    assert 'raise ConnectionError(f"401 for token {SECRET}")' in text  # source lines are kept


def test_user_traceback_drops_outfitter_frames_only() -> None:
    redact = Redactor([SECRET])

    class Boom(of.ConfigurableResource):
        def setup_for_execution(self, context: Any) -> None:
            _raise_chained()

    with pytest.raises(ResourceInitError) as info, of.build_resources({"boom": Boom()}):
        pass
    full = format_traceback(info.value, redact)
    user = format_traceback(info.value, redact, user_only=True)
    assert OUTFITTER_DIR in full
    assert OUTFITTER_DIR not in user
    for text in (full, user):
        assert "setup_for_execution" in text
        assert "_raise_chained" in text
        assert "ResourceInitError" in text
        assert "ConnectionError: 401 for token ***" in text
        assert SECRET not in text
    assert is_outfitter_frame(of.__file__)
    assert not is_outfitter_frame(__file__)


def test_failure_details_of_an_unprintable_exception() -> None:
    class Unprintable(Exception):
        def __str__(self) -> str:
            raise TypeError("no")

    details = failure_details(Unprintable())
    assert details["error_type"] == "Unprintable"
    assert details["message"] == "Unprintable: <unprintable>"


class Vault(of.ConfigurableResource):
    """Fails where ``fail`` says, quoting its token."""

    token: SecretStr
    fail: str = ""

    def setup_for_execution(self, context: Any) -> None:
        if self.fail == "setup":
            raise ConnectionError(f"401 for token {self.token.get_secret_value()}")

    def teardown_after_execution(self, context: Any) -> None:
        if self.fail == "teardown":
            raise OSError(f"commit refused for {self.token.get_secret_value()}")


@of.asset(name="ok")
def ok_asset(vault: Vault) -> int:
    return 1


@of.asset(name="boom")
def boom_asset(vault: Vault, ok: int) -> int:
    raise ValueError(f"step saw {vault.token.get_secret_value()}")


@of.task(max_retries=1, retry_delay=0)
def flaky(vault: of.ResourceParam[Vault]) -> int:
    raise KeyError(f"missing {vault.token.get_secret_value()}")


def _events(assets: list[Any], fail: str, executor: Any, tmp_path: Path) -> list[EventRecord]:
    defs = of.Definitions(
        assets=assets,
        resources={"vault": Vault(token=SecretStr(SECRET), fail=fail)},
        executor=executor,
    )
    with of.Instance.local(tmp_path / "home") as instance:
        result = defs.get_implicit_global_asset_job_def().execute(
            instance=instance, raise_on_error=False
        )
        assert not result.success
        events = instance.all_events(result.run_id)
    assert SECRET not in json.dumps([(e.message, e.data) for e in events])
    return events


def _one(events: list[EventRecord], kind: EventType) -> EventRecord:
    found = [e for e in events if e.event_type is kind]
    assert found, f"no {kind.value} in {[e.event_type.value for e in events]}"
    return found[0]


def _check(data: Any, error_type: str, *in_user_code: str) -> None:
    assert data["error_type"] == error_type
    assert data["message"].startswith(f"{error_type}: ")
    assert f"{error_type}: " in data["traceback"]
    assert "Traceback (most recent call last)" in data["traceback"]
    for name in in_user_code:
        assert name in data["traceback"]
        assert name in data["user_traceback"]
    assert OUTFITTER_DIR not in data["user_traceback"]


EXECUTORS = {
    "in_process": lambda: of.in_process_executor,
    "multiprocess": lambda: of.multiprocess_executor(max_concurrent=1),
}


@pytest.mark.parametrize("executor", sorted(EXECUTORS))
def test_a_step_failure_keeps_its_traceback(tmp_path: Path, executor: str) -> None:
    events = _events([ok_asset, boom_asset], "", EXECUTORS[executor](), tmp_path)
    failure = _one(events, EventType.STEP_FAILURE)
    assert failure.message == "ValueError: step saw ***"
    _check(failure.data, "ValueError", "boom_asset")
    assert "ValueError: step saw ***" in failure.data["traceback"]
    run_failure = _one(events, EventType.RUN_FAILURE)
    _check(run_failure.data, "ValueError")


@pytest.mark.parametrize("executor", sorted(EXECUTORS))
def test_a_retry_keeps_its_traceback(tmp_path: Path, executor: str) -> None:
    with of.Flow("retrying", resources={"vault": Vault(token=SecretStr(SECRET))}) as flow:
        flaky()
    with of.Instance.local(tmp_path / "home") as instance:
        state = flow.run(instance=instance, executor=EXECUTORS[executor]())
        assert state.is_failed()
        [record] = instance.get_runs()
        events = instance.all_events(record.run_id)
    assert SECRET not in json.dumps([(e.message, e.data) for e in events])
    retry = _one(events, EventType.STEP_RETRY)
    assert retry.message.startswith("retry 1 of 1: KeyError")
    _check(retry.data, "KeyError", "flaky")
    _check(_one(events, EventType.STEP_FAILURE).data, "KeyError", "flaky")


@pytest.mark.parametrize("executor", sorted(EXECUTORS))
def test_a_resource_failure_keeps_its_message_and_traceback(tmp_path: Path, executor: str) -> None:
    events = _events([ok_asset], "setup", EXECUTORS[executor](), tmp_path)
    failure = _one(events, EventType.RESOURCE_FAILURE)
    assert "ConnectionError: 401 for token ***" in failure.message
    _check(failure.data, "ConnectionError", "setup_for_execution")
    run_failure = _one(events, EventType.RUN_FAILURE)
    _check(run_failure.data, "ResourceInitError")
    assert "ConnectionError: 401 for token ***" in run_failure.data["traceback"]


@pytest.mark.parametrize("executor", sorted(EXECUTORS))
def test_a_close_failure_keeps_its_traceback(tmp_path: Path, executor: str) -> None:
    events = _events([ok_asset], "teardown", EXECUTORS[executor](), tmp_path)
    failure = _one(events, EventType.RESOURCE_FAILURE)
    assert "OSError: commit refused for ***" in failure.message
    _check(failure.data, "OSError", "teardown_after_execution")
    # the run's TeardownError gathers every process's close failures (on workers: as text)
    run_failure = _one(events, EventType.RUN_FAILURE).data
    assert run_failure["error_type"] == "TeardownError"
    assert "OSError: commit refused for ***" in run_failure["traceback"]
