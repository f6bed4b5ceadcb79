"""fer-edge convert: every precision for both paper-1 architectures, verification, crashes, bad input.

The models are untrained (conversion does not care what the weights learned); calibration uses
generated faces. Each conversion starts a converter process, so the models are shared per module.
"""

from __future__ import annotations

import json
import os
import signal
import zipfile
from pathlib import Path

import numpy as np
import pytest

from fer_edge.cli.main import main
from fer_edge.convert import PRECISIONS, VerificationError, convert_model
from fer_edge.convert import child as convert_child
from fer_edge.data import Form, save_dataset
from fer_edge.data.synthetic import make_synthetic
from fer_edge.errors import FerEdgeError
from fer_edge.model_card import ModelCard
from fer_edge.runtime.interpreter import TfliteModel

FLOAT_IO = {"float32", "float16", "dynamic"}


def segfault_worker(work_dir: str) -> None:
    """A converter that dies the way TensorFlow's calibrator did on a WHILE-loop LSTM."""
    Path(work_dir, "progress.json").write_text(json.dumps({"stage": "converting", "precision": "int8"}))
    os.kill(os.getpid(), signal.SIGSEGV)


def perturbing_worker(work_dir: str) -> None:
    """The real converter, then Keras' reference outputs shifted: float32 must fail verification."""
    from fer_edge.convert.targets import convert_job

    convert_job(work_dir)
    ref = Path(work_dir, "reference.npy")
    np.save(ref, np.load(ref) + 1e-3)


@pytest.fixture(scope="module")
def workspace(tmp_path_factory):
    import keras

    from fer_edge.models import build_model

    root = tmp_path_factory.mktemp("convert")
    data = root / "train_data"
    save_dataset(make_synthetic(210, seed=11), data, Form.DIR)  # Training/PublicTest/PrivateTest tags
    models = {}
    for name in ("paper1-cnn", "paper1-cnn-lstm"):
        keras.utils.set_random_seed(0)
        model = build_model(name)
        path = root / f"{name}.keras"
        model.save(path)
        ModelCard(name, list(model.input_shape[1:]), training={"data": str(data)}).save(path)
        models[name] = path
    return {"root": root, "data": data, "models": models}


@pytest.fixture(scope="module")
def converted(workspace):
    """Every precision of both architectures, converted once for the module."""
    return {
        name: convert_model(path, workspace["root"] / f"out-{name}", PRECISIONS, samples=60)
        for name, path in workspace["models"].items()
    }


def run(capsys, *args):
    code = main([str(a) for a in args])
    out, err = capsys.readouterr()
    return code, out, err


@pytest.mark.parametrize("name", ["paper1-cnn", "paper1-cnn-lstm"])
def test_every_precision_converts_and_verifies(converted, name):
    results = converted[name]
    assert [r.precision for r in results] == list(PRECISIONS)
    sizes = {r.precision: r.size_bytes for r in results}
    for r in results:
        assert r.path.is_file() and r.path.stat().st_size == r.size_bytes
        assert r.verification["passed"], r.verification
        assert "WHILE" not in r.op_types and r.op_types
        card = ModelCard.load(r.path)
        assert card.architecture == name and card.precision == r.precision
        assert card.metrics["verification"]["passed"]
        with TfliteModel(r.path) as m:
            assert m.input.shape == (1, *card.input_shape)
            assert m.input.dtype.name == card.input_dtype == ("float32" if r.precision in FLOAT_IO else "int8")
            assert m.outputs[0].shape == (1, 7)
    float32 = results[0]
    assert float32.verification["max_abs_diff"] <= 1e-4
    int8 = results[-1]
    assert int8.verification["float_ops"] == []
    assert "QUANTIZE" not in int8.op_types and "DEQUANTIZE" not in int8.op_types
    assert "Training usage" in int8.card.notes["calibration"]  # from the card's training data, not test data
    assert sizes["int8"] < 0.4 * sizes["float32"] and sizes["float16"] < 0.6 * sizes["float32"]
    assert sizes["int8"] <= 0.30 * sizes["float32"]  # issue #4's size target, both architectures
    for r in results:
        assert tensor_names(r.path) == {""}, r.precision  # stripped by default
    dense = "per-tensor" if name == "paper1-cnn-lstm" else "per-channel"
    assert f"dense_quantization {dense}" in int8.card.notes["conversion"]
    if name == "paper1-cnn-lstm":
        assert "unroll=True" in int8.card.notes["conversion"]
        assert "LOGISTIC" in int8.op_types and int8.op_types["FULLY_CONNECTED"] <= 18  # one input projection


