"""Stochastic weight averaging (SWA): average the weights of several epochs, then re-measure BatchNorm.

Averaging the end-of-epoch weights of a run held at a constant learning rate lands nearer the
centre of a wide minimum than any single epoch does (Izmailov et al., 2018). BatchNorm's moving
statistics belong to each epoch's weights, not to their average, so they are measured again on
the training data afterwards.
"""

from __future__ import annotations

from collections.abc import Iterable

import keras
import numpy as np


class WeightAverage(keras.callbacks.Callback):
    """Keeps the running mean of the model's weights at the end of every epoch from ``start_epoch`` (1-based)."""

    def __init__(self, start_epoch: int) -> None:
        super().__init__()
        if start_epoch < 1:
            raise ValueError(f"start_epoch must be >= 1, not {start_epoch}")
        self.start_epoch = start_epoch
        self.snapshots = 0
        self._mean: list[np.ndarray] | None = None

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        if epoch + 1 < self.start_epoch:
            return
        weights = [np.asarray(w, np.float64) for w in self.model.get_weights()]
        self.snapshots += 1
        if self._mean is None:
            self._mean = weights
        else:
            self._mean = [m + (w - m) / self.snapshots for m, w in zip(self._mean, weights)]

    def averaged_weights(self) -> list[np.ndarray]:
        if self._mean is None:
            raise RuntimeError(f"no epoch reached start_epoch {self.start_epoch}: nothing was averaged")
        return [m.astype(w.dtype) for m, w in zip(self._mean, self.model.get_weights())]


def batchnorm_layers(model: keras.Model) -> list[keras.layers.BatchNormalization]:
    return [layer for layer in model._flatten_layers() if isinstance(layer, keras.layers.BatchNormalization)]


def recompute_batchnorm(model: keras.Model, batches: Iterable) -> int:
    """Set every BatchNorm's moving mean and variance to their exact average over ``batches``.

    ``batches`` yields inputs or (inputs, targets). A momentum of i/(i+1) at batch i turns Keras'
    exponential moving average into a cumulative one. Returns the number of batches seen.
    """
    bns = batchnorm_layers(model)
    if not bns:
        return 0
    saved = [bn.momentum for bn in bns]
    seen = 0
    try:
        for batch in batches:
            x = batch[0] if isinstance(batch, tuple | list) else batch
            for bn in bns:
                bn.momentum = seen / (seen + 1)
            model(x, training=True)
            seen += 1
    finally:
        for bn, momentum in zip(bns, saved):
            bn.momentum = momentum
    return seen
