"""Sensors that react to asset materializations recorded in the instance: ``@asset_sensor``
(one asset key; the function gets the latest new materialization) and ``@multi_asset_sensor``
(several keys; the function reads them through its context and advances a cursor per key).

Both read ASSET_MATERIALIZATION events across runs (:meth:`Instance.events_of_types`); the cursor
is the id of the last event handled (one per key for the multi-asset sensor, stored as JSON).
"""

from __future__ import annotations

import inspect
import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from .._instance import EventRecord, EventType
from .._resources.asset_key import AssetKey
from ..exceptions import DefinitionError, InvocationError
from .asset_key import coerce_asset_key
from .sensors import RunRequest, SensorDefinition, SensorEvaluationContext

__all__ = [
    "AssetSensorDefinition",
    "EventLogEntry",
    "MultiAssetSensorDefinition",
    "MultiAssetSensorEvaluationContext",
    "asset_sensor",
    "build_multi_asset_sensor_context",
    "multi_asset_sensor",
]

_MATERIALIZED = (EventType.ASSET_MATERIALIZATION,)


@dataclass(frozen=True)
class EventLogEntry:
    """One materialization of an asset as a sensor sees it: ``storage_id`` (the event's id,
    what cursors hold), ``run_id``, ``timestamp`` (epoch seconds), ``asset_key`` and
    ``step_key``. It also answers to the Dagster paths user code reads:
    ``entry.dagster_event.asset_key`` and ``record.event_log_entry`` (Dagster has three
    classes here; one does for both).

    Example:
        >>> from outfitter import AssetKey, EventLogEntry
        >>> entry = EventLogEntry(7, "run-1", 0.0, AssetKey("orders"), "orders")
        >>> entry.dagster_event.asset_key.to_user_string(), entry.event_log_entry.storage_id
        ('orders', 7)
    """

    storage_id: int
    run_id: str
    timestamp: float
    asset_key: AssetKey
    step_key: str | None = None

    @property
    def dagster_event(self) -> EventLogEntry:
        """Itself (Dagster nests the key one level down)."""
        return self

    @property
    def event_log_entry(self) -> EventLogEntry:
        """Itself (Dagster's ``EventLogRecord`` wraps the entry)."""
        return self

    @classmethod
    def of(cls, event: EventRecord) -> EventLogEntry:
        """The entry of a stored ASSET_MATERIALIZATION event (its message is the key)."""
        return cls(
            event.id,
            event.run_id,
            event.timestamp,
            AssetKey.from_user_string(event.message),
            event.step_key,
        )


def _keys(values: Iterable[Any], owner: str) -> tuple[AssetKey, ...]:
    keys = []
    for value in values:
        key = getattr(value, "key", value)  # an @asset is monitored by its key
        try:
            keys.append(coerce_asset_key(key))
        except Exception as exc:
            raise DefinitionError(
                f"{owner}: cannot monitor {value!r} ({exc})",
                hint="pass asset keys: AssetKey('orders'), 'orders', ['raw', 'orders'] or "
                "@asset functions.",
            ) from None
    return tuple(keys)


def _instance(context: Any, owner: str) -> Any:
    instance = getattr(context, "instance", None)
    if instance is None:
        raise InvocationError(
            f"{owner} reads materializations from an instance, and its context has none",
            hint="pass one: build_sensor_context(instance=instance) (the daemon passes its own).",
        )
    return instance


def _materializations(instance: Any, key: AssetKey, after: int) -> list[EventRecord]:
    events: list[EventRecord] = instance.events_of_types(
        _MATERIALIZED, after_id=after, message=key.to_user_string()
    )
    return events


