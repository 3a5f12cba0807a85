"""``resource_manager``: temporary resources as tasks of a flow (Prefect 1 semantics).

Calling a manager in a flow makes an init task (builds the manager object), a setup task (calls
``setup()``, when defined) and a cleanup task (calls ``cleanup(resource)``, triggered by
``resource_cleanup_trigger``). ``with Manager(...) as resource:`` yields the setup task; tasks
first added to the flow inside the block depend on setup and feed cleanup.

Called outside any flow, a manager returns a binding usable as a container resource
(``Flow(resources={"cluster": DaskCluster(n_workers=2)})``), set up and cleaned up by the run
scope like any other resource.
"""

from __future__ import annotations

from collections.abc import Callable
from types import TracebackType
from typing import Any

from .._resources.lifecycle import ManagedBinding, check_manager_class
from ..exceptions import DefinitionValueError
from .flow import _BLOCKS, Flow
from .task import FunctionTask, Task, current_flow

__all__ = ["ResourceContext", "ResourceManager", "resource_manager"]


class _SetupTask(Task):
    """Calls the manager's ``setup()``."""

    def run(self, mgr: Any) -> Any:
        return mgr.setup()


class _CleanupTask(Task):
    """Calls the manager's ``cleanup(resource)``."""

    def run(self, mgr: Any, resource: Any = None) -> None:
        mgr.cleanup(resource)


class ResourceContext:
    """The block of one resource-manager call: its init, setup and cleanup tasks and the tasks
    created inside its ``with`` block."""

    def __init__(
        self,
        name: str,
        init_task: Task,
        setup_task: Task | None,
        cleanup_task: Task,
        flow: Flow,
    ) -> None:
        self.name = name
        self.init_task = init_task
        self.setup_task = setup_task
        self.cleanup_task = cleanup_task
        self.flow = flow
        self._members: dict[Task, None] = {}
        self.closed = False
        self._token: Any = None

    @property
    def members(self) -> set[Task]:
        """Tasks first added to the flow inside this block."""
        return set(self._members)

    def add_task(self, task: Task, flow: Flow) -> None:
        """Record a task first added inside the block."""
        if flow is not self.flow:
            raise DefinitionValueError(
                "Multiple flows cannot be used with the same resource block",
                hint=f"the {self.name!r} block belongs to flow {self.flow.name!r}; bind its tasks "
                "to that flow.",
            )
        self._members[task] = None

    def __enter__(self) -> Task | None:
        self._token = _BLOCKS.set((*_BLOCKS.get(), self))
        return self.setup_task

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        _BLOCKS.reset(self._token)
        # Prefect 1 (tasks/core/resource_manager.py, ResourceContext.__exit__): only a setup
        # task is wired upstream of the block's roots; without setup, nothing is (an init
        # failure still lets the block run)
        anchor = self.setup_task
        members = self._members
        for child in list(members):
            upstream = self.flow.upstream_tasks(child)
            roots = anchor is not None and not any(t in members for t in upstream)
            if roots and anchor not in upstream:
                child.set_upstream(anchor, flow=self.flow)
            downstream = self.flow.downstream_tasks(child)
            if not any(t in members for t in downstream) and self.cleanup_task not in downstream:
                child.set_downstream(self.cleanup_task, flow=self.flow)
        self.closed = True

    def __repr__(self) -> str:
        return f"<ResourceContext {self.name}>"


class _UnboundManager(ManagedBinding):
    """A manager called outside any flow: a container resource; not a ``with`` block."""

    __slots__ = ()

    def __enter__(self) -> Any:
        raise DefinitionValueError(
            f"Could not infer an active Flow context for resource manager "
            f"{self.manager_cls.__name__!r}",
            hint="use `with Manager(...)` inside `with Flow(...)`, or pass flow=flow; outside a "
            "flow, bind it as a resource: Flow(resources={'key': Manager(...)}).",
        )

    def __exit__(self, *exc: Any) -> None:
        return None


