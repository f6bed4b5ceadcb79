"""The live page: a small HTTP server for a headless camera (Python's own ``http.server``, no framework).

``LiveServer`` serves, from memory only (nothing from the file system):

- ``/``            one HTML page, every asset inline (``fer_edge/assets/live.html``; a Pi may be offline)
- ``/stream.mjpg`` the annotated frames as ``multipart/x-mixed-replace`` JPEGs, at most ``serve_fps`` per client
- ``/events``      server-sent events, one ``data: {json}`` line per face record, a keep-alive comment when idle
- ``/stats.json``  the ``snapshot()`` dict plus a ``server`` section (clients, dropped events, labels) and
  ``tracks`` (the latest record per recently seen track) when the snapshot has none
- ``/metrics``     Prometheus text exposition (``fer_edge_*``)

Anything else is 404; methods other than GET/HEAD are 405. With ``token`` set, every request must carry it
(``?token=`` or ``Authorization: Bearer``), else 401; the page passes its own ``?token=`` on to its
sub-requests. A request line over 8 KiB is refused with 414, headers over 8 KiB with 431.

The camera loop talks to it through three calls, none of which waits for a browser::

    server = LiveServer("127.0.0.1", 8080, snapshot=session.snapshot)
    server.start()                      # daemon thread; port=0 picks a free port (server.port, server.url)
    ...
    if server.wants_frame():            # a /stream.mjpg client is connected and 1/serve_fps has passed
        server.publish_frame(draw_result(frame.copy(), result))   # hand-off of a reference, no encoding
    server.publish_records(records)     # per-face dicts (fer_edge.runtime.sinks.face_records)
    ...
    server.close()                      # stops every handler within about a second

``LivePageSink(server)`` wraps the same calls as a ``CameraSession`` frame sink (``wants_image`` /
``on_frame`` / ``close``).

Threading contract: ``publish_frame`` keeps a reference to the array, so the caller must not draw on it
afterwards (publish a fresh image per frame). JPEG encoding happens in the stream handlers, once per new
frame however many clients watch. Each ``/events`` client has its own bounded queue: a client that reads
too slowly loses its oldest records, counted in ``events_dropped``. ``snapshot`` is called from handler
threads, so it must be safe to call while the loop runs (return a fresh dict of plain JSON types).
"""

from __future__ import annotations

import hmac
import http.server
import io
import ipaddress
import json
import logging
import math
import select
import socket
import threading
import time
from collections import deque
from collections.abc import Callable
from http import HTTPStatus
from importlib import resources
from typing import Any
from urllib.parse import parse_qs, urlsplit

import cv2
import numpy as np

from fer_edge.errors import FerEdgeError
from fer_edge.labels import EMOTIONS
from fer_edge.runtime.pipeline import FrameResult
from fer_edge.runtime.sinks import face_records
from fer_edge.runtime.sources import Frame

log = logging.getLogger("fer_edge")

MAX_REQUEST_LINE = 8192  #: bytes, the request line alone (414 beyond)
MAX_HEADERS = 8192  #: bytes, all header lines together (431 beyond)
BOUNDARY = "fer-edge-frame"
TICK_S = 0.25  #: how often a streaming handler looks at the shutdown flag
STATS_KEYS = ("frames", "faces", "dropped_frames", "stalls", "reconnects")


def is_loopback(host: str) -> bool:
    """True for ``localhost`` and loopback addresses; ``""``/``0.0.0.0``/any other name is not."""
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def exposure_warning(host: str, token: str | None) -> str | None:
    """The warning to print when the page can be reached from other machines, else None."""
    if is_loopback(host):
        return None
    where = "every network interface" if host in ("", "0.0.0.0", "::") else host
    guard = "requests must carry the token" if token else "anyone on the network can watch the camera (set a token)"
    return f"the live page is served on {where}, not only on this machine: {guard}; HTTP is not encrypted"


