"""ProjectWatcher with real files and real watchdog events."""

from __future__ import annotations

import os
import shutil
import threading
from collections.abc import Callable
from pathlib import Path

import pytest

from ghostrun.watcher import ProjectWatcher
from tests.watcher.conftest import SILENCE, TIMEOUT, Recorder, touch_sentinel

Start = Callable[..., ProjectWatcher]


def test_a_plain_write_is_one_call(project: Path, recorder: Recorder, start_watcher: Start):
    pipeline = project / "pipeline.py"
    start_watcher(pipeline)
    pipeline.write_text("x = 2\n")
    recorder.wait_calls(1)
    assert touch_sentinel(project, recorder) == [{pipeline}, {project / "sentinel.py"}]


def test_an_atomic_save_reports_the_target(project: Path, recorder: Recorder, start_watcher: Start):
    pipeline = project / "pipeline.py"
    start_watcher(pipeline)
    temp = project / ".pipeline.py.tmp"
    temp.write_text("x = 2\n")
    os.replace(temp, pipeline)
    recorder.wait_calls(1)
    assert touch_sentinel(project, recorder) == [{pipeline}, {project / "sentinel.py"}]


def test_a_vim_save_reports_only_the_target(
    project: Path, recorder: Recorder, start_watcher: Start
):
    pipeline = project / "pipeline.py"
    start_watcher(pipeline)
    probe = project / "4913"
    probe.write_text("")
    probe.unlink()
    backup = project / "pipeline.py~"
    os.rename(pipeline, backup)
    pipeline.write_text("x = 2\n")
    backup.unlink()
    recorder.wait_calls(1)
    assert touch_sentinel(project, recorder) == [{pipeline}, {project / "sentinel.py"}]


def test_a_save_that_moves_the_original_out_of_the_project(
    project: Path, recorder: Recorder, start_watcher: Start, tmp_path: Path
):
    # vim with `backupdir` elsewhere: the move's source is all the project's watch sees
    pipeline = project / "pipeline.py"
    start_watcher(pipeline)
    backup = tmp_path / "vim-backups" / "pipeline.py~"
    backup.parent.mkdir()
    os.rename(pipeline, backup)
    pipeline.write_text("x = 2\n")
    backup.unlink()
    recorder.wait_calls(1)
    assert touch_sentinel(project, recorder) == [{pipeline}, {project / "sentinel.py"}]


def test_quick_writes_coalesce(project: Path, recorder: Recorder, start_watcher: Start):
    pipeline = project / "pipeline.py"
    start_watcher(pipeline)
    for i in range(20):
        pipeline.write_text(f"x = {i}\n")
    recorder.wait_calls(1)
    threading.Event().wait(SILENCE)
    calls = touch_sentinel(project, recorder)[:-1]
    assert all(call == {pipeline} for call in calls)


def test_a_continuous_stream_still_reports(project: Path, recorder: Recorder, start_watcher: Start):
    data = project / "stream.csv"
    start_watcher(data, quiet=0.2, max_delay=0.3)
    stop = threading.Event()

    def write_forever() -> None:
        with data.open("a") as f:
            while not stop.wait(0.01):
                f.write("1,2\n")
                f.flush()

    writer = threading.Thread(target=write_forever)
    writer.start()
    try:
        assert recorder.wait_calls(1) == [{data}]
    finally:
        stop.set()
        writer.join()


def test_the_default_settings_report_a_save(project: Path, recorder: Recorder):
    pipeline = project / "pipeline.py"
    with ProjectWatcher(project, recorder) as watcher:
        watcher.watch([pipeline])
        pipeline.write_text("x = 2\n")
        assert recorder.wait_calls(1) == [{pipeline}]


def test_ignored_places_are_never_reported_even_when_watched(
    project: Path, recorder: Recorder, start_watcher: Start
):
    inside = [
        ".ghostrun/daemon.log",
        ".git/config",
        ".venv/lib/python3.11/site-packages/x.py",
        "__pycache__/pipeline.cpython-311.pyc",
        ".pipeline.py.swp",
        "pipeline.py~",
    ]
    paths = [project / name for name in inside]
    for path in paths:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("")
    start_watcher(*paths)
    for path in paths:
        path.write_text("changed")
    paths[0].unlink()
    threading.Event().wait(SILENCE)
    assert touch_sentinel(project, recorder) == [{project / "sentinel.py"}]


