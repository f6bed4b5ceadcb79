"""Reproducible stratified splits (scikit-learn), plain and duplicate-grouped."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from fer_edge.errors import FerEdgeError


@dataclass(frozen=True)
class Split:
    """Index arrays into a dataset; ``seed`` and ``method`` recorded for the results."""

    train: np.ndarray
    val: np.ndarray
    test: np.ndarray
    seed: int
    method: str

    def as_dict(self) -> dict[str, object]:
        return {"seed": self.seed, "method": self.method, "sizes": [len(self.train), len(self.val), len(self.test)]}


def stratified_split(labels: np.ndarray, seed: int, fractions: tuple[float, float, float] = (0.8, 0.1, 0.1)) -> Split:
    """Stratified train/val/test indices; the same seed gives the same indices on any machine."""
    from sklearn.model_selection import train_test_split

    labels = np.asarray(labels)
    idx = np.arange(len(labels))
    if len(labels) and np.bincount(labels).min() < 3:
        raise FerEdgeError("every class needs at least 3 images for a stratified 80/10/10 split")
    train_f, val_f, test_f = fractions
    rest_idx, test_idx = train_test_split(idx, test_size=test_f, stratify=labels, random_state=seed)
    train_idx, val_idx = train_test_split(
        rest_idx, test_size=val_f / (train_f + val_f), stratify=labels[rest_idx], random_state=seed
    )
    return Split(np.sort(train_idx), np.sort(val_idx), np.sort(test_idx), seed, "stratified")
