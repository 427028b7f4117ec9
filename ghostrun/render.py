"""Rich views for people: a run's operators and metrics, the history, a diff.

Programs read `--json` instead; nothing here is a contract.
"""

from __future__ import annotations

import difflib
import time
from collections.abc import Sequence
from typing import Any

from rich.console import Console, Group
from rich.syntax import Syntax
from rich.table import Table
from rich.text import Text

from ghostrun.engine.results import Invocation, StageResult
from ghostrun.history import RunRecord
from ghostrun.workflow.types import Change, OpChange, VersionSnapshot

_CHANGE_STYLE = {
    Change.UNCHANGED: "dim",
    Change.CODE: "bold yellow",
    Change.KNOB: "bold cyan",
    Change.DATA: "bold magenta",
    Change.UPSTREAM: "yellow",
    Change.NEW: "bold green",
    Change.REMOVED: "red",
}
_STATE_STYLE = {"computed": "bold", "loaded": "green", "pruned": "dim green"}


def describe_change(change: OpChange) -> str:
    parts = [change.change.value]
    if change.knobs:
        parts.append(
            ", ".join(f"{k} {_short(a)} → {_short(b)}" for k, (a, b) in change.knobs.items())
        )
    if change.files:
        parts.append(", ".join(change.files))
    if change.reason and change.change is not Change.UPSTREAM:
        parts.append(change.reason)
    return ": ".join(parts[:1]) + (" " + " · ".join(parts[1:]) if len(parts) > 1 else "")


def _short(value: Any) -> str:
    text = repr(value) if isinstance(value, str) else str(value)
    return text if len(text) <= 40 else text[:37] + "..."


def run_table(invocation: Invocation) -> Table:
    stage = invocation.last
    table = Table(box=None, pad_edge=False, header_style="bold")
    table.add_column("operator")
    table.add_column("change")
    table.add_column("state")
    table.add_column("seconds", justify="right")
    changes = {c.op: c for c in invocation.changes}
    for outcome in stage.outcomes.values():
        change = changes.get(outcome.name, OpChange(outcome.name, Change.NEW))
        table.add_row(
            outcome.name,
            Text(describe_change(change), style=_CHANGE_STYLE[change.change]),
            Text(outcome.state, style=_STATE_STYLE[outcome.state]),
            f"{outcome.seconds:.2f}",
        )
    return table


def stage_line(stage: StageResult, primary: str | None) -> Text:
    """`auc 0.8734 ▲ +0.0061 better · logloss 0.3100 · full data · 5.2 s`."""
    text = Text()
    for i, (name, value) in enumerate(stage.metrics.items()):
        if i:
            text.append(" · ")
        text.append(f"{name} {value:.4f}", style="bold" if name == primary else "")
        if name == primary and stage.comparison:
            c = stage.comparison
            arrow = {"better": "▲", "worse": "▼", "unclear": "≈"}[c.verdict]
            style = {"better": "green", "worse": "red", "unclear": "yellow"}[c.verdict]
            text.append(f" {arrow} {c.delta:+.4f} {c.verdict}", style=style)
    fraction = stage.fidelity.fraction
    where = "full data" if fraction >= 1 else f"{fraction:.0%} sample"
    if stage.seeds > 1:
        where += f" × {stage.seeds} seeds"
    if stage.comparison and stage.comparison.uncertainty is not None:
        text.append(f" ±{stage.comparison.uncertainty:.4f}", style="dim")
    if stage.extrapolated is not None:
        text.append(f" · full ≈ {stage.extrapolated:.4f}", style="dim")
    text.append(f" · {where} · {stage.elapsed:.1f} s", style="dim")
    return text


def summary_line(invocation: Invocation) -> Text:
    outcomes = invocation.last.outcomes.values()
    computed = sum(o.state == "computed" for o in outcomes)
    reused = sum(o.state != "computed" for o in outcomes)
    parent = invocation.parent_id or "none"
    return Text(
        f"version {invocation.version.version_id} (parent {parent}) · "
        f"reran {computed}, reused {reused}",
        style="dim",
    )


def print_invocation(console: Console, invocation: Invocation, *, stages: bool = True) -> None:
    """The last stage's operator table, each stage's line (unless already printed live),
    and a summary."""
    console.print(run_table(invocation))
    if stages:
        for stage in invocation.stages:
            console.print(stage_line(stage, _primary_key(invocation, stage)))
    console.print(summary_line(invocation))


def _primary_key(invocation: Invocation, stage: StageResult) -> str | None:
    primary = invocation.version.workflow.primary
    if primary in stage.metrics:
        return primary
    return next((m for m in stage.metrics if m.startswith(f"{primary}.")), None)


def history_table(runs: Sequence[RunRecord]) -> Table:
    table = Table(box=None, pad_edge=False, header_style="bold")
    for column in ("run", "when", "version", "kind", "fidelity", "status", "primary", "seconds"):
        table.add_column(column, justify="right" if column in ("run", "seconds") else "left")
    for run in runs:
        value = run.primary_value
        status_style = {"ok": "green", "failed": "red"}.get(run.status, "yellow")
        table.add_row(
            str(run.run_id),
            time.strftime("%m-%d %H:%M:%S", time.localtime(run.started)),
            run.version_id,
            run.kind,
            "full" if run.fidelity.fraction >= 1 else f"{run.fidelity.fraction:.0%}",
            Text(run.status, style=status_style),
            f"{run.primary} {value:.4f}" if run.primary and value is not None else "",
            f"{run.seconds:.2f}" if run.seconds is not None else "",
        )
    return table


def run_json(run: RunRecord) -> dict[str, Any]:
    return run.to_json()


def diff_view(a: VersionSnapshot, b: VersionSnapshot, changes: Sequence[OpChange]) -> Group:
    """Which operators changed and how, knob old → new, then the code diff of each."""
    parts: list[Any] = [Text(f"{a.version_id} → {b.version_id}", style="bold")]
    table = Table(box=None, pad_edge=False, header_style="bold")
    table.add_column("operator")
    table.add_column("change")
    for change in changes:
        table.add_row(change.op, Text(describe_change(change), style=_CHANGE_STYLE[change.change]))
    parts.append(table)
    for change in changes:
        old, new = a.op(change.op), b.op(change.op)
        old_text = old.source if old else ""
        new_text = new.source if new else ""
        if old_text == new_text:
            continue
        either = new or old
        file = either.file if either else "?"
        lines = difflib.unified_diff(
            old_text.splitlines(keepends=True),
            new_text.splitlines(keepends=True),
            fromfile=f"{a.version_id}/{file}:{change.op}",
            tofile=f"{b.version_id}/{file}:{change.op}",
        )
        parts.append(Syntax("".join(lines), "diff", theme="ansi_dark", background_color="default"))
    return Group(*parts)


def diff_json(
    a: VersionSnapshot, b: VersionSnapshot, changes: Sequence[OpChange]
) -> dict[str, Any]:
    return {
        "from": a.version_id,
        "to": b.version_id,
        "ops": [
            {
                "name": c.op,
                "change": c.change.value,
                "knobs": {k: {"old": o, "new": n} for k, (o, n) in c.knobs.items()},
                "files": list(c.files),
                "reason": c.reason,
            }
            for c in changes
        ],
    }
