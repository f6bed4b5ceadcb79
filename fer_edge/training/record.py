"""The run record: what one training run wrote to ``metrics.json``, as a typed, versioned value.

``train_run`` writes it and ``fer_edge.report`` reads it, so this file is the contract between the
two layers (training below, report above). It follows ``fer_edge.records.Record`` (versioned,
``read``/``from_json``, one-line errors) with two differences: keys it does not know are kept in
``extra`` so a round trip loses nothing, and the version read is kept on the instance. Versions:

- 0 (no ``schema_version``, no ``machine``): everything up to the 3-seed factorial of 2026-11.
- 1: adds ``schema_version``, ``wall`` (UTC start/end, seconds) and ``machine`` (platform, cpu
  count, load averages at start and end), so timings quoted from a run can be checked. The first
  such runs (2026-12-04) were written before the ``schema_version`` key: ``machine`` marks them.

Readers accept both; the nested metric blocks stay plain mappings (their keys are those of
``fer_edge.metrics.classification_metrics``), the fields the report relies on are typed properties.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

from fer_edge.errors import FerEdgeError
from fer_edge.records import Record

METRICS_FILE = "metrics.json"
SCHEMA_VERSION = 1
_REQUIRED = ("arch", "channels", "seed", "data", "split", "fit", "val", "test", "leakage", "test_leakage_free")


@dataclass(frozen=True)
class RunRecord(Record):
    """One finished run. ``extra`` keeps keys a newer writer added, so a round trip loses nothing."""

    arch: str
    channels: int
    seed: int
    data: dict[str, Any]
    split: dict[str, Any]
    fit: dict[str, Any]
    val: dict[str, Any]
    test: dict[str, Any]
    leakage: dict[str, Any]
    test_leakage_free: dict[str, Any]
    cell: str = ""
    parameters: int | None = None
    command: str = ""
    versions: dict[str, str] = field(default_factory=dict)
    seconds_total: float | None = None
    wall: dict[str, Any] | None = None
    machine: dict[str, Any] | None = None
    schema_version: int = SCHEMA_VERSION
    extra: dict[str, Any] = field(default_factory=dict)

    # -- typed views of what the report uses -------------------------------------------------
    @property
    def data_cell(self) -> str:
        return str(self.data.get("cell") or self.cell.rsplit("_", 1)[0])

    @property
    def test_accuracy(self) -> float:
        return float(self.test["accuracy"])

    @property
    def leakage_free_accuracy(self) -> float:
        return float(self.leakage["test_accuracy_leakage_free"])

    @property
    def accuracy_on_leaked(self) -> float | None:
        v = self.leakage.get("test_accuracy_on_leaked")
        return None if v is None else float(v)

    @property
    def confusion_matrix(self) -> list[list[int]] | None:
        return self.test.get("confusion_matrix")

    # -- JSON ---------------------------------------------------------------------------------
    @classmethod
    def from_dict(cls, raw: Mapping[str, Any], source: str = "metrics.json") -> RunRecord:
        missing = [k for k in _REQUIRED if k not in raw]
        if missing:
            raise FerEdgeError(f"{source}: not a run record (missing {', '.join(missing)}); retrain or remove the run")
        version = int(raw.get("schema_version", 1 if "machine" in raw else 0))
        if version > SCHEMA_VERSION:
            raise FerEdgeError(
                f"{source}: run record schema {version} is newer than this fer-edge reads ({SCHEMA_VERSION}); upgrade"
            )
        known = {f.name for f in fields(cls)} - {"extra", "schema_version"}
        kwargs = {k: raw[k] for k in known if k in raw}
        extra = {k: v for k, v in raw.items() if k not in known and k != "schema_version"}
        return cls(**kwargs, schema_version=version, extra=extra)

    def to_dict(self) -> dict[str, Any]:
        out = {k: v for k, v in asdict(self).items() if k != "extra" and not (k in ("wall", "machine") and v is None)}
        out.update(self.extra)
        return out

    @classmethod
    def read(cls, path: Path) -> RunRecord:
        return cls.load(path)

    @classmethod
    def load(cls, path: Path) -> RunRecord:
        path = Path(path)
        try:
            raw = json.loads(path.read_text())
        except (OSError, json.JSONDecodeError) as e:
            raise FerEdgeError(
                f"{path}: unreadable run record ({type(e).__name__}); retrain or remove the run"
            ) from None
        return cls.from_dict(raw, source=str(path))

    def to_json(self, indent: int | None = 2) -> str:
        return json.dumps(self.to_dict(), indent=indent) + "\n"
