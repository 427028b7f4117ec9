"""Migrations: a new database, an old one with rows, a newer one, a failing step."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from ghostrun.errors import HistoryError
from ghostrun.history import MIGRATIONS, SCHEMA_VERSION, History, Migration

from .builders import make_snapshot

TABLES = {"versions", "source_texts", "version_ops", "change_sets", "changes", "runs",
          "op_runs", "metrics", "file_hashes", "opened_files", "variants", "trials",
          "trial_runs"}  # fmt: skip


def _user_version(path: Path) -> int:
    with sqlite3.connect(path) as conn:
        return int(conn.execute("PRAGMA user_version").fetchone()[0])


def _tables(path: Path) -> set[str]:
    with sqlite3.connect(path) as conn:
        rows = conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'").fetchall()
    return {r[0] for r in rows} - {"sqlite_sequence"}


def _fill(path: Path) -> int:
    """A version-1 database with a version, a finished run, an op and a file hash.

    Rows other than the version are written in SQL against the version-1 tables, as the
    first release wrote them: today's code writes columns that later migrations added.
    """
    with History(path, migrations=MIGRATIONS[:1]) as history:
        history.save_version(make_snapshot("v1"), workflow_path="w.py")
    with sqlite3.connect(path) as conn:
        run_id = conn.execute(
            "INSERT INTO runs (version_id, kind, fidelity_fraction, fidelity_precision,"
            " fidelity_budget, status, started, finished, seconds)"
            " VALUES ('v1', 'user', 1.0, 'float64', 1.0, 'ok', 1.0, 3.0, 2.0)"
        ).lastrowid
        conn.execute(
            "INSERT INTO op_runs (run_id, op, state, seconds, n_rows, nbytes, cache_key,"
            " content_hash, change) VALUES (?, 'model', 'computed', 1.5, 10, 80, 'k', 'c', 'new')",
            (run_id,),
        )
        conn.execute("INSERT INTO metrics VALUES (?, 'auc', 0.8, NULL, 1)", (run_id,))
        conn.execute("INSERT INTO file_hashes VALUES ('a.csv', 1, 2, 'd')")
    assert run_id is not None
    return run_id


def _add_note(conn: sqlite3.Connection) -> None:
    conn.execute("UPDATE runs SET note = 'from v1: ' || status")
    conn.execute("INSERT INTO migration_log (step) VALUES (2)")


EXTRA = Migration(
    "runs get a note",
    ("ALTER TABLE runs ADD COLUMN note TEXT", "CREATE TABLE migration_log (step INTEGER)"),
    _add_note,
)


def test_a_new_database_gets_every_migration(db_path: Path) -> None:
    History(db_path).close()
    assert _user_version(db_path) == SCHEMA_VERSION == len(MIGRATIONS)
    assert _tables(db_path) == TABLES
    with sqlite3.connect(db_path) as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_an_old_database_is_migrated_forward_with_its_rows(db_path: Path) -> None:
    run_id = _fill(db_path)
    assert _user_version(db_path) == 1
    assert len(MIGRATIONS) >= 3  # the real forward migrations run too, not only EXTRA

    for _ in range(2):  # the second open finds nothing left to do
        with History(db_path, migrations=(*MIGRATIONS, EXTRA)) as history:
            assert history.load_version("v1") == make_snapshot("v1")
            run = history.run(run_id)
            assert (run.metrics, run.ops[0].key) == ({"auc": 0.8}, "k")
            assert history.cached_file_hash("a.csv", 1, 2) == "d"

    assert _user_version(db_path) == len(MIGRATIONS) + 1
    with sqlite3.connect(db_path) as conn:
        assert conn.execute("SELECT note FROM runs").fetchall() == [("from v1: ok",)]
        assert conn.execute("SELECT step FROM migration_log").fetchall() == [(2,)]


def test_a_failing_migration_changes_nothing(db_path: Path) -> None:
    _fill(db_path)
    broken = Migration("broken", ("CREATE TABLE half_done (x)", "ALTER TABLE nowhere ADD y"))
    with pytest.raises(HistoryError, match="no such table: nowhere"):
        History(db_path, migrations=(*MIGRATIONS, broken))
    assert _user_version(db_path) == 1
    assert "half_done" not in _tables(db_path)
    with History(db_path) as history:
        assert history.run(1).status == "ok"


def test_a_database_newer_than_the_code_is_refused(db_path: Path) -> None:
    _fill(db_path)
    History(db_path, migrations=(*MIGRATIONS, EXTRA)).close()
    newer, known = len(MIGRATIONS) + 1, len(MIGRATIONS)
    expected = f"schema version {newer} but this ghostrun only knows versions up to {known}"
    with pytest.raises(HistoryError, match=expected):
        History(db_path)
    assert _user_version(db_path) == newer


def test_a_file_that_is_not_a_database_is_refused(db_path: Path) -> None:
    db_path.parent.mkdir(parents=True)
    db_path.write_bytes(b"this is not sqlite at all, just some text. " * 100)
    with pytest.raises(HistoryError, match="move it away"):
        History(db_path)
