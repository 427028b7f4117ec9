"""Tables and the summary against issue 4's targets, from the sessions' raw records.

Time ratios are medians over the edits of a session (the baseline run is not an edit).
Direction counts use each edit's first verdict when an approximate stage gave it; a first
verdict from the full stage is exact and counted apart.
"""

from __future__ import annotations

import statistics
from collections import Counter
from collections.abc import Iterable
from typing import Any

from bench.approx.margins import margin_table

__all__ = ["render", "summarise"]

TARGET_COLD, TARGET_HOT, TARGET_DIRECTION = 1 / 10, 1 / 15, 0.90
REPLAY = "replay"


def _median(xs: Iterable[float | None]) -> float | None:
    vals = [x for x in xs if x is not None]
    return statistics.median(vals) if vals else None


def _edits(session: dict[str, Any]) -> list[dict[str, Any]]:
    return session["steps"][1:]


def _first(step: dict[str, Any], side: str, which: str) -> dict[str, Any] | None:
    judged = step[side].get("judged")
    return judged.get(which) if judged else None


def _times(sessions: list[dict[str, Any]]) -> dict[str, Any]:
    edits = [e for s in sessions for e in _edits(s)]

    def ratios(side: str, which: str, key: str = "ratio") -> list[float | None]:
        return [(_first(e, side, which) or {}).get(key) for e in edits]

    return {
        "edits": len(edits),
        "cold_verdict": _median(ratios("cold", "verdict")),
        "cold_verdict_wall": _median(ratios("cold", "verdict", "wall_ratio")),
        # how many of those wall times came from the history (the rest: the upper bound)
        "cold_wall_exact": sum(bool((_first(e, "cold", "verdict") or {}).get("wall_exact"))
                               for e in edits),
        "cold_wall_n": sum((_first(e, "cold", "verdict") or {}).get("wall_ratio") is not None
                           for e in edits),
        "cold_first": _median(ratios("cold", "first")),
        "hot_first_event": _median(ratios("hot", "first")),
        "hot_verdict": _median(ratios("hot", "verdict")),
        # medians over the edits that got a decisive approximate verdict
        "cold_decisive": _median(ratios("cold", "decisive")),
        "cold_decisive_wall": _median(ratios("cold", "decisive", "wall_ratio")),
        "hot_decisive": _median(ratios("hot", "decisive")),
        "plain_seconds": _median(e["plain"]["seconds"] for e in edits),
        # when the exact result arrived: the ladder's whole run against a plain re-run
        "cold_total": _median(_total(e, "cold") for e in edits),
        "hot_total": _median(_total(e, "hot") for e in edits),
    }


def _total(e: dict[str, Any], side: str) -> float | None:
    if e[side]["error"] or not e["plain"]["seconds"]:
        return None
    return e[side]["seconds"] / e["plain"]["seconds"]


def _direction(sessions: list[dict[str, Any]], side: str, which: str = "verdict"
               ) -> dict[str, Any]:
    """Grades of the edits whose first verdict came from an approximate stage: of that
    first verdict (`which` "verdict"), of the first decisive approximate one ("decisive":
    none counts as missed or unclear-ok), or of the last approximate one ("last_approx")."""
    grades: Counter[str] = Counter()
    sources: Counter[str] = Counter()
    for e in (e for s in sessions for e in _edits(s)):
        first = _first(e, side, "verdict")
        if first is None:
            sources["no verdict at all"] += 1
            continue
        sources["approximate" if first["approx"] else "full (exact)"] += 1
        if not first["approx"]:
            continue
        if which == "verdict":
            grades[first["grade"]] += 1
            continue
        found = _first(e, side, which)
        grades[found["grade"] if found else
               "missed" if e.get("beyond_noise") else "unclear-ok"] += 1
    decisive = grades["right"] + grades["WRONG"]
    beyond = decisive + grades["missed"]
    return {"grades": dict(grades), "sources": dict(sources),
            "agreement": grades["right"] / decisive if decisive else None,
            "right_of_beyond": grades["right"] / beyond if beyond else None}


def _signs(sessions: list[dict[str, Any]], side: str) -> dict[str, Any]:
    """DESIGN §4's measure: of the edits whose full delta is beyond noise, how many got a
    first (and a last) approximate paired delta of the full delta's sign, whatever the
    verdict said of it."""
    counts: dict[str, Counter[str]] = {"first": Counter(), "last": Counter()}
    for e in (e for s in sessions for e in _edits(s)):
        j = e[side].get("judged")
        if not e.get("beyond_noise") or not j:
            continue
        paired = [v for v in j["stages"] if not v["full"] and v["gain"] is not None]
        for which, view in (("first", paired[0] if paired else None),
                            ("last", paired[-1] if paired else None)):
            counts[which][_sign_grade(view)] += 1
    return {which: {"counts": dict(c),
                    "agreement": c["same"] / (c["same"] + c["opposite"])
                    if c["same"] + c["opposite"] else None}
            for which, c in counts.items()}


