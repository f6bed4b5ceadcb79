"""The peer comparison's paired statistics: exact McNemar against the first model, Wilson interval."""

from __future__ import annotations

import numpy as np


def test_mcnemar_counts_only_the_images_the_two_models_disagree_on():
    from convert.peer.compare import paired_vs_first

    first = np.array([True] * 10 + [False] * 5 + [True] * 5)
    worse = np.array([False] * 10 + [False] * 5 + [True] * 5)  # loses 10, wins none
    split = np.array([False] * 3 + [True] * 7 + [True] * 2 + [False] * 3 + [True] * 5)  # loses 3, wins 2
    rows = [{"model": "a", "correct": first}, {"model": "b", "correct": worse}, {"model": "c", "correct": split}]
    paired_vs_first(rows)
    assert all("correct" not in r for r in rows)  # per-image vectors are not kept
    assert "mcnemar_exact_p" not in rows[0]["vs_first"]
    assert rows[1]["vs_first"] == {"only_first_right": 10, "only_this_right": 0, "mcnemar_exact_p": 2 * 0.5**10}
    assert rows[2]["vs_first"]["only_first_right"] == 3 and rows[2]["vs_first"]["only_this_right"] == 2
    assert rows[2]["vs_first"]["mcnemar_exact_p"] == 1.0  # 2 vs 3 of 5: no evidence either way


def test_scores_give_a_wilson_interval_around_the_accuracy():
    from convert.peer.compare import scores

    y = np.zeros(100, dtype=int)
    probs = np.zeros((100, 7), dtype=np.float32)
    probs[:60, 0] = 1.0  # 60 right
    probs[60:, 3] = 1.0
    s = scores(y, probs, np.ones(100, dtype=bool))
    low, high = s["accuracy_ci95"]
    assert s["accuracy"] == 0.6 and low < 0.6 < high
    assert round(low, 3) == 0.502 and round(high, 3) == 0.691  # Wilson 95 % for 60/100
    assert s["correct"].sum() == 60


def test_clean_subsets_score_and_pair_each_model_on_the_subsets_images():
    from convert.peer.clean_subset import subset_scores

    first = np.array([True] * 6 + [False] * 4)
    other = np.array([False] * 4 + [True] * 6)
    masks = {"all": np.ones(10, bool), "clean": np.arange(10) >= 4}  # the first 4 images leaked
    rows = {(r["model"], r["subset"]): r for r in subset_scores({"ours": first, "peer": other}, masks)}
    assert rows["ours", "all"]["accuracy"] == 0.6 and rows["ours", "clean"]["accuracy"] == 2 / 6
    assert rows["peer", "clean"]["accuracy"] == 1.0 and rows["peer", "clean"]["n"] == 6
    assert rows["peer", "clean"]["vs_first"] == {"only_first_right": 0, "only_this_right": 4, "mcnemar_exact_p": 0.125}
    assert rows["peer", "all"]["vs_first"]["only_first_right"] == 4  # the leaked four count only in "all"
    assert "vs_first" not in rows["ours", "all"]
    low, high = rows["ours", "all"]["ci95"]
    assert low < 0.6 < high
