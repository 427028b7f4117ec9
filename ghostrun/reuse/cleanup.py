"""Cache clean-up on demand (`ghostrun gc`) and on schedule (the daemon)."""

from __future__ import annotations

from dataclasses import dataclass

from ghostrun.history import History
from ghostrun.project import Project
from ghostrun.reuse.materialize import enforce_budget, survival_chances
from ghostrun.reuse.store import Store


@dataclass(frozen=True)
class CleanupReport:
    evicted: int
    freed: int
    total: int
    budget: int


def clean_cache(project: Project) -> CleanupReport:
    """Fit the store into the storage budget, valuing entries by what the user's current
    version uses and how often each operator has survived recent edits."""
    state = project.ensure_state_dir()
    store = Store(state / "cache")
    before = store.total_bytes()
    with History(project.history_path) as history:
        latest = history.runs(limit=1, kind="user")
        current = {o.key for o in latest[0].ops if o.key} if latest else set()
        ops = {o.op for o in latest[0].ops} if latest else set()
        survival = survival_chances(history.recent_changes(limit=20), ops)
    budget = project.settings.storage_budget
    evicted = enforce_budget(store, budget, survival, current)
    store.collect_garbage()
    after = store.total_bytes()
    return CleanupReport(len(evicted), max(0, before - after), after, budget)
