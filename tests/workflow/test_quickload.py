"""The quick load (workflow/quickload.py): reuse the recorded version without importing.

The safety property, checked on every case of the change-classification table: after any
edit, the quick load either declines (None) or gives exactly the version a full load
gives (same id, fingerprints, cache keys, and the same snapshot: source text and lines
too). The cases whose edit changes nothing the code can see must be quick.
"""

from __future__ import annotations

import pickle
import sys
from collections.abc import Iterator, Mapping
from pathlib import Path

import pytest

from ghostrun.workflow.datafiles import FileHasher
from ghostrun.workflow.graph import Workflow
from ghostrun.workflow.importer import forget_project_modules
from ghostrun.workflow.loader import LoadOptions, load_workflow_with_sources
from ghostrun.workflow.ondemand import CodeOnDemand, WorkflowChangedError, real_workflow
from ghostrun.workflow.quickload import LoadContext, load_context, quick_version, remember
from ghostrun.workflow.version import Version, build_version

from ._project import FileContent, Project
from .test_change_cases import CASES, CENSUS, Case, edit, installed_versions, pipeline

# Edits that change nothing of the code: a quick load must reuse the version.
QUICK_CASES = {
    "comment-only edit",
    "docstring edits (operator, helper, module)",
    "whitespace and reformat edit",
    "reformat of an estimator call with implicit knobs",
    "comment in a project-local module",
    "data file touched, same content",
    "string default '.' is a knob, not the project folder as data",
    "data file found only through the audit hook touched",
    "file not matching the files= glob added",
    "undeclared data file not seen by the audit hook is invisible",
}


class Loads:
    """Full and quick loads of one project, recording as the session does."""

    def __init__(self, project: Project, opened: Mapping[str, tuple[str, ...]] | None = None):
        self.project = project
        self.root = project.root.resolve()
        self.path = self.root / "pipeline.py"
        self.record = self.root / "quickload.json"
        self.opened = dict(opened or {})
        self.codes: list[CodeOnDemand] = []

    def context(self) -> LoadContext:
        return load_context(self.path, self.root, LoadOptions())

    def full(self, files: Mapping[str, FileContent] | None = None) -> Version:
        self.project.write(files or {})
        context = self.context()
        workflow, sources = load_workflow_with_sources(self.path, self.root)
        version = build_version(workflow, FileHasher(), self.opened)
        remember(self.record, context, workflow, version, sources)
        return version

    def _import(self) -> Workflow:
        return load_workflow_with_sources(self.path, self.root)[0]

    def quick(self, files: Mapping[str, FileContent] | None = None) -> Version | None:
        """A quick load as a fresh process does it: no project module imported yet."""
        self.project.write(files or {})
        forget_project_modules(self.root)
        code = CodeOnDemand(self._import)
        self.codes.append(code)
        opened = self.opened
        return quick_version(self.record, self.context(), FileHasher(), lambda names: opened, code)

    def close(self) -> None:
        for code in self.codes:
            code.close()


@pytest.fixture
def loads(project: Project) -> Iterator[Loads]:
    made = Loads(project)
    yield made
    made.close()


def assert_same(quick: Version, full: Version) -> None:
    assert quick.version_id == full.version_id
    assert dict(quick.fingerprints) == dict(full.fingerprints)
    assert dict(quick.local_keys) == dict(full.local_keys)
    assert quick.env_hash == full.env_hash
    assert quick.snapshot() == full.snapshot()
    for name, op in full.workflow.operators.items():
        other = quick.workflow.operators[name]
        assert other.location == op.location, name
        assert other.source_text == op.source_text, name
        assert other.knobs == op.knobs, name
    assert quick.workflow.primary == full.workflow.primary
    assert dict(quick.workflow.packages) == dict(full.workflow.packages)


def _param(case: Case) -> object:
    return pytest.param(case, id=case.id)


@pytest.mark.parametrize("case", [_param(c) for c in CASES])
def test_quick_load_is_the_full_load_or_nothing(project: Project, case: Case) -> None:
    loads = Loads(project, case.opened)
    try:
        loads.full(case.before)
        with installed_versions(case.packages):
            quick = loads.quick(case.after)
            full = loads.full()
        if case.id in QUICK_CASES:
            assert quick is not None, "an edit that changes no code must load quickly"
        if quick is not None:
            assert_same(quick, full)
    finally:
        loads.close()


def test_the_quick_cases_exist() -> None:
    assert QUICK_CASES <= {c.id for c in CASES}


def test_nothing_is_imported_by_a_quick_load(loads: Loads) -> None:
    loads.full(CENSUS)
    quick = loads.quick(pipeline(("SEED = 7\n", "SEED = 7  # a comment\n")))
    assert quick is not None
    assert not {"pipeline", "helpers", "mathutil"} & set(sys.modules)


