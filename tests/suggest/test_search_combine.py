"""Building variants from measured ones: clashes, compositions around a finding."""

from __future__ import annotations

from ghostrun.suggest.combine import clash, combined, compose, from_json
from ghostrun.suggest.variant import Variant


def knob(name: str, old: float, new: float, op: str = "model") -> dict:
    return {"kind": "knob", "op": op, "knob": name, "old": old, "new": new}


SWAP = {"kind": "estimator", "op": "model", "old": "lightgbm.LGBMClassifier",
        "new": "xgboost.XGBClassifier", "kept": {}, "dropped": [], "added": {}}  # fmt: skip
DROP = {"kind": "drop", "op": "features", "columns": ["city"]}


def v(change: dict) -> Variant:
    return Variant.from_json(change)


def test_clashes() -> None:
    leaves = v(knob("LGBMClassifier.num_leaves", 31, 63))
    assert clash(leaves, v(knob("LGBMClassifier.num_leaves", 31, 15)))  # the same knob
    assert clash(leaves, v(SWAP))  # the swap drops or renames what the other tunes
    assert not clash(leaves, v(DROP))
    both = combined(leaves, v(DROP))
    assert both is not None and both.to_json()["parts"] == [leaves.to_json(), DROP]
    assert combined(leaves, v(SWAP)) is None


def test_composing_a_move_with_a_finding() -> None:
    leaves = v(knob("LGBMClassifier.num_leaves", 31, 63))
    further = compose(leaves, knob("LGBMClassifier.num_leaves", 63, 127))
    assert further is not None and further.to_json() == knob("LGBMClassifier.num_leaves", 31, 127)
    assert compose(leaves, knob("LGBMClassifier.num_leaves", 63, 31)) is None  # undone

    swapped = v(SWAP)
    tuned = compose(swapped, knob("XGBClassifier.max_depth", 6, 3))  # a knob the swap brought
    assert tuned is not None and tuned.kind == "pair"
    assert tuned.to_json()["parts"] == [SWAP, knob("XGBClassifier.max_depth", 6, 3)]
    other = {**SWAP, "old": "xgboost.XGBClassifier", "new": "sklearn.ensemble.RandomForest"}
    assert compose(swapped, other) is None  # no second swap of one estimator

    pair = v({"kind": "pair", "parts": [SWAP, DROP]})
    assert compose(pair, DROP) is None  # already dropped
    deeper = compose(pair, knob("XGBClassifier.max_depth", 6, 3))
    assert deeper is not None and len(deeper.parts) == 3


def test_from_json_refuses_what_is_not_a_variant() -> None:
    assert from_json(None) is None
    assert from_json({"kind": "nonsense"}) is None
    assert from_json(DROP) == v(DROP)
