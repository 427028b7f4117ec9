"""Workflow versions, their operator snapshots and change sets, and version references.

Functions here run inside a transaction opened by `History`; they never commit.
"""

from __future__ import annotations

import hashlib
import json
import re
import sqlite3
from collections.abc import Sequence

from ghostrun.errors import HistoryError
from ghostrun.history import _codec
from ghostrun.history._checks import change_value
from ghostrun.workflow.types import Change, OpChange, OpSnapshot, VersionSnapshot

MIN_PREFIX = 4
_SHOWN_CANDIDATES = 10


def _store_source(conn: sqlite3.Connection, text: str) -> str:
    digest = hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()
    conn.execute("INSERT OR IGNORE INTO source_texts (digest, text) VALUES (?, ?)", (digest, text))
    return digest


def _op_row(version_id: str, position: int, op: OpSnapshot, digest: str) -> tuple[object, ...]:
    return (
        version_id, op.name, position, op.kind, json.dumps(list(op.inputs)), op.code_hash,
        _codec.dumps(dict(op.knobs)), json.dumps(dict(op.data)), op.env_hash, op.fingerprint,
        digest, op.file, op.line,
    )  # fmt: skip


def save_version(
    conn: sqlite3.Connection, snap: VersionSnapshot, workflow_path: str, now: float
) -> None:
    """Insert a version unless it exists: versions are immutable, so a second save is a no-op."""
    where = f"version {snap.version_id}"
    if snap.goal not in ("max", "min"):
        raise HistoryError(f"{where}: goal must be 'max' or 'min', not {snap.goal!r}.")
    for name, op in snap.ops.items():
        if name != op.name:
            raise HistoryError(f"{where}: operator '{op.name}' is filed under '{name}'.")
    packages = json.dumps(dict(snap.packages))
    cursor = conn.execute(
        "INSERT OR IGNORE INTO versions (version_id, created, workflow_path, primary_metric, goal,"
        " packages) VALUES (?, ?, ?, ?, ?, ?)",
        (snap.version_id, now, workflow_path, snap.primary, snap.goal, packages),
    )
    if cursor.rowcount == 0:
        return
    rows = [
        _op_row(snap.version_id, position, op, _store_source(conn, op.source))
        for position, op in enumerate(snap.ops.values())
    ]
    conn.executemany(
        "INSERT INTO version_ops (version_id, op, position, kind, inputs, code_hash, knobs, data,"
        " env_hash, fingerprint, source_digest, file, line)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        rows,
    )


def load_version(conn: sqlite3.Connection, version_id: str) -> VersionSnapshot | None:
    """The snapshot saved under `version_id`, operators in their saved order."""
    row = conn.execute(
        "SELECT primary_metric, goal, packages FROM versions WHERE version_id = ?", (version_id,)
    ).fetchone()
    if row is None:
        return None
    ops: dict[str, OpSnapshot] = {}
    for r in conn.execute(
        "SELECT op, kind, inputs, code_hash, knobs, data, env_hash, fingerprint, t.text, file, line"
        " FROM version_ops JOIN source_texts AS t ON t.digest = source_digest"
        " WHERE version_id = ? ORDER BY position",
        (version_id,),
    ):
        ops[r[0]] = OpSnapshot(
            name=r[0], kind=r[1], inputs=tuple(json.loads(r[2])), code_hash=r[3],
            knobs=_codec.loads(r[4]), data=json.loads(r[5]), env_hash=r[6], fingerprint=r[7],
            source=r[8], file=r[9], line=r[10],
        )  # fmt: skip
    return VersionSnapshot(
        version_id=version_id, ops=ops, packages=json.loads(row[2]), primary=row[0], goal=row[1]
    )


def require_version(conn: sqlite3.Connection, version_id: str | None, role: str) -> None:
    """Raise a clear error if `version_id` (when given) was never saved."""
    if version_id is None:
        return
    if conn.execute("SELECT 1 FROM versions WHERE version_id = ?", (version_id,)).fetchone():
        return
    raise HistoryError(
        f"{role} version '{version_id}' is not in the history; save_version it first."
    )


def _set_id(conn: sqlite3.Connection, version_id: str, parent_id: str | None) -> int | None:
    row = conn.execute(
        "SELECT set_id FROM change_sets"
        " WHERE version_id = ? AND ifnull(parent_id, '') = ifnull(?, '')",
        (version_id, parent_id),
    ).fetchone()
    return None if row is None else int(row[0])


def _detail(change: OpChange) -> str:
    knobs = {name: tuple(pair) for name, pair in change.knobs.items()}
    return _codec.dumps({"knobs": knobs, "files": list(change.files), "reason": change.reason})


def save_changes(
    conn: sqlite3.Connection, version_id: str, parent_id: str | None,
    changes: Sequence[OpChange], now: float,
) -> None:  # fmt: skip
    """Store the classification of `version_id` against `parent_id`, replacing an older one."""
    require_version(conn, version_id, "changed")
    require_version(conn, parent_id, "parent")
    names = [c.op for c in changes]
    if len(set(names)) != len(names):
        twice = sorted({n for n in names if names.count(n) > 1})
        raise HistoryError(f"change set of {version_id} lists {', '.join(twice)} more than once.")
    conn.execute(
        "DELETE FROM change_sets WHERE version_id = ? AND ifnull(parent_id, '') = ifnull(?, '')",
        (version_id, parent_id),
    )
    set_id = conn.execute(
        "INSERT INTO change_sets (version_id, parent_id, created) VALUES (?, ?, ?)",
        (version_id, parent_id, now),
    ).lastrowid
    conn.executemany(
        "INSERT INTO changes (set_id, op, position, change, detail) VALUES (?, ?, ?, ?, ?)",
        [(set_id, c.op, i, change_value(c.change), _detail(c)) for i, c in enumerate(changes)],
    )


