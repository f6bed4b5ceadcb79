"""The training protocol on generated data: learns well above chance in seconds, history written."""

from __future__ import annotations

import numpy as np
import pytest

from fer_edge.data.splits import stratified_split
from fer_edge.data.synthetic import make_synthetic


@pytest.fixture(scope="module")
def synth():
    return make_synthetic(1400, seed=11)


def test_fit_learns_synthetic_faces_well_above_chance(synth, tmp_path):
    from fer_edge.metrics import classification_metrics
    from fer_edge.models import build_model
    from fer_edge.training.fit import TrainConfig, fit, predict_proba

    split = stratified_split(synth.labels, seed=0)
    model = build_model("paper1-cnn", channels=1)
    cfg = TrainConfig(epochs=8, batch_size=32, seed=0, verbose=0)
    res = fit(
        model,
        synth.images[split.train],
        synth.labels[split.train],
        synth.images[split.val],
        synth.labels[split.val],
        cfg,
        out_dir=tmp_path,
    )
    probs = predict_proba(model, synth.images[split.test])
    assert probs.shape == (len(split.test), 7)
    np.testing.assert_allclose(probs.sum(axis=1), 1.0, atol=1e-4)
    acc = classification_metrics(synth.labels[split.test], probs)["accuracy"]
    assert acc > 0.5, acc  # chance is 1/7
    assert 1 <= res.best_epoch <= res.epochs_run <= 8
    assert len(res.history["val_loss"]) == res.epochs_run
    lines = (tmp_path / "history.csv").read_text().strip().splitlines()
    assert lines[0].startswith("epoch") and len(lines) == res.epochs_run + 1


def test_fit_with_augmentation_and_three_channels_runs(synth):
    from fer_edge.models import build_model
    from fer_edge.training.fit import TrainConfig, fit, predict_proba

    model = build_model("paper1-cnn", channels=3)
    x = synth.images[:200]
    y = synth.labels[:200]
    res = fit(model, x, y, x[:50], y[:50], TrainConfig(epochs=1, batch_size=50, augment=True, verbose=0))
    assert res.epochs_run == 1 and res.seconds_per_epoch > 0
    assert predict_proba(model, x[:3]).shape == (3, 7)


def test_same_seed_gives_same_weights(synth):
    import keras

    from fer_edge.models import build_model
    from fer_edge.training.fit import TrainConfig, fit

    x, y = synth.images[:128], synth.labels[:128]
    weights = []
    for _ in range(2):
        keras.utils.set_random_seed(5)  # the initial weights come from the seed set before building
        m = build_model("paper1-cnn", channels=1)
        fit(m, x, y, x[:32], y[:32], TrainConfig(epochs=1, batch_size=32, seed=5, verbose=0))
        weights.append(m.get_weights()[0])
    np.testing.assert_array_equal(weights[0], weights[1])
