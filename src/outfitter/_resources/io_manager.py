"""I/O managers: how step outputs are stored and loaded back (DESIGN §6).

An I/O manager is a resource (key ``io_manager`` by default) with ``handle_output(context, obj)``
and ``load_input(context)``. ``FilesystemIOManager`` pickles under the instance's storage
directory; ``InMemoryIOManager`` keeps values in a dict (``materialize_to_memory``).
"""

from __future__ import annotations

import abc
import contextlib
import itertools
import logging
import os
import pickle
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from pydantic import PrivateAttr

from ..exceptions import InvocationError
from .configurable import ConfigurableResource, ConfigurableResourceFactory
from .context import InitResourceContext, Resources
from .definition import ResourceDefinition

if TYPE_CHECKING:
    from .asset_key import AssetKey

__all__ = [
    "DEFAULT_IO_MANAGER",
    "IN_MEMORY_IO_MANAGER",
    "ConfigurableIOManager",
    "ConfigurableIOManagerFactory",
    "FilesystemIOManager",
    "IOManager",
    "InMemoryIOManager",
    "InputContext",
    "OutputContext",
    "build_input_context",
    "build_output_context",
    "io_configs",
]

_LOG = logging.getLogger("outfitter.io")


class OutputContext:
    """What ``handle_output`` receives about the output being stored.

    Example:
        >>> from outfitter._resources.io_manager import build_output_context
        >>> build_output_context(step_key="clean").get_identifier()
        ['ephemeral', 'clean', 'result']
    """

    __slots__ = (
        "asset_key",
        "config",
        "instance",
        "log",
        "metadata",
        "name",
        "output_metadata",
        "resources",
        "run_id",
        "step_key",
    )

    def __init__(
        self,
        *,
        step_key: str,
        name: str = "result",
        asset_key: AssetKey | None = None,
        run_id: str = "ephemeral",
        resources: Resources | None = None,
        log: logging.Logger | None = None,
        config: Any = None,
        metadata: Mapping[str, Any] | None = None,
        instance: Any = None,
    ) -> None:
        self.step_key = step_key
        self.name = name
        self.asset_key = asset_key
        self.run_id = run_id
        self.resources = resources if resources is not None else Resources({})
        self.log = log or _LOG
        self.config = config
        self.metadata = dict(metadata) if metadata else {}
        self.instance = instance
        self.output_metadata: dict[str, Any] = {}

    @property
    def has_asset_key(self) -> bool:
        """Whether the output is an asset."""
        return self.asset_key is not None

    def get_identifier(self) -> list[str]:
        """Where this output lives: the asset's path, or run id / step / output name."""
        if self.asset_key is not None:
            return list(self.asset_key.path)
        return [self.run_id, self.step_key, self.name]

    def add_output_metadata(self, metadata: Mapping[str, Any]) -> None:
        """Attach metadata to the output (recorded with the materialization)."""
        self.output_metadata.update(metadata)

    def describe(self) -> str:
        """``asset 'a/b'`` or ``step 's'``, for messages."""
        if self.asset_key is not None:
            return f"asset {self.asset_key.to_user_string()!r}"
        return f"step {self.step_key!r}"


class InputContext:
    """What ``load_input`` receives about the input being loaded.

    Example:
        >>> from outfitter._resources.io_manager import build_input_context
        >>> build_input_context(name="users").name
        'users'
    """

    __slots__ = (
        "asset_key",
        "config",
        "instance",
        "log",
        "metadata",
        "name",
        "resources",
        "run_id",
        "step_key",
        "upstream_output",
    )

    def __init__(
        self,
        *,
        name: str,
        asset_key: AssetKey | None = None,
        upstream_output: OutputContext | None = None,
        step_key: str = "test_step",
        run_id: str = "ephemeral",
        resources: Resources | None = None,
        log: logging.Logger | None = None,
        config: Any = None,
        metadata: Mapping[str, Any] | None = None,
        instance: Any = None,
    ) -> None:
        self.name = name
        self.asset_key = asset_key
        self.upstream_output = upstream_output
        self.step_key = step_key
        self.run_id = run_id
        self.resources = resources if resources is not None else Resources({})
        self.log = log or _LOG
        self.config = config
        self.metadata = dict(metadata or {})
        self.instance = instance

    @property
    def has_asset_key(self) -> bool:
        """Whether the input is an asset."""
        return self.asset_key is not None

    def get_identifier(self) -> list[str]:
        """Where the upstream output lives."""
        if self.upstream_output is not None:
            return self.upstream_output.get_identifier()
        if self.asset_key is not None:
            return list(self.asset_key.path)
        return [self.run_id, self.step_key, self.name]

    def describe(self) -> str:
        """``asset 'a/b'`` or ``input 'x' of step 's'``, for messages."""
        if self.asset_key is not None:
            return f"asset {self.asset_key.to_user_string()!r}"
        return f"input {self.name!r} of step {self.step_key!r}"


