"""fer-edge evaluate: Keras and TFLite on the same images, label mapping, leakage, the report, bad input."""

from __future__ import annotations

import json

import cv2
import pytest

from fer_edge.cli.main import main
from fer_edge.data import Form, save_dataset
from fer_edge.data.synthetic import make_synthetic

#: Folder names another dataset might use: two synonyms, one custom name (mapped by flag), one extra class.
FOLDERS = {"anger": 0, "sadness": 4, "glad": 3, "contempt": None}


def run(capsys, *args):
    code = main([str(a) for a in args])
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture(scope="module")
def models(tmp_path_factory):
    """A paper1-cnn trained a few steps on synthetic faces, and its float32 and int8 TFLite files."""
    import keras

    from fer_edge.convert import convert_model
    from fer_edge.models import build_model

    root = tmp_path_factory.mktemp("evaluate")
    ds = make_synthetic(280, seed=21)
    keras.utils.set_random_seed(0)
    model = build_model("paper1-cnn", 1)
    model.compile("adam", "sparse_categorical_crossentropy")
    model.fit(ds.images[..., None].astype("float32"), ds.labels, epochs=2, batch_size=32, verbose=0)
    path = root / "cnn.keras"
    model.save(path)
    results = convert_model(path, root, ["float32", "int8"], calibration=ds, samples=100)
    return {"keras": path, "float32": results[0].path, "int8": results[1].path, "root": root}


def write_other_dataset(root, leak: bool = True):
    """ROOT/train|test/<anger|sadness|glad|contempt>/*.png; one test image copies a training image."""
    ds = make_synthetic(140, seed=5)
    for split in ("train", "test"):
        for name, label in FOLDERS.items():
            folder = root / split / name
            folder.mkdir(parents=True)
            source = ds.images[ds.labels == (label if label is not None else 6)]
            for i, img in enumerate(source[:6] if split == "test" else source[6:]):
                cv2.imwrite(str(folder / f"{i}.png"), img)
    if leak:
        cv2.imwrite(str(root / "test" / "anger" / "copy.png"), cv2.imread(str(root / "train" / "anger" / "0.png"), 0))
    return root


def test_evaluate_through_a_label_map(models, tmp_path, capsys):
    data = write_other_dataset(tmp_path / "other")
    out = tmp_path / "report"
    code, stdout, err = run(
        capsys, "evaluate", models["keras"], models["float32"], models["int8"],
        "--data", data, "--label-map", "glad=happy", "--out", out, "--latency-runs", "20",
    )  # fmt: skip
    assert code == 0, err
    assert "skipped classes that map to no emotion: contempt (6)" in err
    assert "no images of disgust, fear, surprise, neutral" in err
    report = json.loads((out / "report.json").read_text())
    d = report["data"]
    assert d["images"] == 19  # 3 classes x 6 test images + the copied one; contempt skipped
    assert d["class_map"] == {"anger": "angry", "glad": "happy", "sadness": "sad"}
    assert d["skipped_classes"] == {"contempt": 6}
    assert d["missing_classes"] == ["disgust", "fear", "surprise", "neutral"]
    assert d["leakage"]["images_with_copy_in_train"] == 1
    rows = {r["precision"]: r for r in report["rows"]}
    assert set(rows) == {"keras", "float32", "int8"}
    assert rows["keras"]["recall_disgust"] is None and rows["keras"]["recall_angry"] is not None
    assert rows["float32"]["agreement_with_float"] >= 0.95
    assert abs(rows["float32"]["delta_accuracy_pp"]) <= 100 / 19 + 1e-9
    assert rows["int8"]["size_vs_float32"] < 0.4
    assert rows["int8"]["latency_ms"] > 0 and rows["float32"]["speedup_vs_float32"] == pytest.approx(1.0)
    targets = {t["target"].split(" ")[0] + t["target"].split(" ")[1]: t for t in report["targets"]}
    assert targets["int8loses"]["passed"] in (True, False)
    assert targets["int8file"]["passed"] is True
    for name in ("report.md", "report.csv", "per_class_change.png"):
        assert (out / name).stat().st_size > 0
    md = (out / "report.md").read_text()
    assert "1 of 19 evaluation images" in md and "contempt (6 images)" in md and "| PASS |" in md
    assert "int8" in stdout and "PASS" in stdout


def test_keras_row_matches_metrics_computed_directly(models, tmp_path):
    import keras

    from fer_edge.evaluation import evaluate_models, load_eval_data
    from fer_edge.metrics import classification_metrics

    data = load_eval_data(write_other_dataset(tmp_path / "d", leak=False), label_map={"glad": "happy"})
    ev = evaluate_models([models["keras"], models["int8"]], data, latency_runs=0)
    x = data.dataset.images[..., None].astype("float32")
    probs = keras.models.load_model(models["keras"]).predict(x, verbose=0)
    direct = classification_metrics(data.dataset.labels, probs)
    keras_row = next(r for r in ev.rows if r.precision == "keras")
    assert keras_row.accuracy == pytest.approx(direct["accuracy"])
    assert keras_row.macro_f1 == pytest.approx(direct["macro_f1"])
    assert keras_row.accuracy_leakage_free == pytest.approx(direct["accuracy"])  # nothing leaked
    int8 = next(r for r in ev.rows if r.precision == "int8")
    assert int8.reference.startswith("keras")
    assert int8.latency_ms is None


