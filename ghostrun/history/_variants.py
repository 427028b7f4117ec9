"""Variants and their trials: writing them and reading them back as records.

Functions here run inside a transaction opened by `History`; they never commit.
"""

from __future__ import annotations

import json
import math
import sqlite3
from collections import defaultdict
from collections.abc import Sequence
from typing import Any

from ghostrun.errors import HistoryError
from ghostrun.history import _codec
from ghostrun.history._runs import fidelity_params
from ghostrun.history.records import TrialRecord, TrialRun, VariantRecord
from ghostrun.workflow.types import Fidelity

_VARIANT_COLUMNS = (
    "variant_id, base_version, kind, change, description, location, ops, base_fingerprints,"
    " version_id, created"
)
_TRIAL_COLUMNS = (
    "trial_id, variant_id, base_version, fidelity_fraction, fidelity_precision,"
    " fidelity_budget, metric, goal, status, delta, uncertainty, value, base_value, seconds,"
    " created"
)


def save_variant(conn: sqlite3.Connection, record: VariantRecord, now: float) -> None:
    """Insert a variant of a base unless known: the same change on the same base is the
    same variant, so a second save changes nothing (but fills a missing version id)."""
    conn.execute(
        f"INSERT INTO variants ({_VARIANT_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
        " ON CONFLICT (variant_id, base_version)"
        " DO UPDATE SET version_id = ifnull(version_id, excluded.version_id)",
        (
            record.variant_id, record.base_version, record.kind, _codec.dumps(dict(record.change)),
            record.description, record.location, json.dumps(list(record.ops)),
            json.dumps(dict(record.base_fingerprints)), record.version_id, now,
        ),
    )  # fmt: skip


def load_variants(
    conn: sqlite3.Connection, where: str, params: Sequence[Any], limit: int
) -> list[VariantRecord]:
    """Variants matching `where` (constant SQL with ? placeholders), newest first."""
    rows = conn.execute(
        f"SELECT {_VARIANT_COLUMNS} FROM variants {where} ORDER BY created DESC, rowid DESC"
        " LIMIT ?",
        (*params, limit),
    ).fetchall()
    return [_variant(row) for row in rows]


def _variant(row: Sequence[Any]) -> VariantRecord:
    return VariantRecord(
        variant_id=row[0], base_version=row[1], kind=row[2], change=_codec.loads(row[3]),
        description=row[4], location=row[5], ops=tuple(json.loads(row[6])),
        base_fingerprints=json.loads(row[7]), version_id=row[8], created=row[9],
    )  # fmt: skip


def require_variant(conn: sqlite3.Connection, variant_id: str, base_version: str) -> None:
    found = conn.execute(
        "SELECT 1 FROM variants WHERE variant_id = ? AND base_version = ?",
        (variant_id, base_version),
    ).fetchone()
    if found is None:
        raise HistoryError(
            f"variant {variant_id} of version {base_version} is not in the history; "
            "save_variant it first."
        )


def insert_trial(
    conn: sqlite3.Connection, values: dict[str, Any], fidelity: Fidelity,
    runs: Sequence[TrialRun], now: float,
) -> int:  # fmt: skip
    """Insert one trial and its runs; return its id."""
    fraction, precision, budget, _seed = fidelity_params(fidelity)
    cursor = conn.execute(
        f"INSERT INTO trials ({_TRIAL_COLUMNS}) VALUES (NULL, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?,"
        " ?, ?, ?)",
        (
            values["variant_id"], values["base_version"], fraction, precision, budget,
            values["metric"], values["goal"], values["status"], _real(values["delta"]),
            _real(values["uncertainty"]), _real(values["value"]), _real(values["base_value"]),
            float(values["seconds"]), now,
        ),
    )  # fmt: skip
    trial_id = int(cursor.lastrowid or 0)
    conn.executemany(
        "INSERT INTO trial_runs (trial_id, seed, run_id, base_run_id, value, base_value)"
        " VALUES (?, ?, ?, ?, ?, ?)",
        [
            (trial_id, r.seed, r.run_id, r.base_run_id, _real(r.value), _real(r.base_value))
            for r in runs
        ],
    )
    return trial_id


def check_runs(conn: sqlite3.Connection, runs: Sequence[TrialRun]) -> None:
    """Every run a trial names must exist; seeds must be distinct."""
    seeds = [r.seed for r in runs]
    if len(set(seeds)) != len(seeds):
        raise HistoryError(f"a trial lists sample seeds {seeds}; each seed may appear once.")
    for run in runs:
        for run_id in (run.run_id, run.base_run_id):
            if run_id is None:
                continue
            if conn.execute("SELECT 1 FROM runs WHERE run_id = ?", (run_id,)).fetchone() is None:
                raise HistoryError(f"a trial names run {run_id}, which is not in the history.")


def load_trials(
    conn: sqlite3.Connection, where: str, params: Sequence[Any], limit: int
) -> list[TrialRecord]:
    """Trials matching `where` (constant SQL with ? placeholders), newest first."""
    rows = conn.execute(
        f"SELECT {_TRIAL_COLUMNS} FROM trials {where} ORDER BY trial_id DESC LIMIT ?",
        (*params, limit),
    ).fetchall()
    ids = json.dumps([row[0] for row in rows])
    runs: dict[int, list[TrialRun]] = defaultdict(list)
    for r in conn.execute(
        "SELECT trial_id, seed, run_id, base_run_id, value, base_value FROM trial_runs"
        " WHERE trial_id IN (SELECT value FROM json_each(?)) ORDER BY trial_id, seed",
        (ids,),
    ):
        runs[r[0]].append(TrialRun(r[1], r[2], r[3], r[4], r[5]))
    return [_trial(row, runs.get(row[0], [])) for row in rows]


def _trial(row: Sequence[Any], runs: list[TrialRun]) -> TrialRecord:
    return TrialRecord(
        trial_id=row[0], variant_id=row[1], base_version=row[2],
        fidelity=Fidelity(fraction=row[3], precision=row[4], budget=row[5]), metric=row[6],
        goal=row[7], status=row[8], delta=row[9], uncertainty=row[10], value=row[11],
        base_value=row[12], seconds=row[13], created=row[14], runs=tuple(runs),
    )  # fmt: skip


def _real(value: float | None) -> float | None:
    """NaN and infinities are stored as NULL: a delta that is not a number says nothing."""
    if value is None:
        return None
    number = float(value)
    return number if math.isfinite(number) else None


def latest_run_at(conn: sqlite3.Connection, version_id: str, fidelity: Fidelity) -> int | None:
    """The latest successful run of `version_id` at exactly `fidelity` (seed included)."""
    row = conn.execute(
        "SELECT run_id FROM runs WHERE version_id = ? AND status = 'ok' AND fidelity_fraction = ?"
        " AND fidelity_precision = ? AND fidelity_budget = ? AND fidelity_seed = ?"
        " ORDER BY run_id DESC LIMIT 1",
        (version_id, *fidelity_params(fidelity)),
    ).fetchone()
    return None if row is None else int(row[0])
