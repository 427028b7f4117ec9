"""Project: root discovery, the state directory's layout and permissions, the workflow."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from ghostrun.config import Settings
from ghostrun.errors import ConfigError
from ghostrun.project import Project


@pytest.fixture
def root(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    return tmp_path


@pytest.fixture
def umask() -> Iterator[None]:
    """Restores the process umask after a test changes it."""
    old = os.umask(0o022)
    yield
    os.umask(old)


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_state_layout(root: Path) -> None:
    project = Project(root, Settings())
    state = root / ".ghostrun"
    assert project.state_dir == state
    assert project.history_path == state / "history.sqlite"
    assert project.cache_dir == state / "cache"
    assert project.log_path == state / "daemon.log"
    assert project.pid_path == state / "daemon.pid"
    assert project.daemon_json == state / "daemon.json"
    assert project.workflow_path == (root / "pipeline.py").resolve()


def test_workflow_path_follows_the_setting(root: Path) -> None:
    project = Project(root, Settings(workflow="flows/../flows/main.py"))
    assert project.workflow_path == (root / "flows" / "main.py").resolve()


def test_open_finds_root_and_loads_settings(root: Path) -> None:
    (root / "pyproject.toml").write_text('[tool.ghostrun]\nworkflow = "flow.py"\ngoal = "min"\n')
    (root / "src" / "deep").mkdir(parents=True)
    project = Project.open(root / "src" / "deep", overrides={"goal": "max"}, environ={})
    assert project.root == root.resolve()
    assert project.settings.workflow == "flow.py"
    assert project.settings.goal == "max"
    assert project.config_path == root.resolve() / "pyproject.toml"


def test_open_defaults_to_working_directory(root: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (root / "ghostrun.toml").write_text("min_sample_rows = 10\n")
    (root / "sub").mkdir()
    monkeypatch.chdir(root / "sub")
    project = Project.open(environ={})
    assert project.root == root.resolve()
    assert project.settings.min_sample_rows == 10


@pytest.mark.parametrize("mask", [0o000, 0o022, 0o077, 0o277],
                         ids=["umask-000", "umask-022", "umask-077", "umask-277"])
@pytest.mark.usefixtures("umask")
def test_state_dir_created_owner_only_whatever_the_umask(root: Path, mask: int) -> None:
    os.umask(mask)
    project = Project(root, Settings())
    assert project.ensure_state_dir() == project.state_dir
    assert mode(project.state_dir) == 0o700
    assert mode(project.cache_dir) == 0o700


@pytest.mark.usefixtures("umask")
def test_looser_state_dir_is_tightened(root: Path) -> None:
    os.umask(0)
    project = Project(root, Settings())
    project.cache_dir.mkdir(parents=True)
    project.state_dir.chmod(0o755)
    project.cache_dir.chmod(0o777)
    project.ensure_state_dir()
    assert mode(project.state_dir) == 0o700
    assert mode(project.cache_dir) == 0o700


def test_ensure_state_dir_is_idempotent_and_keeps_contents(root: Path) -> None:
    project = Project(root, Settings())
    project.ensure_state_dir()
    project.history_path.write_text("keep me")
    project.ensure_state_dir()
    assert project.history_path.read_text() == "keep me"


def test_state_dir_ignores_itself_for_git(root: Path) -> None:
    project = Project(root, Settings())
    project.ensure_state_dir()
    lines = (project.state_dir / ".gitignore").read_text().splitlines()
    assert "*" in lines


def test_state_dir_that_is_a_file_is_an_error(root: Path) -> None:
    (root / ".ghostrun").write_text("oops")
    with pytest.raises(ConfigError, match=r"^\.ghostrun exists but is not a directory"):
        Project(root, Settings()).ensure_state_dir()


@pytest.mark.parametrize(
    ("config", "where"),
    [
        (None, "[tool.ghostrun]"),
        ("pyproject.toml", "[tool.ghostrun]"),
        ("ghostrun.toml", "ghostrun.toml"),
    ],
    ids=["no-config", "pyproject", "ghostrun-toml"],
)
def test_missing_workflow_says_how_to_fix_it(root: Path, config: str | None, where: str) -> None:
    if config == "pyproject.toml":
        (root / config).write_text("[tool.ghostrun]\n")
    elif config == "ghostrun.toml":
        (root / config).write_text("")
    project = Project.open(root, environ={})
    with pytest.raises(ConfigError) as info:
        project.require_workflow()
    assert str(info.value) == (
        "No workflow at ./pipeline.py. Create one (`ghostrun init --example`) "
        f"or set `workflow = ...` in {where}."
    )


def test_missing_workflow_seen_from_a_subdirectory_is_absolute(
        root: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (root / "sub").mkdir()
    monkeypatch.chdir(root / "sub")
    project = Project(root, Settings(workflow="flows/main.py"))
    with pytest.raises(ConfigError, match=f"^No workflow at {root / 'flows' / 'main.py'}\\."):
        project.require_workflow()


def test_workflow_that_is_a_directory_is_missing(root: Path) -> None:
    (root / "pipeline.py").mkdir()
    with pytest.raises(ConfigError, match="No workflow at ./pipeline.py"):
        Project(root, Settings()).require_workflow()


def test_present_workflow_is_returned(root: Path) -> None:
    (root / "pipeline.py").write_text("def a() -> int:\n    return 1\n")
    assert Project(root, Settings()).require_workflow() == (root / "pipeline.py").resolve()
