"""Exploration while the user thinks: idle → trials → ranking → apply → an instant run."""

from __future__ import annotations

import json

from tests.daemon.harness import WAIT, DaemonHarness, cli, finished_run, wait_for

BAD = "power=gr.knob(2,"  # the planted mistake: squaring the features ruins the model
GOOD = "power=gr.knob(1,"


def test_idle_exploration_finds_the_fix_and_apply_serves_it_from_the_cache(
    daemon: DaemonHarness,
) -> None:
    daemon.edit("pipeline.py", GOOD, BAD)
    daemon.up("--idle-after", "1", "--explore-budget", "20")
    with daemon.events() as stream:
        base = finished_run(stream)
        result = wait_for(stream, "explore.result")
        assert result["version_id"] == base["version_id"] and "description" in result
        updated = wait_for(stream, "suggest.updated", timeout=WAIT + 60)
    top = updated["suggestions"][0]
    assert "power 2 → 1" in top["description"] and top["expected_delta"] > 0

    listed = json.loads(cli(daemon.root, "suggest", "--json").stdout)["suggestions"]
    assert listed[0]["id"] == top["id"]
    with daemon.events() as stream:
        cli(daemon.root, "apply", "1", "--yes")
        applied = finished_run(stream)
    assert applied["topic"] == "run.finished"
    assert {o["state"] for o in applied["result"]["ops"]} <= {"loaded", "pruned"}
    assert applied["metrics"]["auc"] > base["metrics"]["auc"]


def test_a_save_stops_exploration_at_once(daemon: DaemonHarness) -> None:
    daemon.edit("pipeline.py", GOOD, BAD)
    # slow fits, so the exploration cannot run out of variants before the save
    slow = "    import time; time.sleep(1)\n    return LogisticRegression"
    daemon.edit("pipeline.py", "    return LogisticRegression", slow)
    daemon.up("--idle-after", "1", "--explore-budget", "600")
    with daemon.client() as client, client.events() as stream:
        finished_run(stream)
        wait_for(stream, "explore.result")
        assert client.request("status")["exploring"]
        daemon.edit("pipeline.py", BAD, GOOD)
        assert finished_run(stream)["topic"] == "run.finished"
    log = (daemon.state_dir / "daemon.log").read_text()
    assert "exploration stopped by a save" in log or "replacing it" in log
