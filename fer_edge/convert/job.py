"""The records between the converter's parent and its TensorFlow child: the job it is given
(``job.json``) and what it reports back (``result.json``)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from fer_edge.records import Record


@dataclass(frozen=True)
class ConvertJob(Record):
    """What to convert and how; the arrays (verification and calibration images) are ``.npy`` files
    in the work folder, named here."""

    model_path: str
    architecture_hint: str
    recurrent: bool
    channels: int
    input_shape: tuple[int, ...]
    precisions: tuple[str, ...]
    int8_io: str = "int8"
    strip_names: bool = True
    dense_quantization: str = "per-channel"
    verify: str | None = "verify.npy"
    calibration: str | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "input_shape", tuple(int(d) for d in self.input_shape))
        object.__setattr__(self, "precisions", tuple(self.precisions))


@dataclass(frozen=True)
class PrecisionResult(Record):
    """One converted precision: seconds, bytes, and the exporter's notes (weights, io, ...)."""

    seconds: float
    size_bytes: int
    details: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:  # flat, as result.json always had it
        return {"seconds": self.seconds, "size_bytes": self.size_bytes, **self.details}

    @classmethod
    def upgrade(cls, raw: dict[str, Any], version: int) -> dict[str, Any]:
        known = {"seconds", "size_bytes", "details"}
        details = {**raw.get("details", {}), **{k: v for k, v in raw.items() if k not in known}}
        return {"seconds": raw.get("seconds"), "size_bytes": raw.get("size_bytes"), "details": details}


@dataclass(frozen=True)
class ConvertResult(Record):
    """The child's report: the architecture it recognised, the route it took, each precision's result."""

    architecture: str | None = None
    route: str = ""
    precisions: dict[str, PrecisionResult] = field(default_factory=dict)

    def __post_init__(self) -> None:
        object.__setattr__(
            self,
            "precisions",
            {
                p: r if isinstance(r, PrecisionResult) else PrecisionResult.from_dict(r)
                for p, r in self.precisions.items()
            },
        )
