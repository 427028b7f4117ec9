"""The runners the replay bench compares, by name, in the order they run each step."""

from __future__ import annotations

from bench.replay.runners.base import Context, Outcome, Runner, RunnerSkipped
from bench.replay.runners.fresh import GhostrunRunner, HamiltonRunner, JoblibRunner, PlainRunner
from bench.replay.runners.hosted import HotRunner, OracleRunner

__all__ = ["RUNNERS", "Context", "Outcome", "Runner", "RunnerSkipped", "select_runners"]

RUNNERS: dict[str, type[Runner]] = {
    cls.name: cls
    for cls in (PlainRunner, JoblibRunner, HamiltonRunner, OracleRunner, GhostrunRunner,
                HotRunner)
}


def select_runners(spec: str | None) -> list[str]:
    """Runner names from a comma-separated `spec` (all when None), in the canonical order."""
    if not spec or spec == "all":
        return list(RUNNERS)
    wanted = {s.strip() for s in spec.split(",") if s.strip()}
    unknown = wanted - set(RUNNERS)
    if unknown:
        raise ValueError(f"--runners: unknown {sorted(unknown)}; choose from {list(RUNNERS)}.")
    return [name for name in RUNNERS if name in wanted]
