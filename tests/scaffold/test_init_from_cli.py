"""`ghostrun init --from` as a user runs it: the explanation, the files it writes or
refuses to write, and clear errors (exit 2) for scripts it cannot read."""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.scaffold._data import SCRIPTS


def ghostrun(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "ghostrun", *args], cwd=cwd,
                          capture_output=True, text=True, timeout=120,
                          env={**os.environ, "COLUMNS": "160"})


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture
def project(tmp_path: Path) -> Path:
    shutil.copy(SCRIPTS / "churn_lgbm.py", tmp_path / "train.py")
    return tmp_path


def test_explains_without_writing_a_workflow(project: Path) -> None:
    before = digest(project / "train.py")
    result = ghostrun(project, "init", "--from", "train.py")
    assert result.returncode == 0, result.stderr
    out = result.stdout
    for text in ("churn", "@gr.source", "features", "split", "model", "preds", "auc",
                 '@gr.metric(goal="max")', "churn: df", "features: X, y",
                 "split: X_train, y_train", "n_bins=8", "test_size=0.25",
                 "LGBMClassifier.num_leaves=31", "line 12: print(df.shape)",
                 "--write-skeleton pipeline.py"):
        assert text in out, text
    assert digest(project / "train.py") == before
    assert not (project / "pipeline.py").exists()
    assert 'workflow = "pipeline.py"' in (project / "ghostrun.toml").read_text()


def test_skeleton_goes_to_a_new_file_only(project: Path) -> None:
    (project / "pipeline.py").write_text("# mine\n")
    result = ghostrun(project, "init", "--from", "train.py", "--write-skeleton", "pipeline.py")
    assert result.returncode == 2
    assert "pipeline.py" in result.stderr and "never overwrites" in result.stderr
    assert (project / "pipeline.py").read_text() == "# mine\n"
    assert not (project / "ghostrun.toml").exists()  # refused before writing anything

    onto_script = ghostrun(project, "init", "--from", "train.py", "--write-skeleton", "train.py")
    assert onto_script.returncode == 2 and "the script itself" in onto_script.stderr

    written = ghostrun(project, "init", "--from", "train.py", "--write-skeleton", "wf/churn.py")
    assert written.returncode == 0, written.stderr
    assert "@gr.source" in (project / "wf" / "churn.py").read_text()
    assert 'workflow = "wf/churn.py"' in (project / "ghostrun.toml").read_text()


def test_existing_configuration_is_left_and_named(project: Path) -> None:
    (project / "pyproject.toml").write_text('[tool.ghostrun]\nworkflow = "old.py"\n')
    result = ghostrun(project, "init", "--from", "train.py", "--write-skeleton", "pipeline.py")
    assert result.returncode == 0, result.stderr
    assert "left as it is" in result.stdout and 'workflow = "pipeline.py"' in result.stdout
    assert (project / "pyproject.toml").read_text() == '[tool.ghostrun]\nworkflow = "old.py"\n'


def test_a_ghostrun_workflow_is_recognised(tmp_path: Path) -> None:
    (tmp_path / "flow.py").write_text("import ghostrun as gr\n\n@gr.op\ndef a():\n    return 1\n")
    result = ghostrun(tmp_path, "init", "--from", "flow.py")
    assert result.returncode == 0, result.stderr
    assert "already imports ghostrun" in result.stdout
    assert 'workflow = "flow.py"' in (tmp_path / "ghostrun.toml").read_text()


@pytest.mark.parametrize(
    ("name", "content", "expected"),
    [
        ("missing.py", None, "No script at missing.py"),
        ("data.csv", b"a,b\n1,2\n", "data.csv is not a Python script"),
        ("blob.py", b"\x00\x01binary", "blob.py is not a Python script"),
        ("model.ipynb", b"{}", "jupyter nbconvert --to script model.ipynb"),
        ("broken.py", b"import pandas as pd\n\ndf = pd.read_csv(\n", "broken.py:3: syntax error"),
    ],
    ids=["missing", "csv", "binary", "notebook", "syntax"],
)
def test_unreadable_scripts_exit_2_with_the_fix(tmp_path: Path, name: str,
                                                content: bytes | None, expected: str) -> None:
    if content is not None:
        (tmp_path / name).write_bytes(content)
    result = ghostrun(tmp_path, "init", "--from", name)
    assert result.returncode == 2
    assert expected in result.stderr, result.stderr
    assert not (tmp_path / "ghostrun.toml").exists()


def test_usage_errors(project: Path) -> None:
    alone = ghostrun(project, "init", "--write-skeleton", "pipeline.py")
    assert alone.returncode == 2 and "--write-skeleton needs --from" in alone.stderr
    both = ghostrun(project, "init", "--example", "--from", "train.py")
    assert both.returncode == 2 and "exclude each other" in both.stderr


def test_plain_init_lines_are_not_eaten_as_markup(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "x"\n')
    result = ghostrun(tmp_path, "init")
    assert "Added [tool.ghostrun] to pyproject.toml." in result.stdout
