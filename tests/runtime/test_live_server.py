"""LiveServer on a real socket (127.0.0.1, a free port): endpoints, the MJPEG stream, server-sent events,
the token, bounded requests, and clients that stop reading or vanish. No mocks."""

from __future__ import annotations

import http.client
import json
import logging
import re
import socket
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager

import cv2
import numpy as np
import pytest

from fer_edge.errors import FerEdgeError
from fer_edge.labels import EMOTIONS
from fer_edge.runtime.detector import BBox
from fer_edge.runtime.pipeline import FaceResult, FrameResult
from fer_edge.runtime.scenes import face_scene
from fer_edge.runtime.server import BOUNDARY, LivePageSink, LiveServer, exposure_warning, is_loopback
from fer_edge.runtime.sources import Frame

SNAPSHOT = {
    "frames": 120,
    "faces": 118,
    "dropped_frames": 3,
    "stalls": 1,
    "reconnects": 2,
    "uptime_s": 12.5,
    "fps": 29.7,
    "budget_ms": 33.3,
    "stages_ms": {
        "detect": {"p50": 4.2, "p95": 6.1, "p99": 7.0, "mean": 4.5, "frames": 120},
        "classify": {"p50": 0.4, "p95": 0.9, "p99": 1.2, "mean": 0.5, "frames": 118},
    },
}


@contextmanager
def serve(**kw) -> Iterator[LiveServer]:
    kw.setdefault("snapshot", lambda: dict(SNAPSHOT))
    server = LiveServer("127.0.0.1", 0, **kw)
    server.start()
    try:
        yield server
    finally:
        server.close()


def wait_until(cond, timeout: float = 10.0, what: str = "condition") -> None:
    """Poll ``cond`` until true; the deadline only turns a hang into a failure."""
    end = time.monotonic() + timeout
    while not cond():
        if time.monotonic() > end:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.01)


