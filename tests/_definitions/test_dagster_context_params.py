"""Dagster's context parameter, ``required_resource_keys`` without a context, and the check on
parameters annotated with a resource *definition* class (issue 14).

Checked against Dagster's own code: ``is_context_provided`` in
``dagster/_core/definitions/decorators/op_decorator.py`` (the first parameter is the context when
named as ``get_valid_name_permutations("context")`` in ``dagster/_core/decorator_utils.py`` says:
``context``, ``_``, ``_context``, ``context_``); ``get_context_param_name`` in
``dagster/_core/definitions/sensor_definition.py`` (a sensor's context is its first parameter
that is not a resource, whatever its name); ``validate_resource_annotated_function`` in
``dagster/_config/pythonic_config/resource.py`` (ResourceParam[...] for factories).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

import outfitter as of
from outfitter.exceptions import DefinitionError


class Db(of.ConfigurableResource):
    url: str = "sqlite://"


class Client:
    pass


class ClientFactory(of.ConfigurableResourceFactory[Client]):
    def create_resource(self, context: Any) -> Client:
        return Client()


@pytest.mark.parametrize("name", ["context", "_", "_context", "context_"])
def test_dagster_context_spellings_are_the_context_of_assets_and_ops(name: str) -> None:
    """Each of Dagster's spellings, first, is the context, not an input (op_decorator.py)."""
    namespace: dict[str, Any] = {}
    exec(
        f"def fn({name}, x):\n    return ({name}.run_id, x)\n",
        namespace,
    )
    fn = namespace["fn"]
    as_op = of.op(fn)
    assert as_op.params.context == name
    assert as_op.params.inputs == ("x",)
    assert as_op(of.build_op_context(), 2) == ("ephemeral", 2)
    as_asset = of.asset(fn)
    assert as_asset.params.context == name
    run_id, x = as_asset(x=3)
    assert (isinstance(run_id, str), x) == (True, 3)


def test_underscore_context_runs_in_a_job() -> None:
    """`def step(_)` gets the context in a run (Dagster's test_async.py uses `async def op(_)`)."""

    @of.asset
    def first(_: Any) -> str:
        return str(_.asset_key.to_user_string())

    result = of.materialize([first])
    assert result.success
    assert result.asset_value("first") == "first"


def test_underscore_later_is_an_input() -> None:
    """Only the first parameter can be the context; `_` elsewhere is an input, as in Dagster."""

    @of.op
    def add(x: int, _: int) -> int:
        return x + _

    assert add.params.context is None
    assert add.params.inputs == ("x", "_")
    assert add(1, 2) == 3


def test_a_context_annotation_makes_any_first_name_the_context() -> None:
    """`ctx: AssetExecutionContext` is the context (an improvement on Dagster, which needs a
    context name; its annotation check is only for a parameter already named context)."""

    @of.asset
    def named_ctx(ctx: of.AssetExecutionContext, x: int) -> str:
        return f"{ctx.asset_key.to_user_string()}:{x}"

    assert named_ctx.params.context == "ctx"
    assert named_ctx(x=1) == "named_ctx:1"

    @of.op
    def op_ctx(c: of.OpExecutionContext) -> str:
        return c.run_id

    assert op_ctx(of.build_op_context(run_id="r1")) == "r1"


def test_context_annotation_as_text_is_recognised() -> None:
    """Under PEP 563 an unresolvable "dg.AssetExecutionContext" still marks the context (Dagster
    rejects it: see its test_error_on_invalid_context_annotation)."""

    def fn(ctx: dg.AssetExecutionContext) -> int:  # type: ignore[name-defined] # noqa: F821
        return 1

    assert of.asset(fn).params.context == "ctx"


def test_a_context_that_is_not_first_is_a_definition_error() -> None:
    """`context` or a context-annotated parameter after another one cannot be bound."""
    with pytest.raises(DefinitionError) as caught:

        @of.asset
        def late(x: int, ctx: of.AssetExecutionContext) -> int:
            return x

    assert "asset 'late': 'ctx' is the context, so it must be the first parameter" in str(
        caught.value
    )
    with pytest.raises(DefinitionError, match="'context' is the context, so it must be the first"):

        @of.op
        def later(x: int, context: Any) -> int:
            return x


