"""The classifier applies its card's temperature; old cards without one read as T = 1."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest

from fer_edge.model_card import ModelCard
from fer_edge.runtime.calibrate import apply_temperature
from fer_edge.runtime.classifier import DEFAULT_MODEL, EmotionClassifier
from fer_edge.runtime.model_file import to_channels

pytestmark = pytest.mark.skipif(not DEFAULT_MODEL.is_file(), reason="no shipped model in this install")


def faces(n: int = 5) -> np.ndarray:
    rng = np.random.default_rng(0)
    return rng.integers(0, 256, size=(n, 48, 48), dtype=np.uint8)


def copy_with_card(tmp_path, **changes):
    model = tmp_path / "m.tflite"
    shutil.copy(DEFAULT_MODEL, model)
    raw = json.loads(ModelCard.path_for(DEFAULT_MODEL).read_text())
    raw.pop("temperature", None)
    raw.pop("ece", None)
    raw.update(changes)
    ModelCard.path_for(model).write_text(json.dumps(raw))
    return model


def test_old_card_without_temperature_reads_as_one(tmp_path):
    model = copy_with_card(tmp_path)
    card = ModelCard.load(model)
    assert card.temperature == 1.0 and card.ece == {}
    with EmotionClassifier.create(model) as clf:
        assert clf.temperature == 1.0
        x = faces()
        raw = np.stack([clf.model.run(to_channels(f[None], 1))[0][0] for f in x])
        np.testing.assert_array_equal(clf.classify_batch(x), raw)


def test_card_temperature_rescales_single_and_batch_outputs(tmp_path):
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    plain = copy_with_card(tmp_path / "a")
    hot = copy_with_card(tmp_path / "b", temperature=0.5)
    x = faces()
    with EmotionClassifier.create(plain) as a, EmotionClassifier.create(hot) as b:
        assert b.temperature == 0.5
        pa, pb = a.classify_batch(x), b.classify_batch(x)
        np.testing.assert_allclose(pb, apply_temperature(pa, 0.5), atol=1e-6)
        np.testing.assert_allclose(b.classify(x[0]), pb[0], atol=1e-6)
        np.testing.assert_array_equal(pa.argmax(1), pb.argmax(1))
        assert (pb.max(1) >= pa.max(1) - 1e-6).all()  # T < 1 sharpens
        np.testing.assert_allclose(pb.sum(1), 1.0, atol=1e-5)


def test_card_with_a_bad_temperature_names_itself(tmp_path):
    from fer_edge.errors import FerEdgeError

    model = copy_with_card(tmp_path, temperature=0)
    with pytest.raises(FerEdgeError, match="temperature"):
        EmotionClassifier.create(model)
