"""The public API (``fer_edge.EmotionRecognizer``, ``fer_edge.CameraSession``) on a real photo and a real
two-face clip, with the shipped model: what a developer embedding fer-edge relies on."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest

import fer_edge
from fer_edge.runtime.classifier import DEFAULT_MODEL
from fer_edge.testing.generate import photo_clip

ROOT = Path(__file__).resolve().parents[2]
PHOTO = ROOT / "tests" / "assets" / "astronaut.jpg"  # NASA portrait of Eileen Collins (public domain), via scikit-image

pytestmark = pytest.mark.skipif(not DEFAULT_MODEL.is_file(), reason="this checkout ships no default model")


@pytest.fixture(scope="module")
def recognizer():
    with fer_edge.EmotionRecognizer() as r:
        yield r


@pytest.fixture(scope="module")
def clip(tmp_path_factory):
    return photo_clip(PHOTO, tmp_path_factory.mktemp("clip") / "two.avi")


def test_recognize_a_photo_twice_gives_the_same_answer(recognizer):
    first = recognizer.recognize(cv2.imread(str(PHOTO)))
    again = recognizer.recognize(str(PHOTO))  # a path works too
    assert len(first.faces) == 1 and len(again.faces) == 1
    a, b = first.faces[0], again.faces[0]
    assert a.track_id == b.track_id  # nothing carried from one photo to the next
    assert a.label == b.label and np.array_equal(a.scores, b.scores)
    assert list(a.emotions) == list(recognizer.labels) == list(fer_edge.api.EmotionRecognizer(model=None).labels)
    assert sum(a.emotions.values()) == pytest.approx(1.0, abs=0.03)  # int8 output: steps of 1/256
    assert a.label == max(a.emotions, key=a.emotions.get) == a.top_label
    x1, y1, x2, y2 = a.bbox.as_tuple()
    assert 0 <= x1 < x2 <= 384 and 0 <= y1 < y2 <= 384


def test_stream_tracks_two_faces_with_stable_ids(recognizer, clip):
    results = list(recognizer.stream(clip))
    assert [r.frame_index for r in results] == list(range(30))
    assert results[-1].timestamp_s == pytest.approx(29 / 15, abs=1e-3) and results[0].source == str(clip)
    assert sum(len(r.faces) == 2 for r in results) >= 28
    ids = {f.track_id for r in results for f in r.faces}
    assert len(ids) == 2  # one id per face, all the way through
    left = {f.track_id for r in results for f in r.faces if f.bbox.center[0] < 320}
    assert len(left) == 1


def test_options_as_keywords_or_dataclass_and_uncertain(clip):
    opts = fer_edge.RecognizerOptions(min_confidence=0.999)
    with fer_edge.EmotionRecognizer(opts) as strict, fer_edge.EmotionRecognizer(min_confidence=0.999) as same:
        a, b = strict.recognize(str(PHOTO)).faces[0], same.recognize(str(PHOTO)).faces[0]
    assert a.label == b.label == fer_edge.UNCERTAIN and a.top_label in a.emotions
    assert sum(a.emotions.values()) == pytest.approx(1.0, abs=0.03)  # probabilities are still there
    with pytest.raises(TypeError, match="RecognizerOptions"):
        fer_edge.EmotionRecognizer(not_an_option=1)


def test_bad_images_and_closed_recognizer_are_user_errors(tmp_path):
    bad = tmp_path / "bad.jpg"
    bad.write_bytes(b"not an image")
    r = fer_edge.EmotionRecognizer()
    with pytest.raises(fer_edge.FerEdgeError, match="bad.jpg"):
        r.recognize(bad)
    with pytest.raises(fer_edge.FerEdgeError, match="uint8"):
        r.recognize(np.zeros((10, 10, 3), np.float64))
    assert r.recognize(np.zeros((64, 64), np.uint8)).faces == ()  # gray is fine; no face is an empty tuple
    r.close()
    with pytest.raises(fer_edge.FerEdgeError, match="closed"):
        r.recognize(str(PHOTO))


def test_camera_session_runs_with_listeners_and_events(clip, tmp_path):
    events = tmp_path / "ev.jsonl"
    seen = []
    opts = fer_edge.CameraOptions(
        source=str(clip), max_frames=20, print_every_s=0, summary_json=tmp_path / "s.json", events=events
    )
    lines = []
    with fer_edge.CameraSession(opts, status=lines.append) as session:
        session.add_listener(seen.append)
        summary = session.run()
    assert summary.frames == 20 and summary.error is None and summary.ended == "max frames reached"
    assert len(seen) == 20 and lines[0].startswith("interpreter: ")
    records = [json.loads(line) for line in events.read_text().splitlines()]
    assert len(records) == sum(len(r.faces) for r in seen) == summary.counters["event_records"]
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", records[0]["time"])
    assert {"source", "frame", "timestamp_s", "track_id", "x1", "det_score", "label", "score", "p_happy"} <= set(
        records[0]
    )
    saved = json.loads((tmp_path / "s.json").read_text())
    assert saved["schema_version"] == 1 and saved["frames"] == 20 and saved["events"] == str(events)


def readme_example() -> str:
    text = (ROOT / "README.md").read_text()
    m = re.search(r"<!-- api-example -->\s*```python\n(.*?)```", text, re.S)
    assert m, "README.md lost its api-example block"
    return m.group(1)


def test_the_readme_example_runs_without_tensorflow(clip, tmp_path):
    (tmp_path / "photo.jpg").write_bytes(PHOTO.read_bytes())
    (tmp_path / "clip.mp4").symlink_to(clip)
    code = readme_example() + "\nimport sys\nassert 'tensorflow' not in sys.modules, 'TensorFlow was imported'\n"
    proc = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert "happy" in proc.stdout


def test_predict_and_camera_min_confidence_label_doubtful_faces_uncertain(clip, tmp_path, capsys):
    from fer_edge.cli.main import main

    assert main(["predict", str(PHOTO), "--format", "json", "--min-confidence", "0.999"]) == 0
    (record,) = json.loads(capsys.readouterr().out)
    assert record["label"] == "uncertain" and record["score"] < 0.999
    assert sum(v for k, v in record.items() if k.startswith("p_")) == pytest.approx(1.0, abs=0.03)
    assert main(["predict", str(PHOTO), "--format", "json", "--min-confidence", "0.05"]) == 0
    (record,) = json.loads(capsys.readouterr().out)
    assert record["label"] != "uncertain"
    events = tmp_path / "ev.jsonl"
    args = ["camera", "--source", str(clip), "--headless", "--max-frames", "5", "--print-every", "0"]
    args += ["--min-confidence", "0.999", "--events", str(events), "--summary-json", str(tmp_path / "s.json")]
    assert main(args) == 0
    labels = {json.loads(line)["label"] for line in events.read_text().splitlines()}
    assert labels == {"uncertain"}
    assert json.loads((tmp_path / "s.json").read_text())["min_confidence"] == 0.999
