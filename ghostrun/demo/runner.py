"""`ghostrun demo`: the edit–run loop on a generated census project, start to finish.

Each step prints one line saying what happens and which command does it by hand, then
what ghostrun reported. Returns the exit code: 0 when every step did what it should.
"""

from __future__ import annotations

import shutil
import tempfile
import time
from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path

from rich.console import Console

from ghostrun.demo.data import write_demo_data
from ghostrun.engine.results import Invocation
from ghostrun.engine.session import Session
from ghostrun.errors import GhostrunError
from ghostrun.project import Project
from ghostrun.render import history_table, print_invocation

TEMPLATE = Path(__file__).parent / "template"


@dataclass(frozen=True)
class Edit:
    """A scripted save: replace `old` by `new` in pipeline.py, and what should follow."""

    title: str
    old: str
    new: str
    expect: Callable[[Invocation], bool]
    expectation: str


def _computed(inv: Invocation) -> set[str]:
    return {n for n, o in inv.last.outcomes.items() if o.state == "computed"}


EDITS = (
    Edit(
        "A model edit: num_leaves 31 → 63",
        "num_leaves=gr.knob(31,",
        "num_leaves=gr.knob(63,",
        lambda inv: _computed(inv) == {"model", "auc", "logloss"},
        "only model and the metrics recompute; data loading and features are reused",
    ),
    Edit(
        "A comment-only edit",
        "@gr.op\ndef split(",
        "# Hold out a quarter of the customers.\n@gr.op\ndef split(",
        lambda inv: not _computed(inv),
        "nothing recomputes: the metrics come straight from the cache",
    ),
)


def run_demo(console: Console, *, keep: Path | None = None, rows: int = 200_000) -> int:
    with ExitStack() as stack:
        root = keep or Path(
            stack.enter_context(tempfile.TemporaryDirectory(prefix="ghostrun-demo-"))
        )
        try:
            _create(console, root, rows)
            ok = _session(console, root)
        except GhostrunError as exc:
            console.print(f"[bold red]demo failed:[/] {exc}")
            return 1
        if keep:
            console.print(f"The project stays in {root}: `cd {root}` and edit pipeline.py.")
        return 0 if ok else 1
    return 1  # pragma: no cover


def _create(console: Console, root: Path, rows: int) -> None:
    console.rule("[bold]ghostrun demo")
    root.mkdir(parents=True, exist_ok=True)
    for item in TEMPLATE.iterdir():
        if item.is_file():
            shutil.copy2(item, root / item.name)
    started = time.perf_counter()
    write_demo_data(root / "data", n_rows=rows)
    console.print(
        f"Created a census-style project with {rows:,} generated rows in {root} "
        f"({time.perf_counter() - started:.1f} s). By hand: `ghostrun init --example`."
    )


def _session(console: Console, root: Path) -> bool:
    ok = True
    console.print("\n[bold]1. First run[/]: everything is computed. By hand: `ghostrun run`.")
    _run(console, root)
    for number, edit in enumerate(EDITS, start=2):
        path = root / "pipeline.py"
        path.write_text(path.read_text().replace(edit.old, edit.new, 1))
        console.print(f"\n[bold]{number}. {edit.title}[/], saved; then `ghostrun run`.")
        invocation = _run(console, root)
        if edit.expect(invocation):
            console.print(f"[green]✓[/] {edit.expectation}.")
        else:
            console.print(f"[red]✗ expected: {edit.expectation}.[/]")
            ok = False
    console.print("\n[bold]4. The history[/] of these runs. By hand: `ghostrun history`.")
    with Session(Project.open(root)) as session:
        console.print(history_table(session.history.runs(limit=10)))
    console.print("`ghostrun diff HEAD~1 HEAD` shows what changed between two versions.")
    return ok


def _run(console: Console, root: Path) -> Invocation:
    with Session(Project.open(root)) as session:
        invocation = session.prepare(session.load())
        session.run_stage(invocation)
    print_invocation(console, invocation)
    return invocation
