"""What both commands need: the classifier and detector a command line asks for, a one-line
description of them, and warnings shown as one line each."""

from __future__ import annotations

import logging
import sys
from pathlib import Path

from fer_edge.runtime.classifier import EmotionClassifier, default_model_path
from fer_edge.runtime.detector import DEFAULT_MIN_SCORE, BlazeFaceDetector, WholeFrameDetector, create_detector


def load_models(
    model: Path | str | None,
    detector: str = "blazeface",
    detector_model: Path | str | None = None,
    threads: int = 1,
    min_score: float = DEFAULT_MIN_SCORE,
    precision: str | None = None,
) -> tuple[EmotionClassifier, BlazeFaceDetector | WholeFrameDetector]:
    """The classifier (``model`` or the shipped default, preferring ``precision`` when a device profile
    names one) and the detector, both on ``threads`` interpreter threads."""
    path = Path(model) if model is not None else default_model_path(precision)
    classifier = EmotionClassifier.create(path, threads=threads)
    try:
        det = create_detector(detector, detector_model, min_score=min_score, num_threads=threads)
    except BaseException:
        classifier.close()
        raise
    return classifier, det


def describe(classifier: EmotionClassifier, detector: BlazeFaceDetector | WholeFrameDetector) -> str:
    """E.g. ``interpreter: litert 2.3.0, 1 thread | model: default.tflite (int8, 48x48x1) | detector: ...``."""
    info = classifier.info
    threads = f"{info.num_threads} thread{'s' if info.num_threads != 1 else ''}"
    w, h = info.input_size
    if isinstance(detector, BlazeFaceDetector):
        det = f"blazeface short range, min score {detector.options.min_score:g} ({detector.model.path.name})"
    else:
        det = "whole frame (inputs are face crops)"
    return (
        f"interpreter: {info.backend} {info.backend_version}, {threads} | "
        f"model: {info.path} ({info.precision}, {w}x{h}x{info.channels}) | detector: {det}"
    )


class _StderrHandler(logging.Handler):
    """Writes to whatever ``sys.stderr`` is at the time (not the one at set-up)."""

    def emit(self, record: logging.LogRecord) -> None:
        try:
            sys.stderr.write(self.format(record) + "\n")
        except Exception:  # noqa: BLE001 - logging must never raise
            self.handleError(record)


def log_warnings_to_stderr() -> None:
    """Show the runtime's warnings (skipped files) as ``warning: ...`` lines on stderr, once."""
    log = logging.getLogger("fer_edge")
    if not any(isinstance(h, _StderrHandler) for h in log.handlers):
        handler = _StderrHandler()
        handler.setFormatter(logging.Formatter("warning: %(message)s"))
        log.addHandler(handler)
    log.setLevel(logging.WARNING)
