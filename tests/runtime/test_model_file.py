"""The model contract and the model-file helpers: one definition that predict, camera, bench and evaluate share."""

from __future__ import annotations

import os
from pathlib import Path

import cv2
import numpy as np
import pytest

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from fer_edge.cli.main import main  # noqa: E402
from fer_edge.data import Form, save_dataset  # noqa: E402
from fer_edge.data.synthetic import make_synthetic  # noqa: E402
from fer_edge.model_card import ModelCard  # noqa: E402
from fer_edge.runtime import model_file as mf  # noqa: E402
from fer_edge.runtime.interpreter import TensorSpec, TfliteModel  # noqa: E402
from fer_edge.testing.generate import face_scene, write_video  # noqa: E402


def _tflite(path: Path, size: int, channels: int, outputs: int) -> Path:
    """A tiny untrained classifier: (1, size, size, channels) float32 -> softmax over ``outputs``."""
    import keras
    import tensorflow as tf

    inp = keras.Input((size, size, channels), batch_size=1)
    out = keras.layers.Dense(outputs, activation="softmax")(keras.layers.GlobalAveragePooling2D()(inp))
    path.write_bytes(tf.lite.TFLiteConverter.from_keras_model(keras.Model(inp, out)).convert())
    return path


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    root = tmp_path_factory.mktemp("contract")
    paths = {
        "good": _tflite(root / "good.tflite", 48, 1, 7),
        "five": _tflite(root / "five.tflite", 48, 1, 5),
        "big": _tflite(root / "big.tflite", 64, 3, 7),
    }
    cv2.imwrite(str(root / "face.jpg"), face_scene((320, 240)))
    write_video(root / "clip.avi", [face_scene((220 + 6 * i, 240)) for i in range(4)], fps=10.0)
    save_dataset(make_synthetic(70, seed=8), root / "d.csv", Form.CSV)
    return {**paths, "root": root}


def _commands(files: dict, model: Path) -> dict[str, list[str]]:
    root = files["root"]
    return {
        "predict": ["predict", str(root / "face.jpg"), "--model", str(model)],
        "camera": ["camera", "--source", str(root / "clip.avi"), "--model", str(model), "--headless"],
        "bench": ["bench", "--model", str(model), "--frames", "10", "--out", str(root / f"bench-{model.stem}.json")],
        "evaluate": ["evaluate", str(model), "--data", str(root / "d.csv"), "--out", str(root / f"ev-{model.stem}")],
    }


@pytest.mark.parametrize("bad, words", [("five", "5 outputs"), ("big", "[1, 64, 64, 3]")])
@pytest.mark.parametrize("command", ["predict", "camera", "bench", "evaluate"])
def test_every_command_refuses_a_model_outside_the_contract_in_one_line(files, capsys, bad, words, command):
    code = main(_commands(files, files[bad])[command])
    err = capsys.readouterr().err.strip().splitlines()
    errors = [line for line in err if line.startswith("error: ")]
    assert code == 2 and errors == err[-1:]  # progress lines may come first; the error is one line, last
    assert str(files[bad]) in errors[0] and words in errors[0]


def test_a_card_with_five_labels_makes_a_five_output_model_fit_the_contract(files, tmp_path):
    five = tmp_path / "five.tflite"
    five.write_bytes(files["five"].read_bytes())
    labels = ["angry", "happy", "sad", "surprise", "neutral"]
    ModelCard("dense", [48, 48, 1], labels=labels).save(five)
    model, card = mf.open_classifier(five)
    with model:
        assert mf.check_classifier(model, card) == tuple(labels)
    # evaluate scores FER-2013's seven labels, so it still refuses the file, naming why
    code = main(["evaluate", str(five), "--data", str(files["root"] / "d.csv"), "--out", str(tmp_path / "ev")])
    assert code == 2


def test_a_card_whose_channels_disagree_is_refused(files, tmp_path):
    good = tmp_path / "good.tflite"
    good.write_bytes(files["good"].read_bytes())
    ModelCard("dense", [48, 48, 3]).save(good)
    with pytest.raises(mf.FerEdgeError, match="card says 3 channels"):
        mf.open_classifier(good)


def test_precision_is_card_then_input_type_then_name(files, tmp_path):
    named = tmp_path / "model-float16.tflite"
    named.write_bytes(files["good"].read_bytes())
    assert mf.precision_of(named) == "float16"  # float input, no card: the name decides
    assert mf.precision_of(files["good"]) == "float32"
    assert mf.precision_of(named, np.dtype(np.int8)) == "int8"  # an integer input beats the name
    ModelCard("dense", [48, 48, 1], precision="dynamic").save(named)
    assert mf.precision_of(named, np.dtype(np.int8)) == "dynamic"  # the card beats both


def test_quantize_and_channels():
    spec = TensorSpec((1, 2), np.dtype(np.int8), 0.5, -10)
    q = spec.quantize(np.array([[0.0, 300.0]], np.float32))
    assert q.dtype == np.int8 and q.tolist() == [[-10, 127]]  # 300 / 0.5 - 10 clips at 127
    np.testing.assert_allclose(spec.dequantize(np.array([-10, 0], np.int8)), [0.0, 5.0])
    plain = TensorSpec((1,), np.dtype(np.float32), 0.0, 0)
    assert not plain.quantized and plain.quantize(np.array([3.0])).dtype == np.float32
    gray = np.arange(8, dtype=np.uint8).reshape(2, 2, 2)
    three = mf.to_channels(gray, 3)
    assert three.shape == (2, 2, 2, 3) and three.dtype == np.float32 and (three[..., 2] == gray).all()
    assert mf.to_channels(gray, 1).shape == (2, 2, 2, 1)


def test_time_invokes_times_each_model_in_interleaved_rounds(files):
    with TfliteModel(files["good"]) as a, TfliteModel(files["big"]) as b:
        calls: list[str] = []
        for name, m in (("a", a), ("b", b)):
            real = m.invoke_raw
            m.invoke_raw = lambda x, real=real, name=name: (calls.append(name), real(x))  # type: ignore[method-assign]
        xa, xb = np.zeros(a.input.shape, np.float32), np.zeros(b.input.shape, np.float32)
        ms = mf.time_invokes([(a, xa), (b, xb)], runs=6, warmup=2, rounds=3)
    assert ms.shape == (2, 6) and (ms > 0).all()
    assert calls == ["a", "a", "b", "b", *(["a", "a", "b", "b"] * 3)]  # warm-up, then alternating rounds
