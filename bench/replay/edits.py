"""The scripted editing session: cumulative text replacements on `pipeline.py`.

Each edit is what a data scientist would type between two saves. `touches` names the
operators whose own source, or a helper they call, the edit changes (new operators
included): the oracle runner is told this set; every other runner must find it out.

Mix (DESIGN §3, issue 3): 5 preprocessing/feature edits (one of them edits the
module-level helper `_title_features`, which Hamilton and joblib.Memory do not
fingerprint), 7 model edits (one estimator swap LightGBM -> XGBoost, one comment-only
edit), 3 evaluation edits.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

__all__ = ["BASELINE", "SESSION", "Edit", "EditError", "apply_edit", "select_edits"]


class EditError(ValueError):
    """An edit whose text is not in the file (usually: an edit it builds on was skipped)."""


@dataclass(frozen=True)
class Edit:
    name: str
    kind: str  # "start" | "prep" | "model" | "eval"
    description: str
    replacements: tuple[tuple[str, str], ...]
    touches: frozenset[str]
    comment_only: bool = False
    helper: bool = False

    @property
    def label(self) -> str:
        if self.comment_only:
            return f"{self.kind} (comment)"
        return f"{self.kind} (helper)" if self.helper else self.kind


def _edit(name: str, kind: str, description: str, *pairs: tuple[str, str],
          touches: Sequence[str], **flags: bool) -> Edit:
    return Edit(name, kind, description, tuple(pairs), frozenset(touches), **flags)


BASELINE = Edit("baseline", "start", "first run of the unedited workflow (cold caches)", (),
                frozenset())

_LGBM_SWAPPED = '''    clf = LGBMClassifier(
        num_leaves=63,
        min_child_samples=100,
        learning_rate=0.07,
        n_estimators=100,
        subsample=0.8,
        subsample_freq=1,
        colsample_bytree=0.8,
        force_col_wise=True,
        random_state=SEED,
        verbose=-1,
    )'''
_XGB = '''    clf = make_pipeline(FunctionTransformer(_category_codes), XGBClassifier(
        max_depth=6,
        learning_rate=0.1,
        n_estimators=100,
        subsample=0.8,
        colsample_bytree=0.8,
        tree_method="hist",
        random_state=SEED,
    ))'''
_CODES_HELPER = '''

def _category_codes(X: pd.DataFrame) -> pd.DataFrame:
    """Pandas categories as integer codes (XGBoost's native categoricals are slower)."""
    return X.apply(lambda col: col.cat.codes if col.dtype == "category" else col)
'''

SESSION: tuple[Edit, ...] = (
    _edit("city-credit-agg", "prep", "city_profile: add the median credit score per city",
          ('        city_invest=("investment_income", "median"),\n',
           '        city_invest=("investment_income", "median"),\n'
           '        city_credit=("credit_score", "median"),\n'),
          touches=["city_profile"]),
    _edit("helper-contract-flag", "prep", "helper _title_features: flag contract jobs",
          ('    part_time = clean.str.contains(r"\\bpart time\\b|\\bpt\\b")\n'
           '    return pd.DataFrame({"seniority": seniority.where(titles.notna()), '
           '"part_time": part_time})',
           '    part_time = clean.str.contains(r"\\bpart time\\b|\\bpt\\b")\n'
           '    contract = clean.str.contains(r"\\bcontract\\b")\n'
           '    return pd.DataFrame({"seniority": seniority.where(titles.notna()), '
           '"part_time": part_time,\n'
           '                         "contract": contract})'),
          touches=["text_features"], helper=True),
    _edit("lgbm-num-leaves", "model", "model: num_leaves 31 -> 63",
          ("num_leaves=31,", "num_leaves=63,"), touches=["model"]),
    _edit("min-count-200", "prep", "features: knob min_count 50 -> 200 (pool more cities)",
          ("gr.knob(50, low=1, high=2000, log=True)", "gr.knob(200, low=1, high=2000, log=True)"),
          touches=["features"]),
    _edit("lgbm-learning-rate", "model", "model: learning_rate 0.1 -> 0.07",
          ("learning_rate=0.1,", "learning_rate=0.07,"), touches=["model"]),
    _edit("model-comment", "model", "model: a comment line only (must cost nothing)",
          ("    return clf.fit(split.X_train, split.y_train)",
           "    # seeded: the same data and knobs give the same model, run after run\n"
           "    return clf.fit(split.X_train, split.y_train)"),
          touches=[], comment_only=True),
    _edit("avg-precision-metric", "eval", "new metric average_precision",
          ("from sklearn.metrics import log_loss, roc_auc_score",
           "from sklearn.metrics import average_precision_score, log_loss, roc_auc_score"),
          ('    return float(log_loss(split.y_test, model.predict_proba(split.X_test)[:, 1]))\n',
           '    return float(log_loss(split.y_test, model.predict_proba(split.X_test)[:, 1]))\n'
           '\n\n@gr.metric(goal="max")\n'
           'def average_precision(model: Any, split: Split) -> float:\n'
           '    """Precision-recall summary: what a campaign on the top scores would see."""\n'
           '    scores = model.predict_proba(split.X_test)[:, 1]\n'
           '    return float(average_precision_score(split.y_test, scores))\n'),
          touches=["average_precision"]),
    _edit("note-promo", "prep", "text_features: parse promo codes out of referral notes",
          ('    out["note_words"] = note.str.split().str.len()\n',
           '    out["note_words"] = note.str.split().str.len()\n'
           '    out["promo"] = pd.to_numeric(note.str.extract(r"promo save(\\d+)", '
           'expand=False))\n'),
          touches=["text_features"]),
    _edit("lgbm-min-child", "model", "model: min_child_samples 20 -> 100",
          ("min_child_samples=20,", "min_child_samples=100,"), touches=["model"]),
    _edit("swap-to-xgboost", "model",
          "model: LightGBM -> XGBoost (hist; categories as codes via a new helper)",
          ("from lightgbm import LGBMClassifier\n", ""),
          ("from sklearn.model_selection import train_test_split\n",
           "from sklearn.model_selection import train_test_split\n"
           "from sklearn.pipeline import make_pipeline\n"
           "from sklearn.preprocessing import FunctionTransformer\n"
           "from xgboost import XGBClassifier\n"),
          ('    return pd.DataFrame({"seniority": seniority.where(titles.notna()), '
           '"part_time": part_time,\n'
           '                         "contract": contract})\n',
           '    return pd.DataFrame({"seniority": seniority.where(titles.notna()), '
           '"part_time": part_time,\n'
           '                         "contract": contract})\n' + _CODES_HELPER),
          (_LGBM_SWAPPED, _XGB),
          ('"""Gradient-boosted trees; LightGBM reads the pandas categoricals natively."""',
           '"""Gradient-boosted trees; categories go to XGBoost as integer codes."""'),
          touches=["model"]),
    _edit("xgb-max-depth", "model", "model: max_depth 6 -> 7",
          ("max_depth=6,", "max_depth=7,"), touches=["model"]),
    _edit("shared-test-scores", "eval",
          "new op test_scores; every metric reads it instead of predicting again",
          ('@gr.metric(goal="max")\ndef auc(model: Any, split: Split) -> float:\n'
           '    """Ranking quality on the hold-out rows: the primary metric."""\n'
           '    return float(roc_auc_score(split.y_test, '
           'model.predict_proba(split.X_test)[:, 1]))\n',
           '@gr.op\ndef test_scores(model: Any, split: Split) -> np.ndarray:\n'
           '    """Predicted probabilities for the hold-out rows, shared by the metrics."""\n'
           '    return model.predict_proba(split.X_test)[:, 1]\n\n\n'
           '@gr.metric(goal="max")\ndef auc(test_scores: np.ndarray, split: Split) -> float:\n'
           '    """Ranking quality on the hold-out rows: the primary metric."""\n'
           '    return float(roc_auc_score(split.y_test, test_scores))\n'),
          ('def logloss(model: Any, split: Split) -> float:\n'
           '    """Calibration on the hold-out rows."""\n'
           '    return float(log_loss(split.y_test, model.predict_proba(split.X_test)[:, 1]))\n',
           'def logloss(test_scores: np.ndarray, split: Split) -> float:\n'
           '    """Calibration on the hold-out rows."""\n'
           '    return float(log_loss(split.y_test, test_scores))\n'),
          ('def average_precision(model: Any, split: Split) -> float:\n'
           '    """Precision-recall summary: what a campaign on the top scores would see."""\n'
           '    scores = model.predict_proba(split.X_test)[:, 1]\n'
           '    return float(average_precision_score(split.y_test, scores))\n',
           'def average_precision(test_scores: np.ndarray, split: Split) -> float:\n'
           '    """Precision-recall summary: what a campaign on the top scores would see."""\n'
           '    return float(average_precision_score(split.y_test, test_scores))\n'),
          touches=["test_scores", "auc", "logloss", "average_precision"]),
    _edit("signup-month", "prep", "date_features: add sign-up month and active weekday",
          ('        "active_hour": active.dt.hour,\n',
           '        "active_hour": active.dt.hour,\n'
           '        "signup_month": signup.dt.month,\n'
           '        "active_weekday": active.dt.dayofweek,\n'),
          touches=["date_features"]),
    _edit("xgb-more-rounds", "model", "model: n_estimators 100 -> 150",
          ("n_estimators=100,", "n_estimators=150,"), touches=["model"]),
    _edit("logloss-clip", "eval", "logloss: clip probabilities away from 0 and 1",
          ("    return float(log_loss(split.y_test, test_scores))\n",
           "    clipped = np.clip(test_scores, 1e-6, 1 - 1e-6)\n"
           "    return float(log_loss(split.y_test, clipped))\n"),
          touches=["logloss"]),
)


def apply_edit(text: str, edit: Edit) -> str:
    """Apply every replacement of `edit`; each old text must occur exactly once."""
    for old, new in edit.replacements:
        count = text.count(old)
        if count != 1:
            where = "is not in" if count == 0 else f"occurs {count} times in"
            raise EditError(
                f"edit {edit.name!r}: the text {old[:60]!r}... {where} pipeline.py. "
                "If you chose a subset with --edits, include the edits it builds on."
            )
        text = text.replace(old, new)
    return text


def select_edits(spec: str | None) -> tuple[Edit, ...]:
    """Edits named (or numbered from 1) in a comma-separated `spec`; all when None."""
    if not spec or spec == "all":
        return SESSION
    by_name = {e.name: e for e in SESSION}
    chosen: list[Edit] = []
    for item in (s.strip() for s in spec.split(",") if s.strip()):
        if item.isdigit() and 1 <= int(item) <= len(SESSION):
            chosen.append(SESSION[int(item) - 1])
        elif item in by_name:
            chosen.append(by_name[item])
        else:
            names = ", ".join(by_name)
            raise EditError(f"--edits: no edit {item!r}; use 1..{len(SESSION)} or one of {names}.")
    return tuple(sorted(set(chosen), key=SESSION.index))


def check_session(template: str, edits: Sequence[Edit]) -> list[str]:
    """Dry-run the edits on the template; return the text after each one (fails early)."""
    texts, text = [], template
    for edit in edits:
        text = apply_edit(text, edit)
        texts.append(text)
    return texts
