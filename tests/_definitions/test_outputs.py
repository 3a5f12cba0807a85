"""Declaring outputs and inputs: ``Out`` / ``In`` on ``@op``, ``AssetOut`` on ``@multi_asset``,
``Output`` and ``MaterializeResult``, the public ``AssetsDefinition`` (``keys``, ``key``,
``op``), direct invocation of steps with several outputs, and the definition errors."""

from __future__ import annotations

import inspect
from typing import Any

import pytest

import outfitter as of
from outfitter.exceptions import DefinitionError


@of.multi_asset(
    outs={
        "users": of.AssetOut(group_name="crm"),
        "orders": of.AssetOut(key=["shop", "orders"], io_manager_key="lake"),
    },
    group_name="sales",
)
def extract(api: of.ResourceParam[str]) -> tuple[list[str], list[int]]:
    return [api], [1]


# -- AssetsDefinition ----------------------------------------------------------------------------


def test_multi_asset_keys_and_op() -> None:
    """A multi_asset has several keys, one op name, and each key's group."""
    # Dagster: AssetsDefinition.keys / .op / .group_names_by_key
    # (dagster/_core/definitions/assets/definition/assets_definition.py).
    assert isinstance(extract, of.AssetsDefinition)
    assert [k.to_user_string() for k in extract.keys] == ["users", "shop/orders"]
    assert extract.keys == extract.asset_keys
    assert extract.op.name == "extract"
    assert extract.node_def.name == "extract"
    assert extract.group_names_by_key == {
        of.AssetKey("users"): "crm",
        of.AssetKey(["shop", "orders"]): "sales",
    }
    assert repr(extract) == "<multi_asset extract (users, shop/orders)>"


def test_key_of_a_multi_asset_is_an_error() -> None:
    """.key is for single assets; on a multi_asset it names the keys and points to .keys."""
    # Dagster: AssetsDefinition.key raises when the definition has several keys.
    with pytest.raises(DefinitionError) as info:
        _ = extract.key
    assert str(info.value).startswith(
        "multi_asset 'extract' produces several assets (users, shop/orders), so it has no "
        "single key"
    )
    assert "read .keys" in str(info.value)


def test_a_single_asset_has_one_key() -> None:
    """@asset keeps .key, and .keys holds just it."""

    @of.asset(key_prefix="raw")
    def users() -> list[str]:
        return []

    assert users.keys == (users.key,) == (of.AssetKey(["raw", "users"]),)
    assert users.group_names_by_key == {users.key: "default"}


def test_multi_asset_resource_keys_include_each_io_manager() -> None:
    """The step needs its resources and each output's I/O manager."""
    node = extract.node_spec({})
    assert node.resource_keys == {"api", "io_manager", "lake"}
    assert [o.name for o in node.outputs or ()] == ["users", "orders"]


def test_downstream_deps_on_a_multi_asset_take_all_its_keys() -> None:
    """deps=[multi_asset] orders after every asset it produces."""

    @of.asset(deps=[extract])
    def report() -> None:
        return None

    assert report.deps == extract.keys


def test_definitions_reject_a_key_defined_by_a_multi_asset_and_an_asset() -> None:
    """An asset key produced twice (a multi_asset and an @asset) is a definition error."""

    @of.asset
    def users() -> list[str]:
        return []

    with pytest.raises(DefinitionError) as info:
        of.Definitions(
            assets=[extract, users], resources={"api": "x", "lake": of.InMemoryIOManager()}
        )
    assert "asset key 'users' is defined twice" in info.value.problems


def test_asset_selection_by_a_key_of_a_multi_asset() -> None:
    """AssetSelection.keys / groups of one output select the multi_asset's step."""
    defs = of.Definitions(
        assets=[extract],
        jobs=[
            of.define_asset_job("by_key", selection=of.AssetSelection.keys("shop/orders")),
            of.define_asset_job("by_group", selection=of.AssetSelection.groups("crm")),
        ],
        resources={"api": "x", "lake": of.InMemoryIOManager()},
    )
    assert [n.key for n in defs.get_job_def("by_key").nodes] == ["extract"]
    assert [n.key for n in defs.get_job_def("by_group").nodes] == ["extract"]
    result = defs.get_job_def("by_key").execute_in_process()
    assert result.asset_value("shop/orders") == [1]


# -- direct invocation ---------------------------------------------------------------------------


