"""Signals and killed runs, in real subprocesses: SIGTERM stops a command as Ctrl-C does (complete
records so far, no partial files, exit 130; `camera` ends normally with 0), and what a SIGKILL leaves
behind is removed by the next run that writes beside it."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import cv2
import numpy as np
import pytest

from fer_edge.cli.main import main

REPO = Path(__file__).resolve().parents[2]


def spawn(args: list, out: Path, err: Path) -> subprocess.Popen:
    env = dict(os.environ, PYTHONPATH=str(REPO) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    return subprocess.Popen(
        [sys.executable, "-m", "fer_edge.cli.main", *map(str, args)],
        stdout=out.open("wb"),
        stderr=err.open("wb"),
        env=env,
        start_new_session=True,
    )


def wait_for(condition: Callable[[], bool], proc: subprocess.Popen, timeout: float = 120) -> None:
    end = time.monotonic() + timeout
    while not condition():
        if proc.poll() is not None:
            pytest.fail(f"the command ended (exit {proc.returncode}) before the condition held")
        if time.monotonic() > end:
            proc.kill()
            pytest.fail("timed out waiting for the command")
        time.sleep(0.02)


def temp_files(folder: Path) -> list[Path]:
    return [p for p in folder.rglob("*") if p.name.endswith(".tmp") or ".partial" in p.name]


def one_error_line(err: str) -> str:
    lines = [ln for ln in err.splitlines() if ln.startswith("error:")]
    assert len(lines) == 1 and "Traceback" not in err, err
    return lines[0]


@pytest.fixture(scope="module")
def long_clip(tmp_path_factory) -> Path:
    """A face-less 2000-frame video: long enough to be stopped part-way."""
    path = tmp_path_factory.mktemp("clip") / "long.avi"
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), 30.0, (160, 120))
    for i in range(2000):
        writer.write(np.full((120, 160, 3), (i * 7) % 200 + 20, np.uint8))
    writer.release()
    return path


def test_predict_sigterm_closes_the_json_after_complete_records_and_removes_partial_video(long_clip, tmp_path):
    ann = tmp_path / "ann"
    out, err = tmp_path / "out.json", tmp_path / "err.txt"
    proc = spawn(["predict", long_clip, "--format", "json", "--save-annotated", ann], out, err)
    wait_for(lambda: bool(temp_files(tmp_path)) and out.stat().st_size > 2000, proc)
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=60) == 130
    records = json.loads(out.read_text())  # a complete JSON array, not cut mid-record
    assert len(records) >= 1 and [r["frame"] for r in records] == list(range(len(records)))
    assert all(r["faces"] == 0 for r in records)  # face-less frames are records too
    assert "interrupted by SIGTERM" in one_error_line(err.read_text())
    assert not temp_files(tmp_path)  # the half-written annotated video is gone


def test_camera_sigterm_is_a_normal_end_with_the_recording_and_summary(long_clip, tmp_path):
    out, err = tmp_path / "out.txt", tmp_path / "err.txt"
    summary, record = tmp_path / "s.json", tmp_path / "rec.avi"
    proc = spawn(
        ["camera", "--source", long_clip, "--headless", "--print-every", "0", "--summary-json", summary,
         "--record", record],
        out,
        err,
    )  # fmt: skip
    wait_for(lambda: bool(temp_files(tmp_path)), proc)  # recording has begun
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=60) == 0, err.read_text()
    s = json.loads(summary.read_text())
    assert s["ended"] == "stopped by SIGTERM" and s["frames"] > 0
    assert record.exists() and not temp_files(tmp_path)
    assert "error:" not in err.read_text() and "Traceback" not in err.read_text()


def _start_big_synthetic(tmp_path: Path) -> tuple[subprocess.Popen, Path]:
    dst = tmp_path / "big"
    proc = spawn(["data", "synthetic", dst, "-n", "8000", "--to", "dir"], tmp_path / "o", tmp_path / "e")
    wait_for(lambda: any(p.name.startswith(".big.") for p in tmp_path.iterdir()), proc)
    time.sleep(0.3)  # some files written inside the temporary folder
    return proc, dst


def test_data_sigterm_removes_the_half_written_dataset(tmp_path):
    proc, dst = _start_big_synthetic(tmp_path)
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=60) == 130
    assert "interrupted by SIGTERM" in one_error_line((tmp_path / "e").read_text())
    assert not dst.exists() and not temp_files(tmp_path)


def test_leftovers_of_a_killed_run_are_removed_by_the_next_run(tmp_path, capsys):
    proc, dst = _start_big_synthetic(tmp_path)
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=60)
    left = temp_files(tmp_path)
    assert left and all(f".{proc.pid}." in p.name for p in left)  # the owner's pid is in the name
    # a temporary output of a process that still runs is not touched
    alive = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        busy = tmp_path / f".other.{alive.pid}.abcd1234.tmp"
        busy.write_text("in progress")
        assert main(["data", "synthetic", str(tmp_path / "small"), "-n", "14"]) == 0
        assert temp_files(tmp_path) == [busy]
    finally:
        alive.kill()
        alive.wait()


@pytest.mark.slow
@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGKILL])
def test_train_model_stopped_mid_run_leaves_no_run_folder_behind(sig, tmp_path, capsys):
    data = tmp_path / "data"
    assert main(["data", "synthetic", str(data), "-n", "350"]) == 0
    capsys.readouterr()
    run = tmp_path / "run"
    proc = spawn(
        ["train", "model", "--arch", "paper1-cnn", "--data", data, "--epochs", "50", "--out", run],
        tmp_path / "o",
        tmp_path / "e",
    )
    # training under way: the first epoch's history is in the temporary run folder
    wait_for(lambda: any(tmp_path.glob(".run.*.tmp/history.csv")), proc, timeout=300)
    proc.send_signal(sig)
    code = proc.wait(timeout=120)
    assert not run.exists(), (tmp_path / "e").read_text()[-2000:]
    if sig == signal.SIGTERM:
        assert code == 130 and "interrupted by SIGTERM" in one_error_line((tmp_path / "e").read_text())
        assert not temp_files(tmp_path)
    else:  # SIGKILL cannot be handled: the leftover goes at the next write in this folder
        assert temp_files(tmp_path)
        assert main(["data", "synthetic", str(tmp_path / "next"), "-n", "14"]) == 0
        assert not temp_files(tmp_path)
