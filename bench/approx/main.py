"""Command line of the fidelity bench: run every workflow's session, report, write JSON.

    python -m bench.approx [--quick] [--workflows LIST] [--rows NAME=N,...] [--seeds K]
                           [--threads N] [--timeout S] [--workdir DIR] [--out FILE]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shlex
import signal
import sys
import time
from importlib import metadata
from pathlib import Path

from bench.approx.report import render, summarise
from bench.approx.session import Options, judge_session, run_session
from bench.approx.stamp import code_stamp
from bench.approx.workflows import NAMES, BenchWorkflow, select

__all__ = ["main"]

HERE = Path(__file__).resolve().parent
REPO_ROOT = HERE.parents[1]
FULL_SEEDS, QUICK_SEEDS = 4, 2


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m bench.approx",
                                description="Fidelity benchmark of ghostrun's approximate runs.")
    p.add_argument("--quick", action="store_true",
                   help="smoke run: small tables, the first few edits of each session")
    p.add_argument("--workflows", default="all", help=f"comma-separated subset of {NAMES}")
    p.add_argument("--rows", default="",
                   help="rows per workflow, e.g. replay=300000,demo=100000 (default: each "
                        "workflow's own, smaller with --quick)")
    p.add_argument("--seeds", type=int, default=None,
                   help=f"extra model seeds for the noise threshold (default {FULL_SEEDS}; "
                        f"{QUICK_SEEDS} with --quick)")
    p.add_argument("--threads", type=int, default=os.cpu_count() or 1,
                   help="OMP_NUM_THREADS for every run (default: all cores)")
    p.add_argument("--timeout", type=float, default=900.0,
                   help="seconds before one run is killed (default 900)")
    p.add_argument("--workdir", type=Path, default=HERE / ".work",
                   help="data cache and project folders (default bench/approx/.work)")
    p.add_argument("--out", type=Path, default=None,
                   help="JSON with every figure (default WORKDIR/results.json)")
    p.add_argument("--report", default=None, metavar="FILE[,FILE...]",
                   help="run nothing: report the sessions saved in these JSON files together "
                        "(e.g. the parts of a bench run split to fit a time slot)")
    return p


def _rows(spec: str, workflows: list[BenchWorkflow], quick: bool) -> dict[str, int]:
    rows = {w.name: w.quick_rows if quick else w.rows for w in workflows}
    for item in (s.strip() for s in spec.split(",") if s.strip()):
        name, _, value = item.partition("=")
        if name not in rows or not value.replace("_", "").isdigit():
            raise ValueError(f"--rows: expected NAME=N with NAME one of {list(rows)}, "
                             f"not {item!r}.")
        rows[name] = int(value.replace("_", ""))
    return rows


def _command(args: argparse.Namespace, rows: dict[str, int], seeds: int) -> str:
    parts = ["python", "-m", "bench.approx", "--workflows", ",".join(rows),
             "--rows", ",".join(f"{k}={v}" for k, v in rows.items()), "--seeds", str(seeds),
             "--threads", str(args.threads), "--timeout", f"{args.timeout:g}"]
    if args.quick:
        parts.append("--quick")
    if args.workdir != HERE / ".work":
        parts += ["--workdir", str(args.workdir)]
    if args.out:
        parts += ["--out", str(args.out)]
    return "cd " + shlex.quote(str(REPO_ROOT)) + " && " + shlex.join(parts)


def _env(threads: int) -> dict[str, str]:
    env = dict(os.environ)
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        env[var] = str(threads)
    env["OMP_WAIT_POLICY"] = "PASSIVE"  # spinning OpenMP threads: 10x slower on a busy box
    env["PYTHONUNBUFFERED"] = "1"
    return env


def _versions() -> dict[str, str]:
    found = {"python": platform.python_version()}
    for name in ("ghostrun", "numpy", "pandas", "scikit-learn", "lightgbm", "xgboost"):
        try:
            found[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            found[name] = "missing"
    return found


def _interrupt(_signum: int, _frame: object) -> None:
    raise KeyboardInterrupt


def _write(summary: dict, out: Path) -> None:
    """The JSON first (the figures survive a rendering bug), then the tables."""
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(summary, indent=1, default=str) + "\n", encoding="utf-8")
    print("\n" + render(summary), flush=True)
    print(f"figures written to {out}")


def _report_only(files: str, out: Path) -> int:
    """Sessions from saved results, summarised together; the config lists each part. A
    workflow measured in several files is taken from the last of them."""
    parts = [json.loads(Path(f).read_text(encoding="utf-8")) for f in files.split(",") if f]
    latest = {s["workflow"]: judge_session(s) for part in parts for s in part["sessions"]}
    order = [*NAMES, *sorted(set(latest) - set(NAMES))]
    sessions = [latest[name] for name in order if name in latest]
    configs = [part["config"] for part in parts]
    config = {**configs[0], "parts": configs,
              "command": " ;\n   ".join(c["command"] for c in configs),
              "load_start": [c["load_start"] for c in configs],
              "load_end": [c.get("load_end") for c in configs]}
    _write(summarise(sessions, config), out)
    return 0


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.report:
        return _report_only(args.report, args.out or args.workdir / "results.json")
    try:
        workflows = select(args.workflows)
        rows = _rows(args.rows, workflows, args.quick)
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    seeds = args.seeds if args.seeds is not None else QUICK_SEEDS if args.quick else FULL_SEEDS
    env = _env(args.threads)
    os.environ.update({k: env[k] for k in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS",
                                           "MKL_NUM_THREADS", "OMP_WAIT_POLICY")})  # hot worker
    config = {"command": _command(args, rows, seeds), "rows": rows, "seeds": seeds,
              "quick": args.quick, "threads": args.threads, "timeout": args.timeout,
              "cpus": os.cpu_count(), "versions": _versions(),
              "load_start": [round(x, 2) for x in os.getloadavg()], "started": time.time(),
              "code_start": code_stamp(REPO_ROOT)}
    print(f"fidelity bench: {', '.join(f'{w.name} ({rows[w.name]:,} rows)' for w in workflows)}"
          f"; load {config['load_start']}", flush=True)
    signal.signal(signal.SIGTERM, _interrupt)
    sessions = []
    try:
        for wf in workflows:
            opt = Options(REPO_ROOT, args.workdir, env, args.timeout, rows[wf.name], args.quick,
                          seeds)
            sessions.append(run_session(wf, opt, log=lambda m: print(m, flush=True)))
    except KeyboardInterrupt:
        print("\ninterrupted: reporting the finished workflows", flush=True)
    config["load_end"] = [round(x, 2) for x in os.getloadavg()]
    config["seconds"] = time.time() - config["started"]
    config["code_end"] = code_stamp(REPO_ROOT)
    _write(summarise(sessions, config), args.out or args.workdir / "results.json")
    return 0
