"""Unit tests of the pieces behind fingerprints: normalised code, stable value texts, free
names, literal knobs, file digests and the audit hook that finds files sources open.
"""

from __future__ import annotations

import ast
import enum
import math
import os
import sys
import textwrap
import threading
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

import pytest

from ghostrun.workflow.datafiles import MISSING, FileHasher, data_digests, record_opened_files
from ghostrun.workflow.dependencies import free_names
from ghostrun.workflow.hashing import hash_parts, stable_repr, to_jsonable
from ghostrun.workflow.knobs import _NOT_LITERAL, _literal
from ghostrun.workflow.normalize import (
    KNOB_PLACEHOLDER,
    dump,
    normalized_operator,
    normalized_statement,
    strip_docstrings,
)

from ._project import Project


def _node(source: str) -> ast.stmt:
    return ast.parse(textwrap.dedent(source)).body[0]


# --- normalize ----------------------------------------------------------------------------

BASE_FUNC = '''
@gr.op
def features(raw, min_count=20):
    """Drop rare columns."""
    frame = raw.drop(columns=["y"])  # no label
    return frame.loc[:, frame.nunique() >= min_count]
'''


@dataclass(frozen=True)
class NormCase:
    id: str
    other: str
    same: bool


NORM_CASES = [
    NormCase(
        "comments and blank lines",
        BASE_FUNC.replace("# no label", "# the label leaks").replace(
            "    return", "\n    # keep\n    return"
        ),
        True,
    ),
    NormCase("docstring edited", BASE_FUNC.replace("Drop rare columns.", "Other words."), True),
    NormCase("docstring removed", BASE_FUNC.replace('    """Drop rare columns."""\n', ""), True),
    NormCase(
        "quotes and line breaks",
        BASE_FUNC.replace('columns=["y"]', "columns=[\n        'y',\n    ]"),
        True,
    ),
    NormCase("operator renamed", BASE_FUNC.replace("def features(", "def feature_table("), True),
    NormCase("default edited (a knob, hashed apart)", BASE_FUNC.replace("=20", "=50"), True),
    NormCase("body edited", BASE_FUNC.replace(">= min_count", "> min_count"), False),
    NormCase(
        "parameter renamed",
        BASE_FUNC.replace("(raw,", "(frame_in,").replace("raw.drop", "frame_in.drop"),
        False,
    ),
    NormCase("decorator edited", BASE_FUNC.replace("@gr.op", "@gr.source"), False),
    NormCase("string literal edited", BASE_FUNC.replace('["y"]', '["z"]'), False),
    NormCase("number literal edited", BASE_FUNC.replace("[:, frame", "[1:, frame"), False),
]


@pytest.mark.parametrize("case", NORM_CASES, ids=[c.id for c in NORM_CASES])
def test_normalized_operator(case: NormCase) -> None:
    base = normalized_operator(_node(BASE_FUNC), [])  # type: ignore[arg-type]
    other = normalized_operator(_node(case.other), [])  # type: ignore[arg-type]
    assert (base == other) is case.same


def test_normalized_operator_masks_knob_nodes() -> None:
    def masked(source: str) -> str:
        node = _node(source)
        call = next(n for n in ast.walk(node) if isinstance(n, ast.Call))
        return normalized_operator(node, [call.keywords[0].value])  # type: ignore[arg-type]

    one = masked("def m(split):\n    return Est(num_leaves=31, lr=0.1)\n")
    two = masked("def m(split):\n    return Est(num_leaves=63, lr=0.1)\n")
    three = masked("def m(split):\n    return Est(num_leaves=63, lr=0.2)\n")
    assert one == two != three
    assert KNOB_PLACEHOLDER in one


def test_strip_docstrings_everywhere() -> None:
    tree = ast.parse(
        textwrap.dedent('''
        """Module."""
        class A:
            """Class."""
            def f(self):
                """Method."""
        def g():
            """Only a docstring."""
    ''')
    )
    text = dump(strip_docstrings(tree))
    for word in ("Module.", "Class.", "Method.", "Only a docstring."):
        assert word not in text
    assert "Pass" in text  # a body left empty keeps a `pass`


