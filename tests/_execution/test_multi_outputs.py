"""Runs of steps with several outputs: ops with ``out={...}`` in jobs, ``multi_asset`` through
the filesystem I/O manager (one file per asset key) in process, on the multiprocess executor and
on Dask, a per-output ``io_manager_key``, input managers, ``Output`` metadata,
``MaterializeResult`` (nothing stored), optional outputs, selection by key, and the errors a
step's outputs can raise at run time."""

from __future__ import annotations

import pickle
from pathlib import Path
from typing import Any

import pytest

import outfitter as of
from outfitter._instance import EventType
from outfitter.exceptions import DefinitionError, InvocationError, MissingResourceError

# -- module-level definitions (worker processes import them by name) --------------------------


@of.multi_asset(
    outs={
        "evens": of.AssetOut(),
        "odds": of.AssetOut(key_prefix="raw", io_manager_key="odd_io"),
    }
)
def split_numbers() -> tuple[list[int], list[int]]:
    return [0, 2, 4], [1, 3]


@of.asset
def even_total(evens: list[int]) -> int:
    return sum(evens)


@of.asset(ins={"odds": of.AssetIn("raw/odds")})
def odd_total(odds: list[int]) -> int:
    return sum(odds)


@of.multi_asset(outs={"left": of.AssetOut(), "right": of.AssetOut()})
def yielded_pair() -> Any:
    yield of.Output("R", output_name="right", metadata={"side": "right"})
    yield of.Output("L", output_name="left")


@of.asset
def joined(left: str, right: str) -> str:
    return left + right


class Recording(of.IOManager):
    """An in-process I/O manager that remembers what it stored and loaded."""

    def __init__(self) -> None:
        self.stored: dict[tuple[str, ...], Any] = {}
        self.loaded: list[str] = []

    def handle_output(self, context: of.OutputContext, obj: Any) -> None:
        self.stored[tuple(context.get_identifier())] = obj

    def load_input(self, context: of.InputContext) -> Any:
        self.loaded.append(context.name)
        return self.stored[tuple(context.get_identifier())]


def _fs(tmp_path: Path, sub: str = "store") -> of.FilesystemIOManager:
    return of.FilesystemIOManager(base_dir=str(tmp_path / sub))


def _stored(path: Path) -> Any:
    return pickle.loads(path.read_bytes())


# -- multi_asset through the filesystem I/O manager --------------------------------------------


def test_multi_asset_stores_each_asset_through_its_own_io_manager(tmp_path: Path) -> None:
    """Each AssetOut is stored by its own I/O manager, at its own key (one file per asset)."""
    # Dagster: a multi_asset's outputs each go through the I/O manager of its AssetOut
    # (docs "Multi-assets"; dagster/_core/definitions/decorators/asset_decorator.py).
    result = of.materialize(
        [split_numbers, even_total, odd_total],
        resources={"io_manager": _fs(tmp_path), "odd_io": _fs(tmp_path, "odd")},
    )
    assert result.success
    assert _stored(tmp_path / "store" / "evens") == [0, 2, 4]
    assert _stored(tmp_path / "odd" / "raw" / "odds") == [1, 3]
    assert not (tmp_path / "store" / "raw").exists()
    assert result.asset_value("evens") == [0, 2, 4]
    assert result.asset_value("raw/odds") == [1, 3]
    assert result.asset_value("even_total") == 6
    assert result.asset_value("odd_total") == 4
    assert result.output_for_node("split_numbers", "odds") == [1, 3]


def test_multi_asset_records_events_per_output(tmp_path: Path) -> None:
    """HANDLED_OUTPUT and ASSET_MATERIALIZATION are recorded per output, with Output metadata."""
    result = of.materialize([yielded_pair, joined], resources={"io_manager": _fs(tmp_path)})
    assert result.asset_value("joined") == "LR"
    events = [e for e in result.all_events if e.step_key == "yielded_pair"]
    handled = [e.message for e in events if e.event_type is EventType.HANDLED_OUTPUT]
    assert handled == ["right", "left"]  # in the order they were yielded
    materialized = [e for e in events if e.event_type is EventType.ASSET_MATERIALIZATION]
    assert [e.message for e in materialized] == ["right", "left"]
    assert materialized[0].data == {"metadata": {"side": "right"}}
    loaded = [e.message for e in result.all_events if e.event_type is EventType.LOADED_INPUT]
    assert sorted(loaded) == ["left", "right"]  # joined read both files back


