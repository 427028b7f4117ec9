"""One workflow's session: noise runs, then every edit through plain, cold and hot.

Steps are interleaved as in the replay bench: each edit is written into the three
project folders, then plain, cold and hot run it in turn, so machine noise spreads over
all three. The model-seed runs that set the noise threshold run first, on the unedited
workflow, in a fourth folder.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.approx.judge import judge_ladder, noise_threshold
from bench.approx.runs import Cold, Hot, LadderRun, Plain, make_project, write
from bench.approx.stamp import code_stamp
from bench.approx.workflows import BenchWorkflow
from bench.approx.workflows.spec import reseeded
from bench.replay.edits import BASELINE, apply_edit
from bench.replay.runners.base import Context

__all__ = ["Options", "judge_session", "run_session"]


@dataclass(frozen=True)
class Options:
    repo_root: Path
    workdir: Path
    env: dict[str, str]
    timeout: float
    rows: int
    quick: bool
    seeds: int  # model seeds besides the workflow's own, for the noise threshold


def _load() -> list[float]:
    return [round(x, 2) for x in os.getloadavg()]


def _metric(outcome: Any) -> float | None:
    return None if outcome.error else outcome.value


def run_session(wf: BenchWorkflow, opt: Options, log=print) -> dict[str, Any]:
    """Every figure of one workflow: noise, then one record per step (baseline first)."""
    data = wf.data(opt.workdir / "data", opt.rows)
    base = opt.workdir / "runs" / wf.name
    ctx = Context(opt.repo_root, base, Path("-"), opt.env, opt.timeout)
    folders = {name: base / name for name in ("plain", "cold", "hot", "noise")}
    for folder in folders.values():
        make_project(folder, wf, data, wf.template)
    noise = _noise(wf, ctx, folders["noise"], opt, log)
    plain, cold = Plain(ctx, folders["plain"]), Cold(ctx, folders["cold"])
    hot = Hot(folders["hot"], opt.timeout)
    steps, text = [], wf.template
    try:
        for i, step in enumerate([BASELINE, *wf.session(opt.quick)]):
            if i:
                text = apply_edit(text, step)
            for name in ("plain", "cold", "hot"):
                write(folders[name], text)
            record = _step(i, step, wf, plain, cold, hot)
            record["code"] = code_stamp(opt.repo_root)
            steps.append(record)
            log(_progress(wf, record))
    finally:
        hot.close()
    return _judged(wf, opt, noise, steps)


def _noise(wf: BenchWorkflow, ctx: Context, folder: Path, opt: Options, log) -> dict[str, Any]:
    """The unedited workflow's full metric under `opt.seeds` other model seeds."""
    if wf.reseed is None:
        return {"values": [], "note": "deterministic model: no seed to move"}
    runner, values, seconds = Plain(ctx, folder), [], []
    for k in range(1, opt.seeds + 1):
        write(folder, reseeded(wf.template, wf.reseed, k))
        outcome = runner.run_once()
        if outcome.error:
            log(f"  noise seed +{k}: {outcome.error}")
            continue
        values.append(outcome.value)
        seconds.append(outcome.seconds)
        log(f"  {wf.name} noise: model seed +{k}: {outcome.value:.6f} ({outcome.seconds:.1f} s)")
    return {"values": values, "seconds": seconds}


def _step(i: int, step: Any, wf: BenchWorkflow, plain: Plain, cold: Cold, hot: Hot
          ) -> dict[str, Any]:
    load_before = _load()
    p = plain.run_once()
    c = cold.run()
    h = hot.run()
    return {
        "index": i, "edit": step.name, "description": step.description,
        "kind": wf.kinds.get(step.name, "start"),
        "plain": {"seconds": p.seconds, "metric": _metric(p), "primary": p.primary,
                  "error": p.error},
        "cold": _ladder_record(c, cold_times=True),
        "hot": _ladder_record(h, cold_times=False),
        "load": {"before": load_before, "after": _load()},
        "clock": time.time(),
    }


