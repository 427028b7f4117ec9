"""Figures from a replay session: per-step times with STALE flags, totals, ratios, cache
sizes, the issue's targets; as one JSON-able dict and as plain-text tables.

A step's result is STALE when its primary metric is not exactly equal (==) to the plain
runner's for the same step; such results are counted and shown, never dropped.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from bench.replay.edits import Edit
from bench.replay.runners import Outcome

__all__ = ["Session", "render", "summarise"]

BASELINE_RUNNER = "plain"


@dataclass
class Session:
    """Everything measured in one bench run."""

    command: str
    config: dict[str, Any]
    steps: Sequence[Edit]
    runners: Sequence[str]
    outcomes: dict[str, list[Outcome]] = field(default_factory=dict)
    skipped: dict[str, str] = field(default_factory=dict)
    cache_bytes: dict[str, int | None] = field(default_factory=dict)
    csv_bytes: int = 0
    process_start: dict[str, float] = field(default_factory=dict)
    interrupted: bool = False

    def completed_steps(self) -> int:
        """Steps every runner that ran finished (fewer than all after an interrupt)."""
        counts = [len(outs) for name, outs in self.outcomes.items() if name not in self.skipped]
        return min(counts, default=0)


def _is_stale(out: Outcome, base: Outcome | None) -> bool:
    return (base is not None and base.value is not None and out.value is not None
            and out.value != base.value)


def _runner_summary(s: Session, name: str) -> dict[str, Any]:
    outs = s.outcomes.get(name, [])[: s.completed_steps()]
    base = s.outcomes.get(BASELINE_RUNNER, [])
    steps = []
    for i, out in enumerate(outs):
        ref = base[i] if i < len(base) and name != BASELINE_RUNNER else None
        steps.append({**asdict(out), "value": out.value, "stale": _is_stale(out, ref)})
    cache = s.cache_bytes.get(name)
    return {
        "skipped": s.skipped.get(name),
        "steps": steps,
        "cumulative_seconds": sum(o.seconds for o in outs),
        "edits_seconds": sum(o.seconds for o in outs[1:]),
        "stale": sum(st["stale"] for st in steps),
        "errors": sum(o.error is not None for o in outs),
        "cache_bytes": cache,
        "cache_x_csv": cache / s.csv_bytes if cache is not None and s.csv_bytes else None,
    }


def _ratios(runners: dict[str, dict[str, Any]]) -> None:
    for ref in (BASELINE_RUNNER, "oracle"):
        ref_total = runners.get(ref, {}).get("cumulative_seconds")
        for r in runners.values():
            ok = ref_total and r["steps"] and not r["skipped"]
            r[f"vs_{ref}"] = r["cumulative_seconds"] / ref_total if ok else None


def _targets(s: Session, runners: dict[str, dict[str, Any]]) -> list[dict[str, Any]]:
    """Issue 3's targets, measured (not asserted)."""
    out: list[dict[str, Any]] = []

    def add(what: str, value: Any, ok: bool | None) -> None:
        out.append({"target": what, "measured": value, "met": ok})

    for name, limit in (("ghostrun", 1.25), ("ghostrun-hot", 1.1)):
        if name not in runners or "oracle" not in runners:
            continue
        ratio = runners[name]["vs_oracle"]
        add(f"{name} cumulative <= {limit}x oracle",
            None if ratio is None else round(ratio, 3), None if ratio is None else ratio <= limit)
    gr_total = runners.get("ghostrun", {}).get("cumulative_seconds")
    for peer in ("joblib", "hamilton"):
        peer_total = runners.get(peer, {}).get("cumulative_seconds")
        if gr_total and peer_total and not runners["ghostrun"]["skipped"]:
            add(f"ghostrun faster than {peer}", f"{gr_total:.1f} s vs {peer_total:.1f} s",
                gr_total < peer_total)
    comment = [i for i, e in enumerate(s.steps) if e.comment_only]
    start = s.process_start.get("ghostrun --version")
    for name in ("ghostrun", "ghostrun-hot"):
        outs = s.outcomes.get(name, [])
        if comment and comment[0] < len(outs) and outs[comment[0]].error is None:
            secs = outs[comment[0]].seconds
            beyond = secs - (start or 0.0) if name == "ghostrun" else secs
            add(f"{name}: comment-only edit well under 1 s beyond process start",
                f"{secs:.2f} s (process start {start or 0:.2f} s)", beyond < 1.0)
    for name in ("ghostrun", "ghostrun-hot"):
        r = runners.get(name)
        if r and r["steps"]:
            add(f"{name}: zero stale results", r["stale"], r["stale"] == 0 and not r["errors"])
            x = r["cache_x_csv"]
            add(f"{name}: cache <= 3x the CSV", None if x is None else round(x, 2),
                None if x is None else x <= 3.0)
    return out


