"""Command line of the cluster bench.

python -m bench.dask [--budget SECONDS] [--workers N] [--rows N] [--seed N]
                     [--overhead-trials N] [--workdir DIR] [--out FILE]

The local explorer (trials one at a time in this process) against a `LocalCluster` of
`--workers` single-threaded worker processes on this machine: trials per minute, time to
the first confirmed suggestion, and the overhead of a trial beyond its own runs.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shlex
import sys
import time
import warnings
from pathlib import Path
from typing import Any

from bench.dask.run import exploration, overhead
from ghostrun.suggest.backends import LocalBackend

REPO = Path(__file__).resolve().parents[2]


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m bench.dask",
                                description="Exploration on a Dask cluster vs locally.")
    p.add_argument("--budget", type=float, default=90.0,
                   help="seconds of exploration per side (default 90)")
    p.add_argument("--workers", type=int, default=4, help="LocalCluster workers (default 4)")
    p.add_argument("--rows", type=int, default=150000,
                   help="rows of the project (default 150000)")
    p.add_argument("--seed", type=int, default=0, help="exploration seed (default 0)")
    p.add_argument("--all-moves", action="store_true",
                   help="explore every kind of variant (default: knob moves only, trials of "
                        "like cost on both sides)")
    p.add_argument("--overhead-trials", type=int, default=6,
                   help="trials timed one at a time per side (default 6)")
    p.add_argument("--workdir", type=Path, default=REPO / "bench" / "results" / "dask",
                   help="project folders (default bench/results/dask, git-ignored)")
    p.add_argument("--out", type=Path, default=None,
                   help="JSON with every figure (default WORKDIR/results.json)")
    return p  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    warnings.filterwarnings("ignore", module="sklearn")
    from distributed import Client, LocalCluster

    from ghostrun.suggest.backends.cluster import DaskBackend

    command = "python -m bench.dask " + shlex.join(
        ["--budget", f"{args.budget:g}", "--workers", str(args.workers), "--rows",
         str(args.rows), "--seed", str(args.seed)] + (["--all-moves"] if args.all_moves else [])
    )  # fmt: skip
    work = args.workdir
    work.mkdir(parents=True, exist_ok=True)
    results: dict[str, Any] = {"command": command, "cores": os.cpu_count()}
    _say("local exploration")
    local = LocalBackend()
    results["local"] = exploration(work / "local", args.rows, args.budget, args.seed, local,
                                   args.all_moves)  # fmt: skip
    results["local_overhead"] = overhead(work / "local-o", args.rows, args.overhead_trials, local)
    _say(f"starting a LocalCluster of {args.workers} workers")
    t0 = time.monotonic()
    cluster = LocalCluster(processes=True, n_workers=args.workers, threads_per_worker=1,
                           host="127.0.0.1", dashboard_address="127.0.0.1:0")  # fmt: skip
    with cluster, Client(cluster) as client:
        results["cluster_start_seconds"] = time.monotonic() - t0
        t0 = time.monotonic()
        client.run(_warm)  # long-lived workers have their libraries imported, as here
        results["worker_imports_seconds"] = time.monotonic() - t0
        _say("cluster exploration")
        backend = DaskBackend(client)
        try:
            results["cluster"] = exploration(work / "cluster", args.rows, args.budget,
                                             args.seed, backend, args.all_moves)  # fmt: skip
            results["cluster_overhead"] = overhead(work / "cluster-o", args.rows,
                                                   args.overhead_trials, backend)  # fmt: skip
        finally:
            backend.close()
    print(render(results, args.workers))
    out = args.out or work / "results.json"
    results["python"] = sys.version.split()[0]
    results["platform"] = platform.platform()
    out.write_text(json.dumps(results, indent=2, default=str))
    print(f"\nwritten to {out}")
    return 0


def render(r: dict[str, Any], workers: int) -> str:
    local, cluster = r["local"], r["cluster"]
    lo, co = r["local_overhead"], r["cluster_overhead"]

    def ratio(a: float | None, b: float | None) -> str:
        return f"{b / a:.2f}×" if a and b else "—"

    def secs(x: float | None) -> str:
        return "never" if x is None else f"{x:.1f} s"

    def ms(x: float | None) -> str:
        return "—" if x is None else f"{1000 * x:.0f} ms"

    def top(side: dict[str, Any]) -> str:
        t = side["top"][0] if side["top"] else None
        if t is None:
            return "none"
        mark = "confirmed" if t["confirmed_full"] else "not confirmed"
        return f"{t['description']} ({t['expected_delta']:+.4f}, {mark})"

    rows = [
        ("trials", str(local["trials"]), str(cluster["trials"]),
         ratio(local["trials"], cluster["trials"])),
        ("trials per minute", f"{local['trials_per_minute']:.1f}",
         f"{cluster['trials_per_minute']:.1f}",
         ratio(local["trials_per_minute"], cluster["trials_per_minute"])),
        ("first trial result", secs(local["first_result_seconds"]),
         secs(cluster["first_result_seconds"]), ""),
        ("first confirmed suggestion", secs(local["first_confirmed_seconds"]),
         secs(cluster["first_confirmed_seconds"]),
         ratio(cluster["first_confirmed_seconds"], local["first_confirmed_seconds"])),
        ("warm trial, one in flight: wall", secs(lo["warm_wall"]), secs(co["warm_wall"]), ""),
        ("  of which its runs", secs(lo["warm_runs"]), secs(co["warm_runs"]), ""),
        ("  overhead per trial (wall − runs)", ms(lo["warm_overhead"]), ms(co["warm_overhead"]),
         ""),
        ("  of which outside the worker's task", "", ms(co["warm_transport"]), ""),
        ("first round on a new version (one trial per slot)", secs(lo["cold_round_wall"]),
         secs(co["cold_round_wall"]), ""),
        ("  a worker's copy of the project (median)", "", secs(co["cold_setup"]), ""),
    ]  # fmt: skip
    lines = [
        f"# Exploration: local explorer vs a LocalCluster of {workers} workers "
        f"({r['cores']} cores; not counted: cluster start {r['cluster_start_seconds']:.1f} s, "
        f"workers importing their libraries {r['worker_imports_seconds']:.1f} s)",
        "",
        "| figure | local | cluster | cluster vs local |",
        "|---|---|---|---|",
        *(f"| {a} | {b} | {c} | {d} |" for a, b, c, d in rows),
        "",
        f"top suggestion, local:   {top(local)}",
        f"top suggestion, cluster: {top(cluster)}",
        f"stopped: local {local['report']['stopped']}, cluster {cluster['report']['stopped']}",
        "",
        f"reproduce: {r['command']}",
    ]
    return "\n".join(lines)


def _warm() -> None:
    import lightgbm  # noqa: F401
    import pandas  # noqa: F401
    import sklearn.metrics  # noqa: F401

    import ghostrun.suggest.backends.copies  # noqa: F401


def _say(text: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {text}", flush=True)