def test_numeric_labels_remapped_by_code(models, tmp_path, capsys):
    ds = make_synthetic(70, seed=8)
    save_dataset(ds, tmp_path / "d.csv", Form.CSV)
    code, _, err = run(
        capsys, "evaluate", models["float32"], "--data", tmp_path / "d.csv", "--label-map", "6=skip",
        "--out", tmp_path / "r", "--latency-runs", "0",
    )  # fmt: skip
    assert code == 0, err
    report = json.loads((tmp_path / "r" / "report.json").read_text())
    private = int(((ds.usage == "PrivateTest") & (ds.labels != 6)).sum())
    assert report["data"]["images"] == private and "neutral" in report["data"]["missing_classes"]
    code, _, err = run(
        capsys, "evaluate", models["float32"], "--data", tmp_path / "d.csv", "--label-map", "sadness=sad"
    )
    assert code == 2 and "labels are numbers 0-6" in err


@pytest.mark.parametrize(
    "extra, needle",
    [
        (["--label-map", "glad=joyful"], "unknown emotion 'joyful'"),
        (["--label-map", "glad"], "expected NAME=EMOTION"),
        (["--usage", "PublicTest"], "no PublicTest images"),
    ],
)
def test_bad_options(models, tmp_path, capsys, extra, needle):
    data = write_other_dataset(tmp_path / "o")
    code, _, err = run(capsys, "evaluate", models["float32"], "--data", data, *extra)
    assert code == 2 and needle in err and len(err.strip().splitlines()) == 1


def test_bad_model_files_and_existing_report(models, tmp_path, capsys):
    data = write_other_dataset(tmp_path / "o")
    text = tmp_path / "m.tflite"
    text.write_text("not a model")
    code, _, err = run(capsys, "evaluate", text, "--data", data)
    assert code == 2 and "not a TFLite model" in err
    code, _, err = run(capsys, "evaluate", tmp_path / "m.onnx", "--data", data)
    assert code == 2 and "no such model file" in err
    out = tmp_path / "r"
    out.mkdir()
    (out / "report.md").write_text("keep me")
    code, _, err = run(capsys, "evaluate", models["float32"], "--data", data, "--out", out)
    assert code == 2 and "already exists" in err
    assert (out / "report.md").read_text() == "keep me"


def test_leak_check_counts_near_copies_and_the_images_used_for_selection(models, tmp_path, capsys):
    """PrivateTest copies: one of Training (exact), one of PublicTest (exact), one near copy of Training."""
    import numpy as np

    from fer_edge.data import FerDataset

    ds = make_synthetic(210, seed=8)
    usage = np.array(["Training"] * 140 + ["PublicTest"] * 35 + ["PrivateTest"] * 35, dtype=object)
    img = ds.images.copy()
    img[175] = img[0]  # exact copy of a Training image
    img[176] = img[150]  # exact copy of a PublicTest image
    img[177] = np.clip(img[1].astype(int) + 2, 0, 255).astype(np.uint8)  # near copy of a Training image
    data = tmp_path / "fer.csv"
    save_dataset(FerDataset(img, ds.labels, usage, ds.sources), data, Form.CSV)

    def leaked(*extra):
        out = tmp_path / f"r{len(extra)}"
        code, _, err = run(
            capsys, "evaluate", models["int8"], "--data", data, "--latency-runs", "0", "--out", out, *extra
        )
        assert code == 0, err
        return json.loads((out / "report.json").read_text())["data"]["leakage"]

    assert leaked()["images_with_copy_in_train"] == 1
    assert leaked("--leak-also", "PublicTest")["images_with_copy_in_train"] == 2
    near = leaked("--leak-also", "PublicTest", "--leak-check", "near")
    from fer_edge.data import load_dataset
    from fer_edge.data.audit import leakage_mask

    full = load_dataset(data, Form.CSV)
    seen = FerDataset.concat([full.with_usage("Training"), full.with_usage("PublicTest")])
    expected = leakage_mask(full.with_usage("PrivateTest"), seen, near=True)
    assert expected[[0, 1, 2]].all()  # the three planted copies (drawn faces may add natural near pairs at 4 bits)
    assert near["images_with_copy_in_train"] == int(expected.sum()) and "near duplicate" in near["method"]
    code, _, err = run(capsys, "evaluate", models["int8"], "--data", data, "--leak-also", "PrivateTest")
    assert code == 2 and "the usage being scored" in err and len(err.strip().splitlines()) == 1


def test_report_gives_wilson_intervals_of_both_accuracies(models, tmp_path, capsys):
    from scipy.stats import binomtest

    data = write_other_dataset(tmp_path / "o")
    out = tmp_path / "rep"
    code, _, err = run(capsys, "evaluate", models["int8"], "--data", data, "--latency-runs", "0", "--out", out)
    assert code == 0, err
    report = json.loads((out / "report.json").read_text())
    row = report["rows"][0]
    n = report["data"]["images"]
    expected = binomtest(round(row["accuracy"] * n), n).proportion_ci(0.95, method="wilson")
    ci = report["accuracy_wilson_95"][f"{row['model']} {row['precision']}"]
    assert ci["all"] == pytest.approx([expected.low, expected.high])
    assert ci["leakage_free"][0] <= row["accuracy_leakage_free"] <= ci["leakage_free"][1]
    assert f"[{100 * expected.low:.1f}, {100 * expected.high:.1f}]" in (out / "report.md").read_text()