class ResourceManager:
    """Makes init/setup/cleanup tasks for a resource-manager class each time it is called.

    Defaults follow Prefect 1: task names ``Name``, ``Name.setup``, ``Name.cleanup``; the cleanup
    uses ``resource_cleanup_trigger`` and ``skip_on_upstream_skip=False``; keyword arguments you
    give for each task win. A class without ``cleanup`` is rejected here.

    Example:
        >>> from outfitter import Flow, ResourceManager, task
        >>> class TempDir:
        ...     def setup(self):
        ...         return "/tmp/work"
        ...     def cleanup(self, path):
        ...         pass
        >>> TempDirManager = ResourceManager(TempDir, name="tmp")
        >>> TempDirManager.setup_task_kwargs["name"]
        'tmp.setup'
    """

    def __init__(
        self,
        resource_class: Callable[..., Any],
        name: str | None = None,
        init_task_kwargs: dict[str, Any] | None = None,
        setup_task_kwargs: dict[str, Any] | None = None,
        cleanup_task_kwargs: dict[str, Any] | None = None,
    ) -> None:
        if isinstance(resource_class, type):
            check_manager_class(resource_class)
        self.resource_class = resource_class
        self.init_task_kwargs = dict(init_task_kwargs or {})
        self.setup_task_kwargs = dict(setup_task_kwargs or {})
        self.cleanup_task_kwargs = dict(cleanup_task_kwargs or {})
        if name is None:
            name = getattr(resource_class, "__name__", "resource")
        self.name = name
        self.init_task_kwargs.setdefault("name", name)
        self.setup_task_kwargs.setdefault("name", f"{name}.setup")
        self.cleanup_task_kwargs.setdefault("name", f"{name}.cleanup")
        from .triggers import resource_cleanup_trigger

        self.cleanup_task_kwargs.setdefault("trigger", resource_cleanup_trigger)
        self.cleanup_task_kwargs.setdefault("skip_on_upstream_skip", False)
        self.has_setup = callable(getattr(resource_class, "setup", None))

    def __call__(self, *args: Any, flow: Flow | None = None, **kwargs: Any) -> Any:
        flow = flow or current_flow()
        if flow is None:
            return _UnboundManager(self.resource_class, *args, **kwargs)  # type: ignore[arg-type]
        init_task = FunctionTask(self.resource_class, **self.init_task_kwargs)
        init_task.bind(*args, flow=flow, **kwargs)
        setup_task = None
        if self.has_setup:
            setup_task = _SetupTask(**self.setup_task_kwargs).bind(init_task, flow=flow)
        cleanup_task = _CleanupTask(**self.cleanup_task_kwargs)
        if setup_task is not None:
            cleanup_task.bind(init_task, setup_task, flow=flow)
        else:
            cleanup_task.bind(init_task, flow=flow)
        block = ResourceContext(self.name, init_task, setup_task, cleanup_task, flow)
        flow.resource_blocks.append(block)
        return block

    def __repr__(self) -> str:
        return f"<ResourceManager {self.name}>"


def resource_manager(
    resource_class: Callable[..., Any] | None = None,
    *,
    name: str | None = None,
    init_task_kwargs: dict[str, Any] | None = None,
    setup_task_kwargs: dict[str, Any] | None = None,
    cleanup_task_kwargs: dict[str, Any] | None = None,
) -> Any:
    """Decorate a class with ``__init__``, optional ``setup()`` and ``cleanup(resource)`` to use
    it as a temporary resource in flows (``with Cluster(n=2) as client: ...``) or as a container
    resource.

    Example:
        >>> from outfitter import Flow, resource_manager, task
        >>> @resource_manager
        ... class Scratch:
        ...     def __init__(self, size: int):
        ...         self.size = size
        ...     def setup(self):
        ...         return [0] * self.size
        ...     def cleanup(self, buffer):
        ...         buffer.clear()
        >>> @task
        ... def fill(buffer):
        ...     return len(buffer)
        >>> with Flow("scratch") as flow:
        ...     with Scratch(3) as buffer:
        ...         n = fill(buffer)
        >>> flow.run().result[n].result
        3
    """

    def wrap(cls: Callable[..., Any]) -> ResourceManager:
        return ResourceManager(
            cls,
            name=name,
            init_task_kwargs=init_task_kwargs,
            setup_task_kwargs=setup_task_kwargs,
            cleanup_task_kwargs=cleanup_task_kwargs,
        )

    return wrap(resource_class) if resource_class is not None else wrap
