"""`ghostrun apply`: the source edits that turn the user's files into a variant.

The edit comes from the same engine as the overlay that was measured (`suggest.edits`),
so the applied file fingerprints exactly like the variant and its results are served
from the cache. A suggestion is refused when the code it touches moved on since it was
made: `check_current` compares the current fingerprints of the variant's operators with
those recorded with the suggestion.
"""

from __future__ import annotations

import difflib
import os
import tempfile
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from pathlib import Path

from ghostrun.errors import GhostrunError
from ghostrun.suggest.edits import VariantError, edit
from ghostrun.suggest.variant import Variant
from ghostrun.workflow.graph import Workflow
from ghostrun.workflow.ondemand import real_workflow
from ghostrun.workflow.sourcetext import read_text
from ghostrun.workflow.types import VersionSnapshot
from ghostrun.workflow.version import Version, build_version

RERUN = "run `ghostrun suggest` again"


class StaleSuggestion(GhostrunError):
    """The code a suggestion applies to changed since the suggestion was made."""


@dataclass(frozen=True)
class SourceEdit:
    path: Path  # absolute file to rewrite
    old_text: str
    new_text: str
    root: Path | None = None  # the project root, for the paths the diff shows

    @property
    def relpath(self) -> str:
        if self.root is not None and self.path.is_relative_to(self.root):
            return str(self.path.relative_to(self.root))
        return self.path.name

    def diff(self) -> str:
        """Unified diff, paths relative to the project root."""
        lines = difflib.unified_diff(
            self.old_text.splitlines(keepends=True),
            self.new_text.splitlines(keepends=True),
            fromfile=f"a/{self.relpath}",
            tofile=f"b/{self.relpath}",
        )
        return "".join(line if line.endswith("\n") else line + "\n" for line in lines)

    def write(self) -> None:
        """Atomically (temp file + rename); refuses if the file changed since it was read."""
        try:
            current = read_text(self.path)
        except OSError as exc:
            raise StaleSuggestion(f"cannot read {self.relpath} ({exc}); {RERUN}.") from None
        if current != self.old_text:
            raise StaleSuggestion(f"{self.relpath} changed while applying; {RERUN}.")
        mode = self.path.stat().st_mode & 0o7777
        fd, tmp = tempfile.mkstemp(dir=self.path.parent, prefix=f".{self.path.name}.")
        try:
            with os.fdopen(fd, "w", encoding="utf-8", newline="") as file:
                file.write(self.new_text)
                file.flush()
                os.fsync(file.fileno())
            os.chmod(tmp, mode)
            os.replace(tmp, self.path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise


def plan_edit(
    workflow: Workflow, variant: Variant, *, estimator_modules: Collection[str] | None = None
) -> list[SourceEdit]:
    """The source edits that turn the user's files into the variant (libcst, formatting
    kept; estimator swaps add the import). `workflow` is the version on disk."""
    workflow = real_workflow(workflow)
    path = workflow.path
    text = read_text(path)
    try:
        edited = edit(workflow, text, variant.parts, estimator_modules)
    except VariantError as exc:
        raise StaleSuggestion(
            f"{workflow.relpath} changed since this suggestion was made "
            f"({variant.describe()}: {exc.message}); {RERUN}."
        ) from None
    if edited.text == text:
        return []
    return [SourceEdit(path, text, edited.text, workflow.root)]


def check_current(
    current: Workflow | Version | VersionSnapshot,
    variant: Variant,
    base_fingerprints: Mapping[str, str],
) -> None:
    """Raise StaleSuggestion unless the operators `variant` touches still fingerprint as
    they did when the suggestion was made (`base_fingerprints`: op name → fingerprint)."""
    if isinstance(current, Workflow):
        current = build_version(current)
    if isinstance(current, Version):
        fingerprints = dict(current.fingerprints)
        file = current.workflow.relpath
    else:
        fingerprints = {name: op.fingerprint for name, op in current.ops.items()}
        file = next((op.file for op in current.ops.values()), "the workflow")
    for name in variant.ops:
        if name not in fingerprints:
            why = "no longer in the workflow"
        elif fingerprints[name] != base_fingerprints.get(name):
            why = "changed, or something it reads did"
        else:
            continue
        raise StaleSuggestion(
            f"{file} changed since this suggestion was made ({name}: {why}); {RERUN}."
        )