def io_configs(run_config: Any) -> dict[tuple[str, str, str], Any]:
    """Per-output and per-input I/O manager config of a run config, keyed by
    ``(step key, "outputs" | "inputs", name)``: Dagster's ``ops: {my_op: {outputs: {result:
    {...}}, inputs: {x: {...}}}}``, which reaches ``handle_output`` / ``load_input`` as
    ``context.config``. A ``RunConfig`` (whose ``ops`` hold op config only) has none.

    Example:
        >>> entry = {"config": {"n": 1}, "outputs": {"result": {"fmt": "csv"}}}
        >>> io_configs({"ops": {"clean": entry}})
        {('clean', 'outputs', 'result'): {'fmt': 'csv'}}
    """
    if not isinstance(run_config, Mapping):
        return {}
    ops = run_config.get("ops")
    found: dict[tuple[str, str, str], Any] = {}
    if not isinstance(ops, Mapping):
        return found
    for step, entry in ops.items():
        if not isinstance(entry, Mapping):
            continue
        for section in ("outputs", "inputs"):
            given = entry.get(section)
            if isinstance(given, Mapping):
                for name, value in given.items():
                    found[(str(step), section, str(name))] = value
    return found


def build_output_context(**kwargs: Any) -> OutputContext:
    """An OutputContext for testing an I/O manager (every argument optional)."""
    kwargs.setdefault("step_key", "test_step")
    return OutputContext(**kwargs)


def build_input_context(**kwargs: Any) -> InputContext:
    """An InputContext for testing an I/O manager (every argument optional)."""
    kwargs.setdefault("name", "input")
    return InputContext(**kwargs)


class IOManager(abc.ABC):
    """Stores step outputs and loads them as inputs of later steps.

    Example:
        >>> from outfitter import IOManager
        >>> class Printing(IOManager):
        ...     def handle_output(self, context, obj):
        ...         print(context.step_key, obj)
        ...     def load_input(self, context):
        ...         return None
        >>> from outfitter._resources.io_manager import build_output_context
        >>> Printing().handle_output(build_output_context(step_key="s"), 1)
        s 1
    """

    @abc.abstractmethod
    def handle_output(self, context: OutputContext, obj: Any) -> None:
        """Store ``obj``, the output described by ``context``."""

    @abc.abstractmethod
    def load_input(self, context: InputContext) -> Any:
        """Load the value of the input described by ``context``."""


class ConfigurableIOManager(ConfigurableResource[Any], IOManager):
    """An I/O manager configured with fields, like any configurable resource.

    Example:
        >>> import json, os, tempfile
        >>> from outfitter import ConfigurableIOManager
        >>> class JsonIOManager(ConfigurableIOManager):
        ...     root: str
        ...     def _path(self, context):
        ...         return os.path.join(self.root, *context.get_identifier()) + ".json"
        ...     def handle_output(self, context, obj):
        ...         os.makedirs(os.path.dirname(self._path(context)), exist_ok=True)
        ...         with open(self._path(context), "w") as f:
        ...             json.dump(obj, f)
        ...     def load_input(self, context):
        ...         with open(self._path(context)) as f:
        ...             return json.load(f)
        >>> JsonIOManager(root=tempfile.mkdtemp()).root != ""
        True
    """


class ConfigurableIOManagerFactory(ConfigurableResourceFactory[IOManager]):
    """Config fields that build a (non-pydantic) I/O manager per run in
    :meth:`create_io_manager`.

    Example:
        >>> from outfitter import ConfigurableIOManagerFactory, InMemoryIOManager
        >>> class Shared(ConfigurableIOManagerFactory):
        ...     def create_io_manager(self, context):
        ...         return InMemoryIOManager()
        >>> isinstance(Shared().create_resource(None), InMemoryIOManager)
        True
    """

    def create_io_manager(self, context: InitResourceContext) -> IOManager:
        """Return the I/O manager for this run."""
        raise InvocationError(
            f"{type(self).__name__} does not implement create_io_manager()",
            hint="define create_io_manager(self, context) returning an IOManager.",
        )

    def create_resource(self, context: InitResourceContext) -> IOManager:
        """The run's I/O manager."""
        return self.create_io_manager(context)


