"""What the fidelity bench needs to know about one workflow: its text, data, edits, seed.

A `BenchWorkflow` is a project template (`pipeline.py` text, data files, pyproject) plus a
scripted editing session of cumulative text replacements (`bench.replay.edits.Edit`, the
replay bench's own type, applied with its `apply_edit`), each tagged with what kind of
change it is, and the one replacement that moves the model's random seed (to measure how
much the full metric moves on its own).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from bench.replay.edits import Edit, apply_edit

__all__ = ["BenchWorkflow", "DataFiles", "KINDS", "edit", "reseeded"]

# What an edit does, for the per-edit table (the replay bench's `kind` is coarser).
KINDS = ("knob up", "knob down", "feature add", "feature drop", "preprocessing",
         "estimator swap", "comment", "eval")

# (data cache folder, rows) -> {path inside the project: cached file to hard-link there}
DataFiles = Callable[[Path, int], dict[str, Path]]

PYPROJECT = """[project]
name = "approx-bench-{name}"
version = "0.0.0"

[tool.ghostrun]
workflow = "pipeline.py"
"""


@dataclass(frozen=True)
class BenchWorkflow:
    name: str
    description: str
    template: str
    edits: tuple[Edit, ...]
    kinds: dict[str, str]  # edit name -> one of KINDS
    data: DataFiles
    rows: int  # rows of the main table in a full bench run
    quick_rows: int
    quick_edits: int  # a --quick run keeps this many leading edits (edits build on earlier ones)
    reseed: tuple[str, str] | None  # (old, new with {k}): the model's seed only, not the split
    notes: tuple[str, ...] = field(default=())

    def pyproject(self) -> str:
        return PYPROJECT.format(name=self.name)

    def session(self, quick: bool) -> tuple[Edit, ...]:
        if not quick:
            return self.edits
        return self.edits[: self.quick_edits]

    def check(self) -> None:
        """Dry-run the session on the template so a broken edit fails before any run."""
        text = self.template
        for e in self.edits:
            text = apply_edit(text, e)
        missing = [e.name for e in self.edits if e.name not in self.kinds]
        if missing:
            raise ValueError(f"workflow {self.name}: no kind for edits {missing}")
        if self.reseed is not None:
            reseeded(self.template, self.reseed, 1)


def edit(name: str, kind: str, description: str, *pairs: tuple[str, str],
         touches: Sequence[str], comment_only: bool = False) -> Edit:
    """An `Edit` in the replay bench's type; `kind` is the replay bench's coarse kind."""
    return Edit(name, kind, description, tuple(pairs), frozenset(touches),
                comment_only=comment_only)


def reseeded(text: str, reseed: tuple[str, str], k: int) -> str:
    """`text` with the model's seed moved by `k` (the split keeps its seed)."""
    old, new = reseed
    probe = Edit(f"reseed-{k}", "start", "model seed", ((old, new.format(k=k)),), frozenset())
    return apply_edit(text, probe)
