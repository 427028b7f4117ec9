"""Rich views for people: a run's operators and metrics, the history, a diff.

Programs read `--json` instead; nothing here is a contract.
"""

from __future__ import annotations

import difflib
import time
from collections.abc import Mapping, Sequence
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
    details = change.details()
    return f"{change.change.value}: {details}" if details else change.change.value


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


def stage_line(stage: Mapping[str, Any], primary: str | None) -> Text:
    """`auc 0.8734 ▲ +0.0061 better · logloss 0.3100 · full data · 5.2 s`, from one entry
    of the `stages` list of `ghostrun run --json` (the same shape the daemon publishes)."""
    text = Text()
    verdict, delta = stage.get("verdict"), stage.get("delta")
    for i, (name, value) in enumerate(stage["metrics"].items()):
        if i:
            text.append(" · ")
        text.append(f"{name} {_number(value)}", style="bold" if name == primary else "")
        if name == primary and verdict is not None and delta is not None:
            arrow = {"better": "▲", "worse": "▼", "unclear": "≈"}[verdict]
            style = {"better": "green", "worse": "red", "unclear": "yellow"}[verdict]
            text.append(f" {arrow} {delta:+.4f} {verdict}", style=style)
    fraction = stage["fidelity"]["fraction"]
    where = "full data" if fraction >= 1 else f"{fraction:.0%} sample"
    if (stage.get("seeds") or 1) > 1:
        where += f" × {stage['seeds']} seeds"
    if verdict is not None and stage.get("uncertainty") is not None:
        text.append(f" ±{stage['uncertainty']:.4f}", style="dim")
    if stage.get("extrapolated") is not None:
        text.append(f" · full ≈ {stage['extrapolated']:.4f}", style="dim")
    text.append(f" · {where} · {stage['elapsed']:.1f} s", style="dim")
    return text


def _number(value: Any) -> str:
    return "n/a" if value is None else f"{value:.4f}"


def remote_summary(result: Mapping[str, Any]) -> Text:
    """The summary line of a run the daemon made, from its `ghostrun run --json` object."""
    states = [o["state"] for o in result.get("ops", [])]
    computed = states.count("computed")
    parent = result.get("parent_id") or "none"
    return Text(
        f"version {result.get('version_id')} (parent {parent}) · reran {computed}, "
        f"reused {len(states) - computed} · run {result.get('run_id')} by the daemon",
        style="dim",
    )


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
            console.print(stage_line(stage.to_json(), _primary_key(invocation, stage)))
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


def status_view(status: Mapping[str, Any]) -> Text:
    """`ghostrun status`: the daemon's state, what it runs, and the last result."""
    state = status.get("state", "unknown")
    if state == "stopped":
        return Text("No ghostrun daemon is running for this project; `ghostrun up` starts one.")
    lines = [f"daemon {state} · pid {status.get('pid')} · up {status.get('uptime', 0):.0f} s"
             f" · notifications: {status.get('notify')}"]
    current = status.get("run")
    if current:
        lines.append(f"running: request {current['invocation']} ({current['reason']})")
    last = status.get("last")
    if last and last.get("status") == "ok":
        primary = last.get("primary")
        value = (last.get("metrics") or {}).get(primary)
        shown = f"{primary} {_number(value)}" if primary else "no primary metric"
        lines.append(f"last result: {shown} · version {last.get('version_id')}"
                     f" · run {last.get('run_id')}")
    elif last:
        error = last.get("error", {})
        lines.append(f"last run failed: {error.get('message', '')}".rstrip())
    lines.append(f"watching {len(status.get('watching', []))} files")
    return Text("\n".join(lines))


def event_line(topic: str, payload: Mapping[str, Any]) -> Text:
    """One line per daemon event for `ghostrun watch`."""
    clock = time.strftime("%H:%M:%S", time.localtime(payload.get("time") or time.time()))
    text = Text(f"{clock} {topic:<13} ", style="dim")
    if topic == "run.stage" or topic == "run.finished":
        if "metrics" in payload and "fidelity" in payload:
            text.append_text(stage_line(payload, payload.get("primary")))
        if topic == "run.finished":
            text.append(" (final)", style="dim")
    elif topic == "run.started":
        changed = ", ".join(f"{c['op']} ({c['change']})" for c in payload.get("changes", []))
        text.append(f"version {payload.get('version_id')} · {changed or 'nothing changed'}")
    elif topic == "run.failed":
        error = payload.get("error", {})
        text.append(f"{error.get('code')}: {error.get('message', '')}", style="red")
    else:
        text.append(str(payload.get("state", "")) if topic == "daemon.state" else str(payload))
    return text


def explore_line(result: Mapping[str, Any]) -> Text:
    """One finished exploration trial: `model: num_leaves 31 → 63 · +0.0041 ±0.0012 · 10%`."""
    fraction = (result.get("fidelity") or {}).get("fraction", 1.0)
    where = "full data" if fraction >= 1 else f"{fraction:.0%} sample"
    text = Text(f"{result.get('description', '?')} · ")
    gain, delta = result.get("gain"), result.get("delta")
    if result.get("status") not in (None, "ok"):
        text.append(str(result.get("status")), style="red")
    elif delta is None:
        text.append("no paired delta", style="dim")
    else:
        style = "green" if gain and gain > 0 else "red" if gain and gain < 0 else "yellow"
        text.append(f"{delta:+.4f}", style=style)
        if result.get("uncertainty") is not None:
            text.append(f" ±{result['uncertainty']:.4f}", style="dim")
    text.append(f" · {where} · {result.get('seconds', 0):.1f} s", style="dim")
    return text


def suggestions_view(shown: Sequence[Mapping[str, Any]]) -> Group | Text:
    """`ghostrun suggest`: per suggestion, the change, where it applies and its expected
    effect, then its evidence and why."""
    if not shown:
        return Text("No suggestions yet: `ghostrun explore` (or a running daemon, while you "
                    "think) tries variants of your workflow first.")
    lines: list[Text] = []
    for s in shown:
        evidence = s["evidence"]
        fidelities = ", ".join("full" if f >= 1 else f"{f:.0%}" for f in evidence["fidelities"])
        confirmed = "confirmed on full data" if evidence["confirmed_full"] else "not yet on full"
        spread = f" ±{s['uncertainty']:.4f}" if s.get("uncertainty") is not None else ""
        head = Text(f"{s['rank']:>2}  ", style="bold")
        head.append(s["description"], style="bold")
        head.append(f"  {s['location']}  ", style="cyan")
        head.append(f"{s['expected_delta']:+.4f}{spread}",
                    style="green" if evidence["confirmed_full"] else "yellow")
        lines.append(head)
        runs = evidence["runs"]
        why = s.get("why") or confirmed
        lines.append(Text(f"    {runs} run{'s' if runs != 1 else ''} at {fidelities} · {why}",
                          style="dim"))
    lines.append(Text("`ghostrun apply N` writes suggestion N into your code.", style="dim"))
    return Group(*lines)