def _sign_grade(view: dict[str, Any] | None) -> str:
    if view is None:
        return "no paired delta"
    if view["gain"] == 0:
        return "zero"
    said = "better" if view["gain"] > 0 else "worse"
    return "same" if said == view["truth"] else "opposite"


def _extrapolation(sessions: list[dict[str, Any]], side: str) -> dict[str, Any]:
    found = [j["extrapolation"] for s in sessions for e in _edits(s)
             if (j := e[side].get("judged")) and j.get("extrapolation")]
    return {"n": len(found), "median_error": _median(f["error"] for f in found),
            "median_stage_error": _median(f["stage_error"] for f in found),
            "max_error": max((f["error"] for f in found), default=None)}


def _stage_views(sessions: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The cold ladders' approximate stages (the hot ones sample the same rows with the
    same seeds: counting both would count most stages twice)."""
    return [v for s in sessions for e in _edits(s)
            if (j := e["cold"].get("judged")) for v in j["stages"] if not v["full"]]


def _group(sessions: list[dict[str, Any]]) -> dict[str, Any]:
    return {"times": _times(sessions),
            "direction": {side: _direction(sessions, side) for side in ("cold", "hot")},
            "decisive": {side: _direction(sessions, side, "decisive") for side in ("cold", "hot")},
            "last_approx": {side: _direction(sessions, side, "last_approx")
                            for side in ("cold", "hot")},
            "signs": {side: _signs(sessions, side) for side in ("cold", "hot")},
            "extrapolation": {side: _extrapolation(sessions, side) for side in ("cold", "hot")}}


def summarise(sessions: list[dict[str, Any]], config: dict[str, Any]) -> dict[str, Any]:
    replay = [s for s in sessions if s["workflow"] == REPLAY]
    stale = [(s["workflow"], e["edit"], side) for s in sessions for e in _edits(s)
             for side in ("cold", "hot") if e[side].get("exact") is False]
    return {
        "config": config,
        "sessions": sessions,
        "per_workflow": {s["workflow"]: _group([s]) for s in sessions},
        "all": _group(sessions),
        "replay": _group(replay) if replay else None,
        "margins": margin_table(_stage_views(sessions)),
        "stale": stale,
    }


# ---------------------------------------------------------------- rendering


def _f(x: float | None, spec: str = ".2f") -> str:
    return "–" if x is None else format(x, spec)


def _at(stage: dict[str, Any] | None, views: list[dict[str, Any]]) -> str:
    if stage is None:
        return "–"
    v = views[stage["index"]]
    return "full" if v["full"] else f"{v['fraction']:g}×{v['budget']:g}"


def _cell(e: dict[str, Any], side: str, which: str) -> dict[str, str]:
    j = e[side].get("judged")
    if e[side]["error"] or j is None:
        return {"s": "ERR", "r": "", "w": "", "at": "", "v": "error"}
    s = j.get(which)
    if s is None:
        return {"s": "–", "r": "", "w": "", "at": "", "v": "none"}
    # "≤": a bound (no run in the history to time the stage by)
    bound = "" if s.get("wall_exact") or s.get("wall_ratio") is None else "≤"
    return {"s": _f(s["seconds"], ".1f"), "r": _f(s["ratio"], ".3f"),
            "w": bound + _f(s.get("wall_ratio"), ".3f"), "at": _at(s, j["stages"]),
            "v": f"{s['verdict']} {s['grade']}"}


_HEAD = (f"{'#':>2} {'edit':<20} {'kind':<14} {'plain s':>7} │ {'cold s':>6} {'÷plain':>6} "
         f"{'start':>6} {'at':>9} {'verdict grade':<19} │ {'hot s':>5} {'÷plain':>6} │ "
         f"{'hot s':>5} {'at':>9} {'verdict grade':<19} │ {'full Δ':>9} {'>τ':<3} "
         f"{'extrap err':>10}")


def _table(session: dict[str, Any]) -> str:
    lines = ["   cold: first verdict (ladder elapsed; start: ÷plain from process start, by the "
             "history's finish time of the stage's run, ≤: upper bound) │ "
             "hot: first run.stage event │ hot: first verdict", _HEAD, "─" * len(_HEAD)]
    for e in _edits(session):
        c, h, hv = _cell(e, "cold", "verdict"), _cell(e, "hot", "first"), _cell(e, "hot", "verdict")
        ext = (e["cold"].get("judged") or {}).get("extrapolation")
        beyond = {True: "yes", False: "no", None: "?"}[e.get("beyond_noise")]
        lines.append(
            f"{e['index']:>2} {e['edit'][:20]:<20} {e['kind']:<14} {e['plain']['seconds']:>7.1f} │ "
            f"{c['s']:>6} {c['r']:>6} {c['w']:>6} {c['at']:>9} {c['v']:<19} │ {h['s']:>5} "
            f"{h['r']:>6} │ {hv['s']:>5} {hv['at']:>9} {hv['v']:<19} │ "
            f"{_f(e.get('full_delta'), '+.5f'):>9} {beyond:<3} "
            f"{_f(ext['error'] if ext else None, '.5f'):>10}")
    return "\n".join(lines)


def _ladders(session: dict[str, Any]) -> str:
    """Every cold ladder, stage by stage: fraction×budget(×seeds) @ s: Δ ± se verdict."""
    lines = []
    for e in _edits(session):
        j = e["cold"].get("judged")
        if not j:
            continue
        parts = []
        for v in j["stages"]:
            at = "full" if v["full"] else f"{v['fraction']:g}×{v['budget']:g}×{v['seeds']}"
            d = "" if v["delta"] is None else f" Δ{v['delta']:+.4f}±{_f(v['uncertainty'], '.4f')}"
            parts.append(f"{at} @{v['t']:.1f}s{d} {v['verdict'] or '-'}")
        lines.append(f"  {e['index']:>2} {e['edit']:<22} " + " │ ".join(parts))
    return "\n".join(lines)


def _session_block(s: dict[str, Any]) -> str:
    n = s["noise"]
    spread = (f"σ={_f(n['sigma'], '.5f')} over {len(n['values']) + 1} model seeds → "
              f"τ={_f(n['tau'], '.5f')}" if n["values"] else n.get("note", "no noise runs"))
    title = (f"{s['workflow']}: {s['description']}\n  {s['rows']:,} rows · goal {s['goal']} · "
             f"full metric noise {spread}")
    sources = sorted({e["code"]["sources"] for e in s["steps"] if "code" in e})
    commits = sorted({e["code"]["commit"] or "?" for e in s["steps"] if "code" in e})
    if len(sources) > 1:
        title += (f"\n  WARNING: ghostrun's sources changed during this session ({sources}): "
                  "the steps did not all run on the same code")
    elif sources:
        title += f"\n  ghostrun sources {sources[0]} throughout (commits {', '.join(commits)})"
    return "\n".join([title, _table(s), "  cold ladders:", _ladders(s)])


def _pct(x: float | None) -> str:
    return "–" if x is None else f"{100 * x:.0f}%"


def _target_lines(summary: dict[str, Any]) -> list[str]:
    g = summary["replay"] or summary["all"]
    scope = "replay session" if summary["replay"] else "all sessions (no replay run)"
    t, d = g["times"], g["direction"]
    a = summary["all"]["direction"]
    a_all = summary["all"]

    def mark(x: float | None, ok: bool) -> str:
        return "–" if x is None else ("meets" if ok else "MISSES")

    cold, wall, hot = t["cold_verdict"], t["cold_verdict_wall"], t["hot_first_event"]
    exact, n = t.get("cold_wall_exact", 0), t.get("cold_wall_n", 0)
    how = ("from the history's finish time of its run" if n and exact == n else
           f"UPPER BOUND for {n - exact} of {n} edits (process wall time minus the ladder's "
           "time after the stage)")
    met = wall is not None and wall <= TARGET_COLD
    lines = [f"targets (issue 4), medians over the edits of the {scope}:",
             f"  first verdict from process start, cold `ghostrun run`, ÷ plain re-run: "
             f"{_f(wall, '.3f')} ({how}; ladder elapsed alone {_f(cold, '.3f')})"
             f"  target ≤ 0.100  {mark(wall, met) if met or exact == n else 'not shown'}",
             f"  first run.stage event, hot worker, ÷ plain re-run: {_f(hot, '.3f')}"
             f" (first verdict {_f(t['hot_verdict'], '.3f')})  target ≤ 0.067"
             f"  {mark(hot, hot is not None and hot <= TARGET_HOT)}"]
    for side in ("cold", "hot"):
        x = a[side]
        gr = x["grades"]
        lines.append(
            f"  direction, {side}, all sessions, first verdicts from an approximate stage: "
            f"{gr.get('right', 0)} right, {gr.get('WRONG', 0)} wrong, {gr.get('missed', 0)} "
            f"unclear on a real change, {gr.get('unclear-ok', 0)} unclear within noise, "
            f"{gr.get('overcalled', 0)} decisive within noise → agreement where decisive "
            f"{_pct(x['agreement'])} (target ≥ 90%), right of all beyond noise "
            f"{_pct(x['right_of_beyond'])}; first verdict came from: {x['sources']}")
        if summary["replay"]:
            lines.append(f"    same, replay session only: {d[side]['grades']}")
    for which, label in (("decisive", "first decisive approximate verdict"),
                         ("last_approx", "last approximate verdict (before the exact one)")):
        for side in ("cold", "hot"):
            x = a_all[which][side]
            gr = x["grades"]
            lines.append(
                f"  {label}, {side}: {gr.get('right', 0)} right, {gr.get('WRONG', 0)} wrong, "
                f"{gr.get('missed', 0)} unclear on a real change, {gr.get('overcalled', 0)} "
                f"decisive within noise → right of all beyond noise {_pct(x['right_of_beyond'])}"
                + (f"; ÷plain median {_f(a_all['times'][f'{side}_decisive'], '.3f')}"
                   if which == "decisive" else "")
                + (f" (from process start {_f(a_all['times']['cold_decisive_wall'], '.3f')})"
                   if which == "decisive" and side == "cold" else ""))
    for side in ("cold", "hot"):
        for scope_name, group in (("all sessions", a_all), ("replay", summary["replay"])):
            if group is None:
                continue
            x = group["signs"][side]
            lines.append(
                f"  sign of the approximate paired delta = sign of the full delta, edits beyond "
                f"noise ({side}, {scope_name}): first stage {_pct(x['first']['agreement'])} "
                f"{x['first']['counts']}, last approximate stage "
                f"{_pct(x['last']['agreement'])} {x['last']['counts']}  target ≥ 90%")
    for side in ("cold", "hot"):
        x = summary["all"]["extrapolation"][side]
        lines.append(f"  extrapolation ({side}): |extrapolated − full| median "
                     f"{_f(x['median_error'], '.5f')}, max {_f(x['max_error'], '.5f')} over "
                     f"{x['n']} edits; the stage's own metric is off by "
                     f"{_f(x['median_stage_error'], '.5f')} (median)")
    return lines


def _workflow_lines(summary: dict[str, Any]) -> list[str]:
    lines = ["per workflow (medians over edits): cold first verdict ÷plain (ladder elapsed; "
             "from process start) · hot "
             "first event ÷plain · exact result ÷plain, cold / hot · plain s · cold grades"]
    for name, g in summary["per_workflow"].items():
        t = g["times"]
        bound = "" if t.get("cold_wall_exact", 0) == t.get("cold_wall_n", 0) else "≤"
        cold = f"{_f(t['cold_verdict'], '.3f')} ({bound}{_f(t['cold_verdict_wall'], '.3f')})"
        lines.append(f"  {name:<10} {cold} · {_f(t['hot_first_event'], '.3f')} · "
                     f"{_f(t['cold_total'], '.2f')} / {_f(t['hot_total'], '.2f')} · "
                     f"{_f(t['plain_seconds'], '.1f')} s · "
                     f"{g['direction']['cold']['grades']} from {g['direction']['cold']['sources']}")
    return lines


def render(summary: dict[str, Any]) -> str:
    cfg = summary["config"]
    blocks = [_session_block(s) for s in summary["sessions"]]
    blocks.append("\n".join(_workflow_lines(summary)))
    blocks.append("\n".join(_target_lines(summary)))
    blocks.append("verdict margin (the cold ladders' approximate stages with a paired delta and "
                  "an error): what a margin of c × standard error would have said (the ladder "
                  "uses c = 2.92 for three pairs)\n"
                  + summary["margins"]["text"])
    if summary["stale"]:
        blocks.append(f"STALE: a ladder's full metric differs from the plain re-run: "
                      f"{summary['stale']}")
    blocks.append(f"load average (1, 5, 15 min): start {cfg['load_start']}, end "
                  f"{cfg.get('load_end')}; {cfg['cpus']} cores; threads {cfg['threads']}")
    blocks.append(f"reproduce: {cfg['command']}")
    return "\n\n".join(blocks)
