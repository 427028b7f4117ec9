"""Settings: defaults, sources and their priority, error messages, flags, TOML rendering."""

from __future__ import annotations

import json
import logging
import pickle
import tomllib
from dataclasses import fields
from pathlib import Path
from typing import Any

import click
import pytest
from click.testing import CliRunner

from ghostrun.config import (
    Settings,
    config_file,
    find_project_root,
    load_settings,
    overrides_from_click,
    parse_size,
    settings_options,
)
from ghostrun.errors import ConfigError

GiB = 1024**3


@pytest.fixture
def root(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty project directory that is also the working directory, so messages name
    files as a user at the root sees them."""
    monkeypatch.chdir(tmp_path)
    return tmp_path


def write_pyproject(root: Path, body: str) -> Path:
    path = root / "pyproject.toml"
    path.write_text('[project]\nname = "demo"\n\n[tool.ghostrun]\n' + body)
    return path


def load(root: Path, overrides: dict[str, Any] | None = None,
         environ: dict[str, str] | None = None) -> Settings:
    return load_settings(root, overrides, environ or {})


# --- defaults and sources ----------------------------------------------------------------


def test_defaults(root: Path) -> None:
    settings = load(root)
    assert settings == Settings()
    assert settings.workflow == "pipeline.py"
    assert settings.metric is None
    assert settings.goal == "max"
    assert settings.inputs == {}
    assert settings.storage_budget == 2 * GiB
    assert settings.memory_budget == 1 * GiB
    assert settings.estimator_modules == ("sklearn", "xgboost", "lightgbm")
    assert settings.min_sample_rows == 1500


@pytest.mark.parametrize(
    ("in_file", "in_env", "on_cli", "expected"),
    [
        (False, False, False, 1500),
        (True, False, False, 300),
        (True, True, False, 400),
        (False, True, False, 400),
        (True, True, True, 500),
        (True, False, True, 500),
    ],
    ids=["default", "file", "env-over-file", "env", "cli-over-env-and-file", "cli-over-file"],
)
def test_source_priority(root: Path, in_file: bool, in_env: bool, on_cli: bool,
                         expected: int) -> None:
    if in_file:
        write_pyproject(root, "min_sample_rows = 300\n")
    environ = {"GHOSTRUN_MIN_SAMPLE_ROWS": "400"} if in_env else {}
    overrides = {"min_sample_rows": 500} if on_cli else {}
    assert load(root, overrides, environ).min_sample_rows == expected


def test_ghostrun_toml_wins_over_pyproject(root: Path, caplog: pytest.LogCaptureFixture) -> None:
    write_pyproject(root, 'workflow = "from_pyproject.py"\n')
    (root / "ghostrun.toml").write_text('workflow = "from_ghostrun_toml.py"\n')
    with caplog.at_level(logging.WARNING, logger="ghostrun.config"):
        assert load(root).workflow == "from_ghostrun_toml.py"
    assert "using ghostrun.toml only" in caplog.text
    assert config_file(root) == root / "ghostrun.toml"


def test_pyproject_without_table_is_not_a_config(root: Path) -> None:
    (root / "pyproject.toml").write_text('[project]\nname = "x"\n[tool.ruff]\nline-length = 1\n')
    assert config_file(root) is None
    assert load(root) == Settings()


def test_empty_environment_variable_counts_as_unset(root: Path) -> None:
    write_pyproject(root, 'metric = "auc"\n')
    assert load(root, environ={"GHOSTRUN_METRIC": ""}).metric == "auc"


def test_process_environment_is_the_default(root: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GHOSTRUN_GOAL", "min")
    assert load_settings(root).goal == "min"


def test_inputs_merge_key_by_key_across_sources(root: Path) -> None:
    write_pyproject(root, 'inputs = {path = "full.csv", seed = 1, n = 10}\n')
    environ = {"GHOSTRUN_INPUTS": '{"seed": 2, "n": 20}'}
    settings = load(root, {"inputs": {"n": 30}}, environ)
    assert settings.inputs == {"path": "full.csv", "seed": 2, "n": 30}


# Every setting read as text (environment variable or flag): text → value.
TEXT_CASES: dict[str, tuple[str, Any]] = {
    "workflow": ("src/flow.py", "src/flow.py"),
    "metric": ("rmse", "rmse"),
    "goal": ("min", "min"),
    "inputs": ('{"path": "a.csv", "k": [1, 2]}', {"path": "a.csv", "k": [1, 2]}),
    "storage_budget": ("500MB", 500_000_000),
    "memory_budget": ("1.5G", int(1.5 * GiB)),
    "estimator_modules": ("sklearn, catboost", ("sklearn", "catboost")),
    "min_sample_rows": ("200", 200),
    "notify": ("off", "off"),
    "idle_after": ("2.5", 2.5),
    "run_timeout": ("90", 90.0),
    "worker_memory": ("3GiB", 3 * GiB),
    "explore_budget": ("120", 120.0),
    "improvement_threshold": ("0.005", 0.005),
    "notify_interval": ("60", 60.0),
    "cluster": ("tcp://127.0.0.1:8786", "tcp://127.0.0.1:8786"),
}


def test_text_cases_cover_every_setting() -> None:
    assert set(TEXT_CASES) == {f.name for f in fields(Settings)}


@pytest.mark.parametrize("name", sorted(TEXT_CASES))
def test_every_setting_reads_from_its_environment_variable(root: Path, name: str) -> None:
    text, expected = TEXT_CASES[name]
    settings = load(root, environ={f"GHOSTRUN_{name.upper()}": text})
    assert getattr(settings, name) == expected


@pytest.mark.parametrize("name", sorted(set(TEXT_CASES) - {"inputs"}))
def test_every_setting_reads_from_its_flag(root: Path, name: str) -> None:
    text, expected = TEXT_CASES[name]
    result = invoke(["--" + name.replace("_", "-"), text])
    assert result.exit_code == 0, result.output
    assert load(root, json_overrides(result)).__getattribute__(name) == expected


def test_settings_normalise_on_construction() -> None:
    settings = Settings(storage_budget="500MB", estimator_modules=["sklearn"],
                        inputs={"k": (1, 2)})
    assert settings.storage_budget == 500_000_000
    assert settings.estimator_modules == ("sklearn",)
    assert settings.inputs == {"k": [1, 2]} and isinstance(settings.inputs["k"], list)
    with pytest.raises(ConfigError,
                       match=r"Settings\.min_sample_rows must be a whole number of at least 1"):
        Settings(min_sample_rows="soon")


def test_settings_survive_pickling_for_worker_processes() -> None:
    settings = Settings(inputs={"path": "a.csv"}, metric="auc")
    assert pickle.loads(pickle.dumps(settings)) == settings
    assert hash(settings) == hash(pickle.loads(pickle.dumps(settings)))


def test_settings_are_frozen() -> None:
    with pytest.raises(AttributeError):
        Settings().goal = "min"  # type: ignore[misc]


def test_non_utf8_config_is_reported(root: Path) -> None:
    (root / "ghostrun.toml").write_bytes(b'workflow = "caf\xe9.py"\n')
    with pytest.raises(ConfigError, match=r"^ghostrun\.toml is not UTF-8 text"):
        load(root)


# --- errors --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ('min_sample_rows = "soon"',
         "min_sample_rows must be a whole number of at least 1, got 'soon'."),
        ("min_sample_rows = -3", "min_sample_rows must be a whole number of at least 1, got -3."),
        ("min_sample_rows = true", "min_sample_rows must be a whole number of at least 1"),
        ("storage_budget = -1", 'storage_budget must be a size in bytes (an integer, or a '
                                'string like "2GiB" or "500MB"), got -1.'),
        ('goal = "maximize"', 'goal must be one of "max", "min", got \'maximize\'.'),
        ('goal = "MAX"', 'goal must be one of "max", "min", got \'MAX\'.'),
        ('storage_budget = "lots"', "storage_budget must be a size in bytes"),
        ("memory_budget = -1", "memory_budget must be a size in bytes"),
        ("memory_budget = 1.5", "memory_budget must be a size in bytes"),
        ("min_sample_rows = 0", "min_sample_rows must be a whole number of at least 1, got 0."),
        ("min_sample_rows = 1.5", "min_sample_rows must be a whole number of at least 1"),
        ('estimator_modules = "sklearn"',
         "estimator_modules must be a list of package names, got 'sklearn'."),
        ('estimator_modules = ["my-pkg"]', "estimator_modules must be a list of package names"),
        ("workflow = 3", "workflow must be a non-empty string, got 3."),
        ('metric = ""', "metric must be a non-empty string, got ''."),
        ("inputs = 3", "inputs must be a table of input names to values, got 3."),
        ('inputs = {"1x" = 1}', "inputs must be a table whose keys are parameter names"),
        ("inputs = {day = 2024-01-01}", "inputs must be a table of JSON-like values"),
    ],
    ids=lambda v: v.split(" =")[0] if " = " in v else None,
)
def test_wrong_type_in_pyproject_names_file_and_key(root: Path, line: str, message: str) -> None:
    write_pyproject(root, line + "\n")
    with pytest.raises(ConfigError) as info:
        load(root)
    assert str(info.value).startswith("pyproject.toml: [tool.ghostrun] " + message)


def test_wrong_type_in_ghostrun_toml_names_that_file(root: Path) -> None:
    (root / "ghostrun.toml").write_text('min_sample_rows = "soon"\n')
    with pytest.raises(ConfigError, match=r"^ghostrun\.toml: min_sample_rows must be a whole"):
        load(root)


def test_wrong_file_is_named_relative_to_where_the_user_is(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "sub").mkdir()
    write_pyproject(tmp_path, 'goal = "up"\n')
    monkeypatch.chdir(tmp_path / "sub")
    with pytest.raises(ConfigError) as info:
        load_settings(find_project_root(Path.cwd()), environ={})
    assert str(info.value).startswith(f"{tmp_path / 'pyproject.toml'}: [tool.ghostrun] goal")


@pytest.mark.parametrize(
    ("variable", "text", "message"),
    [
        ("GHOSTRUN_GOAL", "up", "environment variable GHOSTRUN_GOAL must be "
                                'one of "max", "min", got \'up\'.'),
        ("GHOSTRUN_MIN_SAMPLE_ROWS", "0", "GHOSTRUN_MIN_SAMPLE_ROWS must be a whole number"),
        ("GHOSTRUN_INPUTS", "path=a.csv", "GHOSTRUN_INPUTS must be a table of input names to "
                                          "values, got 'path=a.csv'."),
        ("GHOSTRUN_INPUTS", '{"1x": 1}', "GHOSTRUN_INPUTS must be a table whose keys are "
                                         "parameter names"),
        ("GHOSTRUN_STORAGE_BUDGET", "2 parsecs", "GHOSTRUN_STORAGE_BUDGET must be a size"),
        ("GHOSTRUN_MIN_SAMPLE_ROWS", "many", "GHOSTRUN_MIN_SAMPLE_ROWS must be a whole number"),
    ],
    ids=["goal-word", "rows-zero", "inputs-not-json", "inputs-bad-key", "size", "rows"],
)
def test_wrong_environment_variable_is_named(root: Path, variable: str, text: str,
                                            message: str) -> None:
    with pytest.raises(ConfigError) as info:
        load(root, environ={variable: text})
    assert message in str(info.value)


def test_wrong_override_names_the_flag(root: Path) -> None:
    with pytest.raises(ConfigError, match=r"^option --min-sample-rows must be a whole number"):
        load(root, {"min_sample_rows": "soon"})
    with pytest.raises(ConfigError, match=r"^option --input must be a table"):
        load(root, {"inputs": ["a"]})


@pytest.mark.parametrize(
    ("key", "hint"),
    [
        ("storage_budgt", "did you mean 'storage_budget'?"),
        ("storage-budget", "did you mean 'storage_budget'?"),
        ("worklfow", "did you mean 'workflow'?"),
        ("zzz", "known settings: workflow, metric, goal, inputs"),
    ],
    ids=["typo", "dashes", "transposed", "nothing-close"],
)
def test_unknown_key_suggests_the_near_one(root: Path, key: str, hint: str) -> None:
    write_pyproject(root, f"{key} = 1\n")
    with pytest.raises(ConfigError) as info:
        load(root)
    prefix = f"pyproject.toml: [tool.ghostrun] has no setting '{key}'; {hint}"
    assert str(info.value).startswith(prefix)


def test_unknown_override_suggests_the_near_one(root: Path) -> None:
    with pytest.raises(ConfigError, match="did you mean 'min_sample_rows'"):
        load(root, {"min_sampel_rows": 3})


def test_table_header_in_ghostrun_toml_says_to_remove_it(root: Path) -> None:
    (root / "ghostrun.toml").write_text('[tool.ghostrun]\nworkflow = "x.py"\n')
    with pytest.raises(ConfigError, match=r"settings go at the top level of ghostrun\.toml"):
        load(root)


@pytest.mark.parametrize("file_name", ["pyproject.toml", "ghostrun.toml"])
def test_toml_syntax_error_names_file_and_line(root: Path, file_name: str) -> None:
    header = "[tool.ghostrun]\n" if file_name == "pyproject.toml" else ""
    (root / file_name).write_text(header + 'workflow = "pipeline.py"\nmin_sample_rows = \n')
    line = 3 if header else 2
    with pytest.raises(ConfigError) as info:
        load(root)
    message = str(info.value)
    assert message.startswith(f"{file_name} is not valid TOML: ")
    assert f"line {line}" in message


def test_non_table_tool_ghostrun_is_an_error(root: Path) -> None:
    (root / "pyproject.toml").write_text('[tool]\nghostrun = "on"\n')
    with pytest.raises(ConfigError, match=r"tool\.ghostrun must be a table"):
        load(root)


# --- sizes -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1024", 1024),
        ("0", 0),
        ("2GiB", 2 * GiB),
        ("2gib", 2 * GiB),
        ("500MB", 500_000_000),
        ("500MiB", 500 * 1024**2),
        ("1.5G", int(1.5 * GiB)),
        ("512k", 512 * 1024),
        ("1 TiB", 1024**4),
        (" 3 Mi ", 3 * 1024**2),
        ("10B", 10),
        (".5K", 512),
    ],
    ids=lambda v: repr(v) if isinstance(v, str) else None,
)
def test_parse_size(text: str, expected: int) -> None:
    assert parse_size(text) == expected


@pytest.mark.parametrize("text", ["", "GiB", "2XB", "-1", "1.5.3", "2 G B", "2Gibs", "1e9"])
def test_parse_size_rejects(text: str) -> None:
    with pytest.raises(ValueError):
        parse_size(text)


def test_sizes_from_file_accept_integers_and_strings(root: Path) -> None:
    write_pyproject(root, 'storage_budget = 1000\nmemory_budget = "256MiB"\n')
    settings = load(root)
    assert (settings.storage_budget, settings.memory_budget) == (1000, 256 * 1024**2)


# --- click -------------------------------------------------------------------------------------


@click.command()
@click.option("--verbose", is_flag=True)
@settings_options
def _command(**kwargs: Any) -> None:
    """A stand-in for a ghostrun command: prints its overrides and its own options."""
    overrides = overrides_from_click(kwargs)
    click.echo(json.dumps({"overrides": overrides, "rest": kwargs}))


def invoke(args: list[str]) -> Any:
    return CliRunner().invoke(_command, args)


def json_overrides(result: Any) -> dict[str, Any]:
    overrides: dict[str, Any] = json.loads(result.output)["overrides"]
    return overrides


def test_no_flags_means_no_overrides() -> None:
    result = invoke(["--verbose"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output) == {"overrides": {}, "rest": {"verbose": True}}


def test_flags_become_overrides() -> None:
    result = invoke(["--min-sample-rows", "60", "--storage-budget", "1GiB", "--goal", "min"])
    assert result.exit_code == 0, result.output
    assert json_overrides(result) == {"goal": "min", "storage_budget": GiB, "min_sample_rows": 60}


def test_inputs_from_repeated_input_flags() -> None:
    args = ["--input", "n=3", "--input", "name=abc", "--input", 'flags=[1, "a"]',
            "--input", 'quoted="3"', "--input", "eq=a=b", "--input", "x=NaN",
            "--input", "on=true", "--input", "none=null", "--input", "empty="]
    result = invoke(args)
    assert result.exit_code == 0, result.output
    assert json_overrides(result) == {"inputs": {
        "n": 3, "name": "abc", "flags": [1, "a"], "quoted": "3", "eq": "a=b", "x": "NaN",
        "on": True, "none": None, "empty": "",
    }}


def test_later_input_flag_wins() -> None:
    result = invoke(["--input", "n=1", "--input", "n=2"])
    assert json_overrides(result) == {"inputs": {"n": 2}}


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--input", "noequals"], "must be NAME=VALUE"),
        (["--input", "1x=3"], "must be NAME=VALUE"),
        (["--min-sample-rows", "soon"], "must be a whole number of at least 1, got 'soon'"),
        (["--goal", "up"], 'must be one of "max", "min"'),
        (["--storage-budget", "big"], "must be a size in bytes"),
    ],
    ids=["input-no-equals", "input-bad-name", "rows", "goal", "size"],
)
def test_bad_flag_is_a_usage_error(args: list[str], message: str) -> None:
    result = invoke(args)
    assert result.exit_code == 2
    assert f"Invalid value for '{args[0]}'" in result.output
    assert message in result.output


def test_help_lists_every_setting_with_its_environment_variable() -> None:
    result = CliRunner().invoke(_command, ["--help"], terminal_width=400)
    assert result.exit_code == 0
    for f in fields(Settings):
        flag = "--input" if f.name == "inputs" else "--" + f.name.replace("_", "-")
        assert flag in result.output
        assert f"GHOSTRUN_{f.name.upper()}" in result.output
    assert "default: 2GiB" in result.output


# --- rendering -------------------------------------------------------------------------------


def test_default_config_text_writes_only_workflow(root: Path) -> None:
    text = Settings().to_toml_text()
    assert tomllib.loads(text) == {"tool": {"ghostrun": {"workflow": "pipeline.py"}}}
    for f in fields(Settings):
        assert f"{f.name} = " in text  # every setting shown, if only as a comment
    write_pyproject(root, text.removeprefix("[tool.ghostrun]\n"))
    assert load(root) == Settings()


@pytest.mark.parametrize("table", ["tool.ghostrun", None], ids=["pyproject", "ghostrun-toml"])
def test_config_text_round_trips(root: Path, table: str | None) -> None:
    settings = Settings(
        workflow="flows/main.py", metric="rmse", goal="min",
        inputs={"path": "data/x.csv", "weights": {"a b": [1.5, True]}},
        storage_budget=12345, memory_budget="3GiB", estimator_modules=("catboost",),
        min_sample_rows=10,
    )
    name = "pyproject.toml" if table else "ghostrun.toml"
    (root / name).write_text(settings.to_toml_text(table))
    assert load(root) == settings


# --- project root ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("files", "start", "expected"),
    [
        ({"ghostrun.toml": ""}, "a/b/c", "."),
        ({"pyproject.toml": "[tool.ghostrun]\n"}, "a/b", "."),
        ({"ghostrun.toml": "", "a/pyproject.toml": "[tool.ruff]\n"}, "a/b", "."),
        ({"ghostrun.toml": "", "a/pyproject.toml": "[tool.ghostrun]\n"}, "a/b", "a"),
        ({"ghostrun.toml": "", "a/b/ghostrun.toml": ""}, "a/b", "a/b"),
        ({}, "a/b", "a/b"),
    ],
    ids=["ghostrun-toml-above", "pyproject-above", "skips-pyproject-without-table",
         "nearest-pyproject-wins", "start-itself", "none-returns-start"],
)
def test_find_project_root(tmp_path: Path, files: dict[str, str], start: str,
                           expected: str) -> None:
    (tmp_path / start).mkdir(parents=True)
    for name, text in files.items():
        (tmp_path / name).write_text(text)
    assert find_project_root(tmp_path / start) == (tmp_path / expected).resolve()


def test_find_project_root_from_a_file(tmp_path: Path) -> None:
    (tmp_path / "ghostrun.toml").write_text("")
    (tmp_path / "pipeline.py").write_text("")
    assert find_project_root(tmp_path / "pipeline.py") == tmp_path.resolve()
