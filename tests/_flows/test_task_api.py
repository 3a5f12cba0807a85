"""The Task API of Prefect 1 that flow authors meet: bare tasks, **kwargs, nout, Parameters,
dependencies helpers, retries and tags validation. Each test cites the Prefect 1.4.1 source
it pins (PrefectHQ/prefect, src/prefect/...)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

import outfitter as of
from outfitter import Flow, Parameter, Task, task, unmapped
from outfitter.exceptions import DefinitionError, OutfitterError


@task
def add(a: int, b: int) -> int:
    return a + b


@task
def inc(x: int) -> int:
    return x + 1


# -- a bare Task ---------------------------------------------------------------------------


def test_a_bare_task_is_a_no_op_returning_none() -> None:
    """core/task.py: Task.run does nothing; a bare Task() is a placeholder other tasks wait
    for, and its state is Success(None)."""
    with Flow("placeholder") as flow:
        start = Task(name="start")
        first = inc(1, upstream_tasks=[start])
    assert Task().run() is None
    state = flow.run()
    assert state.is_successful()
    assert state.result[start].is_successful()
    assert state.result[start].result is None
    assert state.result[first].result == 2
    assert flow.upstream_tasks(first) == {start}


# -- **kwargs --------------------------------------------------------------------------------


def test_extra_keyword_arguments_pass_through_a_run_with_kwargs() -> None:
    """core/task.py, Task.bind: arguments caught by run's **kwargs are expanded into edges and
    constants by name, and reach run() as keyword arguments."""

    @task
    def collect(x: int, **rest: Any) -> dict[str, Any]:
        return {"x": x, **rest}

    class Collect(Task):
        def run(self, **kwargs: Any) -> dict[str, Any]:  # type: ignore[override]
            return kwargs

    with Flow("kwargs") as flow:
        one = inc(0)
        got = collect(1, y=one, z="zed")
        got2 = Collect()(a=one, b=2)
    assert flow.constants[got] == {"x": 1, "z": "zed"}
    state = flow.run()
    assert state.result[got].result == {"x": 1, "y": 1, "z": "zed"}
    assert state.result[got2].result == {"a": 1, "b": 2}


def test_an_unknown_keyword_without_kwargs_is_a_type_error() -> None:
    """core/task.py, Task.bind: signature.bind raises TypeError for a name run() lacks."""
    with Flow("kw") as flow, pytest.raises(TypeError, match="task 'inc' has no input 'y'"):
        inc(1, y=2)
    assert flow.tasks == set()


def test_missing_inputs_are_a_type_error() -> None:
    """core/task.py, Task.bind: a missing argument is signature.bind's TypeError."""
    with Flow("missing"), pytest.raises(TypeError, match=r"task 'add' is missing input\(s\)"):
        add(1)


# -- nout ---------------------------------------------------------------------------------


def test_nout_unpacks_a_task_result_into_several_edges() -> None:
    """core/task.py: with nout=2, `a, b = t()` makes two GetItem tasks (t[0], t[1])."""

    @task(nout=2)
    def split(x: int) -> Any:
        return x, x * 10

    with Flow("nout") as flow:
        low, high = split(3)
        total = add(low, high)
    assert (low.name, high.name) == ("split[0]", "split[1]")
    assert flow.run().result[total].result == 33


def test_nout_is_inferred_from_a_fixed_tuple_annotation() -> None:
    """core/task.py, _infer_run_nout: Tuple[int, int] gives 2; a bare or variable-length tuple
    gives None."""

    @task
    def two() -> tuple[int, str]:
        return 1, "a"

    @task
    def many() -> tuple[int, ...]:
        return (1, 2)

    @task
    def nothing() -> tuple[()]:
        return ()

    class Pair(Task):
        def run(self) -> tuple[int, int]:
            return 4, 5

    assert two.nout == 2
    assert many.nout is None
    assert nothing.nout == 0
    assert Pair().nout == 2
    with Flow("inferred") as flow:
        a, b = Pair()()
        total = add(a, b)
    assert flow.run().result[total].result == 9


def test_a_task_without_nout_is_not_iterable() -> None:
    """core/task.py, Task.__iter__: TypeError naming nout and the Tuple annotation."""
    with Flow("no-nout"), pytest.raises(TypeError, match="pass nout= to @task"):
        _a, _b = inc(1)


def test_a_mapped_copy_drops_nout_and_indexing_works_on_any_task() -> None:
    """core/task.py, Task.map sets nout=None on the copy; Task.__getitem__ makes a GetItem task."""

    @task(nout=2)
    def split(x: int) -> Any:
        return x, -x

    with Flow("index") as flow:
        mapped = split.map([1, 2])
        first = inc(mapped[0][1])
    assert mapped.nout is None
    assert flow.run().result[first].result == -1 + 1


