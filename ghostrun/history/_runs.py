"""Runs, per-operator executions and metrics: writing them and reading them back as records.

Functions here run inside a transaction opened by `History`; they never commit.
"""

from __future__ import annotations

import json
import math
import sqlite3
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from ghostrun.errors import HistoryError
from ghostrun.history.records import OpExecution, RunRecord
from ghostrun.workflow.types import Fidelity

_RUN_COLUMNS = (
    "run_id, version_id, parent_id, kind, fidelity_fraction, fidelity_precision,"
    " fidelity_budget, fidelity_seed, status, started, finished, seconds, error"
)
_OP_COLUMNS = "run_id, op, state, seconds, n_rows, nbytes, cache_key, content_hash, change"


def require_run(conn: sqlite3.Connection, run_id: int) -> None:
    if conn.execute("SELECT 1 FROM runs WHERE run_id = ?", (run_id,)).fetchone() is None:
        raise HistoryError(f"there is no run {run_id}; start_run it first.")


def fidelity_params(fidelity: Fidelity) -> tuple[float, str, float, int]:
    return (
        float(fidelity.fraction), fidelity.precision, float(fidelity.budget), int(fidelity.seed)
    )


def metric_rows(
    run_id: int, metrics: Mapping[str, float], primary: str | None,
    uncertainty: Mapping[str, float],
) -> list[tuple[Any, ...]]:  # fmt: skip
    """Rows for the metrics table; NaN is stored as NULL (SQLite has no NaN)."""
    if primary is not None and primary not in metrics:
        raise HistoryError(
            f"run {run_id}: primary metric '{primary}' is not among its metrics; record it too."
        )
    stray = sorted(set(uncertainty) - set(metrics))
    if stray:
        names = ", ".join(stray)
        raise HistoryError(f"run {run_id}: uncertainty given for unknown metrics {names}.")
    rows: list[tuple[Any, ...]] = []
    for name, value in metrics.items():
        spread = uncertainty.get(name)
        spread_value = None if spread is None else _real(spread, name)
        rows.append((run_id, name, _real(value, name), spread_value, int(name == primary)))
    return rows


def _real(value: Any, name: str) -> float | None:
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise HistoryError(f"metric '{name}' is {value!r}, not a number.") from None
    return None if math.isnan(number) else number


def _fidelity(row: Sequence[Any]) -> Fidelity:
    return Fidelity(fraction=row[0], precision=row[1], budget=row[2], seed=row[3])


def _execution(row: Sequence[Any], fidelity: Fidelity) -> OpExecution:
    return OpExecution(
        run_id=row[0], op=row[1], state=row[2], seconds=row[3], rows=row[4], nbytes=row[5],
        key=row[6], content_hash=row[7], change=row[8], fidelity=fidelity,
    )  # fmt: skip


def _grouped(conn: sqlite3.Connection, sql: str, ids: str) -> dict[int, list[Any]]:
    groups: dict[int, list[Any]] = defaultdict(list)
    for row in conn.execute(sql, (ids,)):
        groups[row[0]].append(row)
    return groups


def load_runs(
    conn: sqlite3.Connection, where: str, params: Iterable[Any], limit: int
) -> list[RunRecord]:
    """Runs matching `where` (constant SQL with ? placeholders), newest first, in full."""
    rows = conn.execute(
        f"SELECT {_RUN_COLUMNS} FROM runs {where} ORDER BY run_id DESC LIMIT ?", (*params, limit)
    ).fetchall()
    ids = json.dumps([row[0] for row in rows])
    chosen = "WHERE run_id IN (SELECT value FROM json_each(?)) ORDER BY run_id, rowid"
    metrics = _grouped(
        conn, f"SELECT run_id, name, value, uncertainty, is_primary FROM metrics {chosen}", ids
    )
    ops = _grouped(conn, f"SELECT {_OP_COLUMNS} FROM op_runs {chosen}", ids)
    return [_record(row, metrics.get(row[0], []), ops.get(row[0], [])) for row in rows]


def _record(row: Sequence[Any], metric_rows: list[Any], op_rows: list[Any]) -> RunRecord:
    fidelity = _fidelity(row[4:8])
    values = {m[1]: math.nan if m[2] is None else m[2] for m in metric_rows}
    spreads = {m[1]: m[3] for m in metric_rows if m[3] is not None}
    primary = next((m[1] for m in metric_rows if m[4]), None)
    return RunRecord(
        run_id=row[0], version_id=row[1], parent_id=row[2], kind=row[3], fidelity=fidelity,
        status=row[8], started=row[9], finished=row[10], seconds=row[11], error=row[12],
        metrics=values, uncertainty=spreads, primary=primary,
        ops=tuple(_execution(op, fidelity) for op in op_rows),
    )  # fmt: skip


def metrics_for(
    conn: sqlite3.Connection, version_id: str, fidelity: Fidelity
) -> dict[str, float] | None:
    """Metrics of the latest successful run of `version_id` at exactly `fidelity`."""
    row = conn.execute(
        "SELECT run_id FROM runs WHERE version_id = ? AND status = 'ok' AND fidelity_fraction = ?"
        " AND fidelity_precision = ? AND fidelity_budget = ? AND fidelity_seed = ?"
        " ORDER BY run_id DESC LIMIT 1",
        (version_id, *fidelity_params(fidelity)),
    ).fetchone()
    if row is None:
        return None
    found = conn.execute(
        "SELECT name, value FROM metrics WHERE run_id = ? ORDER BY rowid", (row[0],)
    )
    return {name: math.nan if value is None else value for name, value in found}


def op_history(conn: sqlite3.Connection, op: str, limit: int) -> list[OpExecution]:
    """Executions of operator `op`, newest run first, each with its run's fidelity."""
    columns = ", ".join(f"o.{c.strip()}" for c in _OP_COLUMNS.split(","))
    rows = conn.execute(
        f"SELECT {columns}, r.fidelity_fraction, r.fidelity_precision, r.fidelity_budget,"
        " r.fidelity_seed"
        " FROM op_runs AS o JOIN runs AS r ON r.run_id = o.run_id"
        " WHERE o.op = ? ORDER BY o.run_id DESC LIMIT ?",
        (op, limit),
    ).fetchall()
    return [_execution(row, _fidelity(row[9:13])) for row in rows]


def load_throughput(conn: sqlite3.Connection, limit: int) -> tuple[int, float]:
    """Bytes and seconds of the most recent cache loads, to estimate read speed."""
    row = conn.execute(
        "SELECT ifnull(sum(nbytes), 0), ifnull(sum(seconds), 0.0) FROM ("
        " SELECT nbytes, seconds FROM op_runs"
        " WHERE state = 'loaded' AND nbytes > 0 AND seconds > 0"
        " ORDER BY run_id DESC LIMIT ?)",
        (limit,),
    ).fetchone()
    return int(row[0]), float(row[1])


def known_output(conn: sqlite3.Connection, key: str) -> tuple[str, int] | None:
    """(content hash, bytes) of an output once computed under `key`, stored or not."""
    row = conn.execute(
        "SELECT content_hash, ifnull(nbytes, 0) FROM op_runs"
        " WHERE cache_key = ? AND state = 'computed' AND content_hash IS NOT NULL"
        " ORDER BY run_id DESC LIMIT 1",
        (key,),
    ).fetchone()
    return None if row is None else (str(row[0]), int(row[1]))
