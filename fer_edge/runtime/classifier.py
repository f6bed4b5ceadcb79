"""The expression classifier: a ``.tflite`` plus its model card, fed 48x48 grayscale faces.

Colour contract: ``crop_face`` takes the BGR frame and converts the cropped face to grayscale (once,
on the small crop). ``classify`` takes that grayscale face as uint8 pixels 0-255; normalization is
inside the model, so no scaling happens here. Three-channel models get the gray face replicated.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from fer_edge.errors import FerEdgeError
from fer_edge.model_card import ModelCard
from fer_edge.runtime.calibrate import apply_temperature
from fer_edge.runtime.detector import BBox, CropSpec
from fer_edge.runtime.interpreter import TfliteModel
from fer_edge.runtime.model_file import check_classifier, open_classifier, precision_of, to_channels

MODELS_DIR = Path(__file__).resolve().parent.parent / "assets" / "models"
DEFAULT_MODEL = MODELS_DIR / "default.tflite"
NO_DEFAULT = "no default model in this install; pass --model PATH.tflite (make one with fer-edge convert)"
BATCH = 32  # chunk size of classify_batch: one tensor allocation, reused


def default_model_path(precision: str | None = None) -> Path:
    """The shipped model; for a ``precision`` other than the shipped one, ``default-<precision>.tflite``
    when present. Raises FerEdgeError when this install has no default model."""
    if precision:
        variant = MODELS_DIR / f"default-{precision}.tflite"
        if variant.is_file():
            return variant
    if not DEFAULT_MODEL.is_file():
        raise FerEdgeError(NO_DEFAULT)
    return DEFAULT_MODEL


def crop_face(frame_bgr: np.ndarray, bbox: BBox, crop: CropSpec, size: tuple[int, int] = (48, 48)) -> np.ndarray:
    """The face under ``bbox`` as a grayscale ``size`` (w, h) uint8 image: a square around the box with
    ``crop``'s margin and shift; the parts outside the frame are filled by replicating its border."""
    side = max(bbox.width, bbox.height) * (1.0 + 2.0 * crop.margin)
    cx, cy = bbox.center
    cy += crop.shift_y * max(bbox.width, bbox.height)
    x1, y1 = int(round(cx - side / 2)), int(round(cy - side / 2))
    s = max(1, int(round(side)))
    x2, y2 = x1 + s, y1 + s
    h, w = frame_bgr.shape[:2]
    cx1, cy1, cx2, cy2 = max(0, x1), max(0, y1), min(w, x2), min(h, y2)
    if cx2 <= cx1 or cy2 <= cy1:
        raise ValueError(f"box {bbox} lies outside the {w}x{h} frame")
    patch = frame_bgr[cy1:cy2, cx1:cx2]
    gray = cv2.cvtColor(patch, cv2.COLOR_BGR2GRAY) if patch.ndim == 3 else patch
    if (cx1, cy1, cx2, cy2) != (x1, y1, x2, y2):
        gray = cv2.copyMakeBorder(gray, cy1 - y1, y2 - cy2, cx1 - x1, x2 - cx2, cv2.BORDER_REPLICATE)
    interp = cv2.INTER_AREA if s >= size[0] else cv2.INTER_LINEAR
    return cv2.resize(gray, size, interpolation=interp)


@dataclass(frozen=True)
class ClassifierInfo:
    path: Path
    labels: tuple[str, ...]
    channels: int
    input_size: tuple[int, int]  # (width, height)
    precision: str
    backend: str
    backend_version: str
    num_threads: int


class EmotionClassifier:
    """``classify(face_gray) -> probabilities`` over the card's labels (FER-2013 order by default)."""

    def __init__(self, model: TfliteModel, card: ModelCard | None) -> None:
        self._model = model
        self.labels = check_classifier(model, card)
        shape = model.input.shape
        self.channels = int(shape[3])
        self.input_size = (int(shape[2]), int(shape[1]))
        self.precision = (
            card.precision if card is not None and card.precision else precision_of(model.path, model.input.dtype)
        )
        self._batch = int(shape[0])
        #: the card's calibration temperature, applied to every output (1.0: outputs as the model gives them)
        self.temperature = float(card.temperature) if card is not None else 1.0
        if not self.temperature > 0:
            raise FerEdgeError(f"{ModelCard.path_for(model.path)}: temperature {self.temperature} must be > 0")

    @classmethod
    def create(
        cls, model_path: Path | str | None = None, threads: int = 1, backend: str | None = None
    ) -> EmotionClassifier:
        """Load ``model_path`` (default: the shipped model) with its card, on ``threads`` threads."""
        path = Path(model_path) if model_path is not None else default_model_path()
        return cls(*open_classifier(path, threads=threads, backend=backend))

    @property
    def model(self) -> TfliteModel:
        return self._model

    @property
    def info(self) -> ClassifierInfo:
        m = self._model
        return ClassifierInfo(
            m.path,
            self.labels,
            self.channels,
            self.input_size,
            self.precision,
            m.backend,
            m.backend_version,
            m.num_threads,
        )

    def _check(self, faces: np.ndarray) -> None:
        if faces.shape[-2:] != self.input_size[::-1]:
            raise ValueError(
                f"expected grayscale faces of {self.input_size[1]}x{self.input_size[0]}, got {faces.shape}"
            )

    def classify(self, face_gray: np.ndarray) -> np.ndarray:
        """Probabilities (n_labels,) float32 for one grayscale face (H, W) of pixels 0-255."""
        face = np.asarray(face_gray)
        self._check(face)
        self._resize(1)
        probs: np.ndarray = self._model.run(to_channels(face[None], self.channels))[0][0]
        return apply_temperature(probs, self.temperature)

    def classify_batch(self, faces_gray: np.ndarray) -> np.ndarray:
        """Probabilities (N, n_labels) for N grayscale faces, run in chunks of ``BATCH``."""
        faces = np.asarray(faces_gray)
        self._check(faces)
        if len(faces) == 0:
            return np.zeros((0, len(self.labels)), np.float32)
        if not self._resize(BATCH):  # a model with a fixed batch: one at a time (classify applies T)
            return np.stack([self.classify(f) for f in faces])
        out = []
        for start in range(0, len(faces), BATCH):
            chunk = faces[start : start + BATCH]
            padded = np.zeros((BATCH, *chunk.shape[1:]), chunk.dtype)
            padded[: len(chunk)] = chunk
            out.append(self._model.run(to_channels(padded, self.channels))[0][: len(chunk)])
        return apply_temperature(np.concatenate(out), self.temperature)

    def _resize(self, batch: int) -> bool:
        if self._batch == batch:
            return True
        try:
            self._model.resize_batch(batch)
        except Exception:  # noqa: BLE001 - a model converted with a fixed batch cannot be resized
            return False
        self._batch = batch
        return True

    def close(self) -> None:
        self._model.close()

    def __enter__(self) -> EmotionClassifier:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
