"""Lifecycle shapes: every resource form opens and closes correctly, sync and async, and ambiguous
shapes are rejected with a fix-it message (``outfitter._resources.lifecycle``); also a pass over
ResourceDefinition config schemas, hardcoded and mock resources, build_init_resource_context,
from_resource_context and build_resources closing on error."""

import asyncio
import contextlib
from collections.abc import AsyncIterator, Iterator
from typing import Any, ClassVar

import pytest
from pydantic import PrivateAttr

import outfitter as of
from outfitter._resources.lifecycle import (
    ManagedBinding,
    Shape,
    check_manager_class,
    classify_function,
    plan_of,
)
from outfitter._resources.scope import RunScope
from outfitter.exceptions import (
    DefinitionError,
    InvocationError,
    ResourceInitError,
    TeardownError,
)


class Boom(Exception):
    """The error a test raises inside a ``with build_resources`` block."""


class Recorder:
    """An event log passed to resources as config (pydantic keeps arbitrary objects as they are,
    where it would copy a list)."""

    def __init__(self) -> None:
        self.events: list[str] = []

    def append(self, event: str) -> None:
        self.events.append(event)


def run(coro: Any) -> Any:
    """Drive ``coro`` to completion (no pytest-asyncio here)."""
    return asyncio.run(coro)


def open_sync(resources: dict[str, Any]) -> dict[str, Any]:
    """Open ``resources`` with sync ``build_resources``; returns the values seen in the block."""
    with of.build_resources(resources) as res:
        return dict(res)


def open_async(resources: dict[str, Any]) -> dict[str, Any]:
    """Open ``resources`` with ``async with build_resources``; returns the values seen."""

    async def main() -> dict[str, Any]:
        async with of.build_resources(resources) as res:
            return dict(res)

    return run(main())


BOTH = pytest.mark.parametrize("opener", [open_sync, open_async], ids=["sync", "async"])


# -- plain values and bare objects -------------------------------------------------------------


class RecordingCM:
    """A context manager that records whether it was entered or exited."""

    def __init__(self) -> None:
        self.calls: list[str] = []

    def __enter__(self) -> str:
        self.calls.append("enter")
        return "entered"

    def __exit__(self, *exc: object) -> None:
        self.calls.append("exit")

    async def __aenter__(self) -> str:
        self.calls.append("aenter")
        return "aentered"

    async def __aexit__(self, *exc: object) -> None:
        self.calls.append("aexit")


@BOTH
def test_plain_value_is_bound_as_is(opener: Any) -> None:
    """A plain value (int, dict) is the resource itself, with no lifecycle."""
    config = {"retries": 3}
    values = opener({"n": 42, "config": config})
    assert values == {"n": 42, "config": config}
    assert values["config"] is config
    assert plan_of(42).shape is Shape.VALUE
    assert not plan_of(42).needs_exit


@BOTH
def test_bare_context_manager_object_is_never_entered(opener: Any) -> None:
    """A bare object that happens to be a (sync or async) context manager is bound, not entered."""
    cm = RecordingCM()
    values = opener({"cm": cm})
    assert values["cm"] is cm
    assert cm.calls == []
    assert plan_of(cm).shape is Shape.VALUE


# -- @resource functions -----------------------------------------------------------------------


@BOTH
def test_plain_resource_function_with_and_without_context(opener: Any) -> None:
    """A plain ``@resource`` function returns the value; the context parameter is optional."""

    @of.resource
    def with_ctx(context: of.InitResourceContext) -> str:
        return f"key={context.resource_key}"

    @of.resource
    def without_ctx() -> str:
        return "no context"

    assert opener({"a": with_ctx, "b": without_ctx}) == {"a": "key=a", "b": "no context"}
    assert with_ctx.lifecycle.shape is Shape.FUNCTION
    assert not with_ctx.lifecycle.needs_exit


def test_generator_resource_cleans_up_at_close_exactly_once() -> None:
    """Code after a generator resource's ``yield`` runs when the block ends, exactly once."""
    events: list[str] = []

    @of.resource
    def conn(context: of.InitResourceContext) -> Iterator[str]:
        events.append("open")
        yield "conn"
        events.append("close")

    builder = of.build_resources({"conn": conn})
    with builder as res:
        assert res.conn == "conn"
        assert events == ["open"]
    assert events == ["open", "close"]
    builder.__exit__(None, None, None)  # a second close does nothing
    assert events == ["open", "close"]
    assert conn.lifecycle.shape is Shape.GENERATOR


def test_generator_resource_cleans_up_when_the_block_raises() -> None:
    """A generator's cleanup runs even when the ``with`` block fails."""
    events: list[str] = []

    @of.resource
    def conn() -> Iterator[str]:
        yield "conn"
        events.append("close")

    with pytest.raises(Boom), of.build_resources({"conn": conn}):
        raise Boom
    assert events == ["close"]


