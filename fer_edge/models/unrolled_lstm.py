"""A fixed-length LSTM written as straight-line ops, for TFLite conversion only.

Keras' ``LSTM(unroll=True)`` already avoids the WHILE loop that full-int8 conversion cannot
take, but it projects every timestep's input separately (one FULLY_CONNECTED and one RESHAPE
per step) and runs a SPLIT and three LOGISTIC ops per step. This layer computes the same
function from the same three weights (``kernel``, ``recurrent_kernel``, ``bias``, in Keras'
i, f, c, o gate order) with fewer ops:

- the input projection of all timesteps is one matrix product;
- the gate columns are reordered (a constant the converter folds) to i, f, o | c, so each step
  takes one LOGISTIC over the three sigmoid gates and one TANH over the candidate;
- the first step has no recurrent product and no forget term (the initial state is zero).

On the paper-1 CNN-LSTM that is 184 ops instead of 244. Its only job is a smaller graph: it
returns the last hidden state (``return_sequences=False``) with tanh/sigmoid activations, which
is what every registered CNN-LSTM uses.
"""

from __future__ import annotations

import keras
import numpy as np
from keras import layers, ops


@keras.saving.register_keras_serializable(package="fer_edge")
class UnrolledLSTM(layers.Layer):
    """Last hidden state of an LSTM over a fixed number of timesteps; weights as ``keras.layers.LSTM``."""

    def __init__(self, units: int, **kwargs: object) -> None:
        super().__init__(**kwargs)
        self.units = units

    def build(self, input_shape: tuple[int | None, ...]) -> None:
        u = self.units
        self.kernel = self.add_weight(shape=(input_shape[-1], 4 * u), name="kernel")
        self.recurrent_kernel = self.add_weight(shape=(u, 4 * u), name="recurrent_kernel")
        self.bias = self.add_weight(shape=(4 * u,), name="bias", initializer="zeros")

    def call(self, x: keras.KerasTensor) -> keras.KerasTensor:
        u = self.units
        # Keras' gate order is i, f, c, o; put the three sigmoid gates first.
        order = np.concatenate([np.arange(0, 2 * u), np.arange(3 * u, 4 * u), np.arange(2 * u, 3 * u)])
        kernel = ops.take(self.kernel, order, axis=1)
        recurrent = ops.take(self.recurrent_kernel, order, axis=1)
        bias = ops.take(self.bias, order, axis=0)
        projected = ops.matmul(x, kernel) + bias  # (batch, timesteps, 4u), every step at once
        h = c = None
        for z in ops.unstack(projected, axis=1):
            if h is not None:
                z = z + ops.matmul(h, recurrent)
            gates, candidate = ops.split(z, [3 * u], axis=-1)
            i, f, o = ops.split(ops.sigmoid(gates), 3, axis=-1)
            new = i * ops.tanh(candidate)
            c = new if c is None else f * c + new
            h = o * ops.tanh(c)
        return h

    def compute_output_shape(self, input_shape: tuple[int | None, ...]) -> tuple[int | None, int]:
        return (input_shape[0], self.units)

    def get_config(self) -> dict:
        return {**super().get_config(), "units": self.units}


def lstm(units: int, unroll: bool) -> layers.Layer:
    """``keras.layers.LSTM`` for training, its straight-line twin (same weights) for conversion."""
    return UnrolledLSTM(units) if unroll else layers.LSTM(units)
