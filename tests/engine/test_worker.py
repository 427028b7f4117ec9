"""The run worker as a real process: hot results across runs, fresh imports, failures."""

from __future__ import annotations

import os
import threading
from pathlib import Path

import pytest

from ghostrun.engine.worker import RunWorker, WorkerCrashed, WorkerError

from .conftest import ProjectDir


def test_worker_reuses_hot_results_and_sees_edits(project: ProjectDir, tmp_path: Path) -> None:
    with RunWorker(project.root) as worker:
        first = worker.run()
        assert {o["state"] for o in first["ops"]} == {"computed"}
        project.edit("helpers.py", "frame.std()", "(frame.std() * 3)")
        second = worker.run()
        ops = {o["name"]: o for o in second["ops"]}
        assert ops["features"]["change"] == "code" and ops["features"]["state"] == "computed"
        assert second["metrics"] == project.run_from_scratch(tmp_path).last.metrics


def test_worker_reports_user_errors_and_keeps_serving(project: ProjectDir) -> None:
    with RunWorker(project.root) as worker:
        project.edit("pipeline.py", 'return raw["y"]', 'return raw["nope"]')
        with pytest.raises(WorkerError) as failure:
            worker.run()
        assert failure.value.payload["op"] == "labels"
        assert "KeyError" in failure.value.payload["traceback"]
        project.edit("pipeline.py", 'return raw["nope"]', 'return raw["y"]')
        assert "auc" in worker.run()["metrics"]


def test_in_place_mutation_of_a_hot_input_is_never_served(
    project: ProjectDir, tmp_path: Path
) -> None:
    mutate = 'raw["a"] = raw["b"]\n    return raw["y"]'
    with RunWorker(project.root) as worker:
        worker.run()
        # labels modifies its input in place: the hot copy of raw is now wrong ...
        project.edit("pipeline.py", 'return raw["y"]', mutate)
        worker.run()
        # ... and features, recomputed next, must still see raw as it was produced.
        project.edit("pipeline.py", mutate, 'return raw["y"]')
        project.edit("pipeline.py", "power=gr.knob(1,", "power=gr.knob(2,")
        hot = worker.run()
    assert {o["name"]: o["state"] for o in hot["ops"]}["features"] == "computed"
    assert hot["metrics"] == project.run_from_scratch(tmp_path).last.metrics


def test_a_crashed_worker_is_reported_and_replaced(project: ProjectDir) -> None:
    with RunWorker(project.root) as worker:
        worker.run()
        project.edit("pipeline.py", 'return raw["y"]', "import os; os.kill(os.getpid(), 9)")
        with pytest.raises(WorkerCrashed):
            worker.run()
        project.edit("pipeline.py", "import os; os.kill(os.getpid(), 9)", 'return raw["y"]')
        assert "auc" in worker.run()["metrics"]
        assert worker.pid is not None and worker.pid != os.getpid()


def test_events_and_watch_set(project: ProjectDir) -> None:
    events: list[dict] = []
    with RunWorker(project.root) as worker:
        result = worker.run(on_event=events.append)
    topics = [e["topic"] for e in events]
    assert topics[0] == "run.started" and topics[-1] == "run.stage"
    assert events[0]["version_id"] == result["version_id"]
    assert events[0]["run_id"] == result["stages"][0]["run_id"]
    watch = set(result["watch"])
    root = project.root.resolve()
    assert {str(root / "pipeline.py"), str(root / "helpers.py")} <= watch
    assert str(root / "data" / "table.csv") in watch


def test_a_cancelled_run_stops_between_operators(project: ProjectDir) -> None:
    slow = 'import time; time.sleep(1.5)\n    return raw["y"]'
    project.edit("pipeline.py", 'return raw["y"]', slow)
    with RunWorker(project.root) as worker:
        timer = threading.Timer(0.2, worker.cancel)

        def cancel_once_started(event: dict) -> None:
            if event["topic"] == "run.started":
                timer.start()

        with pytest.raises(WorkerError) as failure:
            worker.run(on_event=cancel_once_started)
        assert failure.value.payload["code"] == "cancelled"
        assert "auc" in worker.run()["metrics"]  # the next request is not cancelled


def test_runaway_allocation_fails_the_run_not_the_worker(project: ProjectDir) -> None:
    hog = 'blocks = [bytearray(2**26) for _ in range(10**6)]\n    return raw["y"]'
    project.edit("pipeline.py", 'return raw["y"]', hog)
    with RunWorker(project.root, memory_limit=3 * 2**30) as worker:
        with pytest.raises(WorkerError) as failure:
            worker.run()
        assert "MemoryError" in failure.value.payload["traceback"]
        project.edit("pipeline.py", hog, 'return raw["y"]')
        assert "auc" in worker.run()["metrics"]