class AssetSensorDefinition(SensorDefinition):
    """What ``@asset_sensor`` makes: a sensor called with the latest materialization of
    ``asset_key`` recorded since its last evaluation, nothing when there is none.

    Example:
        >>> from outfitter import RunRequest, asset_sensor
        >>> @asset_sensor(asset_key="orders", job_name="report")
        ... def orders_changed(context, asset_event):
        ...     return RunRequest(run_key=str(asset_event.storage_id))
        >>> orders_changed.asset_key.to_user_string()
        'orders'
    """

    event_params = 1

    def __init__(self, asset_key: Any, fn: Callable[..., Any], **kwargs: Any) -> None:
        super().__init__(evaluation_fn=fn, **kwargs)
        if not self.event_names:
            raise DefinitionError(
                f"{self.owner} takes no parameter for the materialization it reacts to",
                hint="write `def my_sensor(context, asset_event): ...`: the second parameter "
                "receives the latest new materialization (an EventLogEntry).",
            )
        [self.asset_key] = _keys([asset_key], self.owner)

    def _call(self, context: Any, kwargs: dict[str, Any]) -> Any:
        # Dagster's asset_sensor reads only the newest event after its cursor (limit=1,
        # descending) and stores its storage id (asset_sensor_definition.py)
        instance = _instance(context, self.owner)
        after = int(context.cursor or 0)
        # read first: ids only grow, so every event up to it is in the scan below
        horizon = instance.last_event_id()
        events = _materializations(instance, self.asset_key, after)
        if not events:
            if horizon > after:  # none of ours up to there: the next scan starts after it
                context.update_cursor(str(horizon))
            return None
        latest = events[-1]
        kwargs[self.event_names[0]] = EventLogEntry.of(latest)
        result = super()._call(context, kwargs)
        if inspect.isgenerator(result):
            result = list(result)
        context.update_cursor(str(latest.id))
        return result