def get(server: LiveServer, path: str, headers: dict | None = None) -> tuple[int, dict, bytes]:
    req = urllib.request.Request(server.url.rstrip("/") + path, headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            return r.status, dict(r.headers), r.read()
    except urllib.error.HTTPError as e:
        return e.code, dict(e.headers), e.read()


def raw(server: LiveServer, data: bytes) -> bytes:
    """Send bytes as they are (no client-side normalisation) and read the whole answer."""
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as s:
        s.sendall(data)
        chunks = []
        while chunk := s.recv(65536):
            chunks.append(chunk)
    return b"".join(chunks)


def status_of(answer: bytes) -> int:
    return int(answer.split(b" ", 2)[1])


def record(frame: int, track: int = 1, label: str = "happy") -> dict:
    probs = {f"p_{n}": (0.7 if n == label else 0.05) for n in EMOTIONS}
    return {"source": "test", "frame": frame, "track_id": track, "label": label, "score": 0.7, **probs}


def numbered_frame(i: int) -> np.ndarray:
    """A frame whose content says which one it is (a bright bar at a place set by ``i``)."""
    img = face_scene((320, 240), s=160)
    x = 20 * (i % 30)
    img[440:470, x : x + 20] = 255
    return img


def read_part(stream) -> bytes:
    """One part of a multipart/x-mixed-replace body: boundary line, headers, Content-Length bytes, CRLF."""
    line = stream.readline()
    while line in (b"\r\n", b"\n"):
        line = stream.readline()
    assert line.strip() == f"--{BOUNDARY}".encode(), line
    headers = {}
    while (line := stream.readline()) not in (b"\r\n", b"\n", b""):
        k, _, v = line.decode().partition(":")
        headers[k.strip().lower()] = v.strip()
    assert headers["content-type"] == "image/jpeg"
    body = stream.read(int(headers["content-length"]))
    assert stream.read(2) == b"\r\n"
    return body


class Publisher:
    """A camera loop stand-in: publishes numbered frames in a thread (only when wanted, or always)."""

    def __init__(self, server: LiveServer, always: bool = False, period: float = 0.005) -> None:
        self.server, self.always, self.period = server, always, period
        self.published = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        i = 0
        while not self._stop.is_set():
            if self.always or self.server.wants_frame():
                self.server.publish_frame(numbered_frame(i))
                self.published += 1
            i += 1
            time.sleep(self.period)

    def __enter__(self) -> Publisher:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(5)


def open_stream(
    server: LiveServer, path: str = "/stream.mjpg"
) -> tuple[http.client.HTTPConnection, http.client.HTTPResponse]:
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
    conn.request("GET", path)
    return conn, conn.getresponse()


# -- endpoints ---------------------------------------------------------------------------------------------
def test_page_is_one_self_contained_html_document():
    with serve() as server:
        status, headers, body = get(server, "/")
    assert status == 200
    assert headers["Content-Type"] == "text/html; charset=utf-8"
    page = body.decode()
    assert 'id="stream"' in page and "/stream.mjpg" in page and "/events" in page and "/stats.json" in page
    assert "<canvas" in page
    # nothing fetched from elsewhere: no absolute URL, no external script, style or font
    assert not re.search(r"(src|href)\s*=\s*[\"']?(https?:)?//", page)
    assert "@import" not in page and "url(" not in page
    assert "default-src 'none'" in headers["Content-Security-Policy"]


def test_stats_json_is_the_snapshot_plus_server_state_and_tracks():
    with serve() as server:
        server.publish_records([record(1, track=1), record(1, track=2, label="sad")])
        status, headers, body = get(server, "/stats.json")
    assert status == 200 and headers["Content-Type"] == "application/json"
    stats = json.loads(body)
    for key, value in SNAPSHOT.items():
        assert stats[key] == value
    assert stats["server"]["labels"] == list(EMOTIONS)
    assert stats["server"]["events_published"] == 2
    assert [(t["track_id"], t["label"]) for t in stats["tracks"]] == [(1, "happy"), (2, "sad")]


def test_stats_json_stays_valid_json_when_the_snapshot_holds_nan():
    with serve(snapshot=lambda: {"frames": 0, "fps": float("nan"), "x": np.float32(1.5)}) as server:
        stats = json.loads(get(server, "/stats.json")[2])
    assert stats["fps"] is None and stats["x"] == 1.5


def test_metrics_are_prometheus_text_with_help_and_type():
    with serve() as server:
        status, headers, body = get(server, "/metrics")
    assert status == 200
    assert headers["Content-Type"].startswith("text/plain; version=0.0.4")
    text = body.decode()
    samples = {}
    for line in text.splitlines():
        if line.startswith("#"):
            assert re.fullmatch(r"# (HELP|TYPE) fer_edge_\w+ .+", line), line
            continue
        m = re.fullmatch(r"(fer_edge_\w+)(\{[^}]*\})? (\S+)", line)
        assert m, line
        samples[m.group(1) + (m.group(2) or "")] = float(m.group(3))
    expected = {
        "fer_edge_frames_total": 120,
        "fer_edge_faces_total": 118,
        "fer_edge_dropped_frames_total": 3,
        "fer_edge_stalls_total": 1,
        "fer_edge_reconnects_total": 2,
        "fer_edge_uptime_seconds": 12.5,
        'fer_edge_stage_latency_ms{stage="detect",quantile="0.95"}': 6.1,
        'fer_edge_stage_latency_ms{stage="classify",quantile="0.5"}': 0.4,
        'fer_edge_stage_latency_ms_count{stage="detect"}': 120,
        "fer_edge_stream_clients": 0,
        "fer_edge_events_dropped_total": 0,
    }
    for name, value in expected.items():
        assert samples[name] == pytest.approx(value), name
    for name in ("fer_edge_frames_total", "fer_edge_stage_latency_ms", "fer_edge_events_dropped_total"):
        assert f"# HELP {name} " in text and f"# TYPE {name} " in text


def test_a_failing_snapshot_is_a_500_not_a_dead_page(caplog):
    def broken() -> dict:
        raise RuntimeError("boom")

    with caplog.at_level(logging.ERROR, logger="fer_edge"), serve(snapshot=broken) as server:
        assert get(server, "/stats.json")[0] == 500
        assert get(server, "/metrics")[0] == 500
        assert get(server, "/")[0] == 200
    assert any("snapshot failed" in r.getMessage() for r in caplog.records)


def test_a_taken_port_is_one_line_of_error():
    with serve() as server:
        other = LiveServer("127.0.0.1", server.port)
        with pytest.raises(FerEdgeError, match=rf"127\.0\.0\.1:{server.port}: .*--serve HOST:PORT"):
            other.start()
        other.close()


def test_head_sends_headers_without_a_body():
    with serve() as server:
        conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
        conn.request("HEAD", "/")
        r = conn.getresponse()
        assert r.status == 200 and int(r.getheader("Content-Length")) > 1000
        assert r.read() == b""
        conn.close()


@pytest.mark.parametrize(
    "path",
    ["/../etc/passwd", "/etc/passwd", "/..%2f..%2fetc%2fpasswd", "/live.html", "/fer_edge/assets/live.html", "/stats"],
)
def test_unknown_paths_are_404_and_nothing_is_read_from_disk(path):
    with serve() as server:
        answer = raw(server, f"GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".encode())
    assert status_of(answer) == 404
    assert b"root:" not in answer and b"<html" not in answer


@pytest.mark.parametrize("method", ["POST", "PUT", "DELETE", "OPTIONS", "BREW"])
def test_only_get_and_head_are_allowed(method):
    with serve() as server:
        answer = raw(server, f"{method} / HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n".encode())
    assert status_of(answer) == 405
    assert b"Allow: GET, HEAD" in answer


# -- security ----------------------------------------------------------------------------------------------
def test_token_is_required_on_every_endpoint():
    with serve(token="s3cret") as server:
        for path in ("/", "/stats.json", "/metrics", "/stream.mjpg", "/events", "/nothing"):
            status, headers, _ = get(server, path)
            assert status == 401, path
            assert headers["WWW-Authenticate"] == "Bearer"
        assert get(server, "/?token=wrong")[0] == 401
        assert get(server, "/stats.json", {"Authorization": "Bearer wrong"})[0] == 401
        assert get(server, "/?token=s3cret")[0] == 200
        assert get(server, "/metrics?token=s3cret")[0] == 200
        assert get(server, "/stats.json", {"Authorization": "Bearer s3cret"})[0] == 200
        assert get(server, "/nothing?token=s3cret")[0] == 404  # the token does not open other paths


def test_oversized_request_line_and_headers_are_refused():
    with serve() as server:
        long_line = raw(server, b"GET /" + b"a" * 10_000 + b" HTTP/1.1\r\nHost: x\r\n\r\n")
        assert status_of(long_line) == 414
        headers = b"".join(b"X-Pad-%d: %s\r\n" % (i, b"b" * 500) for i in range(20))
        big_head = raw(server, b"GET / HTTP/1.1\r\nHost: x\r\n" + headers + b"\r\n")
        assert status_of(big_head) == 431
        one_huge_header = raw(server, b"GET / HTTP/1.1\r\nX-Huge: " + b"c" * 70_000 + b"\r\n\r\n")
        assert status_of(one_huge_header) == 431
        assert get(server, "/stats.json")[0] == 200  # and it still serves


def test_binding_beyond_loopback_warns(caplog):
    assert is_loopback("127.0.0.1") and is_loopback("localhost") and is_loopback("::1")
    assert not is_loopback("0.0.0.0") and not is_loopback("") and not is_loopback("192.168.1.20")
    assert exposure_warning("127.0.0.1", None) is None
    assert "set a token" in exposure_warning("0.0.0.0", None)
    assert "token" in exposure_warning("0.0.0.0", "x")
    with caplog.at_level(logging.WARNING, logger="fer_edge"):
        server = LiveServer("0.0.0.0", 0)
        server.start()
        server.close()
    assert any("not only on this machine" in r.getMessage() for r in caplog.records)
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="fer_edge"), serve():
        pass
    assert not caplog.records


