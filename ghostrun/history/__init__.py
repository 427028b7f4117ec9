"""Run history in SQLite (DESIGN §6): versions, change sets, runs, metrics, file hashes,
variants and their trials."""

from ghostrun.history.records import (
    OpExecution,
    RunRecord,
    TrialRecord,
    TrialRun,
    VariantRecord,
)
from ghostrun.history.schema import MIGRATIONS, SCHEMA_VERSION, Migration
from ghostrun.history.store import History

__all__ = [
    "MIGRATIONS",
    "SCHEMA_VERSION",
    "History",
    "Migration",
    "OpExecution",
    "RunRecord",
    "TrialRecord",
    "TrialRun",
    "VariantRecord",
]
