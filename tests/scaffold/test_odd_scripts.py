"""Scripts in less tidy shapes: notebook exports, several statements on a line, helpers that
read globals, `lgb.train` with a params dict, the work inside `main(args)`. The plan says
what it can, the warnings say what it cannot, and the skeleton always parses."""

from __future__ import annotations

import ast
import textwrap
from pathlib import Path

from ghostrun.scaffold.from_script import analyse_script
from ghostrun.scaffold.plan import Plan
from ghostrun.scaffold.skeleton import skeleton_text

NOTEBOOK = """\
#!/usr/bin/env python
# coding: utf-8
# In[1]:
import json
import lightgbm as lgb
import pandas as pd
from sklearn.metrics import roc_auc_score
get_ipython().run_line_magic('matplotlib', 'inline')

# In[2]:
with open("config.json") as fh:
    cfg = json.load(fh)
params = {"objective": "binary", "num_leaves": 31, "learning_rate": 0.05, "verbose": -1}
train = pd.read_parquet("data/train.parquet")
valid = pd.read_parquet("data/valid.parquet")
target = "label"
feats = [c for c in train.columns if c != target]
if cfg.get("drop_ids"):
    feats = [c for c in feats if not c.endswith("_id")]
train["ratio"] = train["a"] / (train["b"] + 1e-9)
valid["ratio"] = valid["a"] / (valid["b"] + 1e-9)
dtrain = lgb.Dataset(train[feats], train[target])
booster = lgb.train(params, dtrain, num_boost_round=500)
p = booster.predict(valid[feats])
auc = roc_auc_score(valid[target], p)
print("valid auc", auc)
if (n := len(p)) > 10:
    print(n)
booster.save_model("model.txt")
"""


def plan_of(tmp_path: Path, text: str) -> tuple[Plan, str]:
    path = tmp_path / "script.py"
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    plan = analyse_script(path)
    skeleton = skeleton_text(plan)
    ast.parse(skeleton)
    return plan, skeleton


def test_notebook_export(tmp_path: Path) -> None:
    plan, skeleton = plan_of(tmp_path, NOTEBOOK)
    assert [s.name for s in plan.sources] == ["config", "train", "valid"]
    assert plan.step("features").inputs[0].op == "train"
    assert {i.op for i in plan.step("features").inputs} == {"train", "config", "valid"}
    assert plan.step("features").copies == ("train", "valid")
    (knob,) = plan.step("model").knobs
    assert (knob.name, knob.value) == ("lightgbm.train.num_boost_round", 500)
    assert [(m.name, m.value) for m in plan.metrics] == [("valid_auc", "auc")]
    assert [n.line for n in plan.left_out] == [8, 27, 29]  # magic, walrus print, save_model
    assert any("Dict params" in w and "num_leaves" in w for w in plan.warnings)
    assert "get_ipython" not in skeleton and "save_model" not in skeleton


def test_two_statements_on_a_line_and_a_helper_reading_a_global(tmp_path: Path) -> None:
    plan, skeleton = plan_of(tmp_path, """\
        import pandas as pd
        from sklearn.ensemble import RandomForestClassifier
        from sklearn.model_selection import cross_val_score
        df = pd.read_csv("x.csv"); df = df.dropna()
        def enrich(d):
            return d.merge(extra, on="k")
        extra = pd.read_csv("extra.csv")
        df = enrich(df)
        scores = cross_val_score(RandomForestClassifier(n_estimators=50), df, df["y"],
                                 scoring="roc_auc")
        print("CV AUC %.4f" % scores.mean())
    """)
    assert "    df = pd.read_csv(path)\n    return df\n" in skeleton
    assert "    df = df.dropna()\n" in skeleton
    (metric,) = plan.metrics
    assert (metric.name, metric.goal, metric.returns) == ("cv_auc", "max", "float(scores.mean())")
    assert any("enrich" in w and "extra" in w for w in plan.warnings)


def test_work_inside_main_with_arguments(tmp_path: Path) -> None:
    plan, _ = plan_of(tmp_path, """\
        import pandas as pd
        from sklearn.linear_model import LinearRegression

        def main(path):
            df = pd.read_csv(path)
            model = LinearRegression().fit(df[["x"]], df["y"])
            print(model.score(df[["x"]], df["y"]))

        main("d.csv")
    """)
    assert not plan.metrics
    assert any("inside main(...)" in w for w in plan.warnings)


def test_main_without_arguments_is_read_line_by_line(tmp_path: Path) -> None:
    plan, skeleton = plan_of(tmp_path, """\
        import pandas as pd
        from sklearn.linear_model import Ridge
        from sklearn.metrics import r2_score

        def main(alpha=2.0):
            df = pd.read_csv("d.csv")
            model = Ridge(alpha=alpha).fit(df[["x"]], df["y"])
            r2 = r2_score(df["y"], model.predict(df[["x"]]))
            print(f"R2={r2:.3f}")

        if __name__ == "__main__":
            main()
    """)
    assert [s.name for s in plan.steps] == ["d", "model", "r2"]
    assert [(p.name, p.default) for p in plan.step("model").params] == [("alpha", "2.0")]
    assert "def main" not in skeleton and "Ridge(alpha=alpha)" in skeleton
    assert plan.metrics[0].goal == "max"


def test_trailing_comma_in_a_helper_call(tmp_path: Path) -> None:
    plan, skeleton = plan_of(tmp_path, """\
        import pandas as pd

        def fit(df, depth=3):
            return df.head(depth)

        df = pd.read_csv("d.csv")
        out = fit(
            df,
        )
    """)
    assert plan.step("features").params[0].name == "depth"
    assert "out = fit(\n        df, depth=depth,\n    )" in skeleton
