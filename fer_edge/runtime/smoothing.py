"""Per-track exponential moving average of class probabilities (``--smooth``)."""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np

DEFAULT_ALPHA = 0.3  # weight of the newest frame; at 30 FPS about a tenth of a second of memory


class EmaSmoother:
    def __init__(self, alpha: float = DEFAULT_ALPHA) -> None:
        if not 0.0 < alpha <= 1.0:
            raise ValueError(f"alpha must lie in (0, 1], got {alpha}")
        self.alpha = alpha
        self._state: dict[int, np.ndarray] = {}

    def update(self, track_id: int, probs: np.ndarray) -> np.ndarray:
        """Smoothed probabilities of ``track_id`` after this frame's ``probs`` (the first frame passes through)."""
        prev = self._state.get(track_id)
        cur = np.asarray(probs, np.float32) if prev is None else prev + self.alpha * (probs - prev)
        self._state[track_id] = cur
        return cur

    def prune(self, active_ids: Iterable[int]) -> None:
        """Forget tracks that ended, so a long run holds only the faces in view."""
        keep = set(active_ids)
        for tid in [t for t in self._state if t not in keep]:
            del self._state[tid]

    def __len__(self) -> int:
        return len(self._state)

    def reset(self) -> None:
        self._state.clear()
