"""A real MJPEG-over-HTTP camera for tests and soaks (standard library + OpenCV's JPEG encoder only).

It serves a list of BGR images, looping, at ``fps`` as ``multipart/x-mixed-replace`` on 127.0.0.1, the
way cheap IP cameras and ``mjpg-streamer`` do; OpenCV's FFmpeg backend reads it with
``cv2.VideoCapture(server.url)``. Controls for fault injection: ``stop()`` closes the listening socket
and every live connection (the camera sees its stream end), ``start()`` binds the SAME port again, and
``stall(seconds)`` / ``stalled = True`` keep connections open while sending nothing.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Sequence
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import cv2
import numpy as np

BOUNDARY = "ferEdgeFrame"
STREAM_PATH = "/stream.mjpg"


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True  # start() after stop() rebinds the same port despite TIME_WAIT
    owner: MjpegServer


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - the base class's name
        pass  # tests and soaks stay quiet

    def do_GET(self) -> None:  # noqa: N802 - http.server's naming
        if self.path.split("?", 1)[0] != STREAM_PATH:
            self.send_error(404, "only " + STREAM_PATH)
            return
        self.server.owner._serve(self)


class MjpegServer:
    """Serves ``frames`` (BGR uint8 images, looping) at ``fps`` on ``http://127.0.0.1:PORT/stream.mjpg``.

    ``port=0`` takes a free port on the first ``start()`` and keeps it for later ones. Usable as a
    context manager (starts on enter, stops on exit). Counters: ``connections`` (stream requests
    accepted) and ``frames_sent`` (over all connections)."""

    def __init__(
        self, frames: Sequence[np.ndarray], fps: float = 20.0, port: int = 0, host: str = "127.0.0.1", quality: int = 85
    ) -> None:
        if not frames:
            raise ValueError("MjpegServer needs at least one frame")
        self._jpegs: list[bytes] = []
        for image in frames:
            ok, buf = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, quality])
            if not ok:
                raise ValueError("a frame could not be JPEG-encoded")
            self._jpegs.append(buf.tobytes())
        self.fps = float(fps)
        self.host = host
        self.port = port
        self.connections = 0
        self.frames_sent = 0
        self._lock = threading.Lock()
        self._live: set[socket.socket] = set()
        self._httpd: _Server | None = None
        self._thread: threading.Thread | None = None
        self._running = threading.Event()
        self._stalled_until = 0.0
        self._stalled_flag = False

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}{STREAM_PATH}"

    @property
    def running(self) -> bool:
        return self._running.is_set()

    @property
    def stalled(self) -> bool:
        return self._stalled_flag or time.monotonic() < self._stalled_until

    @stalled.setter
    def stalled(self, value: bool) -> None:
        self._stalled_flag = bool(value)
        if not value:
            self._stalled_until = 0.0

    def stall(self, seconds: float) -> None:
        """Send nothing on any connection for ``seconds`` (connections stay open)."""
        self._stalled_until = time.monotonic() + seconds

    def start(self) -> MjpegServer:
        if self._httpd is not None:
            return self
        httpd = _Server((self.host, self.port), _Handler)
        httpd.owner = self
        self.port = httpd.server_address[1]
        self._httpd = httpd
        self._running.set()
        self._thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        """Close the listening socket and every live connection; ``start()`` serves again on the same port."""
        httpd, self._httpd = self._httpd, None
        if httpd is None:
            return
        self._running.clear()
        httpd.shutdown()
        httpd.server_close()
        with self._lock:
            live = list(self._live)
            self._live.clear()
        for conn in live:
            try:
                conn.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        if self._thread is not None:
            self._thread.join(timeout=2.0)
            self._thread = None

    def __enter__(self) -> MjpegServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _serve(self, handler: _Handler) -> None:
        conn = handler.connection
        with self._lock:
            if not self._running.is_set():
                return
            self._live.add(conn)
            self.connections += 1
        try:
            handler.send_response(200)
            handler.send_header("Content-Type", f"multipart/x-mixed-replace; boundary={BOUNDARY}")
            handler.send_header("Cache-Control", "no-cache, private")
            handler.send_header("Pragma", "no-cache")
            handler.send_header("Connection", "close")
            handler.end_headers()
            period = 1.0 / self.fps if self.fps > 0 else 0.0
            next_at = time.monotonic()
            i = 0
            while self._running.is_set():
                if self.stalled:
                    time.sleep(0.02)
                    next_at = time.monotonic()
                    continue
                jpeg = self._jpegs[i % len(self._jpegs)]
                part = (
                    f"--{BOUNDARY}\r\nContent-Type: image/jpeg\r\nContent-Length: {len(jpeg)}\r\n\r\n".encode()
                    + jpeg
                    + b"\r\n"
                )
                handler.wfile.write(part)
                handler.wfile.flush()
                with self._lock:
                    self.frames_sent += 1
                i += 1
                next_at += period
                delay = next_at - time.monotonic()
                if delay > 0:
                    time.sleep(delay)
                else:
                    next_at = time.monotonic()
        except OSError:
            pass  # the client went away, or stop() shut the socket
        finally:
            with self._lock:
                self._live.discard(conn)
            handler.close_connection = True


def numbered_frames(count: int, size: tuple[int, int] = (96, 128)) -> list[np.ndarray]:
    """``count`` distinct BGR frames (grey level steps with a frame number drawn on) for a test stream."""
    h, w = size
    frames = []
    for i in range(count):
        img = np.full((h, w, 3), (40 + 20 * i) % 256, np.uint8)
        cv2.putText(img, str(i), (8, h - 12), cv2.FONT_HERSHEY_SIMPLEX, 1.0, (255, 255, 255), 2)
        frames.append(img)
    return frames


__all__ = ["BOUNDARY", "STREAM_PATH", "MjpegServer", "numbered_frames"]
