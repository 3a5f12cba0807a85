"""Code written for Prefect 1 (and for Dagster) catches builtin exceptions: each mistake raises
an Outfitter error (with our message) that is also the builtin they raise for it. The Prefect
1.4.1 sources: src/prefect/core/task.py, core/flow.py, core/parameter.py,
tasks/core/resource_manager.py."""

from __future__ import annotations

import pickle
from collections.abc import Callable
from typing import Any

import pytest

import outfitter as of
from outfitter import Flow, Parameter, Task, resource_manager, task
from outfitter.exceptions import (
    ConfigError,
    DefinitionAttributeError,
    DefinitionTypeError,
    DefinitionValueError,
    InvocationRuntimeError,
    InvocationTypeError,
    OutfitterError,
)


@task
def inc(x: int) -> int:
    return x + 1


@resource_manager
class Scratch:
    def setup(self) -> str:
        return "db"

    def cleanup(self, db: str) -> None:
        pass


def no_flow() -> None:
    inc(1)


def duplicate_parameter() -> None:
    flow = Flow("f")
    flow.add_task(Parameter("n"))
    flow.add_task(Parameter("n"))


def cycle() -> None:
    a, b = Task(name="a"), Task(name="b")
    flow = Flow("f")
    flow.add_edge(a, b)
    flow.add_edge(b, a)


def reserved_name() -> None:
    @task
    def bad(upstream_tasks: int) -> int:
        return upstream_tasks


def unknown_parameter() -> None:
    with Flow("f") as flow:
        inc(Parameter("x", default=1))
    flow.run(parameters={"y": 2})


def missing_parameter() -> None:
    with Flow("f") as flow:
        inc(Parameter("x"))
    flow.run()


def block_of_two_flows() -> None:
    with Flow("a"), Scratch():
        Flow("b").add_task(Task(name="stray"))


def block_outside_a_flow() -> None:
    with Scratch():
        pass


def non_task_added() -> None:
    Flow("f").add_task("not a task")  # type: ignore[arg-type]


def missing_inputs() -> None:
    with Flow("f"):
        inc()


def unknown_run_keyword() -> None:
    with Flow("f") as flow:
        inc(1)
    flow.run(retries=3)


def map_over_a_set() -> None:
    with Flow("f"):
        inc.map({1, 2, 3})


def unknown_task_arg() -> None:
    inc.copy(colour="red")


def run_inside_the_block() -> None:
    with Flow("f") as flow:
        inc(1)
        flow.run()