# -- the MJPEG stream --------------------------------------------------------------------------------------
def test_stream_parts_are_valid_jpegs_of_new_frames():
    with serve(serve_fps=30) as server:
        conn, r = open_stream(server)
        assert r.status == 200
        assert r.getheader("Content-Type") == f"multipart/x-mixed-replace; boundary={BOUNDARY}"
        with Publisher(server):
            frames = [cv2.imdecode(np.frombuffer(read_part(r), np.uint8), cv2.IMREAD_COLOR) for _ in range(4)]
        conn.close()
    for img in frames:
        assert img is not None and img.shape == (480, 640, 3)
    # each part is a new frame: the numbered bar moved
    bars = [int(np.argmax(img[455, :, 0] > 200)) for img in frames]
    assert len(set(bars)) == len(bars)


def test_wants_frame_only_while_someone_watches():
    with serve(serve_fps=50) as server:
        assert not server.wants_frame()
        server.publish_frame(numbered_frame(0))
        time.sleep(0.1)
        assert not server.wants_frame()
        assert server.frames_encoded == 0  # nobody watched: nothing was encoded
        conn, r = open_stream(server)
        wait_until(lambda: server.stream_clients == 1, what="the stream client")
        wait_until(server.wants_frame, what="wants_frame")
        read_part(r)  # the frame published before anyone watched is sent at once
        conn.close()
        r.close()
        wait_until(lambda: server.stream_clients == 0, what="the stream client to be dropped")
        assert not server.wants_frame()