class _Pacer:
    """Lets events through at most ``rate`` per second on average, absorbing jitter of up to one period."""

    def __init__(self, rate: float) -> None:
        self.interval = 1.0 / rate if rate > 0 else 0.0
        self.due = 0.0

    def ready(self, now: float) -> bool:
        return now >= self.due

    def take(self, now: float) -> None:
        late = now - self.due
        self.due = self.due + self.interval if 0.0 <= late < self.interval else now + self.interval


class _EventClient:
    __slots__ = ("queue", "dropped")

    def __init__(self, size: int) -> None:
        self.queue: deque[bytes] = deque(maxlen=size)
        self.dropped = 0


class _HeadTooLarge(Exception):
    def __init__(self, status: HTTPStatus) -> None:
        super().__init__(status.phrase)
        self.status = status


def _clean(obj: Any) -> Any:
    """NaN and infinities become None so browsers' ``JSON.parse`` accepts the result."""
    if isinstance(obj, float):
        return obj if math.isfinite(obj) else None
    if isinstance(obj, dict):
        return {str(k): _clean(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_clean(v) for v in obj]
    if isinstance(obj, np.generic):
        return _clean(obj.item())
    return obj


def _dumps(obj: Any) -> str:
    try:
        return json.dumps(obj, allow_nan=False, separators=(",", ":"))
    except (ValueError, TypeError):
        return json.dumps(_clean(obj), allow_nan=False, separators=(",", ":"), default=str)


def _load_page() -> bytes:
    return resources.files("fer_edge").joinpath("assets", "live.html").read_bytes()


class LiveServer:
    """The live page's HTTP server; see the module docstring for endpoints and the threading contract."""

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 8080,
        *,
        token: str | None = None,
        serve_fps: float = 10.0,
        labels: tuple[str, ...] = EMOTIONS,
        snapshot: Callable[[], dict[str, Any]] | None = None,
        jpeg_quality: int = 80,
        event_buffer: int = 256,
        keepalive_s: float = 5.0,
        track_ttl_s: float = 5.0,
        client_timeout_s: float = 10.0,
        max_streams: int = 16,
    ) -> None:
        if serve_fps <= 0:
            raise ValueError(f"serve_fps must be positive, got {serve_fps}")
        self.host, self.port = host, port
        self.token = token or None
        self.serve_fps = float(serve_fps)
        self.labels = tuple(labels)
        self.snapshot = snapshot
        self.jpeg_quality = int(jpeg_quality)
        self.event_buffer = int(event_buffer)
        self.keepalive_s = float(keepalive_s)
        self.track_ttl_s = float(track_ttl_s)
        self.client_timeout_s = float(client_timeout_s)
        self.max_streams = int(max_streams)
        self._streaming = 0  # /stream.mjpg + /events connections, each holding a thread (at most max_streams)
        #: the warning printed at start when not bound to loopback (None on loopback)
        self.warning = exposure_warning(host, self.token)
        self._page = _load_page()
        self._closing = threading.Event()
        # latest frame: (sequence number, image); published under _frame_cond, encoded under _encode_lock
        self._frame_cond = threading.Condition()
        self._frame: tuple[int, np.ndarray] | None = None
        self._publish_pacer = _Pacer(self.serve_fps)
        self._encode_lock = threading.Lock()
        self._jpeg: tuple[int, bytes] | None = None
        self.frames_encoded = 0
        self._stream_clients = 0
        # events
        self._event_cond = threading.Condition()
        self._event_clients: list[_EventClient] = []
        self.events_published = 0
        self.events_dropped = 0
        self._tracks: dict[Any, tuple[float, dict[str, Any]]] = {}
        # connections, for a prompt close()
        self._conn_lock = threading.Lock()
        self._connections: set[socket.socket] = set()
        self._handler_threads: set[threading.Thread] = set()
        self._httpd: _HTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._started_at = time.monotonic()

    # -- life cycle ---------------------------------------------------------------------------------------
    @property
    def url(self) -> str:
        host = self.host if self.host not in ("", "0.0.0.0", "::") else "127.0.0.1"
        if ":" in host:
            host = f"[{host}]"
        return f"http://{host}:{self.port}/"

    def start(self) -> None:
        """Bind and serve in a daemon thread. An address that is taken or unknown is a FerEdgeError."""
        if self._httpd is not None:
            raise RuntimeError("LiveServer already started")
        family = socket.AF_INET6 if ":" in self.host else socket.AF_INET
        try:
            httpd = _HTTPServer((self.host, self.port), _Handler, live=self, family=family)
        except OSError as e:
            raise FerEdgeError(
                f"cannot serve the live page on {self.host}:{self.port}: {e.strerror or e}; "
                "choose another address or port (--serve HOST:PORT)"
            ) from None
        self._httpd = httpd
        self.port = httpd.server_address[1]
        self._started_at = time.monotonic()
        if self.warning:
            log.warning(self.warning)
        self._thread = threading.Thread(
            target=httpd.serve_forever, kwargs={"poll_interval": TICK_S}, name="fer-edge-live", daemon=True
        )
        self._thread.start()

    def close(self) -> None:
        """Stop serving: streaming handlers notice within ``TICK_S``, blocked sockets are shut down."""
        if self._closing.is_set():
            return
        self._closing.set()
        for cond in (self._frame_cond, self._event_cond):
            with cond:
                cond.notify_all()
        httpd = self._httpd
        if httpd is None:
            return
        httpd.shutdown()
        with self._conn_lock:
            conns, threads = list(self._connections), list(self._handler_threads)
        for conn in conns:
            try:
                conn.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        deadline = time.monotonic() + 2.0
        for t in threads:
            t.join(max(0.0, deadline - time.monotonic()))
        httpd.server_close()
        if self._thread is not None:
            self._thread.join(2.0)

    def __enter__(self) -> LiveServer:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- the loop's side ----------------------------------------------------------------------------------
    @property
    def stream_clients(self) -> int:
        return self._stream_clients

    @property
    def event_clients(self) -> int:
        return len(self._event_clients)

    @property
    def streams_open(self) -> int:
        """Long-lived connections (``/stream.mjpg`` and ``/events``) holding a slot of ``max_streams``."""
        return self._streaming

    def wants_frame(self) -> bool:
        """True only when someone watches ``/stream.mjpg`` and a frame is due at ``serve_fps``."""
        return self._stream_clients > 0 and self._publish_pacer.ready(time.monotonic())

    def publish_frame(self, image_bgr: np.ndarray) -> None:
        """Hand over the latest annotated BGR frame (a reference; do not draw on it afterwards)."""
        self._publish_pacer.take(time.monotonic())
        with self._frame_cond:
            seq = self._frame[0] + 1 if self._frame is not None else 0
            self._frame = (seq, image_bgr)
            self._frame_cond.notify_all()

    def publish_records(self, records: list[dict[str, Any]]) -> None:
        """Queue one frame's per-face records for every ``/events`` client and keep them as track state."""
        if not records:
            return
        now = time.monotonic()
        for rec in records:
            self._tracks[rec.get("track_id")] = (now, rec)
        if len(self._tracks) > 64 or any(now - t > self.track_ttl_s for t, _ in self._tracks.values()):
            self._tracks = {k: v for k, v in self._tracks.items() if now - v[0] <= self.track_ttl_s}
        self.events_published += len(records)
        if not self._event_clients:
            return
        lines = [f"data: {_dumps(rec)}\n\n".encode() for rec in records]
        with self._event_cond:
            for client in self._event_clients:
                q = client.queue
                for line in lines:
                    if len(q) == q.maxlen:
                        client.dropped += 1
                        self.events_dropped += 1
                    q.append(line)
            self._event_cond.notify_all()

    # -- the handlers' side -------------------------------------------------------------------------------
    def _latest_jpeg(self) -> tuple[int, bytes] | None:
        """The newest frame as JPEG, encoded once per frame whichever client asks first."""
        with self._frame_cond:
            frame = self._frame
        if frame is None:
            return None
        with self._encode_lock:
            if self._jpeg is None or self._jpeg[0] != frame[0]:
                ok, buf = cv2.imencode(".jpg", frame[1], [cv2.IMWRITE_JPEG_QUALITY, self.jpeg_quality])
                if not ok:
                    return self._jpeg
                self._jpeg = (frame[0], buf.tobytes())
                self.frames_encoded += 1
            return self._jpeg

    def _wait_frame(self, after: int) -> bool:
        """Wait (one tick at most) for a frame newer than ``after``; True when there is one."""
        with self._frame_cond:
            if self._frame is None or self._frame[0] == after:
                self._frame_cond.wait(TICK_S)
            return self._frame is not None and self._frame[0] != after

    def _server_state(self) -> dict[str, Any]:
        return {
            "stream_clients": self._stream_clients,
            "event_clients": len(self._event_clients),
            "events_published": self.events_published,
            "events_dropped": self.events_dropped,
            "frames_encoded": self.frames_encoded,
            "serve_fps": self.serve_fps,
            "labels": list(self.labels),
            "uptime_s": round(time.monotonic() - self._started_at, 3),
        }

    def _tracks_state(self) -> list[dict[str, Any]]:
        now = time.monotonic()
        live = [rec for t, rec in list(self._tracks.values()) if now - t <= self.track_ttl_s]
        return sorted(live, key=lambda r: str(r.get("track_id")))

    def stats(self) -> dict[str, Any]:
        """What ``/stats.json`` serves: the snapshot, ``tracks`` if it has none, and a ``server`` section."""
        snap = dict(self.snapshot()) if self.snapshot is not None else {}
        snap.setdefault("uptime_s", round(time.monotonic() - self._started_at, 3))
        snap.setdefault("tracks", self._tracks_state())
        snap["server"] = self._server_state()
        return snap

    def metrics(self) -> str:
        """Prometheus text exposition of ``stats()``."""
        return prometheus_text(self.stats())