def tensor_names(path: Path) -> set[str]:
    from tensorflow.lite.tools import flatbuffer_utils

    model = flatbuffer_utils.read_model(str(path))
    return {(t.name or b"").decode() for t in model.subgraphs[0].tensors}


def test_keep_names_and_per_channel_dense_are_options(workspace, converted, capsys, tmp_path):
    """--keep-names keeps tensor names; per-channel LSTM kernels cost size, which is why auto is per-tensor."""
    model = workspace["models"]["paper1-cnn-lstm"]
    code, out, err = run(
        capsys, "convert", model, "--int8", "--keep-names", "--dense-quantization", "per-channel", "--out", tmp_path
    )
    assert code == 0, err
    produced = tmp_path / "paper1-cnn-lstm_int8.tflite"
    assert len(tensor_names(produced)) > 100
    card = ModelCard.load(produced)
    assert "dense_quantization per-channel" in card.notes["conversion"] and "stripped" not in card.notes["conversion"]
    default = next(r for r in converted["paper1-cnn-lstm"] if r.precision == "int8")
    assert produced.stat().st_size > default.size_bytes + 30_000


def test_cli_uint8_io_table_and_force(workspace, capsys, tmp_path):
    calib = tmp_path / "calib.npy"
    np.save(calib, make_synthetic(70, seed=2).images)
    model = workspace["models"]["paper1-cnn"]
    code, out, err = run(
        capsys, "convert", model, "--int8", "--int8-io", "uint8", "--calibration", calib, "--out", tmp_path
    )
    assert code == 0, err
    produced = tmp_path / "paper1-cnn_int8_uint8io.tflite"
    with TfliteModel(produced) as m:
        assert m.input.dtype == np.uint8 and m.outputs[0].dtype == np.uint8
        probs = m.run(make_synthetic(1, seed=4).images[..., None].repeat(3, axis=3).astype(np.float32))[0]
        assert probs.shape == (1, 7) and abs(float(probs.sum()) - 1) < 0.05
    assert "int8" in out and "pass" in out and "float ops: none" in out and "70 images from" in out
    before = produced.read_bytes()
    code, out, err = run(
        capsys, "convert", model, "--int8", "--int8-io", "uint8", "--calibration", calib, "--out", tmp_path
    )
    assert code == 2 and "already exists" in err and "--force" in err and len(err.strip().splitlines()) == 1
    assert produced.read_bytes() == before


def test_crash_in_converter_is_a_clean_error(workspace, monkeypatch, tmp_path):
    monkeypatch.setattr(convert_child, "WORKER", f"{__name__}:segfault_worker")
    with pytest.raises(
        FerEdgeError, match=r"crashed with SIGSEGV \(signal 11\) while converting paper1-cnn-lstm.keras to int8"
    ):
        convert_model(workspace["models"]["paper1-cnn-lstm"], tmp_path, ["int8"], samples=20)
    assert list(tmp_path.iterdir()) == []


def test_crash_via_cli_exits_2(workspace, monkeypatch, capsys, tmp_path):
    monkeypatch.setattr(convert_child, "WORKER", f"{__name__}:segfault_worker")
    code, out, err = run(capsys, "convert", workspace["models"]["paper1-cnn"], "--int8", "--out", tmp_path)
    assert code == 2 and err.startswith("error: converter crashed") and "try --dynamic" in err


def test_verification_catches_a_mismatch(workspace, monkeypatch, tmp_path):
    monkeypatch.setattr(convert_child, "WORKER", f"{__name__}:perturbing_worker")
    with pytest.raises(VerificationError, match="float32 differs from Keras") as info:
        convert_model(workspace["models"]["paper1-cnn"], tmp_path, ["float32"])
    assert not info.value.results[0].passed
    assert list(tmp_path.iterdir()) == []  # nothing written


