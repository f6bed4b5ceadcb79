"""edge-cnn and edge-cnn-wide: build, stay in their budget, converts to a small int8 file; the shipped default model matches its card.

Untrained weights and generated faces only (no FER-2013); conversion runs in a child process.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from fer_edge.labels import EMOTIONS
from fer_edge.model_card import ModelCard
from fer_edge.runtime.interpreter import TfliteModel

PARAM_BUDGET = 450_000  # int8 file < 500 KB
MAC_BUDGET = 30_000_000  # single-image int8 invoke <= 0.2 ms on one thread here
INT8_FILE_BUDGET = 500 * 1024
DEFAULT_MODEL = Path(__file__).resolve().parents[2] / "fer_edge" / "assets" / "models" / "default.tflite"


@pytest.fixture(scope="module", params=["edge-cnn", "edge-cnn-wide"])
def model(request):
    import keras

    from fer_edge.models import build_model

    keras.utils.set_random_seed(0)
    return build_model(request.param)


def test_builds_from_the_registry_with_raw_pixels_in_and_seven_probabilities_out(model):
    assert model.input_shape == (None, 48, 48, 1)
    assert model.output_shape == (None, 7)
    x = np.random.default_rng(0).uniform(0, 255, (4, 48, 48, 1)).astype(np.float32)
    probs = np.asarray(model(x, training=False))
    np.testing.assert_allclose(probs.sum(axis=1), 1.0, rtol=1e-5)
    # Rescaling is inside: the first layer maps 0..255 to -1..1
    rescale = model.get_layer("to_unit_range")
    np.testing.assert_allclose(np.asarray(rescale(np.array([[0.0, 255.0]]))), [[-1.0, 1.0]], atol=1e-6)


def test_parameters_and_macs_stay_within_the_edge_budget(model):
    from fer_edge.models.edge import count_macs

    assert 100_000 < model.count_params() <= PARAM_BUDGET
    assert 5_000_000 < count_macs(model) <= MAC_BUDGET


def test_count_macs_counts_a_known_convolution():
    import keras

    from fer_edge.models.edge import count_macs

    inputs = keras.Input((8, 8, 2))
    x = keras.layers.Conv2D(4, 3, padding="same")(inputs)
    x = keras.layers.DepthwiseConv2D(3, padding="same")(x)
    x = keras.layers.GlobalAveragePooling2D()(x)
    outputs = keras.layers.Dense(7)(x)
    m = keras.Model(inputs, outputs)
    assert count_macs(m) == 8 * 8 * 4 * 2 * 9 + 8 * 8 * 4 * 9 + 4 * 7


def test_int8_conversion_of_an_untrained_copy_is_under_500_kb(model, tmp_path):
    from fer_edge.convert import convert_model
    from fer_edge.data.synthetic import make_synthetic

    path = tmp_path / f"{model.name}.keras"
    model.save(path)
    calibration = make_synthetic(100, seed=5).images
    (converted,) = convert_model(path, tmp_path, ("int8",), calibration=calibration, samples=100)
    assert converted.passed
    assert converted.path.stat().st_size < INT8_FILE_BUDGET
    tfl = TfliteModel(converted.path)
    assert tfl.input.dtype == np.int8 and tfl.input.shape == (1, 48, 48, 1)
    assert "CONV_2D" in tfl.op_types()


@pytest.mark.skipif(not DEFAULT_MODEL.exists(), reason="no shipped default model in this checkout")
def test_shipped_default_model_loads_and_its_card_matches_its_tensors():
    assert DEFAULT_MODEL.stat().st_size < INT8_FILE_BUDGET
    card = ModelCard.load(DEFAULT_MODEL)
    assert card is not None, "default.tflite ships without default.json"
    tfl = TfliteModel(DEFAULT_MODEL, num_threads=1)
    assert tfl.input.shape == (1, 48, 48, 1) and card.input_shape == [48, 48, 1]
    assert [o.shape for o in tfl.outputs] == [(1, 7)]
    assert card.labels == list(EMOTIONS)
    assert card.precision == "int8"
    assert card.input_dtype == tfl.input.dtype.name and card.output_dtype == tfl.outputs[0].dtype.name
    assert "PrivateTest" in card.metrics and 0.0 < card.metrics["PrivateTest"]["accuracy"] <= 1.0
    assert {"limitations", "bias", "privacy"} <= set(card.notes)
    probs = tfl.run(np.full((1, 48, 48, 1), 128.0, np.float32))[0]
    assert probs.shape == (1, 7) and abs(float(probs.sum()) - 1.0) < 0.05


def test_fit_cosine_schedule_and_checkpoint_options(tmp_path):
    """The TrainConfig options the edge recipe uses: cosine decay to min_lr, AdamW, best-model checkpoint."""
    import keras

    from fer_edge.data.synthetic import make_synthetic
    from fer_edge.models.edge import edge_cnn
    from fer_edge.training.fit import TrainConfig, fit

    ds = make_synthetic(96, seed=1)
    keras.utils.set_random_seed(0)
    m = edge_cnn(stages=((8, 1), (8, 1)))
    config = TrainConfig(
        epochs=2,
        batch_size=32,
        learning_rate=1e-2,
        min_lr=1e-4,
        lr_schedule="cosine",
        warmup_epochs=1,
        weight_decay=1e-3,
        checkpoint=True,
        monitor="val_accuracy",
        verbose=0,
    )
    result = fit(m, ds.images[:64], ds.labels[:64], ds.images[64:], ds.labels[64:], config, out_dir=tmp_path)
    assert result.epochs_run == 2
    assert (tmp_path / "best.keras").is_file() and (tmp_path / "history.csv").is_file()
    assert isinstance(m.optimizer, keras.optimizers.AdamW)
    schedule = m.optimizer._learning_rate  # the schedule object (optimizer.learning_rate is its current value)
    assert float(schedule(0)) == pytest.approx(1e-4)  # warm-up starts at min_lr
    assert float(schedule(2)) == pytest.approx(1e-2)  # peak after one epoch (2 steps) of warm-up
    assert float(schedule(4)) == pytest.approx(1e-4, rel=1e-3)  # decayed to min_lr at the last step
