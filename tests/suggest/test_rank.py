"""Ranking from the history alone: tiers, goal, noise, the DESIGN §8 JSON shape."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from ghostrun.history import History, TrialRun, VariantRecord
from ghostrun.suggest.rank import suggestions
from ghostrun.workflow.types import FULL, Fidelity

from ..history.builders import make_snapshot

SAMPLE = Fidelity(0.1, budget=0.25)
MIDDLE = Fidelity(0.3, budget=0.5)


@pytest.fixture
def history(tmp_path: Path) -> Iterator[History]:
    with History(tmp_path / "history.sqlite") as opened:
        opened.save_version(make_snapshot("base"), workflow_path="w.py")
        opened.save_version(make_snapshot("other"), workflow_path="w.py")
        yield opened


def knob(new: float, name: str = "n_estimators", old: float = 100) -> dict:
    return {"kind": "knob", "op": "model", "knob": name, "old": old, "new": new}


class Book:
    """Writes variants and trials the way exploration does, with real runs behind them."""

    def __init__(self, history: History, base: str = "base", goal: str = "max"):
        self.history, self.base, self.goal = history, base, goal

    def variant(self, change: dict) -> str:
        from ghostrun.suggest.variant import Variant

        v = Variant.from_json(change)
        self.history.save_variant(VariantRecord(
            variant_id=v.id, base_version=self.base, kind=v.kind, change=v.to_json(),
            description=v.describe(), location="w.py:10", ops=v.ops,
            base_fingerprints={"model": "fp-model"}, version_id="other",
        ))  # fmt: skip
        return v.id

    def trial(self, vid: str, fidelity: Fidelity, deltas: list[float], seconds: float = 1.0,
              status: str = "ok") -> None:  # fmt: skip
        runs = []
        for seed, d in enumerate(deltas):
            f = Fidelity(fidelity.fraction, fidelity.precision, fidelity.budget, seed)
            run = self.history.start_run("other", kind="explore", fidelity=f, parent_id=None)
            self.history.finish_run(run, status="ok", seconds=seconds, metrics={"auc": 1 + d},
                                    primary="auc")  # fmt: skip
            runs.append(TrialRun(seed, run, None, 1 + d, 1.0))
        mean = sum(deltas) / len(deltas)
        se = None
        if len(deltas) > 1:
            var = sum((d - mean) ** 2 for d in deltas) / (len(deltas) - 1)
            se = (var / len(deltas)) ** 0.5
        self.history.record_trial(
            vid, self.base, fidelity, metric="auc", goal=self.goal, status=status, runs=runs,
            delta=None if status == "failed" else mean, uncertainty=se, value=None,
            base_value=1.0, seconds=seconds * len(deltas),
        )  # fmt: skip


    def resplit_trial(self, vid: str, deltas: list[float]) -> None:
        """A trial on the user's split and on others (`deltas[0]` is the user's), recorded
        as exploration records it: that delta, and the spread over splits."""
        runs = []
        for seed, d in enumerate(deltas):
            run = self.history.start_run("other", kind="explore", fidelity=FULL, parent_id=None)
            self.history.finish_run(run, status="ok", seconds=1.0, metrics={"auc": 1 + d},
                                    primary="auc")  # fmt: skip
            runs.append(TrialRun(seed, run, None, 1 + d, 1.0))
        mean = sum(deltas) / len(deltas)
        sd = (sum((d - mean) ** 2 for d in deltas) / (len(deltas) - 1)) ** 0.5
        self.history.record_trial(
            vid, self.base, FULL, metric="auc", goal=self.goal, status="ok", runs=runs,
            delta=deltas[0], uncertainty=sd, value=None, base_value=1.0, seconds=len(deltas),
        )  # fmt: skip


def test_confirmed_beats_sample_only_beats_within_noise(history: History) -> None:
    book = Book(history)
    confirmed = book.variant(knob(200))
    book.trial(confirmed, SAMPLE, [0.010, 0.012, 0.011])
    book.trial(confirmed, FULL, [0.008], seconds=4.0)
    sampled = book.variant(knob(0.3, "learning_rate", 0.1))
    book.trial(sampled, SAMPLE, [0.05, 0.052, 0.051])  # bigger, but only on samples
    noisy = book.variant(knob(50, "min_child_samples", 20))
    book.trial(noisy, SAMPLE, [0.03, -0.02, 0.01])  # positive, within noise
    worse = book.variant(knob(8, "max_depth", 6))
    book.trial(worse, SAMPLE, [0.02, 0.03, 0.025])
    book.trial(worse, FULL, [-0.004])  # better on samples, worse on full data: not suggested
    failed = book.variant(knob(1, "max_depth", 6))
    book.trial(failed, SAMPLE, [0.0], status="failed")

    found = suggestions(history, "base")
    assert [s.id for s in found] == [confirmed, sampled, noisy]
    first, second, third = found
    assert (first.rank, first.confirmed_full, first.expected_delta) == (1, True, 0.008)
    assert first.fidelities == [0.1, 1.0] and first.runs == 4 and first.seconds == 4.0
    assert first.uncertainty == pytest.approx(0.001 / 3**0.5 * 0.1**0.5)  # borrowed, shrunk
    assert first.why.startswith("confirmed on full data, after 1 sample rung: auc +0.008")
    assert not second.confirmed_full and second.seconds is None
    assert "not yet confirmed on full data" in second.why and "10% samples" in second.why
    assert third.why.startswith("unconfirmed:") and "within noise" in third.why
    assert [s.rank for s in suggestions(history, "base", n=2)] == [1, 2]


def test_a_min_goal_suggests_decreases(history: History) -> None:
    book = Book(history, goal="min")
    down = book.variant(knob(200))
    book.trial(down, FULL, [-0.5])
    up = book.variant(knob(50))
    book.trial(up, FULL, [0.7])
    (only,) = suggestions(history, "base")
    assert (only.id, only.expected_delta, only.confirmed_full) == (down, -0.5, True)
    assert "auc −0.5" in only.why


def test_the_latest_trial_of_a_fidelity_counts(history: History) -> None:
    book = Book(history)
    vid = book.variant(knob(200))
    book.trial(vid, FULL, [0.01])
    book.trial(vid, FULL, [-0.01])  # re-measured later (e.g. after a re-check): now worse
    assert suggestions(history, "base") == []


def test_on_small_data_the_spread_of_full_deltas_is_the_noise(history: History) -> None:
    book = Book(history)
    small = [book.variant(knob(v, f"knob{v}", 1)) for v in (50, 150, 200, 300, 400, 500)]
    for vid, d in zip(small, [0.001, -0.001, 0.002, -0.002, 0.0005, 0.02], strict=True):
        book.trial(vid, FULL, [d])
    found = suggestions(history, "base")
    assert found[0].id == small[-1] and found[0].confirmed_full  # 0.02 clears the noise
    assert found[0].uncertainty is not None and found[0].uncertainty < 0.01
    rest = found[1:]
    assert {s.id for s in rest} == {small[0], small[2], small[4]}  # gains within the spread
    assert not any(s.confirmed_full for s in rest)
    assert all(s.why.startswith("unconfirmed") for s in rest)


def test_suggestions_belong_to_one_version(history: History) -> None:
    Book(history).trial(Book(history).variant(knob(200)), FULL, [0.01])
    assert suggestions(history, "other") == []
    assert [s.base_version for s in suggestions(history, "base")] == ["base"]
    assert [s.base_version for s in suggestions(history)] == ["base"]  # the latest explored
    user = history.start_run("other", kind="user", fidelity=FULL, parent_id=None)
    history.finish_run(user, status="ok", seconds=1.0)
    assert suggestions(history) == []  # the user ran another version since: nothing for it


def test_json_is_the_design_contract(history: History) -> None:
    book = Book(history)
    vid = book.variant(knob(200))
    book.trial(vid, SAMPLE, [0.010, 0.012, 0.011])
    book.trial(vid, FULL, [0.008])
    data = suggestions(history, "base")[0].to_json()
    contract = {"id", "rank", "description", "op", "location", "change", "expected_delta",
                "uncertainty", "evidence"}  # fmt: skip
    assert contract <= set(data) and set(data) - contract == {
        "why",
        "seconds",
        "base_version",
        "base_fingerprints",
    }
    assert data["evidence"] == {"fidelities": [0.1, 1.0], "runs": 4, "confirmed_full": True}
    assert (data["id"], data["rank"], data["op"], data["location"]) == (vid, 1, "model", "w.py:10")
    assert data["change"] == knob(200) and data["description"] == "model: n_estimators 100 → 200"
    assert data["base_fingerprints"] == {"model": "fp-model"}
    import json

    assert json.loads(json.dumps(data)) == data


def test_one_suggestion_per_idea(history: History) -> None:
    book = Book(history)
    ids = {}
    for new, d in ((200, 0.01), (400, 0.02), (50, -0.01)):
        ids[new] = book.variant(knob(new))
        book.trial(ids[new], FULL, [d])
    other = book.variant(knob(0.3, "learning_rate", 0.1))
    book.trial(other, FULL, [0.005])
    both = book.variant({"kind": "pair", "parts": [knob(400), knob(0.3, "learning_rate", 0.1)]})
    book.trial(both, FULL, [0.03])
    found = suggestions(history, "base")
    assert [s.id for s in found] == [both, ids[400], other]  # n_estimators 200 is the same idea


def test_a_combination_must_beat_its_best_part_beyond_noise(history: History) -> None:
    book = Book(history)
    for i, d in enumerate([0.001, -0.001, 0.002, -0.002, 0.0015, -0.0005]):  # noise ~0.003
        book.trial(book.variant(knob(2, f"noise{i}", 1)), FULL, [d])
    a, b = knob(200), knob(0.3, "learning_rate", 0.1)
    alone, other = book.variant(a), book.variant(b)
    book.trial(alone, FULL, [0.05])
    book.trial(other, FULL, [0.012])
    lucky = book.variant({"kind": "pair", "parts": [a, b]})
    book.trial(lucky, FULL, [0.052])  # +0.002 over `alone`: within noise
    found = suggestions(history, "base")
    assert [s.id for s in found[:3]] == [alone, other, lucky]
    assert found[0].confirmed_full and not found[2].confirmed_full  # not as a whole
    assert found[2].why.startswith("unconfirmed: auc +0.052")
    assert found[2].why.endswith("no clear gain over model: n_estimators 100 → 200 alone")

    clear = book.variant({"kind": "pair", "parts": [a, knob(8, "max_depth", 6)]})
    book.trial(book.variant(knob(8, "max_depth", 6)), FULL, [0.004])
    book.trial(clear, FULL, [0.09])  # well beyond `alone`: a real interaction
    assert suggestions(history, "base")[0].id == clear


def test_other_splits_decide_what_is_confirmed(history: History) -> None:
    """A big gain on the user's split that other splits do not repeat was luck; a smaller
    one they all repeat is confirmed, and ranks first."""
    book = Book(history)
    lucky = book.variant(knob(200))
    book.trial(lucky, FULL, [0.03])
    book.resplit_trial(lucky, [0.03, -0.01, 0.004, -0.02, 0.002])
    steady = book.variant(knob(0.05, "learning_rate", 0.1))
    book.trial(steady, FULL, [0.006])
    book.resplit_trial(steady, [0.006, 0.005, 0.008, 0.004, 0.006])
    first, second = suggestions(history, "base")
    assert (first.id, first.confirmed_full, first.expected_delta) == (steady, True, 0.006)
    assert "over 5 train/test splits" in first.why and first.why.startswith("confirmed")
    assert first.uncertainty == pytest.approx(0.00148, abs=1e-5)  # one split's spread
    assert first.seconds == 1.0
    assert (second.id, second.confirmed_full) == (lucky, False)
    assert second.why.startswith("unconfirmed: auc +0.03") and "within noise" in second.why


def test_among_unconfirmed_the_mean_over_splits_ranks(history: History) -> None:
    book = Book(history, goal="min")
    worse = book.variant(knob(200))
    book.resplit_trial(worse, [-0.05, 0.04, 0.03, 0.02, 0.01])  # better on the user's split
    lucky = book.variant(knob(0.2, "learning_rate", 0.1))
    book.resplit_trial(lucky, [-0.04, 0.03, -0.01, 0.02, -0.01])
    steady = book.variant(knob(50, "min_child_samples", 20))
    book.resplit_trial(steady, [-0.01, -0.02, 0.01, -0.015, 0.02])
    found = suggestions(history, "base")
    assert [s.id for s in found] == [steady, lucky]  # worse on average: no suggestion
    assert not any(s.confirmed_full for s in found)


def test_a_single_split_awaits_the_others_where_findings_are_resplit(history: History) -> None:
    book = Book(history)
    steady = book.variant(knob(0.05, "learning_rate", 0.1))
    book.resplit_trial(steady, [0.006, 0.005, 0.008, 0.004, 0.006])
    single = book.variant(knob(200))
    book.trial(single, FULL, [0.03])  # bigger, on the user's split only
    modest = book.variant(knob(2, "max_depth", 6))
    book.resplit_trial(modest, [0.004, 0.006, -0.004, 0.002, 0.001])  # within noise
    first, second, third = suggestions(history, "base")
    assert (first.id, first.confirmed_full) == (steady, True)
    assert (second.id, second.confirmed_full) == (modest, False)  # measured on 5 splits
    assert (third.id, third.confirmed_full) == (single, False)
    assert third.why == "unconfirmed: auc +0.03 on your split, not yet measured on other splits"


def test_a_confirmed_combination_outranks_its_unconfirmed_part(history: History) -> None:
    book = Book(history, goal="min")
    part = book.variant(knob(2, "min_child_samples", 20))
    book.resplit_trial(part, [-0.094, -0.02, -0.15, -0.01, -0.08])  # within noise
    both = book.variant({"kind": "pair", "parts": [knob(2, "min_child_samples", 20), knob(200)]})
    book.resplit_trial(both, [-0.15, -0.12, -0.16, -0.10, -0.14])  # confirmed
    first, second = suggestions(history, "base")
    assert (first.id, first.confirmed_full) == (both, True)
    assert (second.id, second.confirmed_full) == (part, False)
