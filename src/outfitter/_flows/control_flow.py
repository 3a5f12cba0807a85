"""Control flow in a Prefect-1-style flow: ``case``/``merge`` (and ``switch``/``ifelse`` built on
them) branch on a task's result; ``apply_map`` maps a function that builds several tasks over
inputs, as one mapped branch per element.

Prefect 1 sources these follow: ``tasks/control_flow/case.py``, ``conditional.py`` and
``utilities/tasks.py`` (``apply_map``). Branching is done with the engine's own rules: a
``CompareValue`` task raises ``SKIP`` when the value does not match, and the skip reaches the
tasks of the branch through ``skip_on_upstream_skip``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from contextvars import Token
from types import TracebackType
from typing import Any

from ..exceptions import DefinitionTypeError, DefinitionValueError
from . import signals
from .flow import _APPLY_MAP, _BLOCKS, _CASE, Flow
from .state import State
from .task import _FLOW, Constant, Task, task, unmapped

__all__ = ["CompareValue", "Merge", "apply_map", "case", "ifelse", "merge", "switch"]


class CompareValue(Task):
    """Succeeds when its input ``value`` equals the value it was made with; otherwise raises
    ``SKIP``, which skips the tasks downstream of it (Prefect 1's ``CompareValue``)."""

    def __init__(self, value: Any, name: str | None = None, **task_kwargs: Any) -> None:
        self.value = value
        super().__init__(name=name or f'CompareValue: "{value}"', **task_kwargs)

    def run(self, value: Any) -> None:
        if value != self.value:
            raise signals.SKIP(f'Provided value "{value}" did not match "{self.value}"')


def _not_all_skipped(upstream_states: Mapping[Any, State]) -> bool:
    """Run unless every upstream task was skipped (then skip); fail the trigger if one
    failed (Prefect 1's ``triggers.not_all_skipped``)."""
    states = list(upstream_states.values())
    if states and all(s.is_skipped() for s in states):
        raise signals.SKIP("All upstream tasks were skipped")
    if not all(s.is_successful() for s in states):
        raise signals.TRIGGERFAIL(
            'Trigger was "not_all_skipped" but some of the upstream tasks failed.'
        )
    return True


class Merge(Task):
    """The first result that is not None among its inputs (in the order given to
    :func:`merge`); runs when at least one input was not skipped."""

    def __init__(self, **task_kwargs: Any) -> None:
        from . import triggers

        if task_kwargs.setdefault("skip_on_upstream_skip", False):
            raise DefinitionValueError(
                "a Merge task needs skip_on_upstream_skip=False (it exists to run after "
                "skipped branches)",
                hint="leave skip_on_upstream_skip unset.",
            )
        task_kwargs.setdefault("trigger", getattr(triggers, "not_all_skipped", _not_all_skipped))
        super().__init__(**task_kwargs)

    def run(self, **task_results: Any) -> Any:
        ordered = sorted(task_results.items(), key=lambda kv: _position(kv[0]))
        return next((value for _, value in ordered if value is not None), None)


def _position(key: str) -> tuple[int, str]:
    number = key.rpartition("_")[2]
    return (int(number), key) if number.isdigit() else (0, key)


def merge(*tasks: Task, flow: Flow | None = None) -> Task:
    """A task whose result is the first non-None result among ``tasks``: joins the branches of
    ``case``/``ifelse`` blocks (the skipped ones give None). It is skipped if all of them were.

    Example:
        >>> from outfitter import Flow, case, merge, task
        >>> @task
        ... def kind() -> str:
        ...     return "csv"
        >>> @task
        ... def read_csv() -> str:
        ...     return "rows from csv"
        >>> @task
        ... def read_json() -> str:
        ...     return "rows from json"
        >>> with Flow("load") as flow:
        ...     k = kind()
        ...     with case(k, "csv"):
        ...         a = read_csv()
        ...     with case(k, "json"):
        ...         b = read_json()
        ...     rows = merge(a, b)
        >>> state = flow.run()
        >>> state.result[rows].result, state.result[b].is_skipped()
        ('rows from csv', True)
    """
    inputs: dict[str, Any] = {f"task_{i + 1}": t for i, t in enumerate(tasks)}
    return Merge().bind(flow=flow, **inputs)


class case:
    """A block of tasks that run only if ``task``'s result equals ``value`` (Prefect 1's
    ``case``); otherwise they are Skipped, and so are the tasks downstream of them that do not
    set ``skip_on_upstream_skip=False``. Join branches with :func:`merge`.

    Tasks first added to the flow inside the block are in it; those with no upstream task in
    the block get a comparison task upstream. Cases nest.

    Example:
        >>> from outfitter import Flow, case, task
        >>> @task
        ... def is_weekend() -> bool:
        ...     return False
        >>> @task
        ... def report() -> str:
        ...     return "sent"
        >>> with Flow("weekly") as flow:
        ...     with case(is_weekend(), True):
        ...         sent = report()
        >>> flow.run().result[sent].is_skipped()
        True
    """

    def __init__(self, task: Task, value: Any) -> None:
        if isinstance(value, Task):
            raise DefinitionTypeError(
                f"case(): the value to compare with must be a plain value, got task {value.name!r}",
                hint="compare two tasks' results in a task of your own and branch on it: "
                "with case(equal(a, b), True): ...",
            )
        self.task = task
        self.value = value
        self._tasks: dict[Task, None] = {}
        self._flow: Flow | None = None
        self._token: Token[case | None] | None = None

    @property
    def tasks(self) -> set[Task]:
        """The tasks in the block."""
        return set(self._tasks)

    def add_task(self, task: Task, flow: Flow) -> None:
        """Put ``task`` in the block (the flow calls this for tasks added inside it)."""
        if self._flow is None:
            self._flow = flow
        elif self._flow is not flow:
            raise DefinitionValueError(
                f"case({self.value!r}) has tasks of two flows, {self._flow.name!r} and "
                f"{flow.name!r}",
                hint="use one `with case(...)` block per flow.",
            )
        self._tasks[task] = None

    def __enter__(self) -> case:
        self._token = _CASE.set(self)
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._token is not None:
            _CASE.reset(self._token)  # the comparison task belongs to the enclosing case
            self._token = None
        flow = self._flow
        if exc is not None or flow is None or not self._tasks:
            return
        compare = CompareValue(self.value, name=f"case({self.value})")
        compare.bind(value=self.task, flow=flow)
        for child in self._tasks:
            if not any(up in self._tasks for up in flow.upstream_tasks(child)):
                flow.add_edge(compare, child)


def switch(condition: Task, cases: Mapping[Any, Task], flow: Flow | None = None) -> None:
    """Run the task of ``cases`` whose key equals ``condition``'s result; skip the others
    (Prefect 1's ``switch``).

    Example:
        >>> from outfitter import Flow, switch, task
        >>> @task
        ... def pick() -> str:
        ...     return "b"
        >>> @task
        ... def a() -> str:
        ...     return "A"
        >>> @task
        ... def b() -> str:
        ...     return "B"
        >>> with Flow("switch") as flow:
        ...     ta, tb = a(), b()
        ...     switch(pick(), {"a": ta, "b": tb})
        >>> state = flow.run()
        >>> state.result[ta].is_skipped(), state.result[tb].result
        (True, 'B')
    """
    for value, branch in cases.items():
        match = CompareValue(value).bind(value=condition, flow=flow)
        branch.set_dependencies(flow=flow, upstream_tasks=[match])


@task(name="as_bool")
def _as_bool(x: Any) -> bool:
    return bool(x)


def ifelse(condition: Task, true_task: Task, false_task: Task, flow: Flow | None = None) -> None:
    """Run ``true_task`` if ``condition``'s result is truthy, else ``false_task``; the other is
    skipped (Prefect 1's ``ifelse``).

    Example:
        >>> from outfitter import Flow, ifelse, task
        >>> @task
        ... def has_rows() -> int:
        ...     return 0
        >>> @task
        ... def load() -> str:
        ...     return "loaded"
        >>> @task
        ... def alert() -> str:
        ...     return "no rows today"
        >>> with Flow("maybe") as flow:
        ...     yes, no = load(), alert()
        ...     ifelse(has_rows(), yes, no)
        >>> flow.run().result[no].result
        'no rows today'
    """
    switch(_as_bool(condition, flow=flow), {True: true_task, False: false_task}, flow=flow)


def apply_map(func: Callable[..., Any], *args: Any, flow: Flow | None = None, **kwargs: Any) -> Any:
    """Map ``func``, a function that builds tasks, over its arguments: the tasks it creates
    run once per element, each element through its own branch (Prefect 1's ``apply_map``).
    Arguments wrapped in :class:`unmapped` are passed whole; ``func`` returns what it returns
    (its tasks, now mapped).

    Inside ``func``, tasks are called, not mapped (``.map`` there is an error), and
    ``case`` blocks branch per element.

    Example:
        >>> from outfitter import Flow, apply_map, task
        >>> @task
        ... def inc(x: int) -> int:
        ...     return x + 1
        >>> @task
        ... def double(x: int) -> int:
        ...     return 2 * x
        >>> def branch(x):
        ...     return double(inc(x))
        >>> with Flow("branches") as flow:
        ...     out = apply_map(branch, [1, 2, 3])
        >>> flow.run().result[out].result
        [4, 6, 8]
    """
    target = flow or _FLOW.get()
    if target is None:
        raise DefinitionValueError(
            "apply_map() found no active flow",
            hint="call it inside `with Flow(...)`, or pass flow=flow.",
        )
    if _APPLY_MAP.get():
        raise DefinitionValueError(
            "apply_map() cannot be nested in another apply_map()",
            hint="build the inner branch directly in the outer function.",
        )
    mapped_args: dict[Task, bool] = {}

    def as_input(value: Any) -> Task:
        is_mapped = not isinstance(value, unmapped)
        if not is_mapped:
            value = value.value
        if not isinstance(value, Task):
            if is_mapped and not isinstance(value, list | tuple):
                raise DefinitionTypeError(
                    f"apply_map() cannot map over {type(value).__name__} {value!r}",
                    hint="pass a list or tuple, a task returning one, or unmapped(value).",
                )
            value = Constant(value)
        node: Task = value
        mapped_args[node] = mapped_args.get(node, False) or is_mapped
        return node

    new_args = [as_input(a) for a in args]
    new_kwargs = {k: as_input(v) for k, v in kwargs.items()}
    scratch = Flow(f"apply_map of {getattr(func, '__name__', 'a function')}")
    blocks, cases, guard = _BLOCKS.set(()), _CASE.set(None), _APPLY_MAP.set(True)
    try:
        for arg in mapped_args:
            scratch.add_task(arg)
        with scratch:
            result = func(*new_args, **new_kwargs)
    finally:
        _APPLY_MAP.reset(guard)
        _CASE.reset(cases)
        _BLOCKS.reset(blocks)
    _transplant(scratch, target, mapped_args)
    return result


def _transplant(scratch: Flow, target: Flow, mapped_args: Mapping[Task, bool]) -> None:
    """Copy the tasks ``func`` built into ``target``: an edge from a task it built is mapped
    (element by element), one from an argument is mapped unless the argument is unmapped."""
    for t in scratch.sorted_tasks():
        if isinstance(t, Constant) and t in mapped_args:
            continue  # a plain argument: becomes the constants below
        target.add_task(t)
    for t in scratch.sorted_tasks():
        for edge in scratch.edges_to(t):
            up = edge.upstream_task
            if up in mapped_args:
                is_mapped = mapped_args[up]
                if isinstance(up, Constant):
                    if edge.key is not None:
                        target.set_dependencies(
                            t, keyword_tasks={edge.key: up.value}, mapped=is_mapped
                        )
                    continue
            else:
                is_mapped = not isinstance(up, Constant)
            target.add_edge(up, t, key=edge.key, mapped=is_mapped)
        for key, value in scratch.constants.get(t, {}).items():
            target.set_dependencies(t, keyword_tasks={key: unmapped(value)})