def _ladder_record(run: LadderRun, cold_times: bool) -> dict[str, Any]:
    """Raw figures of one ladder run; `times[i]` is when stage i reached the user.

    Cold: the stage's own `elapsed` (from the start of the ladder, after the process has
    started and loaded the workflow), and `wall_times[i]`, from process start: when the
    history recorded the stage's run as finished, minus the wall clock just before the
    process started (`wall_exact[i]` True); for a stage without a recorded run, the old
    upper bound, the process's wall time minus what the ladder spent after that stage
    (`wall_exact[i]` False)."""
    out: dict[str, Any] = {"seconds": run.seconds, "error": run.error, "stages": run.stages,
                           "goal": (run.result or {}).get("goal"),
                           "primary": (run.result or {}).get("primary"),
                           "metrics": (run.result or {}).get("metrics")}
    if cold_times:
        elapsed = [s["elapsed"] for s in run.stages]
        out["times"] = elapsed
        last = elapsed[-1] if elapsed else 0.0
        bounds = [run.seconds - (last - e) for e in elapsed]
        wall, exact = [], []
        for stage, bound in zip(run.stages, bounds, strict=True):
            done = run.finished.get(stage.get("run_id", -1))
            found = done is not None and run.started_wall is not None
            wall.append(done - run.started_wall if found else bound)  # type: ignore[operator]
            exact.append(found)
        out["wall_times"], out["wall_exact"], out["wall_bounds"] = wall, exact, bounds
        out["started_wall"] = run.started_wall
    else:
        out["times"] = run.arrivals
    return out


def _progress(wf: BenchWorkflow, r: dict[str, Any]) -> str:
    def ladder(x: dict[str, Any]) -> str:
        if x["error"]:
            return "ERR " + x["error"][:80]
        trace = " ".join(f"{s['fidelity']['fraction']:g}:{s.get('verdict') or '-'}"
                         for s in x["stages"])
        return f"{x['seconds']:.1f}s [{trace}]"

    p = r["plain"]
    plain = f"{p['seconds']:.1f}s {p['metric']:.5f}" if p["metric"] is not None else "ERR"
    return (f"  {wf.name} [{r['index']:>2}] {r['edit']:<22} plain {plain} · cold "
            f"{ladder(r['cold'])} · hot {ladder(r['hot'])} · load {r['load']['after'][0]}")


def _judged(wf: BenchWorkflow, opt: Options, noise: dict[str, Any],
            steps: list[dict[str, Any]]) -> dict[str, Any]:
    # ghostrun's sources decide; a commit of other files (this bench's) changes nothing
    stamps = {s["code"]["sources"] for s in steps if "code" in s}
    record = {"workflow": wf.name, "description": wf.description, "rows": opt.rows,
              "code_changed": len(stamps) > 1, "code": sorted(stamps), "noise": noise,
              "steps": steps}
    return judge_session(record)


def judge_session(record: dict[str, Any]) -> dict[str, Any]:
    """Grade every step of a session record (raw figures in, judged figures added), so a
    saved session can be judged again under a newer judge."""
    steps, noise = record["steps"], record["noise"]
    baseline = steps[0]["plain"]["metric"] if steps else None
    sigma, tau = noise_threshold([*noise["values"], baseline] if baseline is not None else [])
    goal = next((s["cold"]["goal"] for s in steps if s["cold"]["goal"]), "max")
    for prev, step in zip(steps[:-1], steps[1:], strict=True):
        before, after = prev["plain"]["metric"], step["plain"]["metric"]
        delta = None if before is None or after is None else after - before
        step["full_delta"] = delta
        step["beyond_noise"] = None if delta is None else abs(delta) > max(tau, 1e-12)
        primary = step["plain"]["primary"] or ""
        for side in ("cold", "hot"):
            rec = step[side]
            rec["judged"] = None if rec["error"] else judge_ladder(
                rec["stages"], rec["times"], step["plain"]["seconds"], delta, after,
                primary, tau, goal)
            rec["exact"] = _exact(rec, after, primary)
        _add_wall(step)
    return {**record, "goal": goal,
            "noise": {**noise, "baseline": baseline, "sigma": sigma, "tau": tau}}


def _add_wall(step: dict[str, Any]) -> None:
    """The cold first verdict's (and first decisive verdict's) time from process start.
    Records written before the history was read (no `wall_exact`) hold only the bound."""
    rec, plain = step["cold"], step["plain"]["seconds"]
    wall, judged = rec.get("wall_times"), rec["judged"]
    if not judged or not wall:
        return
    exact = rec.get("wall_exact") or [False] * len(wall)
    for which in ("verdict", "decisive"):
        found = judged.get(which)
        if not found or found["index"] >= len(wall):
            continue
        i = found["index"]
        found["wall_seconds"] = wall[i]
        found["wall_ratio"] = wall[i] / plain if plain else None
        found["wall_exact"] = bool(exact[i])


def _exact(rec: dict[str, Any], truth: float | None, primary: str) -> bool | None:
    """Whether the ladder's last (full) stage equals the plain re-run's metric."""
    metrics = rec.get("metrics") or {}
    if truth is None or primary not in metrics:
        return None
    return abs(metrics[primary] - truth) <= 1e-9 * max(1.0, abs(truth))
