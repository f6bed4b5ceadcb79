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
from fer_edge.runtime.timing import FrameTimer
from fer_edge.runtime.tracking import IoUTracker


@dataclass(frozen=True, eq=False)
class FaceResult:
    """One face in one frame: its track id (stable across frames), box in pixels, detector score, the
    class probabilities (smoothed over the track when smoothing is on) and the winning label."""

    track_id: int
    bbox: BBox
    detection_score: float
    scores: np.ndarray
    label: str

    @property
    def score(self) -> float:
        return float(self.scores.max())


@dataclass(frozen=True, eq=False)
class FrameResult:
    faces: tuple[FaceResult, ...]
    timings: dict[str, float] = field(default_factory=dict)  # ms per stage that ran on this frame
    detected: bool = True  # whether the detector ran (False on frames between --detect-every runs)


class FramePipeline:
    def __init__(
        self,
        detector: FaceDetector,
        classifier: EmotionClassifier,
        tracker: IoUTracker | None = None,
        smoother: EmaSmoother | None = None,
        detect_every: int = 1,
    ) -> None:
        if detect_every < 1:
            raise FerEdgeError(f"--detect-every must be at least 1, got {detect_every}")
        self.detector = detector
        self.classifier = classifier
        self.tracker = tracker or IoUTracker()
        self.smoother = smoother
        self.detect_every = detect_every
        self._frames = 0

    def process(self, frame_bgr: np.ndarray, timer: FrameTimer | None = None) -> FrameResult:
        """Faces with track ids and probabilities for one BGR frame. Stages are added to ``timer`` (a new
        one when None), so a caller can time capture and drawing into the same frame record."""
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
            labels = self.classifier.labels
            faces = []
            for t, face in zip(tracked, crops):
                probs = self.classifier.classify(face)
                if self.smoother is not None:
                    probs = self.smoother.update(t.track_id, probs)
                d = t.detection
                faces.append(FaceResult(t.track_id, d.bbox, d.score, probs, labels[int(np.argmax(probs))]))
            if self.smoother is not None and run_detector:
                self.smoother.prune(self.tracker.active_ids)
        return FrameResult(tuple(faces), timer.ms, run_detector)

    def reset(self) -> None:
        """Start a new clip: forget tracks and smoothing state; the next frame runs the detector."""
        self.tracker.reset()
        if self.smoother is not None:
            self.smoother.reset()
        self._frames = 0
