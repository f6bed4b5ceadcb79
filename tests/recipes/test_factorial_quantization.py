"""convert/factorial_quantization.py's own logic: PASS thresholds as stated, McNemar counts, per-cell intervals."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pytest

RECIPE = Path(__file__).resolve().parents[2] / "convert" / "factorial_quantization.py"


@pytest.fixture(scope="module")
def recipe():
    if not RECIPE.exists():
        pytest.skip("no source checkout")
    spec = importlib.util.spec_from_file_location("factorial_quantization", RECIPE)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_loss_targets_use_the_stated_threshold(recipe):
    rows = {"int8": {"delta_accuracy_pp": -0.45}, "float16": {"delta_accuracy_pp": 0.0}}
    old = [{"model": "m", "target": "int8 loses <= 1.0 pp accuracy vs the Keras float model", "passed": True},
           {"model": "m", "target": "int8 file <= 30% of float32", "passed": True}]  # fmt: skip
    strict = recipe._loss_targets(old, rows, "m", {"int8": 0.4, "float16": 0.1})
    by = {t["target"]: t["passed"] for t in strict}
    assert by["int8 loses <= 0.4 pp accuracy vs the Keras float model"] is False
    assert by["float16 loses <= 0.1 pp accuracy vs the Keras float model"] is True
    assert "int8 loses <= 1.0 pp accuracy vs the Keras float model" not in by  # the evaluator's default is gone
    assert by["int8 file <= 30% of float32"] is True


def test_mcnemar_counts_discordant_images(recipe):
    y = np.array([0, 1, 2, 3, 4, 5, 6, 0, 1, 2])
    a = y.copy()
    b = y.copy()
    b[:3] = 6  # int8 wrong where float is right on 3 images
    a[9] = 0  # float wrong on one image int8 gets right
    res = recipe._mcnemar(y, a, b)
    assert (res["only_float_right"], res["only_int8_right"]) == (3, 1)
    assert res["p"] == pytest.approx(0.625)  # exact binomial, 4 discordant pairs split 3/1


def test_summary_states_thresholds_and_intervals(recipe):
    rows = [
        {"cell": "c", "seed": s, "test_images": 100, "keras_accuracy_recorded": 0.5, "keras_accuracy": 0.5,
         "float16_delta_pp": 0.0, "int8_accuracy": 0.49, "int8_delta_pp": d, "int8_size_vs_float32": 0.25,
         "int8_speedup_vs_float32": 2.0, "mcnemar_int8_vs_keras": {"p": p, "only_float_right": 1, "only_int8_right": 0},
         "targets": {"int8 loses <= 0.5 pp accuracy vs the Keras float model": d >= -0.5}}
        for s, d, p in ((0, -0.2, 0.5), (1, -0.4, 0.02), (2, -0.6, 0.01))
    ]  # fmt: skip
    md = recipe._summary_md(rows, "cmd", {"int8": 0.5, "float16": 0.1}, every_seed=True)
    assert "int8 loses at most 0.5 pp" in md and "FAIL" in md and "PASS" in md
    half = 4.302653 * 0.2 / np.sqrt(3)
    assert f"-0.40 [{-0.4 - half:+.2f}, {-0.4 + half:+.2f}]" in md
    rows_md = [line.split("|") for line in md.splitlines() if line.startswith("| c |")]
    holm = [cells[11].strip() for cells in rows_md if len(cells) > 11]
    assert holm == ["0.500", "0.040", "0.030"]  # Holm over the table's 3 models: 3 x 0.01, 2 x 0.02, 0.5


def test_every_seed_summaries_add_up_per_model(recipe):
    from fer_edge.errors import FerEdgeError

    limits = {"int8": 1.0, "float16": 0.1}
    old = {"command": "a", "limits_pp": limits, "cells": [{"cell": "x", "seed": 1}, {"cell": "y", "seed": 3}]}
    rows, commands = recipe._merge(old, [{"cell": "y", "seed": 3, "new": True}, {"cell": "y", "seed": 4}], "b", limits)
    assert [(r["cell"], r["seed"]) for r in rows] == [("x", 1), ("y", 3), ("y", 4)]
    assert rows[1]["new"] is True and commands == ["a", "b"]
    with pytest.raises(FerEdgeError, match="thresholds"):
        recipe._merge(old, [], "c", {"int8": 0.5, "float16": 0.1})


def _run(folder: Path, accuracy: float, probs: np.ndarray) -> Path:
    import json

    folder.mkdir(parents=True)
    (folder / "metrics.json").write_text(json.dumps({"test": {"accuracy": accuracy}}))
    np.savez(folder / "predictions.npz", index=np.arange(len(probs)), probs=probs)
    return folder


def test_committed_run_tells_a_reproduced_seed_from_a_different_model(recipe, tmp_path):
    from fer_edge.errors import FerEdgeError

    probs = np.random.default_rng(0).random((5, 7)).astype(np.float32)
    committed = tmp_path / "train-results"
    _run(committed / "runs" / "c_cnn" / "seed1", 0.6, probs)
    same = recipe._committed_run(committed, "c_cnn", _run(tmp_path / "a" / "runs" / "c_cnn" / "seed1", 0.6, probs))
    assert same["identical_predictions"] is True and same["accuracy"] == 0.6
    moved = probs.copy()
    moved[0, 0] += 1e-6  # one rounding apart is another model
    other = recipe._committed_run(committed, "c_cnn", _run(tmp_path / "b" / "runs" / "c_cnn" / "seed1", 0.6, moved))
    assert other["identical_predictions"] is False
    rows = [{"committed_run": same}, {"committed_run": {**other, "accuracy": 0.5729}}, {}]
    assert [recipe._model_column(r) for r in rows] == [
        "retrained, identical to the run", "retrained, differs (run: 57.29 %)", "the run"
    ]  # fmt: skip
    with pytest.raises(FerEdgeError, match="no committed run"):
        recipe._committed_run(committed, "c_cnn", tmp_path / "a" / "runs" / "c_cnn" / "seed7")


def test_every_seed_finds_local_seeds_also_without_a_best_model(recipe, tmp_path):
    import json

    runs = tmp_path / "runs"
    for cell, seeds in (("a_cnn", (0, 2)), ("b_cnn", (1,))):
        for k in seeds:
            (runs / cell / f"seed{k}").mkdir(parents=True)
            (runs / cell / f"seed{k}" / "model.keras").write_bytes(b"")
    (runs / "b_cnn" / "best").mkdir()
    (runs / "b_cnn" / "best" / "model.keras").write_bytes(b"")
    (runs / "b_cnn" / "best" / "chosen.json").write_text(json.dumps({"run": "seed3"}))
    found = [str(p.relative_to(runs)) for p in recipe._cell_models(tmp_path, (), every_seed=True)]
    assert found == [
        "a_cnn/seed0/model.keras",
        "a_cnn/seed2/model.keras",
        "b_cnn/seed1/model.keras",
        "b_cnn/best/model.keras",
    ]
    assert [str(p.relative_to(runs)) for p in recipe._cell_models(tmp_path, ("a_cnn",), every_seed=True)] == [
        "a_cnn/seed0/model.keras", "a_cnn/seed2/model.keras"
    ]  # fmt: skip
    assert recipe._cell_models(tmp_path, ()) == [runs / "b_cnn" / "best" / "model.keras"]