def test_unwatched_files_and_reads_are_not_reported(
    project: Path, recorder: Recorder, start_watcher: Start
):
    (project / ".gitignore").write_text("*.log\n")
    start_watcher(project / "pipeline.py")
    (project / "pipeline.py").read_text()  # the run worker reads what it runs
    (project / "notes.md").write_text("todo")
    (project / "run.log").write_text("gitignored and unwatched")
    (project / "pipeline_old.py").write_text("")
    threading.Event().wait(SILENCE)
    assert touch_sentinel(project, recorder) == [{project / "sentinel.py"}]


def test_a_gitignored_data_file_that_is_watched_is_reported(
    project: Path, recorder: Recorder, start_watcher: Start
):
    (project / ".gitignore").write_text("data/\n*.csv\n")
    data = project / "data" / "census.csv"
    data.parent.mkdir()
    data.write_text("a,b\n")
    start_watcher(data)
    data.write_text("a,b\n1,2\n")
    assert recorder.wait_calls(1) == [{data}]


def test_deleting_a_watched_data_file_is_reported(
    project: Path, recorder: Recorder, start_watcher: Start
):
    data = project / "data" / "census.csv"
    data.parent.mkdir()
    data.write_text("a,b\n")
    start_watcher(data)
    data.unlink()
    assert recorder.wait_calls(1) == [{data}]


def test_a_watched_file_that_appears_is_reported(
    project: Path, recorder: Recorder, start_watcher: Start
):
    helpers = project / "helpers.py"
    start_watcher(helpers)
    helpers.write_text("def scale(x): return x\n")
    assert recorder.wait_calls(1) == [{helpers}]


def test_a_data_directory_that_comes_and_goes(
    project: Path, recorder: Recorder, start_watcher: Start
):
    data = project / "data" / "raw" / "census.csv"
    watcher = start_watcher(data)
    assert project / "data" not in watcher.watched_dirs()

    data.parent.mkdir(parents=True)
    data.write_text("a,b\n")
    assert recorder.wait_calls(1) == [{data}]
    assert project / "data" / "raw" in watcher.watched_dirs()

    shutil.rmtree(project / "data")
    assert recorder.wait_calls(2)[1] == {data}

    data.parent.mkdir(parents=True)
    data.write_text("a,b\n1,2\n")
    assert recorder.wait_calls(3)[2] == {data}
    data.write_text("a,b\n3,4\n")
    assert recorder.wait_calls(4)[3] == {data}


def test_a_data_directory_swapped_by_renames(
    project: Path, recorder: Recorder, start_watcher: Start
):
    data = project / "data" / "census.csv"
    data.parent.mkdir()
    data.write_text("old\n")
    fresh = project / "data.new"
    fresh.mkdir()
    (fresh / "census.csv").write_text("new\n")
    start_watcher(data)

    os.rename(project / "data", project / "data.old")
    os.rename(fresh, project / "data")
    assert data in recorder.wait_calls(1)[0]
    # the new directory is watched, the moved-away one is not
    (project / "data.old" / "census.csv").write_text("stale\n")
    threading.Event().wait(SILENCE)
    assert touch_sentinel(project, recorder)[1:] == [{project / "sentinel.py"}]
    data.write_text("newer\n")
    assert recorder.wait_calls(3)[2] == {data}


def test_a_watched_directory_reports_the_files_beneath_it(
    project: Path, recorder: Recorder, start_watcher: Start
):
    parts = project / "data" / "parts"
    parts.mkdir(parents=True)
    start_watcher(parts)
    (parts / "__pycache__").mkdir()
    (parts / "__pycache__" / "x.pyc").write_text("")
    (parts / "year=2024").mkdir()
    part = parts / "year=2024" / "part-0.parquet"
    part.write_text("rows")
    calls = recorder.wait_for(part)
    assert all(p.is_relative_to(parts) and "__pycache__" not in p.parts for c in calls for p in c)


