"""The quick load: reuse the last recorded version without importing the workflow.

Importing a workflow imports what it imports (scikit-learn, LightGBM: a second or more),
only for the loader to find, after a comment-only edit, the version it already had. A
slow load therefore leaves a record (`.ghostrun/quickload.json`) of everything the
version's fingerprints were computed from, and the next fresh process checks the cheap
facts before importing anything:

- the same interpreter, `sys.path`, settings, and the same ghostrun fingerprinting code;
- every project module the load imported has the same normalised code (comments,
  docstrings and layout do not count; knob values do), and each one's import is a pure
  function of its text (`static_code`: no environment, clock or file reads at import);
- no module appeared or vanished in the project's folders (one could shadow an import);
- the same package versions: site folders untouched (installing anything changes their
  listing) and each recorded distribution at its recorded version, or else every version
  taken again the slow way and compared;
- the data files hash the same (as every load checks: size and mtime first).

Then the version is rebuilt from the record, fingerprinted again with today's data
digests, and used only if its id is the recorded one. On any doubt the caller loads the
slow way. The rebuilt operators import the real code on demand (`ondemand`).
"""

from __future__ import annotations

import ast
import contextlib
import copy
import json
import os
import sys
import tempfile
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from ghostrun.workflow._quickrecord import NotRecordable, operator_from_json, operator_to_json
from ghostrun.workflow.datafiles import FileHasher
from ghostrun.workflow.dependencies import AMBIENT_PACKAGES, dist_version, package_versions
from ghostrun.workflow.graph import Workflow
from ghostrun.workflow.hashing import hash_parts, stable_repr
from ghostrun.workflow.importer import added_folders, use_project_folders
from ghostrun.workflow.knobs import is_data_path
from ghostrun.workflow.loader import LoadOptions, LoadSources
from ghostrun.workflow.normalize import dump, strip_docstrings
from ghostrun.workflow.ondemand import CodeOnDemand
from ghostrun.workflow.static_code import impurity
from ghostrun.workflow.types import Knob, Operator
from ghostrun.workflow.version import CACHE_FORMAT, Version, build_version, environment_hash

QUICK_FORMAT = "ghostrun-quickload-1"
MAX_RECORDS = 4  # recent versions kept: an undo finds its version quickly too
_IMPORTABLE_SUFFIXES = (".py", ".pyc", ".pyw", ".so", ".pyd")

Opened = Callable[[Iterable[str]], Mapping[str, Sequence[str]]]


@dataclass(frozen=True)
class LoadContext:
    """What a load runs under, taken before anything is imported."""

    path: Path
    root: Path
    fixed: str  # interpreter, sys.path, settings, ghostrun's fingerprinting code
    site: Mapping[str, int | None]  # sys.path folders outside the project -> mtime


def load_context(path: Path, root: Path, options: LoadOptions) -> LoadContext:
    root = root.resolve()
    path = path.resolve()
    base = [p for p in sys.path if p not in added_folders()]
    fixed = hash_parts(
        QUICK_FORMAT,
        CACHE_FORMAT,
        _ghostrun_code(),
        sys.version,
        sys.executable,
        str(path),
        str(root),
        _options_token(options),
        *base,
    )
    site = {}
    for entry in base:
        folder = Path(os.path.abspath(entry or "."))
        if not folder.is_relative_to(root):
            site[str(folder)] = _mtime(folder)
    return LoadContext(path, root, fixed, site)


@cache
def _ghostrun_code() -> str:
    """Fingerprints depend on the workflow package's code: a ghostrun change reloads."""
    from ghostrun import __version__

    here = Path(__file__).resolve().parent
    parts = [f"{p.name}\0{p.read_text(encoding='utf-8')}" for p in sorted(here.glob("*.py"))]
    return hash_parts(__version__, *parts)


def _options_token(options: LoadOptions) -> str:
    inputs = dict(options.inputs) if options.inputs is not None else None
    modules = sorted(options.estimator_modules)
    return stable_repr([options.metric, options.goal, inputs, modules])


def _mtime(path: Path) -> int | None:
    try:
        return path.stat().st_mtime_ns
    except OSError:
        return None


