"""The run timeline: steps and resource spans built from events (retries, skips, failures,
resources without a close, overlapping spans, worker processes), its SVG (escaped), and the
timeline of real runs on the in-process and multiprocess executors."""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

from outfitter import Instance
from outfitter._instance import EventRecord, EventType
from outfitter.ui.timeline import build_timeline, process_of, timeline_svg

from .conftest import MakeClient

E = EventType


def ev(
    t: float,
    kind: EventType,
    step: str | None = None,
    res: str | None = None,
    msg: str = "",
    dur: float | None = None,
    data: Any = None,
) -> EventRecord:
    return EventRecord(int(t * 1000), "run", t, kind, step, res, msg, dur, data)


def spans_of(timeline: Any) -> dict[tuple[str, str], list[Any]]:
    return {(lane.name, row.label): row.spans for lane in timeline.lanes for row in lane.rows}


def test_steps_retries_skips_and_failures() -> None:
    """A step spans its start to its end; retries mark where attempts failed; a skipped step
    is a mark; a step started but never ended is running while the run goes, incomplete once
    it ended."""
    events = [
        ev(10.0, E.RUN_START),
        ev(10.0, E.STEP_START, "flaky"),
        ev(10.5, E.STEP_RETRY, "flaky", msg="retry 1 of 2", dur=0.5),
        ev(11.0, E.STEP_SUCCESS, "flaky", dur=1.0),
        ev(11.0, E.STEP_START, "bad"),
        ev(11.2, E.STEP_FAILURE, "bad", msg="ValueError: x", dur=0.2),
        ev(11.3, E.STEP_SKIPPED, "after"),
        ev(11.3, E.STEP_START, "slow"),
    ]
    live = spans_of(build_timeline(events, now=20.0, finished=False))
    (flaky,) = live["Steps", "flaky"]
    assert (flaky.start, flaky.end, flaky.status, flaky.retries) == (10.0, 11.0, "SUCCESS", [10.5])
    (bad,) = live["Steps", "bad"]
    assert (bad.end, bad.status, bad.detail) == (11.2, "FAILURE", "ValueError: x")
    (after,) = live["Steps", "after"]
    assert (after.start, after.end, after.status) == (11.3, 11.3, "SKIPPED")
    (slow,) = live["Steps", "slow"]
    assert (slow.end, slow.status) == (None, "RUNNING")
    timeline = build_timeline(events, now=20.0, finished=False)
    assert (timeline.start, timeline.end, timeline.live) == (10.0, 20.0, True)

    ended = build_timeline([*events, ev(12.0, E.RUN_CANCELED)], now=20.0, finished=True)
    assert (ended.end, ended.live) == (12.0, False)
    assert spans_of(ended)["Steps", "slow"][0].status == "INCOMPLETE"


def test_a_step_end_without_its_start_spans_its_duration() -> None:
    """A step whose STEP_START was not read (e.g. recorded with its end) starts at its end
    less its duration."""
    (span,) = spans_of(
        build_timeline([ev(5.0, E.STEP_SUCCESS, "s", dur=2.0)], now=9, finished=True)
    )["Steps", "s"]
    assert (span.start, span.end) == (3.0, 5.0)


