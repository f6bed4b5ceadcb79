"""One resolver for every place frames come from: ``"0"`` -> camera 0, an image or video file, a folder,
a glob, an rtsp/http(s) stream. Every loader yields the same ``Frame``.

Colour contract: ``Frame.image`` is always BGR uint8 (H, W, 3), as OpenCV decodes it; grayscale and
images with alpha are converted to BGR here, so everything downstream sees one layout.
"""

from __future__ import annotations

import contextlib
import glob as globlib
import logging
from collections.abc import Generator, Iterator
from dataclasses import dataclass
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING

import cv2
import numpy as np

from fer_edge.errors import FerEdgeError
from fer_edge.runtime.frame import Frame

if TYPE_CHECKING:
    from fer_edge.runtime.live_source import Captured, LatestFrameReader, SourceHealth

log = logging.getLogger("fer_edge")

IMAGE_EXTS = frozenset({".jpg", ".jpeg", ".png", ".bmp", ".webp", ".tif", ".tiff", ".pgm", ".ppm", ".pbm"})
VIDEO_EXTS = frozenset({".mp4", ".avi", ".mov", ".mkv", ".webm", ".m4v", ".mpg", ".mpeg", ".wmv", ".flv"})
STREAM_PREFIXES = ("rtsp://", "rtmp://", "http://", "https://", "udp://", "tcp://")
MAX_CAMERA_MISSES = 30  # consecutive failed reads after which a live camera is reopened
STILL_FPS = 30.0  # the rate at which --realtime delivers a still image (a camera looking at a photo)
DEFAULT_VIDEO_FPS = 30.0  # pacing for a video that does not say its frame rate
IDLE_POLL_S = 0.2  # how often an iteration waiting for a live frame checks for interrupt()