def test_contextmanager_resource_sees_the_blocks_exception() -> None:
    """A ``@contextmanager`` resource sees the block's exception at exit (to roll back)."""
    seen: list[BaseException | None] = []

    @of.resource
    @contextlib.contextmanager
    def transaction(context: of.InitResourceContext) -> Iterator[str]:
        try:
            yield "tx"
        except BaseException as exc:
            seen.append(exc)
            raise
        seen.append(None)

    with pytest.raises(Boom) as info, of.build_resources({"tx": transaction}) as res:
        assert res.tx == "tx"
        raise Boom("rollback please")
    assert seen == [info.value]
    assert transaction.lifecycle.shape is Shape.CONTEXT_MANAGER

    with of.build_resources({"tx": transaction}):
        pass
    assert seen[-1] is None


def test_contextmanager_resource_without_context_parameter() -> None:
    """A ``@contextmanager`` resource function may take no parameter at all."""
    events: list[str] = []

    @of.resource
    @contextlib.contextmanager
    def session() -> Iterator[str]:
        events.append("enter")
        yield "s"
        events.append("exit")

    with of.build_resources({"s": session}) as res:
        assert res.s == "s"
    assert events == ["enter", "exit"]


def test_async_resource_functions_open_and_close_via_async_with() -> None:
    """``async def``, async generator and ``@asynccontextmanager`` resources work in async code."""
    events: list[str] = []

    @of.resource
    async def token(context: of.InitResourceContext) -> str:
        await asyncio.sleep(0)
        return "tok"

    @of.resource
    async def pool() -> AsyncIterator[str]:
        events.append("pool open")
        yield "pool"
        events.append("pool close")

    @of.resource
    @contextlib.asynccontextmanager
    async def client(context: of.InitResourceContext) -> AsyncIterator[str]:
        events.append("client open")
        try:
            yield "client"
        finally:
            events.append("client close")

    async def main() -> None:
        async with of.build_resources({"token": token, "pool": pool, "client": client}) as res:
            assert (res.token, res.pool, res.client) == ("tok", "pool", "client")
            assert events == ["client open", "pool open"]
        assert events == ["client open", "pool open", "pool close", "client close"]

    run(main())
    assert token.lifecycle.is_async
    assert not token.lifecycle.needs_exit
    assert pool.lifecycle.shape is Shape.GENERATOR
    assert pool.lifecycle.needs_exit
    assert client.lifecycle.shape is Shape.CONTEXT_MANAGER
    assert client.lifecycle.is_async


def test_asynccontextmanager_resource_sees_the_blocks_exception() -> None:
    """An ``@asynccontextmanager`` resource sees the ``async with`` block's exception."""
    seen: list[BaseException] = []

    @of.resource
    @contextlib.asynccontextmanager
    async def transaction() -> AsyncIterator[str]:
        try:
            yield "tx"
        except BaseException as exc:
            seen.append(exc)
            raise

    async def main() -> None:
        async with of.build_resources({"tx": transaction}):
            raise Boom

    with pytest.raises(Boom) as info:
        run(main())
    assert seen == [info.value]


@pytest.mark.parametrize(
    ("fn", "shape", "is_async", "needs_exit"),
    [
        (lambda: 1, Shape.FUNCTION, False, False),
        (lambda ctx: 1, Shape.FUNCTION, False, False),
    ],
    ids=["no-arg lambda", "context lambda"],
)
def test_classify_function_on_lambdas(
    fn: Any, shape: Shape, is_async: bool, needs_exit: bool
) -> None:
    """Plain callables classify as sync functions without an exit."""
    plan = classify_function(fn, "resource 'x'", False)
    assert (plan.shape, plan.is_async, plan.needs_exit) == (shape, is_async, needs_exit)


def _gen() -> Iterator[int]:
    yield 1


async def _agen() -> AsyncIterator[int]:
    yield 1


async def _coro() -> int:
    return 1


@contextlib.contextmanager
def _cm() -> Iterator[int]:
    yield 1


@contextlib.asynccontextmanager
async def _acm() -> AsyncIterator[int]:
    yield 1


@pytest.mark.parametrize(
    ("fn", "shape", "is_async", "needs_exit"),
    [
        (_gen, Shape.GENERATOR, False, True),
        (_agen, Shape.GENERATOR, True, True),
        (_coro, Shape.FUNCTION, True, False),
        (_cm, Shape.CONTEXT_MANAGER, False, True),
        (_acm, Shape.CONTEXT_MANAGER, True, True),
    ],
    ids=["generator", "async generator", "coroutine", "contextmanager", "asynccontextmanager"],
)
def test_classify_function_decides_each_shape(
    fn: Any, shape: Shape, is_async: bool, needs_exit: bool
) -> None:
    """classify_function tells generators, coroutines and (async) context managers apart."""
    plan = classify_function(fn, "resource 'x'", False)
    assert (plan.shape, plan.is_async, plan.needs_exit) == (shape, is_async, needs_exit)


# -- ConfigurableResource hooks -----------------------------------------------------------------


class Hooked(of.ConfigurableResource):
    """Records setup/teardown into a shared list given as config."""

    events: of.ResourceDependency[Recorder]
    fail_setup: bool = False
    _state: str = PrivateAttr(default="new")

    def setup_for_execution(self, context: of.InitResourceContext) -> None:
        self.events.append(f"setup {context.resource_key}")
        if self.fail_setup:
            raise RuntimeError("setup failed")
        self._state = "ready"

    def teardown_after_execution(self, context: of.InitResourceContext) -> None:
        self.events.append(f"teardown {context.resource_key} ({self._state})")


