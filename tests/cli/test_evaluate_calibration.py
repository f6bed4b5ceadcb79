"""fer-edge evaluate --calibrate-on: a temperature fitted per .tflite, ECE before/after, card written on request."""

from __future__ import annotations

import json
import shutil

import pytest

from fer_edge.cli.main import main
from fer_edge.data import Form, save_dataset
from fer_edge.data.synthetic import make_synthetic
from fer_edge.model_card import ModelCard
from fer_edge.runtime.classifier import DEFAULT_MODEL

pytestmark = pytest.mark.skipif(not DEFAULT_MODEL.is_file(), reason="no shipped model in this install")


@pytest.fixture()
def setup(tmp_path):
    model = tmp_path / "m.tflite"
    shutil.copy(DEFAULT_MODEL, model)
    card = json.loads(ModelCard.path_for(DEFAULT_MODEL).read_text())
    card.update(temperature=1.0, ece={})
    ModelCard.path_for(model).write_text(json.dumps(card))
    data = tmp_path / "data.csv"
    save_dataset(make_synthetic(420, seed=3), data, Form.CSV)  # Training / PublicTest / PrivateTest tags
    return model, data, tmp_path


def run(capsys, *args):
    code = main([str(a) for a in args])
    out, err = capsys.readouterr()
    return code, out, err


def test_calibrate_on_fits_reports_and_writes_the_card(setup, capsys):
    model, data, tmp = setup
    out = tmp / "report"
    code, _, err = run(
        capsys, "evaluate", model, "--data", data, "--usage", "PrivateTest", "--calibrate-on", "Training",
        "--latency-runs", "0", "--write-card", "--out", out,
    )  # fmt: skip
    assert code == 0, err
    report = json.loads((out / "report.json").read_text())
    row = report["rows"][0]
    cal = report["calibration"][str(model)]
    assert row["temperature"] == pytest.approx(cal["temperature"])
    assert 0 <= row["ece_calibrated"] <= 1 and 0 <= row["ece"] <= 1
    assert cal["before"] == pytest.approx(row["ece"], abs=1e-5)
    assert sum(cal["reliability_before"]["counts"]) == row["images"]
    assert "Training" in cal["fitted_on"] and "PrivateTest" in cal["measured_on"]
    cov = report["coverage"][str(model)]
    assert cov["coverage"][0] == 1.0 and cov["accuracy"][0] == pytest.approx(row["accuracy"])
    assert (out / "reliability.png").stat().st_size > 0 and (out / "coverage.png").stat().st_size > 0
    assert "ECE after T" in (out / "report.md").read_text()
    card = ModelCard.load(model)
    assert card.temperature == pytest.approx(cal["temperature"], abs=1e-4)
    assert card.ece["after"] == pytest.approx(row["ece_calibrated"], abs=1e-4)


def test_without_calibrate_on_ece_is_still_reported_and_cards_untouched(setup, capsys):
    model, data, _ = setup
    code, out, err = run(capsys, "evaluate", model, "--data", data, "--latency-runs", "0")
    assert code == 0, err
    assert "ECE raw" in out and "fitted T" in out
    assert ModelCard.load(model).temperature == 1.0


@pytest.mark.parametrize(
    "extra, needle",
    [(["--write-card"], "--calibrate-on"), (["--calibrate-on", "PrivateTest"], "other images"),
     (["--calibrate-on", "Nope"], "no Nope images")],
)  # fmt: skip
def test_bad_calibration_options(setup, capsys, extra, needle):
    model, data, _ = setup
    code, _, err = run(capsys, "evaluate", model, "--data", data, "--latency-runs", "0", *extra)
    assert code == 2 and needle in err


def test_fit_card_temperatures_uses_publictest_else_a_val_split(setup, tmp_path):
    from fer_edge.data import load_dataset
    from fer_edge.evaluation.calibration import fit_card_temperatures

    model, data, _ = setup
    [(path, cal)] = fit_card_temperatures([model], data)
    card = ModelCard.load(model)
    assert path == model and card.temperature == pytest.approx(cal.temperature, abs=1e-4)
    assert "PublicTest" in card.ece["fitted_on"] and "in-sample" in card.ece["measured_on"]
    assert card.ece["nll_after"] <= card.ece["nll_before"] + 1e-9

    untagged = tmp_path / "untagged.csv"
    save_dataset(load_dataset(data).with_usage("Training"), untagged, Form.FLAT_CSV)
    [(_, cal2)] = fit_card_temperatures([model], untagged)
    assert "val part" in cal2.fitted_on
