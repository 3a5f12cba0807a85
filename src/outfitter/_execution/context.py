"""What a step receives as ``context``: ``AssetExecutionContext`` / ``OpExecutionContext``."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any, ClassVar

from .._resources.context import Resources, did_you_mean, missing_as
from ..exceptions import (
    MissingResourceAttributeError,
    MissingResourceError,
    MissingResourceKeyError,
)

if TYPE_CHECKING:
    from .._resources.asset_key import AssetKey
    from .._resources.scope import RunScope
    from .logs import RunLog

__all__ = ["AssetExecutionContext", "OpExecutionContext", "StepResources"]

_NO_VALUES: dict[str, Any] = {}


class StepResources(Resources):
    """The resources a step declared, opened on first access from the run's scope.

    Asking for a key the step did not declare raises :class:`MissingResourceError` saying how to
    declare it, even if the key is bound: steps see only what they ask for. By attribute it is
    also an ``AttributeError`` (``hasattr`` is False), by ``[key]`` also a ``KeyError``.
    """

    __slots__ = ("_allowed", "_scope")

    def __init__(self, scope: RunScope | None, allowed: Iterable[str], owner: str) -> None:
        # Built for every step: set the slots directly (no copy of an empty dict).
        setattr_ = object.__setattr__
        setattr_(self, "_values", _NO_VALUES)
        setattr_(self, "_owner", owner)
        setattr_(self, "_scope", scope)
        setattr_(
            self, "_allowed", allowed if isinstance(allowed, frozenset) else frozenset(allowed)
        )

    def _get(self, key: str) -> Any:
        if key not in self._allowed:
            have = ", ".join(repr(k) for k in sorted(self._allowed)) or "none"
            raise MissingResourceError(
                f"{self._describe()} did not declare resource {key!r} (it declared: {have})."
                + did_you_mean(key, self._allowed),
                keys=[key],
                hint=f"add a parameter `{key}: <ResourceClass>` (or ResourceParam[T]) to the "
                f"step, or list {key!r} in required_resource_keys.",
            )
        if self._scope is None:
            raise MissingResourceError(
                f"{self._describe()} has no resources bound",
                keys=[key],
                hint="pass resources=... when building the context or running the step.",
            )
        return self._scope.get(key)

    def _describe(self) -> str:
        owner = self._owner
        return owner if " " in owner else f"step {owner!r}"

    def _lookup(self, key: str, cls: type[MissingResourceError]) -> Any:
        try:
            return self._get(key)
        except MissingResourceError as missing:
            if key not in missing.keys:
                raise  # a dependency of the resource is missing, not the resource itself
            raise missing_as(missing, cls) from None

    def __getattr__(self, key: str) -> Any:
        if key.startswith("__"):
            raise AttributeError(key)
        return self._lookup(key, MissingResourceAttributeError)

    def __getitem__(self, key: str) -> Any:
        return self._lookup(key, MissingResourceKeyError)

    def get(self, key: str, default: Any = None) -> Any:
        """The resource at ``key``, or ``default`` if the step did not declare it."""
        return self._get(key) if key in self._allowed else default

    def __iter__(self) -> Any:
        return iter(sorted(self._allowed))

    def __len__(self) -> int:
        return len(self._allowed)

    def __contains__(self, key: object) -> bool:
        return key in self._allowed

    def __repr__(self) -> str:
        return f"StepResources({', '.join(sorted(self._allowed))})"


class OpExecutionContext:
    """The ``context`` of an op or asset: logging, the run's id, its instance, its resources.

    Example:
        >>> from outfitter import build_op_context
        >>> context = build_op_context(resources={"token": "t"})
        >>> context.resources.token
        't'
    """

    # a parameter annotated with this class is the context (outfitter._definitions.params)
    __outfitter_context__: ClassVar[bool] = True

    __slots__ = (
        "_asset_key",
        "_log",
        "_logs",
        "instance",
        "op_config",
        "resources",
        "run_config",
        "run_id",
        "step_key",
    )

    def __init__(
        self,
        *,
        step_key: str,
        run_id: str,
        resources: StepResources,
        instance: Any = None,
        log: logging.Logger | None = None,
        op_config: Any = None,
        run_config: Any = None,
        asset_key: AssetKey | None = None,
        logs: RunLog | None = None,
    ) -> None:
        self.step_key = step_key
        self.run_id = run_id
        self.resources = resources
        self.instance = instance
        self._log = log
        self._logs = logs
        self.op_config = op_config
        self.run_config = run_config
        self._asset_key = asset_key

    @property
    def log(self) -> logging.Logger:
        """The step's logger (a :class:`logging.Logger`, made on first use): in a run, each record
        becomes a ``LOG`` event of the step, secrets masked, and is printed on the console.

        Example:
            >>> from outfitter import build_op_context
            >>> build_op_context().log.name
            'outfitter.steps.test_op'
        """
        log = self._log
        if log is None:
            logs = self._logs
            log = self._log = (
                logs.step_logger(self.step_key)
                if logs is not None
                else logging.getLogger(f"outfitter.steps.{self.step_key}")
            )
        return log

    @property
    def has_asset_key(self) -> bool:
        """Whether this step materializes an asset."""
        return self._asset_key is not None

    @property
    def asset_key(self) -> AssetKey:
        """The key of the asset this step materializes."""
        if self._asset_key is None:
            from ..exceptions import InvocationError

            raise InvocationError(
                f"step {self.step_key!r} is an op, not an asset, so it has no asset_key",
                hint="check context.has_asset_key first.",
            )
        return self._asset_key

    def __repr__(self) -> str:
        return f"{type(self).__name__}(step_key={self.step_key!r}, run_id={self.run_id!r})"


class AssetExecutionContext(OpExecutionContext):
    """The ``context`` of an asset (an :class:`OpExecutionContext` that always has
    ``asset_key``).

    Example:
        >>> from outfitter import build_asset_context
        >>> build_asset_context().run_id
        'ephemeral'
    """

    __slots__ = ()
