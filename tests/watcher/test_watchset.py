"""WatchSet: which paths count, and which few directories must be watched to see them."""

from __future__ import annotations

from pathlib import Path

from ghostrun.watcher import IgnoreRules, WatchSet


def build(root: Path, *names: str) -> WatchSet:
    return WatchSet.build(root, [root / n for n in names], IgnoreRules(root))


def test_paths_are_resolved_and_split_into_files_and_trees(tmp_path: Path) -> None:
    (tmp_path / "data" / "parts").mkdir(parents=True)
    (tmp_path / "link").symlink_to(tmp_path / "data")
    watched = WatchSet.build(
        tmp_path,
        [Path("pipeline.py"), tmp_path / "link" / "x.csv", tmp_path / "data" / "parts"],
        IgnoreRules(tmp_path),
    )
    root = tmp_path.resolve()
    assert watched.files == {root / "pipeline.py", root / "data" / "x.csv"}
    assert watched.trees == {root / "data" / "parts"}


def test_always_ignored_paths_are_dropped(tmp_path: Path) -> None:
    (tmp_path / ".gitignore").write_text("data/\n")
    watched = build(tmp_path, "pipeline.py", ".venv/lib/x.py", ".git/HEAD", "data/x.csv")
    root = tmp_path.resolve()
    assert watched.files == {root / "pipeline.py", root / "data" / "x.csv"}


def test_plan_watches_each_directory_up_to_the_root_without_recursion(tmp_path: Path) -> None:
    (tmp_path / "src" / "pkg").mkdir(parents=True)
    (tmp_path / "data").mkdir()
    root = tmp_path.resolve()
    plan = build(tmp_path, "pipeline.py", "src/pkg/helpers.py", "data/x.csv").plan()
    assert plan == {
        root: False,
        root / "src": False,
        root / "src" / "pkg": False,
        root / "data": False,
    }


def test_a_missing_directory_is_stood_in_for_by_its_nearest_ancestor(tmp_path: Path) -> None:
    (tmp_path / "data").mkdir()
    root = tmp_path.resolve()
    assert build(tmp_path, "data/raw/2024/x.csv").plan() == {root: False, root / "data": False}


def test_a_watched_directory_is_watched_recursively(tmp_path: Path) -> None:
    (tmp_path / "data" / "parts" / "year=2024").mkdir(parents=True)
    root = tmp_path.resolve()
    plan = build(tmp_path, "data/parts", "data/parts/year=2024/notes.txt").plan()
    assert plan == {root: False, root / "data": False, root / "data" / "parts": True}


def test_a_big_venv_beside_the_workflow_is_not_watched(tmp_path: Path) -> None:
    (tmp_path / ".venv" / "lib" / "site-packages" / "pandas").mkdir(parents=True)
    (tmp_path / "env2" / "lib").mkdir(parents=True)
    (tmp_path / "env2" / "pyvenv.cfg").write_text("home = /usr\n")
    watched = build(tmp_path, "pipeline.py", ".venv/lib/site-packages/pandas/x.py", "env2/lib/y.py")
    assert watched.plan() == {tmp_path.resolve(): False}


def test_membership(tmp_path: Path) -> None:
    (tmp_path / "data" / "parts").mkdir(parents=True)
    root = tmp_path.resolve()
    watched = build(tmp_path, "pipeline.py", "data/parts")
    assert watched.watches(root / "pipeline.py")
    assert watched.watches(root / "data" / "parts" / "a" / "b.parquet")
    assert not watched.watches(root / "other.py")
    assert watched.hangs_from(root / "data")
    assert not watched.hangs_from(root / "src")
    assert set(watched.beneath(root / "data")) == {root / "data" / "parts"}