class MultiAssetSensorEvaluationContext(SensorEvaluationContext):
    """What a ``@multi_asset_sensor`` receives: the materializations of its monitored assets
    recorded after its cursor (one position per asset key), and the means to move that cursor.
    A subset of Dagster's context of the same name:

    - ``latest_materialization_records_by_key(asset_keys=None)``: per key, the newest
      materialization after the cursor, or None;
    - ``materialization_records_for_key(asset_key, limit=None)``: those after the cursor,
      oldest first;
    - ``advance_cursor({key: record})``: mark the records (and everything before them) handled;
    - ``advance_all_cursors()``: mark every materialization seen so far handled;
    - ``asset_keys`` / ``monitored_assets``: the keys it watches.

    An evaluation that requests runs must advance a cursor, or it raises (as in Dagster: the
    same events would be handled again at the next tick).

    Example:
        >>> from outfitter import Instance, build_sensor_context
        >>> from outfitter._definitions.asset_sensors import MultiAssetSensorEvaluationContext
        >>> with Instance.ephemeral() as instance:
        ...     context = MultiAssetSensorEvaluationContext.wrap(
        ...         build_sensor_context(instance=instance), ["a", "b"])
        ...     context.latest_materialization_records_by_key()
        {AssetKey(['a']): None, AssetKey(['b']): None}
    """

    def __init__(self, *, monitored: Sequence[AssetKey], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.asset_keys: list[AssetKey] = list(monitored)
        self.monitored_assets = self.asset_keys
        stored = json.loads(self.cursor) if self.cursor else {}
        self._positions: dict[str, int] = {
            k.to_user_string(): int(stored.get(k.to_user_string(), 0)) for k in monitored
        }
        self._seen: dict[str, int] = {}
        self.cursor_updated = False

    @classmethod
    def wrap(
        cls, context: SensorEvaluationContext, monitored: Iterable[Any]
    ) -> MultiAssetSensorEvaluationContext:
        """This context around a plain sensor context (its cursor, instance, log, resources)."""
        return cls(
            monitored=_keys(monitored, f"sensor {context.sensor_name!r}"),
            sensor_name=context.sensor_name,
            cursor=context.cursor,
            last_tick=context.last_tick,
            instance=context.instance,
            log=context.log,
            resources=context.resources,
        )

    def _key(self, asset_key: Any) -> AssetKey:
        key = coerce_asset_key(asset_key)
        if key.to_user_string() not in self._positions:
            watched = ", ".join(repr(k.to_user_string()) for k in self.asset_keys)
            raise InvocationError(
                f"sensor {self.sensor_name!r} does not monitor asset {key.to_user_string()!r} "
                f"(it monitors {watched})",
                hint="add the key to monitored_assets=[...].",
            )
        return key

    def materialization_records_for_key(
        self, asset_key: Any, limit: int | None = None
    ) -> list[EventLogEntry]:
        """The materializations of ``asset_key`` after its cursor, oldest first."""
        key = self._key(asset_key)
        name = key.to_user_string()
        events = _materializations(
            _instance(self, f"sensor {self.sensor_name!r}"), key, self._positions[name]
        )
        if events:
            self._seen[name] = max(self._seen.get(name, 0), events[-1].id)
        entries = [EventLogEntry.of(e) for e in events]
        return entries if limit is None else entries[:limit]

    def latest_materialization_records_by_key(
        self, asset_keys: Iterable[Any] | None = None
    ) -> dict[AssetKey, EventLogEntry | None]:
        """Per key (all monitored ones by default), its newest materialization after the
        cursor, or None."""
        keys = self.asset_keys if asset_keys is None else [self._key(k) for k in asset_keys]
        out: dict[AssetKey, EventLogEntry | None] = {}
        for key in keys:
            records = self.materialization_records_for_key(key)
            out[key] = records[-1] if records else None
        return out

    def advance_cursor(self, materialization_records_by_key: Mapping[Any, Any]) -> None:
        """Mark each given record, and every earlier materialization of its key, handled."""
        for asset_key, record in materialization_records_by_key.items():
            if record is None:
                continue
            name = self._key(asset_key).to_user_string()
            self._positions[name] = max(self._positions[name], int(record.storage_id))
        self._store()

    def advance_all_cursors(self) -> None:
        """Mark every materialization of every monitored key handled (those this evaluation
        read, or, when it read none of a key, all recorded so far)."""
        for key in self.asset_keys:
            name = key.to_user_string()
            if name not in self._seen:
                self.materialization_records_for_key(key)
            self._positions[name] = max(self._positions[name], self._seen.get(name, 0))
        self._store()

    def _store(self) -> None:
        self.update_cursor(json.dumps(self._positions, sort_keys=True))


def build_multi_asset_sensor_context(
    *,
    monitored_assets: Any,
    repository_def: Any = None,
    instance: Any = None,
    cursor: str | None = None,
    repository_name: str | None = None,
    cursor_from_latest_materializations: bool = False,
    resources: Mapping[str, Any] | None = None,
    definitions: Any = None,
) -> MultiAssetSensorEvaluationContext:
    """A :class:`MultiAssetSensorEvaluationContext` for calling a ``@multi_asset_sensor``
    directly in a test: it reads the materializations ``instance`` recorded of
    ``monitored_assets`` (keys, ``@asset``s, or an ``AssetSelection`` resolved against
    ``definitions``) after ``cursor``, or after the latest ones with
    ``cursor_from_latest_materializations=True``. ``resources`` are opened for each call and
    closed after it; the context takes the name of the sensor it is passed to.
    ``repository_def`` is read as ``definitions``; ``repository_name`` is accepted for
    Dagster's signature.

    Example:
        >>> from outfitter import (AssetKey, Instance, RunRequest, asset,
        ...                        build_multi_asset_sensor_context, materialize,
        ...                        multi_asset_sensor)
        >>> @asset
        ... def orders() -> int:
        ...     return 1
        >>> @asset
        ... def users() -> int:
        ...     return 2
        >>> @multi_asset_sensor(monitored_assets=["orders", "users"], job_name="report")
        ... def both_changed(context):
        ...     if all(context.latest_materialization_records_by_key().values()):
        ...         context.advance_all_cursors()
        ...         return RunRequest()
        ...     return None
        >>> with Instance.ephemeral() as instance:
        ...     _ = materialize([orders, users], instance=instance)
        ...     context = build_multi_asset_sensor_context(
        ...         monitored_assets=[AssetKey("orders"), AssetKey("users")], instance=instance)
        ...     both_changed(context)
        RunRequest(run_key=None, run_config=None, tags={}, asset_selection=None, job_name=None)
    """
    owner = "build_multi_asset_sensor_context()"
    del repository_name  # one code location: nothing to tell apart
    defs = definitions if definitions is not None else repository_def
    keys = _monitored_keys(monitored_assets, defs, owner)
    if cursor_from_latest_materializations:
        if cursor:
            raise InvocationError(
                f"{owner} was given both cursor= and cursor_from_latest_materializations=True",
                hint="pass one: the cursor is either yours or placed after the latest "
                "materializations.",
            )
        if instance is None:
            raise InvocationError(
                f"{owner}: cursor_from_latest_materializations=True needs the instance to read "
                "them from",
                hint="pass instance=instance (the one your test materialized into).",
            )
        positions = {}
        for key in keys:
            events = _materializations(instance, key, 0)
            if events:
                positions[key.to_user_string()] = events[-1].id
        cursor = json.dumps(positions, sort_keys=True)
    elif cursor is not None:
        _check_cursor(cursor, owner)
    context = MultiAssetSensorEvaluationContext(
        monitored=keys,
        sensor_name="test_sensor",
        cursor=cursor,
        instance=instance,
        resources=resources,
    )
    context._default_name = True  # named after the sensor it is passed to
    return context


def _monitored_keys(monitored: Any, defs: Any, owner: str) -> tuple[AssetKey, ...]:
    from .selection import AssetSelection

    if isinstance(monitored, AssetSelection):
        assets = getattr(defs, "assets", None)
        if assets is None:
            raise InvocationError(
                f"{owner}: monitored_assets is an AssetSelection, and there are no definitions "
                "to resolve it against",
                hint="pass definitions=defs (the Definitions holding the assets), or the keys: "
                "monitored_assets=[AssetKey('orders'), ...].",
            )
        return tuple(sorted(monitored.resolve(assets), key=lambda k: k.to_user_string()))
    if isinstance(monitored, str | AssetKey) or not isinstance(monitored, Iterable):
        monitored = [monitored]
    return _keys(monitored, owner)


def _check_cursor(cursor: Any, owner: str) -> None:
    try:
        stored = json.loads(cursor)
        ok = isinstance(stored, dict) and all(isinstance(v, int) for v in stored.values())
    except (TypeError, ValueError):
        ok = False
    if not ok:
        raise InvocationError(
            f"{owner}: cursor {cursor!r} is not a multi-asset sensor cursor",
            hint="pass a JSON object of asset key to the id of the last materialization "
            "handled, e.g. '{\"orders\": 12}', or what context.cursor held after a call.",
        )


class MultiAssetSensorDefinition(SensorDefinition):
    """What ``@multi_asset_sensor`` makes.

    Example:
        >>> from outfitter import multi_asset_sensor
        >>> @multi_asset_sensor(monitored_assets=["orders", "users"], job_name="report")
        ... def both_changed(context):
        ...     return None
        >>> [k.to_user_string() for k in both_changed.asset_keys]
        ['orders', 'users']
    """

    def __init__(self, monitored_assets: Iterable[Any], fn: Callable[..., Any], **kwargs: Any):
        super().__init__(evaluation_fn=fn, **kwargs)
        self.asset_keys = _keys(monitored_assets, self.owner)
        if not self.asset_keys:
            raise DefinitionError(
                f"{self.owner} monitors no asset", hint="pass monitored_assets=['orders', ...]."
            )

    def _call(self, context: Any, kwargs: dict[str, Any]) -> Any:
        inner = (
            context
            if isinstance(context, MultiAssetSensorEvaluationContext)
            else MultiAssetSensorEvaluationContext.wrap(context, self.asset_keys)
        )
        result = super()._call(inner, kwargs)
        if inspect.isgenerator(result):
            result = list(result)
        items = result if isinstance(result, list) else [result]
        requested = any(isinstance(r, RunRequest) for r in items)
        if requested and not inner.cursor_updated:
            # multi_asset_sensor_definition.py raises DagsterInvalidDefinitionError here
            raise InvocationError(
                f"{self.owner} requested runs for materializations but did not advance its "
                "cursor, so the next tick would handle the same materializations again",
                hint="call context.advance_cursor({key: record}) or "
                "context.advance_all_cursors() before returning the RunRequests.",
            )
        if inner is not context and inner.cursor_updated:
            context.update_cursor(inner.cursor)
        return result


def _sensor_kwargs(
    name: str | None,
    job: Any,
    jobs: Any,
    job_name: str | None,
    minimum_interval_seconds: float,
    default_status: str,
    required_resource_keys: Iterable[str] | None,
    description: str | None,
) -> dict[str, Any]:
    return {
        "name": name,
        "job": job,
        "jobs": jobs,
        "job_name": job_name,
        "minimum_interval_seconds": minimum_interval_seconds,
        "default_status": default_status,
        "required_resource_keys": required_resource_keys,
        "description": description,
    }


def asset_sensor(
    asset_key: Any,
    *,
    job: Any = None,
    jobs: Iterable[Any] | None = None,
    job_name: str | None = None,
    name: str | None = None,
    minimum_interval_seconds: float = 30,
    default_status: str = "STOPPED",
    required_resource_keys: Iterable[str] | None = None,
    description: str | None = None,
) -> Callable[[Callable[..., Any]], AssetSensorDefinition]:
    """Declare a sensor that fires on new materializations of ``asset_key``: at each
    evaluation, if the asset was materialized since the last one, the function is called with
    the context and the newest such materialization (an :class:`EventLogEntry`), and the cursor
    moves past it. Resources come by annotation, as for ``@sensor``.

    Example:
        >>> from outfitter import Instance, RunRequest, asset_sensor, build_sensor_context
        >>> @asset_sensor(asset_key="orders", job_name="report")
        ... def orders_changed(context, asset_event):
        ...     return RunRequest(run_key=asset_event.run_id)
        >>> with Instance.ephemeral() as instance:  # nothing materialized yet
        ...     orders_changed(build_sensor_context(instance=instance)) is None
        True
    """
    kwargs = _sensor_kwargs(
        name,
        job,
        jobs,
        job_name,
        minimum_interval_seconds,
        default_status,
        required_resource_keys,
        description,
    )

    def wrap(fn: Callable[..., Any]) -> AssetSensorDefinition:
        return AssetSensorDefinition(asset_key, fn, **kwargs)

    return wrap


def multi_asset_sensor(
    monitored_assets: Iterable[Any] | None = None,
    *,
    asset_keys: Iterable[Any] | None = None,
    job: Any = None,
    jobs: Iterable[Any] | None = None,
    job_name: str | None = None,
    name: str | None = None,
    minimum_interval_seconds: float = 30,
    default_status: str = "STOPPED",
    required_resource_keys: Iterable[str] | None = None,
    description: str | None = None,
) -> Callable[[Callable[..., Any]], MultiAssetSensorDefinition]:
    """Declare a sensor over several assets (``monitored_assets``, or ``asset_keys`` as older
    Dagster spelled it): the function gets a :class:`MultiAssetSensorEvaluationContext` to read
    their new materializations and advance the cursor of each.

    Example:
        >>> from outfitter import RunRequest, multi_asset_sensor
        >>> @multi_asset_sensor(monitored_assets=["orders", "users"], job_name="report")
        ... def both_changed(context):
        ...     latest = context.latest_materialization_records_by_key()
        ...     if all(latest.values()):
        ...         context.advance_all_cursors()
        ...         return RunRequest()
        ...     return None
        >>> both_changed.name
        'both_changed'
    """
    monitored = monitored_assets if monitored_assets is not None else asset_keys
    if monitored is None:
        raise DefinitionError(
            "@multi_asset_sensor needs the assets it monitors",
            hint="write @multi_asset_sensor(monitored_assets=['orders', 'users'], job=...).",
        )
    kwargs = _sensor_kwargs(
        name,
        job,
        jobs,
        job_name,
        minimum_interval_seconds,
        default_status,
        required_resource_keys,
        description,
    )

    def wrap(fn: Callable[..., Any]) -> MultiAssetSensorDefinition:
        return MultiAssetSensorDefinition(list(monitored), fn, **kwargs)

    return wrap