def test_sensor_context_may_have_any_name_and_follow_resources() -> None:
    """A sensor's context is its first non-resource parameter (sensor_definition.py
    get_context_param_name), here annotated and after a resource."""

    @of.sensor()
    def watch(names: of.ResourceParam[list[str]], ctx: of.SensorEvaluationContext) -> Any:
        return [of.RunRequest(run_key=f"{ctx.cursor}-{n}") for n in names]

    assert watch.params.context == "ctx"
    context = of.build_sensor_context(cursor="c", resources={"names": ["a", "b"]})
    assert [r.run_key for r in watch(context)] == ["c-a", "c-b"]
    assert [r.run_key for r in watch(ctx=context)] == ["c-a", "c-b"]


def test_schedule_context_named_underscore() -> None:
    """A schedule's `_` is its context too."""

    @of.schedule(cron_schedule="0 * * * *")
    def hourly(_: Any) -> Any:
        return of.RunRequest(run_key=_.scheduled_execution_time.isoformat())

    when = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    request = hourly(of.build_schedule_context(scheduled_execution_time=when))
    assert request.run_key == when.isoformat()


def test_sensor_with_a_second_plain_parameter_names_it() -> None:
    """A sensor has one context; another non-resource parameter is reported with its name."""
    with pytest.raises(DefinitionError) as caught:

        @of.sensor()
        def two(ctx: Any, extra: int) -> None:
            return None

    assert "sensor 'two' has parameters ['extra'] that are neither the context ('ctx')" in str(
        caught.value
    )


def test_required_resource_keys_without_a_context_is_accepted() -> None:
    """Dagster accepts it (op_decorator.py only rejects keys given in both styles); the keys are
    still required: direct calls and runs need them bound."""
    opened: list[str] = []

    class Tracked(of.ConfigurableResource):
        def setup_for_execution(self, context: Any) -> None:
            opened.append("db")

    @of.asset(required_resource_keys={"db"})
    def plain() -> int:
        return 1

    @of.op(required_resource_keys={"db"})
    def plain_op() -> int:
        return 2

    assert plain.resource_keys == {"db"}
    assert plain_op.resource_keys == {"db"}
    assert plain(of.build_asset_context(resources={"db": Tracked()})) == 1
    with pytest.raises(of.exceptions.InvocationError, match="needs resource\\(s\\) 'db'"):
        plain()
    result = of.materialize([plain], resources={"db": Tracked()})
    assert result.success


def test_factory_annotation_asks_for_resource_param() -> None:
    """Annotating with a ConfigurableResourceFactory subclass is refused with the ResourceParam
    spelling of what it creates (Dagster: validate_resource_annotated_function)."""
    with pytest.raises(DefinitionError) as caught:

        @of.asset
        def uses(client: ClientFactory) -> None:
            return None

    text = str(caught.value)
    assert (
        "asset 'uses': parameter 'client' is annotated as ClientFactory, but ClientFactory is a "
        "resource definition: the step receives a Client, not a ClientFactory"
    ) in text
    assert "Hint: annotate it `client: ResourceParam[Client]` (the key stays 'client')." in text


def test_resource_definition_annotation_asks_for_resource_param() -> None:
    """A ResourceDefinition subclass creates an unknown value: ResourceParam[Any] or the type."""

    class MyResourceDef(of.ResourceDefinition):
        pass

    with pytest.raises(DefinitionError) as caught:

        @of.op
        def uses(thing: MyResourceDef) -> None:
            return None

    text = str(caught.value)
    assert "op 'uses': parameter 'thing' is annotated as MyResourceDef" in text
    assert "the step receives an unknown value" in text
    assert "annotate it `thing: ResourceParam[Any] (or ResourceParam[<the type it creates>])`" in (
        text
    )


def test_factory_inside_resource_param_and_configurable_resources_are_fine() -> None:
    """ResourceParam[Factory] and ConfigurableResource annotations are accepted, as in Dagster."""

    @of.asset
    def fine(db: Db, client: of.ResourceParam[Client]) -> str:
        return db.url

    assert [r.key for r in fine.params.resources] == ["db", "client"]
    assert fine(db=Db(), client=ClientFactory()) == "sqlite://"
