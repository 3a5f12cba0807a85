"""EnvVar: deferred resolution, typed variants, .env files, errors and secret hygiene."""

import copy
import os
import pickle
from pathlib import Path
from typing import Any

import pytest
from pydantic import Field

import outfitter as of
from outfitter._config.settings import EnvLookup
from outfitter._resources.scope import RunScope
from outfitter.exceptions import ConfigError

SECRET = "pa55-Word-7c1e"
TEACHING = "an EnvVar holds the variable's *name*"


@pytest.fixture(autouse=True)
def _isolated_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Point the .env lookup at an absent file and clear the variables these tests use."""
    monkeypatch.setenv("OUTFITTER_ENV_FILE", str(tmp_path / "absent.env"))
    for name in list(os.environ):
        if name.startswith("OFT_EV_"):
            monkeypatch.delenv(name)
    OPENED.clear()


class Settings(of.ConfigurableResource):
    name: str = "n"
    port: int = 0
    ratio: float = 0.0
    flag: bool = False
    hosts: list[str] = Field(default_factory=list)
    headers: dict[str, str] = Field(default_factory=dict)


class Credentials(of.ConfigurableResource):
    username: str
    password: str


class Bucket(of.ConfigurableResource):
    credentials: Credentials
    region: str = "eu"


OPENED: list[str] = []


class Opened(of.ConfigurableResource):
    """Records every open in OPENED, so a test can see which resources were opened."""

    value: str

    def setup_for_execution(self, context: of.InitResourceContext) -> None:
        OPENED.append(str(context.resource_key))


# -- EnvVar as a str holding the name ------------------------------------------------------------


def test_env_var_is_a_str_holding_the_name() -> None:
    """EnvVar is a str subclass whose str value is the variable's name."""
    var = of.EnvVar("OFT_EV_NAME")
    assert isinstance(var, str)
    assert var == "OFT_EV_NAME"
    assert hash(var) == hash("OFT_EV_NAME")
    assert var.env_var_name == "OFT_EV_NAME"
    assert repr(var) == "EnvVar('OFT_EV_NAME')"


def test_typed_variants_repr_and_name() -> None:
    """EnvVar.int/.float/.bool are EnvVars whose repr shows the variant."""
    assert repr(of.EnvVar.int("OFT_EV_X")) == "EnvVar.int('OFT_EV_X')"
    assert repr(of.EnvVar.float("OFT_EV_X")) == "EnvVar.float('OFT_EV_X')"
    assert repr(of.EnvVar.bool("OFT_EV_X")) == "EnvVar.bool('OFT_EV_X')"
    for var in (of.EnvVar.int("OFT_EV_X"), of.EnvVar.float("OFT_EV_X"), of.EnvVar.bool("OFT_EV_X")):
        assert isinstance(var, of.EnvVar)
        assert var.env_var_name == "OFT_EV_X"


@pytest.mark.parametrize(
    ("use", "how"),
    [
        (lambda v: str(v), "str()"),
        (lambda v: f"{v}", "format or f-string"),
        (lambda v: f"x{v!s}", "str()"),
        (lambda v: format(v, ""), "format or f-string"),
        (lambda v: "{}".format(v), "format or f-string"),  # noqa: UP032
        (lambda v: "%s" % v, "str()"),  # noqa: UP031
        (lambda v: v % (), "'%'"),
        (lambda v: v + "_suffix", "'+'"),
        (lambda v: "prefix_" + v, "'+'"),
    ],
    ids=[
        "str",
        "fstring",
        "fstring-s",
        "format",
        "str.format",
        "percent-rhs",
        "percent-lhs",
        "add",
        "radd",
    ],
)
def test_using_env_var_as_text_raises_with_teaching_hint(use: Any, how: str) -> None:
    """Every way of turning an EnvVar into text raises a ConfigError that explains deferral."""
    var = of.EnvVar("OFT_EV_NAME")
    with pytest.raises(ConfigError) as info:
        use(var)
    err = info.value
    assert err.summary == f"EnvVar('OFT_EV_NAME') was used as text ({how}) before it was resolved"
    assert TEACHING in str(err)
    assert ".get_value()" in str(err)


