"""The workflows the fidelity bench edits, by name, in the order they run."""

from __future__ import annotations

from bench.approx.workflows.spec import KINDS, BenchWorkflow

__all__ = ["KINDS", "NAMES", "BenchWorkflow", "load", "select"]

NAMES = ("replay", "demo", "census", "regression", "diabetes")


def load(name: str) -> BenchWorkflow:
    """The workflow `name` (its module is imported only when asked for)."""
    if name not in NAMES:
        raise ValueError(f"--workflows: no workflow {name!r}; choose from {', '.join(NAMES)}.")
    module = __import__(f"bench.approx.workflows.{name}", fromlist=["WORKFLOW"])
    workflow: BenchWorkflow = module.WORKFLOW
    workflow.check()
    return workflow


def select(spec: str | None) -> list[BenchWorkflow]:
    """Workflows from a comma-separated `spec` (all when empty or "all"), in NAMES order."""
    if not spec or spec == "all":
        return [load(n) for n in NAMES]
    wanted = [s.strip() for s in spec.split(",") if s.strip()]
    for name in wanted:
        if name not in NAMES:
            load(name)  # raises with the choices
    return [load(n) for n in NAMES if n in wanted]