@BOTH
def test_setup_and_teardown_hooks_run_around_the_block(opener: Any) -> None:
    """setup_for_execution runs at open, teardown_after_execution at close, on the run copy."""
    rec = Recorder()
    original = Hooked(events=rec)
    values = opener({"h": original})
    assert rec.events == ["setup h", "teardown h (ready)"]
    assert values["h"] is not original
    assert original._state == "new"
    assert plan_of(original).shape is Shape.HOOKS


def test_teardown_is_not_called_when_setup_raised() -> None:
    """A failing setup_for_execution skips teardown and fails naming the key."""
    rec = Recorder()
    with (
        pytest.raises(ResourceInitError, match=r"resource 'h' \(Hooked\) failed to open") as info,
        of.build_resources({"h": Hooked(events=rec, fail_setup=True)}),
    ):
        pytest.fail("the block must not run")
    assert rec.events == ["setup h"]
    assert info.value.key == "h"
    assert "RuntimeError: setup failed" in str(info.value)
    assert isinstance(info.value.__cause__, RuntimeError)


def test_teardown_is_not_called_when_async_setup_raised() -> None:
    """The async path also skips teardown when setup raised."""
    events: list[str] = []

    class AsyncHooked(of.ConfigurableResource):
        async def setup_for_execution(self, context: of.InitResourceContext) -> None:
            events.append("setup")
            raise RuntimeError("no")

        async def teardown_after_execution(self, context: of.InitResourceContext) -> None:
            events.append("teardown")

    async def main() -> None:
        async with of.build_resources({"a": AsyncHooked()}):
            pass

    with pytest.raises(ResourceInitError, match="'a'"):
        run(main())
    assert events == ["setup"]


class FailingCreate(of.ConfigurableResourceFactory[str]):
    """Its setup succeeds, then create_resource raises."""

    events: of.ResourceDependency[Recorder]

    def setup_for_execution(self, context: of.InitResourceContext) -> None:
        self.events.append("setup")

    def create_resource(self, context: of.InitResourceContext) -> str:
        self.events.append("create")
        raise ValueError("cannot create")

    def teardown_after_execution(self, context: of.InitResourceContext) -> None:
        self.events.append("teardown")


@BOTH
def test_teardown_is_called_when_create_resource_raised_after_setup(opener: Any) -> None:
    """When setup succeeded but create_resource raised, teardown still runs."""
    rec = Recorder()
    with pytest.raises(ResourceInitError, match=r"'f'.*ValueError: cannot create"):
        opener({"f": FailingCreate(events=rec)})
    assert rec.events == ["setup", "create", "teardown"]


def test_async_setup_for_execution_runs_in_async_scope_only() -> None:
    """An async setup_for_execution is awaited by ``async with``; sync opening is refused."""
    events: list[str] = []

    class AsyncSetup(of.ConfigurableResource):
        _ready: bool = PrivateAttr(default=False)

        async def setup_for_execution(self, context: of.InitResourceContext) -> None:
            await asyncio.sleep(0)
            events.append("setup")
            self._ready = True

        def teardown_after_execution(self, context: of.InitResourceContext) -> None:
            events.append("teardown")

    assert plan_of(AsyncSetup()).is_async

    async def main() -> None:
        async with of.build_resources({"r": AsyncSetup()}) as res:
            assert res.r._ready
        assert events == ["setup", "teardown"]

    run(main())
    with pytest.raises(InvocationError, match="async"), of.build_resources({"r": AsyncSetup()}):
        pass


def test_yield_for_execution_as_contextmanager() -> None:
    """Overriding yield_for_execution with ``@contextmanager`` replaces the default lifecycle."""
    events: list[Any] = []

    class Session(of.ConfigurableResource):
        name: str = "s"

        @contextlib.contextmanager
        def yield_for_execution(self, context: of.InitResourceContext) -> Iterator["Session"]:
            events.append(("enter", context.resource_key))
            try:
                yield self
            except BaseException as exc:
                events.append(("error", type(exc).__name__))
                raise
            finally:
                events.append("exit")

    assert plan_of(Session()).shape is Shape.CONTEXT_MANAGER
    for opener in (open_sync, open_async):
        events.clear()
        assert opener({"s": Session(name="x")})["s"].name == "x"
        assert events == [("enter", "s"), "exit"]

    events.clear()
    with pytest.raises(Boom), of.build_resources({"s": Session()}):
        raise Boom
    assert events == [("enter", "s"), ("error", "Boom"), "exit"]


