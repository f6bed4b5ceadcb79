"""One frame through detector -> tracker -> crop -> classifier -> smoother, timed per stage.

Colour contract: ``process`` takes the BGR frame as sources deliver it; the detector converts its
128x128 input to RGB and ``crop_face`` converts each face crop to gray: one conversion per consumer,
each on the smallest image it can be done on.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from fer_edge.errors import FerEdgeError
from fer_edge.runtime.classifier import EmotionClassifier, crop_face
from fer_edge.runtime.detector import BBox, FaceDetector
from fer_edge.runtime.smoothing import EmaSmoother
from fer_edge.runtime.sources import Frame
from fer_edge.runtime.timing import FrameTimer
from fer_edge.runtime.tracking import IoUTracker

#: The label of a face whose top probability is under the pipeline's ``min_confidence``.
UNCERTAIN = "uncertain"


@dataclass(frozen=True, eq=False)
class FaceResult:
    """One face in one frame: its track id (stable across frames), box in pixels, detector score, the
    class probabilities over ``labels`` (smoothed over the track when smoothing is on) and the label
    shown: the most probable one, or ``"uncertain"`` when its probability is under the minimum confidence."""

    track_id: int
    bbox: BBox
    detection_score: float
    scores: np.ndarray
    label: str
    labels: tuple[str, ...] = ()

    @property
    def score(self) -> float:
        """The top probability (also when the label is ``uncertain``)."""
        return float(self.scores.max())

    @property
    def top_label(self) -> str:
        """The most probable label, whatever the minimum confidence."""
        return self.labels[int(np.argmax(self.scores))] if self.labels else self.label

    @property
    def emotions(self) -> dict[str, float]:
        """``{label: probability}`` in the model card's label order; the values sum to 1."""
        return {name: float(p) for name, p in zip(self.labels, self.scores)}


@dataclass(frozen=True, eq=False)
class FrameResult:
    """The faces of one frame. ``frame`` is the frame they were found in (its image, index within its file or
    stream, timestamp and source name) when the result came from a source; None for a bare image."""

    faces: tuple[FaceResult, ...]
    timings: dict[str, float] = field(default_factory=dict)  # ms per stage that ran on this frame
    detected: bool = True  # whether the detector ran (False on frames between --detect-every runs)
    frame: Frame | None = None

    @property
    def frame_index(self) -> int:
        return self.frame.index if self.frame is not None else 0

    @property
    def timestamp_s(self) -> float:
        return self.frame.timestamp_s if self.frame is not None else 0.0

    @property
    def source(self) -> str:
        return self.frame.source if self.frame is not None else ""


class FramePipeline:
    def __init__(
        self,
        detector: FaceDetector,
        classifier: EmotionClassifier,
        tracker: IoUTracker | None = None,
        smoother: EmaSmoother | None = None,
        detect_every: int = 1,
        min_confidence: float = 0.0,
    ) -> None:
        if detect_every < 1:
            raise FerEdgeError(f"--detect-every must be at least 1, got {detect_every}")
        if not 0.0 <= min_confidence <= 1.0:
            raise FerEdgeError(f"--min-confidence must lie within [0, 1], got {min_confidence}")
        self.min_confidence = min_confidence
        self.detector = detector
        self.classifier = classifier
        self.tracker = tracker or IoUTracker()
        self.smoother = smoother
        self.detect_every = detect_every
        self._frames = 0

    def process(
        self, frame_bgr: np.ndarray, timer: FrameTimer | None = None, frame: Frame | None = None
    ) -> FrameResult:
        """Faces with track ids and probabilities for one BGR frame. Stages are added to ``timer`` (a new
        one when None), so a caller can time capture and drawing into the same frame record; ``frame``
        (whose image is ``frame_bgr``) is carried on the result."""
        timer = timer or FrameTimer()
        run_detector = self._frames % self.detect_every == 0
        self._frames += 1
        with timer.stage("detect"):
            if run_detector:
                tracked = self.tracker.update(self.detector.detect(frame_bgr))
            else:
                tracked = self.tracker.current()
        with timer.stage("preprocess"):
            crop, size = self.detector.crop, self.classifier.input_size
            crops = [crop_face(frame_bgr, t.detection.bbox, crop, size) for t in tracked]
        with timer.stage("classify"):
            labels, floor = self.classifier.labels, self.min_confidence
            faces = []
            for t, face in zip(tracked, crops):
                probs = self.classifier.classify(face)
                if self.smoother is not None:
                    probs = self.smoother.update(t.track_id, probs)
                d = t.detection
                best = int(np.argmax(probs))
                label = labels[best] if probs[best] >= floor else UNCERTAIN
                faces.append(FaceResult(t.track_id, d.bbox, d.score, probs, label, labels))
            if self.smoother is not None and run_detector:
                self.smoother.prune(self.tracker.active_ids)
        return FrameResult(tuple(faces), timer.ms, run_detector, frame)

    def reset(self) -> None:
        """Start a new clip: forget tracks and smoothing state; the next frame runs the detector."""
        self.tracker.reset()
        if self.smoother is not None:
            self.smoother.reset()
        self._frames = 0
