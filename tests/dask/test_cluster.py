"""Exploration on a real `LocalCluster` (two worker processes): the same history and the
same top suggestion as exploring locally; data sent when the workers cannot see it, and
refused clearly beyond the limit; bundles and worker copies on their own."""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from ghostrun.engine.session import Session
from ghostrun.project import Project
from ghostrun.suggest.backends.bundle import bundle_of, sees
from ghostrun.suggest.backends.copies import ProjectCopy
from ghostrun.suggest.backends.errors import ClusterError
from ghostrun.suggest.generate import neighbours
from ghostrun.suggest.halving import FULL_RUNG
from ghostrun.suggest.rank import suggestions
from ghostrun.suggest.search import explore
from ghostrun.suggest.variant import Variant
from ghostrun.workflow.graph import Workflow

from .conftest import free_port
from .project import make_project

distributed = pytest.importorskip("distributed")
from ghostrun.suggest.backends.cluster import DaskBackend  # noqa: E402


def knob_moves(workflow: Workflow) -> list[Variant]:
    """The model's knob moves only: enough to find the planted knob, small enough to try
    them all (pairs and further steps of the best ones join as the search goes)."""
    return [v for v in neighbours(workflow) if v.kind == "knob"]


def first_moves(n: int) -> Callable[[Workflow], list[Variant]]:
    """The base's first `n` knob moves, and no walks on from findings (their neighbours
    come from the same generator): a short exploration that ends by itself."""
    calls: list[int] = []

    def generate(workflow: Workflow) -> list[Variant]:
        calls.append(1)
        return knob_moves(workflow)[:n] if len(calls) == 1 else []

    return generate


@pytest.fixture
def client(local_cluster: str) -> Iterator[Any]:
    with distributed.Client(local_cluster, set_as_default=False) as opened:
        yield opened


def explored(root: Path, backend: DaskBackend | None) -> tuple[Any, list[dict[str, Any]]]:
    results: list[dict[str, Any]] = []
    with Session(Project.open(root)) as session:
        report = explore(session, budget=120, seed=1, generate=first_moves(5),
                         on_result=results.append, backend=backend)  # fmt: skip
    return report, results


def test_cluster_exploration_records_what_local_exploration_records(
    tmp_path: Path, client: Any
) -> None:
    here, there = make_project(tmp_path / "here"), make_project(tmp_path / "there")
    local, _ = explored(here, None)
    backend = DaskBackend(client)
    try:
        report, results = explored(there, backend)
    finally:
        backend.close()
    assert report.stopped == local.stopped == "exhausted"  # small: everything was tried
    assert report.version_id == local.version_id  # same code and data: same version
    assert report.trials == len(results) >= 6
    assert all(r["status"] == "ok" for r in results)

    with Session(Project.open(there)) as session:
        history = session.history
        base = report.version_id
        trials = history.trials(base_version=base)
        assert {t.trial_id for t in trials} == {r["trial_id"] for r in results}
        runs = {r.run_id: r for r in history.runs(kind="explore", limit=500)}
        for trial in trials:
            variant = history.variant(trial.variant_id, base)
            assert variant is not None and trial.delta is not None
            for run in trial.runs:  # the variant's run here, paired with a base run here
                assert runs[run.run_id].version_id == variant.version_id != base
                assert runs[run.run_id].ops  # operator timings kept for the cost models
                assert runs[run.base_run_id].version_id == base
        remote = suggestions(history, base, n=3)
    with Session(Project.open(here)) as session:
        home = suggestions(session.history, local.version_id, n=3)
    assert remote[0].variant == home[0].variant  # the same top suggestion
    assert remote[0].confirmed_full and remote[0].expected_delta > 0.2
    assert remote[0].expected_delta == pytest.approx(home[0].expected_delta, abs=1e-9)