def test_verify_flags_wrong_card_and_float_ops_in_int8(converted):
    from fer_edge.convert.verify import verify_tflite

    r = converted["paper1-cnn"][0]
    x = np.random.default_rng(0).uniform(0, 255, (5, 48, 48, 3)).astype(np.float32)
    with TfliteModel(r.path) as m:
        ref = np.concatenate([m.run(x[i : i + 1])[0] for i in range(5)])
    ok, _ = verify_tflite(r.path, r.card, x, ref, "random")
    assert ok["passed"]
    pretend_int8 = ModelCard(**{**r.card.__dict__, "precision": "int8", "input_dtype": "int8", "output_dtype": "int8"})
    bad, _ = verify_tflite(r.path, pretend_int8, x, ref, "random")
    assert not bad["passed"]
    assert any("input float32" in f for f in bad["failures"])
    assert any("computes in float: CONV_2D" in f for f in bad["failures"])


# ----------------------------------------------------------------------------- bad input


def test_not_a_keras_file(capsys, tmp_path):
    text = tmp_path / "model.keras"
    text.write_text("hello")
    code, _, err = run(capsys, "convert", text)
    assert code == 2 and "not a Keras model file" in err and str(text) in err
    archive = tmp_path / "other.keras"
    with zipfile.ZipFile(archive, "w") as z:
        z.writestr("readme.txt", "x")
    code, _, err = run(capsys, "convert", archive)
    assert code == 2 and "no readable config.json" in err
    code, _, err = run(capsys, "convert", tmp_path / "missing.keras")
    assert code == 2 and "no such model file" in err


def test_input_the_converter_cannot_take(capsys, tmp_path):
    import keras

    inputs = keras.Input((64, 64, 3))
    model = keras.Model(inputs, keras.layers.Dense(7)(keras.layers.Flatten()(inputs)))
    path = tmp_path / "big.keras"
    model.save(path)
    code, _, err = run(capsys, "convert", path, "--out", tmp_path / "out")
    assert code == 2 and "input shape (None, 64, 64, 3) cannot be converted" in err
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize(
    "array, needle",
    [
        (np.zeros((10, 32, 32), np.uint8), "calibration images have shape (10, 32, 32)"),
        (np.full((10, 48, 48, 3), 0.5, np.float32), "pixels lie in 0-1"),
    ],
)
def test_bad_calibration_array(workspace, capsys, tmp_path, array, needle):
    calib = tmp_path / "calib.npy"
    np.save(calib, array)
    code, _, err = run(
        capsys, "convert", workspace["models"]["paper1-cnn"], "--int8", "--calibration", calib, "--out", tmp_path / "o"
    )
    assert code == 2 and needle in err and len(err.strip().splitlines()) == 1
    assert not (tmp_path / "o").exists()


def test_calibration_never_from_test_data(workspace, capsys, tmp_path):
    test_only = make_synthetic(70, seed=9)
    test_only = test_only.subset(np.isin(test_only.usage, ["PublicTest", "PrivateTest"]))
    save_dataset(test_only, tmp_path / "test.csv", Form.CSV)
    code, _, err = run(
        capsys,
        "convert",
        workspace["models"]["paper1-cnn"],
        "--int8",
        "--calibration",
        tmp_path / "test.csv",
        "--out",
        tmp_path / "o",
    )
    assert code == 2 and "never test data" in err


def test_int8_without_any_calibration_source(capsys, tmp_path):
    import keras

    from fer_edge.models import build_model

    path = tmp_path / "bare.keras"
    keras.utils.set_random_seed(0)
    build_model("paper1-cnn").save(path)  # no card: no training data to calibrate on
    code, _, err = run(capsys, "convert", path, "--int8")
    assert code == 2 and "pass --calibration TRAIN_DATA" in err


def test_default_calibration_follows_the_cards_stratified_split():
    from fer_edge.convert.calibration import card_training_part
    from fer_edge.data.splits import stratified_split

    ds = make_synthetic(140, seed=12)
    train = stratified_split(ds.labels, 1).train
    card = ModelCard(
        "paper1-cnn",
        [48, 48, 3],
        training={"data": {"path": "x"}, "split": {"method": "stratified", "seed": 1, "sizes": [len(train), 14, 14]}},
    )
    part, label = card_training_part(ds, card, "data")
    assert sorted(part.sources) == sorted(ds.sources[train]) and "seed 1" in label
    card.training["split"]["sizes"] = [len(train) + 1, 14, 14]
    with pytest.raises(FerEdgeError, match="pass --calibration"):
        card_training_part(ds, card, "data")
