"""The frame pipeline end to end on drawn faces, plus sinks, overlay and device profiles."""

from __future__ import annotations

import csv
import io
import json

import cv2
import numpy as np
import pytest

from fer_edge.errors import FerEdgeError
from fer_edge.runtime.classifier import EmotionClassifier, crop_face
from fer_edge.runtime.detector import BlazeFaceDetector, WholeFrameDetector
from fer_edge.runtime.devices import available_profiles, load_profile
from fer_edge.runtime.overlay import draw_result
from fer_edge.runtime.pipeline import FramePipeline
from fer_edge.runtime.sinks import RecordWriter, VideoSink, face_records
from fer_edge.runtime.smoothing import EmaSmoother
from fer_edge.runtime.sources import Frame, Source
from fer_edge.testing.generate import face_scene, probe_label

PALE, DARK = (200, 215, 235), (40, 60, 90)  # two skin tones: gray crops land in different probe bins


@pytest.fixture(scope="module")
def blazeface():
    return BlazeFaceDetector.create()


class CountingDetector:
    def __init__(self, inner):
        self.inner, self.calls, self.crop = inner, 0, inner.crop

    def detect(self, frame):
        self.calls += 1
        return self.inner.detect(frame)

    def close(self):
        pass


def test_two_faces_get_boxes_labels_and_stable_tracks(blazeface, tflite_models):
    clf = EmotionClassifier.create(tflite_models["probe-f32"])
    pipe = FramePipeline(blazeface, clf)
    ids = None
    for shift in range(0, 50, 10):
        frame = face_scene([(170 + shift, 240), (470 + shift, 240)], s=180, skins=[PALE, DARK])
        result = pipe.process(frame)
        faces = sorted(result.faces, key=lambda f: f.bbox.x1)
        assert len(faces) == 2
        assert abs(faces[0].bbox.center[0] - (170 + shift)) < 15 and abs(faces[1].bbox.center[0] - (470 + shift)) < 15
        for face in faces:  # the label is what the probe says about this face's own crop
            crop = crop_face(frame, face.bbox, blazeface.crop)
            assert face.label == clf.labels[probe_label(float(crop.mean()))]
            assert face.scores.shape == (7,) and face.label == clf.labels[int(np.argmax(face.scores))]
        assert faces[0].label != faces[1].label  # pale and dark faces: different brightness bins
        now = [f.track_id for f in faces]
        assert ids is None or now == ids
        ids = now
        assert set(result.timings) == {"detect", "preprocess", "classify"}
        assert result.detected


def test_detect_every_n_runs_the_detector_on_every_nth_frame_and_carries_boxes(blazeface, tflite_models):
    counting = CountingDetector(blazeface)
    pipe = FramePipeline(counting, EmotionClassifier.create(tflite_models["probe-f32"]), detect_every=3)
    results = [pipe.process(face_scene((300 + 2 * i, 240))) for i in range(7)]
    assert counting.calls == 3  # frames 0, 3, 6
    assert [r.detected for r in results] == [True, False, False, True, False, False, True]
    assert results[1].faces[0].bbox == results[0].faces[0].bbox  # carried between detector runs
    assert {f.track_id for r in results for f in r.faces} == {1}
    pipe.reset()
    pipe.process(face_scene())
    assert counting.calls == 4  # a new clip starts with the detector
    with pytest.raises(FerEdgeError, match="detect-every"):
        FramePipeline(blazeface, pipe.classifier, detect_every=0)


def test_smoothing_follows_the_track(tflite_models):
    clf = EmotionClassifier.create(tflite_models["probe-f32"])
    pipe = FramePipeline(WholeFrameDetector(), clf, smoother=EmaSmoother(alpha=0.5))
    dark, bright = np.full((48, 48, 3), 18, np.uint8), np.full((48, 48, 3), 234, np.uint8)
    r0 = pipe.process(dark)
    r1 = pipe.process(bright)
    raw_bright = clf.classify(np.full((48, 48), 234, np.uint8))
    assert np.allclose(r1.faces[0].scores, 0.5 * r0.faces[0].scores + 0.5 * raw_bright, atol=1e-5)
    assert r0.faces[0].label == "angry" and r1.faces[0].track_id == r0.faces[0].track_id


def test_no_face_is_an_empty_result(blazeface, tflite_models):
    pipe = FramePipeline(blazeface, EmotionClassifier.create(tflite_models["probe-f32"]))
    assert pipe.process(np.full((480, 640, 3), 90, np.uint8)).faces == ()


