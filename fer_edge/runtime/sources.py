"""One resolver for every place frames come from: ``"0"`` -> camera 0, an image or video file, a folder,
a glob, an rtsp/http(s) stream. Every loader yields the same ``Frame``.

Colour contract: ``Frame.image`` is always BGR uint8 (H, W, 3), as OpenCV decodes it; grayscale and
images with alpha are converted to BGR here, so everything downstream sees one layout.
"""

from __future__ import annotations

import contextlib
import glob as globlib
import logging
import time
from collections.abc import Iterator
from dataclasses import dataclass
from enum import Enum
from pathlib import Path

import cv2
import numpy as np

from fer_edge.errors import FerEdgeError

log = logging.getLogger("fer_edge")

IMAGE_EXTS = frozenset({".jpg", ".jpeg", ".png", ".bmp", ".webp", ".tif", ".tiff", ".pgm", ".ppm", ".pbm"})
VIDEO_EXTS = frozenset({".mp4", ".avi", ".mov", ".mkv", ".webm", ".m4v", ".mpg", ".mpeg", ".wmv", ".flv"})
STREAM_PREFIXES = ("rtsp://", "rtmp://", "http://", "https://", "udp://", "tcp://")
MAX_CAMERA_MISSES = 30  # consecutive failed reads after which a live camera counts as gone


class SourceKind(Enum):
    CAMERA = "camera"
    IMAGE = "image"
    VIDEO = "video"
    FOLDER = "folder"
    GLOB = "glob"
    STREAM = "stream"


@dataclass(frozen=True, eq=False)
class Frame:
    """One BGR frame; ``index`` counts frames within its file or stream, ``timestamp_s`` is its time
    in the video (or since the camera opened; 0.0 for still images), ``source`` names the file or device."""

    image: np.ndarray
    index: int
    timestamp_s: float
    source: str


@dataclass(frozen=True)
class Failure:
    source: str
    reason: str


@dataclass(frozen=True)
class CameraSettings:
    """Requested capture size and rate (the driver may give something else); None keeps its default."""

    width: int | None = None
    height: int | None = None
    fps: int | None = None


def _is_glob(text: str) -> bool:
    return any(c in text for c in "*?[")


def classify_source(spec: str | int | Path) -> SourceKind:
    """Which loader ``spec`` needs; a path that does not exist names itself."""
    if isinstance(spec, int) or (isinstance(spec, str) and spec.strip().isdigit()):
        return SourceKind.CAMERA
    text = str(spec)
    if text.lower().startswith(STREAM_PREFIXES):
        return SourceKind.STREAM
    path = Path(text)
    if path.is_dir():
        return SourceKind.FOLDER
    if path.is_file():
        ext = path.suffix.lower()
        if ext in VIDEO_EXTS:
            return SourceKind.VIDEO
        if ext in IMAGE_EXTS:
            return SourceKind.IMAGE
        raise FerEdgeError(
            f"{path}: unsupported file type {ext or '(none)'}; give an image "
            f"({', '.join(sorted(IMAGE_EXTS))}) or a video ({', '.join(sorted(VIDEO_EXTS))})"
        )
    if _is_glob(text):
        return SourceKind.GLOB
    if text.startswith("/dev/video"):
        return SourceKind.CAMERA
    raise FerEdgeError(f"{text}: no such file or folder")


@contextlib.contextmanager
def _quiet_opencv() -> Iterator[None]:
    """Hide OpenCV's own warnings while opening captures: a failure is reported once, as our error."""
    logging_api = getattr(getattr(cv2, "utils", None), "logging", None)
    if logging_api is None:
        yield
        return
    previous = logging_api.getLogLevel()
    logging_api.setLogLevel(logging_api.LOG_LEVEL_ERROR)
    try:
        yield
    finally:
        logging_api.setLogLevel(previous)


def read_image(path: Path) -> np.ndarray | None:
    """A still image as BGR uint8, or None when it cannot be decoded."""
    data = np.fromfile(str(path), dtype=np.uint8)  # np.fromfile + imdecode also handles non-ASCII paths
    if data.size == 0:
        return None
    img = cv2.imdecode(data, cv2.IMREAD_UNCHANGED)
    if img is None:
        return None
    if img.dtype != np.uint8:
        img = cv2.convertScaleAbs(img, alpha=255.0 / max(1.0, float(img.max())))
    if img.ndim == 2:
        return cv2.cvtColor(img, cv2.COLOR_GRAY2BGR)
    if img.shape[2] == 4:
        return cv2.cvtColor(img, cv2.COLOR_BGRA2BGR)
    return img


