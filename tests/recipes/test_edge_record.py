"""train/edge/metrics.json describes the model that ships, and `python -m train.edge_mirror record` rebuilds it."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from fer_edge.errors import run_command
from fer_edge.model_card import ModelCard
from fer_edge.runtime.classifier import DEFAULT_MODEL

RESULTS = Path(__file__).resolve().parents[2] / "train" / "edge"


def test_the_edge_metrics_record_is_the_shipped_default():
    metrics = json.loads((RESULTS / "metrics.json").read_text())
    card = ModelCard.load(DEFAULT_MODEL)
    assert metrics["sha256"] == hashlib.sha256(DEFAULT_MODEL.read_bytes()).hexdigest()
    assert metrics["int8_size_bytes"] == DEFAULT_MODEL.stat().st_size == card.metrics["size_bytes"]
    for usage in ("PublicTest", "PrivateTest"):
        assert metrics["results"][f"int8_{usage}"]["accuracy"] == card.metrics[usage]["accuracy"]
    assert metrics["calibration"]["temperature"] == card.temperature
    previous = json.loads((RESULTS / "previous-edge10-metrics.json").read_text())
    assert metrics["data"] == previous["data"]  # the weights are edge10's
    assert previous["int8_size_bytes"] != metrics["int8_size_bytes"]  # but not its graph


def test_record_rebuilds_the_committed_metrics(tmp_path):
    from train.edge_mirror import cli

    out = tmp_path / "metrics.json"
    assert run_command(cli, ["record", "--out", str(out)]) == 0
    assert json.loads(out.read_text()) == json.loads((RESULTS / "metrics.json").read_text())


def test_edge_model_ship_refuses_the_mirror_record_in_one_line(tmp_path, capsys):
    from train.edge_model import cli

    dest = tmp_path / "default.tflite"
    args = ["ship", "--metrics", str(RESULTS / "metrics.json"), "--dest", str(dest), "--force"]
    assert run_command(cli, args) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "not a `train.edge_model report` record" in err
    assert not dest.exists()
