"""`python -m bench.daemon`: save → run.started latency, and what an idle daemon costs.

Measured on the demo workflow (census + orders, LightGBM) with a real daemon, real saves
(temp file + rename, as editors do) and a real ZeroMQ client:

- latency: wall time from the rename to the client receiving `run.started`, per save
  (median, p90), against the baseline of the same run: a fresh Python process importing
  the workflow module, the least a daemon-less tool pays before it can start anything;
- idle: the daemon process's CPU share and resident memory over `--idle` seconds with no
  saves (its run worker, which holds the hot cache, is reported separately), against an
  idle Python interpreter measured alongside.

Targets (issue 5): latency median <= 300 ms; idle CPU <= 1 %, RSS <= 150 MB.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from ghostrun.daemon.lock import holder
from ghostrun.demo.data import write_demo_data
from ghostrun.ipc import Client

TEMPLATE = Path(__file__).resolve().parents[2] / "ghostrun" / "demo" / "template"
KNOB = "num_leaves=gr.knob({}, low=4, high=256, log=True)"


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.daemon", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--saves", type=int, default=20)
    parser.add_argument("--idle", type=float, default=60.0, help="seconds of idle measurement")
    parser.add_argument("--out", type=Path, default=None, help="also write the figures as JSON")
    args = parser.parse_args()

    root = Path(tempfile.mkdtemp(prefix="ghostrun-bench-daemon-"))
    try:
        figures = measure(root, args.rows, args.saves, args.idle)
    finally:
        subprocess.run([sys.executable, "-m", "ghostrun", "down", "--project", str(root)],
                       capture_output=True, timeout=60)
        shutil.rmtree(root, ignore_errors=True)
    report(figures, args)
    if args.out:
        args.out.write_text(json.dumps(figures, indent=2))


def measure(root: Path, rows: int, saves: int, idle: float) -> dict[str, Any]:
    for name in ("pipeline.py", "pyproject.toml"):
        shutil.copy(TEMPLATE / name, root / name)
    write_demo_data(root / "data", rows)
    subprocess.run([sys.executable, "-m", "ghostrun", "up", "--project", str(root),
                    "--notify", "off", "--idle-after", "3600"], check=True, timeout=120)
    state = root / ".ghostrun"
    with Client(state, timeout=30) as client, client.events() as stream:
        wait(stream, "run.finished", timeout=600)
        latencies, daemon_side = [], []
        for i in range(saves):
            old, new = (31, 63) if i % 2 == 0 else (63, 31)
            saved = edit(root / "pipeline.py", KNOB.format(old), KNOB.format(new))
            started = wait(stream, "run.started", timeout=120)
            latencies.append(time.time() - saved)
            daemon_side.append(started["latency"])
            wait(stream, "run.finished", timeout=600)
        pid = holder(state / "daemon.pid")
        worker = client.request("status")["worker"]["pid"]
    assert pid, "the daemon is not running"
    baseline_import = fresh_import_seconds(root, repeats=3)
    sleeper = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(1e6)"])
    try:
        time.sleep(1.0)
        idle_figures = idle_usage({"daemon": pid, "worker": worker, "python": sleeper.pid}, idle)
    finally:
        sleeper.kill()
    return {
        "rows": rows,
        "saves": saves,
        "latency": summary(latencies),
        "latency_daemon_side": summary(daemon_side),
        "baseline_fresh_import": baseline_import,
        "idle": idle_figures,
    }


def edit(path: Path, old: str, new: str) -> float:
    """An editor's save (write a temp file, rename it over the target); the rename's time."""
    text = path.read_text()
    assert old in text, f"{old!r} not in {path.name}"
    temp = path.with_name(f".{path.name}.tmp")
    temp.write_text(text.replace(old, new, 1))
    saved = time.time()
    os.replace(temp, path)
    return saved


def wait(stream: Any, topic: str, timeout: float) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while (left := deadline - time.monotonic()) > 0:
        event = stream.next(timeout=left)
        if event is None:
            break
        if event[0] == topic:
            return event[1]
        if event[0] == "run.failed" and event[1]["error"]["code"] not in ("cancelled",
                                                                          "superseded"):
            raise SystemExit(f"the run failed: {event[1]['error']}")
    raise SystemExit(f"no {topic} within {timeout} s")


def fresh_import_seconds(root: Path, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        subprocess.run([sys.executable, "-c", "import runpy; runpy.run_path('pipeline.py')"],
                       cwd=root, check=True, timeout=120)
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def idle_usage(pids: dict[str, int], seconds: float) -> dict[str, dict[str, float]]:
    before = {name: cpu_seconds(pid) for name, pid in pids.items()}
    time.sleep(seconds)
    after = {name: cpu_seconds(pid) for name, pid in pids.items()}
    return {
        name: {
            "cpu_percent": 100 * (after[name] - before[name]) / seconds,
            "rss_mb": rss_bytes(pid) / 2**20,
        }
        for name, pid in pids.items()
    }


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def rss_bytes(pid: int) -> int:
    pages = int(Path(f"/proc/{pid}/statm").read_text().split()[1])
    return pages * os.sysconf("SC_PAGE_SIZE")


def summary(values: list[float]) -> dict[str, float]:
    ordered = sorted(values)
    return {
        "median": statistics.median(ordered),
        "p90": ordered[min(len(ordered) - 1, int(0.9 * len(ordered)))],
        "max": ordered[-1],
    }


def report(f: dict[str, Any], args: argparse.Namespace) -> None:
    lat, base = f["latency"], f["baseline_fresh_import"]
    idle = f["idle"]
    print(f"ghostrun daemon benchmark · demo workflow, {f['rows']:,} rows, {f['saves']} saves")
    print(f"save → run.started   median {lat['median'] * 1000:6.0f} ms   p90 "
          f"{lat['p90'] * 1000:6.0f} ms   max {lat['max'] * 1000:6.0f} ms   (target ≤ 300 ms)")
    print(f"  of which in the daemon (request → started): median "
          f"{f['latency_daemon_side']['median'] * 1000:.0f} ms")
    print(f"baseline: fresh process importing the workflow   {base * 1000:6.0f} ms   "
          f"ratio {lat['median'] / base:.2f}×")
    for name in ("daemon", "worker", "python"):
        label = {"daemon": "idle daemon", "worker": "its run worker (hot cache)",
                 "python": "baseline: idle python"}[name]
        print(f"{label:<28} CPU {idle[name]['cpu_percent']:5.2f} %   RSS "
              f"{idle[name]['rss_mb']:6.1f} MB")
    ratio = idle["daemon"]["rss_mb"] / idle["python"]["rss_mb"]
    print(f"idle daemon vs idle python: RSS {ratio:.1f}×   (targets: CPU ≤ 1 %, RSS ≤ 150 MB)")
    print(f"reproduce: python -m bench.daemon --rows {args.rows} --saves {args.saves} "
          f"--idle {args.idle:g}")


if __name__ == "__main__":
    main()
