"""``execute_in_process(op_selection=...)`` on jobs and graphs, ``to_job(op_selection=...)``,
and ``op.alias("name")`` (plus ``.tag`` and ``.with_retry_policy``) in job bodies.

Dagster's behaviour (python_modules/dagster/dagster_tests/core_tests/definitions_tests/
test_job_subset... ``test_op_selection``: ``do_it_all.execute_in_process(op_selection=["*adder"])``
runs adder and its upstream ops only; ``"*"`` selects all; on a subset job the selection is among
its ops; a graph's name selects all its ops; config of unselected ops is ignored; an aliased op
is its own node). The clause syntax is dagster/_core/selector/subset_selector.py's
(``parse_clause``: ``*``/``+`` before for ancestors, after for descendants). A selected op whose
upstream is not selected has an unsatisfied input: Dagster then needs it from run config or a
default; we have no input values in run config, so a default (or an input manager) it is, and
otherwise a DefinitionError names the op, the input and the unselected upstream.
"""

from __future__ import annotations

from typing import Any

import pytest

import outfitter as of
from outfitter._instance import EventType
from outfitter.exceptions import DefinitionError


@of.op
def return_one() -> int:
    return 1


@of.op
def return_two() -> int:
    return 2


@of.op
def adder(num1: int, num2: int) -> int:
    return num1 + num2


@of.op
def add_one(num: int = 100) -> int:
    return num + 1


@of.graph
def do_it_all() -> None:
    add_one(adder(return_one(), return_two()))


def ran(result: of.ExecuteResult) -> list[str]:
    return sorted(e.step_key for e in result.all_events if e.event_type is EventType.STEP_SUCCESS)


@pytest.mark.parametrize(
    ("selection", "expected"),
    [
        (["*adder"], ["adder", "return_one", "return_two"]),
        (["+adder"], ["adder", "return_one", "return_two"]),
        (["*"], ["add_one", "adder", "return_one", "return_two"]),
        (["*add_one"], ["add_one", "adder", "return_one", "return_two"]),
        (["*adder+"], ["add_one", "adder", "return_one", "return_two"]),
        (["return_one", "return_two", "adder*"], ["add_one", "adder", "return_one", "return_two"]),
        (["return_one", "return_two"], ["return_one", "return_two"]),
        ("return_two,return_one", ["return_one", "return_two"]),
        (["return_one*", "return_two"], ["add_one", "adder", "return_one", "return_two"]),
    ],
)
def test_op_selection_on_a_job(selection: list[str], expected: list[str]) -> None:
    """Only the selected ops run."""
    assert ran(do_it_all.to_job().execute_in_process(op_selection=selection)) == expected


def test_op_selection_on_a_graph_and_on_a_subset_job() -> None:
    """graph.execute_in_process and to_job take op_selection; "*" on a subset job is the
    subset's ops."""
    assert ran(do_it_all.execute_in_process(op_selection=["*adder"])) == [
        "adder",
        "return_one",
        "return_two",
    ]
    subset = do_it_all.to_job(op_selection=["*adder"])
    assert [n.key for n in subset.nodes] == ["return_one", "return_two", "adder"]
    assert ran(subset.execute_in_process(op_selection=["*"])) == [
        "adder",
        "return_one",
        "return_two",
    ]


def test_an_input_with_a_default_runs_without_its_upstream() -> None:
    """add_one selected alone takes its default (Dagster's `end(_, x=1)` case)."""
    result = do_it_all.to_job().execute_in_process(op_selection=["add_one"])
    assert result.output_for_node("add_one") == 101


def test_a_required_input_without_its_upstream_is_an_error() -> None:
    """adder without return_one: the error names the op, the input and the upstream op."""
    with pytest.raises(DefinitionError) as err:
        do_it_all.to_job().execute_in_process(op_selection=["adder", "return_two"])
    assert str(err.value) == (
        "job 'do_it_all': op_selection has 1 problem(s)\n"
        "  - op 'adder', input 'num1': it takes the output of op 'return_one', which is not "
        "selected\n"
        "Hint: select the upstream ops too (e.g. '*op_name'), or give those inputs a default; "
        "ops: return_one, return_two, adder, add_one."
    )


def test_unknown_ops_are_named_with_close_matches() -> None:
    """Every unknown name at once, each with a did-you-mean."""
    with pytest.raises(DefinitionError) as err:
        do_it_all.to_job().execute_in_process(op_selection=["*addr", "return_on"])
    assert err.value.problems == (
        "unknown op 'addr' (did you mean 'adder'?)",
        "unknown op 'return_on' (did you mean 'return_one', 'return_two'?)",
    )
    with pytest.raises(DefinitionError, match=r"op_selection=\[\] selects no op"):
        do_it_all.to_job().execute_in_process(op_selection=[])


def test_config_of_unselected_ops_is_ignored() -> None:
    """Run config for an op the selection left out does not fail the run."""

    @of.op
    def configured(config: dict) -> int:  # type: ignore[type-arg]
        return int(config["n"])

    @of.job
    def with_config() -> None:
        configured()
        return_one()

    run_config = {"ops": {"configured": {"config": {"n": 3}}}}
    assert with_config.execute_in_process(run_config=run_config).output_for_node("configured") == 3
    result = with_config.execute_in_process(run_config=run_config, op_selection=["return_one"])
    assert ran(result) == ["return_one"]

    @of.graph
    def configured_graph() -> None:
        configured()
        return_one()

    subset = configured_graph.to_job(config=run_config, op_selection=["return_one"])
    assert ran(subset.execute_in_process()) == ["return_one"]