def test_yield_for_execution_as_asynccontextmanager() -> None:
    """An ``@asynccontextmanager`` yield_for_execution opens in async code, not in sync code."""
    events: list[str] = []

    class AsyncSession(of.ConfigurableResource):
        @contextlib.asynccontextmanager
        async def yield_for_execution(
            self, context: of.InitResourceContext
        ) -> AsyncIterator["AsyncSession"]:
            events.append("enter")
            yield self
            events.append("exit")

    plan = plan_of(AsyncSession())
    assert plan.is_async
    assert plan.shape is Shape.CONTEXT_MANAGER
    assert isinstance(open_async({"s": AsyncSession()})["s"], AsyncSession)
    assert events == ["enter", "exit"]
    with pytest.raises(InvocationError, match=r"AsyncSession\.yield_for_execution|async"):
        open_sync({"s": AsyncSession()})


def test_yield_for_execution_returning_a_non_context_manager_is_rejected_at_open() -> None:
    """A yield_for_execution that returns a plain value gets a fix-it naming contextmanager."""

    class Wrong(of.ConfigurableResource):
        def yield_for_execution(self, context: of.InitResourceContext) -> Any:  # type: ignore[override]
            return self

    with pytest.raises(DefinitionError) as info:
        open_sync({"w": Wrong()})
    assert "Wrong.yield_for_execution returned Wrong, not a context manager" in str(info.value)
    assert "@contextlib.contextmanager" in str(info.value)


class GenFactory(of.ConfigurableResourceFactory[str]):
    """create_resource is a generator."""

    events: of.ResourceDependency[Recorder]

    def create_resource(self, context: of.InitResourceContext) -> Iterator[str]:  # type: ignore[override]
        self.events.append("open")
        yield f"conn-{context.resource_key}"
        self.events.append("close")


class AsyncGenFactory(of.ConfigurableResourceFactory[str]):
    """create_resource is an async generator."""

    events: of.ResourceDependency[Recorder]

    async def create_resource(  # type: ignore[override]
        self, context: of.InitResourceContext
    ) -> AsyncIterator[str]:
        self.events.append("open")
        yield "async-conn"
        self.events.append("close")


@BOTH
def test_factory_create_resource_as_generator(opener: Any) -> None:
    """A generator create_resource yields the value and cleans up at close."""
    rec = Recorder()
    assert opener({"db": GenFactory(events=rec)}) == {"db": "conn-db"}
    assert rec.events == ["open", "close"]
    assert plan_of(GenFactory(events=rec)).shape is Shape.GENERATOR


def test_factory_create_resource_as_async_generator() -> None:
    """An async generator create_resource works with ``async with`` and is refused in sync."""
    rec = Recorder()
    assert open_async({"db": AsyncGenFactory(events=rec)}) == {"db": "async-conn"}
    assert rec.events == ["open", "close"]
    with pytest.raises(InvocationError, match="async"):
        open_sync({"db": AsyncGenFactory(events=Recorder())})
    assert plan_of(AsyncGenFactory(events=rec)).is_async


def test_generator_factory_with_hooks_closes_generator_before_teardown() -> None:
    """With setup/teardown and a generator create_resource: setup, open, close, teardown."""
    events: list[str] = []

    class Both(of.ConfigurableResourceFactory[int]):
        def setup_for_execution(self, context: of.InitResourceContext) -> None:
            events.append("setup")

        def create_resource(self, context: of.InitResourceContext) -> Iterator[int]:  # type: ignore[override]
            events.append("open")
            yield 1
            events.append("close")

        def teardown_after_execution(self, context: of.InitResourceContext) -> None:
            events.append("teardown")

    for opener in (open_sync, open_async):
        events.clear()
        assert opener({"b": Both()}) == {"b": 1}
        assert events == ["setup", "open", "close", "teardown"]


# -- resource-manager classes --------------------------------------------------------------------


class TempDir:
    """A setup/cleanup manager that records its calls."""

    instances: ClassVar[list["TempDir"]] = []

    def __init__(self, prefix: str, *, suffix: str = "") -> None:
        self.path = f"{prefix}/dir{suffix}"
        self.cleaned: list[Any] = []
        TempDir.instances.append(self)

    def setup(self) -> dict[str, str]:
        return {"path": self.path}

    def cleanup(self, resource: Any) -> None:
        self.cleaned.append(resource)


class NoSetup:
    """A manager with only cleanup."""

    last: "NoSetup | None" = None

    def __init__(self) -> None:
        self.cleaned: list[Any] = []
        NoSetup.last = self

    def cleanup(self, resource: Any) -> None:
        self.cleaned.append(resource)


@BOTH
def test_managed_binding_cleanup_receives_setups_value_exactly_once(opener: Any) -> None:
    """ManagedBinding(cls, *args) makes an instance per scope; cleanup gets setup's value once."""
    TempDir.instances.clear()
    binding = ManagedBinding(TempDir, "/tmp", suffix="-1")
    values = opener({"tmp": binding})
    assert values == {"tmp": {"path": "/tmp/dir-1"}}
    (manager,) = TempDir.instances
    assert manager.cleaned == [values["tmp"]]
    assert manager.cleaned[0] is values["tmp"]
    assert plan_of(binding).shape is Shape.SETUP_CLEANUP
    assert repr(binding) == "ManagedBinding(TempDir)"


