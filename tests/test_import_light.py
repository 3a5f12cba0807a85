"""``import outfitter`` loads no heavy dependency until the code that uses it runs (issue 17): each
is imported inside the function that needs it. Checked in fresh processes, since this test
session has imported most of them already. Timing lives in ``benchmarks/bench_import.py``."""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import outfitter


def _heavy() -> tuple[str, ...]:
    """The list benchmarks/bench_import.py reports on (one list: the benchmark and this test
    pin the same modules)."""
    path = Path(__file__).resolve().parents[1] / "benchmarks" / "bench_import.py"
    spec = importlib.util.spec_from_file_location("bench_import", path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return tuple(module.HEAVY)


HEAVY = _heavy()


def run_fresh(code: str) -> str:
    """Run ``code`` in a new interpreter on the outfitter under test; returns its stdout."""
    src = str(Path(outfitter.__file__).resolve().parents[1])
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([src, os.environ.get("PYTHONPATH", "")]))
    done = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


def test_import_outfitter_loads_no_heavy_module() -> None:
    """``import outfitter`` brings none of the heavy modules into ``sys.modules``. Only what it
    adds counts: under coverage (CI), the interpreter starts with coverage's own imports
    (multiprocessing and subprocess, which it patches) already there."""
    out = run_fresh(
        f"""
        import sys
        before = set(sys.modules)
        import outfitter
        print(sorted(m for m in {HEAVY!r} if m in sys.modules and m not in before))
        """
    )
    assert out == "[]"


def test_the_deferred_imports_load_when_used() -> None:
    """What moved into functions still works in a fresh process: a mock resource, YAML run
    config (aliases still refused), an async asset run, and the lazy ``ResourceContainer``."""
    out = run_fresh(
        """
        import sys
        from unittest.mock import MagicMock

        import outfitter as of
        from outfitter._config.run_config import load_run_config_yaml

        assert isinstance(of.ResourceDefinition.mock_resource().resource_fn(None), MagicMock)
        assert load_run_config_yaml("a: {b: 1}") == {"a": {"b": 1}}
        try:
            load_run_config_yaml("a: &x [1]\\nb: *x")
        except Exception as exc:
            assert "anchors and aliases are not allowed" in str(exc), exc
        else:
            raise AssertionError("an alias was accepted")

        @of.asset
        async def doubled() -> int:
            return 2

        assert of.materialize_to_memory([doubled]).output_for_node("doubled") == 2
        assert of.ResourceContainer.__name__ == "ResourceContainer"
        print("asyncio" in sys.modules, "dependency_injector" in sys.modules)
        """
    )
    assert out == "True True"