def test_records_table_json_and_csv(tflite_models):
    clf = EmotionClassifier.create(tflite_models["probe-f32"])
    pipe = FramePipeline(WholeFrameDetector(), clf)
    frame = Frame(np.full((48, 48, 3), 130, np.uint8), 4, 0.2, "clip.mp4")
    recs = face_records(frame, pipe.process(frame.image), clf.labels)
    assert len(recs) == 1 and recs[0]["frame"] == 4 and recs[0]["timestamp_s"] == 0.2 and recs[0]["track_id"] == 1
    assert recs[0]["label"] == "happy" and len([k for k in recs[0] if k.startswith("p_")]) == 7
    for fmt in ("json", "csv", "table"):
        buf = io.StringIO()
        w = RecordWriter(fmt, clf.labels, buf)
        w.write(recs)
        w.write(recs)
        w.close()
        text = buf.getvalue()
        if fmt == "json":
            assert json.loads(text) == recs + recs
        elif fmt == "csv":
            rows = list(csv.DictReader(io.StringIO(text)))
            assert len(rows) == 2 and rows[0]["p_happy"] == str(recs[0]["p_happy"])
        else:
            assert len(text.splitlines()) == 3 and "happy" in text.splitlines()[1]
    empty = io.StringIO()
    RecordWriter("json", clf.labels, empty).close()
    assert json.loads(empty.getvalue()) == []


def test_overlay_draws_box_and_label(blazeface, tflite_models):
    pipe = FramePipeline(blazeface, EmotionClassifier.create(tflite_models["probe-f32"]))
    frame = face_scene()
    before = frame.copy()
    result = pipe.process(frame)
    draw_result(frame, result, fps=29.5)
    b = result.faces[0].bbox
    changed = np.any(frame != before, axis=2)
    assert changed[int(b.y1) : int(b.y2), int(b.x1)].mean() > 0.5  # left edge of the box drawn
    assert changed[:20, :60].any()  # FPS text
    assert not changed[400:, 600:].any()


def test_video_sink_writes_then_renames_and_refuses_to_overwrite(tmp_path):
    out = tmp_path / "rec.avi"
    sink = VideoSink(out, fps=15.0)
    for i in range(5):
        sink.write(np.full((48, 64, 3), 40 * i, np.uint8))
    assert not out.exists()  # still partial
    sink.close()
    assert out.exists() and not list(tmp_path.glob(".*partial*"))
    assert [f.index for f in Source(out)] == list(range(5))
    with pytest.raises(FerEdgeError, match="--force"):
        VideoSink(out, fps=15.0)
    with pytest.raises(FerEdgeError, match=".mp4 or .avi"):
        VideoSink(tmp_path / "rec.gif", fps=15.0)


def _profile(**over):
    p = {
        "name": "pi",
        "threads": 4,
        "precision": "int8",
        "detector": {"detect_every": 2, "min_score": 0.6},
        "camera": {"width": 640, "height": 480, "fps": 30},
    }
    p.update(over)
    return p


def test_device_profiles(tmp_path):
    (tmp_path / "pi.json").write_text(json.dumps(_profile()))
    (tmp_path / "broken.json").write_text(json.dumps(_profile(precision="int4")))
    (tmp_path / "notjson.json").write_text("{")
    p = load_profile("pi", tmp_path)
    assert (p.threads, p.precision, p.detect_every, p.min_score) == (4, "int8", 2, 0.6)
    assert (p.camera_width, p.camera_height, p.camera_fps) == (640, 480, 30)
    assert available_profiles(tmp_path) == ["broken", "notjson", "pi"]
    with pytest.raises(FerEdgeError, match="unknown device profile 'pi9'; available: broken, notjson, pi"):
        load_profile("pi9", tmp_path)
    with pytest.raises(FerEdgeError, match="broken.json: not a device profile"):
        load_profile("broken", tmp_path)
    with pytest.raises(FerEdgeError, match="notjson.json: not valid JSON"):
        load_profile("notjson", tmp_path)
    with pytest.raises(FerEdgeError, match="unknown device profile"):
        load_profile("../pi", tmp_path)


def test_gray_crop_of_a_bgr_frame_uses_bt601_weights():
    # the colour contract: BGR in, gray out; a blue-only frame must read dark (0.114), not bright (0.299)
    frame = np.zeros((48, 48, 3), np.uint8)
    frame[..., 0] = 255
    face = crop_face(frame, WholeFrameDetector().detect(frame)[0].bbox, WholeFrameDetector.crop)
    assert abs(int(face.mean()) - 29) <= 1
    assert cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY).mean() == pytest.approx(face.mean(), abs=1)