def test_strip_docstrings_keeps_non_leading_strings() -> None:
    text = normalized_statement(_node('def f():\n    x = 1\n    "not a docstring"\n'))
    assert "not a docstring" in text


def test_normalized_statement_does_not_mutate_its_input() -> None:
    node = _node('def f():\n    """Doc."""\n    return 1\n')
    normalized_statement(node)
    assert isinstance(node.body[0], ast.Expr)  # type: ignore[attr-defined]


def test_dump_has_no_positions() -> None:
    assert dump(_node("x = 1")) == dump(_node("x   =   1  # comment"))
    assert "lineno" not in dump(_node("x = 1"))


# --- hashing.stable_repr ------------------------------------------------------------------


class Color(enum.Enum):
    RED = 1
    ALSO_RED = 2


@pytest.mark.parametrize(
    ("a", "b"),
    [
        (1, 1.0),
        (1, True),
        (0, False),
        (1, "1"),
        (1.0, True),
        (None, "None"),
        (None, 0),
        ((1, 2), [1, 2]),
        ([1, 2], [2, 1]),
        ({1, 2}, [1, 2]),
        ({"a": 1}, {"a": 1.0}),
        ({"1": 1}, {1: 1}),
        (0.0, -0.0),
        ("data/x.csv", PurePosixPath("data/x.csv")),
        (b"x", "x"),
        (Color.RED, Color.ALSO_RED),
        (Color.RED, 1),
        (10**20, float(10**20)),
    ],
    ids=repr,
)
def test_stable_repr_tells_apart(a: Any, b: Any) -> None:
    assert stable_repr(a) != stable_repr(b)


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ({"a": 1, "b": (2, 3)}, {"b": (2, 3), "a": 1}),
        ({3, 1, 2}, {2, 3, 1}),
        (frozenset({"x", "y"}), frozenset({"y", "x"})),
        (float("nan"), float("nan")),
        ({"k": {"z": 1, "y": 2}}, {"k": {"y": 2, "z": 1}}),
    ],
    ids=repr,
)
def test_stable_repr_equal_for_equal_values(a: Any, b: Any) -> None:
    assert stable_repr(a) == stable_repr(b)


def test_stable_repr_is_deterministic_text() -> None:
    """Persistent: no `hash()`, no memory addresses."""
    assert stable_repr(1) == '{"int":"1"}'
    assert stable_repr((1, "a")) == '{"tuple":[{"int":"1"},"a"]}'
    assert stable_repr(math.inf) == '{"float":"inf"}'
    assert "0x" not in stable_repr(object())
    assert hash_parts("ab", "c") != hash_parts("a", "bc")


def test_to_jsonable_is_stable_and_keeps_tuples() -> None:
    """Snapshot knob values are compared across processes to report knob changes."""

    def local(v: int) -> int:
        return v

    assert to_jsonable((64, [32, (1, 2)])) == (64, [32, (1, 2)])
    assert type(to_jsonable((1,))) is tuple
    assert "0x" not in to_jsonable(local)
    assert to_jsonable(local) == to_jsonable(local)
    assert to_jsonable(math.nan) == "nan"
    assert to_jsonable({"b", "a", "c"}) == "{'a', 'b', 'c'}"
    assert to_jsonable(int) == "<class builtins.int>"


# --- dependencies.free_names ---------------------------------------------------------------


@dataclass(frozen=True)
class NamesCase:
    id: str
    source: str
    expected: dict[str, set[str]]