def test_downstream_of_a_multi_asset_in_memory_is_handed_over() -> None:
    """With the in-memory I/O manager, a downstream asset gets the value without a load."""
    result = of.materialize_to_memory([yielded_pair, joined])
    assert result.asset_value("joined") == "LR"
    assert not [e for e in result.all_events if e.event_type is EventType.LOADED_INPUT]


def test_selecting_one_key_of_a_multi_asset_runs_the_whole_step(tmp_path: Path) -> None:
    """Selecting one key of a multi_asset selects its step, which produces every key."""
    # Dagster: a multi_asset with can_subset=False always materializes all of its assets
    # (dagster/_core/definitions/assets/definition/assets_definition.py, subset_for).
    io = {"io_manager": _fs(tmp_path), "odd_io": _fs(tmp_path, "odd")}
    result = of.materialize(
        [split_numbers, even_total, odd_total], resources=io, selection=["raw/odds"]
    )
    assert list(result._nodes) == ["split_numbers"]
    assert (tmp_path / "store" / "evens").exists()
    defs = of.Definitions(
        assets=[split_numbers, even_total, odd_total],
        jobs=[of.define_asset_job("odds_job", selection=["raw/odds", "odd_total"])],
        resources=io,
    )
    job = defs.get_job_def("odds_job")
    assert [n.key for n in job.nodes] == ["split_numbers", "odd_total"]
    assert job.execute_in_process().asset_value("odd_total") == 4


def test_a_downstream_asset_loads_a_multi_asset_output_from_an_earlier_run(
    tmp_path: Path,
) -> None:
    """Run alone, a downstream asset loads its input from the file the multi_asset stored."""
    io = {"io_manager": _fs(tmp_path), "odd_io": _fs(tmp_path, "odd")}
    of.materialize([split_numbers], resources=io)
    result = of.materialize([split_numbers, odd_total], resources=io, selection=["odd_total"])
    assert result.asset_value("odd_total") == 4


def test_multi_asset_on_the_multiprocess_executor(tmp_path: Path) -> None:
    """Worker processes store each output and the coordinator reads each back."""
    io = {"io_manager": _fs(tmp_path), "odd_io": _fs(tmp_path, "odd")}
    with of.Instance.ephemeral() as instance:
        result = of.materialize(
            [split_numbers, even_total, odd_total, yielded_pair, joined],
            resources=io,
            executor=of.multiprocess_executor(max_concurrent=2),
            instance=instance,
        )
        assert result.success
        assert result.asset_value("raw/odds") == [1, 3]
        assert result.asset_value("odd_total") == 4
        assert result.asset_value("joined") == "LR"
        assert _stored(tmp_path / "odd" / "raw" / "odds") == [1, 3]


def test_multi_asset_on_dask(tmp_path: Path) -> None:
    """The same on a Dask cluster made for the run."""
    pytest.importorskip("distributed", reason="the `dask` extra is not installed")
    io = {"io_manager": _fs(tmp_path), "odd_io": _fs(tmp_path, "odd")}
    with of.Instance.ephemeral() as instance:
        result = of.materialize(
            [split_numbers, odd_total],
            resources=io,
            executor=of.dask_executor(n_workers=1),
            instance=instance,
        )
        assert result.success
        assert result.asset_value("odd_total") == 4
        assert result.asset_value("evens") == [0, 2, 4]


# -- MaterializeResult ---------------------------------------------------------------------------


def test_materialize_result_stores_nothing(tmp_path: Path) -> None:
    """An asset returning MaterializeResult is materialized, but its I/O manager stores nothing."""
    # Dagster: "the I/O manager is not invoked" for an asset returning MaterializeResult
    # (docs "Asset metadata" / MaterializeResult; _core/execution/plan/execute_step.py).
    recording = Recording()

    @of.asset
    def table() -> of.MaterializeResult:
        return of.MaterializeResult(metadata={"rows": 3})

    result = of.materialize([table], resources={"io_manager": recording})
    assert result.success
    assert recording.stored == {}
    kinds = [e.event_type for e in result.all_events if e.step_key == "table"]
    assert EventType.HANDLED_OUTPUT not in kinds
    (event,) = [e for e in result.all_events if e.event_type is EventType.ASSET_MATERIALIZATION]
    assert event.message == "table"
    assert event.data == {"metadata": {"rows": 3}}


