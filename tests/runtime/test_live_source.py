"""Field reliability of sources with real parts: a real MJPEG-over-HTTP server on 127.0.0.1 read by
OpenCV's FFmpeg backend, real threads and real video files. Assertions are on counts and order, with
generous bounds, never on tight timings."""

from __future__ import annotations

import itertools
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator

import cv2
import numpy as np
import pytest

from fer_edge.errors import FerEdgeError
from fer_edge.runtime.live_source import Captured, LatestFrameReader, backoff_delays
from fer_edge.runtime.sources import Source
from fer_edge.testing.mjpeg_server import MjpegServer, numbered_frames


def _wait_until(predicate, timeout: float = 5.0) -> bool:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if predicate():
            return True
        time.sleep(0.01)
    return predicate()


def _write_video(path, count: int, fps: float) -> None:
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), fps, (64, 48))
    assert writer.isOpened()
    for i in range(count):
        writer.write(np.full((48, 64, 3), (5 * i) % 256, np.uint8))
    writer.release()


@pytest.fixture()
def server():
    srv = MjpegServer(numbered_frames(8), fps=20.0).start()
    yield srv
    srv.stop()


def test_backoff_doubles_up_to_the_cap():
    assert list(itertools.islice(backoff_delays(1.0, 30.0), 7)) == [1, 2, 4, 8, 16, 30, 30]


def test_reader_hands_over_the_newest_frame_and_counts_the_overwritten_ones():
    release = threading.Event()

    def frames() -> Iterator[Captured]:
        for i in range(10):
            yield Captured(np.full((4, 4, 3), i, np.uint8), "gen")
        release.wait(5)
        yield Captured(np.full((4, 4, 3), 10, np.uint8), "gen")

    with LatestFrameReader(frames, "gen", live=False) as reader:
        assert _wait_until(lambda: reader.health().frames == 10)
        first = reader.read(timeout=2)
        assert first is not None and first.index == 9 and int(first.image[0, 0, 0]) == 9
        assert reader.health().dropped_frames == 9
        assert reader.read(timeout=0.2) is None and not reader.finished  # a timeout, not the end
        release.set()
        last = reader.read(timeout=2)
        assert last is not None and last.index == 10
        assert reader.read(timeout=2) is None and reader.finished
        health = reader.health()
    assert (health.frames, health.taken, health.dropped_frames, health.state) == (11, 2, 9, "ended")
    assert not health.gone


def test_live_reader_whose_source_never_reopens_is_gone_with_a_reason():
    def connect() -> Iterator[Captured]:
        raise FerEdgeError("cam: could not open the stream")

    def once() -> Iterator[Captured]:
        yield Captured(np.zeros((4, 4, 3), np.uint8), "cam")

    reader = LatestFrameReader(connect, "cam", max_reconnects=2, backoff_base=0.05, initial=once()).start()
    try:
        assert reader.read(timeout=2) is not None
        started = time.monotonic()
        assert reader.read(timeout=10) is None
        assert time.monotonic() - started < 5
        health = reader.health()
    finally:
        reader.close()
    assert health.gone and health.state == "gone"
    assert health.reason == "cam: source gone after 2 reconnect attempts (could not open the stream)"
    assert "\n" not in health.reason
    assert health.reconnects == 0 and health.stalls == 0


def test_opencv_reads_the_test_mjpeg_server(server):
    cap = cv2.VideoCapture(server.url, cv2.CAP_FFMPEG)
    try:
        assert cap.isOpened()
        images = [cap.read()[1] for _ in range(3)]
    finally:
        cap.release()
    assert all(img is not None and img.shape == (96, 128, 3) for img in images)
    assert server.connections == 1 and server.frames_sent >= 3


def test_stream_stopped_and_restarted_reconnects_once_and_frames_continue(server):
    src = Source(server.url, stall_timeout=3.0, backoff_base=0.1)
    indexes: list[int] = []
    deadline = time.monotonic() + 12
    for frame in src:
        indexes.append(frame.index)
        if len(indexes) == 10:
            server.stop()  # the camera's stream ends mid-run
            restart = threading.Timer(1.0, server.start)
            restart.start()
        if len(indexes) == 30 or time.monotonic() > deadline:
            break
    health = src.health()
    src.close()
    restart.join()
    assert len(indexes) == 30, health
    assert all(a < b for a, b in zip(indexes, indexes[1:]))  # indexes keep increasing across the reconnect
    assert health.reconnects == 1 and health.stalls == 0
    assert server.connections == 2
    assert health.state == "closed" and not health.gone