def test_typed_variant_refuses_text_use_too() -> None:
    """The typed variants refuse text use like the plain EnvVar."""
    with pytest.raises(ConfigError, match="was used as text"):
        f"{of.EnvVar.int('OFT_EV_PORT')}"


def test_env_var_pickles_and_copies_as_itself() -> None:
    """Pickle round-trips keep the variant; copy/deepcopy return the same object."""
    var = of.EnvVar.int("OFT_EV_PORT")
    restored = pickle.loads(pickle.dumps(var))
    assert repr(restored) == "EnvVar.int('OFT_EV_PORT')"
    assert copy.copy(var) is var
    assert copy.deepcopy(var) is var


# -- get_value -----------------------------------------------------------------------------------


def test_get_value_reads_now_and_returns_default_when_unset(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """get_value reads the current environment and falls back to the default."""
    var = of.EnvVar("OFT_EV_VALUE")
    assert var.get_value() is None
    assert var.get_value(default="fallback") == "fallback"
    monkeypatch.setenv("OFT_EV_VALUE", "set")
    assert var.get_value() == "set"
    assert var.get_value(default="fallback") == "set"


@pytest.mark.parametrize(
    ("factory", "raw", "expected"),
    [
        (of.EnvVar.int, "42", 42),
        (of.EnvVar.int, "-7", -7),
        (of.EnvVar.float, "2.5", 2.5),
        (of.EnvVar.float, "3", 3.0),
        (of.EnvVar.bool, "yes", True),
        (of.EnvVar.bool, "TRUE", True),
        (of.EnvVar.bool, "1", True),
        (of.EnvVar.bool, "on", True),
        (of.EnvVar.bool, "no", False),
        (of.EnvVar.bool, "off", False),
        (of.EnvVar.bool, "0", False),
        (of.EnvVar.bool, "", False),
    ],
)
def test_typed_get_value_converts(
    monkeypatch: pytest.MonkeyPatch, factory: Any, raw: str, expected: Any
) -> None:
    """EnvVar.int/.float/.bool convert the raw text."""
    monkeypatch.setenv("OFT_EV_TYPED", raw)
    value = factory("OFT_EV_TYPED").get_value()
    assert value == expected
    assert type(value) is type(expected)


def test_typed_env_vars_convert_in_a_run(monkeypatch: pytest.MonkeyPatch) -> None:
    """Typed EnvVars are converted when the resource is opened."""
    monkeypatch.setenv("OFT_EV_PORT", "5433")
    monkeypatch.setenv("OFT_EV_RATIO", "0.25")
    monkeypatch.setenv("OFT_EV_FLAG", "true")
    res = Settings(
        port=of.EnvVar.int("OFT_EV_PORT"),
        ratio=of.EnvVar.float("OFT_EV_RATIO"),
        flag=of.EnvVar.bool("OFT_EV_FLAG"),
    )
    with of.build_resources({"s": res}) as opened:
        assert opened.s.port == 5433
        assert opened.s.ratio == 0.25
        assert opened.s.flag is True


def test_plain_env_var_in_int_field_is_coerced(monkeypatch: pytest.MonkeyPatch) -> None:
    """A plain EnvVar in an int field is validated (and coerced) by the field's type at open."""
    monkeypatch.setenv("OFT_EV_PORT", "8080")
    with of.build_resources({"s": Settings(port=of.EnvVar("OFT_EV_PORT"))}) as opened:
        assert opened.s.port == 8080


# -- resolution at open time ---------------------------------------------------------------------


def test_construction_does_not_read_the_environment() -> None:
    """Constructing with an unset EnvVar is fine: nothing is read until a run opens it."""
    res = Credentials(username="u", password=of.EnvVar("OFT_EV_UNSET"))
    assert res.password.env_var_name == "OFT_EV_UNSET"


def test_env_vars_resolve_inside_lists_and_dicts(monkeypatch: pytest.MonkeyPatch) -> None:
    """EnvVars nested in list and dict config are resolved when the resource opens."""
    monkeypatch.setenv("OFT_EV_HOST", "db.internal")
    monkeypatch.setenv("OFT_EV_AUTH", "Bearer xyz")
    res = Settings(
        hosts=["static", of.EnvVar("OFT_EV_HOST")],
        headers={"Authorization": of.EnvVar("OFT_EV_AUTH"), "Accept": "json"},
    )
    with of.build_resources({"s": res}) as opened:
        assert opened.s.hosts == ["static", "db.internal"]
        assert opened.s.headers == {"Authorization": "Bearer xyz", "Accept": "json"}
    assert res.hosts[1] == of.EnvVar("OFT_EV_HOST")
    assert isinstance(res.headers["Authorization"], of.EnvVar)


def test_env_vars_resolve_inside_nested_resources(monkeypatch: pytest.MonkeyPatch) -> None:
    """An EnvVar in a nested resource's config is resolved when the parent opens."""
    monkeypatch.setenv("OFT_EV_PW", "pw-1")
    bucket = Bucket(credentials=Credentials(username="u", password=of.EnvVar("OFT_EV_PW")))
    with of.build_resources({"bucket": bucket}) as opened:
        assert opened.bucket.credentials.password == "pw-1"
    assert isinstance(bucket.credentials.password, of.EnvVar)


def test_env_var_in_a_partial_default_resolves(monkeypatch: pytest.MonkeyPatch) -> None:
    """An EnvVar given as a configure_at_launch default resolves when opened."""
    monkeypatch.setenv("OFT_EV_PW", "pw-partial")
    partial = Credentials.configure_at_launch(password=of.EnvVar("OFT_EV_PW"))
    config = {"resources": {"creds": {"config": {"username": "svc"}}}}
    with of.build_resources({"creds": partial}, resource_config=config) as opened:
        assert opened.creds.password == "pw-partial"
        assert opened.creds.username == "svc"


def test_env_var_given_as_launch_config_resolves(monkeypatch: pytest.MonkeyPatch) -> None:
    """Launch config may name an EnvVar ({"env": NAME} in dict form, EnvVar in RunConfig)."""
    monkeypatch.setenv("OFT_EV_PW", "from-launch")
    res = Credentials(username="u", password="code")
    dict_form = {"resources": {"c": {"config": {"password": {"env": "OFT_EV_PW"}}}}}
    with RunScope({"c": res}, dict_form) as scope:
        assert scope.get("c").password == "from-launch"
    obj_form = of.RunConfig(
        resources={"c": Credentials(username="u", password=of.EnvVar("OFT_EV_PW"))}
    )
    with RunScope({"c": res}, obj_form) as scope:
        assert scope.get("c").password == "from-launch"


def test_change_between_scopes_is_seen_by_the_second(monkeypatch: pytest.MonkeyPatch) -> None:
    """The same definition resolves the variable afresh for each scope."""
    res = Credentials(username="u", password=of.EnvVar("OFT_EV_PW"))
    monkeypatch.setenv("OFT_EV_PW", "first")
    with RunScope({"c": res}) as scope:
        assert scope.get("c").password == "first"
    monkeypatch.setenv("OFT_EV_PW", "second")
    with RunScope({"c": res}) as scope:
        assert scope.get("c").password == "second"


def test_unused_resources_are_never_opened_so_their_env_vars_are_never_read(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Asking a scope for one key does not open (or resolve EnvVars of) another key."""
    monkeypatch.setenv("OFT_EV_USED", "here")
    bindings = {
        "used": Opened(value=of.EnvVar("OFT_EV_USED")),
        "unused": Opened(value=of.EnvVar("OFT_EV_NEVER_SET")),
    }
    with RunScope(bindings) as scope:
        assert scope.get("used").value == "here"
        assert scope.opened == ("used",)
    assert OPENED == ["used"]


# -- errors --------------------------------------------------------------------------------------


def test_unset_variable_names_key_field_and_variable() -> None:
    """An unset variable is a ConfigError naming the resource key, the field and the variable."""
    res = Credentials(username="u", password=of.EnvVar("OFT_EV_MISSING"))
    with (
        pytest.raises(ConfigError) as info,
        RunScope({"creds": res}) as scope,
    ):
        scope.get("creds")
    err = info.value
    assert err.summary == "resource 'creds': config could not be resolved"
    assert err.problems == (
        "resource 'creds', field 'password': environment variable OFT_EV_MISSING is not set",
    )
    assert "set the variables in the environment or in the .env file" in str(err)


def test_unset_variables_are_all_listed_with_their_paths() -> None:
    """Every unset variable of a resource is listed, with list and dict paths."""
    res = Settings(
        name=of.EnvVar("OFT_EV_A"),
        hosts=["ok", of.EnvVar("OFT_EV_B")],
        headers={"X-Key": of.EnvVar("OFT_EV_C")},
    )
    with (
        pytest.raises(ConfigError) as info,
        of.build_resources({"settings": res}),
    ):
        pass
    problems = info.value.problems
    assert len(problems) == 3
    assert "resource 'settings', field 'name': environment variable OFT_EV_A is not set" in problems
    assert (
        "resource 'settings', field 'hosts[1]': environment variable OFT_EV_B is not set"
        in problems
    )
    assert (
        "resource 'settings', field 'headers.X-Key': environment variable OFT_EV_C is not set"
        in problems
    )


def test_unset_variable_in_nested_resource_names_the_nested_key() -> None:
    """An unset variable in an owned nested resource names the parent.field key."""
    bucket = Bucket(credentials=Credentials(username="u", password=of.EnvVar("OFT_EV_MISSING")))
    with (
        pytest.raises(ConfigError) as info,
        of.build_resources({"bucket": bucket}),
    ):
        pass
    assert info.value.problems == (
        "resource 'bucket.credentials', field 'password': environment variable OFT_EV_MISSING "
        "is not set",
    )


def test_failed_resolution_opens_nothing_and_leaves_nothing_open() -> None:
    """A resolution error of a dependency stops the parent from opening."""

    class Parent(of.ConfigurableResource):
        child: Opened

        def setup_for_execution(self, context: of.InitResourceContext) -> None:
            OPENED.append("parent")

    with (
        pytest.raises(ConfigError),
        of.build_resources({"p": Parent(child=Opened(value=of.EnvVar("OFT_EV_NO")))}),
    ):
        pass
    assert OPENED == []


def test_unconvertible_int_is_a_config_error_without_the_value(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """EnvVar.int of a non-integer is a ConfigError naming key, field and variable, not value."""
    monkeypatch.setenv("OFT_EV_PORT", SECRET)
    with (
        pytest.raises(ConfigError) as info,
        of.build_resources({"s": Settings(port=of.EnvVar.int("OFT_EV_PORT"))}),
    ):
        pass
    text = str(info.value)
    assert info.value.problems == (
        "resource 's', field 'port': environment variable OFT_EV_PORT is not a valid int",
    )
    assert SECRET not in text
    assert SECRET not in repr(info.value)


def test_unconvertible_bool_is_a_config_error(monkeypatch: pytest.MonkeyPatch) -> None:
    """EnvVar.bool of an unrecognised word is a ConfigError naming the variable."""
    monkeypatch.setenv("OFT_EV_FLAG", "maybe")
    with (
        pytest.raises(ConfigError, match="environment variable OFT_EV_FLAG is not a valid bool"),
        of.build_resources({"s": Settings(flag=of.EnvVar.bool("OFT_EV_FLAG"))}),
    ):
        pass


def test_typed_get_value_raises_value_error_when_unconvertible(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """get_value on an unconvertible typed EnvVar raises ValueError directly."""
    monkeypatch.setenv("OFT_EV_FLAG", "maybe")
    with pytest.raises(ValueError, match="1/0, true/false"):
        of.EnvVar.bool("OFT_EV_FLAG").get_value()


def test_plain_env_var_ill_typed_for_field_does_not_quote_value(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A plain EnvVar whose value fails the field's validation is reported without its value."""
    monkeypatch.setenv("OFT_EV_PORT", SECRET)
    with (
        pytest.raises(ConfigError) as info,
        of.build_resources({"s": Settings(port=of.EnvVar("OFT_EV_PORT"))}),
    ):
        pass
    text = str(info.value)
    assert "resource 's', field 'port': Input should be a valid integer" in text
    assert SECRET not in text


def test_env_var_to_text_error_never_contains_a_value(monkeypatch: pytest.MonkeyPatch) -> None:
    """The text-use error names the variable, never its (set) value."""
    monkeypatch.setenv("OFT_EV_PW", SECRET)
    with pytest.raises(ConfigError) as info:
        str(of.EnvVar("OFT_EV_PW"))
    assert SECRET not in str(info.value)
    assert "OFT_EV_PW" in str(info.value)


# -- .env files ----------------------------------------------------------------------------------


def _write_env(directory: Path, text: str) -> Path:
    path = directory / ".env"
    path.write_text(text)
    return path


def test_dotenv_in_working_directory_is_read(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """Without OUTFITTER_ENV_FILE, ./.env is read for variables missing from the environment."""
    monkeypatch.delenv("OUTFITTER_ENV_FILE")
    _write_env(tmp_path, 'OFT_EV_FILE_ONLY=from-file\nexport OFT_EV_QUOTED="two words"\n')
    monkeypatch.chdir(tmp_path)
    res = Settings(name=of.EnvVar("OFT_EV_FILE_ONLY"), hosts=[of.EnvVar("OFT_EV_QUOTED")])
    with of.build_resources({"s": res}) as opened:
        assert opened.s.name == "from-file"
        assert opened.s.hosts == ["two words"]
    assert of.EnvVar("OFT_EV_FILE_ONLY").get_value() == "from-file"


def test_dotenv_named_by_outfitter_env_file_is_read(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """OUTFITTER_ENV_FILE points EnvVar lookups at another dotenv file."""
    path = tmp_path / "custom.env"
    path.write_text("OFT_EV_CUSTOM=custom-value\n")
    monkeypatch.setenv("OUTFITTER_ENV_FILE", str(path))
    with of.build_resources({"s": Settings(name=of.EnvVar("OFT_EV_CUSTOM"))}) as opened:
        assert opened.s.name == "custom-value"


def test_real_environment_wins_over_dotenv(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """A variable set in both places resolves to the real environment's value."""
    path = _write_env(tmp_path, "OFT_EV_BOTH=file\nOFT_EV_FILE_ONLY=file-only\n")
    monkeypatch.setenv("OUTFITTER_ENV_FILE", str(path))
    monkeypatch.setenv("OFT_EV_BOTH", "environment")
    res = Settings(name=of.EnvVar("OFT_EV_BOTH"), hosts=[of.EnvVar("OFT_EV_FILE_ONLY")])
    with of.build_resources({"s": res}) as opened:
        assert opened.s.name == "environment"
        assert opened.s.hosts == ["file-only"]


def test_empty_environment_value_still_wins_over_dotenv(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """A variable set to the empty string in the environment is set: the file is not used."""
    path = _write_env(tmp_path, "OFT_EV_BOTH=file\n")
    monkeypatch.setenv("OUTFITTER_ENV_FILE", str(path))
    monkeypatch.setenv("OFT_EV_BOTH", "")
    assert EnvLookup().get("OFT_EV_BOTH") == ""


def test_variable_in_neither_place_is_unset(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """A variable missing from both the environment and the file is reported as not set."""
    path = _write_env(tmp_path, "OFT_EV_OTHER=x\n")
    monkeypatch.setenv("OUTFITTER_ENV_FILE", str(path))
    with (
        pytest.raises(ConfigError, match="environment variable OFT_EV_NOWHERE is not set"),
        of.build_resources({"s": Settings(name=of.EnvVar("OFT_EV_NOWHERE"))}),
    ):
        pass


def test_dotenv_edit_is_seen_by_the_next_scope(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """Editing the .env file between runs is seen by the next run."""
    path = _write_env(tmp_path, "OFT_EV_EDIT=one\n")
    monkeypatch.setenv("OUTFITTER_ENV_FILE", str(path))
    res = Settings(name=of.EnvVar("OFT_EV_EDIT"))
    with RunScope({"s": res}) as scope:
        assert scope.get("s").name == "one"
    path.write_text("OFT_EV_EDIT=second-value\n")  # a different size, so a different stamp
    with RunScope({"s": res}) as scope:
        assert scope.get("s").name == "second-value"


def test_relative_dotenv_follows_the_working_directory(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """./.env in another directory is a different file, even with equal size and mtime."""
    monkeypatch.delenv("OUTFITTER_ENV_FILE")
    first, second = tmp_path / "one", tmp_path / "two"
    first.mkdir()
    second.mkdir()
    _write_env(first, "OFT_EV_DIR=aaa\n")
    other = _write_env(second, "OFT_EV_DIR=bbb\n")
    stat = (first / ".env").stat()
    os.utime(other, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    monkeypatch.chdir(first)
    assert of.EnvVar("OFT_EV_DIR").get_value() == "aaa"
    monkeypatch.chdir(second)
    assert of.EnvVar("OFT_EV_DIR").get_value() == "bbb"


def test_missing_dotenv_file_is_not_an_error(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """An absent dotenv file simply contributes nothing."""
    monkeypatch.setenv("OUTFITTER_ENV_FILE", str(tmp_path / "nope" / ".env"))
    assert EnvLookup().get("OFT_EV_ANY") is None
    monkeypatch.setenv("OFT_EV_ANY", "env")
    assert EnvLookup().get("OFT_EV_ANY") == "env"


def test_env_lookup_takes_an_explicit_file(tmp_path: Path) -> None:
    """EnvLookup(env_file) reads the given file."""
    path = tmp_path / "explicit.env"
    path.write_text("OFT_EV_EXPLICIT=yes\n")
    assert EnvLookup(path).get("OFT_EV_EXPLICIT") == "yes"
    assert EnvLookup(path).get("OFT_EV_ABSENT") is None


def test_dotenv_secret_is_redacted_like_an_environment_secret(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """A value read from the .env file is hidden in the run copy's repr."""
    path = _write_env(tmp_path, f"OFT_EV_PW={SECRET}\n")
    monkeypatch.setenv("OUTFITTER_ENV_FILE", str(path))
    res = Credentials(username="u", password=of.EnvVar("OFT_EV_PW"))
    with of.build_resources({"c": res}) as opened:
        assert opened.c.password == SECRET
        assert SECRET not in repr(opened.c)
        assert "password=EnvVar('OFT_EV_PW')" in repr(opened.c)


# -- EnvVars in resources, through build_resources -----------------------------------------------


class RegionalBucket(of.ConfigurableResource):
    """Bucket with the region required (no default)."""

    credentials: Credentials
    region: str


class Database(of.ConfigurableResource):
    table: str
    schema_name: str = "public"
    port: int = 5432


def test_env_var_refuses_to_be_used_as_text() -> None:
    """str(), f-strings, format, % and + raise a teaching ConfigError."""
    var = of.EnvVar("TOKEN")
    for use in (
        lambda: str(var),
        lambda: f"{var}",
        lambda: format(var, ""),
        lambda: "x" + var,
        lambda: var + "x",
        lambda: "%s" % var,  # noqa: UP031
    ):
        with pytest.raises(ConfigError, match="resolved"):
            use()
    assert repr(var) == "EnvVar('TOKEN')"
    assert var == "TOKEN"


def test_env_var_typed_variants_and_get_value(monkeypatch: pytest.MonkeyPatch) -> None:
    """int/float/bool variants convert; get_value reads now with a default."""
    monkeypatch.setenv("N", "7")
    monkeypatch.setenv("F", "0.5")
    monkeypatch.setenv("B", "yes")
    assert of.EnvVar.int("N").get_value() == 7
    assert of.EnvVar.float("F").get_value() == 0.5
    assert of.EnvVar.bool("B").get_value() is True
    assert of.EnvVar("OUTFITTER_TEST_UNSET").get_value("d") == "d"


def test_env_vars_resolve_at_open_everywhere(monkeypatch: pytest.MonkeyPatch) -> None:
    """EnvVars resolve in plain fields, typed fields, lists, dicts and nested resources."""

    class Complex(of.ConfigurableResource):
        port: int
        hosts: list[str]
        headers: dict[str, str]
        credentials: Credentials

    monkeypatch.setenv("PORT", "8080")
    monkeypatch.setenv("HOST", "h1")
    monkeypatch.setenv("AUTH", "Bearer x")
    monkeypatch.setenv("PW", "pw-value")
    defn = Complex(
        port=of.EnvVar.int("PORT"),
        hosts=[of.EnvVar("HOST"), "h2"],
        headers={"auth": of.EnvVar("AUTH")},
        credentials=Credentials(username="u", password=of.EnvVar("PW")),
    )
    with of.build_resources({"c": defn}) as res:
        assert res.c.port == 8080
        assert res.c.hosts == ["h1", "h2"]
        assert res.c.headers == {"auth": "Bearer x"}
        assert res.c.credentials.password == "pw-value"
        assert "pw-value" not in repr(res.c)
    monkeypatch.setenv("PORT", "9090")
    with of.build_resources({"c": defn}) as res:
        assert res.c.port == 9090


def test_unset_env_var_names_key_field_and_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    """An unset variable is a ConfigError naming resource key, field path and variable."""
    monkeypatch.delenv("BUCKET_PW", raising=False)
    bucket = RegionalBucket(
        credentials=Credentials(username="u", password=of.EnvVar("BUCKET_PW")), region="eu"
    )
    with pytest.raises(ConfigError) as info, of.build_resources({"bucket": bucket}):
        pass
    assert (
        "resource 'bucket.credentials', field 'password': environment variable BUCKET_PW "
        "is not set" in str(info.value)
    )


def test_bad_typed_env_var_is_a_config_error(monkeypatch: pytest.MonkeyPatch) -> None:
    """A value that does not convert names the variable without showing the value."""
    monkeypatch.setenv("PORT", "secret-not-a-number")
    with (
        pytest.raises(ConfigError) as info,
        of.build_resources({"db": Database(table="t", port=of.EnvVar.int("PORT"))}),
    ):
        pass
    assert "environment variable PORT is not a valid int" in str(info.value)
    assert "secret-not-a-number" not in str(info.value)


def test_dotenv_file_is_read_and_real_environment_wins(
    tmp_path: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Variables missing from the environment come from .env; the environment wins."""
    (tmp_path / ".env").write_text("FROM_FILE=file-value\nBOTH=file\n")
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("OUTFITTER_ENV_FILE", raising=False)
    monkeypatch.delenv("FROM_FILE", raising=False)
    monkeypatch.setenv("BOTH", "env")
    creds = Credentials(username=of.EnvVar("FROM_FILE"), password=of.EnvVar("BOTH"))
    with of.build_resources({"c": creds}) as res:
        assert (res.c.username, res.c.password) == ("file-value", "env")
