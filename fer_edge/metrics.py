"""Classification metrics every report uses (scikit-learn; no TensorFlow)."""

from __future__ import annotations

from typing import Any

import numpy as np

from fer_edge.labels import EMOTIONS, NUM_CLASSES


def classification_metrics(y_true: np.ndarray, probs: np.ndarray) -> dict[str, Any]:
    """Accuracy, macro precision/recall/F1, per-class recall and one-vs-rest ROC-AUC, confusion matrix.

    ``probs`` is (N, 7). Classes absent from ``y_true`` get ``None`` for recall and AUC rather
    than a crash, so a dataset missing a class can still be scored.
    """
    from sklearn.metrics import confusion_matrix, precision_recall_fscore_support, roc_auc_score

    y_true = np.asarray(y_true, dtype=np.int64)
    probs = np.asarray(probs, dtype=np.float64)
    y_pred = probs.argmax(axis=1)
    present = np.unique(y_true)
    p, r, f, _ = precision_recall_fscore_support(y_true, y_pred, labels=present, average="macro", zero_division=0)
    _, recall, _, support = precision_recall_fscore_support(
        y_true, y_pred, labels=list(range(NUM_CLASSES)), average=None, zero_division=0
    )
    auc: dict[str, float | None] = {}
    for c, name in enumerate(EMOTIONS):
        positives = y_true == c
        auc[name] = float(roc_auc_score(positives, probs[:, c])) if 0 < positives.sum() < len(y_true) else None
    return {
        "n": int(len(y_true)),
        "accuracy": float((y_pred == y_true).mean()) if len(y_true) else float("nan"),
        "macro_precision": float(p),
        "macro_recall": float(r),
        "macro_f1": float(f),
        "per_class_recall": {n: (float(recall[c]) if support[c] else None) for c, n in enumerate(EMOTIONS)},
        "per_class_support": {n: int(support[c]) for c, n in enumerate(EMOTIONS)},
        "roc_auc": auc,
        "confusion_matrix": confusion_matrix(y_true, y_pred, labels=list(range(NUM_CLASSES))).tolist(),
    }


def wilson_interval(correct: int, n: int) -> tuple[float, float]:
    """95 % Wilson interval of a proportion of ``correct`` in ``n`` (an accuracy on ``n`` images)."""
    from scipy.stats import binomtest

    ci = binomtest(int(correct), int(n)).proportion_ci(0.95, method="wilson")
    return float(ci.low), float(ci.high)


def mcnemar_exact(a_right: np.ndarray, b_right: np.ndarray) -> tuple[int, int, float]:
    """Exact McNemar test of two classifiers on the same images: (only A right, only B right, p).

    Only the images one gets right and the other wrong count; under "equally accurate" each is a
    fair coin, so p is the two-sided binomial test of one count in their sum (1.0 when both are 0).
    """
    from scipy.stats import binomtest

    a_right, b_right = np.asarray(a_right, bool), np.asarray(b_right, bool)
    only_a, only_b = int((a_right & ~b_right).sum()), int((b_right & ~a_right).sum())
    p = float(binomtest(only_b, only_a + only_b).pvalue) if only_a + only_b else 1.0
    return only_a, only_b, p