def test_nout_must_be_a_whole_number() -> None:
    with pytest.raises(TypeError, match="nout must be a whole number"):
        Task(nout="2")  # type: ignore[arg-type]


# -- log_stdout ------------------------------------------------------------------------------


def test_log_stdout_turns_prints_into_log_records(tmp_path: Any) -> None:
    """core/task.py: log_stdout=True sends what run() prints to the task's logger."""

    @task(log_stdout=True)
    def chatty() -> int:
        print("hello from the task")
        return 1

    with Flow("stdout") as flow:
        chatty()
    with of.Instance.local(tmp_path) as instance:
        assert flow.run(instance=instance).is_successful()
        [run] = instance.get_runs()
        messages = [e.message for e in instance.all_events(run.run_id)]
    assert "hello from the task" in messages
    assert task(log_stdout=True)(lambda: None).log_stdout is True


# -- Parameter -------------------------------------------------------------------------------


def test_calling_a_parameter_adds_the_same_object() -> None:
    """core/parameter.py, Parameter.__call__: binds (not copies) and returns the Parameter."""
    n = Parameter("n", default=2)
    with Flow("p") as flow:
        same = n()
        out = inc(same)
    other = Flow("other")
    assert n(flow=other) is n
    assert same is n
    assert flow.parameters() == {n}
    assert other.parameters() == {n}
    assert flow.run(n=5).result[out].result == 6


def test_a_parameter_takes_no_inputs() -> None:
    n = Parameter("n")
    with Flow("p"), pytest.raises(TypeError, match="Parameter 'n' takes no inputs"):
        n(3)


def test_parameter_copy_makes_a_new_parameter_with_a_new_name() -> None:
    """core/parameter.py, Parameter.copy(name): name and slug are the new name."""
    n = Parameter("n", default=2, tags=["input"])
    m = n.copy("m")
    assert isinstance(m, Parameter)
    assert (m.name, m.slug, m.default, m.required, m.tags) == ("m", "m", 2, False, {"input"})
    assert m is not n
    with Flow("two") as flow:
        total = add(n, m)
    assert flow.run(n=1, m=10).result[total].result == 11
    with pytest.raises(TypeError, match=r"copy\(\) needs the new Parameter's name"):
        n.copy()


# -- dependencies ----------------------------------------------------------------------------


def test_plain_values_and_unmapped_tasks_in_upstream_tasks() -> None:
    """core/flow.py, set_dependencies/add_edge: a non-task upstream becomes a Constant task; an
    unmapped(t) there is an edge that is not mapped over."""
    with Flow("upstream") as flow:
        first = inc(0)
        second = inc(1, upstream_tasks=[first, 7])
        mapped = inc.map([1, 2], upstream_tasks=[unmapped(first)])
    [constant] = flow.upstream_tasks(second) - {first}
    assert constant.run() == 7
    assert [(e.upstream_task, e.mapped) for e in flow.edges_to(mapped)] == [(first, False)]
    state = flow.run()
    assert state.result[second].result == 2
    assert state.result[mapped].result == [2, 3]


def test_set_upstream_and_set_downstream_return_the_task() -> None:
    """core/task.py: set_upstream/set_downstream return self (so calls chain)."""
    a, b, c = Task(name="a"), Task(name="b"), Task(name="c")
    flow = Flow("chain")
    assert a.set_downstream(b, flow=flow) is a
    assert c.set_upstream(b, flow=flow) is c
    assert [t.name for t in flow.sorted_tasks()] == ["a", "b", "c"]


def test_set_upstream_with_a_key_feeds_the_input() -> None:
    with Flow("keyed") as flow:
        one = inc(0)
        two = inc.copy()
        two.set_upstream(one, key="x")
    assert flow.run().result[two].result == 2


def test_task_set_dependencies_returns_the_task() -> None:
    """core/task.py, Task.set_dependencies: wires upstream, downstream and keyword tasks in the
    given (or active) flow and returns self."""
    flow = Flow("deps")
    up, down = Task(name="up"), Task(name="down")
    middle = inc.copy()
    assert (
        middle.set_dependencies(
            flow=flow, upstream_tasks=[up], downstream_tasks=[down], keyword_tasks={"x": 1}
        )
        is middle
    )
    assert flow.upstream_tasks(middle) == {up}
    assert flow.downstream_tasks(middle) == {down}
    assert flow.constants[middle] == {"x": 1}
    with pytest.raises(ValueError, match="Could not infer an active Flow"):
        Task().set_dependencies(upstream_tasks=[up])


def test_retry_delay_stays_a_timedelta() -> None:
    """core/task.py keeps retry_delay as the timedelta given (a number of seconds is taken as
    one here)."""
    t = Task(max_retries=2, retry_delay=timedelta(seconds=3))
    assert t.retry_delay == timedelta(seconds=3)
    assert Task(max_retries=1, retry_delay=1.5).retry_delay == timedelta(seconds=1.5)
    assert Task().retry_delay is None
    assert t.copy().retry_delay == timedelta(seconds=3)


