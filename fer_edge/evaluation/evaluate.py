"""Score Keras models and their TFLite variants on the same images; compare each with its float model."""

from __future__ import annotations

import platform
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from fer_edge.cpu import cpu_name, read_cpuinfo, simd_flags
from fer_edge.evaluation.calibration import Calibration, apply_temperature, calibrate, coverage_curve, ece
from fer_edge.evaluation.data import EvalData
from fer_edge.evaluation.models import (
    PRECISION_ORDER,
    Candidate,
    describe,
    keras_latency,
    predict_keras,
    predict_tflite,
    tflite_latencies,
)
from fer_edge.evaluation.rows import EvalRow
from fer_edge.labels import EMOTIONS
from fer_edge.metrics import classification_metrics
from fer_edge.runtime.model_file import to_channels

#: The issue's targets: accuracy loss against the Keras float model, size and speed against float32.
MAX_LOSS_PP = {"int8": 1.0, "float16": 0.1}
MAX_INT8_SIZE_RATIO = 0.30


@dataclass
class Evaluation:
    data: EvalData
    rows: list[EvalRow]
    targets: list[dict[str, Any]]
    environment: dict[str, str] = field(default_factory=dict)
    #: file -> temperature fitted on ``calibration_data`` and the ECE it gives here (``--calibrate-on``)
    calibrations: dict[str, Calibration] = field(default_factory=dict)
    calibration_data: EvalData | None = None
    #: file -> coverage/accuracy as the min-confidence threshold rises (on calibrated probabilities)
    coverage: dict[str, dict] = field(default_factory=dict)


#: min-confidence thresholds of the coverage curve (and the few shown in the report's table)
COVERAGE_THRESHOLDS = np.round(np.arange(0.0, 1.0001, 0.01), 2)
COVERAGE_TABLE = (0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9)


def _limit_tensorflow_threads() -> None:
    """One thread for Keras too, when TensorFlow has not started yet (latency is single-thread)."""
    import tensorflow as tf

    try:
        tf.config.threading.set_intra_op_parallelism_threads(1)
        tf.config.threading.set_inter_op_parallelism_threads(1)
    except RuntimeError:  # already initialized by the caller: leave it
        pass


def _pp(a: float | None, b: float | None) -> float | None:
    return None if a is None or b is None else 100.0 * (a - b)


def _reference(members: list[Candidate]) -> Candidate | None:
    """The float model of a group: the Keras model, else its float32 TFLite."""
    for precision in ("keras", "float32"):
        for c in members:
            if c.precision == precision:
                return c
    return None


def _predict(c: Candidate, x: np.ndarray, batch: int) -> tuple[np.ndarray, str]:
    if c.kind == "keras":
        return predict_keras(c.path, x), "Keras predict, batch 256"
    return predict_tflite(c.path, x, batch)