@of.graph
def sub() -> None:
    add_one(return_one())


@of.job
def outer() -> None:
    sub()
    return_two()


def test_a_graph_name_selects_its_ops() -> None:
    """'sub' selects sub.return_one and sub.add_one; 'sub.return_one' just that op."""
    assert ran(outer.execute_in_process(op_selection=["sub"])) == ["sub.add_one", "sub.return_one"]
    assert ran(outer.execute_in_process(op_selection=["sub.return_one"])) == ["sub.return_one"]


def test_alias_uses_one_op_twice_under_two_names() -> None:
    """op.alias("name") makes a node of that name; selection works on aliases."""

    @of.job
    def aliased() -> None:
        add_one.alias("add_one_1")(return_one.alias("return_one_1")())
        add_one.alias("add_one_2")(return_one.alias("return_one_2")())

    assert [n.key for n in aliased.nodes] == [
        "return_one_1",
        "add_one_1",
        "return_one_2",
        "add_one_2",
    ]
    result = aliased.execute_in_process()
    assert (result.output_for_node("add_one_1"), result.output_for_node("add_one_2")) == (2, 2)
    assert ran(aliased.execute_in_process(op_selection=["return_one_2*"])) == [
        "add_one_2",
        "return_one_2",
    ]
    assert add_one.name == "add_one"  # the op itself is unchanged


def test_reused_op_without_alias_is_numbered() -> None:
    """Calling one op twice names the second node op_2 (Dagster's implicit alias)."""

    @of.job
    def reuse() -> None:
        add_one(return_one())
        add_one(return_one())

    assert ran(reuse.execute_in_process(op_selection=["return_one_2*"])) == [
        "add_one_2",
        "return_one_2",
    ]


def test_alias_tag_and_retry_policy_copies() -> None:
    """alias/tag/with_retry_policy return copies; a bad alias is refused."""
    tagged = return_one.tag({"team": "data"}).alias("tagged")
    assert (tagged.name, tagged.tags, return_one.tags) == ("tagged", {"team": "data"}, {})
    retried = return_one.with_retry_policy(of.RetryPolicy(max_retries=2))

    @of.job
    def j() -> None:
        retried()

    assert j.nodes[0].max_retries == 2
    with pytest.raises(DefinitionError, match=r"op 'return_one': alias 'no good' is not a valid"):
        return_one.alias("no good")


# -- unconnected inputs of a subset: input manager, In(default_value=), parameter default ------


@of.op(ins={"num": of.In(default_value=10)})
def add_ten(num: int) -> int:
    return num + 10


@of.graph
def with_in_default() -> None:
    add_ten(adder(return_one(), return_two()))


def test_an_in_default_value_runs_without_its_upstream() -> None:
    """An op whose upstream a selection leaves out takes its ``In(default_value=...)`` (Dagster
    checks an unconnected input's input manager, then its type loader, then its default value:
    https://docs.dagster.io/guides/build/jobs/unconnected-inputs); wired, it takes the
    upstream's value as before."""
    job = with_in_default.to_job()
    assert job.execute_in_process(op_selection=["add_ten"]).output_for_node("add_ten") == 20
    assert job.execute_in_process().output_for_node("add_ten") == 13
    assert ran(job.execute_in_process(op_selection=["return_one", "add_ten"])) == [
        "add_ten",
        "return_one",
    ]


def test_an_in_default_value_of_none_is_a_default() -> None:
    """``In(default_value=None)`` is a default too (not "no default")."""

    @of.op(ins={"label": of.In(default_value=None)})
    def describe(label: str | None) -> str:
        return f"label={label}"

    @of.op
    def make_label() -> str:
        return "x"

    @of.job
    def labelled() -> None:
        describe(make_label())

    result = labelled.execute_in_process(op_selection=["describe"])
    assert result.output_for_node("describe") == "label=None"


def test_an_input_manager_loads_an_input_whose_upstream_is_left_out() -> None:
    """An input with ``In(input_manager_key=...)`` is loaded by its input manager when the
    selection leaves its upstream out (the first source Dagster checks, same page as above),
    which then sees no upstream output."""
    seen: list[Any] = []

    class Loader(of.InputManager):
        def load_input(self, context: of.InputContext) -> Any:
            seen.append(context.upstream_output)
            return 7

    @of.op(ins={"x": of.In(input_manager_key="loader")})
    def use(x: int) -> int:
        return x * 2

    @of.job(resource_defs={"loader": Loader()})
    def loaded() -> None:
        use(return_one())

    assert loaded.execute_in_process(op_selection=["use"]).output_for_node("use") == 14
    assert seen == [None]


def test_an_input_with_neither_names_op_input_and_upstream() -> None:
    """Without an input manager or a default, the input cannot be satisfied: the error names
    the op, the input and the upstream op, once per such input."""

    @of.op(ins={"rows": of.In()})
    def count(rows: list[int], other: int) -> int:
        return len(rows) + other

    @of.op
    def read() -> list[int]:
        return [1]

    @of.job
    def counting() -> None:
        count(read(), return_one())

    with pytest.raises(DefinitionError) as err:
        counting.execute_in_process(op_selection=["count"])
    assert err.value.problems == (
        "op 'count', input 'rows': it takes the output of op 'read', which is not selected",
        "op 'count', input 'other': it takes the output of op 'return_one', which is not selected",
    )
