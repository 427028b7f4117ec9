"""The history schema as a list of forward migrations.

The schema version is SQLite's `PRAGMA user_version`: the number of migrations applied.
Migration 1 is the schema of the first release. To change the schema, append a new
`Migration` to `MIGRATIONS`; never edit one that has shipped, because databases in the
field were built by it. Each migration runs in one transaction together with the version
bump, so a crash mid-migration leaves the database at the previous version.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from ghostrun.errors import HistoryError


@dataclass(frozen=True)
class Migration:
    """One step forward: DDL statements, then an optional data migration in Python."""

    description: str
    statements: tuple[str, ...] = ()
    apply: Callable[[sqlite3.Connection], None] | None = None


_CHANGES = "('unchanged', 'code', 'knob', 'data', 'upstream', 'new', 'removed')"

_V1 = (
    """CREATE TABLE versions (
        version_id     TEXT PRIMARY KEY,
        created        REAL NOT NULL,
        workflow_path  TEXT NOT NULL,
        primary_metric TEXT,
        goal           TEXT NOT NULL CHECK (goal IN ('max', 'min')),
        packages       TEXT NOT NULL)""",
    # Source text is kept once per distinct text: most saves leave most operators alone.
    """CREATE TABLE source_texts (
        digest TEXT PRIMARY KEY,
        text   TEXT NOT NULL)""",
    """CREATE TABLE version_ops (
        version_id    TEXT NOT NULL REFERENCES versions (version_id) ON DELETE CASCADE,
        op            TEXT NOT NULL,
        position      INTEGER NOT NULL,
        kind          TEXT NOT NULL CHECK (kind IN ('source', 'op', 'metric')),
        inputs        TEXT NOT NULL,
        code_hash     TEXT NOT NULL,
        knobs         TEXT NOT NULL,
        data          TEXT NOT NULL,
        env_hash      TEXT NOT NULL,
        fingerprint   TEXT NOT NULL,
        source_digest TEXT NOT NULL REFERENCES source_texts (digest),
        file          TEXT NOT NULL,
        line          INTEGER NOT NULL,
        PRIMARY KEY (version_id, op))""",
    "CREATE INDEX version_ops_fingerprint ON version_ops (fingerprint)",
    """CREATE TABLE change_sets (
        set_id     INTEGER PRIMARY KEY,
        version_id TEXT NOT NULL REFERENCES versions (version_id) ON DELETE CASCADE,
        parent_id  TEXT REFERENCES versions (version_id) ON DELETE CASCADE,
        created    REAL NOT NULL)""",
    "CREATE UNIQUE INDEX change_sets_pair ON change_sets (version_id, ifnull(parent_id, ''))",
    f"""CREATE TABLE changes (
        set_id   INTEGER NOT NULL REFERENCES change_sets (set_id) ON DELETE CASCADE,
        op       TEXT NOT NULL,
        position INTEGER NOT NULL,
        change   TEXT NOT NULL CHECK (change IN {_CHANGES}),
        detail   TEXT NOT NULL,
        PRIMARY KEY (set_id, op))""",
    """CREATE TABLE runs (
        run_id             INTEGER PRIMARY KEY AUTOINCREMENT,
        version_id         TEXT NOT NULL REFERENCES versions (version_id),
        parent_id          TEXT REFERENCES versions (version_id),
        kind               TEXT NOT NULL CHECK (kind IN ('user', 'explore', 'manual')),
        fidelity_fraction  REAL NOT NULL,
        fidelity_precision TEXT NOT NULL,
        fidelity_budget    REAL NOT NULL,
        status             TEXT NOT NULL CHECK (status IN
                               ('running', 'ok', 'failed', 'cancelled', 'interrupted')),
        started            REAL NOT NULL,
        finished           REAL,
        seconds            REAL,
        error              TEXT,
        pid                INTEGER,
        pid_token          TEXT)""",
    "CREATE INDEX runs_kind ON runs (kind, run_id)",
    "CREATE INDEX runs_version ON runs (version_id, run_id)",
    "CREATE INDEX runs_running ON runs (status) WHERE status = 'running'",
    f"""CREATE TABLE op_runs (
        run_id       INTEGER NOT NULL REFERENCES runs (run_id) ON DELETE CASCADE,
        op           TEXT NOT NULL,
        state        TEXT NOT NULL CHECK (state IN ('computed', 'loaded', 'pruned')),
        seconds      REAL NOT NULL,
        n_rows       INTEGER,
        nbytes       INTEGER,
        cache_key    TEXT,
        content_hash TEXT,
        change       TEXT CHECK (change IS NULL OR change IN {_CHANGES}),
        PRIMARY KEY (run_id, op))""",
    "CREATE INDEX op_runs_op ON op_runs (op, run_id)",
    # value NULL stands for NaN: SQLite cannot store NaN in a REAL column.
    """CREATE TABLE metrics (
        run_id      INTEGER NOT NULL REFERENCES runs (run_id) ON DELETE CASCADE,
        name        TEXT NOT NULL,
        value       REAL,
        uncertainty REAL,
        is_primary  INTEGER NOT NULL DEFAULT 0 CHECK (is_primary IN (0, 1)),
        PRIMARY KEY (run_id, name))""",
    """CREATE TABLE file_hashes (
        path     TEXT PRIMARY KEY,
        size     INTEGER NOT NULL,
        mtime_ns INTEGER NOT NULL,
        digest   TEXT NOT NULL)""",
    """CREATE TABLE opened_files (
        op       TEXT NOT NULL,
        path     TEXT NOT NULL,
        position INTEGER NOT NULL,
        PRIMARY KEY (op, path))""",
)

# A variant is a change relative to a base version: the same change on another base is
# another row. A trial is one fidelity's paired measurement of a variant against its base
# (mean delta over sample seeds); trial_runs holds the runs (one per seed) behind it.
_V4 = (
    """CREATE TABLE variants (
        variant_id        TEXT NOT NULL,
        base_version      TEXT NOT NULL REFERENCES versions (version_id),
        version_id        TEXT REFERENCES versions (version_id),
        kind              TEXT NOT NULL,
        change            TEXT NOT NULL,
        description       TEXT NOT NULL,
        location          TEXT NOT NULL,
        ops               TEXT NOT NULL,
        base_fingerprints TEXT NOT NULL,
        created           REAL NOT NULL,
        PRIMARY KEY (variant_id, base_version))""",
    """CREATE TABLE trials (
        trial_id           INTEGER PRIMARY KEY AUTOINCREMENT,
        variant_id         TEXT NOT NULL,
        base_version       TEXT NOT NULL,
        fidelity_fraction  REAL NOT NULL,
        fidelity_precision TEXT NOT NULL,
        fidelity_budget    REAL NOT NULL,
        metric             TEXT,
        goal               TEXT NOT NULL CHECK (goal IN ('max', 'min')),
        status             TEXT NOT NULL CHECK (status IN ('ok', 'failed')),
        delta              REAL,
        uncertainty        REAL,
        value              REAL,
        base_value         REAL,
        seconds            REAL NOT NULL,
        created            REAL NOT NULL,
        FOREIGN KEY (variant_id, base_version)
            REFERENCES variants (variant_id, base_version) ON DELETE CASCADE)""",
    "CREATE INDEX trials_variant ON trials (base_version, variant_id, trial_id)",
    """CREATE TABLE trial_runs (
        trial_id    INTEGER NOT NULL REFERENCES trials (trial_id) ON DELETE CASCADE,
        seed        INTEGER NOT NULL,
        run_id      INTEGER NOT NULL REFERENCES runs (run_id),
        base_run_id INTEGER REFERENCES runs (run_id),
        value       REAL,
        base_value  REAL,
        PRIMARY KEY (trial_id, seed))""",
    "CREATE INDEX trial_runs_run ON trial_runs (run_id)",
)

MIGRATIONS: tuple[Migration, ...] = (
    Migration("first release: versions, changes, runs, op executions, metrics, files", _V1),
    Migration(
        "outputs known by cache key, so unstored results still key their dependents",
        ("CREATE INDEX op_runs_cache_key ON op_runs (cache_key, state)",),
    ),
    Migration(
        "the sample seed of a run's fidelity (approximate runs repeat a stage on seeds)",
        ("ALTER TABLE runs ADD COLUMN fidelity_seed INTEGER NOT NULL DEFAULT 0",),
    ),
    Migration("exploration: variants of a base version and their paired trials", _V4),
)
"""Append only. Index i holds the migration that takes the schema from version i to i+1."""

SCHEMA_VERSION = len(MIGRATIONS)


def schema_version(conn: sqlite3.Connection) -> int:
    """The number of migrations this database has had applied."""
    return int(conn.execute("PRAGMA user_version").fetchone()[0])


def migrate(conn: sqlite3.Connection, migrations: Sequence[Migration], where: str) -> int:
    """Bring the database up to `len(migrations)`; return the number of steps applied.

    Must be called inside a write transaction (BEGIN IMMEDIATE), so that two processes
    opening a new database at once do not both run migration 1.
    """
    current = schema_version(conn)
    known = len(migrations)
    if current > known:
        raise HistoryError(
            f"{where} has history schema version {current} but this ghostrun only knows "
            f"versions up to {known}; upgrade ghostrun to open it."
        )
    for number in range(current + 1, known + 1):
        step = migrations[number - 1]
        for statement in step.statements:
            conn.execute(statement)
        if step.apply is not None:
            step.apply(conn)
        conn.execute(f"PRAGMA user_version = {int(number)}")
    return known - current
