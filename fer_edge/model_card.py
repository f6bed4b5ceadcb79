"""The card that travels with every model file (``<model>.json`` beside it); no TensorFlow needed."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from fer_edge.atomic import write_text
from fer_edge.errors import FerEdgeError
from fer_edge.labels import EMOTIONS


@dataclass
class ModelCard:
    architecture: str
    input_shape: list[int]  # [48, 48, channels], batch excluded
    labels: list[str] = field(default_factory=lambda: list(EMOTIONS))
    normalization: str = "inside the model: feed raw pixels 0-255"
    precision: str = "float32"  # float32 | float16 | dynamic | int8
    input_dtype: str = "float32"
    output_dtype: str = "float32"
    training: dict[str, Any] = field(default_factory=dict)  # data, split, seed, epochs, command
    metrics: dict[str, Any] = field(default_factory=dict)
    notes: dict[str, str] = field(default_factory=dict)  # limitations, bias, privacy
    #: divides the log-probabilities at run time (softmax(log p / T)); 1.0 = outputs used as they are
    temperature: float = 1.0
    #: expected calibration error (15 bins) before/after ``temperature``, on which images, and where T was
    #: fitted, e.g. {"before": 0.05, "after": 0.01, "measured_on": ..., "fitted_on": ..., "bins": 15}; empty if never
    ece: dict[str, Any] = field(default_factory=dict)

    @property
    def channels(self) -> int:
        return int(self.input_shape[-1])

    @staticmethod
    def path_for(model_path: Path) -> Path:
        return Path(model_path).with_suffix(".json")

    def save(self, model_path: Path) -> Path:
        return write_text(self.path_for(model_path), json.dumps(asdict(self), indent=2) + "\n")

    @classmethod
    def load(cls, model_path: Path) -> ModelCard | None:
        """The card beside ``model_path``, or None when there is none."""
        p = cls.path_for(model_path)
        if not p.exists():
            return None
        try:
            raw = json.loads(p.read_text())
            known = {k: v for k, v in raw.items() if k in cls.__dataclass_fields__}
            return cls(**known)
        except (json.JSONDecodeError, TypeError) as e:
            raise FerEdgeError(
                f"{p}: not a valid model card ({e}); delete it or regenerate it with fer-edge convert"
            ) from None