def test_materialize_result_in_a_multi_asset_by_asset_key() -> None:
    """In a multi_asset, MaterializeResult(asset_key=...) marks that asset; the others store."""
    recording = Recording()

    @of.multi_asset(outs={"a": of.AssetOut(), "b": of.AssetOut()})
    def both() -> Any:
        yield of.MaterializeResult(asset_key="a", metadata={"n": 1})
        yield of.Output(2, output_name="b")

    result = of.materialize([both], resources={"io_manager": recording})
    assert recording.stored == {("b",): 2}
    materialized = [
        e.message for e in result.all_events if e.event_type is EventType.ASSET_MATERIALIZATION
    ]
    assert materialized == ["a", "b"]


def test_an_output_with_metadata_is_stored_as_its_value() -> None:
    """Returning Output(value, metadata=...) from an @asset stores the value."""
    recording = Recording()

    @of.asset
    def counted() -> of.Output:
        return of.Output([1, 2], metadata={"count": 2})

    result = of.materialize([counted], resources={"io_manager": recording})
    assert recording.stored == {("counted",): [1, 2]}
    assert result.asset_value("counted") == [1, 2]


# -- ops with several outputs in a job ----------------------------------------------------------


@of.op(out={"small": of.Out(), "large": of.Out(io_manager_key="big_io")})
def partition(n: int) -> tuple[list[int], list[int]]:
    return [i for i in range(n) if i < 3], [i for i in range(n) if i >= 3]


@of.op
def count(values: list[int]) -> int:
    return len(values)


def test_an_op_with_several_outputs_feeds_each_to_its_own_consumer(tmp_path: Path) -> None:
    """The job body unpacks the outputs; each goes through its Out's I/O manager."""
    # Dagster: composing an op with several outputs returns a namedtuple of its outputs
    # (dagster/_core/definitions/composition.py, PendingNodeInvocation.__call__).
    big = Recording()

    @of.job(resource_defs={"io_manager": _fs(tmp_path), "big_io": big})
    def sizes() -> None:
        small, large = partition(5)
        count.alias("count_small")(small)
        count.alias("count_large")(large)

    result = sizes.execute_in_process()
    assert result.output_for_node("count_small") == 3
    assert result.output_for_node("count_large") == 2
    assert big.stored == {(result.run_id, "partition", "large"): [3, 4]}
    assert big.loaded == ["values"]  # count_large loaded its input through big_io
    assert _stored(tmp_path / "store" / result.run_id / "partition" / "small") == [0, 1, 2]
    assert result.output_for_node("partition", "small") == [0, 1, 2]


def test_outputs_are_reachable_by_name_on_the_namedtuple() -> None:
    """The handles are a namedtuple: outputs by attribute too."""

    @of.job(resource_defs={"big_io": of.InMemoryIOManager()})
    def by_name() -> None:
        outs = partition(4)
        count(outs.large)

    assert by_name.execute_in_process().output_for_node("count") == 1


def test_passing_all_outputs_as_one_input_is_a_definition_error() -> None:
    """Passing the tuple of handles as one input names the op and says to unpack."""
    with pytest.raises(DefinitionError, match="was given all the outputs of op 'partition'"):

        @of.job
        def wrong() -> None:
            count(partition(4))


def test_an_optional_output_not_yielded_skips_its_consumers() -> None:
    """Downstream of an optional output that was not produced is skipped; the rest runs."""
    # Dagster: ops depending on an output that was not yielded are skipped (docs "Graphs:
    # conditional branching"; _core/execution/plan/execute_plan.py skips them).

    @of.op(out={"yes": of.Out(is_required=False), "no": of.Out(is_required=False)})
    def branch() -> Any:
        yield of.Output(1, "yes")

    @of.op
    def on_yes(x: int) -> str:
        return "yes"

    @of.op
    def on_no(x: int) -> str:
        return "no"

    @of.op
    def after_no(x: str) -> str:
        return x

    @of.job
    def branching() -> None:
        yes, no = branch()
        on_yes(yes)
        after_no(on_no(no))

    result = branching.execute_in_process()
    assert result.success
    assert result.output_for_node("on_yes") == "yes"
    skipped = [e.step_key for e in result.all_events if e.event_type is EventType.STEP_SKIPPED]
    assert skipped == ["on_no", "after_no"]
    with pytest.raises(InvocationError, match=r"has no output 'no' .* \(it did not produce it\)"):
        result.output_for_node("branch", "no")


