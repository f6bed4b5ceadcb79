"""`fer-edge train model` end to end on a small generated dataset (one epoch)."""

from __future__ import annotations

import json

import numpy as np

from fer_edge.cli.main import main
from fer_edge.data import Form, save_dataset
from fer_edge.data.synthetic import make_synthetic


def test_train_model_writes_model_card_metrics_and_figures(tmp_path, capsys):
    data = save_dataset(make_synthetic(280, seed=4), tmp_path / "faces.csv", Form.CSV)
    out = tmp_path / "run"
    args = ["train", "model", "--arch", "paper1-cnn", "--channels", "1", "--data", str(data), "--out", str(out)]
    assert main([*args, "--epochs", "1", "--split", "usage", "--seed", "7"]) == 0
    for name in ("model.keras", "model.json", "history.csv", "metrics.json", "predictions.npz"):
        assert (out / name).exists(), name
    for name in ("curves.png", "confusion.png", "roc.png"):
        assert (out / name).stat().st_size > 1000
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["split"]["method"] == "usage" and metrics["seed"] == 7
    assert metrics["test"]["n"] == metrics["split"]["sizes"][2]
    assert set(metrics["test"]["roc_auc"]) == {"angry", "disgust", "fear", "happy", "sad", "surprise", "neutral"}
    assert metrics["leakage"]["test_images"] == metrics["test"]["n"]
    card = json.loads((out / "model.json").read_text())
    assert card["input_shape"] == [48, 48, 1]
    assert card["training"]["seed"] == 7 and card["training"]["split"]["method"] == "usage"
    assert card["training"]["data"]["path"] == str(data)
    assert "train model" in card["training"]["command"]
    pred = np.load(out / "predictions.npz")
    assert pred["probs"].shape == (metrics["test"]["n"], 7)
    assert (out / "model.keras").stat().st_size < 2_000_000  # saved without optimizer state
    assert "test accuracy" in capsys.readouterr().out

    # an existing output is never replaced without --force; unknown names are one-line errors
    assert main([*args, "--epochs", "1"]) == 2
    assert "already exists" in capsys.readouterr().err
    assert main(["train", "model", "--arch", "nope", "--data", str(data), "--out", str(tmp_path / "x")]) == 2
    assert "unknown architecture" in capsys.readouterr().err


def test_usage_split_needs_the_three_usages(tmp_path, capsys):
    ds = make_synthetic(140, seed=1)
    data = save_dataset(ds.with_usage("Training"), tmp_path / "train_only.csv", Form.CSV)
    args = ["train", "model", "--arch", "paper1-cnn", "--data", str(data), "--out", str(tmp_path / "o"), "--split"]
    assert main([*args, "usage", "--epochs", "1"]) == 2
    assert "--split usage needs" in capsys.readouterr().err