def test_stalled_stream_counts_a_stall_and_reconnects(server):
    src = Source(server.url, stall_timeout=1.0, backoff_base=0.1)
    indexes: list[int] = []
    deadline = time.monotonic() + 12
    for frame in src:
        indexes.append(frame.index)
        if len(indexes) == 10:
            server.stall(1.5)  # connection stays open, no bytes
        if len(indexes) == 30 or time.monotonic() > deadline:
            break
    health = src.health()
    src.close()
    assert len(indexes) == 30, health
    assert all(a < b for a, b in zip(indexes, indexes[1:]))
    assert health.stalls >= 1 and health.reconnects >= 1
    assert "stalled" in (health.last_error or "")
    assert server.connections >= 2


def test_stream_gone_for_good_ends_iteration_promptly_as_gone(server):
    src = Source(server.url, stall_timeout=1.0, max_reconnects=1, backoff_base=0.1)
    count = 0
    stopped_at = None
    for _frame in src:
        count += 1
        if count == 5:
            server.stop()
            stopped_at = time.monotonic()
    assert stopped_at is not None and time.monotonic() - stopped_at < 5
    health = src.health()
    assert health.gone and health.reconnects == 0
    assert health.reason is not None and "gone after 1 reconnect attempt" in health.reason
    assert server.url in health.reason


def test_read_with_a_timeout_wakes_up_while_the_stream_reconnects(server):
    src = Source(server.url, stall_timeout=2.0, backoff_base=0.1)
    try:
        assert src.read(timeout=5) is not None
        server.stop()
        assert _wait_until(lambda: src.health().state == "reconnecting")
        pending = 0
        while src.read(timeout=0.3) is not None:  # the newest frame from before the stop, if not taken yet
            pending += 1
            assert pending <= 1
        assert not src.finished  # read woke up on its timeout: the source is reconnecting, not finished
        server.start()
        frame = src.read(timeout=8)
        assert frame is not None and frame.index >= 1
        assert src.health().reconnects == 1
    finally:
        src.close()
    assert src.finished and src.read(timeout=0.1) is None


def test_close_returns_promptly_while_the_reader_is_blocked_in_a_stalled_read(server):
    src = Source(server.url, stall_timeout=30.0)  # the watchdog will not rescue the blocked read
    frames = iter(src)
    assert next(frames).index >= 0  # the newest frame (FFmpeg may hand over two at once; the first is dropped)
    server.stalled = True
    time.sleep(0.5)  # the worker is now inside cap.read() with nothing arriving
    started = time.monotonic()
    src.close()
    assert time.monotonic() - started < 1.5
    assert next(frames, None) is None
    assert src.health().state == "closed"


def test_realtime_paces_a_video_and_a_slow_consumer_drops_frames(tmp_path):
    _write_video(tmp_path / "clip.avi", 40, fps=20.0)  # 2 s of video
    slow = Source(tmp_path / "clip.avi", realtime=True)
    frames = []
    for frame in slow:
        frames.append(frame)
        time.sleep(0.2)  # a consumer that manages ~5 fps
    health = slow.health()
    assert health.frames == 40  # the reader read every frame, at the video's pace
    assert health.taken == len(frames) and health.taken + health.dropped_frames == 40
    assert 4 <= len(frames) <= 25 and health.dropped_frames >= 15
    assert all(b.index - a.index >= 1 for a, b in zip(frames, frames[1:]))
    assert any(b.index - a.index > 1 for a, b in zip(frames, frames[1:]))  # the dropped ones are gaps
    assert [f.timestamp_s for f in frames] == pytest.approx([f.index / 20.0 for f in frames])
    assert health.state == "ended" and not health.gone

    started = time.monotonic()
    fast = list(Source(tmp_path / "clip.avi", realtime=True))
    assert time.monotonic() - started >= 1.5  # no faster than the video's own 2 s
    assert len(fast) >= 20


def test_loop_restarts_a_video_with_increasing_indexes(tmp_path):
    _write_video(tmp_path / "clip.avi", 6, fps=20.0)
    frames = list(itertools.islice(Source(tmp_path / "clip.avi", loop=True), 20))
    assert [f.index for f in frames] == list(range(20))
    assert [f.timestamp_s for f in frames] == pytest.approx([i / 20.0 for i in range(20)])
    assert abs(int(frames[6].image.mean()) - int(frames[0].image.mean())) <= 3  # frame 6 is the first again

    paced = Source(tmp_path / "clip.avi", realtime=True, loop=True)
    got = list(itertools.islice(paced, 10))
    paced.close()
    assert paced.health().frames > 6 and all(a.index < b.index for a, b in zip(got, got[1:]))