def test_output_config_reaches_each_output_io_manager() -> None:
    """ops.<op>.outputs.<name> config reaches that output's handle_output as context.config."""
    seen: dict[str, Any] = {}

    class Noting(of.IOManager):
        def handle_output(self, context: of.OutputContext, obj: Any) -> None:
            seen[context.name] = context.config

        def load_input(self, context: of.InputContext) -> Any:
            return None

    @of.op(out={"a": of.Out(), "b": of.Out()})
    def two() -> tuple[int, int]:
        return 1, 2

    @of.job(resource_defs={"io_manager": Noting()})
    def configured() -> None:
        two()

    config = {"ops": {"two": {"outputs": {"b": {"fmt": "csv"}}}}}
    assert configured.execute_in_process(run_config=config).success
    assert seen == {"a": None, "b": {"fmt": "csv"}}


def test_unknown_io_manager_key_of_an_out_names_the_op_and_output() -> None:
    """An Out naming an unbound io_manager_key: Definitions names the op, output and key; a
    run fails that step with a missing-resource error naming the key."""
    # Dagster: Definitions/job validation reports an io_manager_key of an output that no
    # resource provides (DagsterInvalidDefinitionError, "...required by output 'b' of op...").

    @of.op(out={"a": of.Out(), "b": of.Out(io_manager_key="warehouse")})
    def two() -> tuple[int, int]:
        return 1, 2

    @of.job
    def lacking() -> None:
        two()

    with pytest.raises(DefinitionError) as info:
        of.Definitions(jobs=[lacking], resources={"warehous": of.InMemoryIOManager()})
    assert list(info.value.problems) == [
        "op 'two' (output 'b') requires resource 'warehouse', which is not bound. "
        "Did you mean 'warehous'?"
    ]
    with pytest.raises(MissingResourceError, match="'warehouse'"):
        lacking.execute_in_process()

    @of.multi_asset(outs={"x": of.AssetOut(io_manager_key="lake")})
    def one() -> int:
        return 1

    with pytest.raises(DefinitionError) as info:
        of.Definitions(assets=[one])
    assert list(info.value.problems) == [
        "multi_asset 'one' (output 'x') requires resource 'lake', which is not bound."
    ]


# -- errors a step's outputs raise at run time ---------------------------------------------------


def _failure(job: of.JobDefinition) -> str:
    result = job.execute_in_process(raise_on_error=False)
    assert not result.success
    (failure,) = result.failures.values()
    return failure.message


def test_a_yielded_undeclared_output_fails_the_step_naming_it() -> None:
    """Yielding an output name the op does not declare names the op, the name and the outputs."""
    # Dagster: execute_step.py raises "Core compute for op ... returned an output ... that does
    # not exist" for an undeclared output name.

    @of.op(out={"a": of.Out(), "b": of.Out()})
    def stray() -> Any:
        yield of.Output(1, "a")
        yield of.Output(2, "c")

    @of.job
    def j() -> None:
        stray()

    message = _failure(j)
    assert "op 'stray' produced output 'c', which it does not declare" in message


def test_a_missing_required_output_fails_the_step_naming_it() -> None:
    """Not producing a required output fails the step, naming it."""
    # Dagster: execute_step.py, "did not return an output for non-optional output".

    @of.op(out={"a": of.Out(), "b": of.Out()})
    def half() -> Any:
        yield of.Output(1, "a")

    @of.job
    def j() -> None:
        half()

    assert "op 'half' did not produce required output(s) 'b'" in _failure(j)


def test_a_tuple_of_the_wrong_length_fails_the_step() -> None:
    """A returned tuple must have one value per output."""
    # Dagster: compute_generator.py, "Length mismatch between returned tuple of outputs and
    # number of output defs".

    @of.op(out={"a": of.Out(), "b": of.Out()})
    def three() -> tuple[int, int, int]:
        return 1, 2, 3

    @of.job
    def j() -> None:
        three()

    assert "op 'three' returned a tuple of 3 value(s) but has 2 outputs ('a', 'b')" in _failure(j)


def test_a_single_value_for_several_outputs_fails_the_step() -> None:
    """Returning one non-tuple value from an op with several outputs is an error."""

    @of.op(out={"a": of.Out(), "b": of.Out()})
    def one() -> int:
        return 1

    @of.job
    def j() -> None:
        one()

    assert "op 'one' has 2 outputs ('a', 'b') but returned one int" in _failure(j)


