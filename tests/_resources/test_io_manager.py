"""I/O managers: contexts, the filesystem and in-memory managers, user-defined ones."""

from __future__ import annotations

import csv
import os
import pickle
import threading
from pathlib import Path
from typing import Any

import pytest

import outfitter as of
from outfitter._resources.io_manager import build_input_context, build_output_context
from outfitter.exceptions import DefinitionError, InvocationError


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


# -- paths stay inside the storage directory ------------------------------------------------------

KEY_HINT = (
    "Hint: make every part a plain name: not empty, '.' or '..', no '/', '\\' or NUL character, "
    "not absolute. A key_prefix is a list of names (key_prefix=['raw', 'sales']); "
    "AssetKey.from_user_string('raw/sales') splits a 'a/b' string into parts."
)


def test_key_prefix_that_climbs_out_is_refused_at_definition_time(tmp_path: Path) -> None:
    """@asset(key_prefix=['..', '..']) would store the asset two levels above the storage
    directory; it is a DefinitionError when the asset is defined, naming the key and each part."""
    with pytest.raises(DefinitionError) as err:

        @of.asset(key_prefix=["..", ".."])
        def escape() -> int:
            return 1

    assert str(err.value) == (
        "invalid asset key '../../escape' (parts ['..', '..', 'escape']): I/O managers store it "
        "at a path made of its parts, one file or directory name each\n"
        "  - part 1 '..' names the parent directory, outside the storage directory\n"
        "  - part 2 '..' names the parent directory, outside the storage directory\n" + KEY_HINT
    )
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    ("parts", "problem"),
    [
        (["raw", "."], "part 2 '.' names the current directory, not an entry in it"),
        (["raw", ""], "part 2 '' is empty"),
        (["/etc", "x"], "part 1 '/etc' is an absolute path and contains a path separator"),
        (["C:", "x"], "part 1 'C:' is an absolute path"),
        (["a/b"], "part 1 'a/b' contains a path separator ('/' or '\\')"),
        (["a\\..\\..\\b"], "part 1 'a\\\\..\\\\..\\\\b' contains a path separator ('/' or '\\')"),
        (["a\0b"], "part 1 'a\\x00b' contains a NUL character"),
        (["raw", 3], "part 2 3 is of type int, not a string"),
    ],
)
def test_asset_key_parts_that_are_not_plain_names_are_refused(
    parts: list[Any], problem: str
) -> None:
    """Every part is checked on its own; the message names the key, the part and the fix."""
    with pytest.raises(DefinitionError) as err:
        of.AssetKey(parts)
    assert err.value.problems[0].startswith(problem)
    assert str(err.value).endswith(KEY_HINT)
    assert "invalid asset key '" in str(err.value)


def test_asset_key_of_something_that_is_not_a_key_is_refused() -> None:
    """A number is a DefinitionError naming it, not a TypeError from deep inside."""
    with pytest.raises(DefinitionError) as err:
        of.AssetKey(42)  # type: ignore[arg-type]
    assert str(err.value).startswith(
        "invalid asset key 42: expected a string or a list of strings, got int\n"
    )


def test_keys_from_strings_split_on_slashes_and_check_each_part() -> None:
    """'a/b' is two parts (legitimately); '../x' and 'a//b' still hold a bad part."""
    assert of.AssetKey.from_user_string("raw/users").path == ("raw", "users")
    assert of.AssetIn("raw/users").key == of.AssetKey(["raw", "users"])
    with pytest.raises(DefinitionError, match=r"part 1 '\.\.' names the parent directory"):
        of.AssetKey.from_user_string("../x")
    with pytest.raises(DefinitionError, match="part 2 '' is empty"):
        of.AssetIn("a//b")
    with pytest.raises(DefinitionError, match="part 1 'a/b' contains a path separator"):
        of.AssetKey("a/b")  # one string is one part, as in Dagster; from_user_string splits it
    with pytest.raises(DefinitionError, match=r"part 1 '\.\.' names the parent"):

        @of.asset(ins={"up": of.AssetIn(key_prefix=[".."])})
        def down(up: int) -> int:
            return up


def test_names_with_dots_inside_are_plain_names(tmp_path: Path) -> None:
    """Only '.' and '..' themselves are refused: 'v1.2' or '..hidden' are ordinary file names."""

    @of.asset(key_prefix=["v1.2", "..hidden"])
    def table() -> int:
        return 7

    of.materialize(
        [table], resources={"io_manager": of.FilesystemIOManager(base_dir=str(tmp_path))}
    )
    assert (tmp_path / "v1.2" / "..hidden" / "table").is_file()


