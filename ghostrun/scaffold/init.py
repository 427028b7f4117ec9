"""`ghostrun init`: write the configuration, and optionally a starter workflow or the plan
for turning a plain script into one.

Never overwrites: an existing configuration or `pipeline.py` is left as it is and named;
the script given with `--from` is only read, and a skeleton goes to a new file only.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from pathlib import Path

from rich.console import RenderableType

from ghostrun.config import CONFIG_FILE, Settings, config_file, display_path, load_settings
from ghostrun.scaffold.script import ScriptError

STARTER_PIPELINE = '''\
"""A starter ghostrun workflow: each function is an operator, parameters are edges."""

import ghostrun as gr
import pandas as pd
from lightgbm import LGBMClassifier
from sklearn.datasets import load_breast_cancer
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import train_test_split


@gr.source
def raw() -> pd.DataFrame:
    return load_breast_cancer(as_frame=True).frame


@gr.op
def features(raw: pd.DataFrame, clip=gr.knob(3.0, low=1.0, high=10.0)) -> pd.DataFrame:
    X = raw.drop(columns="target")
    z = (X - X.mean()) / X.std()
    return z.clip(-clip, clip).assign(target=raw["target"])


@gr.op
def split(features: pd.DataFrame, test_size=0.3):
    X, y = features.drop(columns="target"), features["target"]
    return train_test_split(X, y, test_size=test_size, random_state=0, stratify=y)


@gr.op
def model(split):
    X_train, _, y_train, _ = split
    clf = LGBMClassifier(num_leaves=15, learning_rate=0.05, n_estimators=200, verbose=-1)
    return clf.fit(X_train, y_train)


@gr.metric(goal="max")
def auc(model, split) -> float:
    _, X_test, _, y_test = split
    return float(roc_auc_score(y_test, model.predict_proba(X_test)[:, 1]))
'''


def init_project(
    root: Path,
    settings: Settings,
    *,
    example: bool = False,
    script: Path | None = None,
    skeleton: Path | None = None,
) -> Iterator[str | RenderableType]:
    """Yield one line per thing done or left alone (and the plan, for `script`)."""
    if script is not None:
        yield from _from_script(root, settings, script, skeleton)
        return
    yield from _configure(root, settings)
    if example:
        yield _write_example(root / settings.workflow)
    yield "Next: `ghostrun run` runs the workflow; run it again after each edit."


def _configure(root: Path, settings: Settings) -> Iterator[str]:
    existing = config_file(root)
    if existing is not None:
        yield f"Configuration already in {existing.name}; left as it is."
    else:
        yield _write_config(root, settings)
        return
    if settings.workflow != _configured_workflow(root):
        yield f"To use {settings.workflow}, set workflow = \"{settings.workflow}\" there."


def _configured_workflow(root: Path) -> str:
    return load_settings(root, {}, {}).workflow


def _from_script(root: Path, settings: Settings, script: Path,
                 skeleton: Path | None) -> Iterator[str | RenderableType]:
    """Explain the plan, write the skeleton if asked, then the configuration."""
    from ghostrun.scaffold.explain import explain
    from ghostrun.scaffold.from_script import analyse_script, uses_ghostrun
    from ghostrun.scaffold.skeleton import skeleton_text

    if uses_ghostrun(script):
        yield (f"{display_path(script)} already imports ghostrun: it is a workflow as it is.")
        yield from _configure(root, _with_workflow(settings, root, script))
        return
    plan = analyse_script(script, settings.estimator_modules)
    if skeleton is not None:
        _check_new_file(skeleton, script)
    yield explain(plan, None if skeleton is None else display_path(skeleton))
    if skeleton is not None:
        try:
            text = skeleton_text(plan)
        except SyntaxError as exc:
            raise ScriptError(f"could not build a valid skeleton ({exc.msg}, line {exc.lineno}); "
                              "this is a ghostrun bug: please report it with your script. The "
                              "plan above still holds.") from None
        skeleton.parent.mkdir(parents=True, exist_ok=True)
        with skeleton.open("x", encoding="utf-8") as fh:
            fh.write(text)
        yield (f"Wrote the suggested workflow to {display_path(skeleton)}; "
               f"{display_path(script)} is unchanged.")
        settings = _with_workflow(settings, root, skeleton)
    yield from _configure(root, settings)


def _check_new_file(skeleton: Path, script: Path) -> None:
    if skeleton.exists() or skeleton.is_symlink():
        what = "the script itself" if skeleton.resolve() == script.resolve() else "a file"
        raise ScriptError(f"{display_path(skeleton)} is {what} that exists; ghostrun never "
                          "overwrites it: give --write-skeleton a new path.")


def _with_workflow(settings: Settings, root: Path, path: Path) -> Settings:
    """`settings` pointing at `path` when it lies inside the project."""
    try:
        relative = path.resolve().relative_to(root.resolve())
    except ValueError:
        return settings
    return dataclasses.replace(settings, workflow=relative.as_posix())


def _write_config(root: Path, settings: Settings) -> str:
    pyproject = root / "pyproject.toml"
    if pyproject.exists():
        text = pyproject.read_text(encoding="utf-8")
        separator = "" if text.endswith("\n\n") else ("\n" if text.endswith("\n") else "\n\n")
        pyproject.write_text(text + separator + settings.to_toml_text(), encoding="utf-8")
        return "Added [tool.ghostrun] to pyproject.toml."
    (root / CONFIG_FILE).write_text(settings.to_toml_text(table=None), encoding="utf-8")
    return f"Wrote {CONFIG_FILE}."


def _write_example(path: Path) -> str:
    if path.exists():
        return f"{path.name} exists; left as it is."
    path.write_text(STARTER_PIPELINE, encoding="utf-8")
    return f"Wrote a starter {path.name} (breast-cancer data that scikit-learn ships)."