def test_retries_run_with_their_delay() -> None:
    attempts: list[int] = []

    @task(max_retries=2, retry_delay=timedelta(0))
    def flaky() -> int:
        attempts.append(1)
        if len(attempts) < 3:
            raise ConnectionError("again")
        return len(attempts)

    with Flow("retry") as flow:
        out = flaky()
    assert flow.run().result[out].result == 3


# -- validation ------------------------------------------------------------------------------


def test_max_retries_needs_retry_delay_and_the_other_way_round() -> None:
    """core/task.py, Task.__init__: ValueError for max_retries > 0 without retry_delay, and for
    retry_delay without max_retries."""
    with pytest.raises(ValueError, match=r"task 'Task': max_retries=2 needs a retry_delay"):
        Task(max_retries=2)
    with pytest.raises(ValueError, match=r"retry_delay=.* is given without max_retries"):
        task(retry_delay=timedelta(seconds=1))(lambda: None)
    with pytest.raises(ValueError, match="retry_delay must not be negative"):
        Task(max_retries=1, retry_delay=timedelta(seconds=-1))


def test_max_retries_none_means_no_retries() -> None:
    """core/task.py: max_retries=None falls back to the default (0), not a crash."""
    assert Task(max_retries=None).max_retries == 0
    assert task(max_retries=None)(lambda: None).max_retries == 0
    with pytest.raises(ValueError, match="max_retries must be a whole number >= 0, got '2'"):
        Task(max_retries="2")  # type: ignore[arg-type]


def test_tags_given_as_one_string_are_refused() -> None:
    """core/task.py, Task.__init__: TypeError("Tags should be a set of tags, not a string.")."""
    with pytest.raises(TypeError, match="tags must be a collection of strings") as err:
        Task(name="etl", tags="nightly")
    assert isinstance(err.value, DefinitionError)
    assert "tags=['nightly']" in str(err.value)
    assert Task(tags=["nightly"]).tags == {"nightly"}


def test_task_args_naming_a_missing_attribute_is_an_attribute_error() -> None:
    """core/task.py, Task.copy: AttributeError for a task_args key the task lacks."""
    with Flow("args"), pytest.raises(AttributeError, match="has no attribute 'colour'"):
        inc(1, task_args={"colour": "red"})


def test_reserved_argument_names_are_a_value_error() -> None:
    """core/task.py, _validate_run_signature: ValueError for upstream_tasks/mapped/..."""
    with pytest.raises(ValueError, match="reserved") as err:

        @task
        def bad(mapped: int) -> int:
            return mapped

    assert isinstance(err.value, OutfitterError)


def test_mapping_over_a_set_is_a_type_error() -> None:
    """core/task.py, Task.map: TypeError for an unsubscriptable argument such as a set."""
    with Flow("set"), pytest.raises(TypeError, match="cannot map over set"):
        inc.map({1, 2})
    with Flow("set2"), pytest.raises(TypeError, match="cannot map over set"):
        inc.map(x={1, 2})


def test_collections_of_tasks_are_passed_as_their_results() -> None:
    """utilities/tasks.py, as_task: a list, tuple, set or dict holding tasks becomes a task
    (tasks/core/collections.py) that collects their results; mapping over it maps over them."""

    @task
    def ident(x: Any) -> Any:
        return x

    with Flow("collections") as flow:
        one, two = inc(0), inc(1)
        nested = ident({"a": one, "b": [one, 2, (two,)], "c": {two}})
        mapped = ident.map([one, two, 5])
    state = flow.run()
    assert state.result[nested].result == {"a": 1, "b": [1, 2, (2,)], "c": {2}}
    assert state.result[mapped].result == [1, 2, 5]
    assert one not in flow.constants.get(nested, {}).values()


def test_on_failure_is_called_with_the_failed_state() -> None:
    """core/task.py and core/flow.py: on_failure=fn becomes a state handler calling
    fn(obj, state) when the task or flow fails (utilities/notifications.py, callback_factory)."""
    seen: list[tuple[str, str]] = []

    def tell(obj: Any, state: of.State) -> None:
        seen.append((obj.name, type(state).__name__))

    @task(on_failure=tell)
    def boom() -> None:
        raise ValueError("no data")

    @task(on_failure=tell)
    def fine() -> int:
        return 1

    with Flow("alerting", on_failure=tell) as flow:
        boom()
        fine()
    assert flow.run().is_failed()
    assert seen == [("boom", "Failed"), ("alerting", "Failed")]
    with pytest.raises(TypeError, match="on_failure must be a function"):
        Task(on_failure="page me")  # type: ignore[arg-type]
