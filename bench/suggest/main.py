"""Command line of the suggestion bench.

python -m bench.suggest [--budget SECONDS] [--workflows LIST] [--seed N]
                        [--workdir DIR] [--out FILE]
"""

from __future__ import annotations

import argparse
import json
import platform
import shlex
import sys
import time
import warnings
from importlib import metadata
from pathlib import Path

from bench.suggest.report import at_least_as_good, render
from bench.suggest.run import improved, run_workflow
from bench.suggest.workflows import NAMES, select

REPO = Path(__file__).resolve().parents[2]


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m bench.suggest",
        description="Do ghostrun's suggestions improve held-out rows, against Optuna TPE?",
    )
    p.add_argument(
        "--budget",
        type=float,
        default=120.0,
        help="seconds of exploration, and of TPE, per workflow (default 120)",
    )
    p.add_argument("--workflows", default="all", help=f"comma-separated subset of {NAMES}")
    p.add_argument("--seed", type=int, default=0, help="exploration and TPE seed (default 0)")
    p.add_argument(
        "--workdir",
        type=Path,
        default=REPO / "bench" / "results" / "suggest",
        help="project folders (default bench/results/suggest, git-ignored)",
    )
    p.add_argument(
        "--out",
        type=Path,
        default=None,
        help="JSON with every figure (default WORKDIR/results.json)",
    )
    return p  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    warnings.filterwarnings("ignore", module="sklearn")  # convergence chatter of variants
    workflows = select(args.workflows)
    args.workdir.mkdir(parents=True, exist_ok=True)
    command = "python -m bench.suggest " + shlex.join(
        ["--budget", f"{args.budget:g}", "--workflows", ",".join(w.name for w in workflows),
         "--seed", str(args.seed)]
    )  # fmt: skip
    started = time.monotonic()
    results = []
    for spec in workflows:
        print(f"[{time.monotonic() - started:6.0f} s] {spec.name}", flush=True)
        results.append(run_workflow(spec, args.workdir, args.budget, args.seed))
    print(render(results, command))
    out = args.out or args.workdir / "results.json"
    payload = {
        "command": command,
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "versions": {p: _version(p) for p in ("scikit-learn", "lightgbm", "xgboost", "optuna")},
        "budget": args.budget,
        "seconds": time.monotonic() - started,
        "top_improves": sum(improved(r["top"]) for r in results),
        "confirmed_improves": sum(improved(r["confirmed"]) for r in results),
        "tpe_improves": sum(improved(r["tpe"]) for r in results),
        "confirmed_at_least_tpe": sum(at_least_as_good(r) for r in results),
        "workflows": results,
    }
    out.write_text(json.dumps(payload, indent=2, default=float))
    print(f"wrote {out}")
    return 0


def _version(package: str) -> str | None:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return None