def test_managed_binding_makes_a_fresh_manager_per_scope() -> None:
    """Two scopes from the same binding get two manager instances."""
    TempDir.instances.clear()
    binding = ManagedBinding(TempDir, "/a")
    open_sync({"tmp": binding})
    open_sync({"tmp": binding})
    assert len(TempDir.instances) == 2
    assert [m.cleaned for m in TempDir.instances] == [[{"path": "/a/dir"}]] * 2


def test_managed_binding_without_setup_cleans_up_none() -> None:
    """A manager class without setup() yields None and cleanup(None) runs at close."""
    values = open_sync({"m": ManagedBinding(NoSetup)})
    assert values == {"m": None}
    assert NoSetup.last is not None
    assert NoSetup.last.cleaned == [None]


def test_managed_binding_cleanup_runs_when_the_block_raises() -> None:
    """A manager's cleanup runs even when the block fails."""
    TempDir.instances.clear()
    with pytest.raises(Boom), of.build_resources({"tmp": ManagedBinding(TempDir, "/x")}):
        raise Boom
    assert TempDir.instances[0].cleaned == [{"path": "/x/dir"}]


def test_async_manager_class_is_awaited_in_async_scope() -> None:
    """A manager with async setup/cleanup is awaited by ``async with`` and refused in sync code."""
    events: list[Any] = []

    class AsyncManager:
        async def setup(self) -> str:
            events.append("setup")
            return "handle"

        async def cleanup(self, resource: str) -> None:
            events.append(("cleanup", resource))

    assert open_async({"m": ManagedBinding(AsyncManager)}) == {"m": "handle"}
    assert events == ["setup", ("cleanup", "handle")]
    with pytest.raises(
        InvocationError, match=r"resource 'm' \(resource manager AsyncManager\) is async"
    ):
        open_sync({"m": ManagedBinding(AsyncManager)})


def test_resource_manager_called_outside_a_flow_is_a_binding() -> None:
    """``@resource_manager`` classes called outside a flow bind as setup/cleanup resources."""
    TempDir.instances.clear()
    manager = of.resource_manager(TempDir)
    binding = manager("/rm")
    assert isinstance(binding, ManagedBinding)
    assert open_sync({"tmp": binding}) == {"tmp": {"path": "/rm/dir"}}
    assert TempDir.instances[-1].cleaned == [{"path": "/rm/dir"}]


# -- ambiguous shapes ----------------------------------------------------------------------------


def test_yield_for_execution_plus_setup_is_rejected_with_both_names() -> None:
    """Overriding yield_for_execution and setup_for_execution is ambiguous: both are named."""
    with pytest.raises(DefinitionError) as info:

        class Mixed(of.ConfigurableResource):
            @contextlib.contextmanager
            def yield_for_execution(self, context: of.InitResourceContext) -> Iterator[Any]:
                yield self

            def setup_for_execution(self, context: of.InitResourceContext) -> None:
                pass

    text = str(info.value)
    assert "Mixed overrides yield_for_execution and also setup_for_execution" in text
    assert "those hooks would never run" in text
    assert "move the setup/teardown code into yield_for_execution" in text
    assert "or remove the yield_for_execution override" in text


def test_yield_for_execution_plus_setup_and_teardown_names_all_three() -> None:
    """With both hooks overridden, the message names setup and teardown."""
    with pytest.raises(DefinitionError) as info:

        class Mixed2(of.ConfigurableResource):
            @contextlib.contextmanager
            def yield_for_execution(self, context: of.InitResourceContext) -> Iterator[Any]:
                yield self

            def setup_for_execution(self, context: of.InitResourceContext) -> None:
                pass

            def teardown_after_execution(self, context: of.InitResourceContext) -> None:
                pass

    assert "also setup_for_execution and teardown_after_execution" in str(info.value)


def test_yield_for_execution_plus_teardown_only_is_rejected() -> None:
    """Overriding yield_for_execution and only teardown_after_execution is rejected too."""
    with pytest.raises(DefinitionError, match="also teardown_after_execution;"):

        class Mixed3(of.ConfigurableResource):
            @contextlib.asynccontextmanager
            async def yield_for_execution(
                self, context: of.InitResourceContext
            ) -> AsyncIterator[Any]:
                yield self

            def teardown_after_execution(self, context: of.InitResourceContext) -> None:
                pass


def test_bare_generator_yield_for_execution_is_rejected_with_contextmanager_hint() -> None:
    """A yield_for_execution generator without ``@contextmanager`` gets a hint naming it."""
    with pytest.raises(DefinitionError) as info:

        class BareGen(of.ConfigurableResource):
            def yield_for_execution(  # type: ignore[override]
                self, context: of.InitResourceContext
            ) -> Iterator[Any]:
                yield self

    text = str(info.value)
    assert "BareGen.yield_for_execution is a bare generator, not a context manager" in text
    assert "Hint: decorate it with @contextlib.contextmanager." in text


def test_bare_async_generator_yield_for_execution_hints_asynccontextmanager() -> None:
    """The async-generator twin gets a hint naming ``@contextlib.asynccontextmanager``."""
    with pytest.raises(DefinitionError) as info:

        class BareAsyncGen(of.ConfigurableResource):
            async def yield_for_execution(  # type: ignore[override]
                self, context: of.InitResourceContext
            ) -> AsyncIterator[Any]:
                yield self

    assert "BareAsyncGen.yield_for_execution is a bare generator" in str(info.value)
    assert "@contextlib.asynccontextmanager" in str(info.value)