def evaluate_models(
    paths: Sequence[Path],
    data: EvalData,
    latency_runs: int = 200,
    batch: int = 64,
    calibration_data: EvalData | None = None,
) -> Evaluation:
    """Accuracy, macro F1, per-class recall, agreement with the float model, size and latency per model.

    Every row carries the expected calibration error (15 bins) of the model's raw outputs. With
    ``calibration_data``, a temperature is fitted per model on it and the ECE after it is reported
    too, with the coverage/accuracy curve of a min-confidence threshold on the calibrated outputs.
    """
    candidates = [describe(Path(p)) for p in paths]
    candidates.sort(
        key=lambda c: (c.group_name, PRECISION_ORDER.index(c.precision) if c.precision in PRECISION_ORDER else 9)
    )
    if any(c.kind == "keras" for c in candidates):
        _limit_tensorflow_threads()
    y = data.dataset.labels
    leaked = data.leaked
    inputs = {ch: to_channels(data.dataset.images, ch) for ch in {c.channels for c in candidates}}
    probs: dict[Path, np.ndarray] = {}
    how: dict[Path, str] = {}
    for c in candidates:
        probs[c.path], how[c.path] = _predict(c, inputs[c.channels], batch)
    calibrations: dict[str, Calibration] = {}
    coverage: dict[str, dict] = {}
    if calibration_data is not None:
        fit_x = {ch: to_channels(calibration_data.dataset.images, ch) for ch in inputs}
        fit_y = calibration_data.dataset.labels
        for c in candidates:
            fit_p, _ = _predict(c, fit_x[c.channels], batch)
            calibrations[str(c.path)] = calibrate(
                fit_p, fit_y, probs[c.path], y, calibration_data.description, data.description
            )
    for c in candidates:
        t = calibrations[str(c.path)].temperature if str(c.path) in calibrations else _card_temperature(c)
        coverage[str(c.path)] = coverage_curve(apply_temperature(probs[c.path], t), y, COVERAGE_THRESHOLDS)
    one = {ch: x[:1] for ch, x in inputs.items()}
    tflite = [c.path for c in candidates if c.kind == "tflite"]
    latency = tflite_latencies(tflite, one, latency_runs) if tflite and latency_runs else {}
    for c in candidates:
        if c.kind == "keras" and latency_runs:
            latency[c.path] = keras_latency(c.path, one[c.channels], latency_runs)

    rows: list[EvalRow] = []
    targets: list[dict[str, Any]] = []
    groups: dict[str, list[Candidate]] = {}
    for c in candidates:
        groups.setdefault(c.group, []).append(c)
    for members in groups.values():
        ref = _reference(members)
        float32 = next((c for c in members if c.precision == "float32" and c.kind == "tflite"), None)
        ref_metrics = classification_metrics(y, probs[ref.path]) if ref else None
        group_rows = {}
        for c in members:
            m = classification_metrics(y, probs[c.path])
            clean = (
                classification_metrics(y[~leaked], probs[c.path][~leaked])
                if leaked is not None and (~leaked).any()
                else None
            )
            lat = latency.get(c.path, {})
            row = EvalRow(
                model=c.group_name,
                precision=c.precision,
                file=str(c.path),
                architecture=c.architecture,
                kind=c.kind,
                reference=f"{ref.precision} ({ref.path.name})" if ref else None,
                size_bytes=c.size_bytes,
                size_vs_float32=c.size_bytes / float32.size_bytes if float32 else None,
                images=m["n"],
                accuracy=m["accuracy"],
                accuracy_leakage_free=clean["accuracy"] if clean else None,
                macro_f1=m["macro_f1"],
                delta_accuracy_pp=_pp(m["accuracy"], ref_metrics["accuracy"]) if ref_metrics else None,
                delta_macro_f1_pp=_pp(m["macro_f1"], ref_metrics["macro_f1"]) if ref_metrics else None,
                agreement_with_float=float((probs[c.path].argmax(1) == probs[ref.path].argmax(1)).mean())
                if ref
                else None,
                latency_ms=lat.get("median_ms"),
                latency_p90_ms=lat.get("p90_ms"),
                latency_runs=lat.get("runs"),
                latency_kind="Keras eager call" if c.kind == "keras" else "TFLite invoke, 1 thread",
                speedup_vs_float32=(latency[float32.path]["median_ms"] / lat["median_ms"])
                if c.kind == "tflite" and float32 and float32.path in latency and lat.get("median_ms")
                else None,
                inference=how[c.path],
                ece=ece(probs[c.path], y),
                card_temperature=_card_temperature(c),
                temperature=calibrations[str(c.path)].temperature if str(c.path) in calibrations else None,
                ece_calibrated=calibrations[str(c.path)].after.ece if str(c.path) in calibrations else None,
                conversion=(c.card.notes.get("conversion") if c.card and c.kind == "tflite" else None),
                calibration=(c.card.notes.get("calibration") if c.card and c.kind == "tflite" else None),
                recall={name: m["per_class_recall"][name] for name in EMOTIONS},
                delta_recall_pp={
                    name: _pp(
                        m["per_class_recall"][name], ref_metrics["per_class_recall"][name] if ref_metrics else None
                    )
                    for name in EMOTIONS
                },
            )
            rows.append(row)
            group_rows[c.precision] = row
        targets.extend(_targets(members[0].group_name, group_rows, ref))
    cpuinfo = read_cpuinfo()
    env = {
        "python": platform.python_version(),
        "machine": platform.machine(),
        "processor": cpu_name(cpuinfo or ""),
        "simd": " ".join(simd_flags(cpuinfo or "")),
        "tflite_backend": next((v["backend"] for v in latency.values() if "backend" in v), ""),
    }
    return Evaluation(data, rows, targets, env, calibrations, calibration_data, coverage)


def _card_temperature(c: Candidate) -> float:
    return float(c.card.temperature) if c.card is not None and c.kind == "tflite" else 1.0


def _targets(name: str, rows: dict[str, EvalRow], ref: Candidate | None) -> list[dict[str, Any]]:
    out = []
    keras_ref = ref is not None and ref.kind == "keras"
    for precision, limit in MAX_LOSS_PP.items():
        row = rows.get(precision)
        if row is None:
            continue
        delta = row.delta_accuracy_pp
        out.append(
            {
                "model": name,
                "target": f"{precision} loses <= {limit} pp accuracy vs the Keras float model",
                "value": None
                if delta is None
                else f"accuracy change {delta:+.2f} pp"
                + ("" if keras_ref else " (vs float32 TFLite: no .keras given)"),
                "passed": None if delta is None else bool(-delta <= limit + 1e-9),
            }
        )
    int8, f32 = rows.get("int8"), rows.get("float32")  # ratio and speed are None without float32
    if int8 is not None:
        ratio = int8.size_vs_float32
        out.append(
            {
                "model": name,
                "target": f"int8 file <= {MAX_INT8_SIZE_RATIO:.0%} of float32",
                "value": None
                if ratio is None or f32 is None
                else f"{ratio:.1%} ({int8.size_bytes:,} / {f32.size_bytes:,} bytes)",
                "passed": None if ratio is None else bool(ratio <= MAX_INT8_SIZE_RATIO),
            }
        )
        speed = int8.speedup_vs_float32
        out.append(
            {
                "model": name,
                "target": "int8 single-image invoke faster than float32 (1 thread)",
                "value": None
                if speed is None or f32 is None
                else f"{speed:.2f}x ({int8.latency_ms:.3f} ms vs {f32.latency_ms:.3f} ms median)",
                "passed": None if speed is None else bool(speed > 1.0),
            }
        )
    return out
