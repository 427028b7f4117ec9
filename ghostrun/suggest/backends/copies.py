"""A worker's private copy of a project, rebuilt from a bundle, measuring trials there.

The copy lives in its own temporary directory with its own `.ghostrun/` (history and
cache), so a worker that runs many trials of one version computes the base and the
unchanged upstream operators once and reuses them, exactly as the local explorer does.
Nothing here knows about Dask: `remote` runs it inside a worker, tests run it directly.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Callable, Mapping
from dataclasses import fields
from pathlib import Path
from typing import Any

from ghostrun.config import Settings
from ghostrun.engine.session import Session
from ghostrun.history import RunRecord
from ghostrun.project import Project
from ghostrun.reuse.memory import MemoryCache
from ghostrun.suggest.backends.bundle import ProjectBundle, sees
from ghostrun.suggest.backends.errors import ClusterError
from ghostrun.suggest.halving import Rung
from ghostrun.suggest.trials import Measured, Trials
from ghostrun.suggest.variant import Variant
from ghostrun.workflow.ondemand import real_workflow

__all__ = ["PREFIX", "ProjectCopy", "remove_orphans", "run_json"]

PREFIX = "ghostrun-trial-"  # + the worker's pid: a killed worker's copy is found later


class ProjectCopy:
    """Responsibilities: write a bundle's code and data into a private directory, open a
    session there, and measure variants of its base version (paired, as `Trials` does)."""

    def __init__(self, bundle: ProjectBundle, shipped: Mapping[str, bytes]):
        self.key = bundle.key
        self.home = bundle.root
        self.root = Path(tempfile.mkdtemp(prefix=f"{PREFIX}{os.getpid()}-"))
        self._cancelled: Callable[[], bool] = lambda: False
        try:
            _write_sources(self.root, bundle)
            _place_data(self.root, bundle, shipped)
            known = {f.name for f in fields(Settings)}
            settings = Settings(**bundle.settings_for(known))
            self.session = Session(Project(self.root, settings),
                                   MemoryCache(settings.memory_budget))  # fmt: skip
        except BaseException:
            shutil.rmtree(self.root, ignore_errors=True)
            raise
        try:
            self.trials = self._open(bundle)
        except BaseException:
            self.close()
            raise

    def _open(self, bundle: ProjectBundle) -> Trials:
        history = self.session.history
        for op, paths in bundle.opened:
            history.set_opened_files(op, paths)  # fingerprints as at home (audit-found files)
        version = self.session.load()
        self.env_matches = version.env_hash == bundle.env_hash
        workflow = real_workflow(version.workflow)
        if workflow.primary is None:
            raise ClusterError("the workflow has no primary metric on the worker's copy.")
        invocation = self.session.prepare(version)
        return Trials(self.session, invocation, workflow, workflow.primary,
                      lambda: self._cancelled())  # fmt: skip

    def measure(self, change: Mapping[str, Any], rung: Rung,
                cancelled: Callable[[], bool]) -> dict[str, Any]:  # fmt: skip
        """Measure the variant `change` at `rung` against the base; the trial as JSON.

        Raises RunCancelled (between operators) once `cancelled()` is true, BaseFailed when
        the base fails on its own; a failure of the variant's code is a failed trial."""
        self._cancelled = cancelled
        try:
            measured = self.trials.measure(Variant.from_json(change), rung)
        finally:
            self._cancelled = lambda: False
        return self._payload(measured)

    def _payload(self, measured: Measured) -> dict[str, Any]:
        history = self.session.history
        base = self.trials.base.version_id
        trial = next(
            t for t in history.trials(variant_id=measured.variant.id, base_version=base)
            if t.trial_id == measured.trial_id
        )  # fmt: skip
        runs = []
        for r in trial.runs:
            mine, theirs = history.run(r.run_id), history.run(r.base_run_id or -1)
            runs.append({
                "seed": r.seed, "value": r.value, "base_value": r.base_value,
                "run": self._shown(run_json(mine)) if mine else None,
                "base": self._shown(run_json(theirs)) if theirs else None,
            })  # fmt: skip
        return {
            "status": measured.status,
            "seconds": measured.seconds,
            "runs": runs,
            "env_matches": self.env_matches,
        }

    def _shown(self, run: dict[str, Any]) -> dict[str, Any]:
        """Errors name the user's files, not this copy's."""
        if run["error"]:
            for path in {str(self.root.resolve()), str(self.root)}:
                run["error"] = run["error"].replace(path, self.home)
        return run

    def close(self) -> None:
        try:
            self.session.close()
        finally:
            shutil.rmtree(self.root, ignore_errors=True)


def run_json(run: RunRecord) -> dict[str, Any]:
    """A worker's run, as the client records it in the project's own history."""
    return {
        "fidelity": run.fidelity.to_json(),
        "status": run.status,
        "seconds": run.seconds or 0.0,
        "metrics": dict(run.metrics),
        "primary": run.primary,
        "error": run.error,
        "ops": [[o.op, o.state, o.seconds, o.rows, o.nbytes, o.change] for o in run.ops],
    }


def remove_orphans() -> int:
    """Remove the copies of worker processes that died without cleaning up (killed);
    returns how many."""
    removed = 0
    for path in Path(tempfile.gettempdir()).glob(f"{PREFIX}*-*"):
        pid = path.name[len(PREFIX) :].split("-", 1)[0]
        if pid.isdigit() and not _alive(int(pid)) and path.is_dir():
            shutil.rmtree(path, ignore_errors=True)
            removed += 1
    return removed


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # someone else's process
    return True


def _write_sources(root: Path, bundle: ProjectBundle) -> None:
    for relpath, text in bundle.sources:
        path = _inside(root, relpath)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8", errors="surrogateescape")


def _place_data(root: Path, bundle: ProjectBundle, shipped: Mapping[str, bytes]) -> None:
    """Shipped files are written into the copy; the others must be visible here at their
    own path (a shared file system): linked into the copy, or read in place if absolute."""
    for spec in bundle.data:
        blob = shipped.get(spec.path)
        if blob is None and not sees(spec):
            raise ClusterError(
                f"the data file {spec.path} ({spec.local}) is not visible on this worker and "
                "was not sent; mount it at the same path on every worker."
            )
        if not spec.inside:
            continue
        path = _inside(root, spec.path)
        path.parent.mkdir(parents=True, exist_ok=True)
        if blob is not None:
            path.write_bytes(blob)
        else:
            os.symlink(spec.local, path)


def _inside(root: Path, relpath: str) -> Path:
    """`root / relpath`, refusing paths that would leave the copy."""
    path = (root / relpath).resolve()
    if not path.is_relative_to(root.resolve()):
        raise ClusterError(f"refusing to write {relpath!r} outside the worker's project copy.")
    return path