def test_data_is_sent_when_the_workers_cannot_see_it(tmp_path: Path, client: Any) -> None:
    root = make_project(tmp_path / "proj")
    backend = DaskBackend(client, share=False)  # as if the workers were other machines
    try:
        with Session(Project.open(root)) as session:
            report = explore(session, budget=60, rungs=[FULL_RUNG], backend=backend,
                             generate=first_moves(2))  # fmt: skip
            key = bundle_of(session.project, session.load(), session.history).key
    finally:
        backend.close()
    assert report.trials >= 2 and report.stopped == "exhausted"
    copies = client.run(_copy_data_file)  # the workers wrote the file from what was sent
    used = [found[1] for found in copies.values() if found and found[0] == key]
    assert used and all(kind == "file" for kind in used)


def _copy_data_file(dask_worker: Any) -> tuple[str, str] | None:
    copy = dask_worker.plugins["ghostrun-trials"].copy
    if copy is None:
        return None
    path = copy.root / "data" / "table.csv"
    return copy.key, "link" if path.is_symlink() else "file" if path.is_file() else "missing"


def test_sending_more_than_the_limit_is_refused_clearly(tmp_path: Path, client: Any) -> None:
    root = make_project(tmp_path / "proj")
    backend = DaskBackend(client, share=False, scatter_limit=1000)
    try:
        with Session(Project.open(root)) as session:
            with pytest.raises(ClusterError, match=r"would pass the 1000 bytes limit.*mount"):
                explore(session, budget=30, rungs=[FULL_RUNG], backend=backend,
                        generate=first_moves(1))  # fmt: skip
    finally:
        backend.close()


def test_an_unreachable_scheduler_is_a_clear_error() -> None:
    with pytest.raises(ClusterError, match=r"cannot reach the Dask scheduler .*`cluster` setting"):
        DaskBackend.connect(f"tcp://127.0.0.1:{free_port()}", timeout=2)


# -- without a cluster: what travels, and the worker's copy -----------------------------


def test_a_bundle_carries_the_project_modules_settings_and_data_specs(tmp_path: Path) -> None:
    root = make_project(tmp_path / "proj")
    (root / ".venv" / "lib").mkdir(parents=True)
    (root / ".venv" / "lib" / "site.py").write_text("x = 1\n")  # never shipped
    with Session(Project.open(root)) as session:
        version = session.load()
        bundle = bundle_of(session.project, version, session.history)
    assert dict(bundle.sources).keys() == {"pipeline.py", "helpers.py"}
    assert bundle.workflow == "pipeline.py" and bundle.base_version == version.version_id
    assert "cluster" not in dict(bundle.settings)
    (spec,) = bundle.data
    assert spec.path == "data/table.csv" and spec.size == (root / spec.path).stat().st_size
    assert sees(spec)
    (root / spec.path).write_text("a,b\n1,2\n")  # changed here: no longer the same file
    assert not sees(spec)


def test_a_copy_measures_a_variant_and_refuses_data_it_cannot_see(tmp_path: Path) -> None:
    root = make_project(tmp_path / "proj")
    with Session(Project.open(root)) as session:
        version = session.load()
        bundle = bundle_of(session.project, version, session.history)
    move = next(v for v in knob_moves(version.workflow) if "num_leaves" in v.describe())
    copy = ProjectCopy(bundle, {})
    try:
        assert copy.root != root and (copy.root / "helpers.py").is_file()
        payload = copy.measure(move.to_json(), FULL_RUNG, lambda: False)
        broken = copy.measure({**move.to_json(), "new": 1}, FULL_RUNG, lambda: False)
    finally:
        copy.close()
    assert not copy.root.exists()
    assert payload["status"] == "ok" and payload["env_matches"]
    (seed,) = payload["runs"]
    assert seed["run"]["status"] == seed["base"]["status"] == "ok"
    assert seed["value"] > seed["base_value"]  # more leaves learn the interaction
    error = broken["runs"][0]["run"]["error"]  # LightGBM refuses a single leaf
    assert broken["status"] == "failed" and "num_leaves" in error
    assert f"{root}/pipeline.py" in error and str(copy.root) not in error  # the user's file

    shutil.move(root / "data", tmp_path / "elsewhere")  # as on a machine without the data
    with pytest.raises(ClusterError, match=r"data/table.csv .* not visible on this worker"):
        ProjectCopy(bundle, {})