def test_watch_replaces_the_set(project: Path, recorder: Recorder, start_watcher: Start):
    old, new = project / "pipeline.py", project / "other" / "flow.py"
    new.parent.mkdir()
    new.write_text("")
    watcher = start_watcher(old)
    replacer = threading.Thread(target=watcher.watch, args=([new, project / "sentinel.py"],))
    replacer.start()
    replacer.join()
    old.write_text("x = 2\n")
    new.write_text("y = 2\n")
    calls = recorder.wait_for(new)
    assert all(old not in call for call in calls)
    assert project / "other" in watcher.watched_dirs()


def test_an_exception_in_on_change_does_not_stop_the_watcher(
    project: Path, caplog: pytest.LogCaptureFixture
):
    pipeline = project / "pipeline.py"
    seen = Recorder()

    def on_change(paths: frozenset[Path]) -> None:
        seen(paths)
        if len(seen.calls) == 1:
            raise RuntimeError("daemon bug")

    with ProjectWatcher(project, on_change, quiet=0.05, max_delay=0.5) as watcher:
        watcher.watch([pipeline])
        pipeline.write_text("x = 2\n")
        seen.wait_calls(1)
        pipeline.write_text("x = 3\n")
        assert seen.wait_calls(2) == [{pipeline}, {pipeline}]
    assert "daemon bug" in caplog.text


def test_stop_is_prompt_and_final(project: Path, recorder: Recorder):
    pipeline = project / "pipeline.py"
    watcher = ProjectWatcher(project, recorder, quiet=0.5, max_delay=1.0)
    watcher.watch([pipeline])
    watcher.start()
    pipeline.write_text("x = 2\n")  # pending in the quiet window when stop() comes
    stopper = threading.Thread(target=watcher.stop)
    stopper.start()
    stopper.join(TIMEOUT)
    assert not stopper.is_alive(), "stop() hung"
    pipeline.write_text("x = 3\n")
    threading.Event().wait(SILENCE + 0.5)
    assert recorder.calls == []
    assert not any(t.name == "ghostrun-watcher" for t in threading.enumerate())


def test_stop_waits_for_a_running_on_change(project: Path):
    pipeline = project / "pipeline.py"
    entered, release = threading.Event(), threading.Event()
    calls: list[frozenset[Path]] = []

    def slow(paths: frozenset[Path]) -> None:
        calls.append(paths)
        entered.set()
        release.wait(TIMEOUT)

    watcher = ProjectWatcher(project, slow, quiet=0.05, max_delay=0.5)
    watcher.watch([pipeline])
    watcher.start()
    pipeline.write_text("x = 2\n")
    assert entered.wait(TIMEOUT)
    pipeline.write_text("x = 3\n")
    stopper = threading.Thread(target=watcher.stop)
    stopper.start()
    stopper.join(0.2)
    assert stopper.is_alive(), "stop() returned while on_change was still running"
    release.set()
    stopper.join(TIMEOUT)
    assert not stopper.is_alive()
    assert calls == [{pipeline}]


def test_a_watcher_starts_once(project: Path, recorder: Recorder):
    watcher = ProjectWatcher(project, recorder)
    watcher.start()
    with pytest.raises(RuntimeError, match="starts once"):
        watcher.start()
    watcher.stop()
    with pytest.raises(RuntimeError, match="starts once"):
        watcher.start()


def test_a_big_venv_is_not_watched(project: Path, recorder: Recorder, start_watcher: Start):
    site = project / ".venv" / "lib" / "python3.11" / "site-packages"
    for i in range(50):
        (site / f"pkg{i}" / "sub").mkdir(parents=True)
    (project / ".venv" / "pyvenv.cfg").write_text("home = /usr\n")
    watcher = start_watcher(project / "pipeline.py", site / "pkg1" / "x.py")
    assert watcher.watched_dirs() == {project: False}
