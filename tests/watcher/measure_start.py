"""Measure, not test: ProjectWatcher start-up and save latency beside a 20k-file venv.

    python -m tests.watcher.measure_start

Compares start() (watches only the directories the watched paths hang from) with a plain
recursive watchdog watch on the project root, and times save -> on_change with the default
50 ms quiet window. Not collected by pytest (timings are machine-dependent).
"""

from __future__ import annotations

import os
import statistics
import tempfile
import threading
import time
from pathlib import Path

from watchdog.events import FileSystemEventHandler
from watchdog.observers import Observer

from ghostrun.watcher import ProjectWatcher


def make_project(root: Path, dirs: int = 2000, files_per_dir: int = 10) -> None:
    site = root / ".venv" / "lib" / "python3.11" / "site-packages"
    for d in range(dirs):
        pkg = site / f"pkg{d // 50}" / f"mod{d}"
        pkg.mkdir(parents=True)
        for f in range(files_per_dir):
            (pkg / f"f{f}.py").write_text("")
    (root / ".venv" / "pyvenv.cfg").write_text("home = /usr\n")
    (root / "data").mkdir()
    (root / "data" / "census.csv").write_text("a,b\n")
    (root / "pipeline.py").write_text("x = 1\n")


def time_watcher(root: Path) -> float:
    watcher = ProjectWatcher(root, lambda paths: None)
    watcher.watch([root / "pipeline.py", root / "data" / "census.csv"])
    t0 = time.perf_counter()
    watcher.start()
    elapsed = time.perf_counter() - t0
    watcher.stop()
    return elapsed


def time_recursive(root: Path) -> float:
    observer = Observer()
    observer.start()
    t0 = time.perf_counter()
    observer.schedule(FileSystemEventHandler(), str(root), recursive=True)
    elapsed = time.perf_counter() - t0
    observer.stop()
    observer.join()
    return elapsed


def save_latency(root: Path, backups: Path | None = None, saves: int = 30) -> list[float]:
    """Atomic saves (temp file + rename), or with `backups` vim's save with `backupdir`."""
    pipeline = root / "pipeline.py"
    got = threading.Event()
    stamp = [0.0]

    def on_change(paths: frozenset[Path]) -> None:
        stamp[0] = time.perf_counter()
        got.set()

    latencies = []
    with ProjectWatcher(root, on_change) as watcher:
        watcher.watch([pipeline])
        for i in range(saves):
            got.clear()
            t0 = time.perf_counter()
            if backups is None:
                temp = root / ".pipeline.py.tmp"
                temp.write_text(f"x = {i}\n")
                t0 = time.perf_counter()
                os.replace(temp, pipeline)
            else:
                os.rename(pipeline, backups / "pipeline.py~")
                pipeline.write_text(f"x = {i}\n")
                (backups / "pipeline.py~").unlink()
            if got.wait(5):
                latencies.append(stamp[0] - t0)
            time.sleep(0.1)
    return latencies


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp).resolve()
        make_project(root)
        n_files = sum(len(files) for _, _, files in os.walk(root))
        print(f"project with {n_files} files")
        ours = [time_watcher(root) for _ in range(5)]
        print(f"ProjectWatcher.start(): median {statistics.median(ours) * 1e3:.1f} ms")
        recursive = [time_recursive(root) for _ in range(3)]
        print(f"recursive watch on root: median {statistics.median(recursive) * 1e3:.1f} ms")
        report("atomic save", save_latency(root))
        with tempfile.TemporaryDirectory() as backups:
            report("vim save, backupdir elsewhere", save_latency(root, Path(backups)))


def report(what: str, latencies: list[float]) -> None:
    print(
        f"{what} -> on_change: median {statistics.median(latencies) * 1e3:.1f} ms, "
        f"max {max(latencies) * 1e3:.1f} ms over {len(latencies)} saves"
    )


if __name__ == "__main__":
    main()