def escaping_outputs() -> list[tuple[dict[str, Any], str]]:
    return [
        ({"run_id": "../../outside"}, "['../../outside', 's', 'result']"),
        ({"run_id": "r", "step_key": "..", "name": ".."}, "['r', '..', '..']"),
        ({"run_id": "/tmp/abs"}, "['/tmp/abs', 's', 'result']"),
        ({"run_id": "r", "name": "a\0b"}, "['r', 's', 'a\\x00b']"),
    ]


@pytest.mark.parametrize(("fields", "identifier"), escaping_outputs())
def test_handle_output_refuses_identifiers_leading_outside_its_directory(
    tmp_path: Path, fields: dict[str, Any], identifier: str
) -> None:
    """Run ids, step keys and output names are not asset keys, so the manager itself checks the
    resolved path: outside the directory (or the directory itself) is an InvocationError naming
    the output and the directory, and nothing is written."""
    root = tmp_path / "storage"
    root.mkdir()
    io = of.FilesystemIOManager(base_dir=str(root))
    with pytest.raises(InvocationError) as err:
        io.handle_output(build_output_context(**{"step_key": "s", **fields}), [1])
    step = fields.get("step_key", "s")
    assert str(err.value) == (
        f"FilesystemIOManager refuses to store step {step!r}: its identifier {identifier} leads "
        f"outside the storage directory {os.path.realpath(root)}\n"
        "Hint: asset keys, run ids, step keys and output names must be plain names (not '', '.' "
        "or '..', no '/', '\\' or NUL, not absolute); if a symlink inside the directory points "
        "elsewhere, remove it or set base_dir to the real location."
    )
    assert sorted(p.name for p in tmp_path.rglob("*")) == ["storage"]


@pytest.mark.parametrize(("fields", "identifier"), escaping_outputs())
def test_load_input_refuses_identifiers_leading_outside_its_directory(
    tmp_path: Path, fields: dict[str, Any], identifier: str
) -> None:
    """Loading checks the same way, before opening anything: a file planted outside the
    directory where the identifier points is never read."""
    root = tmp_path / "storage"
    root.mkdir()
    (tmp_path / "outside").mkdir()
    (tmp_path / "outside" / "s").mkdir()
    (tmp_path / "outside" / "s" / "result").write_bytes(pickle.dumps("planted"))
    io = of.FilesystemIOManager(base_dir=str(root))
    upstream = build_output_context(**{"step_key": "s", **fields})
    with pytest.raises(InvocationError) as err:
        io.load_input(build_input_context(name="numbers", upstream_output=upstream))
    assert str(err.value).startswith(
        f"FilesystemIOManager refuses to load input 'numbers' of step 'test_step': its "
        f"identifier {identifier} leads outside the storage directory {os.path.realpath(root)}"
    )


def test_a_hand_made_identifier_in_a_subclass_is_refused(tmp_path: Path) -> None:
    """A context whose get_identifier is overridden (a subclass, a custom context) is checked
    too, as is an identifier that names the directory itself."""

    class Escaping(of.OutputContext):
        def get_identifier(self) -> list[str]:
            return ["ok", "..", "..", "..", "etc", "cron.d", "job"]

    class Root(of.OutputContext):
        def get_identifier(self) -> list[str]:
            return ["."]

    io = of.FilesystemIOManager(base_dir=str(tmp_path))
    with pytest.raises(InvocationError, match=r"refuses to store step 'x': its identifier \['ok'"):
        io.handle_output(Escaping(step_key="x"), 1)
    with pytest.raises(
        InvocationError, match=r"refuses to store step 'x': its identifier \['\.'\]"
    ):
        io.handle_output(Root(step_key="x"), 1)
    assert list(tmp_path.iterdir()) == []


def test_symlinks_are_resolved_before_the_check(tmp_path: Path) -> None:
    """A symlink inside the directory that points outside it does not carry outputs out."""
    root = tmp_path / "storage"
    root.mkdir()
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (root / "link").symlink_to(elsewhere, target_is_directory=True)
    io = of.FilesystemIOManager(base_dir=str(root))
    out = build_output_context(step_key="s", asset_key=of.AssetKey(["link", "table"]))
    with pytest.raises(InvocationError) as err:
        io.handle_output(out, 1)
    assert str(err.value).startswith(
        "FilesystemIOManager refuses to store asset 'link/table': its identifier "
        f"['link', 'table'] leads outside the storage directory {os.path.realpath(root)}"
    )
    assert list(elsewhere.iterdir()) == []