def test_manager_class_without_cleanup_is_rejected() -> None:
    """A setup-only class cannot be a resource manager; the hint says what cleanup gets."""

    class SetupOnly:
        def setup(self) -> int:
            return 1

    for check in (lambda: ManagedBinding(SetupOnly), lambda: check_manager_class(SetupOnly)):
        with pytest.raises(DefinitionError) as info:
            check()
        text = str(info.value)
        assert "resource manager SetupOnly has no cleanup(self, resource) method" in text
        assert "define cleanup(self, resource)" in text
        assert "or None without setup" in text


def test_manager_class_that_is_also_a_context_manager_is_rejected() -> None:
    """A class with both __enter__ and setup/cleanup is ambiguous."""

    class Both:
        def setup(self) -> int:
            return 1

        def cleanup(self, resource: int) -> None:
            pass

        def __enter__(self) -> "Both":
            return self

        def __exit__(self, *exc: object) -> None:
            pass

    class AsyncBoth:
        def cleanup(self, resource: Any) -> None:
            pass

        async def __aenter__(self) -> "AsyncBoth":
            return self

        async def __aexit__(self, *exc: object) -> None:
            pass

    for cls in (Both, AsyncBoth):
        with pytest.raises(DefinitionError) as info:
            ManagedBinding(cls)
        text = str(info.value)
        assert (
            f"{cls.__name__} is both a context manager and a setup/cleanup resource manager" in text
        )
        assert "keep one protocol" in text


def test_resource_function_with_two_parameters_is_rejected() -> None:
    """A ``@resource`` function takes the context or nothing; two parameters is an error."""
    with pytest.raises(DefinitionError) as info:

        @of.resource
        def client(context: Any, other: Any) -> None:
            pass

    text = str(info.value)
    assert "resource function 'client' takes 2 parameters" in text
    assert "takes one parameter (the InitResourceContext) or none" in text
    assert "required_resource_keys" in text


def test_contextmanager_resource_function_with_two_parameters_is_rejected() -> None:
    """The parameter check looks through ``@contextmanager`` to the wrapped function."""
    with pytest.raises(DefinitionError, match="takes 2 parameters"):

        @of.resource
        @contextlib.contextmanager
        def client(context: Any, other: Any) -> Iterator[None]:
            yield

    @of.resource
    def keyword_only(context: Any, *, extra: int = 0) -> int:
        return extra

    assert open_sync({"k": keyword_only}) == {"k": 0}


def test_generator_resource_that_yields_twice_fails_at_close() -> None:
    """A generator resource yielding twice is reported at close, naming the key."""

    @of.resource
    def twice() -> Iterator[int]:
        yield 1
        yield 2

    with pytest.raises(TeardownError) as info, of.build_resources({"t": twice}) as res:
        assert res.t == 1
    assert info.value.keys == ("t",)
    inner = info.value.errors["t"]
    assert isinstance(inner, DefinitionError)
    assert "resource function 'twice' yielded more than once" in str(inner)
    assert "must yield exactly once" in str(inner)
    assert "t: DefinitionError: resource function 'twice' yielded more than once" in str(info.value)


def test_async_generator_resource_that_yields_twice_fails_at_close() -> None:
    """The async-generator twin is also reported at close."""

    @of.resource
    async def twice() -> AsyncIterator[int]:
        yield 1
        yield 2

    async def main() -> None:
        async with of.build_resources({"t": twice}):
            pass

    with pytest.raises(TeardownError) as info:
        run(main())
    assert "an async generator resource must yield exactly once" in str(info.value.errors["t"])


def test_factory_create_resource_yielding_twice_fails_at_close() -> None:
    """A create_resource generator yielding twice names the class at close."""

    class Twice(of.ConfigurableResourceFactory[int]):
        def create_resource(self, context: of.InitResourceContext) -> Iterator[int]:  # type: ignore[override]
            yield 1
            yield 2

    with pytest.raises(TeardownError) as info:
        open_sync({"tw": Twice()})
    assert "Twice.create_resource yielded more than once" in str(info.value.errors["tw"])


# -- async resources asked for from sync code -----------------------------------------------------


@of.resource
async def async_token() -> str:
    return "tok"


def test_run_scope_get_of_async_resource_points_to_aget() -> None:
    """RunScope.get on an async resource raises InvocationError pointing to async with / aget."""
    with RunScope({"token": async_token}) as scope, pytest.raises(InvocationError) as info:
        scope.get("token")
    text = str(info.value)
    assert "resource 'token' (@resource async_token) is async" in text
    assert "cannot be opened from synchronous code" in text
    assert "async with" in text
    assert "aget" in text


def test_build_resources_sync_with_async_resource_points_to_async_with() -> None:
    """Sync build_resources refuses async resources with the same fix-it."""
    with pytest.raises(InvocationError) as info, of.build_resources({"token": async_token}):
        pass
    assert "async with" in str(info.value)
    assert "aget" in str(info.value)