class SourceKind(Enum):
    CAMERA = "camera"
    IMAGE = "image"
    VIDEO = "video"
    FOLDER = "folder"
    GLOB = "glob"
    STREAM = "stream"


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
    ``FerEdgeError``.

    Live sources (camera, stream) are read in their own thread into a one-frame latest buffer
    (``LatestFrameReader``): iteration yields the newest frame, frames the consumer was too slow for
    are dropped and counted, and a source that stalls for ``stall_timeout`` seconds or ends is reopened
    with backoff (``backoff_base`` * 1, 2, 4 ... s, capped at 30) up to ``max_reconnects`` attempts in
    a row (None: forever). Iteration then ends only when the source is gone for good:
    ``health().gone`` is True and ``health().reason`` says why, so the caller can exit non-zero. Frame
    indexes keep increasing across reconnects; timestamps are seconds since iteration started.

    Files: ``realtime=True`` delivers videos at their own frame rate through the same reader (so a slow
    consumer drops frames, as with a camera); ``loop=True`` starts again at the end. With either, frame
    indexes and timestamps run on over the whole source (and every pass) instead of per file. With
    neither (the default) files are read synchronously, every frame, as fast as the consumer asks."""

    def __init__(
        self,
        spec: str | int | Path,
        camera: CameraSettings | None = None,
        *,
        realtime: bool = False,
        loop: bool = False,
        stall_timeout: float = 5.0,
        max_reconnects: int | None = None,
        backoff_base: float = 1.0,
    ) -> None:
        if not stall_timeout > 0:
            raise FerEdgeError(f"stall timeout {stall_timeout}: give a number of seconds above 0, e.g. 5")
        if max_reconnects is not None and max_reconnects < 0:
            raise FerEdgeError(f"max reconnects {max_reconnects}: give 0 or more (or leave it unset for forever)")
        self.spec = spec
        self.kind = classify_source(spec)
        self.camera = camera or CameraSettings()
        self.realtime = realtime
        self.loop = loop
        self.stall_timeout = float(stall_timeout)
        self.max_reconnects = max_reconnects
        self.backoff_base = float(backoff_base)
        self.failures: list[Failure] = []
        self.fps: float | None = None  # of the last video, stream or camera opened
        self._cap: cv2.VideoCapture | None = None
        self._reader: LatestFrameReader | None = None
        self._sync_frames = 0
        self._sync_done = False
        self._sync_iter: Generator[Frame, None, None] | None = None
        self._sync_closed = False
        self._interrupted = False
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

    def __iter__(self) -> Generator[Frame, None, None]:
        if self.is_live:
            yield from self._threaded(live=True)
        elif self.realtime:
            yield from self._threaded(live=False)
        elif self.loop:
            yield from self._looped()
        else:
            for frame in self._once():
                self._sync_frames += 1
                yield frame
            self._sync_done = True

    def _once(self) -> Iterator[Frame]:
        for path in self._files:
            if path.suffix.lower() in VIDEO_EXTS:
                for index, (video_frame, ts) in enumerate(self._video_frames(path)):
                    yield Frame(video_frame, index, ts, str(path))
            else:
                still = read_image(path)
                if still is None:
                    self._fail(path, "cannot be read as an image (corrupt or unsupported); skipped")
                    continue
                yield Frame(still, 0, 0.0, str(path))

    def _looped(self) -> Iterator[Frame]:
        clock = 0.0
        while True:
            delivered = 0
            for item in self._file_items():
                yield Frame(item.image, self._sync_frames, clock, item.source)
                self._sync_frames += 1
                clock += item.duration_s or 0.0
                delivered += 1
            if delivered == 0:
                break  # nothing decodes: looping would spin forever
        self._sync_done = True

    def _file_items(self) -> Iterator[Captured]:
        """One pass over the files as ``Captured`` items with each frame's duration (for pacing)."""
        from fer_edge.runtime.live_source import Captured

        for path in self._files:
            if path.suffix.lower() in VIDEO_EXTS:
                for video_frame, _ts in self._video_frames(path):
                    yield Captured(video_frame, str(path), 1.0 / (self.fps or DEFAULT_VIDEO_FPS))
            else:
                still = read_image(path)
                if still is None:
                    self._fail(path, "cannot be read as an image (corrupt or unsupported); skipped")
                    continue
                yield Captured(still, str(path), 1.0 / STILL_FPS)

    def _threaded(self, live: bool) -> Iterator[Frame]:
        reader = self._start_reader(live)
        try:
            # Wait in short slices, not forever: a live source may be reconnecting for minutes, and a
            # stop request (interrupt(), e.g. from a SIGTERM handler that only sets a flag) must end the
            # iteration without a frame arriving first.
            while not self._interrupted:
                frame = reader.read(timeout=IDLE_POLL_S)
                if frame is not None:
                    yield frame
                elif reader.finished:
                    return
        finally:
            reader.close()

    def interrupt(self) -> None:
        """End a running iteration of a live or ``realtime`` source within ~0.2 s, even while it waits
        for a reconnect. Only sets a flag, so it is safe from a signal handler or another thread."""
        self._interrupted = True

    def _start_reader(self, live: bool) -> LatestFrameReader:
        from fer_edge.runtime.live_source import LatestFrameReader

        self.close()
        self._interrupted = False
        if live:
            initial = self._capture_items(self._open_live())  # a source that never opens fails here, as before
            connect = lambda: self._capture_items(self._open_live())  # noqa: E731
        else:
            initial, connect = None, self._file_items
        reader = LatestFrameReader(
            connect,
            self.name,
            live=live,
            loop=self.loop,
            stall_timeout=self.stall_timeout,
            max_reconnects=self.max_reconnects,
            backoff_base=self.backoff_base,
            initial=initial,
        )
        self._reader = reader
        return reader.start()

    def read(self, timeout: float | None = None) -> Frame | None:
        """The next frame (for a live or ``realtime`` source: the newest one), or None when the source
        has finished or, for those, when ``timeout`` seconds pass first (then ``finished`` is False).
        An alternative to iterating for a loop that must wake up now and then (a watchdog ping, a
        stop check) while a camera reconnects. Use one style per ``Source``: reading or iterating."""
        if self.is_live or self.realtime:
            if self._reader is None:
                self._start_reader(live=self.is_live)
            assert self._reader is not None
            return self._reader.read(timeout)
        if self._sync_iter is None:
            self._sync_closed = False
            self._sync_iter = iter(self)
        return next(self._sync_iter, None)

    @property
    def finished(self) -> bool:
        """The source delivers no more frames (ended, gone for good, or closed)."""
        return self.health().state in ("ended", "gone", "closed")

    def health(self) -> SourceHealth:
        """Counters of the source (frames, dropped frames, stalls, reconnects, state), from any thread."""
        from fer_edge.runtime.live_source import SourceHealth

        if self._reader is not None:
            return self._reader.health()
        n = self._sync_frames
        state = "ended" if self._sync_done else "closed" if self._sync_closed else "streaming" if n else "starting"
        return SourceHealth(
            frames=n, taken=n, state=state, reason=f"{self.name}: end of input" if self._sync_done else None
        )

    def _fail(self, path: Path | str, reason: str) -> None:
        if any(f.source == str(path) for f in self.failures):
            return  # a looped source comes back to the same bad file
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
        # FFmpeg's network reads can block for long; bound the open and every read so that a stalled
        # stream's abandoned reader thread returns (and releases its socket) soon after the watchdog fires.
        timeout_ms = int((self.stall_timeout + 1.0) * 1000)
        params = [cv2.CAP_PROP_OPEN_TIMEOUT_MSEC, timeout_ms, cv2.CAP_PROP_READ_TIMEOUT_MSEC, timeout_ms]
        backend = cv2.CAP_FFMPEG if cv2.videoio_registry.hasBackend(cv2.CAP_FFMPEG) else cv2.CAP_ANY
        with _quiet_opencv():
            cap = cv2.VideoCapture(target, backend, params)
        if not cap.isOpened():
            cap.release()
            raise FerEdgeError(f"{target}: could not open the stream; check the URL and that it is reachable")
        self.fps = cap.get(cv2.CAP_PROP_FPS) or None
        return cap

    def _open_live(self) -> cv2.VideoCapture:
        return self._open_camera() if self.kind is SourceKind.CAMERA else self._open_capture(str(self.spec))

    def _capture_items(self, cap: cv2.VideoCapture) -> Iterator[Captured]:
        """Images from an open camera or stream until it fails; runs (and releases ``cap``) in the
        reader's worker thread. A camera may miss a few reads in a row; a stream read that fails has ended."""
        from fer_edge.runtime.live_source import Captured

        misses = 0
        limit = MAX_CAMERA_MISSES if self.kind is SourceKind.CAMERA else 1
        try:
            while True:
                ok, img = cap.read()
                if not ok or img is None:
                    misses += 1
                    if misses >= limit:
                        return
                    continue
                misses = 0
                yield Captured(to_bgr(img), self.name)
        finally:
            cap.release()

    def _video_frames(self, path: Path) -> Iterator[tuple[np.ndarray, float]]:
        """(image, time in the video) for every frame of ``path``; a video that does not open or
        decode is recorded in ``failures`` (once, however often a loop comes back to it)."""
        with _quiet_opencv():
            cap = cv2.VideoCapture(str(path))
        if not cap.isOpened():
            cap.release()
            self._fail(path, "cannot be opened as a video (corrupt or unsupported codec); skipped")
            return
        if self._reader is None:
            self._cap = cap  # close() may release it; never while a reader thread reads it
        fps = cap.get(cv2.CAP_PROP_FPS)
        self.fps = fps if fps and fps > 0 else None
        index = 0
        try:
            while True:
                ok, img = cap.read()
                if not ok or img is None:
                    break
                ts = index / self.fps if self.fps else cap.get(cv2.CAP_PROP_POS_MSEC) / 1000.0
                yield to_bgr(img), float(ts)
                index += 1
        finally:
            cap.release()
            if self._cap is cap:
                self._cap = None
        if index == 0:
            self._fail(path, "no frame could be decoded (corrupt or unsupported codec); skipped")

    def close(self) -> None:
        if self._reader is not None:
            self._reader.close()
        if self._sync_iter is not None:
            self._sync_iter.close()
            self._sync_iter = None
        self._sync_closed = True
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
