"""``AssetSelection`` and ``group_name``: every constructor and operator, resolution against a
graph of assets, unknown keys named with close matches, and the selection accepted wherever a
selection goes (``define_asset_job``, ``materialize``, a sensor's ``RunRequest``).

Semantics checked against Dagster 1.13, dagster/_core/definitions/asset_selection.py:
``upstream()``/``downstream()`` include the selected assets unless ``include_self=False`` and
walk every level unless ``depth`` is given; ``groups`` picks by ``group_name`` (an asset given
none is in ``"default"``, dagster/_core/definitions/utils.py ``DEFAULT_GROUP_NAME``);
``key_prefixes("a")`` matches keys whose first part is ``a``; ``roots``/``sinks`` are the
assets with no upstream/downstream inside the selection; ``KeysAssetSelection`` raises for
keys no asset supplies (``DagsterInvalidSubsetError``, with similar names); ``|``, ``&``, ``-``
are union, intersection and difference. A string selection is Dagster's clause syntax
(``AssetSelection.from_coercible``/``from_string``: ``"*name"``, ``"name+"``, ``"*"``).
"""

from __future__ import annotations

from typing import Any

import pytest

import outfitter as of
from outfitter import AssetSelection as S
from outfitter.exceptions import DefinitionError


@of.asset(group_name="raw")
def events() -> list[int]:
    return [1, 2, 3]


@of.asset(group_name="raw", key_prefix="ext")
def users() -> list[str]:
    return ["ada"]


@of.asset
def counts(events: list[int]) -> int:
    return len(events)


@of.asset(ins={"users": of.AssetIn(key="ext/users")})
def joined(counts: int, users: list[str]) -> str:
    return f"{counts}:{len(users)}"


@of.asset(group_name="reports")
def report(joined: str) -> str:
    return joined.upper()


ASSETS = [events, users, counts, joined, report]


def keys(selection: S) -> list[str]:
    return sorted(k.to_user_string() for k in selection.resolve(ASSETS))


def test_group_name_defaults_to_default() -> None:
    """@asset(group_name=...) is stored; an asset without one is in group 'default'."""
    assert (events.group_name, counts.group_name, report.group_name) == (
        "raw",
        "default",
        "reports",
    )


def test_invalid_group_name_is_a_definition_error() -> None:
    """Group names are letters, digits and underscores (as Dagster requires)."""
    with pytest.raises(DefinitionError, match=r"asset 'bad': group_name 'a b' is not a valid"):

        @of.asset(name="bad", group_name="a b")
        def bad() -> None: ...


@pytest.mark.parametrize(
    ("selection", "expected"),
    [
        (S.all(), ["counts", "events", "ext/users", "joined", "report"]),
        (S.keys("counts"), ["counts"]),
        (S.keys("ext/users", of.AssetKey(["counts"])), ["counts", "ext/users"]),
        (S.keys(["ext", "users"]), ["ext/users"]),
        (S.assets(events, report), ["events", "report"]),
        (S.groups("raw"), ["events", "ext/users"]),
        (S.groups("default"), ["counts", "joined"]),
        (S.groups("raw", "reports"), ["events", "ext/users", "report"]),
        (S.groups("nope"), []),
        (S.key_prefixes("ext"), ["ext/users"]),
        (S.key_prefixes(["ext", "users"]), ["ext/users"]),
        (S.keys("joined").upstream(), ["counts", "events", "ext/users", "joined"]),
        (S.keys("joined").upstream(depth=1), ["counts", "ext/users", "joined"]),
        (S.keys("joined").upstream(include_self=False), ["counts", "events", "ext/users"]),
        (S.keys("events").downstream(), ["counts", "events", "joined", "report"]),
        (S.keys("events").downstream(depth=1), ["counts", "events"]),
        (S.keys("events").downstream(depth=0), ["events"]),
        (S.keys("counts").downstream(include_self=False), ["joined", "report"]),
        (S.groups("raw") | S.keys("report"), ["events", "ext/users", "report"]),
        (S.keys("joined").upstream() & S.groups("raw"), ["events", "ext/users"]),
        (S.all() - S.groups("raw"), ["counts", "joined", "report"]),
        (S.all() - S.groups("raw") - S.keys("report"), ["counts", "joined"]),
        (S.all().roots(), ["events", "ext/users"]),
        (S.all().sinks(), ["report"]),
        ((S.keys("counts") | S.keys("joined")).roots(), ["counts"]),
    ],
)
def test_selection_resolves(selection: S, expected: list[str]) -> None:
    """Each constructor and operator picks what Dagster's does."""
    assert keys(selection) == expected


