"""IgnoreRules: the always-ignored layer, virtual environments, and nested .gitignore files."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from ghostrun.watcher import IgnoreRules


@dataclass(frozen=True)
class Case:
    path: str
    always: bool
    gitignored: bool = False
    files: dict[str, str] = field(default_factory=dict)
    is_dir: bool | None = None


CASES = {
    "workflow": Case("pipeline.py", always=False),
    "module": Case("src/pkg/helpers.py", always=False),
    "ghostrun state": Case(".ghostrun/history.sqlite", always=True),
    "git": Case(".git/index", always=True),
    "git file (worktree)": Case("sub/.git", always=True),
    "hg": Case(".hg/store/x", always=True),
    "svn": Case(".svn/entries", always=True),
    ".venv": Case(".venv/lib/python3.11/site-packages/x.py", always=True),
    "venv": Case("venv/bin/python", always=True),
    "tox": Case(".tox/py311/x", always=True),
    "nox": Case(".nox/x", always=True),
    "conda": Case(".conda/x", always=True),
    "a file named venv": Case("venv", always=False, is_dir=False),
    "pycache": Case("src/__pycache__/helpers.cpython-311.pyc", always=True),
    "pytest cache": Case(".pytest_cache/v/x", always=True),
    "mypy cache": Case(".mypy_cache/x", always=True),
    "ruff cache": Case(".ruff_cache/x", always=True),
    "notebook checkpoints": Case("nb/.ipynb_checkpoints/a.ipynb", always=True),
    "node_modules": Case("web/node_modules/x/index.js", always=True),
    "egg-info": Case("ghostrun.egg-info/PKG-INFO", always=True),
    "vim swap": Case(".pipeline.py.swp", always=True),
    "vim swo": Case(".pipeline.py.swo", always=True),
    "vim swx": Case(".pipeline.py.swx", always=True),
    "vim backup": Case("pipeline.py~", always=True),
    "vim write test": Case("src/4913", always=True),
    "emacs lock": Case(".#pipeline.py", always=True),
    "emacs autosave": Case("#pipeline.py#", always=True),
    "jetbrains tmp": Case("pipeline.py___jb_tmp___", always=True),
    "jetbrains old": Case("pipeline.py___jb_old___", always=True),
    "gedit": Case(".goutputstream-X1Y2Z3", always=True),
    "kate": Case("pipeline.py.kate-swp", always=True),
    "atomic save temp": Case(".pipeline.py.tmp", always=True),
    "office lock": Case("~$book.xlsx", always=True),
    "any dir with pyvenv.cfg": Case(
        "envs/py311/lib/x.py", always=True, files={"envs/py311/pyvenv.cfg": "home = /usr"}
    ),
    "a project that is itself a venv": Case(
        "pipeline.py", always=False, files={"pyvenv.cfg": "home = /usr"}
    ),
    "gitignored data": Case(
        "data/census.csv", always=False, gitignored=True, files={".gitignore": "data/\n"}
    ),
    "gitignored glob at any depth": Case(
        "out/run/model.pkl", always=False, gitignored=True, files={".gitignore": "*.pkl\n"}
    ),
    "negation": Case(
        "logs/keep.log",
        always=False,
        gitignored=False,
        files={".gitignore": "*.log\n!keep.log\n"},
    ),
    "no re-include below an ignored directory": Case(
        "build/keep.py",
        always=False,
        gitignored=True,
        files={".gitignore": "build/\n", "build/.gitignore": "!keep.py\n"},
    ),
    "nested .gitignore is relative to its directory": Case(
        "src/gen/out.py",
        always=False,
        gitignored=True,
        files={"src/.gitignore": "/gen/\n"},
    ),
    "anchored pattern does not match deeper": Case(
        "src/top.txt", always=False, gitignored=False, files={".gitignore": "/top.txt\n"}
    ),
    "deeper .gitignore overrides the root one": Case(
        "data/small.csv",
        always=False,
        gitignored=False,
        files={".gitignore": "*.csv\n", "data/.gitignore": "!small.csv\n"},
    ),
    "directory-only pattern spares a file": Case(
        "build", always=False, gitignored=False, files={".gitignore": "build/\n"}, is_dir=False
    ),
    "directory-only pattern on a directory": Case(
        "build", always=False, gitignored=True, files={".gitignore": "build/\n"}, is_dir=True
    ),
    "info/exclude": Case(
        "scratch.py", always=False, gitignored=True, files={".git/info/exclude": "scratch.py\n"}
    ),
}


@pytest.mark.parametrize("case", CASES.values(), ids=CASES.keys())
def test_rules(tmp_path: Path, case: Case) -> None:
    for name, text in case.files.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text)
    rules = IgnoreRules(tmp_path)
    path = tmp_path / case.path
    assert rules.always_ignored(path, is_dir=case.is_dir) == case.always
    assert rules.gitignored(path, is_dir=case.is_dir) == case.gitignored
    assert rules.ignored(path, is_dir=case.is_dir) == (case.always or case.gitignored)


def test_relative_paths_are_taken_from_the_root(tmp_path: Path) -> None:
    (tmp_path / ".gitignore").write_text("*.csv\n")
    rules = IgnoreRules(tmp_path)
    assert rules.ignored(Path("data/x.csv"))
    assert rules.ignored(Path(".git/HEAD"))
    assert not rules.ignored(Path("pipeline.py"))


def test_the_root_itself_is_never_ignored(tmp_path: Path) -> None:
    (tmp_path / ".gitignore").write_text("*\n")
    assert not IgnoreRules(tmp_path).ignored(tmp_path)


def test_gitignore_does_not_reach_outside_the_root(tmp_path: Path) -> None:
    root = tmp_path / "project"
    root.mkdir()
    (root / ".gitignore").write_text("*.csv\n")
    assert not IgnoreRules(root).gitignored(tmp_path / "shared" / "x.csv")


def test_an_edited_gitignore_is_reread(tmp_path: Path) -> None:
    gitignore = tmp_path / ".gitignore"
    gitignore.write_text("*.csv\n")
    os.utime(gitignore, ns=(10**18, 10**18))
    rules = IgnoreRules(tmp_path)
    assert rules.gitignored(tmp_path / "x.csv")
    # same size, same inode: only the modification time tells
    gitignore.write_text("*.tsv\n")
    os.utime(gitignore, ns=(2 * 10**18, 2 * 10**18))
    assert not rules.gitignored(tmp_path / "x.csv")
    assert rules.gitignored(tmp_path / "x.tsv")
    gitignore.unlink()
    assert not rules.gitignored(tmp_path / "x.tsv")


def test_a_new_nested_gitignore_takes_effect(tmp_path: Path) -> None:
    rules = IgnoreRules(tmp_path)
    (tmp_path / "data").mkdir()
    assert not rules.gitignored(tmp_path / "data" / "x.csv")
    (tmp_path / "data" / ".gitignore").write_text("*\n")
    assert rules.gitignored(tmp_path / "data" / "x.csv")