def test_paths_inside_the_directory_still_work(tmp_path: Path) -> None:
    """Nested identifiers, '..' that stays inside, and a symlinked root are all fine."""
    real = tmp_path / "real"
    real.mkdir()
    (tmp_path / "alias").symlink_to(real, target_is_directory=True)
    io = of.FilesystemIOManager(base_dir=str(tmp_path / "alias"))
    out = build_output_context(step_key="s", run_id="r")
    io.handle_output(out, {"n": 1})
    assert io.load_input(build_input_context(upstream_output=out)) == {"n": 1}
    assert (real / "r" / "s" / "result").is_file()

    class Roundabout(of.OutputContext):
        def get_identifier(self) -> list[str]:
            return ["a", "..", "b"]

    io.handle_output(Roundabout(step_key="s"), 2)
    assert pickle.loads((real / "b").read_bytes()) == 2


def test_outputs_into_one_directory_are_written_atomically_with_mkstemps_mode(
    tmp_path: Path,
) -> None:
    """Every output lands whole under its name, as the mkstemp + os.replace write did (a
    private 0600 file, no fsync), and no temporary file is left behind; later outputs into a
    directory already checked and made reuse that check."""
    io = of.FilesystemIOManager(base_dir=str(tmp_path))
    for i in range(5):
        io.handle_output(build_output_context(step_key="s", asset_key=of.AssetKey([f"t{i}"])), i)
        io.handle_output(build_output_context(step_key=f"s{i}", run_id="r"), [i])
    assert sorted(p.name for p in tmp_path.iterdir()) == ["r", "t0", "t1", "t2", "t3", "t4"]
    assert sorted(p.name for p in (tmp_path / "r").iterdir()) == [f"s{i}" for i in range(5)]
    assert pickle.loads((tmp_path / "t3").read_bytes()) == 3
    assert os.stat(tmp_path / "t3").st_mode & 0o777 == 0o600
    assert os.stat(tmp_path / "r" / "s2" / "result").st_mode & 0o777 == 0o600
    out = build_output_context(step_key="s4", run_id="r")
    assert io.load_input(build_input_context(upstream_output=out)) == [4]


def test_a_directory_removed_between_outputs_is_made_again(tmp_path: Path) -> None:
    """The directories a manager already made are remembered; one removed meanwhile is checked
    and made again rather than failing the write."""
    import shutil

    io = of.FilesystemIOManager(base_dir=str(tmp_path / "store"))
    io.handle_output(build_output_context(step_key="a", run_id="r"), 1)
    shutil.rmtree(tmp_path / "store")
    io.handle_output(build_output_context(step_key="a", run_id="r"), 2)
    assert pickle.loads((tmp_path / "store" / "r" / "a" / "result").read_bytes()) == 2


def test_a_failed_write_leaves_no_temporary_file_and_the_old_value(tmp_path: Path) -> None:
    """A write that cannot complete (here a directory in the way of the file) raises, leaves
    no temporary file, and whatever was at the path stays."""
    io = of.FilesystemIOManager(base_dir=str(tmp_path))
    io.handle_output(build_output_context(step_key="s", asset_key=of.AssetKey(["a"])), 1)
    (tmp_path / "b").mkdir()
    with pytest.raises(OSError):
        io.handle_output(build_output_context(step_key="s", asset_key=of.AssetKey(["b"])), 2)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a", "b"]
    with pytest.raises(InvocationError, match="cannot be pickled"):
        io.handle_output(
            build_output_context(step_key="s", asset_key=of.AssetKey(["a"])), threading.Lock()
        )
    assert pickle.loads((tmp_path / "a").read_bytes()) == 1
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a", "b"]


def test_a_symlink_planted_at_an_outputs_name_is_never_followed_outside(tmp_path: Path) -> None:
    """In a directory already checked, a symlink planted at a file's name pointing outside is
    not read through (loading takes the full check and refuses), and a write replaces the
    link itself: nothing outside the directory is read or written."""
    root = tmp_path / "storage"
    io = of.FilesystemIOManager(base_dir=str(root))
    io.handle_output(build_output_context(step_key="s", asset_key=of.AssetKey(["first"])), 0)
    secret = tmp_path / "secret"
    secret.write_bytes(pickle.dumps("outside"))
    (root / "planted").symlink_to(secret)
    out = build_output_context(step_key="s", asset_key=of.AssetKey(["planted"]))
    with pytest.raises(InvocationError, match="refuses to load input 'input' of step 'test_step'"):
        io.load_input(build_input_context(upstream_output=out))
    io.handle_output(out, "inside")
    assert pickle.loads(secret.read_bytes()) == "outside"
    assert not (root / "planted").is_symlink()
    assert io.load_input(build_input_context(upstream_output=out)) == "inside"
