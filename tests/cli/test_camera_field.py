"""`fer-edge camera` left running: a real MJPEG network camera that drops off, stalls or goes for good; the
per-face event stream (rotation, SIGKILL); the live page's endpoints from a running camera; systemd's notify
socket. Real parts only: an HTTP server on 127.0.0.1, the CLI in a subprocess, real signals and sockets."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from fer_edge.runtime.classifier import DEFAULT_MODEL
from fer_edge.testing.generate import face_scene, write_video
from fer_edge.testing.mjpeg_server import MjpegServer

pytestmark = pytest.mark.skipif(not DEFAULT_MODEL.is_file(), reason="this checkout ships no default model")

CAMERA = [sys.executable, "-m", "fer_edge.cli.main", "camera", "--headless", "--print-every", "0"]


def scenes(n: int = 20) -> list:
    return [face_scene((220 + 8 * i, 240)) for i in range(n)]


def start(args: list[str], cwd: Path, **env: str) -> subprocess.Popen:
    return subprocess.Popen(
        [*CAMERA, *args],
        cwd=cwd,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, **env},
    )


def wait_for_lines(path: Path, n: int, proc: subprocess.Popen, timeout: float = 60.0) -> int:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        lines = path.read_text().count("\n") if path.exists() else 0
        if lines >= n:
            return lines
        if proc.poll() is not None:
            raise AssertionError(f"camera ended early: {proc.communicate()}")
        time.sleep(0.1)
    raise AssertionError(f"{path} did not reach {n} lines")


def finish(proc: subprocess.Popen, timeout: float = 60.0) -> tuple[int, str, str]:
    try:
        out, err = proc.communicate(timeout=timeout)
    finally:
        proc.kill()
    return proc.returncode, out, err


def records(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_a_network_camera_that_drops_off_is_reconnected(tmp_path):
    with MjpegServer(scenes(), fps=20.0) as cam:
        ev, summary = tmp_path / "ev.jsonl", tmp_path / "s.json"
        proc = start(
            ["--source", cam.url, "--events", str(ev), "--summary-json", str(summary), "--max-frames", "80"]
            + ["--stall-timeout", "1"],
            tmp_path,
        )
        before = wait_for_lines(ev, 15, proc)
        cam.stop()  # the camera goes away for 3 s ...
        time.sleep(3.0)
        cam.start()  # ... and comes back on the same port
        code, out, err = finish(proc)
    assert code == 0, err
    s = json.loads(summary.read_text())
    assert s["ended"] == "max frames reached" and s["frames"] == 80
    assert s["reconnects"] == 1 and s["stalls"] >= 0 and s["dropped_frames"] >= 0
    recs = records(ev)
    assert len(recs) > before and recs[-1]["frame"] > recs[before - 1]["frame"]  # events went on after it
    frames = [r["frame"] for r in recs]
    assert frames == sorted(frames)  # indexes keep increasing across the reconnect
    assert "1 reconnect(s)" in out


def test_a_stalled_camera_is_detected_and_reopened(tmp_path):
    with MjpegServer(scenes(), fps=20.0) as cam:
        ev, summary = tmp_path / "ev.jsonl", tmp_path / "s.json"
        proc = start(
            ["--source", cam.url, "--events", str(ev), "--summary-json", str(summary), "--max-frames", "60"]
            + ["--stall-timeout", "1"],
            tmp_path,
        )
        wait_for_lines(ev, 10, proc)
        cam.stall(2.5)  # the connection stays open, nothing arrives
        code, out, err = finish(proc)
    assert code == 0, err
    s = json.loads(summary.read_text())
    assert s["frames"] == 60 and s["stalls"] >= 1 and s["reconnects"] >= 1


def test_a_camera_gone_for_good_exits_non_zero_with_the_summary(tmp_path):
    with MjpegServer(scenes(), fps=20.0) as cam:
        ev, summary = tmp_path / "ev.jsonl", tmp_path / "s.json"
        proc = start(
            ["--source", cam.url, "--events", str(ev), "--summary-json", str(summary)]
            + ["--stall-timeout", "1", "--max-reconnects", "1"],
            tmp_path,
        )
        wait_for_lines(ev, 5, proc)
        cam.stop()  # never back
        code, out, err = finish(proc)
    assert code == 1
    errors = [line for line in err.splitlines() if line.startswith("error: ")]
    assert len(errors) == 1 and "gone" in errors[0] and "Traceback" not in err
    # the rest is the reconnect attempts as warnings (they go to the journal) and LiteRT's delegate note
    assert all(line.startswith(("warning: ", "error: ", "INFO: ")) for line in err.splitlines())
    s = json.loads(summary.read_text())
    assert s["ended"].startswith("source gone") and s["frames"] >= 5


def test_sigterm_while_reconnecting_ends_cleanly(tmp_path):
    with MjpegServer(scenes(), fps=20.0) as cam:
        ev, summary = tmp_path / "ev.jsonl", tmp_path / "s.json"
        proc = start(["--source", cam.url, "--events", str(ev), "--summary-json", str(summary)], tmp_path)
        wait_for_lines(ev, 5, proc)
        cam.stop()
        time.sleep(1.5)  # the loop now waits for the camera to come back
        t0 = time.monotonic()
        proc.send_signal(signal.SIGTERM)
        code, out, err = finish(proc, timeout=30)
        took = time.monotonic() - t0
    assert code == 0, err
    assert took < 10  # the loop listens for signals while it waits (generous bound, not a timing test)
    s = json.loads(summary.read_text())
    assert s["ended"] == "stopped by SIGTERM" and s["frames"] >= 5


@pytest.fixture(scope="module")
def clip(tmp_path_factory):
    return write_video(tmp_path_factory.mktemp("clip") / "clip.avi", scenes(30), fps=30.0)


def test_events_rotate_and_survive_sigkill(clip, tmp_path):
    ev = tmp_path / "ev.jsonl"
    proc = start(
        ["--source", str(clip), "--loop", "--events", str(ev), "--events-max-mb", "0.01", "--events-keep", "2"]
        + ["--summary-json", str(tmp_path / "s.json")],
        tmp_path,
    )
    deadline = time.monotonic() + 60
    while not (tmp_path / "ev.jsonl.2").exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)
    proc.communicate(timeout=30)
    files = sorted(tmp_path.glob("ev.jsonl*"))
    assert [f.name for f in files] == ["ev.jsonl", "ev.jsonl.1", "ev.jsonl.2"]  # keep 2: no .3
    for f in files[1:]:  # rotated files are whole and about the size asked for
        assert 10_000 <= f.stat().st_size < 12_000
        assert all(json.loads(line)["label"] for line in f.read_text().splitlines())
    lines = files[0].read_text().splitlines()
    for line in lines[:-1]:  # every line but the last is whole after SIGKILL
        json.loads(line)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_the_live_page_serves_stats_metrics_and_events_from_a_running_camera(clip, tmp_path):
    port = free_port()
    proc = start(
        ["--source", str(clip), "--realtime", "--loop", "--serve", f"127.0.0.1:{port}"]
        + ["--summary-json", str(tmp_path / "s.json")],
        tmp_path,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        stats = {}
        while time.monotonic() < deadline and not stats.get("frames"):
            try:
                stats = json.loads(urllib.request.urlopen(base + "/stats.json", timeout=5).read())
            except OSError:
                time.sleep(0.2)
        assert stats["frames"] > 0 and stats["budget_ms"] == pytest.approx(33.333, abs=0.01)
        assert "detect" in stats["stages_ms"] and stats["reconnects"] == 0
        metrics = urllib.request.urlopen(base + "/metrics", timeout=5).read().decode()
        for name in ("fer_edge_frames_total", "fer_edge_faces_total", "fer_edge_dropped_frames_total"):
            assert f"\n{name} " in metrics or metrics.startswith(f"{name} ") or f"# TYPE {name}" in metrics
        with urllib.request.urlopen(base + "/events", timeout=10) as stream:
            line = b""
            while not line.startswith(b"data: "):
                line = stream.readline()
        record = json.loads(line[len(b"data: ") :])
        assert {"track_id", "label", "score", "x1"} <= set(record)
        page = urllib.request.urlopen(base + "/", timeout=5).read().decode()
        assert "/stream.mjpg" in page and "http://" not in page.replace(base, "")  # no asset from elsewhere
    finally:
        proc.send_signal(signal.SIGINT)
        code, out, err = finish(proc)
    assert code == 0, err
    assert json.loads((tmp_path / "s.json").read_text())["ended"] == "interrupted (Ctrl-C)"


def test_systemd_notify_socket_gets_ready_watchdog_and_stopping(clip, tmp_path):
    path = str(tmp_path / "notify")
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(path)
    sock.settimeout(60)
    try:
        proc = subprocess.Popen(
            [*CAMERA, "--source", str(clip), "--max-frames", "20", "--summary-json", str(tmp_path / "s.json")],
            cwd=tmp_path,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env={**os.environ, "NOTIFY_SOCKET": path, "WATCHDOG_USEC": "1000000"},
        )
        got = []
        while "STOPPING=1" not in got:
            got.append(sock.recv(256).decode().split("\n")[0])
        code, _, err = finish(proc)
    finally:
        sock.close()
    assert code == 0, err
    assert got[0] == "READY=1" and "WATCHDOG=1" in got
