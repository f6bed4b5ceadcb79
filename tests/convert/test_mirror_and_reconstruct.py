"""Mirror averaging inside the model (both graph forms) and rebuilding a Keras edge CNN from its int8 file."""

from __future__ import annotations

import json

import numpy as np
import pytest

keras = pytest.importorskip("keras")

from fer_edge.cli.main import main  # noqa: E402
from fer_edge.convert import convert_model  # noqa: E402
from fer_edge.convert.mirror import mirror_average  # noqa: E402
from fer_edge.convert.reconstruct import rebuild_edge_model  # noqa: E402
from fer_edge.data.synthetic import make_synthetic  # noqa: E402
from fer_edge.errors import FerEdgeError  # noqa: E402
from fer_edge.model_card import ModelCard  # noqa: E402
from fer_edge.models import build_model  # noqa: E402
from fer_edge.runtime.interpreter import TfliteModel  # noqa: E402


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """edge-cnn trained two epochs on synthetic faces (so its outputs are not uniform), and its int8 file."""
    root = tmp_path_factory.mktemp("mirror")
    ds = make_synthetic(280, seed=8)
    keras.utils.set_random_seed(0)
    model = build_model("edge-cnn", 1)
    model.compile("adam", "sparse_categorical_crossentropy")
    model.fit(ds.images[..., None].astype("float32"), ds.labels, epochs=2, batch_size=32, verbose=0)
    path = root / "edge.keras"
    model.save(path)
    [int8] = convert_model(path, root, ["int8"], calibration=ds, samples=100)
    return {"keras": path, "int8": int8.path, "root": root, "data": ds}


def _run(path, x):
    with TfliteModel(path) as m:
        return np.concatenate([m.run(x[i : i + 1])[0] for i in range(len(x))])


def test_both_forms_compute_the_mean_of_face_and_mirror():
    keras.utils.set_random_seed(1)
    model = build_model("edge-cnn", 1)
    x = np.random.default_rng(0).integers(0, 256, (3, 48, 48, 1)).astype("float32")
    expected = (model.predict(x, verbose=0) + model.predict(x[:, :, ::-1], verbose=0)) / 2
    for form in ("batch2", "branches"):
        wrapped = mirror_average(model, form)
        assert wrapped.name == model.name
        np.testing.assert_allclose(wrapped.predict(x, verbose=0), expected, atol=1e-5)
        flipped = wrapped.predict(x[:, :, ::-1], verbose=0)
        np.testing.assert_allclose(flipped, expected, atol=1e-5)  # invariant to mirroring
    with pytest.raises(ValueError):
        mirror_average(model, "nope")


def test_rebuilt_keras_model_matches_its_int8_file(trained):
    rebuilt = rebuild_edge_model(trained["int8"], "edge-cnn")
    x = trained["data"].images[:64, ..., None].astype("float32")
    ref = _run(trained["int8"], x)
    got = rebuilt.predict(x, verbose=0)
    assert np.abs(got - ref).max() < 0.08  # int8 activations vs float: small differences
    assert (got.argmax(1) == ref.argmax(1)).mean() >= 0.9
    with pytest.raises(FerEdgeError, match="does not fit"):
        rebuild_edge_model(trained["int8"], "edge-cnn-wide")  # same count, other widths: a named error


def test_convert_mirror_average_writes_a_verified_int8_graph(trained, capsys):
    root, ds = trained["root"], trained["data"]
    x = ds.images[:16, ..., None].astype("float32")
    plain = (_run(trained["int8"], x) + _run(trained["int8"], x[:, :, ::-1].copy())) / 2
    for form in ("batch2",):  # branches: same wrapper code path (checked in Keras above); one conversion is enough
        code = main(["convert", str(trained["keras"]), "--int8", "--mirror-average", form,
                     "--calibration", "synthetic", "--samples", "100", "--out", str(root)])  # fmt: skip
        _, err = capsys.readouterr()
        assert code == 0, err
        out = root / f"edge_mirror-{form}_int8.tflite"
        card = json.loads(ModelCard.path_for(out).read_text())
        assert form in card["notes"]["mirror_average"] and card["precision"] == "int8"
        got = _run(out, x)
        assert np.abs(got - plain).max() < 0.1
        with TfliteModel(out) as m:
            assert "REVERSE_V2" in m.op_types()
    code = main(["convert", str(trained["keras"]), "--int8", "--mirror-average", "batch2", "--out", str(root)])
    assert code == 2 and "exists" in capsys.readouterr().err