class LivePageSink:
    """``LiveServer`` as a ``CameraSession`` frame sink: asks for the annotated image only when a frame is
    due for a watching browser, and passes every frame's face records on to ``/events``."""

    def __init__(self, server: LiveServer, labels: tuple[str, ...] | None = None) -> None:
        self.server = server
        self.labels = tuple(labels) if labels is not None else server.labels

    def wants_image(self) -> bool:
        return self.server.wants_frame()

    def on_frame(self, frame: Frame, result: FrameResult, annotated: np.ndarray | None) -> None:
        if annotated is not None:
            self.server.publish_frame(annotated)
        if result.faces:
            self.server.publish_records(face_records(frame, result, self.labels))

    def close(self) -> None:
        self.server.close()


def _num(v: Any) -> str:
    if v is None:
        return "NaN"
    f = float(v)
    if math.isnan(f):
        return "NaN"
    if math.isinf(f):
        return "+Inf" if f > 0 else "-Inf"
    return repr(int(f)) if f.is_integer() and abs(f) < 2**53 else repr(f)


def _label(v: Any) -> str:
    return str(v).replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def prometheus_text(stats: dict[str, Any]) -> str:
    """``fer_edge_*`` metrics from a stats dict (counters default to 0 when the snapshot lacks them)."""
    server = stats.get("server", {})
    out: list[str] = []

    def metric(name: str, kind: str, help_: str, value: Any) -> None:
        out.extend((f"# HELP {name} {help_}", f"# TYPE {name} {kind}", f"{name} {_num(value)}"))

    metric("fer_edge_frames_total", "counter", "Frames processed.", stats.get("frames", 0))
    metric("fer_edge_faces_total", "counter", "Faces classified.", stats.get("faces", 0))
    metric(
        "fer_edge_dropped_frames_total",
        "counter",
        "Frames the source delivered that were replaced by newer ones before processing.",
        stats.get("dropped_frames", 0),
    )
    metric(
        "fer_edge_stalls_total",
        "counter",
        "Times the source delivered nothing for the stall timeout.",
        stats.get("stalls", 0),
    )
    metric("fer_edge_reconnects_total", "counter", "Times the source was reopened.", stats.get("reconnects", 0))
    metric("fer_edge_uptime_seconds", "gauge", "Seconds since the session started.", stats.get("uptime_s"))
    if stats.get("fps") is not None:
        metric("fer_edge_fps", "gauge", "Frames per second processed.", stats.get("fps"))
    stages = stats.get("stages_ms") or {}
    name = "fer_edge_stage_latency_ms"
    out += [f"# HELP {name} Per-stage latency in milliseconds.", f"# TYPE {name} summary"]
    for stage, st in stages.items():
        if not isinstance(st, dict):
            continue
        for key, value in st.items():
            if key.startswith("p") and key[1:].isdigit():
                q = int(key[1:]) / 100
                out.append(f'{name}{{stage="{_label(stage)}",quantile="{q:g}"}} {_num(value)}')
        count, mean = st.get("frames"), st.get("mean")
        if count is not None:
            if mean is not None:
                out.append(f'{name}_sum{{stage="{_label(stage)}"}} {_num(float(mean) * float(count))}')
            out.append(f'{name}_count{{stage="{_label(stage)}"}} {_num(count)}')
    metric("fer_edge_stream_clients", "gauge", "Clients watching /stream.mjpg.", server.get("stream_clients", 0))
    metric("fer_edge_event_clients", "gauge", "Clients reading /events.", server.get("event_clients", 0))
    metric(
        "fer_edge_events_dropped_total",
        "counter",
        "Face records dropped because an /events client read too slowly.",
        server.get("events_dropped", 0),
    )
    return "\n".join(out) + "\n"