def test_an_output_yielded_twice_fails_the_step() -> None:
    """Each output is produced once."""

    @of.op(out={"a": of.Out()})
    def twice() -> Any:
        yield of.Output(1, "a")
        yield of.Output(2, "a")

    @of.job
    def j() -> None:
        twice()

    assert "op 'twice' produced output 'a' more than once" in _failure(j)


def test_a_materialize_result_for_an_unknown_key_fails_the_step() -> None:
    """A multi_asset's MaterializeResult must name one of its assets."""

    @of.multi_asset(outs={"a": of.AssetOut(), "b": of.AssetOut()})
    def ab() -> Any:
        yield of.MaterializeResult(asset_key="zzz")

    result = of.materialize_to_memory([ab], raise_on_error=False)
    (failure,) = result.failures.values()
    assert "MaterializeResult for asset 'zzz', which it does not produce" in failure.message


# -- input managers ------------------------------------------------------------------------------


def test_an_input_manager_loads_an_unconnected_input() -> None:
    """An input with an input manager and no upstream is loaded by the manager."""
    # Dagster docs "Input managers" / "Unconnected inputs": In(input_manager_key=...) on an
    # input nothing is wired to.

    @of.input_manager
    def table_loader(context: of.InputContext) -> str:
        return f"table for {context.name} of {context.step_key}"

    @of.op(ins={"rows": of.In(input_manager_key="loader")})
    def use(rows: str) -> str:
        return rows

    @of.job(resource_defs={"loader": table_loader})
    def j() -> None:
        use()

    result = j.execute_in_process()
    assert result.output_for_node("use") == "table for rows of use"


def test_an_input_manager_replaces_the_upstream_value() -> None:
    """A wired input with an input manager is loaded by it, never handed over in memory."""
    # Dagster: an input manager on an input with an upstream output loads that input in place
    # of the upstream I/O manager (docs "Input managers").
    contexts: list[Any] = []

    class Loader(of.InputManager):
        def load_input(self, context: of.InputContext) -> Any:
            contexts.append(context)
            return "from the loader"

    @of.op
    def upstream() -> str:
        return "from upstream"

    @of.op(ins={"x": of.In(input_manager_key="loader")})
    def downstream(x: str) -> str:
        return x

    @of.job(resource_defs={"loader": Loader(), "io_manager": of.InMemoryIOManager()})
    def j() -> None:
        downstream(upstream())

    assert j.execute_in_process().output_for_node("downstream") == "from the loader"
    (context,) = contexts
    assert context.upstream_output.step_key == "upstream"


def test_an_io_manager_as_input_manager_and_input_config() -> None:
    """Any IOManager may serve as input manager; ops.<op>.inputs config reaches it."""

    class Both(of.IOManager):
        def handle_output(self, context: of.OutputContext, obj: Any) -> None:
            raise AssertionError("not used for outputs here")

        def load_input(self, context: of.InputContext) -> Any:
            return context.config["value"]

    @of.op(ins={"x": of.In(input_manager_key="both")})
    def use(x: int) -> int:
        return x

    @of.job(resource_defs={"both": Both()})
    def j() -> None:
        use()

    config = {"ops": {"use": {"inputs": {"x": {"value": 7}}}}}
    assert j.execute_in_process(run_config=config).output_for_node("use") == 7


def test_a_default_value_fills_an_unwired_input() -> None:
    """In(default_value=...) is used when nothing is wired to the input."""

    @of.op(ins={"n": of.In(default_value=5)})
    def take(n: int) -> int:
        return n

    @of.job
    def j() -> None:
        take()

    assert j.execute_in_process().output_for_node("take") == 5


def test_an_unbound_input_manager_is_reported_before_the_run() -> None:
    """An input manager key nobody binds is a missing resource naming the key."""

    @of.op(ins={"x": of.In(input_manager_key="nowhere")})
    def use(x: int) -> int:
        return x

    @of.job
    def j() -> None:
        use()

    with pytest.raises(of.exceptions.OutfitterError, match="nowhere"):
        j.execute_in_process()


