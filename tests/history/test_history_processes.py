"""Several processes on one file, and processes that die in the middle of a write.

Workers run in spawned processes on real files; they must stay importable top-level
functions. No test sleeps: each waits on the event or exit it expects, with a timeout.
"""

from __future__ import annotations

import multiprocessing
import multiprocessing.connection
import os
import signal
import sqlite3
import threading
from multiprocessing.synchronize import Barrier, Event
from pathlib import Path

import pytest

from ghostrun.errors import HistoryError
from ghostrun.history import History
from ghostrun.history._liveness import process_token
from ghostrun.workflow.types import FULL, Fidelity

from .builders import make_snapshot

CTX = multiprocessing.get_context("spawn")
WORKERS = 3
RUNS_PER_WORKER = 120
TIMEOUT = 60
DIED_INSIDE_WRITE = 86
HALF = Fidelity(fraction=0.5)


def _one_run(history: History, worker: int, i: int) -> None:
    run_id = history.start_run("v1", kind="explore", fidelity=HALF, parent_id=None)
    for op in ("load", "model"):
        history.record_op(run_id, op, state="computed", seconds=0.1, rows=i, nbytes=worker,
                          key=None, content_hash=None, change=None)  # fmt: skip
    metrics = {"worker": worker, "i": i, "x": 1.0}
    history.finish_run(run_id, status="ok", seconds=0.2, metrics=metrics)


def _write_many(path: str, worker: int, barrier: Barrier) -> None:
    barrier.wait(TIMEOUT)  # all open a brand-new file at once, then write at once
    with History(Path(path)) as history:
        history.save_version(make_snapshot("v1"), workflow_path="w.py")
        for i in range(RUNS_PER_WORKER):
            _one_run(history, worker, i)
            history.remember_file_hash(f"w{worker}-{i}.csv", i, i, f"d{worker}-{i}")


def _check_complete(history: History, workers: int, runs_each: int) -> None:
    runs = history.runs(limit=10_000)
    assert len(runs) == workers * runs_each
    assert all(r.status == "ok" and len(r.ops) == 2 for r in runs)
    seen = {(int(r.metrics["worker"]), int(r.metrics["i"])) for r in runs}
    assert seen == {(w, i) for w in range(workers) for i in range(runs_each)}