class _HTTPServer(http.server.ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False
    allow_reuse_address = True

    def __init__(self, address: tuple[str, int], handler: type, *, live: LiveServer, family: int) -> None:
        self.address_family = family
        self.live = live
        super().__init__(address, handler)

    def process_request_thread(self, request: Any, client_address: Any) -> None:
        live = self.live
        with live._conn_lock:
            live._connections.add(request)
            live._handler_threads.add(threading.current_thread())
        try:
            super().process_request_thread(request, client_address)
        finally:
            with live._conn_lock:
                live._connections.discard(request)
                live._handler_threads.discard(threading.current_thread())

    def handle_error(self, request: Any, client_address: Any) -> None:
        import sys

        exc = sys.exc_info()[1]
        if isinstance(exc, OSError):  # a client went away or timed out: not news
            log.debug("live page: client %s dropped: %s", client_address, exc)
        else:
            log.exception("live page: error while serving %s", client_address)


class _Handler(http.server.BaseHTTPRequestHandler):
    server: _HTTPServer
    protocol_version = "HTTP/1.1"
    server_version = "fer-edge"
    sys_version = ""

    def setup(self) -> None:
        super().setup()
        # a client that sends or reads nothing for this long is dropped (a blocked write ends, too)
        self.connection.settimeout(self.server.live.client_timeout_s)

    @property
    def live(self) -> LiveServer:
        return self.server.live

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the base class's name
        log.debug("live page: %s %s", self.address_string(), format % args)

    # -- request parsing with bounded sizes ---------------------------------------------------------------
    def _read_head(self) -> tuple[bytes, bytes]:
        line = self.rfile.readline(MAX_REQUEST_LINE + 1)
        if len(line) > MAX_REQUEST_LINE:
            raise _HeadTooLarge(HTTPStatus.REQUEST_URI_TOO_LONG)
        if not line:
            return b"", b""
        headers, size = [], 0
        while True:
            h = self.rfile.readline(MAX_HEADERS + 1 - size)
            size += len(h)
            if size > MAX_HEADERS:
                raise _HeadTooLarge(HTTPStatus.REQUEST_HEADER_FIELDS_TOO_LARGE)
            headers.append(h)
            if h in (b"\r\n", b"\n", b""):
                break
        return line, b"".join(headers)

    def handle_one_request(self) -> None:
        try:
            line, headers = self._read_head()
        except _HeadTooLarge as e:
            self.requestline, self.request_version, self.command = "", "HTTP/1.1", ""
            self.close_connection = True
            try:
                what = "request line" if e.status == HTTPStatus.REQUEST_URI_TOO_LONG else "headers"
                self._plain(e.status, f"{e.status.value} {e.status.phrase}: {what} over {MAX_HEADERS} bytes\n")
                self._discard_input()
            except OSError:
                pass
            return
        except OSError:
            self.close_connection = True
            return
        if not line:
            self.close_connection = True
            return
        self.raw_requestline = line
        rfile = self.rfile
        self.rfile = io.BytesIO(headers)
        try:
            ok = self.parse_request()
        finally:
            self.rfile = rfile
        if not ok:
            return
        try:
            self._dispatch()
            self.wfile.flush()
        except OSError as e:
            self.close_connection = True
            log.debug("live page: client %s dropped: %s", self.client_address, e)

    def _discard_input(self, limit: int = 1 << 16) -> None:
        """After refusing a request, read what the client still sends (briefly) so closing the socket
        does not reset the connection before the client has read the refusal."""
        self.wfile.flush()
        self.connection.shutdown(socket.SHUT_WR)
        self.connection.settimeout(0.5)
        while limit > 0 and self.connection.recv(min(limit, 8192)):
            limit -= 8192

    # -- responses ----------------------------------------------------------------------------------------
    def _common_headers(self) -> None:
        self.send_header("Cache-Control", "no-store")
        self.send_header("X-Content-Type-Options", "nosniff")
        self.send_header("Referrer-Policy", "no-referrer")

    def _plain(self, status: HTTPStatus, text: str, extra: dict[str, str] | None = None) -> None:
        self._send(status, "text/plain; charset=utf-8", text.encode(), extra)

    def _send(self, status: HTTPStatus, ctype: str, body: bytes, extra: dict[str, str] | None = None) -> None:
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self._common_headers()
        for k, v in (extra or {}).items():
            self.send_header(k, v)
        if self.close_connection:
            self.send_header("Connection", "close")
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def _authorised(self, query: dict[str, list[str]]) -> bool:
        token = self.live.token
        if token is None:
            return True
        given = query.get("token", [None])[-1]
        if given is None:
            auth = self.headers.get("Authorization", "")
            scheme, _, value = auth.partition(" ")
            given = value.strip() if scheme.lower() == "bearer" else None
        return given is not None and hmac.compare_digest(given.encode(), token.encode())

    def _dispatch(self) -> None:
        if self.command not in ("GET", "HEAD"):
            self.close_connection = True
            self._plain(HTTPStatus.METHOD_NOT_ALLOWED, "405 only GET and HEAD\n", {"Allow": "GET, HEAD"})
            return
        parts = urlsplit(self.path)
        query = parse_qs(parts.query)
        if not self._authorised(query):
            self._plain(
                HTTPStatus.UNAUTHORIZED, "401 a token is required: add ?token=...\n", {"WWW-Authenticate": "Bearer"}
            )
            return
        route = {
            "/": self._page,
            "/index.html": self._page,
            "/stream.mjpg": self._stream,
            "/events": self._events,
            "/stats.json": self._stats,
            "/metrics": self._metrics,
        }.get(parts.path)
        if route is None:
            self._plain(HTTPStatus.NOT_FOUND, "404 not found\n")
            return
        route()

    def _page(self) -> None:
        csp = (
            "default-src 'none'; img-src 'self' data:; style-src 'unsafe-inline'; script-src 'unsafe-inline'; "
            "connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
        )
        self._send(HTTPStatus.OK, "text/html; charset=utf-8", self.live._page, {"Content-Security-Policy": csp})

    def _stats(self) -> None:
        try:
            body = _dumps(self.live.stats()).encode()
        except Exception:  # noqa: BLE001 - a broken snapshot must not take the page down
            log.exception("live page: the stats snapshot failed")
            self._plain(HTTPStatus.INTERNAL_SERVER_ERROR, "500 the stats snapshot failed (see the log)\n")
            return
        self._send(HTTPStatus.OK, "application/json", body)

    def _metrics(self) -> None:
        try:
            body = self.live.metrics().encode()
        except Exception:  # noqa: BLE001
            log.exception("live page: the stats snapshot failed")
            self._plain(HTTPStatus.INTERNAL_SERVER_ERROR, "500 the stats snapshot failed (see the log)\n")
            return
        self._send(HTTPStatus.OK, "text/plain; version=0.0.4; charset=utf-8", body)

    def _client_gone(self) -> bool:
        """True when the client closed its side (a browser sends nothing after its request, so a readable
        socket means end of file, or bytes nobody asked for)."""
        try:
            readable, _, _ = select.select([self.connection], [], [], 0)
            return bool(readable) and not self.connection.recv(1, socket.MSG_PEEK)
        except (OSError, ValueError):
            return True

    def _reserve_stream(self) -> bool:
        """Take one of ``max_streams`` long-lived slots, or answer 503."""
        live = self.live
        with live._conn_lock:
            ok = live._streaming < live.max_streams
            live._streaming += ok
        if not ok:
            self.close_connection = True
            self._plain(
                HTTPStatus.SERVICE_UNAVAILABLE,
                f"503 already {live.max_streams} streams open; close one\n",
                {"Retry-After": "5"},
            )
        return ok

    def _release_stream(self) -> None:
        with self.live._conn_lock:
            self.live._streaming -= 1

    def _stream_headers(self, ctype: str) -> bool:
        self.close_connection = True
        self.send_response(HTTPStatus.OK)
        self.send_header("Content-Type", ctype)
        self._common_headers()
        self.send_header("Connection", "close")
        self.send_header("X-Accel-Buffering", "no")
        self.end_headers()
        self.wfile.flush()
        return self.command != "HEAD"

    def _stream(self) -> None:
        if not self._reserve_stream():
            return
        try:
            self._stream_frames()
        finally:
            self._release_stream()

    def _events(self) -> None:
        if not self._reserve_stream():
            return
        try:
            self._stream_events()
        finally:
            self._release_stream()

    def _stream_frames(self) -> None:
        live = self.live
        if not self._stream_headers(f"multipart/x-mixed-replace; boundary={BOUNDARY}"):
            return
        pacer = _Pacer(live.serve_fps)
        sent = -1
        with live._frame_cond:
            live._stream_clients += 1
        try:
            while not live._closing.is_set() and not self._client_gone():
                if not live._wait_frame(sent):
                    continue
                delay = pacer.due - time.monotonic()
                if delay > 0:
                    live._closing.wait(min(delay, TICK_S))
                    continue
                jpeg = live._latest_jpeg()
                if jpeg is None or jpeg[0] == sent:
                    continue
                pacer.take(time.monotonic())
                sent, data = jpeg
                head = f"--{BOUNDARY}\r\nContent-Type: image/jpeg\r\nContent-Length: {len(data)}\r\n\r\n".encode()
                self.wfile.write(head + data + b"\r\n")
                self.wfile.flush()
        except (OSError, ValueError) as e:  # ValueError: the socket file was closed under us
            log.debug("live page: stream client %s dropped: %s", self.client_address, e)
        finally:
            with live._frame_cond:
                live._stream_clients -= 1

    def _stream_events(self) -> None:
        live = self.live
        if not self._stream_headers("text/event-stream; charset=utf-8"):
            return
        client = _EventClient(live.event_buffer)
        with live._event_cond:
            live._event_clients.append(client)
        try:
            self.wfile.write(b"retry: 2000\n: fer-edge events\n\n")
            self.wfile.flush()
            last_write = time.monotonic()
            while not live._closing.is_set() and not self._client_gone():
                with live._event_cond:
                    if not client.queue:
                        live._event_cond.wait(TICK_S)
                    batch = list(client.queue)
                    client.queue.clear()
                now = time.monotonic()
                if batch:
                    self.wfile.write(b"".join(batch))
                elif now - last_write >= live.keepalive_s:
                    self.wfile.write(b": keep-alive\n\n")
                else:
                    continue
                self.wfile.flush()
                last_write = now
        except (OSError, ValueError) as e:
            log.debug("live page: event client %s dropped: %s", self.client_address, e)
        finally:
            with live._event_cond:
                live._event_clients.remove(client)