# --- recording a slow load ----------------------------------------------------------------


def remember(
    file: Path, context: LoadContext, workflow: Workflow, version: Version, sources: LoadSources
) -> str | None:
    """Record a slow load for later quick loads; returns why it could not be (or None)."""
    try:
        record = _record(context, workflow, version, sources)
    except NotRecordable as exc:
        return str(exc)
    key = (record["fixed"], record["code"])
    kept = [r for r in _read(file) if (r.get("fixed"), r.get("code")) != key]
    _write(file, [record, *kept][:MAX_RECORDS])
    return None


def _record(
    context: LoadContext, workflow: Workflow, version: Version, sources: LoadSources
) -> dict[str, Any]:
    project = {name.split(".")[0] for name in sources.modules}
    code, files = {}, []
    for name, path in sorted(sources.modules.items()):
        resolved = path.resolve()
        if resolved.suffix != ".py" or not resolved.is_relative_to(context.root):
            raise NotRecordable(f"module {name} is not a project .py file")
        rel = str(resolved.relative_to(context.root))
        code[rel] = _executed_code(name, rel, sources, project)
        files.append(resolved)
    workflow_file = str(context.path.relative_to(context.root))
    if workflow_file not in code:
        raise NotRecordable("the workflow file was not among the imported modules")
    name = next(n for n, p in sources.modules.items() if p.resolve() == context.path)
    tree = sources.trees.get(name)
    if tree is None:
        raise NotRecordable("the workflow's code was not read")
    dists = {**workflow.packages, **package_versions(AMBIENT_PACKAGES)}
    return {
        "format": QUICK_FORMAT,
        "fixed": context.fixed,
        "site": dict(context.site),
        "code": code,
        "folders": _folders(context, files),
        "modules": sorted(sources.modules),
        "workflow_file": workflow_file,
        "walks": {name: _walk(tree, op) for name, op in workflow.operators.items()},
        "version_id": version.version_id,
        "env_hash": version.env_hash,
        "top_packages": sorted(sources.packages),
        "dists": dists,
        "workflow": {
            "primary": workflow.primary,
            "goal": workflow.goal,
            "packages": dict(workflow.packages),
            "hamilton_style": workflow.hamilton_style,
            "operators": [operator_to_json(op) for op in workflow.operators.values()],
        },
    }


def _executed_code(name: str, rel: str, sources: LoadSources, project: set[str]) -> str:
    """The normalised code a module was compiled from, checked to be what the fingerprints
    read too (a save during the load could make them differ) and pure at import."""
    source = sources.executed.get(name)
    if source is None:
        raise NotRecordable(f"{rel} was not imported by ghostrun")
    tree = _parse(source, rel)
    why = impurity(tree, project)
    if why is not None:
        raise NotRecordable(f"{rel}: {why}")
    digest = _hash_tree(tree)
    read = sources.trees.get(name)
    if read is not None and _hash_tree(copy.deepcopy(read)) != digest:
        raise NotRecordable(f"{rel} changed while it was loading")
    return digest


def _walk(tree: ast.Module, op: Operator) -> dict[str, Any]:
    """Where the operator's locations sit in its `def`: the line of every node in walk
    order, and per location (the operator "", each knob) the nodes it was taken from."""
    node = _top_def(tree, op.name)
    if node is None:
        raise NotRecordable(f"operator {op.name} is not a top-level def of the workflow file")
    node = strip_docstrings(copy.deepcopy(node))
    nodes = list(ast.walk(node))
    index = {id(n): i for i, n in enumerate(nodes)}
    anchors: dict[str, list[int]] = {"": [0]}
    defaults = _params_with_defaults(node)
    for knob in op.knobs:
        if knob.implicit:
            found = [index[id(v)] for v in _literal_arguments(nodes, knob)]
        else:
            found = [index[id(a)] for a in defaults if a.arg == knob.name] or [0]
        lines = {nodes[i].lineno for i in found}
        if lines != {knob.location.line}:
            raise NotRecordable(f"cannot place knob {knob.name} of {op.name} in the code")
        anchors[knob.name] = found
    return {"lines": [getattr(n, "lineno", None) for n in nodes], "anchors": anchors}