def test_resource_spans_per_process() -> None:
    """Open (less its opening time) to close; a failed open and a failed close; spans grouped
    by the process named in the message, the coordinator first; a resource with no close is
    held to the run's end once it ended; overlapping spans of one key get a second row."""
    events = [
        ev(1.0, E.RESOURCE_OPEN, res="db", dur=0.5),
        ev(2.0, E.RESOURCE_OPEN, res="db", msg="pid 42", dur=0.25),
        ev(2.0, E.RESOURCE_OPEN, res="db", msg="pid 7", dur=0.1),
        ev(
            2.5,
            E.RESOURCE_FAILURE,
            res="api",
            msg="pid 7 OSError: down",
            dur=0.5,
            data={"message": "OSError: down", "traceback": "tb"},
        ),
        ev(3.0, E.RESOURCE_OPEN, res="step_scoped", dur=0.0),
        ev(3.1, E.RESOURCE_OPEN, res="step_scoped", dur=0.0),
        ev(3.5, E.RESOURCE_CLOSE, res="step_scoped", dur=0.1),
        ev(3.6, E.RESOURCE_CLOSE, res="step_scoped", dur=0.1),
        ev(4.0, E.RESOURCE_CLOSE, res="db", msg="pid 42", dur=0.5),
        ev(4.0, E.RESOURCE_FAILURE, res="db", msg="pid 7 RuntimeError: close", dur=0.2),
        ev(4.5, E.RESOURCE_OPEN, res="plain", dur=0.0),
        ev(5.0, E.RUN_SUCCESS),
    ]
    timeline = build_timeline(events, now=9.0, finished=True)
    assert [lane.name for lane in timeline.lanes] == [
        "Resources · coordinator",
        "Resources · pid 7",
        "Resources · pid 42",
    ]
    spans = spans_of(timeline)
    (worker_db,) = spans["Resources · pid 42", "db"]
    assert (worker_db.start, worker_db.ready, worker_db.closing, worker_db.end) == (
        1.75,
        2.0,
        3.5,
        4.0,
    )
    assert worker_db.status == "CLOSED"
    (failed_close,) = spans["Resources · pid 7", "db"]
    assert (failed_close.status, failed_close.end) == ("FAILURE", 4.0)
    assert failed_close.detail == "pid 7 RuntimeError: close"
    (failed_open,) = spans["Resources · pid 7", "api"]
    assert (failed_open.start, failed_open.end, failed_open.status) == (2.0, 2.5, "FAILURE")
    assert failed_open.detail == "OSError: down"
    (coordinator_db,) = spans["Resources · coordinator", "db"]
    assert (coordinator_db.status, coordinator_db.end) == ("HELD", None)  # drawn to the end
    assert len(spans["Resources · coordinator", "step_scoped"]) == 1
    assert len(spans["Resources · coordinator", "step_scoped #2"]) == 1
    (held,) = spans["Resources · coordinator", "plain"]
    assert held.status == "HELD"
    live = spans_of(build_timeline(events[:-1], now=9.0, finished=False))
    assert live["Resources · coordinator", "plain"][0].status == "OPEN"


def test_where_an_event_happened() -> None:
    assert process_of("") == "coordinator"
    assert process_of("pid 12") == "pid 12"
    assert process_of("pid 12 on host-a ValueError: x") == "pid 12 on host-a"
    assert process_of("ValueError: pid 3") == "coordinator"


def test_steps_go_to_their_process_when_the_engine_names_it() -> None:
    """A step event whose data names a pid puts the step in that process's steps lane."""
    events = [
        ev(1.0, E.STEP_START, "a", data={"pid": 42}),
        ev(2.0, E.STEP_SUCCESS, "a", dur=1.0, data={"pid": 42}),
        ev(2.0, E.STEP_START, "b"),
    ]
    lanes = [lane.name for lane in build_timeline(events, now=3.0, finished=False).lanes]
    assert lanes == ["Steps · pid 42", "Steps"]


def test_the_svg_escapes_every_name_and_draws_every_span() -> None:
    """Step and resource keys, lane names and failure details are text in the SVG."""
    events = [
        ev(1.0, E.STEP_START, "<script>alert(1)</script>"),
        ev(2.0, E.STEP_FAILURE, "<script>alert(1)</script>", msg="<b>bad</b>", dur=1.0),
        ev(1.0, E.RESOURCE_OPEN, res='x" onload="alert(2)', msg="pid 1 on <evil>", dur=0.1),
    ]
    svg = str(timeline_svg(build_timeline(events, now=3.0, finished=False)))
    assert svg.startswith("<svg")
    assert svg.endswith("</svg>")
    assert "<script>" not in svg
    assert "<b>" not in svg
    assert "<evil>" not in svg
    assert 'onload="alert' not in svg
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in svg
    assert "&lt;b&gt;bad&lt;/b&gt;" in svg
    assert len(re.findall(r'<g class="span ', svg)) == 2
    assert 'stroke-dasharray="3 2"' in svg  # the resource, still open, is dashed


