"""`History`: the project's memory of workflow versions, runs, metrics and file hashes."""

from __future__ import annotations

import os
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from types import TracebackType

from ghostrun.history import _runs, _variants, _versions
from ghostrun.history._checks import change_value, check_choice, check_limit
from ghostrun.history._connection import Database
from ghostrun.history._liveness import is_alive, process_token
from ghostrun.history.records import (
    FINAL_STATUSES,
    OP_STATES,
    RUN_KINDS,
    RUN_STATUSES,
    TRIAL_STATUSES,
    OpExecution,
    RunRecord,
    TrialRecord,
    TrialRun,
    VariantRecord,
)
from ghostrun.history.schema import MIGRATIONS, Migration
from ghostrun.workflow.types import Fidelity, Goal, OpChange, VersionSnapshot


class History:
    """The run history in SQLite (`.ghostrun/history.sqlite`).

    Responsibilities: store immutable version snapshots and their change sets; record runs,
    per-operator executions and metrics; answer the questions the engine, cost models,
    explorer and CLI ask of them; cache file digests by size and mtime. Every public write
    is one transaction. One History holds one connection and may be shared by threads;
    each process opens its own.
    """

    def __init__(self, path: Path | str, *, migrations: Sequence[Migration] = MIGRATIONS) -> None:
        """Open (creating and migrating as needed) the history at `path`.

        `migrations` is for tests of the migration mechanism; production code keeps the default.
        """
        self.path = Path(path)
        self._db = Database(self.path, migrations)

    def __enter__(self) -> History:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:  # fmt: skip
        self.close()

    def close(self) -> None:
        """Release the connection; any later call raises HistoryError."""
        self._db.close()

    # -- versions ---------------------------------------------------------------------

    def save_version(self, snap: VersionSnapshot, *, workflow_path: str) -> None:
        """Store a version snapshot; saving an existing version id changes nothing."""
        with self._db.write() as conn:
            _versions.save_version(conn, snap, workflow_path, time.time())

    def load_version(self, version_id: str) -> VersionSnapshot | None:
        """The snapshot of `version_id`, or None if it was never saved."""
        with self._db.read() as conn:
            return _versions.load_version(conn, version_id)

    def resolve_version(self, ref: str) -> str:
        """The full version id that `ref` names.

        `ref` is a full id, a unique prefix of at least 4 characters, `HEAD` or `latest`
        (the version of the latest user run), `HEAD~N` (N distinct versions back, ordered
        by their latest user run) or `@N` (the version of run N).
        """
        with self._db.read() as conn:
            return _versions.resolve(conn, ref)

    def save_changes(
        self, version_id: str, parent_id: str | None, changes: Sequence[OpChange]
    ) -> None:
        """Store how `version_id` differs from `parent_id`, replacing an earlier record."""
        with self._db.write() as conn:
            _versions.save_changes(conn, version_id, parent_id, changes, time.time())

    def load_changes(self, version_id: str, parent_id: str | None) -> list[OpChange] | None:
        """The stored change set, or None when none was saved for this pair."""
        with self._db.read() as conn:
            return _versions.load_changes(conn, version_id, parent_id)

    def recent_changes(self, *, limit: int = 20) -> list[dict[str, str]]:
        """Operator → change value for each of the most recent edits, newest first."""
        check_limit(limit)
        with self._db.read() as conn:
            return _versions.recent_changes(conn, limit)

    def current_version(self, kind: str = "user") -> str | None:
        """The version of the newest run of `kind`, or None before the first one."""
        check_choice(kind, RUN_KINDS, "run kind")
        with self._db.read() as conn:
            return _versions.current_version(conn, kind)

    def parent_of(self, version_id: str) -> str | None:
        """The parent recorded when `version_id` was first run (by any kind of run)."""
        with self._db.read() as conn:
            return _versions.parent_of(conn, version_id)

    # -- runs ---------------------------------------------------------------------------

    def start_run(
        self, version_id: str, *, kind: str, fidelity: Fidelity, parent_id: str | None
    ) -> int:
        """Record a run as 'running' under this process's pid; return its run id."""
        check_choice(kind, RUN_KINDS, "run kind")
        pid = os.getpid()
        with self._db.write() as conn:
            _versions.require_version(conn, version_id, "run")
            _versions.require_version(conn, parent_id, "parent")
            cursor = conn.execute(
                "INSERT INTO runs (version_id, parent_id, kind, fidelity_fraction,"
                " fidelity_precision, fidelity_budget, fidelity_seed, status, started, pid,"
                " pid_token) VALUES (?, ?, ?, ?, ?, ?, ?, 'running', ?, ?, ?)",
                (version_id, parent_id, kind, *_runs.fidelity_params(fidelity), time.time(),
                 pid, process_token(pid)),
            )  # fmt: skip
            return int(cursor.lastrowid or 0)

    def record_op(
        self, run_id: int, op: str, *, state: str, seconds: float, rows: int | None,
        nbytes: int | None, key: str | None, content_hash: str | None, change: str | None,
    ) -> None:  # fmt: skip
        """Record one operator's execution; recording the same operator again replaces it."""
        check_choice(state, OP_STATES, "operator state")
        stored_change = change_value(change)
        with self._db.write() as conn:
            _runs.require_run(conn, run_id)
            conn.execute(
                "INSERT OR REPLACE INTO op_runs (run_id, op, state, seconds, n_rows, nbytes,"
                " cache_key, content_hash, change) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (run_id, op, state, float(seconds), rows, nbytes, key, content_hash, stored_change),
            )

    def finish_run(
        self, run_id: int, *, status: str, seconds: float,
        metrics: Mapping[str, float] | None = None, primary: str | None = None,
        uncertainty: Mapping[str, float] | None = None, error: str | None = None,
    ) -> None:  # fmt: skip
        """Record a run's outcome and metrics in one transaction (replacing earlier ones)."""
        check_choice(status, FINAL_STATUSES, "final run status")
        rows = _runs.metric_rows(run_id, dict(metrics or {}), primary, dict(uncertainty or {}))
        with self._db.write() as conn:
            _runs.require_run(conn, run_id)
            conn.execute(
                "UPDATE runs SET status = ?, finished = ?, seconds = ?, error = ? WHERE run_id = ?",
                (status, time.time(), float(seconds), error, run_id),
            )
            conn.execute("DELETE FROM metrics WHERE run_id = ?", (run_id,))
            conn.executemany(
                "INSERT INTO metrics (run_id, name, value, uncertainty, is_primary)"
                " VALUES (?, ?, ?, ?, ?)",
                rows,
            )

    def run(self, run_id: int) -> RunRecord | None:
        """One run with its metrics and operator executions, or None if unknown."""
        with self._db.read() as conn:
            found = _runs.load_runs(conn, "WHERE run_id = ?", (run_id,), 1)
        return found[0] if found else None

    def runs(
        self, *, limit: int = 50, kind: str | None = None, version_id: str | None = None,
        status: str | None = None,
    ) -> list[RunRecord]:  # fmt: skip
        """The newest `limit` runs matching every filter given, newest first."""
        clauses: list[str] = []
        params: list[object] = []
        if kind is not None:
            clauses.append("kind = ?")
            params.append(check_choice(kind, RUN_KINDS, "run kind"))
        if version_id is not None:
            clauses.append("version_id = ?")
            params.append(version_id)
        if status is not None:
            clauses.append("status = ?")
            params.append(check_choice(status, RUN_STATUSES, "run status"))
        where = "WHERE " + " AND ".join(clauses) if clauses else ""
        check_limit(limit)
        with self._db.read() as conn:
            return _runs.load_runs(conn, where, params, limit)

    def metrics_for(self, version_id: str, fidelity: Fidelity) -> dict[str, float] | None:
        """Metrics of the latest 'ok' run of `version_id` at an equal fidelity, or None."""
        with self._db.read() as conn:
            return _runs.metrics_for(conn, version_id, fidelity)

    def op_history(self, op: str, *, limit: int = 200) -> list[OpExecution]:
        """Recent executions of operator `op` (newest first), for the cost models."""
        check_limit(limit)
        with self._db.read() as conn:
            return _runs.op_history(conn, op, limit)

    def known_output(self, key: str) -> tuple[str, int] | None:
        """(content hash, bytes) of a result once computed under cache `key`, even if it
        was not stored: enough to key the operators below it without recomputing it."""
        with self._db.read() as conn:
            return _runs.known_output(conn, key)

    def load_throughput(self, *, limit: int = 200) -> tuple[int, float]:
        """(bytes, seconds) summed over the most recent cache loads: measured read speed."""
        check_limit(limit)
        with self._db.read() as conn:
            return _runs.load_throughput(conn, limit)

    def mark_interrupted(self) -> int:
        """Mark 'running' runs whose process has died as 'interrupted'; return how many.

        Call when a daemon or CLI starts. Runs of live processes are left alone.
        """
        with self._db.read() as conn:
            running = conn.execute(
                "SELECT run_id, pid, pid_token FROM runs WHERE status = 'running'"
            ).fetchall()
        dead = [(run_id, pid) for run_id, pid, token in running if not is_alive(pid, token)]
        if not dead:
            return 0
        marked = 0
        with self._db.write() as conn:
            for run_id, pid in dead:
                marked += conn.execute(
                    "UPDATE runs SET status = 'interrupted', error = ifnull(error, ?)"
                    " WHERE run_id = ? AND status = 'running'",
                    (f"the process (pid {pid}) running it ended before it finished", run_id),
                ).rowcount
        return marked

    def run_at(self, version_id: str, fidelity: Fidelity) -> RunRecord | None:
        """The latest 'ok' run of `version_id` at an equal fidelity (seed included), or None."""
        with self._db.read() as conn:
            run_id = _variants.latest_run_at(conn, version_id, fidelity)
            if run_id is None:
                return None
            return _runs.load_runs(conn, "WHERE run_id = ?", (run_id,), 1)[0]

    # -- variants and trials -----------------------------------------------------------

    def save_variant(self, record: VariantRecord) -> None:
        """Store a variant of its base version (both versions must be saved already);
        saving it again changes nothing."""
        with self._db.write() as conn:
            _versions.require_version(conn, record.base_version, "base")
            _versions.require_version(conn, record.version_id, "variant")
            _variants.save_variant(conn, record, time.time())

    def variant(self, variant_id: str, base_version: str) -> VariantRecord | None:
        """The variant `variant_id` of `base_version`, or None."""
        with self._db.read() as conn:
            found = _variants.load_variants(
                conn, "WHERE variant_id = ? AND base_version = ?", (variant_id, base_version), 1
            )
        return found[0] if found else None

    def variants(
        self, *, base_version: str | None = None, limit: int = 1000
    ) -> list[VariantRecord]:
        """Variants (of `base_version`, or of any base), newest first."""
        check_limit(limit)
        where, params = ("WHERE base_version = ?", (base_version,)) if base_version else ("", ())
        with self._db.read() as conn:
            return _variants.load_variants(conn, where, params, limit)

    def record_trial(
        self, variant_id: str, base_version: str, fidelity: Fidelity, *, metric: str | None,
        goal: Goal, status: str, runs: Sequence[TrialRun], delta: float | None,
        uncertainty: float | None, value: float | None, base_value: float | None,
        seconds: float,
    ) -> int:  # fmt: skip
        """Record one trial (a variant against its base at one fidelity, over the sample
        seeds in `runs`) in one transaction; return its id. The seed of `fidelity` is
        ignored: each run carries its own."""
        check_choice(status, TRIAL_STATUSES, "trial status")
        check_choice(goal, ("max", "min"), "goal")
        values = {
            "variant_id": variant_id, "base_version": base_version, "metric": metric,
            "goal": goal, "status": status, "delta": delta, "uncertainty": uncertainty,
            "value": value, "base_value": base_value, "seconds": seconds,
        }  # fmt: skip
        with self._db.write() as conn:
            _variants.require_variant(conn, variant_id, base_version)
            _variants.check_runs(conn, runs)
            return _variants.insert_trial(conn, values, fidelity, runs, time.time())

    def trials(
        self, *, base_version: str | None = None, variant_id: str | None = None,
        limit: int = 5000,
    ) -> list[TrialRecord]:  # fmt: skip
        """Trials matching every filter given, newest first, each with its runs."""
        clauses: list[str] = []
        params: list[object] = []
        if base_version is not None:
            clauses.append("base_version = ?")
            params.append(base_version)
        if variant_id is not None:
            clauses.append("variant_id = ?")
            params.append(variant_id)
        where = "WHERE " + " AND ".join(clauses) if clauses else ""
        check_limit(limit)
        with self._db.read() as conn:
            return _variants.load_trials(conn, where, params, limit)

    # -- files --------------------------------------------------------------------------

    def cached_file_hash(self, path: str, size: int, mtime_ns: int) -> str | None:
        """The digest remembered for `path`, if its size and mtime are unchanged."""
        with self._db.read() as conn:
            row = conn.execute(
                "SELECT digest FROM file_hashes WHERE path = ? AND size = ? AND mtime_ns = ?",
                (path, size, mtime_ns),
            ).fetchone()
        return None if row is None else str(row[0])

    def remember_file_hash(self, path: str, size: int, mtime_ns: int, digest: str) -> None:
        """Remember `path`'s digest so that it is hashed again only after it changes."""
        with self._db.write() as conn:
            conn.execute(
                "INSERT INTO file_hashes (path, size, mtime_ns, digest) VALUES (?, ?, ?, ?)"
                " ON CONFLICT (path) DO UPDATE SET size = excluded.size,"
                " mtime_ns = excluded.mtime_ns, digest = excluded.digest",
                (path, size, mtime_ns, digest),
            )

    def opened_files(self, op: str) -> list[str]:
        """Files source operator `op` opened during its last run, in first-opened order."""
        with self._db.read() as conn:
            rows = conn.execute(
                "SELECT path FROM opened_files WHERE op = ? ORDER BY position", (op,)
            ).fetchall()
        return [str(row[0]) for row in rows]

    def set_opened_files(self, op: str, paths: Sequence[str]) -> None:
        """Replace the files recorded for `op` (duplicates dropped, order kept)."""
        unique = list(dict.fromkeys(paths))
        with self._db.write() as conn:
            conn.execute("DELETE FROM opened_files WHERE op = ?", (op,))
            conn.executemany(
                "INSERT INTO opened_files (op, path, position) VALUES (?, ?, ?)",
                [(op, path, i) for i, path in enumerate(unique)],
            )

    def __repr__(self) -> str:
        return f"History({str(self.path)!r})"
