"""Leakage by retraining: both runs of a seed are scored on the random run's test images."""

from __future__ import annotations

import json

import numpy as np
import pytest


def _onehot(pred: np.ndarray) -> np.ndarray:
    return np.eye(7, dtype=np.float16)[pred]


def _save(path, index, y, pred, leaked):
    path.mkdir(parents=True)
    np.savez_compressed(path / "predictions.npz", index=index, y_true=y, probs=_onehot(pred), leaked=leaked)


def test_paired_seed_counts_each_part_on_the_same_images():
    from fer_edge.report.retrained import paired_seed

    y = np.array([0, 1, 2, 3, 4, 5, 6, 0, 1, 2])
    leaked = np.array([1, 1, 0, 0, 0, 0, 0, 0, 0, 0], bool)
    right_r = np.array([1, 1, 1, 1, 1, 0, 0, 0, 0, 0], bool)  # 5/10; leaked 2/2; clean 3/8
    right_g = np.array([0, 0, 1, 1, 1, 1, 0, 0, 0, 0], bool)  # 4/10; leaked 0/2; clean 4/8
    random = {
        "index": np.arange(10),
        "y_true": y,
        "probs": _onehot(np.where(right_r, y, (y + 1) % 7)),
        "leaked": leaked,
    }
    # the grouped run tests the same images in another order, plus two copies moved into its test part
    order = np.array([11, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0, 10])
    y_g = np.concatenate([y, [3, 3]])[order]
    pred_g = np.concatenate([np.where(right_g, y, (y + 1) % 7), [3, 3]])[order]
    grouped = {"index": order, "y_true": y_g, "probs": _onehot(pred_g), "leaked": np.zeros(12, bool)}
    out = paired_seed(random, grouped)
    assert out["test_images"] == 10 and out["leaked_images"] == 2
    assert out["random_all"] == pytest.approx(50) and out["grouped_all"] == pytest.approx(40)
    assert out["difference_all"] == pytest.approx(10)
    assert out["difference_leaked"] == pytest.approx(100)
    assert out["difference_leakage_free"] == pytest.approx(100 * (3 / 8 - 4 / 8))
    assert 0 < out["mcnemar_p_all"] <= 1


def test_a_grouped_run_missing_test_images_is_refused():
    from fer_edge.report.retrained import paired_seed

    y = np.zeros(4, int)
    run = {"index": np.arange(4), "y_true": y, "probs": _onehot(y), "leaked": np.zeros(4, bool)}
    other = {**run, "index": np.array([0, 1, 2, 7])}
    with pytest.raises(ValueError, match="does not test 1"):
        paired_seed(run, other)


def test_per_seed_table_pairs_twins_by_seed_and_the_summary_gives_intervals(tmp_path):
    from fer_edge.report.retrained import per_seed_table, summary_table
    from fer_edge.training.factorial import load_experiment

    definition = {
        "name": "t", "seeds": 3, "split": "stratified", "protocol": {"epochs": 1},
        "architectures": {"cnn": "paper1-cnn"},
        "data": {"c": {"loader": "csv", "images": "all", "channels": 1},
                 "c-grouped": {"loader": "csv", "images": "all", "channels": 1, "split": "stratified-grouped",
                               "same_test_as": "c"}},
        "variants": {"faithful": {"data": ["c"], "comparisons": []}, "grouped": {"data": ["c-grouped"], "comparisons": []}},
    }  # fmt: skip
    (tmp_path / "e.json").write_text(json.dumps(definition))
    exp = load_experiment(tmp_path / "e.json")
    rng = np.random.default_rng(0)
    expected = []
    for seed in range(3):
        y = rng.integers(0, 7, 200)
        wrong_r, wrong_g = (np.arange(200) >= 120) & (y != 3), (np.arange(200) >= 110 + seed) & (y != 3)  # 6 - 3 == 3
        expected.append(100 * (wrong_g.mean() - wrong_r.mean()))
        leaked = np.arange(200) < 20
        _save(tmp_path / f"runs/c_cnn/seed{seed}", np.arange(200), y, np.where(np.arange(200) < 120, y, 6 - y), leaked)
        _save(tmp_path / f"runs/c-grouped_cnn/seed{seed}", np.arange(200), y, np.where(np.arange(200) < 110 + seed, y, 6 - y), leaked)  # fmt: skip
    _save(tmp_path / "runs/c_cnn/seed3", np.arange(5), np.zeros(5, int), np.zeros(5, int), np.zeros(5, bool))  # no twin
    table = per_seed_table(tmp_path, exp)
    assert list(table.seed) == [0, 1, 2] and set(table.cell) == {"c-grouped_cnn"}
    summary = summary_table(table).iloc[0]
    assert summary.seeds == 3 and summary.random_cell == "c_cnn"
    assert summary.difference_leaked_mean == pytest.approx(0)  # both models right on the first 20
    assert summary.difference_all_ci_low < summary.difference_all_mean < summary.difference_all_ci_high
    assert list(table.difference_all) == pytest.approx(expected)
    assert summary.difference_all_mean == pytest.approx(np.mean(expected))


def test_summary_pools_every_cell_and_seed_of_a_variant():
    import pandas as pd

    from fer_edge.report.retrained import summary_table

    rows = []
    for cell, diffs in (("a", [1.0, 2.0]), ("b", [3.0, 4.0, 5.0])):
        for seed, d in enumerate(diffs):
            rows.append({"variant": "g", "cell": cell, "random_cell": cell[:1] + "0", "seed": seed, "test_images": 10,
                         "leaked_images": 1, **{f"{w}_{p}": 50.0 for w in ("random", "grouped") for p in
                                                ("all", "leakage_free", "leaked")},
                         "difference_all": d, "difference_leakage_free": 0.0, "difference_leaked": 0.0,
                         "mcnemar_p_all": 1.0})  # fmt: skip
    summary = summary_table(pd.DataFrame(rows)).set_index("cell")
    assert list(summary.index) == ["a", "b", "pooled-g"]
    assert summary.loc["pooled-g", "seeds"] == 5
    assert summary.loc["pooled-g", "difference_all_mean"] == pytest.approx(3.0)
    assert summary.loc["a", "difference_all_mean"] == pytest.approx(1.5)