JOB = """
import os
import outfitter as of

class Conn(of.ConfigurableResource):
    name: str = "conn"

    def setup_for_execution(self, context):
        pass

    def teardown_after_execution(self, context):
        pass

@of.asset
def left(conn: Conn) -> int:
    return os.getpid()

@of.asset
def right(conn: Conn) -> int:
    return os.getpid()

@of.asset
def both(left: int, right: int, conn: Conn) -> int:
    return left + right

defs = of.Definitions(
    assets=[left, right, both],
    resources={
        "conn": Conn(),
        "io_manager": of.FilesystemIOManager(base_dir=os.environ["TIMELINE_STORE"]),
    },
    executor=of.multiprocess_executor(max_concurrent=2),
)
"""


def lanes_on_page(text: str) -> list[str]:
    return re.findall(r'<text class="lane"[^>]*>([^<]+)</text>', text)


def test_the_timeline_of_an_in_process_run(
    make_client: MakeClient, ui_instance: Instance, tmp_path: Path, monkeypatch: Any
) -> None:
    """In process: the steps, and the resources in the coordinator's lane, closed."""
    monkeypatch.setenv("TIMELINE_STORE", str(tmp_path / "store"))
    client = make_client(JOB)
    job = client.app.state.workspace.current.defs.get_implicit_global_asset_job_def()  # type: ignore[attr-defined]
    run_id = job.execute_in_process(instance=ui_instance).run_id
    fragment = client.get(f"/runs/{run_id}/timeline")
    assert fragment.status_code == 200
    assert lanes_on_page(fragment.text) == ["Steps", "Resources · coordinator"]
    assert len(re.findall(r'<g class="span step SUCCESS"', fragment.text)) == 3
    assert '<g class="span resource CLOSED" data-key="conn">' in fragment.text
    assert "hx-trigger" not in fragment.text
    assert lanes_on_page(client.get(f"/runs/{run_id}").text) == lanes_on_page(fragment.text)


def test_the_timeline_of_a_multiprocess_run_has_a_lane_per_worker(
    make_client: MakeClient, tmp_path: Path, monkeypatch: Any
) -> None:
    """Multiprocess: the steps each worker ran and the resources it opened (and closed), in
    that worker's lanes."""
    monkeypatch.setenv("TIMELINE_STORE", str(tmp_path / "store"))
    with Instance.local(tmp_path / "home") as instance:
        client = make_client(JOB, instance=instance)
        job = client.app.state.workspace.current.defs.get_implicit_global_asset_job_def()  # type: ignore[attr-defined]
        result = job.execute(instance=instance)
        worker_pids = {
            int(e.message.split()[1])
            for e in instance.all_events(result.run_id, event_type=EventType.RESOURCE_OPEN)
            if e.message.startswith("pid ")
        }
        fragment = client.get(f"/runs/{result.run_id}/timeline").text
    assert worker_pids
    assert os.getpid() not in worker_pids
    lanes = lanes_on_page(fragment)
    step_lanes = {lane for lane in lanes if lane.startswith("Steps")}
    assert step_lanes
    assert step_lanes <= {f"Steps · pid {pid}" for pid in worker_pids}
    assert {lane for lane in lanes if lane.startswith("Resources · pid")} == {
        f"Resources · pid {pid}" for pid in worker_pids
    }
    assert fragment.count('<g class="span resource CLOSED" data-key="conn">') == len(worker_pids)
    assert len(re.findall(r'<g class="span step SUCCESS"', fragment)) == 3