def _params_with_defaults(node: ast.FunctionDef) -> list[ast.arg]:
    """Parameters with a default (knobs); one without is an input or an external input,
    placed at the `def` line by the loader."""
    a = node.args
    positional = [*a.posonlyargs, *a.args]
    with_default = positional[len(positional) - len(a.defaults) :] if a.defaults else []
    keyword = [arg for arg, d in zip(a.kwonlyargs, a.kw_defaults, strict=True) if d is not None]
    return [*with_default, *keyword]


def _literal_arguments(nodes: list[ast.AST], knob: Knob) -> list[ast.expr]:
    """Keyword arguments in the code that may be this implicit knob's literal."""
    param = knob.name.split(".", 1)[-1]
    found = []
    for n in nodes:
        if isinstance(n, ast.keyword) and n.arg == param:
            try:
                value = ast.literal_eval(n.value)
            except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
                continue
            same = stable_repr(value) == stable_repr(knob.value)
            if same and n.value.lineno == knob.location.line:
                found.append(n.value)
    return found


def _parse(source: str | bytes, rel: str) -> ast.Module:
    try:
        return ast.parse(source, filename=rel)
    except (SyntaxError, ValueError) as exc:
        raise NotRecordable(f"{rel} does not parse: {exc}") from None


def _hash_tree(tree: ast.Module) -> str:
    """Normalised code of a whole file; strips docstrings from `tree` in place."""
    return hash_parts(dump(strip_docstrings(tree)))


def _folders(context: LoadContext, files: Iterable[Path]) -> dict[str, list[str]]:
    """Importable names in every folder a module of the project was found in (and the
    folders `sys.path` gets for the project): a new one there could shadow an import."""
    folders = {context.root, context.path.parent}
    for path in files:
        folders.update(p for p in path.parents if p.is_relative_to(context.root))
    return {str(f.relative_to(context.root)): _importable(f) for f in sorted(folders)}


def _importable(folder: Path) -> list[str]:
    try:
        with os.scandir(folder) as found:
            entries = list(found)
    except OSError:
        return []
    names = []
    for entry in entries:
        if entry.name.startswith(".") or entry.name == "__pycache__":
            continue
        if entry.name.endswith(_IMPORTABLE_SUFFIXES) or entry.is_dir():
            names.append(entry.name)
    return sorted(names)


def _read(file: Path) -> list[dict[str, Any]]:
    try:
        data = json.loads(file.read_text(encoding="utf-8"))
    except (OSError, ValueError, UnicodeDecodeError):
        return []
    records = data.get("records") if isinstance(data, dict) else None
    if not isinstance(records, list):
        return []
    return [r for r in records if isinstance(r, dict) and r.get("format") == QUICK_FORMAT]


def _write(file: Path, records: list[dict[str, Any]]) -> None:
    """Atomically (temp file + rename): a reader sees the old records or the new ones."""
    with contextlib.suppress(OSError):
        fd, temp = tempfile.mkstemp(dir=file.parent, prefix=f".{file.name}.", suffix=".tmp")
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as stream:
                json.dump({"records": records}, stream)
            os.replace(temp, file)
        finally:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(temp)


# --- the quick load -----------------------------------------------------------------------


def quick_version(
    file: Path,
    context: LoadContext,
    hasher: FileHasher,
    opened: Opened,
    code: CodeOnDemand,
) -> Version | None:
    """The recorded version if it provably still applies, else None (load the slow way).

    `code` imports the real workflow when something needs it; it is set up here."""
    texts: dict[str, bytes | None] = {}
    for record in _read(file):
        try:
            version = _try(record, context, hasher, opened, code, texts)
        except (AttributeError, KeyError, TypeError, ValueError, IndexError):
            version = None  # a record from another ghostrun build, or damaged
        if version is not None:
            return version
    return None


