"""The file-digest cache and the files each source operator opened."""

from __future__ import annotations

import os
import stat
from pathlib import Path

from ghostrun.history import History


def test_file_hash_is_reused_only_while_size_and_mtime_match(history: History) -> None:
    assert history.cached_file_hash("data/train.csv", 100, 5) is None
    history.remember_file_hash("data/train.csv", 100, 5, "d1")
    assert history.cached_file_hash("data/train.csv", 100, 5) == "d1"
    assert history.cached_file_hash("data/train.csv", 101, 5) is None
    assert history.cached_file_hash("data/train.csv", 100, 6) is None
    assert history.cached_file_hash("data/test.csv", 100, 5) is None


def test_file_hash_is_replaced_when_the_file_changes(history: History) -> None:
    history.remember_file_hash("a.csv", 1, 1_700_000_000_123_456_789, "old")
    history.remember_file_hash("a.csv", 2, 1_700_000_000_999_999_999, "new")
    assert history.cached_file_hash("a.csv", 1, 1_700_000_000_123_456_789) is None
    assert history.cached_file_hash("a.csv", 2, 1_700_000_000_999_999_999) == "new"


def test_opened_files_are_per_operator_ordered_and_replaced(history: History) -> None:
    assert history.opened_files("load") == []
    history.set_opened_files("load", ["b.csv", "a.csv", "b.csv", "c.parquet"])
    history.set_opened_files("other", ["z.csv"])
    assert history.opened_files("load") == ["b.csv", "a.csv", "c.parquet"]
    history.set_opened_files("load", ["d.csv"])
    assert history.opened_files("load") == ["d.csv"]
    history.set_opened_files("load", [])
    assert history.opened_files("load") == []
    assert history.opened_files("other") == ["z.csv"]


def test_history_persists_across_reopening(db_path: Path) -> None:
    with History(db_path) as history:
        history.remember_file_hash("a.csv", 1, 2, "d")
    with History(db_path) as history:
        assert history.cached_file_hash("a.csv", 1, 2) == "d"


def test_state_directory_and_database_are_private(tmp_path: Path) -> None:
    path = tmp_path / "new" / ".ghostrun" / "history.sqlite"
    old = os.umask(0o022)
    try:
        History(path).close()
    finally:
        os.umask(old)
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
