"""The one video writer: frames to a .mp4 (mp4v) or .avi (MJPG) file, written under a partial name
through ``fer_edge.atomic`` and renamed when complete, so a killed run never leaves half a video."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import cv2
import numpy as np

from fer_edge.atomic import PendingPath, check_destination, check_writable
from fer_edge.errors import FerEdgeError

VIDEO_SUFFIXES = (".mp4", ".avi")


def _fourcc(path: Path) -> int:
    code: int = cv2.VideoWriter.fourcc(*("MJPG" if path.suffix.lower() == ".avi" else "mp4v"))
    return code


class VideoSink:
    """Frames to a video file, opened at the first frame (its size fixes the video's; later frames of
    another size are resized), written to a hidden partial file and renamed on ``close``."""

    def __init__(self, path: Path, fps: float | None, force: bool = False) -> None:
        self.path = Path(path)
        if self.path.suffix.lower() not in VIDEO_SUFFIXES:
            raise FerEdgeError(f"{self.path}: record to a .mp4 or .avi file")
        check_destination(self.path, force)
        self.force = force
        self.fps = fps if fps and 0 < fps <= 240 else 30.0
        self._pending: PendingPath | None = None
        self._writer: cv2.VideoWriter | None = None
        self._size: tuple[int, int] | None = None
        self.frames = 0

    def write(self, frame_bgr: np.ndarray) -> None:
        h, w = frame_bgr.shape[:2]
        if self._writer is None:
            # the container is chosen from the extension, so the partial name keeps it
            self._pending = PendingPath(self.path, force=self.force, keep_suffix=True)
            self._writer = cv2.VideoWriter(str(self._pending.tmp), _fourcc(self.path), self.fps, (w, h))
            if not self._writer.isOpened():
                self.abort()
                check_writable(self.path)  # a folder that refuses files is said as such, not blamed on the codec
                raise FerEdgeError(f"{self.path}: OpenCV cannot encode this video format here; try a .avi path")
            self._size = (w, h)
        if (w, h) != self._size:
            frame_bgr = cv2.resize(frame_bgr, self._size)
        self._writer.write(frame_bgr)
        self.frames += 1

    def close(self) -> None:
        if self._writer is None or self._pending is None:
            return
        self._writer.release()
        self._writer = None
        self._pending.commit()
        self._pending = None

    def abort(self) -> None:
        if self._writer is not None:
            self._writer.release()
            self._writer = None
        if self._pending is not None:
            self._pending.abort()
            self._pending = None

    def __enter__(self) -> VideoSink:
        return self

    def __exit__(self, exc_type: object, *exc: object) -> None:
        self.abort() if exc_type is not None else self.close()


def write_video(path: Path, frames: Iterable[np.ndarray], fps: float = 30.0, force: bool = True) -> Path:
    """Write ``frames`` to ``path`` (replacing it by default); returns ``path``."""
    with VideoSink(Path(path), fps, force=force) as sink:
        for frame in frames:
            sink.write(frame)
    return Path(path)