def test_sync_enter_of_async_lifecycle_points_to_async_code() -> None:
    """The lifecycle's own sync entry for an async shape explains the fix."""
    with pytest.raises(InvocationError) as info:
        async_token.lifecycle.enter_sync(async_token.resource_fn, None)  # type: ignore[arg-type]
    assert "resource function 'async_token' is async" in str(info.value)
    assert "`async with scope:` and `await scope.aget(key)`" in str(info.value)


def test_sync_close_of_a_scope_holding_async_resources_reports_them() -> None:
    """Closing synchronously a scope that holds async exits reports each key, without hanging."""
    events: list[str] = []

    class AsyncTeardown(of.ConfigurableResource):
        async def teardown_after_execution(self, context: of.InitResourceContext) -> None:
            events.append("teardown")

    scope = RunScope({"a": AsyncTeardown(), "plain": 1})

    async def open_all() -> None:
        await scope.aget("a")
        await scope.aget("plain")

    run(open_all())
    with pytest.raises(TeardownError) as info:
        scope.close()
    assert info.value.keys == ("a",)
    error = info.value.errors["a"]
    assert isinstance(error, InvocationError)
    assert "resource 'a' needs an async close, but the scope was closed synchronously" in str(error)
    assert "await scope.aclose()" in str(error)
    assert events == []
    scope.close()  # already closed: nothing more happens


def test_async_close_awaits_async_exits() -> None:
    """aclose awaits async exits; sync exits run too, in reverse order."""
    events: list[str] = []

    class AsyncTeardown(of.ConfigurableResource):
        async def teardown_after_execution(self, context: of.InitResourceContext) -> None:
            events.append("async teardown")

    @of.resource
    def sync_gen() -> Iterator[int]:
        yield 1
        events.append("sync close")

    async def main() -> None:
        scope = RunScope({"a": AsyncTeardown(), "b": sync_gen})
        await scope.aopen(["a", "b"])
        await scope.aclose()
        await scope.aclose()

    run(main())
    assert events == ["sync close", "async teardown"]


# -- shapes through build_resources, and the definitions around them ---------------------------


class Probe:
    """A context manager that records how it was used."""

    def __init__(self) -> None:
        self.entered = self.exited = 0

    def __enter__(self) -> "Probe":
        self.entered += 1
        return self

    def __exit__(self, *exc: Any) -> None:
        self.exited += 1


def test_bare_objects_are_values_and_never_entered() -> None:
    """A bare context manager bound as a resource is passed through untouched."""
    probe = Probe()
    with of.build_resources({"p": probe, "n": 3}) as res:
        assert res.p is probe
        assert res.n == 3
    assert (probe.entered, probe.exited) == (0, 0)


def test_function_resources_with_and_without_context() -> None:
    """@resource functions may take the context or nothing."""

    @of.resource
    def plain() -> str:
        return "plain"

    @of.resource(config_schema={"x": int})
    def configured(context: of.InitResourceContext) -> int:
        return int(context.resource_config["x"]) * 2

    config = {"configured": {"config": {"x": 21}}}
    with of.build_resources({"plain": plain, "configured": configured}, config) as res:
        assert (res.plain, res.configured) == ("plain", 42)


def test_generator_resource_cleans_up_after_yield_once() -> None:
    """Code after the yield runs once when the scope closes."""
    events: list[str] = []

    @of.resource
    def gen(context: Any) -> Iterator[str]:
        events.append("open")
        yield "value"
        events.append("close")

    with of.build_resources({"g": gen}) as res:
        assert res.g == "value"
        assert events == ["open"]
    assert events == ["open", "close"]


def test_generator_yielding_twice_is_an_error_at_close() -> None:
    """A generator resource must yield exactly once."""

    @of.resource
    def twice(context: Any) -> Iterator[int]:
        yield 1
        yield 2

    with pytest.raises(of.exceptions.TeardownError) as info, of.build_resources({"t": twice}):
        pass
    assert "yielded more than once" in str(info.value)


def test_async_shapes_open_in_async_code() -> None:
    """async def, async generators and asynccontextmanager resources work with async with."""
    events: list[str] = []

    @of.resource
    async def coro(context: Any) -> str:
        return "coro"

    @of.resource
    async def agen(context: Any) -> AsyncIterator[str]:
        yield "agen"
        events.append("agen closed")

    @of.resource
    @contextlib.asynccontextmanager
    async def acm(context: Any) -> AsyncIterator[str]:
        yield "acm"
        events.append("acm closed")

    class AsyncSetup(of.ConfigurableResource):
        async def setup_for_execution(self, context: Any) -> None:
            events.append("setup")

        async def teardown_after_execution(self, context: Any) -> None:
            events.append("teardown")

    async def main() -> tuple[Any, ...]:
        resources = {"coro": coro, "agen": agen, "acm": acm, "setup": AsyncSetup()}
        async with of.build_resources(resources) as res:
            return res.coro, res.agen, res.acm, type(res.setup).__name__

    assert asyncio.run(main()) == ("coro", "agen", "acm", "AsyncSetup")
    assert sorted(events) == ["acm closed", "agen closed", "setup", "teardown"]


