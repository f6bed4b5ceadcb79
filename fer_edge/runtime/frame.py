"""``Frame``: one BGR image from a source, with where and when it came from (shared by the sources and the
threaded live reader, so neither imports the other's module for it)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True, eq=False)
class Frame:
    """One BGR frame; ``index`` counts frames within its file or stream, ``timestamp_s`` is its time
    in the video (or since the camera opened; 0.0 for still images), ``source`` names the file or device."""

    image: np.ndarray
    index: int
    timestamp_s: float
    source: str