def test_direct_invocation_returns_what_the_function_returns() -> None:
    """Calling an op or multi_asset directly returns its tuple / generator as is."""
    # Dagster: direct invocation returns the op's outputs as the function produced them
    # (dagster/_core/definitions/op_invocation.py: a tuple for several outputs, a generator
    # of Output objects for a generator op).
    assert extract(api="k") == (["k"], [1])

    @of.op(out={"a": of.Out(), "b": of.Out()})
    def gen() -> Any:
        yield of.Output(1, "a")
        yield of.Output(2, "b")

    produced = gen()
    assert inspect.isgenerator(produced)
    assert [(o.output_name, o.value) for o in produced] == [("a", 1), ("b", 2)]

    @of.op(ins={"n": of.In(default_value=2)}, out={"x": of.Out(), "y": of.Out()})
    def pair(n: int) -> tuple[int, int]:
        return n, n * 10

    assert pair() == (2, 20)
    assert pair(3) == (3, 30)


def test_direct_invocation_does_not_need_io_or_input_managers() -> None:
    """The I/O and input managers of a step are not needed to call it directly."""

    @of.op(ins={"x": of.In(input_manager_key="loader")}, out={"a": of.Out(io_manager_key="w")})
    def use(x: int) -> int:
        return x

    assert use(5) == 5


# -- the value types ------------------------------------------------------------------------------


def test_output_and_materialize_result_fields() -> None:
    """Output and MaterializeResult keep what Dagster's keep."""
    out = of.Output(3, output_name="n", metadata={"k": 1})
    assert (out.value, out.output_name, out.metadata) == (3, "n", {"k": 1})
    assert of.Output(1).output_name == "result"
    result = of.MaterializeResult(asset_key="a/b", metadata={"rows": 2})
    assert result.asset_key == of.AssetKey(["a", "b"])
    assert result.metadata == {"rows": 2}
    assert of.MaterializeResult().asset_key is None


def test_out_and_in_fields() -> None:
    """Out / In keep their options (dagster_type is accepted and not checked)."""
    out = of.Out(dagster_type=int, description="d", is_required=False, io_manager_key="k")
    assert (out.io_manager_key, out.is_required, out.description) == ("k", False, "d")
    inp = of.In(default_value=None, input_manager_key="m")
    assert inp.has_default_value
    assert inp.default_value is None
    assert not of.In().has_default_value


def test_a_single_out_keeps_the_classic_output() -> None:
    """@op(out=Out(io_manager_key=...)) is the one 'result' output, stored under that key."""
    # Dagster: out=Out(...) declares the single output named "result" (op_decorator.py).

    @of.op(out=of.Out(io_manager_key="other"))
    def one() -> int:
        return 1

    assert one.outputs is None
    assert one.io_manager_key == "other"

    @of.op(out={"named": of.Out()})
    def named() -> int:
        return 1

    assert [o.name for o in named.outputs or ()] == ["named"]


# -- definition errors ----------------------------------------------------------------------------


def test_ins_must_name_inputs_of_the_function() -> None:
    """ins= naming no parameter lists the function's inputs."""
    with pytest.raises(DefinitionError) as info:

        @of.op(ins={"nope": of.In()})
        def f(x: int) -> int:
            return x

    assert str(info.value).startswith(
        "op 'f': ins names ['nope'], which are not inputs of the function"
    )
    assert "its input parameters are ['x']" in str(info.value)


def test_out_must_be_out_objects_with_identifier_names() -> None:
    """out= takes Out(...) or a dict of identifiers to Out(...)."""
    with pytest.raises(DefinitionError, match=r"op 'f': out= takes Out\(\.\.\.\)"):

        @of.op(out="result")  # type: ignore[arg-type]
        def f() -> int:
            return 1

    with pytest.raises(DefinitionError, match="op 'g': output name 'a-b' is not a Python"):

        @of.op(out={"a-b": of.Out()})
        def g() -> int:
            return 1

    with pytest.raises(DefinitionError, match="op 'h': output 'a' is declared with int 3"):

        @of.op(out={"a": 3})  # type: ignore[dict-item]
        def h() -> int:
            return 1


def test_multi_asset_definition_errors() -> None:
    """can_subset=True, empty outs, two outputs with one key, key and key_prefix together."""
    with pytest.raises(DefinitionError, match=r"can_subset=True\) is not supported"):
        of.multi_asset(outs={"a": of.AssetOut()}, can_subset=True)
    with pytest.raises(DefinitionError, match="at least one entry"):
        of.multi_asset(outs={})
    with pytest.raises(DefinitionError, match=r"several outputs produce asset\(s\) \['x'\]"):

        @of.multi_asset(outs={"a": of.AssetOut(key="x"), "b": of.AssetOut(key="x")})
        def twice() -> tuple[int, int]:
            return 1, 2

    with pytest.raises(DefinitionError, match="AssetOut takes key= or key_prefix=, not both"):
        of.AssetOut(key="a", key_prefix="p")
