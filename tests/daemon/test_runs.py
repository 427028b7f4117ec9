"""Saves become runs: the event sequence, and every way user code can go wrong."""

from __future__ import annotations

import json
import os

from tests.daemon.harness import DaemonHarness, Event, cli, finished_run, wait_for

GOOD = 'return raw["y"]'


def test_a_save_runs_the_changed_operators_and_publishes_each_step(
    daemon: DaemonHarness,
) -> None:
    daemon.up("--idle-after", "600")
    seen: list[Event] = []
    with daemon.events() as stream:
        first = finished_run(stream)
        daemon.edit("pipeline.py", "power=gr.knob(1,", "power=gr.knob(2,")
        started = wait_for(stream, "run.started", seen=seen)
        finished = wait_for(stream, "run.finished", seen=seen)
    assert [t for t, _ in seen if t.startswith("run.")][-2:] == ["run.stage", "run.finished"]
    assert {"run_id", "version_id", "time", "invocation"} <= started.keys()
    assert started["reason"] == "save" and started["latency"] >= 0
    assert {c["op"]: c["change"] for c in started["changes"]}["features"] == "knob"
    assert finished["version_id"] == started["version_id"] != first["version_id"]
    assert finished["parent_id"] == first["version_id"]
    stage_fields = {"fidelity", "metrics", "elapsed", "delta", "uncertainty", "verdict"}
    assert stage_fields <= finished.keys() and finished["delta"] is not None
    ops = {o["name"]: o["state"] for o in finished["result"]["ops"]}
    assert ops["labels"] != "computed" and ops["features"] == "computed"


def test_ghostrun_run_goes_through_the_daemon(daemon: DaemonHarness) -> None:
    daemon.up("--idle-after", "600")
    with daemon.events() as stream:
        finished_run(stream)
    result = json.loads(cli(daemon.root, "run", "--json").stdout)
    assert {o["state"] for o in result["ops"]} <= {"loaded", "pruned"}
    log = (daemon.state_dir / "daemon.log").read_text()
    assert f"run {2}: request" in log  # the daemon ran it, not the CLI process


def test_failures_in_user_code_are_reported_and_survived(daemon: DaemonHarness) -> None:
    daemon.up("--idle-after", "600")
    with daemon.events() as stream:
        finished_run(stream)
        daemon.edit("pipeline.py", GOOD, 'return raw["nope"]')
        failed = finished_run(stream)
        assert failed["topic"] == "run.failed"
        assert failed["error"]["code"] == "user_code" and failed["error"]["op"] == "labels"
        assert "KeyError" in failed["error"]["traceback"]

        daemon.edit("pipeline.py", 'return raw["nope"]', "return raw[")  # saved mid-edit
        failed = finished_run(stream)
        assert failed["topic"] == "run.failed" and "pipeline.py" in failed["error"]["message"]

        daemon.edit("pipeline.py", "return raw[", GOOD)
        assert finished_run(stream)["topic"] == "run.finished"


def test_a_hung_run_times_out_and_the_next_save_runs(daemon: DaemonHarness) -> None:
    hang = "while True:\n        pass\n    " + GOOD
    daemon.up("--idle-after", "600", "--run-timeout", "10")  # generous: CI machines are busy
    with daemon.events() as stream:
        finished_run(stream)
        daemon.edit("pipeline.py", GOOD, hang)
        failed = finished_run(stream)
        assert failed["error"]["code"] == "timeout"
        daemon.edit("pipeline.py", hang, GOOD)
        assert finished_run(stream)["topic"] == "run.finished"


def test_runaway_memory_is_stopped(daemon: DaemonHarness) -> None:
    hog = "blocks = [bytearray(2**26) for _ in range(10**6)]\n    " + GOOD
    daemon.up("--idle-after", "600", "--worker-memory", "2GiB")
    with daemon.events() as stream:
        finished_run(stream)
        daemon.edit("pipeline.py", GOOD, hog)
        failed = finished_run(stream)
        assert failed["topic"] == "run.failed"
        assert failed["error"]["code"] in ("user_code", "memory")
        assert "MemoryError" in json.dumps(failed) or failed["error"]["code"] == "memory"
        daemon.edit("pipeline.py", hog, GOOD)
        assert finished_run(stream)["topic"] == "run.finished"


def test_a_deleted_data_file_fails_clearly_and_its_return_runs_again(
    daemon: DaemonHarness,
) -> None:
    table = daemon.root / "data" / "table.csv"
    kept = table.read_bytes()
    daemon.up("--idle-after", "600")
    with daemon.events() as stream:
        finished_run(stream)
        table.unlink()  # the watcher sees the data file go
        failed = finished_run(stream)
        assert failed["topic"] == "run.failed"
        assert "table.csv" in failed["error"]["message"]
        table.write_bytes(kept)
        assert finished_run(stream)["topic"] == "run.finished"


def test_a_save_cancels_the_run_of_the_older_version(daemon: DaemonHarness) -> None:
    slow = 'import time; time.sleep(20)\n    ' + GOOD
    daemon.up("--idle-after", "600")
    with daemon.events() as stream:
        finished_run(stream)
        daemon.edit("pipeline.py", GOOD, slow)
        old = wait_for(stream, "run.started")
        daemon.edit("pipeline.py", slow, GOOD)
        cancelled = wait_for(stream, "run.failed")
        assert cancelled["invocation"] == old["invocation"]
        assert cancelled["error"]["code"] == "cancelled"
        finished = finished_run(stream)
    assert finished["topic"] == "run.finished" and finished["invocation"] > old["invocation"]


def test_pause_holds_saves_until_resume(daemon: DaemonHarness) -> None:
    daemon.up("--idle-after", "600")
    with daemon.client() as client, client.events() as stream:
        finished_run(stream)
        assert client.request("pause")["state"] == "paused"
        daemon.edit("pipeline.py", "power=gr.knob(1,", "power=gr.knob(2,")
        assert stream.next(timeout=2.0) is None or client.request("status")["run"] is None
        client.request("resume")
        assert finished_run(stream)["topic"] == "run.finished"
    assert os.path.exists(daemon.state_dir / "history.sqlite")


def test_a_config_edit_restarts_the_worker_with_the_new_settings(daemon: DaemonHarness) -> None:
    daemon.up("--idle-after", "600")
    with daemon.client() as client, client.events() as stream:
        finished_run(stream)
        before = client.request("status")["worker"]["pid"]
        daemon.edit("pyproject.toml", 'workflow = "pipeline.py"\n',
                    'workflow = "pipeline.py"\nmetric = "auc"\n')
        assert finished_run(stream)["topic"] == "run.finished"
        after = client.request("status")["worker"]["pid"]
    assert after is not None and after != before
