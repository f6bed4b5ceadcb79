"""Run figures (matplotlib, Agg): learning curves, confusion matrix, one-vs-rest ROC curves.

In the training layer because a run draws its own figures; ``fer_edge.report`` (a higher layer)
reuses ``pyplot``/``save`` for its summary figures. matplotlib is imported only when drawing.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from fer_edge.labels import EMOTIONS


def pyplot():  # noqa: ANN201 - matplotlib.pyplot with the Agg backend, imported lazily
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def save(fig, path: Path) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.tight_layout()
    fig.savefig(path, dpi=90, format="png")  # PNG even under a temporary name
    pyplot().close(fig)
    return path


def plot_history(history: dict[str, list[float]], path: Path, title: str = "") -> Path:
    """Training/validation accuracy and loss per epoch, side by side."""
    plt = pyplot()
    fig, axes = plt.subplots(1, 2, figsize=(9, 3.4))
    epochs = np.arange(1, len(history.get("loss", [])) + 1)
    for ax, key in zip(axes, ("accuracy", "loss")):
        if key in history:
            ax.plot(epochs, history[key], label=f"train {key}")
        if f"val_{key}" in history:
            ax.plot(epochs, history[f"val_{key}"], label=f"validation {key}")
        ax.set_xlabel("epoch")
        ax.set_ylabel(key)
        ax.grid(alpha=0.3)
        ax.legend()
    if title:
        fig.suptitle(title, fontsize=10)
    return save(fig, path)


def plot_confusion(cm: np.ndarray | list, path: Path, title: str = "") -> Path:
    """Row-normalised confusion matrix (true class per row) with the counts written in."""
    plt = pyplot()
    cm = np.asarray(cm, dtype=float)
    norm = cm / np.maximum(cm.sum(axis=1, keepdims=True), 1)
    fig, ax = plt.subplots(figsize=(5.4, 4.6))
    im = ax.imshow(norm, cmap="Blues", vmin=0, vmax=1)
    ax.set_xticks(range(len(EMOTIONS)), EMOTIONS, rotation=45, ha="right")
    ax.set_yticks(range(len(EMOTIONS)), EMOTIONS)
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    for i in range(cm.shape[0]):
        for j in range(cm.shape[1]):
            ax.text(
                j,
                i,
                int(cm[i, j]),
                ha="center",
                va="center",
                fontsize=7,
                color="white" if norm[i, j] > 0.5 else "black",
            )
    fig.colorbar(im, ax=ax, fraction=0.046, label="fraction of the true class")
    ax.set_title(title or "confusion matrix", fontsize=10)
    return save(fig, path)


def plot_roc(y_true: np.ndarray, probs: np.ndarray, path: Path, title: str = "") -> Path:
    """One-vs-rest ROC curve per class, AUC in the legend."""
    from sklearn.metrics import roc_auc_score, roc_curve

    plt = pyplot()
    fig, ax = plt.subplots(figsize=(5, 4.6))
    for c, name in enumerate(EMOTIONS):
        pos = np.asarray(y_true) == c
        if 0 < pos.sum() < len(pos):
            fpr, tpr, _ = roc_curve(pos, probs[:, c])
            ax.plot(fpr, tpr, lw=1.2, label=f"{name} (AUC {roc_auc_score(pos, probs[:, c]):.3f})")
    ax.plot([0, 1], [0, 1], "k--", lw=0.8)
    ax.set_xlabel("false positive rate")
    ax.set_ylabel("true positive rate")
    ax.legend(fontsize=7, loc="lower right")
    ax.set_title(title or "one-vs-rest ROC", fontsize=10)
    return save(fig, path)


def plot_reliability(panels: Sequence[tuple[str, Any, Any]], path: Path) -> Path:
    """Reliability diagrams, one panel per (title, bins before, bins after): accuracy per confidence bin
    against the diagonal, with ECE in the legend. Bins are ``fer_edge.evaluation.calibration.ReliabilityBins``."""
    plt = pyplot()
    n = max(1, len(panels))
    fig, axes = plt.subplots(1, n, figsize=(4.2 * n, 4.0), squeeze=False)
    for ax, (title, before, after) in zip(axes[0], panels):
        centers = (before.edges[:-1] + before.edges[1:]) / 2
        width = before.edges[1] - before.edges[0]
        ax.plot([0, 1], [0, 1], color="gray", linestyle="--", linewidth=0.8, label="perfect calibration")
        ax.bar(
            centers - width / 4,
            np.nan_to_num(before.accuracy),
            width / 2,
            color="#d62728",
            alpha=0.7,
            label=f"before: ECE {100 * before.ece:.1f} %",
        )
        ax.bar(
            centers + width / 4,
            np.nan_to_num(after.accuracy),
            width / 2,
            color="#1f77b4",
            alpha=0.7,
            label=f"after T: ECE {100 * after.ece:.1f} %",
        )
        ax.set_xlim(0, 1)
        ax.set_ylim(0, 1)
        ax.set_xlabel("top-1 confidence (bin)")
        ax.set_ylabel("accuracy in bin")
        ax.set_title(title, fontsize=9)
        ax.legend(fontsize=7, loc="upper left")
        ax.grid(alpha=0.3)
    return save(fig, path)


def plot_coverage(curves: Sequence[tuple[str, dict[str, Any]]], path: Path) -> Path:
    """Accuracy on the faces kept against the share kept, as the min-confidence threshold rises
    (one line per (label, ``coverage_curve`` dict)); a few thresholds are marked on each line."""
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(5.2, 4.0))
    for label, c in curves:
        ax.plot(100 * c["coverage"], 100 * c["accuracy"], label=label)
        for t, cov, acc in zip(c["threshold"], c["coverage"], c["accuracy"]):
            if any(abs(t - m) < 1e-9 for m in (0.4, 0.5, 0.6, 0.7, 0.8, 0.9)) and cov > 0:
                ax.plot(100 * cov, 100 * acc, "o", color="black", markersize=3)
                ax.annotate(f"{t:.1f}", (100 * cov, 100 * acc), textcoords="offset points", xytext=(4, -9), fontsize=7)
    ax.set_xlabel("faces kept (%)")
    ax.set_ylabel("accuracy on the faces kept (%)")
    ax.set_xlim(0, 100)
    ax.set_title("min-confidence: coverage vs accuracy (dots: thresholds)", fontsize=9)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7)
    return save(fig, path)