def test_unknown_keys_raise_with_close_matches() -> None:
    """keys() naming an undefined asset raises when resolved, naming it with a did-you-mean;
    nested inside operators too, and every unknown key at once."""
    with pytest.raises(DefinitionError) as err:
        (S.keys("count", "reprot").upstream() | S.groups("raw")).resolve(ASSETS)
    text = str(err.value)
    assert text.startswith("AssetSelection: selection names unknown asset(s) ['count', 'reprot']")
    assert "unknown asset 'count' (did you mean 'counts'?)" in text
    assert "unknown asset 'reprot' (did you mean 'report'?)" in text
    assert "Hint: known assets: counts, events, ext/users, joined, report" in text


def test_operators_take_only_selections() -> None:
    """`selection | "name"` says to wrap the key."""
    with pytest.raises(DefinitionError, match=r"AssetSelection \| takes another AssetSelection"):
        S.all() | "report"  # type: ignore[operator]


def test_bad_depth_and_bad_keys_are_definition_errors() -> None:
    with pytest.raises(DefinitionError, match="depth must be a whole number >= 0 or None"):
        S.all().upstream(depth=-1)
    with pytest.raises(DefinitionError, match=r"AssetSelection.keys: '\.\.' is not an asset"):
        S.keys("..")


def test_equality_and_repr() -> None:
    """Selections compare by structure and show how they were built."""
    assert S.keys("a") | S.groups("g") == S.keys("a") | S.groups("g")
    assert S.keys("a") != S.keys("b")
    assert repr(S.keys("a").upstream(depth=1) - S.groups("g")) == (
        "(AssetSelection.keys('a').upstream(depth=1) - AssetSelection.groups('g'))"
    )


def test_define_asset_job_takes_a_selection() -> None:
    """define_asset_job(selection=AssetSelection) is resolved against the Definitions' assets."""
    defs = of.Definitions(
        assets=ASSETS,
        jobs=[
            of.define_asset_job("reports", S.keys("report").upstream()),
            of.define_asset_job("raw_only", S.groups("raw")),
            of.define_asset_job("clauses", ["*counts", "report"]),
            of.define_asset_job("one_string", "counts+"),
        ],
    )
    step_keys = {j.name: sorted(n.key for n in j.nodes) for j in defs.jobs}
    assert step_keys["raw_only"] == ["events", "ext__users"]
    assert step_keys["clauses"] == ["counts", "events", "report"]
    assert step_keys["one_string"] == ["counts", "joined"]
    result = defs.resolve_job_def("reports").execute_in_process()
    assert result.asset_value("report") == "3:1"


def test_unknown_key_in_a_job_selection_names_the_job() -> None:
    """The Definitions error names the job and the key, with a did-you-mean."""
    with pytest.raises(DefinitionError) as err:
        of.Definitions(assets=ASSETS, jobs=[of.define_asset_job("j", S.keys("joind"))])
    assert "asset job 'j' selects unknown asset 'joind' (did you mean 'joined'?)" in str(err.value)


def test_materialize_takes_a_selection() -> None:
    """materialize(selection=AssetSelection) runs only those assets (inputs from storage)."""
    from outfitter._instance import EventType

    def materialized(result: of.ExecuteResult) -> list[str]:
        kind = EventType.ASSET_MATERIALIZATION
        return sorted(e.message for e in result.all_events if e.event_type is kind)

    with of.Instance.ephemeral() as instance:
        first = of.materialize(ASSETS, selection=S.groups("raw"), instance=instance)
        second = of.materialize(ASSETS, selection=S.all() - S.groups("raw"), instance=instance)
        assert materialized(first) == ["events", "ext/users"]
        assert materialized(second) == ["counts", "joined", "report"]
        assert second.asset_value("report") == "3:1"


def test_run_request_asset_selection_through_the_daemon(tmp_path: Any) -> None:
    """A sensor's RunRequest(asset_selection=AssetSelection) launches those assets on a daemon
    tick, and the preview shows the selection as written."""
    from outfitter._daemon import Daemon, preview
    from outfitter._instance import EventType

    job = of.define_asset_job("everything")

    @of.sensor(job=job, default_status=of.DefaultSensorStatus.RUNNING)
    def counts_changed() -> of.RunRequest:
        return of.RunRequest(run_key="v1", asset_selection=S.keys("counts").upstream())

    defs = of.Definitions(assets=ASSETS, jobs=[job], sensors=[counts_changed])
    with of.Instance.local(tmp_path) as instance:
        [run_id] = Daemon(defs, instance).tick()
        done = {
            e.message
            for e in instance.all_events(run_id)
            if e.event_type is EventType.ASSET_MATERIALIZATION
        }
        shown = preview(defs, instance, "counts_changed").requests[0].asset_selection
    assert done == {"events", "counts"}
    assert shown == ["AssetSelection.keys('counts').upstream()"]