class Source:
    """An iterable of ``Frame``s from one ``spec``. A file that does not decode (given directly or found
    in a folder) is logged as a warning and recorded in ``failures``, not raised, so one bad file does
    not stop the rest; a path that does not exist, or a camera or stream that does not open, raises
    ``FerEdgeError``."""

    def __init__(self, spec: str | int | Path, camera: CameraSettings | None = None) -> None:
        self.spec = spec
        self.kind = classify_source(spec)
        self.camera = camera or CameraSettings()
        self.failures: list[Failure] = []
        self.fps: float | None = None  # of the last video, stream or camera opened
        self._cap: cv2.VideoCapture | None = None
        self._files = self._expand()

    @property
    def name(self) -> str:
        return f"camera {self.spec}" if self.kind is SourceKind.CAMERA else str(self.spec)

    @property
    def files(self) -> list[Path]:
        """The image and video files of a file, folder or glob source (empty for cameras and streams)."""
        return list(self._files)

    @property
    def is_live(self) -> bool:
        return self.kind in (SourceKind.CAMERA, SourceKind.STREAM)

    def _expand(self) -> list[Path]:
        if self.kind is SourceKind.FOLDER:
            files = sorted(p for p in Path(str(self.spec)).iterdir() if p.suffix.lower() in IMAGE_EXTS | VIDEO_EXTS)
        elif self.kind is SourceKind.GLOB:
            files = sorted(
                Path(p)
                for p in globlib.glob(str(self.spec), recursive=True)
                if Path(p).suffix.lower() in IMAGE_EXTS | VIDEO_EXTS
            )
        elif self.kind in (SourceKind.IMAGE, SourceKind.VIDEO):
            files = [Path(str(self.spec))]
        else:
            return []
        if not files:
            raise FerEdgeError(f"{self.spec}: no images or videos found there")
        return files

    def __iter__(self) -> Iterator[Frame]:
        if self.kind is SourceKind.CAMERA:
            yield from self._live(self._open_camera(), self.name, live_camera=True)
        elif self.kind is SourceKind.STREAM:
            yield from self._live(self._open_capture(str(self.spec)), str(self.spec), live_camera=False)
        else:
            for path in self._files:
                if path.suffix.lower() in VIDEO_EXTS:
                    yield from self._video(path)
                else:
                    img = read_image(path)
                    if img is None:
                        self._fail(path, "cannot be read as an image (corrupt or unsupported); skipped")
                        continue
                    yield Frame(img, 0, 0.0, str(path))

    def _fail(self, path: Path | str, reason: str) -> None:
        log.warning("%s: %s", path, reason)
        self.failures.append(Failure(str(path), reason))

    def _open_camera(self) -> cv2.VideoCapture:
        index: int | str = int(str(self.spec)) if str(self.spec).strip().isdigit() else str(self.spec)
        with _quiet_opencv():
            cap = cv2.VideoCapture(index)
        if not cap.isOpened():
            cap.release()
            raise FerEdgeError(
                f"camera {index} did not open; check that it is plugged in and free (ls /dev/video*, "
                "and that your user is in the 'video' group), or pass --source PATH to a video file"
            )
        s = self.camera
        if s.width:
            cap.set(cv2.CAP_PROP_FRAME_WIDTH, s.width)
        if s.height:
            cap.set(cv2.CAP_PROP_FRAME_HEIGHT, s.height)
        if s.fps:
            cap.set(cv2.CAP_PROP_FPS, s.fps)
        self.fps = cap.get(cv2.CAP_PROP_FPS) or None
        return cap

    def _open_capture(self, target: str) -> cv2.VideoCapture:
        with _quiet_opencv():
            cap = cv2.VideoCapture(target)
        if not cap.isOpened():
            cap.release()
            raise FerEdgeError(f"{target}: could not open the stream; check the URL and that it is reachable")
        self.fps = cap.get(cv2.CAP_PROP_FPS) or None
        return cap

    def _live(self, cap: cv2.VideoCapture, name: str, live_camera: bool) -> Iterator[Frame]:
        self._cap = cap
        start = time.monotonic()
        index = misses = 0
        try:
            while True:
                ok, img = cap.read()
                if not ok or img is None:
                    misses += 1
                    if not live_camera or misses >= MAX_CAMERA_MISSES:
                        return  # stream ended, or the camera stopped delivering
                    continue
                misses = 0
                yield Frame(to_bgr(img), index, time.monotonic() - start, name)
                index += 1
        finally:
            cap.release()
            self._cap = None

    def _video(self, path: Path) -> Iterator[Frame]:
        with _quiet_opencv():
            cap = cv2.VideoCapture(str(path))
        if not cap.isOpened():
            cap.release()
            self._fail(path, "cannot be opened as a video (corrupt or unsupported codec); skipped")
            return
        self._cap = cap
        fps = cap.get(cv2.CAP_PROP_FPS)
        self.fps = fps if fps and fps > 0 else None
        index = 0
        try:
            while True:
                ok, img = cap.read()
                if not ok or img is None:
                    break
                ts = index / self.fps if self.fps else cap.get(cv2.CAP_PROP_POS_MSEC) / 1000.0
                yield Frame(to_bgr(img), index, float(ts), str(path))
                index += 1
        finally:
            cap.release()
            self._cap = None
        if index == 0:
            self._fail(path, "no frame could be decoded (corrupt or unsupported codec); skipped")

    def close(self) -> None:
        if self._cap is not None:
            self._cap.release()
            self._cap = None


def to_bgr(img: np.ndarray) -> np.ndarray:
    """Gray (H, W) or BGRA (H, W, 4) as BGR; BGR as it is."""
    if img.ndim == 2:
        return cv2.cvtColor(img, cv2.COLOR_GRAY2BGR)
    if img.shape[2] == 4:
        return cv2.cvtColor(img, cv2.COLOR_BGRA2BGR)
    return img


__all__ = ["CameraSettings", "Failure", "Frame", "Source", "SourceKind", "classify_source", "read_image", "to_bgr"]