def test_loop_over_a_folder_records_a_bad_file_once_and_stops_when_nothing_decodes(tmp_path):
    cv2.imwrite(str(tmp_path / "a.jpg"), np.full((20, 20, 3), 100, np.uint8))
    (tmp_path / "b.jpg").write_bytes(b"\xff\xd8 broken")
    src = Source(tmp_path, loop=True)
    frames = list(itertools.islice(src, 5))
    assert [f.index for f in frames] == list(range(5))
    assert [f.source.rsplit("/", 1)[-1] for f in frames] == ["a.jpg"] * 5
    assert [f.source for f in src.failures] == [str(tmp_path / "b.jpg")]

    only_bad = tmp_path / "bad"
    only_bad.mkdir()
    (only_bad / "c.jpg").write_bytes(b"\xff\xd8 broken")
    assert list(Source(only_bad, loop=True)) == []  # ends instead of spinning


def test_default_file_reading_is_unchanged_and_reports_health(tmp_path):
    _write_video(tmp_path / "clip.avi", 5, fps=10.0)
    src = Source(tmp_path / "clip.avi")
    assert src.health().state == "starting"
    frames = list(src)
    assert [f.index for f in frames] == list(range(5))
    assert [f.timestamp_s for f in frames] == pytest.approx([0.0, 0.1, 0.2, 0.3, 0.4])
    health = src.health()
    assert (health.frames, health.dropped_frames, health.stalls, health.reconnects, health.state) == (
        5,
        0,
        0,
        0,
        "ended",
    )


def test_bad_reliability_options_are_user_errors(tmp_path):
    with pytest.raises(FerEdgeError, match="stall timeout"):
        Source("http://127.0.0.1:9/x.mjpg", stall_timeout=0)
    with pytest.raises(FerEdgeError, match="max reconnects"):
        Source("http://127.0.0.1:9/x.mjpg", max_reconnects=-1)


def test_reader_and_test_server_import_without_heavy_libraries():
    code = (
        "import sys, fer_edge.runtime.live_source, fer_edge.runtime.sources, fer_edge.testing.mjpeg_server\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('tensorflow', 'keras', 'pandas', 'sklearn', 'matplotlib')))"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "[]"


def test_repeated_outages_leave_no_threads_or_sockets_behind(server):
    def open_fds() -> int:
        return len(os.listdir("/proc/self/fd")) if os.path.isdir("/proc/self/fd") else 0

    src = Source(server.url, stall_timeout=0.5, backoff_base=0.05)
    try:
        assert src.read(timeout=5) is not None
        threads, fds = threading.active_count(), open_fds()
        for cycle in range(4):
            if cycle % 2:
                server.stall(0.8)
            else:
                server.stop()
                time.sleep(0.3)
                server.start()
            assert _wait_until(lambda n=cycle + 1: src.health().reconnects >= n, timeout=6), src.health()
            src.read(timeout=2)
        health = src.health()
        assert health.reconnects == 4 and health.stalls >= 2
        # abandoned readers finish once their bounded FFmpeg read returns (stall_timeout + 1 s)
        assert _wait_until(lambda: threading.active_count() <= threads and open_fds() <= fds, timeout=6)
    finally:
        src.close()


@pytest.mark.skipif(not hasattr(signal, "setitimer"), reason="needs SIGALRM")
def test_a_signal_handler_that_only_sets_a_flag_ends_an_iteration_waiting_for_a_reconnect(server):
    src = Source(server.url, stall_timeout=5.0, backoff_base=0.1)  # reconnects forever
    requested: list[str] = []

    def on_signal(signum: int, _frame: object) -> None:  # like a SIGTERM handler: set a flag, never raise
        requested.append(signal.Signals(signum).name)
        src.interrupt()

    previous = signal.signal(signal.SIGALRM, on_signal)
    guard = threading.Timer(8.0, src.close)  # fail, not hang, if the interrupt is not honoured
    guard.start()
    try:
        count = 0
        for _frame in src:
            count += 1
            if count == 3:
                server.stop()  # no frame will come again
                signal.setitimer(signal.ITIMER_REAL, 1.0)
                started = time.monotonic()
        assert time.monotonic() - started < 3
    finally:
        guard.cancel()
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
    assert requested == ["SIGALRM"]
    health = src.health()
    assert health.state == "closed" and not health.gone and health.reconnects == 0
