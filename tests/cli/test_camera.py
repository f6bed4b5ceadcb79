"""`fer-edge camera` on video files (no camera in CI): summary, recording, profiles and clean exits."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import cv2
import numpy as np
import pytest

from fer_edge.cli.main import main
from fer_edge.runtime.timing import STAGES
from fer_edge.testing.generate import face_scene, write_video


@pytest.fixture(scope="module")
def clip(tmp_path_factory):
    d = tmp_path_factory.mktemp("clip")
    return write_video(d / "clip.avi", [face_scene((220 + 6 * i, 240)) for i in range(24)], fps=24.0)


def run(args, capsys):
    code = main(["camera", *map(str, args)])
    out, err = capsys.readouterr()
    return code, out, err


def test_video_source_headless_writes_the_summary(tflite_models, clip, tmp_path, capsys):
    summary = tmp_path / "s.json"
    args = ["--source", clip, "--model", tflite_models["cnn-int8"], "--headless", "--max-frames", 20]
    code, out, err = run([*args, "--summary-json", summary, "--print-every", 0], capsys)
    assert code == 0, err
    s = json.loads(summary.read_text())
    assert s["frames"] == 20 and s["ended"] == "max frames reached" and s["source_kind"] == "video"
    assert s["interpreter"]["backend"] in ("litert", "tflite-runtime", "tensorflow") and s["threads"] == 1
    for stage in ("capture", "detect", "preprocess", "classify", "processing", "total"):
        st = s["stages_ms"][stage]
        assert st["frames"] == 20 and 0 <= st["p50"] <= st["p95"] <= st["p99"] <= st["max"]
    assert s["stages_ms"]["draw"]["frames"] == 0  # headless, not recording: nothing drawn
    assert 0.0 <= s["within_budget"]["processing"] <= 1.0 and s["bottleneck_p95"] in STAGES
    assert out.splitlines()[0].startswith("interpreter: ")
    assert "ended: max frames reached" in out and "p95" in out and f"summary saved to {summary}" in out
    code, out, err = run([*args, "--summary-json", summary], capsys)  # never overwritten silently
    assert code == 2 and "--force" in err


def test_end_of_stream_smoothing_detect_every_and_record(tflite_models, clip, tmp_path, capsys):
    summary, rec = tmp_path / "s.json", tmp_path / "rec.mp4"
    code, out, err = run(
        ["--source", clip, "--model", tflite_models["probe-f32"], "--smooth", "--detect-every", 3]
        + ["--record", rec, "--summary-json", summary, "--print-every", 0.001],
        capsys,
    )
    assert code == 0, err
    s = json.loads(summary.read_text())
    assert s["ended"] == "end of stream" and s["frames"] == 24
    assert s["smooth"] is True and s["detect_every"] == 3
    assert s["stages_ms"]["draw"]["frames"] == 24  # recording draws the overlay
    assert sum(line.startswith("frames ") for line in out.splitlines()) >= 2  # periodic stats lines
    cap = cv2.VideoCapture(str(rec))
    assert int(cap.get(cv2.CAP_PROP_FRAME_COUNT)) == 24 and cap.get(cv2.CAP_PROP_FPS) == pytest.approx(24, abs=0.5)
    ok, first = cap.read()
    cap.release()
    assert ok and np.abs(first.astype(int) - face_scene((220, 240)).astype(int)).max() > 100  # annotated


def test_missing_file_is_one_line(tmp_path, capsys):
    code, out, err = run(["--source", tmp_path / "nope.mp4", "--summary-json", tmp_path / "s.json"], capsys)
    assert code == 2 and err.strip() == f"error: {tmp_path / 'nope.mp4'}: no such file or folder"


def test_camera_that_does_not_open_still_writes_the_summary(tflite_models, tmp_path, capsys):
    summary = tmp_path / "s.json"
    code, out, err = run(["--source", "97", "--model", tflite_models["probe-f32"], "--summary-json", summary], capsys)
    assert code == 2
    assert err.strip().startswith("error: camera 97 did not open") and len(err.strip().splitlines()) == 1
    s = json.loads(summary.read_text())
    assert s["frames"] == 0 and s["ended"].startswith("error: camera 97")


def test_corrupt_video_exits_non_zero(tflite_models, tmp_path, capsys):
    bad = tmp_path / "bad.avi"
    bad.write_bytes(os.urandom(4096))
    code, out, err = run(
        ["--source", bad, "--model", tflite_models["probe-f32"], "--summary-json", tmp_path / "s.json"], capsys
    )
    assert code == 1 and "nothing could be read" in err and "bad.avi" in err


def test_device_profile_applies_and_explicit_options_win(tflite_models, clip, tmp_path, monkeypatch, capsys):
    from fer_edge.runtime import devices

    profiles = tmp_path / "devices"
    profiles.mkdir()
    monkeypatch.setattr(devices, "DEVICES_DIR", profiles)
    profile = {
        "name": "tiny-board",
        "threads": 2,
        "precision": "int8",
        "detector": {"detect_every": 2, "min_score": 0.6},
        "camera": {"width": 320, "height": 240, "fps": 15},
    }
    (profiles / "tiny-board.json").write_text(json.dumps(profile))
    base = ["--source", clip, "--model", tflite_models["probe-f32"], "--max-frames", 4, "--device", "tiny-board"]
    code, out, err = run([*base, "--summary-json", tmp_path / "a.json"], capsys)
    assert code == 0, err
    a = json.loads((tmp_path / "a.json").read_text())
    assert (a["threads"], a["detect_every"], a["min_score"], a["device"]) == (2, 2, 0.6, "tiny-board")
    assert "device profile: tiny-board" in out and "2 threads" in out
    code, out, err = run([*base, "--threads", 1, "--detect-every", 1, "--summary-json", tmp_path / "b.json"], capsys)
    b = json.loads((tmp_path / "b.json").read_text())
    assert (b["threads"], b["detect_every"], b["min_score"]) == (1, 1, 0.6)
    code, out, err = run(["--source", clip, "--device", "pi-99"], capsys)
    assert code == 2 and err.strip() == "error: unknown device profile 'pi-99'; available: tiny-board"


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_interrupt_ends_cleanly_with_the_summary(tflite_models, tmp_path, sig):
    long_clip = write_video(tmp_path / "long.avi", [face_scene((220 + (i % 40) * 5, 240), s=150) for i in range(400)])
    summary = tmp_path / "s.json"
    proc = subprocess.Popen(
        [sys.executable, "-m", "fer_edge.cli.main", "camera", "--source", str(long_clip), "--model"]
        + [str(tflite_models["probe-f32"]), "--summary-json", str(summary), "--print-every", "0.2"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:  # wait until the loop runs
            line = proc.stdout.readline()
            if line.startswith("frames ") or not line:
                break
        proc.send_signal(sig)
        out, err = proc.communicate(timeout=60)
    finally:
        proc.kill()
    assert proc.returncode == 0, err
    assert "Traceback" not in err
    s = json.loads(summary.read_text())
    assert 0 < s["frames"] < 400
    assert s["ended"] == ("interrupted (Ctrl-C)" if sig == signal.SIGINT else "stopped by SIGTERM")
    assert "summary saved to" in out