NAMES_CASES = [
    NamesCase(
        "attributes read on a module",
        "def f(x):\n    return np.mean(x) + np.random.rand()\n",
        {"np": {"mean", "random"}},
    ),
    NamesCase(
        "bare use and attribute",
        "def f(x):\n    return helpers.g(helpers)\n",
        {"helpers": {"", "g"}},
    ),
    NamesCase(
        "parameters and locals are not global", "def f(x, y=1):\n    z = x + y\n    return z\n", {}
    ),
    NamesCase(
        "builtins are reported (resolved later)", "def f(x):\n    return len(x)\n", {"len": {""}}
    ),
    NamesCase(
        "defaults, annotations and decorators read outside",
        "@gr.op\ndef f(x: pd.DataFrame, k=LIMIT) -> T:\n    return x\n",
        {"gr": {"op"}, "pd": {"DataFrame"}, "LIMIT": {""}, "T": {""}},
    ),
    NamesCase(
        "lambda parameter hides the global only inside",
        "def f(x):\n    g = lambda SCALE: SCALE + 1\n    return g(x) * SCALE\n",
        {"SCALE": {""}},
    ),
    NamesCase(
        "comprehension variable hides the global only inside",
        "def f(x):\n    a = [K for K in x]\n    return a, K\n",
        {"K": {""}},
    ),
    NamesCase(
        "first iterable of a comprehension is read outside",
        "def f():\n    return [v for v in ROWS if v > LIMIT]\n",
        {"ROWS": {""}, "LIMIT": {""}},
    ),
    NamesCase(
        "nested def binds its name; its body reads globals",
        "def f(x):\n    def inner(v):\n        return v * FACTOR\n    return inner(x)\n",
        {"FACTOR": {""}},
    ),
    NamesCase(
        "nested def parameter hides only inside",
        "def f(x):\n    def inner(OFFSET):\n        return OFFSET\n    return inner(x) + OFFSET\n",
        {"OFFSET": {""}},
    ),
    NamesCase(
        "class body names are invisible to its methods",
        "class C:\n    A = 1\n    def m(self):\n        return A + C.B\n",
        {"A": {""}},
    ),
    NamesCase(
        "global declaration makes an assignment a global",
        "def f():\n    global COUNT\n    COUNT = 1\n",
        {"COUNT": {""}},
    ),
    NamesCase(
        "import inside a function binds locally",
        "def f():\n    import numpy as np\n    return np.zeros(1)\n",
        {},
    ),
    NamesCase(
        "except-as binds",
        "def f():\n    try:\n        pass\n    except Err as e:\n        return e\n",
        {"Err": {""}},
    ),
    NamesCase(
        "walrus in a comprehension binds in the function",
        "def f(x):\n    any((y := v) for v in x)\n    return y\n",
        {"any": {""}},
    ),
    NamesCase(
        "module-level assignment reads its right side",
        "TABLE = {k: helper(k) for k in KEYS}\n",
        {"helper": {""}, "KEYS": {""}},
    ),
]


@pytest.mark.parametrize("case", NAMES_CASES, ids=[c.id for c in NAMES_CASES])
def test_free_names(case: NamesCase) -> None:
    assert free_names(_node(case.source)) == case.expected


# --- knobs._literal -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("31", 31),
        ("-1", -1),
        ("-0.05", -0.05),
        ("+2", 2),
        ("- 3", -3),
        ("-(4)", -4),
        ("--1", 1),
        ("1e-3", 0.001),
        ("True", True),
        ("False", False),
        ("'saga'", "saga"),
        ("''", ""),
        ("-True", _NOT_LITERAL),
        ("None", _NOT_LITERAL),
        ("n", _NOT_LITERAL),
        ("-n", _NOT_LITERAL),
        ("1 + 2", _NOT_LITERAL),
        ("[1]", _NOT_LITERAL),
        ("(1, 2)", _NOT_LITERAL),
        ("b'x'", _NOT_LITERAL),
        ("1j", _NOT_LITERAL),
        ("-'a'", _NOT_LITERAL),
        ("f'{x}'", _NOT_LITERAL),
    ],
)
def test_literal(source: str, expected: Any) -> None:
    value = _literal(ast.parse(source, mode="eval").body)
    if expected is _NOT_LITERAL:
        assert value is _NOT_LITERAL
    else:
        assert (value, type(value)) == (expected, type(expected))


# --- datafiles.FileHasher -----------------------------------------------------------------


