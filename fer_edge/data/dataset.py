"""The one in-memory form every on-disk form loads into."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

import numpy as np

from fer_edge.errors import FerEdgeError
from fer_edge.labels import EMOTIONS, NUM_CLASSES, USAGES

IMAGE_SIZE = 48
NUM_PIXELS = IMAGE_SIZE * IMAGE_SIZE


@dataclass(frozen=True)
class FerDataset:
    """``images`` uint8 (N, 48, 48); ``labels`` int64 (N,) in FER-2013 order.

    ``usage`` holds the original split tag per image (``Training``/``PublicTest``/
    ``PrivateTest``) or ``""`` where the source does not say; ``sources`` names where each
    image came from (a file path, or ``file.csv:row``) so errors and audits can point at it.
    """

    images: np.ndarray
    labels: np.ndarray
    # None (the default) is filled in by __post_init__, so both are arrays on every instance
    usage: np.ndarray = field(default=None)  # type: ignore[arg-type]
    sources: np.ndarray = field(default=None)  # type: ignore[arg-type]

    def __post_init__(self) -> None:
        n = len(self.images)
        if self.images.dtype != np.uint8 or self.images.shape[1:] != (IMAGE_SIZE, IMAGE_SIZE):
            raise ValueError(f"images must be uint8 (N, 48, 48), got {self.images.dtype} {self.images.shape}")
        if self.labels.shape != (n,):
            raise ValueError("labels must have one entry per image")
        if n and (self.labels.min() < 0 or self.labels.max() >= NUM_CLASSES):
            raise FerEdgeError("labels must lie in 0-6 (FER-2013 order)")
        if self.usage is None:
            object.__setattr__(self, "usage", np.full(n, "", dtype=object))
        if self.sources is None:
            object.__setattr__(self, "sources", np.array([f"#{i}" for i in range(n)], dtype=object))
        object.__setattr__(self, "labels", self.labels.astype(np.int64, copy=False))
        object.__setattr__(self, "usage", np.asarray(self.usage, dtype=object))
        object.__setattr__(self, "sources", np.asarray(self.sources, dtype=object))

    def __len__(self) -> int:
        return len(self.labels)

    def subset(self, index: np.ndarray | slice) -> FerDataset:
        return FerDataset(self.images[index], self.labels[index], self.usage[index], self.sources[index])

    def with_usage(self, *usages: str) -> FerDataset:
        """The images whose original split tag is one of ``usages``."""
        return self.subset(np.isin(self.usage, usages))

    def class_counts(self) -> dict[str, int]:
        counts = np.bincount(self.labels, minlength=NUM_CLASSES)
        return {name: int(c) for name, c in zip(EMOTIONS, counts)}

    def usage_counts(self) -> dict[str, int]:
        counts = Counter(u or "unknown" for u in self.usage)
        order = [*USAGES, "unknown"]
        return {u: counts[u] for u in sorted(counts, key=lambda u: order.index(u) if u in order else 99)}

    @staticmethod
    def concat(parts: list[FerDataset]) -> FerDataset:
        return FerDataset(
            np.concatenate([p.images for p in parts]) if parts else np.zeros((0, 48, 48), np.uint8),
            np.concatenate([p.labels for p in parts]) if parts else np.zeros(0, np.int64),
            np.concatenate([p.usage for p in parts]) if parts else np.zeros(0, object),
            np.concatenate([p.sources for p in parts]) if parts else np.zeros(0, object),
        )
