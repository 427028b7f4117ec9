"""Replay a scripted editing session through every runner and report the figures.

    python -m bench.replay [--rows N] [--quick] [--edits LIST] [--runners LIST] [--out FILE]

Steps are interleaved: each edit is applied to every runner's own copy of the workflow,
then each runner re-runs it, so that machine noise spreads over all runners alike.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shlex
import signal
import statistics
import subprocess
import sys
import time
from importlib import metadata
from pathlib import Path

from bench.replay.data import census_csv
from bench.replay.edits import BASELINE, Edit, EditError, apply_edit, check_session, select_edits
from bench.replay.report import Session, render, summarise
from bench.replay.runners import RUNNERS, Context, Runner, RunnerSkipped, select_runners

__all__ = ["main"]

HERE = Path(__file__).resolve().parent
REPO_ROOT = HERE.parents[1]
TEMPLATE = HERE / "template_pipeline.py"
FULL_ROWS, QUICK_ROWS = 500_000, 60_000


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m bench.replay", description=__doc__.split("\n")[0])
    p.add_argument("--rows", type=int, default=None,
                   help=f"rows of data (default {FULL_ROWS:,}; {QUICK_ROWS:,} with --quick)")
    p.add_argument("--quick", action="store_true", help="a smoke run on a small table")
    p.add_argument("--seed", type=int, default=0, help="data seed (default 0)")
    p.add_argument("--edits", default="all", help="comma-separated edit names or numbers 1..N")
    p.add_argument("--runners", default="all", help=f"comma-separated subset of {list(RUNNERS)}")
    p.add_argument("--threads", type=int, default=os.cpu_count() or 1,
                   help="OMP_NUM_THREADS for every runner (default: all cores)")
    p.add_argument("--timeout", type=float, default=None,
                   help="seconds before a step is killed (default 120 + 1.5 s per 1k rows)")
    p.add_argument("--workdir", type=Path, default=HERE / ".work",
                   help="cached data and runner folders (default bench/replay/.work)")
    p.add_argument("--out", type=Path, default=None,
                   help="write every figure to this JSON file (default WORKDIR/results.json)")
    return p


def _command(args: argparse.Namespace, rows: int, timeout: float) -> str:
    parts = ["python", "-m", "bench.replay", "--rows", str(rows), "--seed", str(args.seed),
             "--edits", args.edits, "--runners", args.runners, "--threads", str(args.threads),
             "--timeout", f"{timeout:g}"]
    if args.workdir != HERE / ".work":
        parts += ["--workdir", str(args.workdir)]
    if args.out:
        parts += ["--out", str(args.out)]
    return "cd " + shlex.quote(str(REPO_ROOT)) + " && " + shlex.join(parts)


def _env(threads: int) -> dict[str, str]:
    env = dict(os.environ)
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        env[var] = str(threads)
    # On a busy machine, OpenMP's default spin-waiting made LightGBM 10x slower here.
    env["OMP_WAIT_POLICY"] = "PASSIVE"
    env["PYTHONUNBUFFERED"] = "1"
    return env


def _process_start(env: dict[str, str], repo_root: Path) -> dict[str, float]:
    """Median wall time of bare interpreter starts, to read the other figures against."""
    probes = {"python -c pass": [sys.executable, "-c", "pass"],
              "ghostrun --version": [sys.executable, "-m", "ghostrun", "--version"]}
    out = {}
    for label, cmd in probes.items():
        times = []
        for _ in range(3):
            t0 = time.perf_counter()
            done = subprocess.run(cmd, cwd=repo_root, env=env, capture_output=True, timeout=120)
            times.append(time.perf_counter() - t0)
        if done.returncode == 0:
            out[label] = statistics.median(times)
    return out


def _versions() -> dict[str, str]:
    names = ("ghostrun", "numpy", "pandas", "pyarrow", "scikit-learn", "lightgbm", "xgboost",
             "joblib", "sf-hamilton")
    found = {}
    for name in names:
        try:
            found[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            found[name] = "missing"
    return {"python": platform.python_version(), **found}


def _replay(session: Session, runners: list[Runner], steps: list[Edit], template: str) -> None:
    text = template
    active = list(runners)
    for i, edit in enumerate(steps):
        if i:
            text = apply_edit(text, edit)
        line = []
        for runner in list(active):
            runner.write(text)
            try:
                outcome = runner.run(edit)
            except RunnerSkipped as exc:
                session.skipped[runner.name] = str(exc)
                active.remove(runner)
                line.append(f"{runner.name} SKIPPED")
                continue
            session.outcomes.setdefault(runner.name, []).append(outcome)
            flag = " ERR" if outcome.error else ""
            line.append(f"{runner.name} {outcome.seconds:.1f}s{flag}")
        print(f"[{i:>2}/{len(steps) - 1}] {edit.name:<22} " + " · ".join(line), flush=True)


def _interrupt(_signum: int, _frame: object) -> None:
    raise KeyboardInterrupt


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    rows = args.rows or (QUICK_ROWS if args.quick else FULL_ROWS)
    timeout = args.timeout or 120 + 1.5 * rows / 1000
    try:
        edits = select_edits(args.edits)
        names = select_runners(args.runners)
        template = TEMPLATE.read_text(encoding="utf-8")
        check_session(template, edits)
    except (EditError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    csv = census_csv(args.workdir / "data", rows, args.seed)
    ctx = Context(REPO_ROOT, args.workdir / "runs", csv, _env(args.threads), timeout)
    steps = [BASELINE, *edits]
    config = {"rows": rows, "seed": args.seed, "threads": args.threads, "timeout": timeout,
              "edits": [e.name for e in edits], "runners": names, "cpus": os.cpu_count(),
              "versions": _versions(), "csv": str(csv)}
    session = Session(_command(args, rows, timeout), config, steps, names,
                      csv_bytes=csv.stat().st_size,
                      process_start=_process_start(ctx.env, REPO_ROOT))
    if "plain" not in names:
        print("note: without the plain runner there is no reference: STALE is not checked.")
    runners = [RUNNERS[name](ctx) for name in names]
    print(f"replaying {len(edits)} edits on {rows:,} rows through {', '.join(names)}")
    signal.signal(signal.SIGTERM, _interrupt)
    try:
        for runner in runners:
            runner.prepare(template)
        _replay(session, runners, steps, template)
    except KeyboardInterrupt:
        session.interrupted = True
        print("\ninterrupted: reporting the steps every runner completed", flush=True)
    finally:
        for runner in runners:
            runner.close()
    session.cache_bytes = {r.name: r.cache_bytes() for r in runners}
    summary = summarise(session)
    print("\n" + render(summary))
    out = args.out or args.workdir / "results.json"
    out.write_text(json.dumps(summary, indent=2, default=str) + "\n", encoding="utf-8")
    print(f"figures written to {out}")
    return 1 if any(r["errors"] for r in summary["runners"].values()) else 0
