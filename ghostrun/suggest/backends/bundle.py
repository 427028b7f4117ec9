"""What a cluster worker needs to rebuild a project: its code, settings and data files.

A bundle is plain data (strings, numbers, bytes-free specs), small enough to travel with
every trial: the workflow module and every project module as source text, the settings,
the files each source operator opened last, and one spec per data file (where it is here,
its size, mtime and digest) so a worker can tell whether it sees the same file at the same
path. The bytes themselves travel only when it does not (`shipping`).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

from ghostrun.config import Settings
from ghostrun.errors import ConfigError
from ghostrun.history import History
from ghostrun.project import Project
from ghostrun.watcher.ignore import IgnoreRules
from ghostrun.workflow.datafiles import MISSING, FileHasher
from ghostrun.workflow.hashing import hash_parts
from ghostrun.workflow.version import Version

__all__ = ["SOURCE_LIMIT", "DataFile", "ProjectBundle", "bundle_of"]

SOURCE_LIMIT = 32 << 20  # bytes of Python source shipped with every trial
# Settings that mean nothing on a worker's private copy of the project.
_LOCAL_ONLY = frozenset({"cluster", "notify", "idle_after", "explore_budget", "notify_interval"})


@dataclass(frozen=True)
class DataFile:
    """One data file a version reads. `path` is as the version records it (relative to
    the project root, or absolute for data kept outside it); `local` is absolute here."""

    path: str
    local: str
    size: int
    mtime_ns: int
    digest: str

    @property
    def inside(self) -> bool:
        return not os.path.isabs(self.path)


@dataclass(frozen=True)
class ProjectBundle:
    """A project as a worker rebuilds it in a private directory (see the module docstring).

    `key` names the bundle: equal keys mean equal code, settings and data, so a worker
    reuses the copy (with its cache and base runs) it made for an earlier trial.
    """

    key: str
    root: str  # the project's root on the client: what worker paths are shown as
    base_version: str
    env_hash: str
    workflow: str
    sources: tuple[tuple[str, str], ...]
    settings: tuple[tuple[str, Any], ...]
    opened: tuple[tuple[str, tuple[str, ...]], ...]
    data: tuple[DataFile, ...]

    def settings_for(self, known: set[str]) -> dict[str, Any]:
        """The settings a worker's ghostrun knows (an older one may lack newer ones)."""
        return {k: v for k, v in self.settings if k in known}

    @property
    def data_bytes(self) -> int:
        return sum(f.size for f in self.data)


def bundle_of(project: Project, version: Version, history: History) -> ProjectBundle:
    """The bundle of `version` of `project` (its workflow already imported here)."""
    root = project.root.resolve()
    sources = _sources(root, version.workflow.path)
    settings = _settings(project.settings)
    opened = tuple(
        (name, tuple(history.opened_files(name))) for name in version.workflow.operators
    )
    data = _data_files(root, version, FileHasher(history))
    key = hash_parts(
        "bundle-1", version.version_id, *(f"{p}={hash_parts(t)}" for p, t in sources),
        *(f"{k}={v!r}" for k, v in settings), *(f"{f.path}={f.local}:{f.digest}" for f in data),
    )[:16]  # fmt: skip
    return ProjectBundle(
        key=key,
        root=str(root),
        base_version=version.version_id,
        env_hash=version.env_hash,
        workflow=version.workflow.relpath,
        sources=sources,
        settings=settings,
        opened=opened,
        data=data,
    )


def _sources(root: Path, workflow: Path) -> tuple[tuple[str, str], ...]:
    """Every Python file of the project (a workflow may import any of them, even inside an
    operator), skipping what never belongs to it: state, VCS, virtual envs, caches."""
    rules = IgnoreRules(root)
    found: dict[str, str] = {}
    total = 0
    for folder, dirs, files in os.walk(root):
        here = Path(folder)
        dirs[:] = sorted(d for d in dirs if not rules.always_ignored(here / d, is_dir=True))
        for name in sorted(files):
            path = here / name
            if name.endswith(".py") and not rules.always_ignored(path, is_dir=False):
                text = path.read_text(encoding="utf-8", errors="surrogateescape")
                total += len(text)
                found[str(path.relative_to(root))] = text
        if total > SOURCE_LIMIT:
            raise ConfigError(
                f"the project holds more than {SOURCE_LIMIT >> 20} MB of Python source under "
                f"{root}; move what the workflow does not import out of the project (or into "
                "a virtual environment) to explore on a cluster."
            )
    relpath = str(workflow.resolve().relative_to(root))
    found.setdefault(relpath, workflow.read_text(encoding="utf-8", errors="surrogateescape"))
    return tuple(sorted(found.items()))


def _settings(settings: Settings) -> tuple[tuple[str, Any], ...]:
    return tuple(
        (f.name, getattr(settings, f.name)) for f in fields(settings) if f.name not in _LOCAL_ONLY
    )


def _data_files(root: Path, version: Version, hasher: FileHasher) -> tuple[DataFile, ...]:
    """The data files of every operator, folders expanded into the files they hold."""
    paths = sorted({p for digests in version.data.values() for p in digests})
    found: dict[str, DataFile] = {}
    for path in paths:
        local = Path(path) if os.path.isabs(path) else root / path
        members = sorted(p for p in local.rglob("*") if p.is_file()) if local.is_dir() else [local]
        for member in members:
            shown = str(member) if os.path.isabs(path) else str(member.relative_to(root))
            spec = _spec(shown, member, hasher)
            if spec is not None:
                found[shown] = spec
    return tuple(found[p] for p in sorted(found))


def _spec(shown: str, path: Path, hasher: FileHasher) -> DataFile | None:
    try:
        stat = path.stat()
    except OSError:
        return None  # a missing file: the version's digest says so, nothing to ship
    digest = hasher.digest(path)
    if digest == MISSING:
        return None
    return DataFile(shown, str(path.resolve()), stat.st_size, stat.st_mtime_ns, digest)


def sees(spec: DataFile, hasher: FileHasher | None = None) -> bool:
    """Does this machine see the very file `spec` describes at the same absolute path?
    Size and mtime agreeing is taken as yes (a shared file system); when only the mtime
    differs (a copy), the content decides."""
    try:
        stat = os.stat(spec.local)
    except OSError:
        return False
    if stat.st_size != spec.size or not os.path.isfile(spec.local):
        return False
    if stat.st_mtime_ns == spec.mtime_ns:
        return True
    return (hasher or FileHasher()).digest(Path(spec.local)) == spec.digest
