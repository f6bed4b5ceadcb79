"""`fer-edge explain`: occlusion maps per detected face with the shipped model (no TensorFlow), example
grids on a labelled dataset, Grad-CAM with a Keras model."""

from __future__ import annotations

import json
import subprocess
import sys

import cv2
import numpy as np
import pytest

from fer_edge.cli.main import main
from fer_edge.data import Form, save_dataset
from fer_edge.data.synthetic import make_synthetic
from fer_edge.runtime.classifier import DEFAULT_MODEL, EmotionClassifier
from fer_edge.runtime.scenes import face_scene

pytestmark = pytest.mark.skipif(not DEFAULT_MODEL.is_file(), reason="no shipped model in this install")


def run(capsys, *args):
    code = main(["explain", *map(str, args)])
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture()
def photos(tmp_path):
    d = tmp_path / "in"
    d.mkdir()
    cv2.imwrite(str(d / "one.jpg"), face_scene((320, 240)))
    cv2.imwrite(str(d / "two.png"), face_scene([(170, 240), (470, 240)], s=180))
    cv2.imwrite(str(d / "empty.png"), np.full((240, 320, 3), 90, np.uint8))
    return d


def test_one_overlay_and_record_per_face_and_force_to_replace(photos, tmp_path, capsys):
    out = tmp_path / "out"
    code, _, err = run(capsys, photos, "--out", out, "--top", "2")
    assert code == 0, err
    records = json.loads((out / "explanations.json").read_text())
    assert sorted((r["source"].split("/")[-1], r["face"]) for r in records) == [
        ("one.jpg", 0),
        ("two.png", 0),
        ("two.png", 1),
    ]
    assert "empty.png: no face found" in err
    for r in records:
        img = cv2.imread(str(out / r["image"]))
        assert img is not None and img.shape[1] == 2 * 192
        assert sum(r["probabilities"].values()) == pytest.approx(1.0, abs=0.01)
        assert r["label"] == max(r["probabilities"], key=r["probabilities"].get)
        regions = r["occlusion"]["top_regions"]
        assert len(regions) == 2 and regions[0]["drop"] >= regions[1]["drop"]
        x1, y1, x2, y2 = r["box"]
        fx1, fy1, fx2, fy2 = regions[0]["frame_box"]
        assert fx2 - fx1 == pytest.approx(fy2 - fy1, abs=0.2) and fx2 - fx1 < 1.5 * (x2 - x1)
    code, _, err = run(capsys, photos / "one.jpg", "--out", out)
    assert code == 2 and "already exists" in err and "--force" in err
    code, _, err = run(capsys, photos / "one.jpg", "--out", out, "--force")
    assert code == 0, err


def test_explain_runs_without_tensorflow(photos, tmp_path):
    code = f"""
import sys
from fer_edge.cli.main import main
assert main(["explain", {str(photos / "one.jpg")!r}, "--out", {str(tmp_path / "o")!r}]) == 0
print('HEAVY', sorted(m for m in sys.modules if m.split('.')[0] in ('tensorflow', 'keras', 'pandas', 'sklearn', 'matplotlib')))
"""
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.splitlines()[-1] == "HEAVY []"
    assert (tmp_path / "o" / "one_face0.png").is_file()


def test_grid_on_a_labelled_dataset(tmp_path, capsys):
    ds = make_synthetic(280, seed=4)
    data = tmp_path / "d.csv"
    save_dataset(ds, data, Form.CSV)
    out = tmp_path / "grid"
    code, _, err = run(capsys, data, "--grid", "--per-class", "2", "--out", out)
    assert code == 0, err
    report = json.loads((out / "grid.json").read_text())
    test = ds.with_usage("PrivateTest")
    assert report["images"] == len(test)
    with EmotionClassifier.create() as clf:
        acc = float((clf.classify_batch(test.images).argmax(1) == test.labels).mean())
    assert report["accuracy"] == pytest.approx(acc, abs=1e-4)
    for name, picks in report["per_class"].items():
        assert len(picks["correct"]) <= 2 and len(picks["wrong"]) <= 2
        assert all(e["true"] == e["predicted"] == name for e in picks["correct"])
        assert all(e["true"] == name != e["predicted"] for e in picks["wrong"])
    assert cv2.imread(str(out / "grid.png")) is not None
    code, _, err = run(capsys, data, "--grid", "--usage", "Nope", "--out", tmp_path / "g2")
    assert code == 2 and "no Nope images" in err


def test_gradcam_with_a_keras_model(photos, tmp_path, capsys):
    keras = pytest.importorskip("keras")
    from fer_edge.models import build_model

    keras.utils.set_random_seed(0)
    path = tmp_path / "cnn.keras"
    build_model("paper1-cnn", 1).save(path)
    out = tmp_path / "out"
    code, _, err = run(capsys, photos / "one.jpg", "--model", path, "--out", out)
    assert code == 0, err
    [record] = json.loads((out / "explanations.json").read_text())
    assert record["gradcam_layer"]
    img = cv2.imread(str(out / record["image"]))
    assert img.shape[0] > 2 * 192  # the occlusion panel and the Grad-CAM panel, one above the other
    code, _, err = run(capsys, photos / "one.jpg", "--model", tmp_path / "missing.keras", "--out", out)
    assert code == 2 and "missing.keras" in err