def test_async_resource_in_sync_build_resources_is_refused() -> None:
    """Sync build_resources names the async fix."""

    @of.resource
    async def coro(context: Any) -> str:
        return "x"

    with pytest.raises(InvocationError, match="async with"), of.build_resources({"c": coro}):
        pass


def test_teardown_skipped_when_setup_raises_but_run_when_create_raises() -> None:
    """teardown_after_execution is not called if setup raised; it is if create_resource raised."""
    events: list[str] = []

    class SetupFails(of.ConfigurableResource):
        def setup_for_execution(self, context: Any) -> None:
            raise RuntimeError("setup")

        def teardown_after_execution(self, context: Any) -> None:
            events.append("teardown-1")

    class CreateFails(of.ConfigurableResourceFactory[int]):
        def setup_for_execution(self, context: Any) -> None:
            events.append("setup-2")

        def create_resource(self, context: Any) -> int:
            raise RuntimeError("create")

        def teardown_after_execution(self, context: Any) -> None:
            events.append("teardown-2")

    for resource in (SetupFails(), CreateFails()):
        with pytest.raises(of.exceptions.ResourceInitError), of.build_resources({"r": resource}):
            pass
    assert events == ["setup-2", "teardown-2"]


def test_yield_for_execution_keeps_a_with_open_and_sees_the_error() -> None:
    """An overridden yield_for_execution wraps the run and sees its exception."""
    seen: list[str] = []

    class Tx(of.ConfigurableResource):
        @contextlib.contextmanager
        def yield_for_execution(self, context: Any) -> Iterator["Tx"]:
            try:
                yield self
                seen.append("commit")
            except ValueError:
                seen.append("rollback")
                raise

    with of.build_resources({"tx": Tx()}):
        pass
    with pytest.raises(ValueError, match="x"), of.build_resources({"tx": Tx()}):
        raise ValueError("x")
    assert seen == ["commit", "rollback"]


def test_factory_generator_create_resource() -> None:
    """create_resource may be a generator; cleanup runs at close."""
    events: list[str] = []

    class Conn(of.ConfigurableResourceFactory[dict]):  # type: ignore[type-arg]
        url: str

        def create_resource(self, context: Any) -> Iterator[dict[str, str]]:
            yield {"url": self.url}
            events.append("closed")

    with of.build_resources({"conn": Conn(url="u")}) as res:
        assert res.conn == {"url": "u"}
    assert events == ["closed"]


def test_manager_class_setup_value_reaches_cleanup_once() -> None:
    """A setup/cleanup class: cleanup gets setup's value exactly once; no setup gives None."""
    events: list[Any] = []

    class Cluster:
        def __init__(self, n: int) -> None:
            self.n = n

        def setup(self) -> str:
            return f"cluster-{self.n}"

        def cleanup(self, value: Any) -> None:
            events.append(value)

    class NoSetup:
        def cleanup(self, value: Any) -> None:
            events.append(value)

    resources = {"c": ManagedBinding(Cluster, 2), "n": ManagedBinding(NoSetup)}
    with of.build_resources(resources) as res:
        assert res.c == "cluster-2"
    assert set(events) == {"cluster-2", None}
    assert len(events) == 2


@pytest.mark.parametrize(
    ("build", "message", "hint"),
    [
        (
            lambda: type(
                "Both",
                (of.ConfigurableResource,),
                {
                    "setup_for_execution": lambda self, c: None,
                    "yield_for_execution": contextlib.contextmanager(lambda self, c: iter([self])),
                },
            ),
            "overrides yield_for_execution and also setup_for_execution",
            "move the setup/teardown code into yield_for_execution",
        ),
        (
            lambda: type(
                "BareGen",
                (of.ConfigurableResource,),
                {
                    "yield_for_execution": _bare_generator,
                },
            ),
            "yield_for_execution is a bare generator",
            "@contextlib.contextmanager",
        ),
        (
            lambda: ManagedBinding(type("NoCleanup", (), {"setup": lambda self: 1})),
            "has no cleanup(self, resource) method",
            "define cleanup(self, resource)",
        ),
        (
            lambda: ManagedBinding(
                type(
                    "Both2",
                    (),
                    {
                        "cleanup": lambda self, r: None,
                        "__enter__": lambda self: self,
                        "__exit__": lambda self, *a: None,
                    },
                )
            ),
            "both a context manager and a setup/cleanup resource manager",
            "keep one protocol",
        ),
        (
            lambda: of.resource(lambda a, b: 1),
            "takes 2 parameters",
            "takes one parameter (the InitResourceContext) or none",
        ),
    ],
)
def test_ambiguous_shapes_are_rejected_with_a_fix(build: Any, message: str, hint: str) -> None:
    """Each ambiguous shape raises DefinitionError naming the problem and its fix."""
    with pytest.raises(DefinitionError) as info:
        build()
    assert message in str(info.value)
    assert hint in str(info.value)


def _bare_generator(self: Any, context: Any) -> Iterator[Any]:
    yield self