class CountingCache:
    """A DigestCache that remembers digests and counts lookups and stores: a store means
    the file was read and hashed."""

    def __init__(self) -> None:
        self.digests: dict[tuple[str, int, int], str] = {}
        self.lookups = 0
        self.stores = 0

    def cached_file_hash(self, path: str, size: int, mtime_ns: int) -> str | None:
        self.lookups += 1
        return self.digests.get((path, size, mtime_ns))

    def remember_file_hash(self, path: str, size: int, mtime_ns: int, digest: str) -> None:
        self.stores += 1
        self.digests[(path, size, mtime_ns)] = digest


def _set_mtime(path: Path, seconds: float) -> None:
    ns = int(seconds * 1e9)
    os.utime(path, ns=(ns, ns))


@pytest.fixture
def data_file(tmp_path: Path) -> Path:
    path = tmp_path / "train.csv"
    path.write_text("a,b\n1,2\n")
    _set_mtime(path, 1_700_000_000)
    return path


def test_file_hashed_once_then_served_from_cache(data_file: Path) -> None:
    cache = CountingCache()
    first = FileHasher(cache).digest(data_file)
    assert (cache.lookups, cache.stores) == (1, 1)
    hasher = FileHasher(cache)
    assert hasher.digest(data_file) == first
    assert (cache.lookups, cache.stores) == (2, 1)  # a new hasher asks, does not re-read
    assert hasher.digest(data_file) == first
    assert (cache.lookups, cache.stores) == (2, 1)  # the same hasher does not even ask


def test_file_rehashed_when_mtime_moves_same_content(data_file: Path) -> None:
    cache = CountingCache()
    first = FileHasher(cache).digest(data_file)
    _set_mtime(data_file, 1_700_000_100)
    assert FileHasher(cache).digest(data_file) == first
    assert cache.stores == 2


def test_file_rehashed_when_content_and_size_change(data_file: Path) -> None:
    cache = CountingCache()
    hasher = FileHasher(cache)
    first = hasher.digest(data_file)
    data_file.write_text("a,b\n1,2\n3,4\n")
    _set_mtime(data_file, 1_700_000_000)  # same mtime: the size alone tells
    assert hasher.digest(data_file) != first
    assert cache.stores == 2


def test_file_not_rehashed_when_size_and_mtime_are_unchanged(data_file: Path) -> None:
    """The documented trade-off: size and mtime are trusted, content is not re-read."""
    cache = CountingCache()
    first = FileHasher(cache).digest(data_file)
    data_file.write_text("a,b\n9,9\n")  # same size
    _set_mtime(data_file, 1_700_000_000)
    assert FileHasher(cache).digest(data_file) == first
    assert cache.stores == 1


def test_file_digest_is_by_content_not_name(tmp_path: Path, data_file: Path) -> None:
    twin = tmp_path / "twin.csv"
    twin.write_bytes(data_file.read_bytes())
    other = tmp_path / "other.csv"
    other.write_text("a,b\n1,3\n")
    hasher = FileHasher()
    assert hasher.digest(twin) == hasher.digest(data_file) != hasher.digest(other)


def test_missing_file_and_folder_digests(tmp_path: Path) -> None:
    hasher = FileHasher()
    assert hasher.digest(tmp_path / "nope.csv") == MISSING
    folder = tmp_path / "parts"
    folder.mkdir()
    (folder / "a.csv").write_text("1\n")
    empty = FileHasher().digest(folder)
    (folder / "sub").mkdir()
    (folder / "sub" / "b.csv").write_text("2\n")
    with_b = FileHasher().digest(folder)
    (folder / "sub" / "b.csv").write_text("3\n")
    changed = FileHasher().digest(folder)
    (folder / "sub" / "b.csv").rename(folder / "sub" / "c.csv")
    renamed = FileHasher().digest(folder)
    assert len({empty, with_b, changed, renamed}) == 4


