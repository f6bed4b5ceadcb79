"""Weight averaging (SWA) and distillation targets in the training loop, on generated data."""

from __future__ import annotations

import numpy as np
import pytest

from fer_edge.data.synthetic import make_synthetic


@pytest.fixture(scope="module")
def synth():
    return make_synthetic(256, seed=21)


def _tiny_model():
    import keras

    keras.utils.set_random_seed(0)
    inputs = keras.Input((48, 48, 1))
    x = keras.layers.Rescaling(1 / 255)(inputs)
    x = keras.layers.Conv2D(4, 3, strides=4)(x)
    x = keras.layers.BatchNormalization(name="bn")(x)
    x = keras.layers.GlobalAveragePooling2D()(x)
    return keras.Model(inputs, keras.layers.Dense(7, activation="softmax")(x))


def test_weight_average_is_the_mean_of_the_snapshots_from_its_start_epoch():
    from fer_edge.training.averaging import WeightAverage

    model = _tiny_model()
    avg = WeightAverage(start_epoch=2)
    avg.set_model(model)
    base = model.get_weights()
    for epoch, scale in enumerate((100.0, 1.0, 2.0, 6.0)):  # epoch 0 (1-based 1) is before the start
        model.set_weights([w * scale for w in base])
        avg.on_epoch_end(epoch)
    assert avg.snapshots == 3
    for got, w in zip(avg.averaged_weights(), base):
        np.testing.assert_allclose(got, w * 3.0, rtol=1e-5, atol=1e-6)


def test_weight_average_refuses_to_return_nothing():
    from fer_edge.training.averaging import WeightAverage

    avg = WeightAverage(start_epoch=5)
    avg.set_model(_tiny_model())
    avg.on_epoch_end(0)
    with pytest.raises(RuntimeError, match="nothing was averaged"):
        avg.averaged_weights()
    with pytest.raises(ValueError):
        WeightAverage(start_epoch=0)


def test_recompute_batchnorm_sets_the_exact_mean_over_all_batches_and_restores_momentum():
    import keras

    from fer_edge.training.averaging import recompute_batchnorm

    model = _tiny_model()
    rng = np.random.default_rng(0)
    batches = [rng.uniform(0, 255, (8, 48, 48, 1)).astype(np.float32) for _ in range(5)]
    assert recompute_batchnorm(model, [(b, None) for b in batches]) == 5
    features = keras.Model(model.input, model.get_layer("bn").input)
    means = [np.asarray(features(b)).mean(axis=(0, 1, 2)) for b in batches]
    np.testing.assert_allclose(model.get_layer("bn").moving_mean.numpy(), np.mean(means, axis=0), rtol=1e-4)
    assert model.get_layer("bn").momentum == pytest.approx(0.99)


def test_fit_with_averaging_and_soft_targets_returns_the_average(synth):
    from fer_edge.training.fit import TrainConfig, fit

    model = _tiny_model()
    soft = np.full((len(synth), 7), 1 / 7, np.float32)
    cfg = TrainConfig(
        epochs=3, batch_size=64, lr_schedule="constant", average_from_epoch=2, distill_weight=0.5, verbose=0
    )
    res = fit(model, synth.images, synth.labels, synth.images[:64], synth.labels[:64], cfg, soft_targets=soft)
    assert res.averaged["snapshots"] == 2 and res.averaged["batchnorm_batches"] == 4
    assert 0.0 <= res.averaged["val_accuracy"] <= 1.0
    assert res.as_dict()["averaged"]["from_epoch"] == 2 and res.best_epoch == res.epochs_run == 3
    with pytest.raises(ValueError, match="soft_targets must have shape"):
        fit(model, synth.images, synth.labels, synth.images[:64], synth.labels[:64], cfg, soft_targets=soft[:10])