@pytest.mark.parametrize(
    "module_code",
    [
        "import os\nROWS = int(os.environ.get('ROWS', '10'))\n",
        "import time\nSTARTED = time.time()\n",
        "import pandas as pd\nTODAY = pd.Timestamp('today')\n",
        "def _make():\n    return 3\n\n\nN = _make()\n",
        "import pandas as pd\nT = pd.read_csv(__file__.replace('mathutil.py', 'data/a.csv'))\n",
        "try:\n    import xgboost\nexcept ImportError:\n    xgboost = None\n",
        "DESCRIPTION = __doc__\n",
    ],
    ids=["environment", "clock", "pandas clock", "project call", "file read", "try", "doc"],
)
def test_modules_whose_import_reads_more_than_their_text_are_not_recorded(
    loads: Loads, module_code: str
) -> None:
    files = dict(CENSUS)
    files["mathutil.py"] = str(CENSUS["mathutil.py"]) + "\n" + module_code
    files["data/a.csv"] = "x\n1\n"
    loads.full(files)
    assert loads.quick() is None
    assert not loads.record.exists()


def test_knob_values_json_cannot_give_back_are_not_recorded(loads: Loads) -> None:
    loads.full({**CENSUS, **pipeline(("test_size=0.25", "test_size=frozenset({0.25})"))})
    assert loads.quick() is None


def test_a_new_module_that_could_shadow_an_import_forces_a_full_load(loads: Loads) -> None:
    loads.full(CENSUS)
    assert loads.quick({"lightgbm.py": "X = 1\n"}) is None


def test_an_undo_finds_its_version_again(loads: Loads) -> None:
    first = loads.full(CENSUS)
    second = loads.full(pipeline(("num_leaves=31", "num_leaves=63")))
    assert second.version_id != first.version_id
    quick = loads.quick(pipeline(("SEED = 7\n", "SEED = 7  # back to 31 leaves\n")))
    assert quick is not None and quick.version_id == first.version_id


def test_comment_lines_move_operator_and_knob_locations(loads: Loads) -> None:
    loads.full(CENSUS)
    moved = pipeline(
        ("SEED = 7\n", "# one\n# two\nSEED = 7\n"),
        ("def model(split):\n", "def model(split):\n    # a comment above the estimators\n"),
    )
    quick = loads.quick(moved)
    assert quick is not None
    full = loads.full()
    assert_same(quick, full)
    model = quick.workflow.operators["model"]
    assert model.knob("LGBMClassifier.num_leaves").location.line == model.location.line + 2


def test_operator_code_is_imported_on_demand_and_checked(loads: Loads) -> None:
    loads.full(CENSUS)
    quick = loads.quick(pipeline(("SEED = 7\n", "SEED = 7  # a comment\n")))
    assert quick is not None
    assert "pipeline" not in sys.modules
    labels = quick.workflow.operators["labels"].func
    import pandas as pd

    frame = pd.DataFrame({"y": [0.2, 0.9]})
    assert list(labels(raw=frame)) == [0, 1]
    assert "pipeline" in sys.modules
    assert real_workflow(quick.workflow).operators["labels"].func.__name__ == "labels"


def test_code_changed_between_quick_load_and_import_stops_the_run(loads: Loads) -> None:
    loads.full(CENSUS)
    quick = loads.quick()
    assert quick is not None
    loads.project.write(pipeline(("THRESHOLD = 0.5", "THRESHOLD = 0.6")))
    with pytest.raises(WorkflowChangedError, match="changed while ghostrun was loading"):
        quick.workflow.operators["labels"].func(raw=None)


PICKLED_CLASS = '''\
"""A workflow whose output is an instance of a class it defines."""

from dataclasses import dataclass

import ghostrun as gr


@dataclass
class Pair:
    left: int
    right: int


@gr.source(sample=False)
def pair(n=3) -> Pair:
    return Pair(n, n + 1)
'''


def test_unpickling_a_project_class_imports_the_verified_code(loads: Loads) -> None:
    full = loads.full({"pipeline.py": PICKLED_CLASS})
    blob = pickle.dumps(full.workflow.operators["pair"].func())
    quick = loads.quick({"pipeline.py": PICKLED_CLASS.replace("    left", "    # l\n    left")})
    assert quick is not None
    value = pickle.loads(blob)
    assert (value.left, value.right) == (3, 4)
    code = sys.modules["pipeline"]
    assert type(value) is code.Pair
    assert real_workflow(quick.workflow).operators["pair"].func.__module__ == "pipeline"


def test_a_damaged_record_means_a_full_load(loads: Loads) -> None:
    loads.full(CENSUS)
    loads.record.write_text('{"records": [{"format": "ghostrun-quickload-1", "fixed": 3}]}')
    assert loads.quick() is None
    loads.record.write_text("not json")
    assert loads.quick() is None


def test_the_record_is_private(loads: Loads) -> None:
    loads.full(CENSUS)
    assert loads.record.stat().st_mode & 0o077 == 0


def test_data_edit_declines(loads: Loads, tmp_path: Path) -> None:
    loads.full(CENSUS)
    text = str(CENSUS["data/train.csv"])
    assert loads.quick({"data/train.csv": edit(text, ("0.5,1.0", "0.7,1.0"))}) is None