def load_changes(
    conn: sqlite3.Connection, version_id: str, parent_id: str | None
) -> list[OpChange] | None:
    """The stored change set, or None if it was never saved (an empty set is [])."""
    set_id = _set_id(conn, version_id, parent_id)
    if set_id is None:
        return None
    result: list[OpChange] = []
    for op, change, detail in conn.execute(
        "SELECT op, change, detail FROM changes WHERE set_id = ? ORDER BY position", (set_id,)
    ):
        data = _codec.loads(detail)
        knobs = {name: tuple(pair) for name, pair in data["knobs"].items()}
        result.append(OpChange(op, Change(change), knobs, tuple(data["files"]), data["reason"]))
    return result


def resolve(conn: sqlite3.Connection, ref: str) -> str:
    """Turn a version reference into a full version id (see `History.resolve_version`)."""
    text = ref.strip()
    if not text:
        raise HistoryError(
            "empty version reference; give a version id or prefix, HEAD, HEAD~N or @RUN."
        )
    if conn.execute("SELECT 1 FROM versions WHERE version_id = ?", (text,)).fetchone():
        return text
    if text.upper() in ("HEAD", "LATEST"):
        return _head(conn, 0, text)
    back = re.fullmatch(r"HEAD~(\d*)", text, flags=re.IGNORECASE)
    if back:
        return _head(conn, int(back.group(1) or 1), text)
    run = re.fullmatch(r"@(\d+)", text)
    if run:
        return _of_run(conn, int(run.group(1)))
    return _by_prefix(conn, text)


def _head(conn: sqlite3.Connection, back: int, ref: str) -> str:
    """The version `back` distinct versions before the latest user run's, by latest run."""
    rows = conn.execute(
        "SELECT version_id FROM runs WHERE kind = 'user' GROUP BY version_id"
        " ORDER BY max(run_id) DESC LIMIT ?",
        (back + 1,),
    ).fetchall()
    if len(rows) > back:
        return str(rows[back][0])
    if not rows:
        raise HistoryError(
            f"'{ref}' names the version of a user run, but nothing has been run yet; "
            "run `ghostrun run` first."
        )
    raise HistoryError(
        f"'{ref}' goes back {back} versions, but only {len(rows)} have been run; "
        f"use at most HEAD~{len(rows) - 1}."
    )


def _of_run(conn: sqlite3.Connection, run_id: int) -> str:
    row = conn.execute("SELECT version_id FROM runs WHERE run_id = ?", (run_id,)).fetchone()
    if row is None:
        raise HistoryError(f"there is no run @{run_id}; `ghostrun history` lists the runs.")
    return str(row[0])


def _by_prefix(conn: sqlite3.Connection, prefix: str) -> str:
    if len(prefix) < MIN_PREFIX:
        raise HistoryError(
            f"no version is called '{prefix}'; "
            f"a version prefix needs at least {MIN_PREFIX} characters."
        )
    rows = conn.execute(
        "SELECT version_id FROM versions WHERE substr(version_id, 1, ?) = ?"
        " ORDER BY created DESC, version_id LIMIT ?",
        (len(prefix), prefix, _SHOWN_CANDIDATES + 1),
    ).fetchall()
    if len(rows) == 1:
        return str(rows[0][0])
    if not rows:
        raise HistoryError(f"no version matches '{prefix}'; `ghostrun history` lists the versions.")
    shown = ", ".join(str(r[0]) for r in rows[:_SHOWN_CANDIDATES])
    more = ", ..." if len(rows) > _SHOWN_CANDIDATES else ""
    raise HistoryError(f"'{prefix}' is ambiguous: it matches {shown}{more}; give more characters.")


def current_version(conn: sqlite3.Connection, kind: str) -> str | None:
    """The version of the newest run of `kind`."""
    row = conn.execute(
        "SELECT version_id FROM runs WHERE kind = ? ORDER BY run_id DESC LIMIT 1", (kind,)
    ).fetchone()
    return None if row is None else str(row[0])


def parent_of(conn: sqlite3.Connection, version_id: str) -> str | None:
    """The parent recorded by the first run (of any kind) of `version_id`."""
    row = conn.execute(
        "SELECT parent_id FROM runs WHERE version_id = ? ORDER BY run_id LIMIT 1", (version_id,)
    ).fetchone()
    return None if row is None or row[0] is None else str(row[0])


def recent_changes(conn: sqlite3.Connection, limit: int) -> list[dict[str, str]]:
    """Per recent edit (newest first), each operator's change: what the user has been
    editing lately, from which the chance that a result survives the next edit follows."""
    sets = conn.execute(
        "SELECT set_id FROM change_sets WHERE parent_id IS NOT NULL AND parent_id != version_id"
        " ORDER BY created DESC, set_id DESC LIMIT ?",
        (limit,),
    ).fetchall()
    result = []
    for (set_id,) in sets:
        rows = conn.execute("SELECT op, change FROM changes WHERE set_id = ?", (set_id,))
        result.append({op: change for op, change in rows})
    return result
