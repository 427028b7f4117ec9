"""Real Dask clusters for the cluster back end's tests.

- `local_cluster`: a `distributed.LocalCluster` with two worker processes of one thread,
  shared by the module's tests (starting one takes seconds).
- `dask_processes`: a scheduler and two workers started as separate `dask scheduler` /
  `dask worker` processes on localhost (free ports), workers without a nanny so that
  killing one kills the process running its trial; stopped after the test.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

distributed = pytest.importorskip("distributed")

START_TIMEOUT = 60


@pytest.fixture(scope="module")
def local_cluster() -> Iterator[str]:
    cluster = distributed.LocalCluster(
        processes=True, n_workers=2, threads_per_worker=1, dashboard_address="127.0.0.1:0",
        host="127.0.0.1",
    )  # fmt: skip
    try:
        yield cluster.scheduler_address
    finally:
        cluster.close()


@dataclass
class DaskProcesses:
    """A scheduler and its workers as OS processes."""

    address: str
    scheduler: subprocess.Popen[bytes]
    workers: list[subprocess.Popen[bytes]] = field(default_factory=list)

    def worker_pids(self, client: distributed.Client) -> dict[str, int]:
        """Worker address -> pid of the process running its tasks."""
        return dict(client.run(os.getpid))

    def stop(self) -> None:
        """Workers first (they remove their project copies), then the scheduler."""
        _terminate(self.workers)
        _terminate([self.scheduler])


def _terminate(processes: list[subprocess.Popen[bytes]]) -> None:
    for process in processes:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
    for process in processes:
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _dask(*args: str, log: Path) -> subprocess.Popen[bytes]:
    out = log.open("wb")
    return subprocess.Popen([sys.executable, "-m", "dask", *args], stdout=out, stderr=out)


@pytest.fixture
def dask_processes(tmp_path: Path) -> Iterator[DaskProcesses]:
    address = f"tcp://127.0.0.1:{free_port()}"
    scheduler = _dask("scheduler", "--host", "127.0.0.1", "--port", address.rsplit(":", 1)[1],
                      "--no-dashboard", log=tmp_path / "scheduler.log")  # fmt: skip
    cluster = DaskProcesses(address, scheduler)
    try:
        for i in range(2):
            cluster.workers.append(_dask(
                "worker", address, "--nthreads", "1", "--no-nanny", "--no-dashboard",
                "--name", f"w{i}", "--local-directory", str(tmp_path / f"w{i}"),
                log=tmp_path / f"worker{i}.log",
            ))  # fmt: skip
        with distributed.Client(address, timeout=START_TIMEOUT) as client:
            client.wait_for_workers(2, timeout=START_TIMEOUT)
        yield cluster
    finally:
        cluster.stop()