def _try(
    record: dict[str, Any],
    context: LoadContext,
    hasher: FileHasher,
    opened: Opened,
    code: CodeOnDemand,
    texts: dict[str, bytes | None],
) -> Version | None:
    if record["fixed"] != context.fixed:
        return None
    files = [context.root / rel for rel in record["code"]]
    if _folders(context, files) != record["folders"]:
        return None
    trees = _unchanged_code(record, context.root, texts)
    if trees is None:
        return None
    env_hash = _environment(record, context)
    if env_hash is None:
        return None
    workflow = _rebuild(record, context, trees, texts, code)
    if workflow is None:
        return None
    names = list(workflow.operators)
    version = build_version(workflow, hasher, opened(names), env_hash=env_hash)
    if version.version_id != record["version_id"]:
        return None
    use_project_folders(context.path, context.root)
    code.watch_imports(record["modules"], context.root)
    return version


def _unchanged_code(
    record: dict[str, Any], root: Path, texts: dict[str, bytes | None]
) -> dict[str, ast.Module] | None:
    trees = {}
    for rel, expected in record["code"].items():
        if rel not in texts:
            try:
                texts[rel] = (root / rel).read_bytes()
            except OSError:
                texts[rel] = None
        text = texts[rel]
        if text is None:
            return None
        try:
            tree = ast.parse(text)
        except (SyntaxError, ValueError):
            return None
        if _hash_tree(tree) != expected:
            return None
        trees[rel] = tree
    return trees


def _environment(record: dict[str, Any], context: LoadContext) -> str | None:
    """The recorded environment hash if the packages are provably the same, else None."""
    if record["site"] == dict(context.site):
        # Nothing was installed or removed; check the versions themselves anyway (cheap).
        same = all(dist_version(d) == v for d, v in record["dists"].items())
        return record["env_hash"] if same else None
    if package_versions(record["top_packages"]) != record["workflow"]["packages"]:
        return None
    env_hash = environment_hash()
    return env_hash if env_hash == record["env_hash"] else None


def _rebuild(
    record: dict[str, Any],
    context: LoadContext,
    trees: Mapping[str, ast.Module],
    texts: Mapping[str, bytes | None],
    code: CodeOnDemand,
) -> Workflow | None:
    rel = record["workflow_file"]
    text = texts[rel]
    if text is None:
        return None
    lines = text.decode("utf-8").splitlines()
    data = record["workflow"]
    operators = {}
    for op in data["operators"]:
        node = _top_def(trees[rel], op["name"])
        if node is None:
            return None
        placed = _placed(record["walks"][op["name"]], node)
        try:
            operators[op["name"]] = operator_from_json(
                op,
                code.function(op["name"]),
                placed.__getitem__,
                _source_text(lines, node),
                lambda value: is_data_path(value, context.root),
            )
        except KeyError:
            return None  # a location's nodes are on several lines today
    workflow = Workflow(
        path=context.path,
        root=context.root,
        operators=operators,
        primary=data["primary"],
        goal=data["goal"],
        packages=data["packages"],
        hamilton_style=data["hamilton_style"],
    )
    code.expect(workflow)
    return workflow


def _top_def(tree: ast.Module, name: str) -> ast.FunctionDef | None:
    """The operator's `def`, as the loader picks it (the last top-level one)."""
    found = [s for s in tree.body if isinstance(s, ast.FunctionDef) and s.name == name]
    return found[-1] if found else None


def _placed(walk: dict[str, Any], node: ast.FunctionDef) -> dict[str, int]:
    """Today's line of each recorded location whose nodes are all on one line. The code is
    equal but for positions, so today's `def` walks in step with the recorded one (both
    stripped of docstrings)."""
    today = [getattr(n, "lineno", None) for n in ast.walk(node)]
    if len(today) != len(walk["lines"]):
        return {}
    placed = {}
    for name, indices in walk["anchors"].items():
        lines = {today[i] for i in indices}
        if len(lines) == 1 and None not in lines:
            placed[name] = lines.pop()
    return placed


def _source_text(lines: list[str], node: ast.FunctionDef) -> str:
    """As the loader cuts it: from the first decorator to the end of the `def`."""
    first = min([node.lineno, *(d.lineno for d in node.decorator_list)])
    return "\n".join(lines[first - 1 : node.end_lineno]) + "\n"