def test_stream_is_capped_at_serve_fps():
    """A loop that publishes far faster than serve_fps (ignoring wants_frame) still sends each client at
    most serve_fps frames a second; and a loop that asks wants_frame publishes at most that often."""
    fps = 8
    with serve(serve_fps=fps) as server:
        conn, r = open_stream(server)
        with Publisher(server, always=True, period=0.002):
            read_part(r)
            t0, n = time.monotonic(), 0
            while time.monotonic() - t0 < 1.5:
                read_part(r)
                n += 1
            elapsed = time.monotonic() - t0
        assert 1 <= n <= fps * elapsed + 2
        with Publisher(server, period=0.001) as pub:
            t0 = time.monotonic()
            time.sleep(1.0)
            published, elapsed = pub.published, time.monotonic() - t0
        assert 1 <= published <= fps * elapsed + 2
        conn.close()


def test_a_client_that_stops_reading_never_blocks_publishing():
    with serve(serve_fps=1000, client_timeout_s=30) as server:
        stalled = socket.socket()
        stalled.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        stalled.connect(("127.0.0.1", server.port))
        stalled.sendall(b"GET /stream.mjpg HTTP/1.1\r\nHost: x\r\n\r\n")
        wait_until(lambda: server.stream_clients == 1, what="the stalled client")
        noise = np.random.default_rng(0).integers(0, 256, (480, 640, 3), np.uint8)  # ~ 300 KB as JPEG
        # fill the stalled client's socket buffers so its handler blocks in a write
        for _ in range(20):
            server.publish_frame(noise.copy())
            time.sleep(0.02)

        def burst() -> None:
            for i in range(1000):
                server.publish_frame(numbered_frame(i) if i % 100 == 0 else noise)

        t = threading.Thread(target=burst)
        t.start()
        t.join(60)
        assert not t.is_alive(), "publish_frame blocked behind a client that does not read"
        assert server.frames_encoded < 1000  # encoding is per frame sent, not per frame published
        # the server still serves others while the stalled client hangs on
        assert get(server, "/stats.json")[0] == 200
        conn, r = open_stream(server)
        server.publish_frame(numbered_frame(7))
        assert cv2.imdecode(np.frombuffer(read_part(r), np.uint8), cv2.IMREAD_COLOR).shape == (480, 640, 3)
        assert server.stream_clients == 2
        conn.close()
        stalled.close()


def test_vanished_clients_are_dropped_quietly(caplog):
    with caplog.at_level(logging.DEBUG, logger="fer_edge"), serve(serve_fps=100) as server:
        with Publisher(server, always=True):
            for path in ("/stream.mjpg", "/events"):
                s = socket.create_connection(("127.0.0.1", server.port))
                s.sendall(f"GET {path} HTTP/1.1\r\nHost: x\r\n\r\n".encode())
                s.recv(100)
                s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
                s.close()  # with linger 0: a reset, as a browser tab that crashed
            server.publish_records([record(1)])
            wait_until(lambda: server.stream_clients == 0 and server.event_clients == 0, what="clients dropped")
            assert get(server, "/stats.json")[0] == 200
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING]


def test_close_ends_streaming_handlers_promptly():
    server = LiveServer("127.0.0.1", 0, snapshot=lambda: {})
    server.start()
    clients = []
    for path in ("/stream.mjpg", "/events", "/stream.mjpg"):
        s = socket.create_connection(("127.0.0.1", server.port), timeout=10)
        s.sendall(f"GET {path} HTTP/1.1\r\nHost: x\r\n\r\n".encode())
        clients.append(s)
    wait_until(lambda: server.stream_clients == 2 and server.event_clients == 1, what="three clients")
    idle = socket.create_connection(("127.0.0.1", server.port), timeout=10)  # HTTP/1.1 keep-alive, then idle
    idle.sendall(b"GET /stats.json HTTP/1.1\r\nHost: x\r\n\r\n")
    assert idle.recv(12) == b"HTTP/1.1 200"
    clients.append(idle)
    server.close()
    for s in clients:  # each sees the end of its stream (a hang would raise socket.timeout)
        while s.recv(65536):
            pass
        s.close()
    assert not server._handler_threads
    with pytest.raises(OSError):
        socket.create_connection(("127.0.0.1", server.port), timeout=2).close()


def test_long_lived_streams_are_limited():
    with serve(max_streams=2) as server:
        held = [open_stream(server, path) for path in ("/stream.mjpg", "/events")]
        wait_until(lambda: server.stream_clients == 1 and server.event_clients == 1, what="two streams")
        for path in ("/stream.mjpg", "/events"):
            status, headers, _ = get(server, path)
            assert status == 503 and headers["Retry-After"] == "5"
        assert get(server, "/stats.json")[0] == 200  # short requests are not limited
        held[0][0].close()
        held[0][1].close()
        wait_until(lambda: server.streams_open == 1, what="the stream to close")
        conn, r = open_stream(server)
        assert r.status == 200
        conn.close()
        held[1][0].close()


