"""A simple IoU tracker: each face keeps one track id across frames while its box keeps overlapping.

Greedy matching by descending IoU is enough for the few faces a camera sees; a track that goes
unmatched for more than ``max_misses`` detector runs is dropped; ids are not reused until ``reset``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from fer_edge.runtime.detector import Detection


@dataclass(frozen=True)
class Tracked:
    """A detection with the id of the track it belongs to."""

    track_id: int
    detection: Detection


@dataclass
class _Track:
    track_id: int
    detection: Detection
    misses: int = 0


def iou_matrix(a: list[Detection], b: list[Detection]) -> np.ndarray:
    """IoU of every box in ``a`` against every box in ``b`` (len(a), len(b))."""
    if not a or not b:
        return np.zeros((len(a), len(b)), np.float32)
    ba = np.array([d.bbox.as_tuple() for d in a], np.float32)
    bb = np.array([d.bbox.as_tuple() for d in b], np.float32)
    iw = np.minimum(ba[:, None, 2], bb[None, :, 2]) - np.maximum(ba[:, None, 0], bb[None, :, 0])
    ih = np.minimum(ba[:, None, 3], bb[None, :, 3]) - np.maximum(ba[:, None, 1], bb[None, :, 1])
    inter = np.clip(iw, 0, None) * np.clip(ih, 0, None)
    area_a = (ba[:, 2] - ba[:, 0]) * (ba[:, 3] - ba[:, 1])
    area_b = (bb[:, 2] - bb[:, 0]) * (bb[:, 3] - bb[:, 1])
    union = area_a[:, None] + area_b[None, :] - inter
    return np.where(union > 0, inter / np.maximum(union, 1e-9), 0.0).astype(np.float32)


class IoUTracker:
    def __init__(self, iou_threshold: float = 0.3, max_misses: int = 3) -> None:
        self.iou_threshold = iou_threshold
        self.max_misses = max_misses
        self._tracks: list[_Track] = []
        self._next_id = 1

    def update(self, detections: list[Detection]) -> list[Tracked]:
        """Assign this frame's detections to tracks (new ids for new faces); returns them in input order."""
        ious = iou_matrix([t.detection for t in self._tracks], detections)
        track_of: dict[int, _Track] = {}
        used: set[int] = set()
        if ious.size:
            for flat in np.argsort(-ious, axis=None, kind="stable"):
                ti, di = divmod(int(flat), len(detections))
                if ious[ti, di] <= self.iou_threshold:
                    break
                if ti in used or di in track_of:
                    continue
                used.add(ti)
                track_of[di] = self._tracks[ti]
        for ti, old in enumerate(self._tracks):
            if ti not in used:
                old.misses += 1
        self._tracks = [t for t in self._tracks if t.misses <= self.max_misses]
        out = []
        for di, det in enumerate(detections):
            track = track_of.get(di)
            if track is None:
                track = _Track(self._next_id, det)
                self._next_id += 1
                self._tracks.append(track)
            track.detection, track.misses = det, 0
            out.append(Tracked(track.track_id, det))
        return out

    def current(self) -> list[Tracked]:
        """The faces seen at the last detector run, with their last boxes: what frames between detector
        runs (``--detect-every N``) carry forward."""
        return [Tracked(t.track_id, t.detection) for t in self._tracks if t.misses == 0]

    @property
    def active_ids(self) -> set[int]:
        return {t.track_id for t in self._tracks}

    def reset(self) -> None:
        """Forget all tracks and start ids at 1 again (a new file starts)."""
        self._tracks.clear()
        self._next_id = 1
