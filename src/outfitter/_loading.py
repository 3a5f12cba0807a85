"""Loading the user's code for the CLI, the daemon and the UI: a file (``-f``) or a module
(``-m``), its ``defs`` and its flows, with import failures reported as the user's own frames
(everything with ``debug``).

Example:
    >>> from outfitter._loading import load_module
    >>> load_module(None, "json", debug=False)[1]
    'json'
"""

from __future__ import annotations

import importlib
import importlib.util
import sys
import traceback
from pathlib import Path
from typing import Any

from ._definitions.definitions import Definitions, DefinitionsLoader
from ._flows.flow import Flow
from .exceptions import InvocationError

__all__ = [
    "definitions_of",
    "find_definitions",
    "find_flow",
    "find_flows",
    "import_failure",
    "load_definitions",
    "load_module",
    "user_frames",
]

_OUTFITTER_DIR = str(Path(__file__).resolve().parent)


def user_frames(exc: BaseException) -> str:
    """The traceback of an exception raised by the user's code, without the frames of the
    import machinery, typer and Outfitter that led to it (``--debug`` shows everything)."""
    frames = traceback.extract_tb(exc.__traceback__)
    keep = [
        f
        for f in frames
        if not f.filename.startswith(_OUTFITTER_DIR)
        and "importlib" not in f.filename
        and not f.filename.startswith("<frozen")
    ]
    text = "".join(traceback.format_list(keep))
    if isinstance(exc, SyntaxError) and exc.filename:
        text += f'  File "{exc.filename}", line {exc.lineno}\n    {(exc.text or "").strip()}\n'
    return text


def import_failure(what: str, exc: BaseException) -> InvocationError:
    """The InvocationError for user code that raised while it was imported: its type, text and
    the user's own frames."""
    frames = user_frames(exc)
    detail = f"{type(exc).__name__}: {exc}"
    return InvocationError(
        f"importing {what} raised {detail}" + (f"\n{frames.rstrip()}" if frames else ""),
        hint="fix the error in your code (run with --debug for the full traceback).",
    )


def load_module(file: Path | None, module: str | None, *, debug: bool) -> tuple[Any, str]:
    """The module of ``-f FILE`` or ``-m MODULE``, imported (a file is executed afresh on each
    call; a module already imported is reloaded), and how to name it in messages."""
    if (file is None) == (module is None):
        raise InvocationError(
            "give exactly one of -f FILE or -m MODULE",
            hint="e.g. `outfitter materialize -f pipeline.py`.",
        )
    if file is not None:
        if not file.is_file():
            raise InvocationError(f"no such file: {file}", hint="check the path passed to -f.")
        spec = importlib.util.spec_from_file_location(f"_outfitter_defs_{file.stem}", file)
        assert spec is not None
        assert spec.loader is not None
        loaded = importlib.util.module_from_spec(spec)
        sys.modules[spec.name] = loaded
        folder = str(file.resolve().parent)
        if folder not in sys.path:
            sys.path.insert(0, folder)
        try:
            spec.loader.exec_module(loaded)
        except Exception as exc:
            if debug:
                raise
            raise import_failure(str(file), exc) from None
        return loaded, str(file)
    assert module is not None
    if str(Path.cwd()) not in sys.path:
        sys.path.insert(0, str(Path.cwd()))
    try:
        if module in sys.modules:
            loaded = importlib.reload(sys.modules[module])
        else:
            loaded = importlib.import_module(module)
    except ModuleNotFoundError as exc:
        if exc.name != module.split(".")[0] and exc.name != module:
            if debug:
                raise
            raise import_failure(f"module {module!r}", exc) from None
        raise InvocationError(
            f"cannot import module {module!r}: {exc}",
            hint="run from the directory that contains it, or install the package.",
        ) from None
    except Exception as exc:
        if debug:
            raise
        raise import_failure(f"module {module!r}", exc) from None
    return loaded, module


def load_definitions(file: Path | None, module: str | None, *, debug: bool = False) -> Definitions:
    """The ``defs`` object of a file or module (raises InvocationError saying what is wrong).

    Example:
        >>> load_definitions(None, "json")
        Traceback (most recent call last):
        ...
        outfitter.exceptions.InvocationError: json has no Definitions object named `defs`...
    """
    loaded, where = load_module(file, module, debug=debug)
    return definitions_of(loaded, where, debug=debug)


def definitions_of(loaded: Any, where: str, *, debug: bool = False) -> Definitions:
    """The module's ``defs``, or what its ``@definitions`` function returns (raises
    InvocationError when it has neither)."""
    defs = find_definitions(loaded, where, debug=debug)
    if defs is None:
        raise InvocationError(
            f"{where} has no Definitions object named `defs`",
            hint="add `defs = Definitions(assets=[...], resources={...})` at module level, or "
            "a function decorated with @definitions that returns one.",
        )
    return defs


def find_definitions(loaded: Any, where: str, *, debug: bool = False) -> Definitions | None:
    """The Definitions of a module, as Dagster's loader finds them: a ``defs`` variable, or
    the one module-level ``@definitions`` function, called now (None when there is neither).
    Two ``@definitions`` functions, or one that raises or returns something else, are an
    InvocationError naming them."""
    defs = getattr(loaded, "defs", None)
    if isinstance(defs, Definitions):
        return defs
    loaders: dict[int, tuple[str, DefinitionsLoader]] = {}
    for var, value in vars(loaded).items():
        if isinstance(value, DefinitionsLoader) and id(value) not in loaders:
            loaders[id(value)] = (var, value)
    if not loaders:
        return None
    if len(loaders) > 1:
        names = ", ".join(sorted(var for var, _ in loaders.values()))
        raise InvocationError(
            f"{where} has {len(loaders)} @definitions functions: {names}",
            hint="a code location has one; merge them with Definitions.merge(...) in one "
            "@definitions function.",
        )
    var, loader = next(iter(loaders.values()))
    try:
        return loader.load()
    except Exception as exc:
        if debug:
            raise
        raise import_failure(f"{where} (its @definitions function {var!r})", exc) from None


def find_flows(loaded: Any) -> list[tuple[str, Flow]]:
    """The flows a module defines at module level: ``(variable name, flow)``, each flow once."""
    flows: dict[int, tuple[str, Flow]] = {}
    for var, value in vars(loaded).items():
        if isinstance(value, Flow) and id(value) not in flows:
            flows[id(value)] = (var, value)
    return list(flows.values())


def find_flow(loaded: Any, where: str, name: str | None) -> Flow:
    """The flow ``name`` (its name or variable) of a module, or its only flow when ``name`` is
    None; an InvocationError says which flows there are otherwise."""
    found = find_flows(loaded)
    if not found:
        raise InvocationError(
            f"{where} defines no Flow at module level",
            hint='build one with `with Flow("name") as flow: ...` in that file.',
        )
    if name is None:
        if len(found) == 1:
            return found[0][1]
        names = ", ".join(sorted(f.name for _, f in found))
        raise InvocationError(
            f"{where} defines {len(found)} flows: {names}",
            hint="pick one with --flow NAME.",
        )
    for var, flow in found:
        if name in (flow.name, var):
            return flow
    from ._resources.context import did_you_mean

    known = sorted(f.name for _, f in found)
    raise InvocationError(
        f"{where} has no flow named {name!r}." + did_you_mean(name, known),
        hint=f"flows defined there: {', '.join(known)}.",
    )
