"""The classifier on tiny .tflite files: card, labels, float and int8 I/O, batches, face crops."""

from __future__ import annotations

import json

import numpy as np
import pytest

from fer_edge.data.synthetic import make_synthetic
from fer_edge.errors import FerEdgeError
from fer_edge.labels import EMOTIONS
from fer_edge.runtime import classifier as clf_mod
from fer_edge.runtime.classifier import EmotionClassifier, crop_face, default_model_path
from fer_edge.runtime.detector import BBox, CropSpec
from fer_edge.testing.generate import probe_label


def _gray(level: float) -> np.ndarray:
    return np.full((48, 48), level, np.uint8)


@pytest.mark.parametrize("name", ["probe-f32", "probe-int8"])
def test_probe_model_labels_follow_brightness(tflite_models, name):
    """The probe answers class k for mean pixel nearest 18 + 36 k: raw 0-255 pixels reach the model
    unscaled, through the int8 input quantization too."""
    with EmotionClassifier.create(tflite_models[name]) as clf:
        for level in (10, 60, 90, 130, 160, 200, 245):
            probs = clf.classify(_gray(level))
            assert probs.shape == (7,) and probs.dtype == np.float32
            assert abs(float(probs.sum()) - 1.0) < 0.02
            assert int(np.argmax(probs)) == probe_label(level), level


def test_card_sets_labels_and_precision(tflite_models):
    clf = EmotionClassifier.create(tflite_models["cnn-int8"], threads=2)
    info = clf.info
    assert clf.labels == EMOTIONS
    assert (info.precision, info.channels, info.input_size, info.num_threads) == ("int8", 1, (48, 48), 2)
    assert info.backend in ("litert", "tflite-runtime", "tensorflow") and info.backend_version


def test_int8_agrees_with_float_on_paper1_cnn(tflite_models):
    faces = make_synthetic(28, seed=9).images
    f32 = EmotionClassifier.create(tflite_models["cnn-f32"]).classify_batch(faces)
    i8 = EmotionClassifier.create(tflite_models["cnn-int8"]).classify_batch(faces)
    assert f32.shape == i8.shape == (28, 7)
    assert np.abs(f32 - i8).max() < 0.05  # same untrained weights, quantized


def test_batch_matches_single_and_three_channel_models_take_gray(tflite_models):
    faces = make_synthetic(40, seed=4).images  # more than one chunk of 32
    for name in ("cnn-f32", "cnn3-f32"):
        clf = EmotionClassifier.create(tflite_models[name])
        batch = clf.classify_batch(faces)
        single = np.stack([clf.classify(f) for f in faces[:3]] + [clf.classify(faces[-1])])
        assert np.allclose(batch[[0, 1, 2, -1]], single, atol=1e-5)
    assert EmotionClassifier.create(tflite_models["cnn-f32"]).classify_batch(faces[:0]).shape == (0, 7)


def test_labels_come_from_the_card(tflite_models, tmp_path):
    model = tmp_path / "m.tflite"
    model.write_bytes(tflite_models["probe-f32"].read_bytes())
    card = json.loads(tflite_models["probe-f32"].with_suffix(".json").read_text())
    card["labels"] = [f"c{i}" for i in range(7)]
    model.with_suffix(".json").write_text(json.dumps(card))
    clf = EmotionClassifier.create(model)
    assert clf.labels == tuple(f"c{i}" for i in range(7))
    card["input_shape"] = [48, 48, 3]
    model.with_suffix(".json").write_text(json.dumps(card))
    with pytest.raises(FerEdgeError, match="3 channels"):
        EmotionClassifier.create(model)


def test_wrong_face_size_is_a_bug_not_a_user_error(tflite_models):
    clf = EmotionClassifier.create(tflite_models["probe-f32"])
    with pytest.raises(ValueError, match="48x48"):
        clf.classify(np.zeros((64, 64), np.uint8))


def test_bad_model_files_name_themselves(tmp_path):
    junk = tmp_path / "junk.tflite"
    junk.write_bytes(b"not a flatbuffer")
    with pytest.raises(FerEdgeError, match="junk.tflite"):
        EmotionClassifier.create(junk)
    with pytest.raises(FerEdgeError, match="missing.tflite"):
        EmotionClassifier.create(tmp_path / "missing.tflite")


def test_no_default_model_says_what_to_do(tmp_path, monkeypatch):
    monkeypatch.setattr(clf_mod, "MODELS_DIR", tmp_path)
    monkeypatch.setattr(clf_mod, "DEFAULT_MODEL", tmp_path / "default.tflite")
    with pytest.raises(FerEdgeError) as e:
        EmotionClassifier.create()
    assert str(e.value) == (
        "no default model in this install; pass --model PATH.tflite (make one with fer-edge convert)"
    )
    (tmp_path / "default.tflite").write_bytes(b"x")
    (tmp_path / "default-float16.tflite").write_bytes(b"x")
    assert default_model_path() == tmp_path / "default.tflite"
    assert default_model_path("float16") == tmp_path / "default-float16.tflite"
    assert default_model_path("float32") == tmp_path / "default.tflite"


def test_crop_face_takes_the_square_around_the_box_in_gray():
    frame = np.zeros((100, 200, 3), np.uint8)
    frame[20:60, 80:120] = (0, 0, 255)  # a red square: gray 76 (BT.601: 0.299 R)
    face = crop_face(frame, BBox(80, 20, 120, 60), CropSpec())
    assert face.shape == (48, 48) and face.dtype == np.uint8
    assert abs(int(face.mean()) - 76) <= 1
    # with a 25 % margin the crop is 60 px: a 10 px black ring around the red square
    framed = crop_face(frame, BBox(80, 20, 120, 60), CropSpec(margin=0.25))
    assert framed[0, 0] == 0 and abs(int(framed[24, 24]) - 76) <= 1
    # a shift moves the crop up: its top rows leave the red square
    shifted = crop_face(frame, BBox(80, 20, 120, 60), CropSpec(shift_y=-0.5))
    assert shifted[:20].max() == 0 and abs(int(shifted[-5].mean()) - 76) <= 1


def test_crop_face_pads_by_replicating_outside_the_frame():
    frame = np.full((50, 50, 3), 200, np.uint8)
    face = crop_face(frame, BBox(0, 0, 30, 30), CropSpec(margin=0.5))
    assert face.shape == (48, 48) and face.min() == face.max() == 200
