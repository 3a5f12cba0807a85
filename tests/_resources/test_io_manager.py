"""I/O managers: contexts, the filesystem and in-memory managers, user-defined ones."""

from __future__ import annotations

import csv
import threading
from pathlib import Path
from typing import Any

import pytest

import outfitter as of
from outfitter._resources.io_manager import build_input_context, build_output_context
from outfitter.exceptions import InvocationError


class CsvIOManager(of.ConfigurableIOManager):
    """Stores lists of dicts as CSV files under root_path."""

    root_path: str

    def _path(self, key: of.AssetKey) -> Path:
        return Path(self.root_path, *key.path).with_suffix(".csv")

    def handle_output(self, context: of.OutputContext, obj: list[dict[str, Any]]) -> None:
        path = self._path(context.asset_key)  # type: ignore[arg-type]
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("w", newline="") as f:
            writer = csv.DictWriter(f, fieldnames=list(obj[0]))
            writer.writeheader()
            writer.writerows(obj)

    def load_input(self, context: of.InputContext) -> list[dict[str, Any]]:
        with self._path(context.asset_key).open() as f:  # type: ignore[arg-type]
            return list(csv.DictReader(f))


@of.asset(key_prefix="raw")
def people() -> list[dict[str, Any]]:
    return [{"name": "ada", "age": 36}, {"name": "alan", "age": 41}]


@of.asset(ins={"people": of.AssetIn("raw/people")})
def names(people: list[dict[str, Any]]) -> list[dict[str, str]]:
    return [{"name": p["name"]} for p in people]


def test_contexts_identify_outputs_and_inputs() -> None:
    """Asset outputs are identified by asset path; op outputs by run, step and name."""
    out = build_output_context(step_key="s", asset_key=of.AssetKey(["a", "b"]))
    assert out.get_identifier() == ["a", "b"]
    assert out.has_asset_key
    op_out = build_output_context(step_key="s", run_id="r")
    assert op_out.get_identifier() == ["r", "s", "result"]
    assert build_input_context(upstream_output=op_out).get_identifier() == ["r", "s", "result"]
    out.add_output_metadata({"rows": 2})
    assert out.output_metadata == {"rows": 2}


def test_user_io_manager_writes_csv_between_runs(tmp_path: Path) -> None:
    """A ConfigurableIOManager stores CSV; a later run loads it as an input."""
    io = CsvIOManager(root_path=str(tmp_path))
    of.materialize([people], resources={"io_manager": io})
    assert (tmp_path / "raw" / "people.csv").read_text().splitlines()[0] == "name,age"
    result = of.materialize([people, names], resources={"io_manager": io}, selection=["names"])
    assert result.asset_value("names") == [{"name": "ada"}, {"name": "alan"}]


def test_filesystem_io_manager_defaults_to_instance_storage(tmp_path: Path) -> None:
    """Without base_dir, outputs go under the instance's storage directory."""
    with of.Instance.local(tmp_path) as instance:
        of.materialize([people], instance=instance)
    assert (tmp_path / "storage" / "raw" / "people").is_file()


def test_filesystem_io_manager_errors_name_the_asset(tmp_path: Path) -> None:
    """Missing inputs and unpicklable outputs are errors naming the asset and a fix."""
    io = of.FilesystemIOManager(base_dir=str(tmp_path))
    with pytest.raises(InvocationError) as missing:
        io.load_input(build_input_context(name="x", asset_key=of.AssetKey("nowhere")))
    assert "no stored value for asset 'nowhere'" in str(missing.value)
    assert "materialize the upstream asset first" in str(missing.value)
    with pytest.raises(InvocationError) as unpicklable:
        io.handle_output(
            build_output_context(step_key="s", asset_key=of.AssetKey("lock")), threading.Lock()
        )
    assert "the output of asset 'lock' (a lock) cannot be pickled" in str(unpicklable.value)
    with pytest.raises(InvocationError, match="no base_dir and no instance"):
        of.FilesystemIOManager().handle_output(build_output_context(step_key="s"), 1)


def test_in_memory_io_manager_round_trip_and_missing() -> None:
    """InMemoryIOManager keeps values by identifier."""
    io = of.InMemoryIOManager()
    out = build_output_context(step_key="s")
    io.handle_output(out, [1])
    assert io.load_input(build_input_context(upstream_output=out)) == [1]
    with pytest.raises(InvocationError, match="no value in memory for asset 'x'"):
        io.load_input(build_input_context(asset_key=of.AssetKey("x")))


def test_io_manager_factory_creates_the_run_manager() -> None:
    """A ConfigurableIOManagerFactory's create_io_manager is the run's io_manager."""
    created: list[of.InMemoryIOManager] = []

    class Factory(of.ConfigurableIOManagerFactory):
        prefix: str = "p"

        def create_io_manager(self, context: Any) -> of.IOManager:
            manager = of.InMemoryIOManager()
            created.append(manager)
            return manager

    result = of.materialize([people], resources={"io_manager": Factory()})
    assert result.success
    assert created[0].values[("raw", "people")][0]["name"] == "ada"


def test_io_manager_key_selects_a_manager(tmp_path: Path) -> None:
    """An asset's io_manager_key picks which resource stores it."""

    @of.asset(io_manager_key="csv")
    def table() -> list[dict[str, Any]]:
        return [{"a": 1}]

    of.materialize([table], resources={"csv": CsvIOManager(root_path=str(tmp_path))})
    assert (tmp_path / "table.csv").exists()