def summarise(s: Session) -> dict[str, Any]:
    runners = {name: _runner_summary(s, name) for name in s.runners}
    _ratios(runners)
    steps = [{"index": i, "name": e.name, "kind": e.kind, "label": e.label,
              "description": e.description, "touches": sorted(e.touches),
              "comment_only": e.comment_only, "helper": e.helper}
             for i, e in enumerate(s.steps)]
    return {"command": s.command, "config": s.config, "complete": not s.interrupted,
            "steps_completed": s.completed_steps(), "csv_bytes": s.csv_bytes,
            "process_start_seconds": s.process_start, "steps": steps, "runners": runners,
            "targets": _targets(s, runners)}


def _cell(step: dict[str, Any] | None) -> str:
    if step is None:
        return "-"
    if step["error"]:
        return "ERR"
    return f"{step['seconds']:.2f}" + (" STALE" if step["stale"] else "")


def _table(header: list[str], rows: list[list[str]], left: int) -> str:
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]

    def line(cells: list[str]) -> str:
        return "  ".join(c.ljust(w) if i < left else c.rjust(w)
                         for i, (c, w) in enumerate(zip(cells, widths, strict=True)))

    return "\n".join([line(header), line(["-" * w for w in widths]), *map(line, rows)])


def _per_step(summary: dict[str, Any]) -> str:
    names = list(summary["runners"])
    base = summary["runners"].get(BASELINE_RUNNER, {}).get("steps", [])
    rows = []
    for st in summary["steps"]:
        i = st["index"]
        cells = [_cell(summary["runners"][n]["steps"][i]
                       if i < len(summary["runners"][n]["steps"]) else None) for n in names]
        ref = base[i]["value"] if i < len(base) and base[i]["value"] is not None else None
        rows.append([str(i), st["name"], st["label"], *cells,
                     "-" if ref is None else repr(ref)])
    primary = next((s["primary"] for r in summary["runners"].values() for s in r["steps"]
                    if s["primary"]), "metric")
    return _table(["#", "edit", "kind", *names, f"{primary} (plain, exact)"], rows, 3)


def _fmt(value: float | None, spec: str) -> str:
    return "-" if value is None else format(value, spec)


def _totals(summary: dict[str, Any]) -> str:
    rows = []
    for name, r in summary["runners"].items():
        mib = None if r["cache_bytes"] is None else r["cache_bytes"] / 2**20
        rows.append([name, _fmt(r["cumulative_seconds"], ".1f"), _fmt(r["edits_seconds"], ".1f"),
                     _fmt(r["vs_plain"], ".2f"), _fmt(r["vs_oracle"], ".2f"), str(r["stale"]),
                     str(r["errors"]), _fmt(mib, ".1f"), _fmt(r["cache_x_csv"], ".2f")])
    header = ["runner", "total s", "edits s", "x plain", "x oracle", "stale", "errors",
              "cache MiB", "cache x CSV"]
    return _table(header, rows, 1)


def _problems(summary: dict[str, Any]) -> list[str]:
    lines = []
    base = summary["runners"].get(BASELINE_RUNNER, {}).get("steps", [])
    for name, r in summary["runners"].items():
        if r["skipped"]:
            lines.append(f"SKIPPED {name}: {r['skipped']}")
        for i, st in enumerate(r["steps"]):
            step = summary["steps"][i]["name"]
            if st["error"]:
                lines.append(f"ERROR   {name} @ {i} {step}: {st['error'][:400]}")
            elif st["stale"]:
                lines.append(f"STALE   {name} @ {i} {step}: {st['value']!r} "
                             f"!= plain {base[i]['value']!r}")
    return lines


def render(summary: dict[str, Any]) -> str:
    csv_mib = summary["csv_bytes"] / 2**20
    parts = [
        f"Per step: wall-clock seconds (process start included where a runner has one). "
        f"Step 0 is the cold first run.\n\n{_per_step(summary)}",
        f"Totals (edits s = without step 0; raw CSV {csv_mib:.1f} MiB):\n\n{_totals(summary)}",
    ]
    problems = _problems(summary)
    if problems:
        parts.append("Flags:\n" + "\n".join(problems))
    start = summary["process_start_seconds"]
    if start:
        parts.append("Process start: " + ", ".join(f"`{k}` {v:.2f} s" for k, v in start.items()))
    if summary["targets"]:
        marks = {True: "met", False: "MISSED", None: "n/a"}
        parts.append("Issue 3 targets:\n" + "\n".join(
            f"  [{marks[t['met']]:>6}] {t['target']}: {t['measured']}"
            for t in summary["targets"]))
    if not summary["complete"]:
        parts.append(f"INCOMPLETE: interrupted after {summary['steps_completed']} of "
                     f"{len(summary['steps'])} steps; totals cover those steps only.")
    parts.append(f"Reproduce: {summary['command']}")
    return "\n\n".join(parts)
