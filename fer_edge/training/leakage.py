"""Exact-copy leakage between splits: test images whose pixels also occur in the training split.

A plain SHA-1 of each image's bytes (no near-duplicate matching), so the count is the floor of
what a model may have memorised. NumPy + hashlib only.
"""

from __future__ import annotations

import hashlib

import numpy as np


def image_hashes(images: np.ndarray) -> np.ndarray:
    """SHA-1 hex digest of each image's bytes (uint8, any shape per image); object array (N,)."""
    images = np.ascontiguousarray(images)
    flat = images.reshape(len(images), -1)
    return np.array([hashlib.sha1(row.tobytes()).hexdigest() for row in flat], dtype=object)


def copies_in(query_hashes: np.ndarray, reference_hashes: np.ndarray) -> np.ndarray:
    """Boolean mask over ``query_hashes``: True where the same image occurs in ``reference_hashes``."""
    return np.isin(np.asarray(query_hashes, dtype=object), np.asarray(reference_hashes, dtype=object))