def test_data_digests_include_opened_and_absolute_globs(project: Project, tmp_path: Path) -> None:
    """Files outside the project: an absolute `files=` glob is allowed (shared data)."""
    shared = tmp_path / "shared"
    shared.mkdir()
    (shared / "a.csv").write_text("x\n1\n")
    workflow = project.load(
        {
            "pipeline.py": f'''
            import ghostrun as gr

            @gr.source(files=["{shared}/*.csv", "data/*.csv"])
            def raw():
                return 1
        ''',
            "data/local.csv": "y\n2\n",
            "data/seen.csv": "z\n3\n",
        }
    )
    digests = data_digests(workflow.operators["raw"], project.root, ["data/seen.csv"], FileHasher())
    assert set(digests) == {str(shared / "a.csv"), "data/local.csv", "data/seen.csv"}
    assert MISSING not in digests.values()


# --- datafiles.record_opened_files --------------------------------------------------------


@pytest.fixture
def files(tmp_path: Path) -> dict[str, Path]:
    root = tmp_path / "project"
    (root / "data").mkdir(parents=True)
    (root / ".ghostrun").mkdir()
    outside = tmp_path / "outside.csv"
    outside.write_text("o\n")
    paths = {
        "root": root,
        "read": root / "data" / "read.csv",
        "bytes": root / "data" / "bytes.bin",
        "os": root / "data" / "os.txt",
        "written": root / "data" / "written.csv",
        "rw": root / "data" / "rw.csv",
        "appended": root / "data" / "appended.csv",
        "code": root / "helpers.py",
        "state": root / ".ghostrun" / "state.json",
        "outside": outside,
    }
    for name, path in paths.items():
        if name != "root" and not path.exists():
            path.write_text(f"{name}\n")
    return paths


def test_record_opened_files(files: dict[str, Path]) -> None:
    root = files["root"]
    with record_opened_files(root) as opened:
        files["read"].read_text()
        with open(files["bytes"], "rb") as f:
            f.read()
        os.close(os.open(files["os"], os.O_RDONLY))
        files["written"].write_text("new\n")
        with open(files["appended"], "a") as f:
            f.write("more\n")
        with open(files["rw"], "r+") as f:  # read-write: a write, not a data input
            f.read()
        os.close(os.open(files["appended"], os.O_WRONLY))
        files["code"].read_text()
        files["state"].read_text()
        files["outside"].read_text()
        assert opened == []  # filled in when the block ends
    assert opened == ["data/bytes.bin", "data/os.txt", "data/read.csv"]


def test_record_opened_files_relative_paths_are_project_relative(
    files: dict[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(files["root"])
    with record_opened_files(files["root"]) as opened:
        Path("data/read.csv").read_text()
    assert opened == ["data/read.csv"]


def test_nothing_recorded_outside_the_block(files: dict[str, Path]) -> None:
    with record_opened_files(files["root"]) as opened:
        pass
    files["read"].read_text()
    assert opened == []


def test_nested_and_concurrent_recordings_are_separate(files: dict[str, Path]) -> None:
    root = files["root"]
    seen_in_thread: list[str] = []

    def other_thread() -> None:
        with record_opened_files(root) as opened:
            files["os"].read_text()
        seen_in_thread.extend(opened)

    with record_opened_files(root) as outer:
        files["read"].read_text()
        with record_opened_files(root) as inner:
            files["bytes"].read_bytes()
        worker = threading.Thread(target=other_thread)
        worker.start()
        worker.join(timeout=30)
    assert inner == ["data/bytes.bin"]
    assert outer == ["data/read.csv"]
    assert seen_in_thread == ["data/os.txt"]


def test_project_inside_the_interpreter_prefix_is_still_recorded(
    files: dict[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Python in /usr/local and the project in /usr/local/app (a common Docker layout)."""
    monkeypatch.setattr(sys, "prefix", str(files["root"].parent))
    with record_opened_files(files["root"]) as opened:
        files["read"].read_text()
    assert opened == ["data/read.csv"]


def test_interpreter_files_inside_the_project_are_not_data(
    files: dict[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A virtual environment inside the project folder."""
    venv = files["root"] / "env"
    (venv / "lib").mkdir(parents=True)
    (venv / "lib" / "table.csv").write_text("t\n")
    monkeypatch.setattr(sys, "prefix", str(venv))
    with record_opened_files(files["root"]) as opened:
        (venv / "lib" / "table.csv").read_text()
        files["read"].read_text()
    assert opened == ["data/read.csv"]
