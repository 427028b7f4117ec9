"""Fixtures for the workflow tests: a throw-away project folder per test.

Workflow modules are imported under their file stem (`pipeline`, `helpers`), so after each
test the modules and `sys.path` entries of its folder are dropped: the next test's
`import helpers` must find its own file, not this one.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from ._project import Project


@pytest.fixture
def project(tmp_path: Path) -> Project:
    root = tmp_path / "project"
    root.mkdir()
    return Project(root)


@pytest.fixture(autouse=True)
def _forget_test_modules(tmp_path: Path) -> Iterator[None]:
    yield
    folder = str(tmp_path.resolve())
    for name, module in list(sys.modules.items()):
        file = getattr(module, "__file__", None) or ""
        if file.startswith(folder):
            del sys.modules[name]
    sys.path[:] = [p for p in sys.path if not p.startswith(folder)]