# -- server-sent events ------------------------------------------------------------------------------------
def read_events(r, n: int) -> list[dict]:
    out = []
    while len(out) < n:
        line = r.readline()
        assert line, "the event stream ended"
        if line.startswith(b"data: "):
            out.append(json.loads(line[6:]))
    return out


def test_events_deliver_every_record_in_order():
    with serve(event_buffer=10_000) as server:
        conn, r = open_stream(server, "/events")
        assert r.status == 200
        assert r.getheader("Content-Type") == "text/event-stream; charset=utf-8"
        wait_until(lambda: server.event_clients == 1, what="the event client")
        for f in range(100):
            server.publish_records([record(f, track=1), record(f, track=2)])
        got = read_events(r, 200)
        conn.close()
    assert [(e["frame"], e["track_id"]) for e in got] == [(f, t) for f in range(100) for t in (1, 2)]
    assert got[0]["p_happy"] == 0.7 and got[0]["label"] == "happy"


def test_events_send_keep_alive_comments_when_idle():
    with serve(keepalive_s=0.2) as server:
        conn, r = open_stream(server, "/events")
        lines = [r.readline() for _ in range(6)]
        conn.close()
    assert b": keep-alive\n" in lines


def test_a_slow_event_client_loses_the_oldest_records_and_they_are_counted():
    with serve(event_buffer=16, client_timeout_s=30) as server:
        slow = socket.socket()
        slow.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        slow.connect(("127.0.0.1", server.port))
        slow.sendall(b"GET /events HTTP/1.1\r\nHost: x\r\n\r\n")
        wait_until(lambda: server.event_clients == 1, what="the slow client")
        pad = "x" * 1000
        frame = 0
        deadline = time.monotonic() + 60
        while server.events_dropped == 0:  # until the handler is stuck in a write and its queue overflows
            assert time.monotonic() < deadline, "no record was ever dropped"
            for _ in range(50):
                server.publish_records([{**record(frame), "pad": pad}])
                frame += 1
        last = frame - 1
        # now read everything: frames increase, some are missing, and the newest one arrived
        slow.settimeout(10)
        buf, frames = b"", []
        while not frames or frames[-1] != last:
            buf += slow.recv(65536)
            *lines, buf = buf.split(b"\n")
            frames += [json.loads(x[6:])["frame"] for x in lines if x.startswith(b"data: ")]
        slow.close()
        status, _, body = get(server, "/metrics")
    assert frames == sorted(frames) and len(set(frames)) == len(frames)
    assert len(frames) < last + 1
    dropped = server.events_dropped
    assert dropped == last + 1 - len(frames)
    assert f"fer_edge_events_dropped_total {dropped}" in body.decode()


def test_the_sink_adapter_feeds_stream_and_events():
    probs = np.full(len(EMOTIONS), 0.05, np.float32)
    probs[EMOTIONS.index("sad")] = 0.7
    result = FrameResult((FaceResult(4, BBox(10, 20, 110, 140), 0.9, probs, "sad"),))
    with serve(serve_fps=50) as server:
        sink = LivePageSink(server)
        frame = Frame(face_scene(), 17, 0.5, "clip.mp4")
        sink.on_frame(frame, result, None)
        assert not sink.wants_image()  # nobody watches
        conn, r = open_stream(server, "/events")
        sconn, sr = open_stream(server)
        wait_until(lambda: server.event_clients == 1 and server.stream_clients == 1, what="clients")
        wait_until(sink.wants_image, what="an image to be wanted")
        sink.on_frame(frame, result, numbered_frame(3))
        (event,) = read_events(r, 1)
        assert (event["frame"], event["track_id"], event["label"], event["source"]) == (17, 4, "sad", "clip.mp4")
        assert event["p_sad"] == pytest.approx(0.7)
        assert cv2.imdecode(np.frombuffer(read_part(sr), np.uint8), cv2.IMREAD_COLOR).shape == (480, 640, 3)
        conn.close()
        sconn.close()
        sink.close()
        with pytest.raises(OSError):
            socket.create_connection(("127.0.0.1", server.port), timeout=2).close()


def test_the_server_imports_without_tensorflow():
    import subprocess
    import sys

    code = (
        "import sys, fer_edge.runtime.server\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in "
        "('tensorflow', 'keras', 'pandas', 'sklearn', 'matplotlib')))"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "[]"