def test_processes_writing_at_once_lose_nothing(db_path: Path) -> None:
    barrier = CTX.Barrier(WORKERS)
    path = str(db_path)
    workers = [CTX.Process(target=_write_many, args=(path, w, barrier)) for w in range(WORKERS)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(TIMEOUT)
        if worker.is_alive():  # stuck: fail below, but leave no process behind
            worker.kill()
            worker.join(TIMEOUT)
    assert [w.exitcode for w in workers] == [0] * WORKERS
    with History(db_path) as history:
        _check_complete(history, WORKERS, RUNS_PER_WORKER)
        assert history.cached_file_hash("w1-119.csv", 119, 119) == "d1-119"
        assert history.cached_file_hash("w0-0.csv", 0, 0) == "d0-0"


def test_threads_can_share_one_history(history: History) -> None:
    history.save_version(make_snapshot("v1"), workflow_path="w.py")
    threads = [threading.Thread(target=lambda w=w: [_one_run(history, w, i) for i in range(40)])
               for w in range(6)]  # fmt: skip
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(TIMEOUT)
    _check_complete(history, 6, 40)


def _die_inside_finish(path: str) -> None:
    """Start a run, then exit abruptly halfway through finish_run's transaction."""
    history = History(Path(path))
    run_id = history.start_run("v1", kind="user", fidelity=FULL, parent_id=None)
    history.record_op(run_id, "load", state="computed", seconds=1.0, rows=5, nbytes=40,
                      key="k", content_hash="c", change="new")  # fmt: skip
    conn = history._db._conn  # reaching in to pick the exact moment to die
    conn.execute("PRAGMA cache_size = 1")  # make SQLite spill uncommitted pages into the WAL
    inserted = 0

    def die_halfway(statement: str) -> None:
        nonlocal inserted
        if statement.startswith("INSERT INTO metrics"):
            inserted += 1
            if inserted == 3000:
                os._exit(DIED_INSIDE_WRITE)

    conn.set_trace_callback(die_halfway)
    history.finish_run(run_id, status="ok", seconds=1.0, metrics={f"m{i}": i for i in range(5000)})
    os._exit(0)


def _integrity(path: Path) -> str:
    with sqlite3.connect(path) as conn:
        return str(conn.execute("PRAGMA integrity_check").fetchone()[0])


def test_a_process_dying_inside_a_write_leaves_a_valid_database(db_path: Path) -> None:
    with History(db_path) as history:
        history.save_version(make_snapshot("v1"), workflow_path="w.py")
    child = CTX.Process(target=_die_inside_finish, args=(str(db_path),))
    child.start()
    child.join(TIMEOUT)
    assert child.exitcode == DIED_INSIDE_WRITE
    assert Path(f"{db_path}-wal").stat().st_size > 100_000  # uncommitted pages did reach disk

    assert _integrity(db_path) == "ok"
    with History(db_path) as history:
        run = history.run(1)
        assert (run.status, run.metrics, [op.op for op in run.ops]) == ("running", {}, ["load"])
        assert history.mark_interrupted() == 1
        run = history.run(1)
        assert run.status == "interrupted" and f"pid {child.pid}" in run.error
        assert history.mark_interrupted() == 0


def _write_until_killed(path: str, progress: Event) -> None:
    with History(Path(path)) as history:
        for i in range(1_000_000):
            _one_run(history, 0, i)
            if i == 30:
                progress.set()


def test_a_process_killed_at_any_moment_leaves_whole_runs(db_path: Path) -> None:
    with History(db_path) as history:
        history.save_version(make_snapshot("v1"), workflow_path="w.py")
    progress = CTX.Event()
    child = CTX.Process(target=_write_until_killed, args=(str(db_path), progress))
    child.start()
    assert progress.wait(TIMEOUT)
    os.kill(child.pid, signal.SIGKILL)
    child.join(TIMEOUT)
    assert child.exitcode == -signal.SIGKILL

    assert _integrity(db_path) == "ok"
    with History(db_path) as history:
        finished = history.runs(limit=1_000_000, status="ok")
        assert len(finished) > 30
        assert all(len(r.metrics) == 3 and len(r.ops) == 2 for r in finished)
        left = len(history.runs(status="running"))
        assert left <= 1
        assert history.mark_interrupted() == left
        assert history.runs(status="running") == []


def _start_and_wait(path: str, started: Event, release: Event) -> None:
    history = History(Path(path))
    history.start_run("v1", kind="user", fidelity=FULL, parent_id=None)
    started.set()
    release.wait(TIMEOUT)
    os._exit(0)  # dies without finishing its run


def test_runs_of_live_processes_are_not_marked(db_path: Path) -> None:
    with History(db_path) as history:
        history.save_version(make_snapshot("v1"), workflow_path="w.py")
        own = history.start_run("v1", kind="user", fidelity=FULL, parent_id=None)
        started, release = CTX.Event(), CTX.Event()
        child = CTX.Process(target=_start_and_wait, args=(str(db_path), started, release))
        child.start()
        try:
            assert started.wait(TIMEOUT)
            assert history.mark_interrupted() == 0
        finally:
            release.set()
            child.join(TIMEOUT)
        assert history.mark_interrupted() == 1
        statuses = [(r.run_id, r.status) for r in history.runs()]
        assert statuses == [(2, "interrupted"), (own, "running")]


def _exit_at_once(path: str) -> None:
    History(Path(path)).start_run("v1", kind="user", fidelity=FULL, parent_id=None)
    os._exit(0)


@pytest.mark.skipif(not hasattr(os, "waitid"), reason="needs os.waitid to wait without reaping")
def test_a_dead_but_unreaped_process_counts_as_dead(db_path: Path) -> None:
    with History(db_path) as history:
        history.save_version(make_snapshot("v1"), workflow_path="w.py")
        child = CTX.Process(target=_exit_at_once, args=(str(db_path),))
        child.start()
        try:
            assert multiprocessing.connection.wait([child.sentinel], TIMEOUT)
            os.waitid(os.P_PID, child.pid, os.WEXITED | os.WNOWAIT)  # a zombie now, not reaped
            assert history.mark_interrupted() == 1
        finally:
            child.join(TIMEOUT)


NO_PROC = pytest.mark.skipif(
    process_token(os.getpid()) is None, reason="no /proc: pid reuse undetectable"
)


@NO_PROC
def test_a_live_process_with_a_reused_pid_does_not_keep_a_run_alive(db_path: Path) -> None:
    with History(db_path) as history:
        history.save_version(make_snapshot("v1"), workflow_path="w.py")
        started, release = CTX.Event(), CTX.Event()
        child = CTX.Process(target=_start_and_wait, args=(str(db_path), started, release))
        child.start()
        try:
            assert started.wait(TIMEOUT)
            with sqlite3.connect(db_path) as conn:  # as if an earlier process had had its pid
                conn.execute("UPDATE runs SET pid_token = 'another-boot:1'")
            assert history.mark_interrupted() == 1
        finally:
            release.set()
            child.join(TIMEOUT)


@NO_PROC
def test_a_reused_pid_does_not_keep_a_run_alive(db_path: Path) -> None:
    with History(db_path) as history:
        history.save_version(make_snapshot("v1"), workflow_path="w.py")
        run_id = history.start_run("v1", kind="user", fidelity=FULL, parent_id=None)
    with sqlite3.connect(db_path) as conn:  # as if an earlier process had had our pid
        conn.execute("UPDATE runs SET pid_token = 'another-boot:1' WHERE run_id = ?", (run_id,))
    with History(db_path) as history:
        assert history.mark_interrupted() == 1


def _use_inherited(history: History, done: Event) -> None:
    try:
        history.runs()
    except HistoryError as exc:
        if "another process" in str(exc):
            done.set()


def test_a_history_inherited_through_fork_refuses_to_work(history: History) -> None:
    if "fork" not in multiprocessing.get_all_start_methods():
        pytest.skip("no fork on this platform")
    done = multiprocessing.get_context("fork").Event()
    child = multiprocessing.get_context("fork").Process(target=_use_inherited, args=(history, done))
    child.start()
    child.join(TIMEOUT)
    assert done.is_set()
    assert history.runs() == []  # the parent's connection is unharmed
