"""Getting a version's data files to the cluster's workers: by a shared path, else sent.

Before the first trial of a bundle, every worker is asked which of its data files it sees
at their own absolute path (same size and mtime, or same content). Files every worker sees
are read there in place; the others are scattered once to every worker (keyed by content,
so a new version with the same data sends nothing again), within SCATTER_LIMIT bytes.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ghostrun.suggest.backends.bundle import DataFile, ProjectBundle
from ghostrun.suggest.backends.errors import ClusterError
from ghostrun.suggest.backends.remote import probe

__all__ = ["SCATTER_LIMIT", "DataShipper"]

SCATTER_LIMIT = 512 << 20  # bytes of data files the client sends to a cluster per version


class DataShipper:
    """Responsibilities: decide per bundle which files travel, scatter them once, and keep
    the scattered futures alive while trials need them."""

    def __init__(self, client: Any, *, share: bool = True, limit: int = SCATTER_LIMIT):
        """`share=False` never relies on a shared path (every file is sent)."""
        self.client = client
        self.share = share
        self.limit = limit
        self._plans: dict[str, dict[str, Any]] = {}
        self._scattered: dict[str, Any] = {}  # digest -> future

    def shipped(self, bundle: ProjectBundle) -> Mapping[str, Any]:
        """path -> future of its bytes, for the files some worker cannot see."""
        plan = self._plans.get(bundle.key)
        if plan is None or any(f.status != "finished" for f in plan.values()):
            # first use, or every worker holding some of it died: send again
            self._scattered = {d: f for d, f in self._scattered.items() if f.status == "finished"}
            plan = self._plans[bundle.key] = self._plan(bundle)
        return plan

    def forget(self, bundle: ProjectBundle) -> None:
        """Ask the workers again before the next trial (one did not see a file after all)."""
        self._plans.pop(bundle.key, None)

    def _plan(self, bundle: ProjectBundle) -> dict[str, Any]:
        seen = self._seen_everywhere(bundle.data) if self.share else set()
        missing = [f for f in bundle.data if f.path not in seen]
        outside = [f.path for f in missing if not f.inside]
        if outside:
            raise ClusterError(
                f"the cluster's workers do not see {outside[0]}, which is outside the project; "
                "mount it at the same path on every worker to explore on the cluster."
            )
        total = sum(f.size for f in missing)
        if total > self.limit:
            raise ClusterError(
                f"the workers do not see the project's data files, and sending them "
                f"({_size(total)}) would pass the {_size(self.limit)} limit; put the data on "
                "a file system the workers mount at the same path."
            )
        return {f.path: self._scatter(f) for f in missing}

    def _seen_everywhere(self, specs: tuple[DataFile, ...]) -> set[str]:
        if not specs:
            return set()
        answers: dict[str, list[str]] = self.client.run(probe, list(specs))
        if not answers:
            return set()
        seen = [set(paths) for paths in answers.values()]
        return set.intersection(*seen)

    def _scatter(self, spec: DataFile) -> Any:
        if spec.digest not in self._scattered:
            blob = Path(spec.local).read_bytes()
            # On every worker: each needs it for its copy, and a dead worker loses no data.
            self._scattered[spec.digest] = self.client.scatter(blob, hash=False, broadcast=True)
        return self._scattered[spec.digest]

    def release(self) -> None:
        futures = list(self._scattered.values())
        self._scattered.clear()
        self._plans.clear()
        if futures:
            self.client.cancel(futures)


def _size(n: int) -> str:
    return f"{n / (1 << 20):.0f} MB" if n >= 1 << 20 else f"{n} bytes"
