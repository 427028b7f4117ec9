"""Importing the user's workflow module fresh, with errors that name file and line.

Each load re-imports the workflow and every project-local module it uses, so an edit to a
helper module is seen by a long-lived process too. The module keeps its own name (e.g.
`pipeline`) so objects defined in it can be pickled and unpickled by reference.
"""

from __future__ import annotations

import importlib.util
import sys
import traceback
from pathlib import Path
from types import ModuleType

from ghostrun.errors import WorkflowError
from ghostrun.workflow.dependencies import is_project_file
from ghostrun.workflow.hashing import hash_parts


def forget_project_modules(root: Path) -> None:
    """Drop project modules from `sys.modules` so the next import reads them again."""
    for name, module in list(sys.modules.items()):
        if is_project_file(getattr(module, "__file__", None), root):
            del sys.modules[name]


def import_workflow(path: Path, root: Path) -> ModuleType:
    if not path.is_file():
        raise WorkflowError(
            "no such workflow file; create it or point `workflow` in [tool.ghostrun] at it.",
            file=str(path),
        )
    forget_project_modules(root)
    for folder in (str(path.parent), str(root)):
        if folder not in sys.path:
            sys.path.insert(0, folder)
    name = _module_name(path)
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise WorkflowError("is not an importable Python file.", file=str(path))
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
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
    return module


def _module_name(path: Path) -> str:
    """The file's stem, unless that would shadow an installed or standard module."""
    stem = path.stem
    existing = sys.modules.get(stem)
    clashes = stem in sys.stdlib_module_names or (
        existing is not None and not is_project_file(getattr(existing, "__file__", None), path.parent)
    )
    if not stem.isidentifier() or clashes:
        return f"ghostrun_workflow_{hash_parts(str(path.resolve()))[:8]}"
    return stem


def _import_error(exc: BaseException, path: Path, root: Path) -> WorkflowError:
    frames = [f for f in traceback.extract_tb(exc.__traceback__) if is_project_file(f.filename, root)]
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