def _dump(obj: Any, context: OutputContext) -> bytes:
    try:
        return pickle.dumps(obj, protocol=pickle.HIGHEST_PROTOCOL)
    except Exception as exc:
        raise InvocationError(
            f"the output of {context.describe()} (a {type(obj).__name__}) cannot be pickled: {exc}",
            hint="return picklable data (or convert it), or bind an io_manager that knows how "
            "to store this type.",
        ) from exc


_TEMP_NAMES = itertools.count()
_OPEN_NEW = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0)
_OPEN_READ = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0)
_DIRS_KEPT = 1024


def _plain_name(name: Any) -> bool:
    """Whether ``name`` is one ordinary file name (what may follow a checked directory)."""
    return (
        isinstance(name, str)
        and name not in ("", ".", "..")
        and os.sep not in name
        and (os.altsep is None or os.altsep not in name)
        and "\0" not in name
    )


def _write_new(directory: str, path: str, data: bytes) -> None:
    """Write ``data`` to ``path`` atomically, as ``tempfile.mkstemp`` + ``os.replace`` did: a
    new file (mode 0600, never an existing one) under a name unique to this process in the
    same directory, renamed over ``path`` (a reader sees the old file or the whole new one; a
    symlink at ``path`` is replaced, never followed). No fsync, as before."""
    prefix = f"{directory}{os.sep}.tmp-{os.getpid()}-"
    while True:
        tmp = f"{prefix}{next(_TEMP_NAMES)}"
        try:
            fd = os.open(tmp, _OPEN_NEW, 0o600)
            break
        except FileExistsError:  # left by a process that had this pid: take the next name
            continue
    try:
        try:
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view) :]
        finally:
            os.close(fd)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


class FilesystemIOManager(ConfigurableIOManager):
    """Pickles each output to a file under ``base_dir`` (default: the instance's storage
    directory): ``<base_dir>/<asset path>`` for assets, ``<base_dir>/<run>/<step>/<name>``
    otherwise.

    Example:
        >>> import tempfile
        >>> from outfitter import FilesystemIOManager
        >>> from outfitter._resources.io_manager import build_input_context, build_output_context
        >>> io = FilesystemIOManager(base_dir=tempfile.mkdtemp())
        >>> out = build_output_context(step_key="numbers")
        >>> io.handle_output(out, [1, 2])
        >>> io.load_input(build_input_context(upstream_output=out))
        [1, 2]
    """

    base_dir: str | None = None
    _dirs: dict[tuple[Any, ...], str] = PrivateAttr(default_factory=dict)
    """Directories this object already checked (resolved, inside its root) and made: the
    resolved path by ``(root, *identifier[:-1])``. Each run has its own copy (copy-on-init), so
    a run checks and makes each directory once, not once per output."""

    def _root(self) -> str:
        if self.base_dir is not None:
            return self.base_dir
        try:
            instance = self.get_resource_context().instance
        except InvocationError:
            instance = None
        if instance is None:
            raise InvocationError(
                "FilesystemIOManager has no base_dir and no instance to store under",
                hint="set FilesystemIOManager(base_dir=...) or run it inside a run.",
            )
        return str(instance.storage_directory())

    def _path(self, identifier: list[str], what: str, action: str, given: str | None = None) -> str:
        """Where ``what`` (identified by ``identifier``) is stored: the joined path, resolved
        (``..``, symlinks), which must lie strictly inside the resolved root. Asset key parts are
        checked when keys are made; this also covers run ids, step keys, output names and
        identifiers from a subclass's ``get_identifier``."""
        if given is None:
            given = self._root()
        root = os.path.realpath(given)
        try:
            path = os.path.realpath(os.path.join(root, *identifier))
            inside = path != root and os.path.commonpath([root, path]) == root
        except (TypeError, ValueError):  # not strings; an embedded NUL; another drive
            inside = False
        if not inside:
            where = root if os.path.abspath(given) == root else f"{given} (resolved: {root})"
            raise InvocationError(
                f"FilesystemIOManager refuses to {action} {what}: its identifier "
                f"{identifier!r} leads outside the storage directory {where}",
                hint="asset keys, run ids, step keys and output names must be plain names "
                "(not '', '.' or '..', no '/', '\\' or NUL, not absolute); if a symlink inside "
                "the directory points elsewhere, remove it or set base_dir to the real location.",
            )
        return path

    def _known_dir(self, root: str, identifier: list[str]) -> str | None:
        """The checked directory of ``identifier``'s last part (None: not checked yet, or the
        last part is not a plain file name)."""
        if not identifier or not _plain_name(identifier[-1]):
            return None
        try:
            return self._dirs.get((root, *identifier[:-1]))
        except TypeError:  # an unhashable part: the full check refuses it
            return None

    def handle_output(self, context: OutputContext, obj: Any) -> None:
        """Pickle ``obj`` atomically to its path (see :func:`_write_new`). The first output
        into a directory checks the whole resolved path and makes the directory; later ones
        into the same directory reuse that check (a plain file name inside it cannot leave
        it) and write straight away."""
        identifier = context.get_identifier()
        root = self._root()
        directory = self._known_dir(root, identifier)
        if directory is not None:
            data = _dump(obj, context)
            try:
                _write_new(directory, f"{directory}{os.sep}{identifier[-1]}", data)
                return
            except FileNotFoundError:  # the directory went away: check and make it again
                self._dirs.pop((root, *identifier[:-1]), None)
        path = self._path(identifier, context.describe(), "store", root)
        data = _dump(obj, context)
        directory = os.path.dirname(path)
        os.makedirs(directory, exist_ok=True)
        _write_new(directory, path, data)
        name = identifier[-1]
        if _plain_name(name):  # remember the directory unless the name itself is a symlink
            parent = os.path.join(os.path.realpath(root), *identifier[:-1])
            if os.path.realpath(parent) == directory:
                dirs = self._dirs
                if len(dirs) >= _DIRS_KEPT:
                    dirs.clear()
                dirs[(root, *identifier[:-1])] = directory

    def load_input(self, context: InputContext) -> Any:
        """Unpickle the upstream output. A file in a directory already checked is opened
        without following a symlink in its own name (a symlink there takes the full check)."""
        identifier = context.get_identifier()
        root = self._root()
        directory = self._known_dir(root, identifier)
        if directory is not None:
            try:
                fd = os.open(f"{directory}{os.sep}{identifier[-1]}", _OPEN_READ)
            except OSError:  # missing, or a symlink: the full check says what to do
                pass
            else:
                with open(fd, "rb") as f:
                    return pickle.load(f)
        path = self._path(identifier, context.describe(), "load", root)
        try:
            with open(path, "rb") as f:
                return pickle.load(f)
        except FileNotFoundError:
            raise InvocationError(
                f"no stored value for {context.describe()} at {path}",
                hint="materialize the upstream asset first (in this instance), or include it "
                "in the run's selection.",
            ) from None


