"""Temperature scaling of a classifier's output probabilities, cheap enough for every frame.

``softmax(log(p) / T)``: the model outputs probabilities (an int8 model quantizes them in steps of
1/256, so some are exactly 0); their logs are floored at ``FLOOR`` so nothing becomes NaN.
T > 1 softens over-confident outputs, T < 1 sharpens them, T == 1 returns ``p`` untouched.
"""

from __future__ import annotations

import numpy as np

FLOOR = 1e-4  # below one int8 output step (1/256); the log of a 0 probability is taken at this


def apply_temperature(probs: np.ndarray, temperature: float) -> np.ndarray:
    """``probs`` (..., K) rescaled by ``temperature``, same dtype; returned as is when T == 1."""
    if temperature == 1.0:
        return probs
    if temperature <= 0:
        raise ValueError(f"temperature must be > 0, got {temperature}")
    p = np.asarray(probs)
    z = np.log(np.maximum(p, FLOOR).astype(np.float64)) / temperature
    z -= z.max(axis=-1, keepdims=True)
    e = np.exp(z)
    out: np.ndarray = (e / e.sum(axis=-1, keepdims=True)).astype(p.dtype, copy=False)
    return out
