"""One evaluated model as a typed row: what ``report.csv`` holds per line and ``report.json`` per ``rows`` entry."""

from __future__ import annotations

import re
from dataclasses import dataclass, field, fields
from typing import Any

from fer_edge.records import Record

_RECALL = re.compile(r"^recall_(.+)$")
_DELTA_RECALL = re.compile(r"^delta_recall_(.+)_pp$")


@dataclass(frozen=True)
class EvalRow(Record):
    """Accuracy, agreement, size and latency of one model file against its group's float model.

    Written flat, as the report always had it: the scalar fields, then ``recall_<label>`` and
    ``delta_recall_<label>_pp`` per label; the report's ``schema_version`` covers its rows.
    """

    model: str
    precision: str
    file: str
    architecture: str
    kind: str  # keras | tflite
    reference: str | None
    size_bytes: int
    size_vs_float32: float | None
    images: int
    accuracy: float
    accuracy_leakage_free: float | None
    macro_f1: float
    delta_accuracy_pp: float | None
    delta_macro_f1_pp: float | None
    agreement_with_float: float | None
    latency_ms: float | None
    latency_p90_ms: float | None
    latency_runs: int | None
    latency_kind: str
    speedup_vs_float32: float | None
    inference: str
    conversion: str | None
    calibration: str | None
    recall: dict[str, float] = field(default_factory=dict)  # label -> recall, in label order
    delta_recall_pp: dict[str, float | None] = field(default_factory=dict)
    ece: float | None = None  # expected calibration error (15 bins) of the raw outputs
    card_temperature: float = 1.0  # the temperature the model's card applies at run time
    temperature: float | None = None  # fitted with --calibrate-on
    ece_calibrated: float | None = None  # ECE after ``temperature``

    def to_dict(self) -> dict[str, Any]:
        out = {f.name: getattr(self, f.name) for f in fields(self) if f.name not in ("recall", "delta_recall_pp")}
        for name, r in self.recall.items():
            out[f"recall_{name}"] = r
            out[f"delta_recall_{name}_pp"] = self.delta_recall_pp.get(name)
        return out

    @classmethod
    def upgrade(cls, raw: dict[str, Any], version: int) -> dict[str, Any]:
        out = dict(raw)
        recall, delta = dict(raw.get("recall", {})), dict(raw.get("delta_recall_pp", {}))
        for key, value in raw.items():
            if m := _DELTA_RECALL.match(key):
                delta[m.group(1)] = value
            elif m := _RECALL.match(key):
                recall[m.group(1)] = value
        out["recall"], out["delta_recall_pp"] = recall, delta
        return out