def test_asset_in_with_an_input_manager() -> None:
    """AssetIn(input_manager_key=...) loads an asset input through that manager."""

    class Loader(of.InputManager):
        def load_input(self, context: of.InputContext) -> Any:
            return context.asset_key.to_user_string()

    @of.asset(ins={"src": of.AssetIn("external/src", input_manager_key="loader")})
    def copy(src: str) -> str:
        return src

    result = of.materialize_to_memory([copy], resources={"loader": Loader()})
    assert result.asset_value("copy") == "external/src"


# -- generator steps -----------------------------------------------------------------------------


def test_a_generator_step_is_retried_whole() -> None:
    """A failure inside a generator's body is part of the call: retries run it again."""
    calls: list[int] = []

    @of.op(out={"a": of.Out(), "b": of.Out()}, retry_policy=of.RetryPolicy(max_retries=1))
    def flaky() -> Any:
        calls.append(1)
        yield of.Output(1, "a")
        if len(calls) == 1:
            raise RuntimeError("first attempt fails after yielding 'a'")
        yield of.Output(2, "b")

    @of.job(resource_defs={"io_manager": of.InMemoryIOManager()})
    def j() -> None:
        flaky()

    result = j.execute_in_process()
    assert len(calls) == 2
    assert result.output_for_node("flaky", "b") == 2
    handled = [e.message for e in result.all_events if e.event_type is EventType.HANDLED_OUTPUT]
    assert handled == ["a", "b"]  # outputs are stored once, after the call succeeded


def test_an_async_generator_multi_asset() -> None:
    """An async generator multi_asset yields its outputs on the run's event loop."""

    @of.multi_asset(outs={"x": of.AssetOut(), "y": of.AssetOut()})
    async def pair() -> Any:
        yield of.Output(1, "x")
        yield of.Output(2, "y")

    result = of.materialize_to_memory([pair])
    assert (result.asset_value("x"), result.asset_value("y")) == (1, 2)


@of.op(out={"yes": of.Out(is_required=False), "no": of.Out(is_required=False)})
def branch_on_workers() -> Any:
    yield of.Output(1, "yes")


@of.op
def after_yes(x: int) -> int:
    return x + 1


@of.op
def after_no(x: int) -> int:
    return x - 1


@of.job(executor_def=of.multiprocess_executor(max_concurrent=2))
def branching_on_workers() -> None:
    yes, no = branch_on_workers()
    after_yes(yes)
    after_no(no)


def test_an_optional_output_not_yielded_on_workers(tmp_path: Path) -> None:
    """On worker processes too, a consumer of an output not produced is skipped, and the
    result holds only the outputs produced (never an older stored value)."""
    with of.Instance.ephemeral() as instance:
        result = branching_on_workers.execute(
            instance=instance, resources={"io_manager": _fs(tmp_path)}
        )
        assert result.success
        assert result.output_for_node("after_yes") == 2
        skipped = [e.step_key for e in result.all_events if e.event_type is EventType.STEP_SKIPPED]
        assert skipped == ["after_no"]
        assert result.output_for_node("branch_on_workers", "yes") == 1
        with pytest.raises(InvocationError, match="did not produce it"):
            result.output_for_node("branch_on_workers", "no")


def test_a_named_output_from_a_step_with_one_output_fails_it() -> None:
    """Output(output_name=...) must name the step's one output, 'result'."""
    # Dagster: compute_generator.py, "Output was explicitly named ..., which does not match
    # the output definition".

    @of.asset
    def plain() -> of.Output:
        return of.Output(1, output_name="other")

    result = of.materialize_to_memory([plain], raise_on_error=False)
    (failure,) = result.failures.values()
    assert "asset 'plain' returned Output(output_name='other'), but its one output is 'result'" in (
        failure.message
    )


def test_each_io_manager_opens_once_per_run_for_all_outputs() -> None:
    """Two outputs through one I/O manager, a third through another: each opens once."""
    opened: list[str] = []

    class Counting(of.ConfigurableIOManager):
        label: str

        def setup_for_execution(self, context: Any) -> None:
            opened.append(self.label)

        def handle_output(self, context: of.OutputContext, obj: Any) -> None:
            return None

        def load_input(self, context: of.InputContext) -> Any:
            return None

    @of.multi_asset(
        outs={"a": of.AssetOut(), "b": of.AssetOut(), "c": of.AssetOut(io_manager_key="other")}
    )
    def abc() -> tuple[int, int, int]:
        return 1, 2, 3

    of.materialize(
        [abc], resources={"io_manager": Counting(label="main"), "other": Counting(label="other")}
    )
    assert sorted(opened) == ["main", "other"]
