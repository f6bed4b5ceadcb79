"""`fer-edge predict` on images, folders and videos: records, formats, annotated output, failures."""

from __future__ import annotations

import csv
import io
import json
import subprocess
import sys

import cv2
import numpy as np
import pytest

from fer_edge.cli.main import main
from fer_edge.labels import EMOTIONS
from fer_edge.testing.generate import face_scene, write_video


@pytest.fixture(scope="module")
def media(tmp_path_factory):
    d = tmp_path_factory.mktemp("media")
    cv2.imwrite(str(d / "one.jpg"), face_scene((320, 240)))
    cv2.imwrite(str(d / "two.png"), face_scene([(170, 240), (470, 240)], s=180))
    cv2.imwrite(str(d / "empty.png"), np.full((240, 320, 3), 90, np.uint8))
    (d / "broken.jpg").write_bytes(b"\xff\xd8 not really")
    write_video(d / "walk.avi", [face_scene((200 + 8 * i, 240)) for i in range(8)], fps=10.0)
    return d


def run(args, capsys):
    code = main(["predict", *map(str, args)])
    out, err = capsys.readouterr()
    return code, out, err


def test_json_records_per_face_with_seven_probabilities(tflite_models, media, capsys):
    code, out, err = run(
        [media / "one.jpg", media / "two.png", "--model", tflite_models["cnn-int8"], "--format", "json"], capsys
    )
    assert code == 0, err
    recs = json.loads(out)
    assert [r["source"].rsplit("/", 1)[-1] for r in recs] == ["one.jpg", "two.png", "two.png"]
    assert [r["track_id"] for r in recs] == [1, 1, 2]  # ids count per file
    for r in recs:
        probs = [r[f"p_{e}"] for e in EMOTIONS]
        assert abs(sum(probs) - 1) < 0.03 and r["label"] in EMOTIONS and r["score"] == max(probs)
        assert 0 <= r["x1"] < r["x2"] <= 640 and r["det_score"] > 0.5
    assert abs((recs[0]["x1"] + recs[0]["x2"]) / 2 - 320) < 15
    assert "interpreter: litert" in err or "interpreter:" in err


def test_video_gives_one_record_per_face_per_frame_with_time_and_track(tflite_models, media, capsys):
    code, out, err = run([media / "walk.avi", "--model", tflite_models["probe-f32"], "--format", "csv"], capsys)
    assert code == 0, err
    rows = list(csv.DictReader(io.StringIO(out)))
    assert [int(r["frame"]) for r in rows] == list(range(8))
    assert [float(r["timestamp_s"]) for r in rows] == pytest.approx([i / 10 for i in range(8)])
    assert {r["track_id"] for r in rows} == {"1"}
    xs = [(float(r["x1"]) + float(r["x2"])) / 2 for r in rows]
    assert xs[-1] - xs[0] == pytest.approx(56, abs=10)  # the face moved 8 px a frame
    assert "1 video(s) (8 frames)" in err


def test_unreadable_files_are_reported_and_skipped_and_the_exit_code_says_so(tflite_models, media, capsys):
    code, out, err = run(
        [media, media / "missing.jpg", "--model", tflite_models["probe-f32"], "--format", "json"], capsys
    )
    assert code == 1
    recs = json.loads(out)  # the readable inputs were still processed
    names = {r["source"].rsplit("/", 1)[-1] for r in recs if r.get("faces") != 0}
    assert names == {"one.jpg", "two.png", "walk.avi"}
    faceless = [r for r in recs if r.get("faces") == 0]  # a face-less image is a record too, not silence
    assert [r["source"].rsplit("/", 1)[-1] for r in faceless] == ["empty.png"] and faceless[0]["label"] is None
    assert "warning: " in err and "broken.jpg" in err and "missing.jpg: no such file or folder" in err
    assert err.strip().splitlines()[-1].startswith("error: 2 input(s) could not be read")
    assert "1 image(s) or frame(s) without a face" in err  # empty.png


def test_table_output_and_whole_frame_detector(tflite_models, tmp_path, capsys):
    crop = tmp_path / "crop.png"
    cv2.imwrite(str(crop), np.full((48, 48), 130, np.uint8))
    code, out, err = run([crop, "--model", tflite_models["probe-int8"], "--detector", "whole-frame"], capsys)
    assert code == 0, err
    lines = out.splitlines()
    assert lines[0].split()[:3] == ["source", "frame", "time_s"] and len(lines) == 2
    assert " happy " in lines[1] and "0,0,48,48" in lines[1]
    assert "whole frame" in err


def test_save_annotated_writes_images_and_videos_and_needs_force_to_replace(tflite_models, media, tmp_path, capsys):
    out_dir = tmp_path / "ann"
    args = [media / "one.jpg", media / "walk.avi", "--model", tflite_models["probe-f32"], "--save-annotated", out_dir]
    code, _, err = run(args, capsys)
    assert code == 0, err
    assert sorted(p.name for p in out_dir.iterdir()) == ["one.jpg", "walk.mp4"]
    annotated = cv2.imread(str(out_dir / "one.jpg"))
    assert annotated.shape == (480, 640, 3) and np.abs(annotated.astype(int) - face_scene().astype(int)).max() > 100
    cap = cv2.VideoCapture(str(out_dir / "walk.mp4"))
    assert int(cap.get(cv2.CAP_PROP_FRAME_COUNT)) == 8
    cap.release()
    code, _, err = run(args, capsys)
    assert code == 2 and "already exists" in err and "--force" in err
    code, _, err = run([*args, "--force"], capsys)
    assert code == 0, err


def test_bad_model_is_one_line_and_no_traceback(media, tmp_path):
    junk = tmp_path / "junk.tflite"
    junk.write_bytes(b"junk")
    proc = subprocess.run(
        [sys.executable, "-m", "fer_edge.cli.main", "predict", str(media / "one.jpg"), "--model", str(junk)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 2
    errors = [ln for ln in proc.stderr.splitlines() if ln.startswith("error:")]
    assert len(errors) == 1 and "junk.tflite" in errors[0]
    assert "Traceback" not in proc.stderr


def test_no_default_model_message(media, tmp_path, monkeypatch, capsys):
    from fer_edge.runtime import classifier

    monkeypatch.setattr(classifier, "MODELS_DIR", tmp_path)
    monkeypatch.setattr(classifier, "DEFAULT_MODEL", tmp_path / "default.tflite")
    code, _, err = run([media / "one.jpg"], capsys)
    assert code == 2
    assert err.strip() == (
        "error: no default model in this install; pass --model PATH.tflite (make one with fer-edge convert)"
    )


def test_a_camera_is_not_a_predict_input(tflite_models, capsys):
    code, _, err = run(["0", "--model", tflite_models["probe-f32"]], capsys)
    assert code == 2 and "fer-edge camera --source 0" in err  # nothing could be processed: bad input
