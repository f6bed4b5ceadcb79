"""Confidence calibration: temperature scaling, expected calibration error, reliability bins.

Pure NumPy (SciPy only inside ``fit_temperature``), so it runs anywhere the evaluation runs.
A ``.tflite`` classifier outputs probabilities, not logits, so the temperature acts on their logs:
``softmax(log(p) / T)``, which equals ``softmax(z / T)`` for the logits ``z`` up to a constant.
An int8 output is quantized (steps of 1/256), so some probabilities are exactly 0; their log is
floored at ``FLOOR`` (below one step), which keeps the fit finite.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from fer_edge.runtime.calibrate import FLOOR, apply_temperature

log = logging.getLogger("fer_edge")

__all__ = ["FLOOR", "ReliabilityBins", "apply_temperature", "ece", "fit_temperature", "nll", "reliability_bins"]

BINS = 15
T_RANGE = (0.05, 20.0)


def nll(probs: np.ndarray, labels: np.ndarray, temperature: float = 1.0) -> float:
    """Mean negative log-likelihood of ``labels`` under ``probs`` rescaled by ``temperature``."""
    p = apply_temperature(np.asarray(probs, np.float64), temperature)
    picked = p[np.arange(len(labels)), np.asarray(labels)]
    return float(-np.mean(np.log(np.maximum(picked, FLOOR))))


def fit_temperature(probs: np.ndarray, labels: np.ndarray) -> float:
    """The temperature in ``T_RANGE`` that minimises the NLL of ``labels`` (a 1-D bounded search on log T)."""
    from scipy.optimize import minimize_scalar

    probs = np.asarray(probs, np.float64)
    labels = np.asarray(labels)
    if len(probs) == 0:
        raise ValueError("no predictions to fit a temperature on")
    lo, hi = np.log(T_RANGE[0]), np.log(T_RANGE[1])
    res = minimize_scalar(
        lambda log_t: nll(probs, labels, float(np.exp(log_t))),
        bounds=(lo, hi),
        method="bounded",
        options={"xatol": 1e-5},
    )
    return float(np.exp(res.x))


@dataclass(frozen=True)
class ReliabilityBins:
    """Per equal-width confidence bin: its edges, count, mean confidence and accuracy (NaN when empty)."""

    edges: np.ndarray  # (bins + 1,)
    counts: np.ndarray  # (bins,)
    confidence: np.ndarray  # (bins,)
    accuracy: np.ndarray  # (bins,)

    @property
    def ece(self) -> float:
        n = self.counts.sum()
        if n == 0:
            return 0.0
        used = self.counts > 0
        gap = np.abs(self.accuracy[used] - self.confidence[used])
        return float(np.sum(self.counts[used] * gap) / n)

    def as_dict(self) -> dict[str, list]:
        def clean(a: np.ndarray) -> list:
            return [None if np.isnan(v) else round(float(v), 6) for v in a]

        return {
            "edges": [round(float(e), 6) for e in self.edges],
            "counts": [int(c) for c in self.counts],
            "confidence": clean(self.confidence),
            "accuracy": clean(self.accuracy),
        }


def reliability_bins(probs: np.ndarray, labels: np.ndarray, bins: int = BINS) -> ReliabilityBins:
    """Top-1 confidence in ``bins`` equal-width bins over [0, 1] (right-closed, as Guo et al. 2017)."""
    probs = np.asarray(probs, np.float64)
    conf = probs.max(axis=1)
    correct = probs.argmax(axis=1) == np.asarray(labels)
    edges = np.linspace(0.0, 1.0, bins + 1)
    # bin i holds conf in (edges[i], edges[i+1]]; a confidence of exactly 0 falls in bin 0
    which = np.clip(np.searchsorted(edges, conf, side="left") - 1, 0, bins - 1)
    counts = np.bincount(which, minlength=bins)
    with np.errstate(invalid="ignore", divide="ignore"):
        confidence = np.bincount(which, weights=conf, minlength=bins) / counts
        accuracy = np.bincount(which, weights=correct.astype(np.float64), minlength=bins) / counts
    return ReliabilityBins(edges, counts, confidence, accuracy)


def ece(probs: np.ndarray, labels: np.ndarray, bins: int = BINS) -> float:
    """Expected calibration error: the count-weighted mean |accuracy - confidence| over ``bins`` bins."""
    return reliability_bins(probs, labels, bins).ece


def coverage_curve(probs: np.ndarray, labels: np.ndarray, thresholds: np.ndarray) -> dict[str, np.ndarray]:
    """For each min-confidence threshold: the share of faces kept (top probability >= it) and accuracy on them."""
    probs = np.asarray(probs)
    conf = probs.max(axis=1)
    correct = probs.argmax(axis=1) == np.asarray(labels)
    kept = conf[None, :] >= np.asarray(thresholds)[:, None]
    n_kept = kept.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        acc = (kept & correct[None, :]).sum(axis=1) / n_kept
    return {
        "threshold": np.asarray(thresholds, float),
        "coverage": n_kept / max(len(conf), 1),
        "accuracy": acc,
        "kept": n_kept,
    }


@dataclass(frozen=True)
class Calibration:
    """A temperature fitted on one set of predictions and the calibration it gives on another."""

    temperature: float
    fitted_on: str
    measured_on: str
    before: ReliabilityBins
    after: ReliabilityBins
    nll_before: float
    nll_after: float
    #: bootstrap 95 % ranges of the ECE before/after (resampling the scored images; T held fixed)
    interval_before: tuple[float, float] = (float("nan"), float("nan"))
    interval_after: tuple[float, float] = (float("nan"), float("nan"))

    def card_entry(self) -> dict:
        """What a model card records under ``ece`` (the temperature itself goes in ``temperature``)."""
        return {
            "before": round(self.before.ece, 5),
            "after": round(self.after.ece, 5),
            "bins": len(self.before.counts),
            "measured_on": self.measured_on,
            "fitted_on": self.fitted_on,
            "method": "temperature scaling: softmax(log(p) / T), T minimising the NLL of the fit images",
            "nll_before": round(self.nll_before, 5),
            "nll_after": round(self.nll_after, 5),
            "before_95": [round(v, 5) for v in self.interval_before],
            "after_95": [round(v, 5) for v in self.interval_after],
            "interval": "bootstrap percentile, 1,000 resamples of the scored images, T fixed",
        }


def calibrate(
    fit_probs: np.ndarray,
    fit_labels: np.ndarray,
    probs: np.ndarray,
    labels: np.ndarray,
    fitted_on: str = "",
    measured_on: str = "",
    bins: int = BINS,
    resamples: int = 1000,
) -> Calibration:
    """Fit T on (``fit_probs``, ``fit_labels``); reliability and NLL of (``probs``, ``labels``) before/after,
    with bootstrap 95 % ranges of both ECEs (``resamples`` = 0: none)."""
    t = fit_temperature(fit_probs, fit_labels)
    after = apply_temperature(np.asarray(probs, np.float64), t)
    return Calibration(
        temperature=t,
        fitted_on=fitted_on,
        measured_on=measured_on,
        before=reliability_bins(probs, labels, bins),
        after=reliability_bins(after, labels, bins),
        nll_before=nll(probs, labels),
        nll_after=nll(probs, labels, t),
        interval_before=ece_interval(probs, labels, bins, resamples),
        interval_after=ece_interval(after, labels, bins, resamples),
    )


def ece_interval(
    probs: np.ndarray, labels: np.ndarray, bins: int = BINS, resamples: int = 1000, seed: int = 0
) -> tuple[float, float]:
    """Bootstrap percentile 95 % range of the ECE (NaN, NaN when ``resamples`` is 0 or there are no images).
    ECE is biased upward on small samples, so the range sits a little above the point estimate."""
    probs, labels = np.asarray(probs), np.asarray(labels)
    if resamples <= 0 or len(labels) == 0:
        return (float("nan"), float("nan"))
    rng = np.random.default_rng(seed)
    conf, correct = probs.max(1), probs.argmax(1) == labels
    edges = np.linspace(0.0, 1.0, bins + 1)
    which = np.clip(np.searchsorted(edges, conf, side="left") - 1, 0, bins - 1)
    values = []
    for _ in range(resamples):
        i = rng.integers(0, len(labels), len(labels))
        n = np.bincount(which[i], minlength=bins)
        gap = np.abs(
            np.bincount(which[i], weights=correct[i], minlength=bins)
            - np.bincount(which[i], weights=conf[i], minlength=bins)
        )
        values.append(gap.sum() / n.sum())
    lo, hi = np.percentile(values, [2.5, 97.5])
    return (float(lo), float(hi))


def fit_card_temperatures(models: list, data) -> list[tuple]:
    """Fit a temperature per ``.tflite`` on ``data``'s PublicTest images (else the val part of a stratified
    80/10/10 split, seed 0) and record it in each file's card; returns (path, Calibration) pairs.
    The ECE in the card is then in-sample (measured on the fit images), and says so."""
    from pathlib import Path

    from fer_edge.errors import FerEdgeError
    from fer_edge.evaluation.data import load_eval_data
    from fer_edge.evaluation.models import predict_tflite
    from fer_edge.model_card import ModelCard
    from fer_edge.runtime.model_file import to_channels

    try:
        fit = load_eval_data(Path(data), usage="PublicTest")
    except FerEdgeError:  # no PublicTest tag (a missing file fails again just below, with its own message)
        fit = load_eval_data(Path(data), split="val")
    out = []
    for path in map(Path, models):
        card = ModelCard.load(path)
        with_input = to_channels(fit.dataset.images, card.channels if card else 1)
        probs, _ = predict_tflite(path, with_input)
        y = fit.dataset.labels
        cal = calibrate(probs, y, probs, y, fit.description, f"{fit.description} (in-sample: the fit images)")
        if card is not None:
            card.temperature = round(cal.temperature, 5)
            card.ece = cal.card_entry()
            card.save(path)
        out.append((path, cal))
    return out


def write_card_temperatures(result: Any) -> list[Path]:
    """Each .tflite's card gains the fitted temperature and its ECE entry (a file with no card is skipped)."""
    from fer_edge.model_card import ModelCard

    written = []
    for file, cal in result.calibrations.items():
        path = Path(file)
        card = ModelCard.load(path) if path.suffix == ".tflite" else None
        if card is None:
            log.warning("%s has no model card to record its temperature in; skipped", path)
            continue
        card.temperature = round(cal.temperature, 5)
        card.ece = cal.card_entry()
        written.append(card.save(path))
    return written