# (situation, what raises, builtin Prefect 1 raises, our class, words of our message)
CASES: list[tuple[str, Callable[[], Any], type[Exception], type[OutfitterError], str]] = [
    # core/task.py, Task.bind: ValueError("Could not infer an active Flow context ...")
    ("no active flow", no_flow, ValueError, DefinitionValueError, "active Flow context"),
    # core/flow.py, add_task: ValueError('A task with the slug "n" already exists')
    ("duplicate parameter", duplicate_parameter, ValueError, DefinitionValueError, "already"),
    # core/flow.py, sorted_tasks: ValueError("Cycle found; flows must be acyclic!")
    ("cycle", cycle, ValueError, DefinitionValueError, "has a cycle among tasks"),
    # core/task.py, _validate_run_signature: ValueError("... reserved keyword arguments.")
    ("reserved name", reserved_name, ValueError, DefinitionValueError, "reserved"),
    # core/flow.py, Flow.run: ValueError("Flow.run received the following unexpected ...")
    ("unknown parameter", unknown_parameter, ValueError, ConfigError, "unknown parameter 'y'"),
    # core/flow.py, Flow.run: ValueError("Flow.run did not receive the following required ...")
    ("missing parameter", missing_parameter, ValueError, ConfigError, "required parameter 'x'"),
    # tasks/core/resource_manager.py: ValueError("Multiple flows cannot be used with ...")
    ("block of two flows", block_of_two_flows, ValueError, DefinitionValueError, "Multiple flows"),
    # tasks/core/resource_manager.py: ValueError("Could not infer an active Flow context")
    ("block outside a flow", block_outside_a_flow, ValueError, DefinitionValueError, "active Flow"),
    # core/flow.py, add_task: TypeError("Tasks must be Task instances ...")
    ("non-task added", non_task_added, TypeError, DefinitionTypeError, "cannot add str"),
    # core/task.py, Task.bind: inspect's TypeError("missing a required argument")
    ("missing inputs", missing_inputs, TypeError, DefinitionTypeError, "missing input(s) ['x']"),
    # core/flow.py, Flow.run: FlowRunner.run(**kwargs) rejects the keyword with a TypeError
    ("unknown run keyword", unknown_run_keyword, TypeError, InvocationTypeError, "'retries'"),
    # core/task.py, Task.map: TypeError("Cannot map over unsubscriptable object ...")
    ("map over a set", map_over_a_set, TypeError, DefinitionTypeError, "cannot map over set"),
    # core/task.py, Task.copy: AttributeError("... does not have colour as an attribute")
    ("unknown task_args", unknown_task_arg, AttributeError, DefinitionAttributeError, "colour"),
    # flow.run() inside `with Flow(...)`: a RuntimeError
    ("run inside the block", run_inside_the_block, RuntimeError, InvocationRuntimeError, "inside"),
]


@pytest.mark.parametrize(
    ("make", "builtin", "ours", "words"), [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
def test_each_mistake_is_the_builtin_prefect_raises(
    make: Callable[[], Any], builtin: type[Exception], ours: type[OutfitterError], words: str
) -> None:
    """The error is ours (OutfitterError, with a hint) and also the builtin of Prefect 1; it
    survives pickling (it crosses to and from worker processes)."""
    with pytest.raises(builtin) as info:
        make()
    error = info.value
    assert isinstance(error, ours)
    assert isinstance(error, OutfitterError)
    assert words in str(error)
    assert "Hint:" in str(error)
    again = pickle.loads(pickle.dumps(error))
    assert type(again) is type(error)
    assert str(again) == str(error)


def test_dagster_style_mistakes_are_the_builtins_too() -> None:
    """Dagster-style code: a direct call with arguments that do not fit is a TypeError (as
    Python's own call error is); an unknown resource by attribute is an AttributeError
    (dagster/_core/errors.py, DagsterUnknownResourceError); bad resource config is a
    ValueError, as pydantic's ValidationError is."""

    @of.asset
    def doubled(x: int) -> int:
        return 2 * x

    with pytest.raises(TypeError):
        doubled(1, x=2)

    class Db(of.ConfigurableResource):
        port: int

    with pytest.raises(ValueError):
        Db(port="not a number")  # type: ignore[arg-type]

    with of.build_resources({"db": Db(port=1)}) as resources:
        assert not hasattr(resources, "cache")

    @of.asset
    def from_db(db: Db) -> int:
        return db.port

    with pytest.raises(ValueError) as err:  # launch config missing: a ConfigError
        of.materialize([from_db], resources={"db": Db.configure_at_launch()})
    assert isinstance(err.value, ConfigError)


def test_the_classes_are_in_the_hierarchy() -> None:
    """Each class is the Outfitter kind and the builtin, so either except clause catches it."""
    assert issubclass(DefinitionValueError, ValueError)
    assert issubclass(DefinitionTypeError, TypeError)
    assert issubclass(DefinitionAttributeError, AttributeError)
    assert issubclass(InvocationRuntimeError, RuntimeError)
    assert issubclass(ConfigError, ValueError)
    for cls in (DefinitionValueError, DefinitionTypeError, DefinitionAttributeError):
        assert issubclass(cls, of.exceptions.DefinitionError)
    assert issubclass(InvocationRuntimeError, of.exceptions.InvocationError)
