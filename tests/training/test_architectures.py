"""The registered architectures: paper-1 parameter counts exactly, raw-pixel input, and unrolled twins."""

from __future__ import annotations

import numpy as np
import pytest

from fer_edge.cli.main import main
from fer_edge.models import ARCHITECTURES, build_model
from fer_edge.models.unrolled_lstm import UnrolledLSTM


@pytest.mark.parametrize(
    ("name", "channels", "params"),
    [("paper1-cnn", 3, 319_527), ("paper1-cnn", 1, 319_239), ("paper1-cnn-lstm", 1, 232_967)],
)
def test_paper1_parameter_counts_match_the_paper(name, channels, params):
    assert build_model(name, channels).count_params() == params


def test_models_command_lists_every_architecture_with_its_count(capsys):
    assert main(["models"]) == 0
    out = capsys.readouterr().out
    for name in ARCHITECTURES:
        assert name in out
    assert "319,527" in out and "232,967" in out


@pytest.mark.parametrize("name", list(ARCHITECTURES))
def test_models_normalize_inside_and_take_raw_pixels(name):
    """A frame of raw 0-255 pixels gives a probability vector: no caller-side scaling needed."""
    model = build_model(name)
    first = model.layers[1]
    assert type(first).__name__ == "Rescaling"
    x = np.full((2, *model.input_shape[1:]), 200.0, np.float32)
    probs = model.predict(x, verbose=0)
    assert probs.shape == (2, 7) and np.allclose(probs.sum(axis=1), 1, atol=1e-5)


@pytest.mark.parametrize("name", ["paper1-cnn-lstm", "paper2-cnn-lstm"])
def test_unrolled_twin_computes_the_same_function(name):
    """The conversion twin holds the LSTM's weights in the same order and agrees with keras.layers.LSTM."""
    trained, twin = build_model(name), build_model(name, unroll=True)
    assert any(isinstance(layer, UnrolledLSTM) for layer in twin.layers)
    assert not any(isinstance(layer, UnrolledLSTM) for layer in trained.layers)
    rng = np.random.default_rng(3)
    weights = [rng.normal(0, 0.2, w.shape).astype(np.float32) for w in trained.get_weights()]
    trained.set_weights(weights)
    twin.set_weights(weights)
    assert twin.count_params() == trained.count_params()
    x = rng.integers(0, 256, (4, 48, 48, 1)).astype(np.float32)
    a, b = trained.predict(x, verbose=0), twin.predict(x, verbose=0)
    assert np.abs(a - b).max() < 1e-5
    assert np.abs(a - a[:1]).max() > 1e-4  # the inputs differ enough for the check to mean something


@pytest.mark.parametrize("name", list(ARCHITECTURES))
def test_keras_model_name_maps_back_to_the_architecture(name):
    """`fer-edge convert` reads the architecture of a card-less .keras file from the Keras model name."""
    assert build_model(name).name.replace("_", "-") == name