class InMemoryIOManager(IOManager):
    """Keeps outputs in a dict for the life of the object (``materialize_to_memory``).

    Example:
        >>> from outfitter import InMemoryIOManager
        >>> from outfitter._resources.io_manager import build_input_context, build_output_context
        >>> io = InMemoryIOManager()
        >>> io.handle_output(build_output_context(step_key="s"), "v")
        >>> io.load_input(build_input_context(upstream_output=build_output_context(step_key="s")))
        'v'
    """

    def __init__(self) -> None:
        self.values: dict[tuple[str, ...], Any] = {}

    def handle_output(self, context: OutputContext, obj: Any) -> None:
        """Keep ``obj``."""
        key = context.asset_key
        self.values[key.path if key is not None else tuple(context.get_identifier())] = obj

    def keep_output(self, run_id: str, step_key: str, asset_key: AssetKey | None, obj: Any) -> None:
        """What :meth:`handle_output` does with a run's context for a step's one output,
        without building the context (a run's hot path, when the manager is this class)."""
        self.values[asset_key.path if asset_key is not None else (run_id, step_key, "result")] = obj

    def load_input(self, context: InputContext) -> Any:
        """Return the kept value."""
        try:
            return self.values[tuple(context.get_identifier())]
        except KeyError:
            raise InvocationError(
                f"no value in memory for {context.describe()}",
                hint="materialize the upstream asset in the same run (include it in the "
                "selection).",
            ) from None


DEFAULT_IO_MANAGER = FilesystemIOManager()
"""The ``io_manager`` of runs that bind none: one definition (each run opens its own copy), so
repeated runs keep reusing their cached resource plan."""


def _fresh_in_memory_io_manager() -> InMemoryIOManager:
    return InMemoryIOManager()


IN_MEMORY_IO_MANAGER = ResourceDefinition(
    _fresh_in_memory_io_manager, description="a new InMemoryIOManager for each run"
)
"""``materialize_to_memory``'s ``io_manager``: one definition that opens a new
:class:`InMemoryIOManager` for each run (values never leak from one run to the next)."""


def is_in_memory(source: Any) -> bool:
    """Whether a bound I/O manager keeps outputs in this process's memory."""
    return source is IN_MEMORY_IO_MANAGER or isinstance(source, InMemoryIOManager)
