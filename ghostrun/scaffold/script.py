"""Reading the user's script for `ghostrun init --from`: parsed, never executed.

A script's "body" is what runs when it is executed: its top-level statements, with an
`if __name__ == "__main__":` block and a no-argument `main()` it calls inlined, since
that is where Kaggle-style scripts keep their data flow. The inlined function's parameter
defaults become module-level values, as they were for its body.
"""

from __future__ import annotations

import ast
import io
import tokenize
from dataclasses import dataclass
from pathlib import Path

from ghostrun.config import display_path
from ghostrun.errors import GhostrunError

PYTHON_SUFFIXES = frozenset({".py", ".pyw", ""})


class ScriptError(GhostrunError):
    """The script given to `ghostrun init --from` cannot be read as Python."""


@dataclass(frozen=True)
class Script:
    """A parsed script and the statements that make up its body."""

    path: Path
    text: str
    tree: ast.Module
    body: tuple[ast.stmt, ...]
    main: str | None  # the inlined entry function, which is not kept as a helper
    defaults: tuple[tuple[str, ast.expr], ...] = ()  # its parameters' defaults, now globals

    @property
    def lines(self) -> list[str]:
        return self.text.splitlines()


def read_script(path: Path) -> Script:
    """Parse `path`; ScriptError with the fix when it is missing, not Python, or broken."""
    shown = display_path(path)
    if not path.exists():
        raise ScriptError(f"No script at {shown}; check the path (relative to this folder).")
    if path.is_dir():
        raise ScriptError(f"{shown} is a folder; give the Python script that trains the model.")
    if path.suffix == ".ipynb":
        raise ScriptError(f"{shown} is a notebook; export it first "
                          f"(`jupyter nbconvert --to script {shown}`) and give the .py file.")
    if path.suffix not in PYTHON_SUFFIXES:
        raise ScriptError(f"{shown} is not a Python script (expected a .py file).")
    data = path.read_bytes()
    text = _decode(data, shown)
    try:
        tree = ast.parse(data, filename=str(path))
    except SyntaxError as exc:
        where = f"{shown}:{exc.lineno}" if exc.lineno else shown
        raise ScriptError(f"{where}: syntax error ({exc.msg}); fix the script so it runs as "
                          "plain Python, then run `ghostrun init --from` again.") from None
    body, main = _body(tree)
    entry = next((s for s in tree.body if isinstance(s, ast.FunctionDef) and s.name == main), None)
    defaults = _defaults(entry.args) if entry is not None else ()
    return Script(path=path, text=text, tree=tree, body=body, main=main, defaults=defaults)


def _defaults(args: ast.arguments) -> tuple[tuple[str, ast.expr], ...]:
    positional = [*args.posonlyargs, *args.args][-len(args.defaults):] if args.defaults else []
    pairs = list(zip((a.arg for a in positional), args.defaults, strict=True))
    pairs += [(a.arg, d) for a, d in zip(args.kwonlyargs, args.kw_defaults, strict=True)
              if d is not None]
    return tuple(pairs)


def _decode(data: bytes, shown: str) -> str:
    if b"\0" in data:
        raise ScriptError(f"{shown} is not a Python script: it holds binary data.")
    try:
        encoding, _ = tokenize.detect_encoding(io.BytesIO(data).readline)
        return data.decode(encoding)
    except (SyntaxError, UnicodeDecodeError, LookupError):
        raise ScriptError(f"{shown} is not a Python script: it is not UTF-8 text.") from None


def _body(tree: ast.Module) -> tuple[tuple[ast.stmt, ...], str | None]:
    functions = {s.name: s for s in tree.body if isinstance(s, ast.FunctionDef)}
    body: list[ast.stmt] = []
    main: str | None = None
    for stmt in tree.body:
        inner = list(stmt.body) if _is_main_guard(stmt) else [stmt]  # type: ignore[attr-defined]
        for s in inner:
            entry = _entry_call(s, functions)
            if entry is not None:
                main = entry.name
                body.extend(entry.body)
            else:
                body.append(s)
    if main is not None:
        body = [s for s in body if not (isinstance(s, ast.FunctionDef) and s.name == main)]
    return tuple(body), main


def _is_main_guard(stmt: ast.stmt) -> bool:
    if not isinstance(stmt, ast.If) or stmt.orelse:
        return False
    test = stmt.test
    return (isinstance(test, ast.Compare) and isinstance(test.left, ast.Name)
            and test.left.id == "__name__" and len(test.comparators) == 1
            and isinstance(test.comparators[0], ast.Constant)
            and test.comparators[0].value == "__main__")


def _entry_call(stmt: ast.stmt, functions: dict[str, ast.FunctionDef]) -> ast.FunctionDef | None:
    """The script's own function called bare with no arguments (`main()`), if `stmt` is one.

    Only a function that takes no required argument and is defined once qualifies."""
    if not isinstance(stmt, ast.Expr) or not isinstance(stmt.value, ast.Call):
        return None
    call = stmt.value
    if call.args or call.keywords or not isinstance(call.func, ast.Name):
        return None
    func = functions.get(call.func.id)
    if func is None or len(func.args.args) > len(func.args.defaults) or func.args.posonlyargs:
        return None
    return func
