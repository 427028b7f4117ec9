"""Code on demand for a quick-loaded workflow.

A quick load rebuilds the operators from the record without importing the workflow, so
their functions are stand-ins. The first time anything needs real code (an operator must
be computed, an overlay recompiles one, a cached pickle refers to a class defined in the
project), the workflow is imported the normal way, once, and checked against what the
quick load vouched for: every operator must have the same definition (code fingerprint,
knobs, inputs, options). If it does not, the files changed in between, and the run stops
instead of storing results under a key that no longer describes them.
"""

from __future__ import annotations

import importlib.abc
import importlib.machinery
import importlib.util
import sys
from collections.abc import Callable, Collection, Sequence
from pathlib import Path
from types import ModuleType
from typing import Any

from ghostrun.errors import GhostrunError
from ghostrun.workflow.graph import Workflow
from ghostrun.workflow.hashing import stable_repr
from ghostrun.workflow.types import Operator


class WorkflowChangedError(GhostrunError):
    """The workflow's files changed between the quick load and the import of its code."""

    exit_code = 1


def definition(op: Operator) -> tuple[Any, ...]:
    """What must be equal for two operators to compute the same thing under one key."""
    knobs = tuple(
        (k.name, stable_repr(k.value), k.implicit, k.is_data, k.range, k.estimator)
        for k in op.knobs
    )
    deps = tuple(sorted(op.deps.items()))
    return (op.name, op.kind, op.inputs, op.code_hash, deps, knobs, op.source_options,
            op.metric_options)  # fmt: skip


def workflow_definition(workflow: Workflow) -> tuple[Any, ...]:
    ops = tuple(definition(op) for op in workflow.operators.values())
    return (workflow.primary, workflow.goal, workflow.hamilton_style, ops)


class CodeOnDemand:
    """Imports the real workflow once, when first needed, and checks it.

    Responsibilities: hold the load function and the expected definition; import and
    verify on first use; optionally trigger that import when a project module is imported
    by name (unpickling a project class).
    """

    def __init__(self, load: Callable[[], Workflow]):
        self._load = load
        self._expected: tuple[Any, ...] | None = None
        self._real: Workflow | None = None
        self._trigger: _ImportTrigger | None = None

    def expect(self, workflow: Workflow) -> None:
        self._expected = workflow_definition(workflow)

    @property
    def loaded(self) -> bool:
        return self._real is not None

    def workflow(self) -> Workflow:
        if self._real is None:
            self.close()
            real = self._load()
            if workflow_definition(real) != self._expected:
                raise WorkflowChangedError(
                    "the workflow's files changed while ghostrun was loading them; "
                    "save again (or rerun) to run the new version."
                )
            self._real = real
        return self._real

    def function(self, name: str) -> LazyFunction:
        return LazyFunction(self, name)

    def watch_imports(self, names: Collection[str], root: Path) -> None:
        """Import the real code first when one of the project's modules is imported."""
        self.close()
        self._trigger = _ImportTrigger(self, frozenset(names), root)
        sys.meta_path.insert(0, self._trigger)

    def close(self) -> None:
        if self._trigger is not None:
            if self._trigger in sys.meta_path:
                sys.meta_path.remove(self._trigger)
            self._trigger = None


class LazyFunction:
    """Stands in for an operator's function until its real code is needed."""

    __slots__ = ("_code", "_name")

    def __init__(self, code: CodeOnDemand, name: str):
        self._code = code
        self._name = name

    def real(self) -> Callable[..., Any]:
        return self._code.workflow().operators[self._name].func

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self.real()(*args, **kwargs)

    def __getattr__(self, attr: str) -> Any:
        return getattr(self.real(), attr)

    def __repr__(self) -> str:
        return f"<operator {self._name!r}, code not imported yet>"


def real_workflow(workflow: Workflow) -> Workflow:
    """The workflow with its real functions (imported now if it was quick-loaded)."""
    for op in workflow.operators.values():
        if isinstance(op.func, LazyFunction):
            return op.func._code.workflow()
    return workflow


class _ImportTrigger(importlib.abc.MetaPathFinder):
    """Serves an import of a project module (e.g. by `pickle`) from the verified import
    of the whole workflow, so it gets the same fresh modules a normal load would."""

    def __init__(self, code: CodeOnDemand, names: frozenset[str], root: Path):
        self.code = code
        self.names = names
        self.root = root.resolve()

    def find_spec(
        self, fullname: str, path: Sequence[str] | None = None, target: ModuleType | None = None
    ) -> importlib.machinery.ModuleSpec | None:
        if fullname not in self.names:
            return None
        spec = importlib.machinery.PathFinder.find_spec(fullname, path)
        origin = spec.origin if spec is not None else None
        if origin is None or not Path(origin).resolve().is_relative_to(self.root):
            return None
        self.code.workflow()  # removes this finder, imports every project module afresh
        module = sys.modules.get(fullname)
        if module is None:
            return None
        return importlib.util.spec_from_loader(fullname, _Loaded(module))


class _Loaded(importlib.abc.Loader):
    def __init__(self, module: ModuleType):
        self.module = module

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> ModuleType:
        return self.module

    def exec_module(self, module: ModuleType) -> None:
        return None
