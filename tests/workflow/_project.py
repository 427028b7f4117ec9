"""A throw-away project folder per test, with shortcuts to load and fingerprint it.

`project.snapshot(files)` writes files into the test's own folder, loads `pipeline.py`,
builds the version and returns its snapshot; that is all most tests need.
"""

from __future__ import annotations

import os
import textwrap
from collections.abc import Mapping, Sequence
from pathlib import Path

from ghostrun.workflow.datafiles import FileHasher
from ghostrun.workflow.graph import Workflow
from ghostrun.workflow.loader import LoadOptions, load_workflow
from ghostrun.workflow.types import VersionSnapshot
from ghostrun.workflow.version import Version, build_version

FileContent = str | bytes | None
"""Text (dedented), raw bytes, or None to delete the file."""


class Project:
    """A project folder under `tmp_path` with shortcuts to load and fingerprint it."""

    def __init__(self, root: Path):
        self.root = root

    def write(self, files: Mapping[str, FileContent]) -> None:
        """Write (or delete, for None) files; a rewritten file always gets a newer mtime,
        so "touched" is real even on file systems with coarse timestamps."""
        for relpath, content in files.items():
            path = self.root / relpath
            old_mtime = path.stat().st_mtime_ns if path.exists() else None
            if content is None:
                path.unlink(missing_ok=True)
                continue
            path.parent.mkdir(parents=True, exist_ok=True)
            if isinstance(content, bytes):
                path.write_bytes(content)
            else:
                path.write_text(textwrap.dedent(content), encoding="utf-8")
            if old_mtime is not None:
                newer = max(path.stat().st_mtime_ns, old_mtime + 2_000_000_000)
                os.utime(path, ns=(newer, newer))

    def load(
        self,
        files: Mapping[str, FileContent] | None = None,
        options: LoadOptions | None = None,
        workflow: str = "pipeline.py",
    ) -> Workflow:
        self.write(files or {})
        return load_workflow(self.root / workflow, self.root, options)

    def version(
        self,
        files: Mapping[str, FileContent] | None = None,
        opened: Mapping[str, Sequence[str]] | None = None,
        options: LoadOptions | None = None,
    ) -> Version:
        return build_version(self.load(files, options), FileHasher(), opened=opened)

    def snapshot(
        self,
        files: Mapping[str, FileContent] | None = None,
        opened: Mapping[str, Sequence[str]] | None = None,
        options: LoadOptions | None = None,
    ) -> VersionSnapshot:
        return self.version(files, opened, options).snapshot()
