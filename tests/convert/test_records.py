"""The converter's job and result, and the evaluation's rows, as typed records (no TensorFlow needed)."""

from __future__ import annotations

import json

from fer_edge.convert.job import ConvertJob, ConvertResult, PrecisionResult
from fer_edge.evaluation.rows import EvalRow
from fer_edge.labels import EMOTIONS


def test_convert_job_round_trips_and_reads_an_unversioned_job():
    old = {
        "model_path": "/m/cnn.keras",
        "architecture_hint": "paper1-cnn",
        "recurrent": False,
        "channels": 1,
        "input_shape": [48, 48, 1],
        "precisions": ["float32", "int8"],
        "int8_io": "int8",
        "strip_names": True,
        "dense_quantization": "per-channel",
        "verify": "verify.npy",
        "calibration": "calibration.npy",
    }
    job = ConvertJob.from_json(json.dumps(old))
    assert job.input_shape == (48, 48, 1) and job.precisions == ("float32", "int8") and job.calibration
    assert ConvertJob.from_json(job.to_json()) == job
    assert {k: v for k, v in json.loads(job.to_json()).items() if k != "schema_version"} == old


def test_convert_result_keeps_each_precisions_details_flat_and_in_order():
    old = {
        "precisions": {"int8": {"seconds": 1.5, "size_bytes": 1000, "weights": "int8", "io": "int8"}},
        "architecture": "paper1-cnn",
        "route": "as saved; batch fixed at 1",
    }
    result = ConvertResult.from_json(json.dumps(old))
    step = result.precisions["int8"]
    assert isinstance(step, PrecisionResult) and step.seconds == 1.5 and list(step.details) == ["weights", "io"]
    written = json.loads(result.to_json())
    assert written["precisions"] == old["precisions"] and written["route"] == old["route"]
    assert ConvertResult.from_json(result.to_json()) == result


def _old_row() -> dict:
    row = {
        "model": "cnn", "precision": "int8", "file": "cnn_int8.tflite", "architecture": "paper1-cnn",
        "kind": "tflite", "reference": "keras (cnn.keras)", "size_bytes": 1000, "size_vs_float32": 0.26,
        "images": 70, "accuracy": 0.5, "accuracy_leakage_free": None, "macro_f1": 0.4,
        "delta_accuracy_pp": -1.0, "delta_macro_f1_pp": -0.5, "agreement_with_float": 0.9, "latency_ms": 0.2,
        "latency_p90_ms": 0.3, "latency_runs": 200, "latency_kind": "TFLite invoke, 1 thread",
        "speedup_vs_float32": 1.5, "inference": "batch 64", "conversion": "fer-edge convert int8", "calibration": None,
    }  # fmt: skip
    for i, name in enumerate(EMOTIONS):
        row[f"recall_{name}"] = i / 10
        row[f"delta_recall_{name}_pp"] = None if i == 0 else -i / 2
    return row


def test_an_evaluation_row_reads_a_flat_report_row_and_writes_it_back_in_the_same_order():
    old = _old_row()
    row = EvalRow.from_dict(old)
    assert row.recall["happy"] == 0.3 and row.delta_recall_pp["angry"] is None and row.precision == "int8"
    again = row.to_dict()
    assert [k for k in again if k in old] == list(old) and {k: again[k] for k in old} == old  # same keys, same order
    assert again["ece"] is None and again["card_temperature"] == 1.0  # fields added later get their defaults
    assert EvalRow.from_dict(again) == row
