"""Importing the user's workflow module fresh, with errors that name file and line.

Each load re-imports the workflow and every project-local module it uses, so an edit to a
helper module is seen by a long-lived process too. The module keeps its own name (e.g.
`pipeline`) so objects defined in it can be pickled and unpickled by reference.
"""

from __future__ import annotations

import importlib.abc
import importlib.machinery
import importlib.util
import sys
from collections.abc import Sequence
from pathlib import Path
from types import CodeType, ModuleType

from ghostrun.errors import WorkflowError
from ghostrun.workflow.dependencies import is_project_file, project_frames
from ghostrun.workflow.hashing import hash_parts

# Folders ghostrun put on sys.path. sys.path is process-global, so this record of our
# own additions is too: it lets a process that loads another project (tests, tools) take
# the previous project's folders and modules out instead of importing stale ones.
_ADDED_TO_PATH: list[str] = []


def forget_project_modules(root: Path) -> None:
    """Drop project modules from `sys.modules` so the next import reads them again."""
    for name, module in list(sys.modules.items()):
        if is_project_file(getattr(module, "__file__", None), root):
            del sys.modules[name]


def _use_folders(folders: list[str]) -> None:
    """Put this project's folders first on sys.path; retire other projects' folders."""
    for old in [f for f in _ADDED_TO_PATH if f not in folders]:
        forget_project_modules(Path(old))
        while old in sys.path:
            sys.path.remove(old)
        _ADDED_TO_PATH.remove(old)
    for folder in reversed(folders):
        if folder not in sys.path:
            sys.path.insert(0, folder)
            _ADDED_TO_PATH.append(folder)


def added_folders() -> tuple[str, ...]:
    """The `sys.path` entries ghostrun added (the rest is the interpreter's own)."""
    return tuple(_ADDED_TO_PATH)


def use_project_folders(path: Path, root: Path) -> None:
    """Make the project's modules importable the way a workflow import does."""
    _use_folders([str(path.parent), str(root)])


def import_workflow(path: Path, root: Path) -> ModuleType:
    if not path.is_file():
        raise WorkflowError(
            "no such workflow file; create it or point `workflow` in [tool.ghostrun] at it.",
            file=str(path),
        )
    forget_project_modules(root)
    use_project_folders(path, root)
    name = _module_name(path)
    loader = _FreshSourceLoader(name, str(path))
    spec = importlib.util.spec_from_file_location(name, path, loader=loader)
    if spec is None or spec.loader is None:
        raise WorkflowError("is not an importable Python file.", file=str(path))
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    finder = _ProjectFinder(root)
    sys.meta_path.insert(0, finder)
    try:
        spec.loader.exec_module(module)
    except SyntaxError as exc:
        del sys.modules[name]
        raise WorkflowError(
            f"invalid syntax ({exc.msg}); fix it and save again.",
            file=_display(exc.filename or str(path), root),
            line=exc.lineno,
        ) from None
    except BaseException as exc:  # noqa: BLE001 - any import-time failure is the user's
        del sys.modules[name]
        if isinstance(exc, KeyboardInterrupt):
            raise
        raise _import_error(exc, path, root) from None
    finally:
        sys.meta_path.remove(finder)
    return module


class _FreshSourceLoader(importlib.machinery.SourceFileLoader):
    """Compiles a project file from its current text, never from `__pycache__`.

    A cached .pyc is trusted when the source's mtime (in whole seconds) and size match, so
    two saves within one second that keep the size (`num_leaves=31` → `63`) would import
    the old code while the fingerprint, read from the new text, says the new one.
    """

    source: bytes | None = None  # what the module was compiled from, once it was

    def get_code(self, fullname: str) -> CodeType:
        path = self.get_filename(fullname)
        self.source = self.get_data(path)
        return self.source_to_code(self.source, path)


def executed_source(module: ModuleType) -> bytes | None:
    """The exact bytes a project module imported by ghostrun was compiled from (the file
    may have changed since)."""
    loader = getattr(module, "__loader__", None)
    return loader.source if isinstance(loader, _FreshSourceLoader) else None


class _ProjectFinder(importlib.abc.MetaPathFinder):
    """While a workflow imports, loads project modules with `_FreshSourceLoader`."""

    def __init__(self, root: Path):
        self.root = root

    def find_spec(
        self, fullname: str, path: Sequence[str] | None = None, target: ModuleType | None = None
    ) -> importlib.machinery.ModuleSpec | None:
        spec = importlib.machinery.PathFinder.find_spec(fullname, path)
        if spec is None or type(spec.loader) is not importlib.machinery.SourceFileLoader:
            return None
        if not is_project_file(spec.origin, self.root):
            return None
        spec.loader = _FreshSourceLoader(fullname, str(spec.origin))
        return spec


def _module_name(path: Path) -> str:
    """The file's stem, unless that would shadow an installed or standard module."""
    stem = path.stem
    existing = sys.modules.get(stem)
    clashes = stem in sys.stdlib_module_names or (
        existing is not None
        and not is_project_file(getattr(existing, "__file__", None), path.parent)
    )
    if not stem.isidentifier() or clashes:
        return f"ghostrun_workflow_{hash_parts(str(path.resolve()))[:8]}"
    return stem


def _import_error(exc: BaseException, path: Path, root: Path) -> WorkflowError:
    frames = project_frames(exc, root)
    where = frames[-1] if frames else None
    return WorkflowError(
        f"importing the workflow raised {type(exc).__name__}: {exc}; "
        "fix the module-level code so that the file imports.",
        file=_display(where.filename if where else str(path), root),
        line=where.lineno if where else None,
    )


def _display(filename: str, root: Path) -> str:
    try:
        return str(Path(filename).resolve().relative_to(root.resolve()))
    except ValueError:
        return filename
