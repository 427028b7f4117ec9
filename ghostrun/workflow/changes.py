"""Classifying each operator of a version against its parent (DESIGN §2).

Works on snapshots, not live modules, so the parent may be any version in the history.
An operator's own change wins over an upstream one: code, then knob, then data.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ghostrun.workflow.types import Change, OpChange, OpSnapshot, VersionSnapshot


def classify(parent: VersionSnapshot | None, current: VersionSnapshot) -> list[OpChange]:
    """One OpChange per current operator (in order), then one per removed operator."""
    changes: dict[str, OpChange] = {}
    for name, snap in current.ops.items():
        old = parent.op(name) if parent else None
        own = _own_change(old, snap, parent, current)
        if own is None:
            moved = [i for i in snap.inputs if changes[i].change is not Change.UNCHANGED]
            own = (
                OpChange(name, Change.UPSTREAM, reason=f"input {', '.join(moved)} changed")
                if moved
                else OpChange(name, Change.UNCHANGED)
            )
        changes[name] = own
    removed = [
        OpChange(name, Change.REMOVED)
        for name in (parent.ops if parent else {})
        if name not in current.ops
    ]
    return [*changes.values(), *removed]


def _own_change(
    old: OpSnapshot | None,
    new: OpSnapshot,
    parent: VersionSnapshot | None,
    current: VersionSnapshot,
) -> OpChange | None:
    if old is None:
        return OpChange(new.name, Change.NEW, reason=_renamed_from(new, parent, current))
    knobs = knob_changes(old.knobs, new.knobs)
    upgraded = package_changes(parent.packages if parent else {}, current.packages)
    if old.code_hash != new.code_hash:
        reason = _code_reason(old, new)
        if not _body_changed(old, new) and upgraded.startswith("package"):
            reason = upgraded  # what the operator uses moved because a package did
        return OpChange(new.name, Change.CODE, knobs=knobs, reason=reason)
    if old.env_hash != new.env_hash:
        return OpChange(new.name, Change.CODE, knobs=knobs, reason=upgraded)
    if knobs:
        return OpChange(new.name, Change.KNOB, knobs=knobs)
    files = tuple(p for p in sorted({*old.data, *new.data}) if old.data.get(p) != new.data.get(p))
    if files:
        return OpChange(new.name, Change.DATA, files=files)
    return None


def knob_changes(old: Mapping[str, Any], new: Mapping[str, Any]) -> dict[str, tuple[Any, Any]]:
    return {
        name: (old.get(name), new.get(name))
        for name in sorted({*old, *new})
        if old.get(name) != new.get(name) or type(old.get(name)) is not type(new.get(name))
    }


def _code_reason(old: OpSnapshot, new: OpSnapshot) -> str:
    moved = sorted(k for k in {*old.deps, *new.deps} if old.deps.get(k) != new.deps.get(k))
    if not moved:
        return "operator code changed"
    labels = ", ".join(m.split(".", 1)[-1] for m in moved)
    own = _body_changed(old, new)
    return f"{'operator code and ' if own else ''}{labels} changed"


def _body_changed(old: OpSnapshot, new: OpSnapshot) -> bool:
    """Whether the operator's own text changed, not only what it references."""
    return old.source.strip() != new.source.strip()


def _renamed_from(new: OpSnapshot, parent: VersionSnapshot | None, current: VersionSnapshot) -> str:
    if parent is None:
        return ""
    gone = [s for n, s in parent.ops.items() if n not in current.ops]
    match = next((s for s in gone if s.code_hash == new.code_hash), None)
    return f"renamed from {match.name}" if match else ""


def package_changes(old: Mapping[str, str], new: Mapping[str, str]) -> str:
    moved = [
        f"{p} {old.get(p, '-')} → {new.get(p, '-')}"
        for p in sorted({*old, *new})
        if old.get(p) != new.get(p)
    ]
    return "package versions changed: " + ", ".join(moved) if moved else "environment changed"
