"""IoU tracker, EMA smoother and the stage meter, on values we choose."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from fer_edge.runtime.detector import BBox, Detection
from fer_edge.runtime.smoothing import EmaSmoother
from fer_edge.runtime.timing import FrameTimer, LatencyHistogram, StageMeter
from fer_edge.runtime.tracking import IoUTracker


def _det(x: float, y: float, s: float = 100.0) -> Detection:
    return Detection(BBox(x, y, x + s, y + s), 0.9)


def test_tracks_keep_their_ids_while_faces_move():
    tr = IoUTracker()
    first = tr.update([_det(0, 0), _det(300, 0)])
    assert [t.track_id for t in first] == [1, 2]
    for step in range(1, 6):  # both move 10 px a frame; order of detections swapped
        out = tr.update([_det(300 + 10 * step, 0), _det(10 * step, 0)])
        assert [t.track_id for t in out] == [2, 1]


def test_new_faces_get_new_ids_and_lost_tracks_expire():
    tr = IoUTracker(max_misses=2)
    tr.update([_det(0, 0)])
    assert [t.track_id for t in tr.update([_det(0, 0), _det(400, 0)])] == [1, 2]
    for _ in range(2):  # face 1 missed twice: kept
        assert [t.track_id for t in tr.update([_det(400, 0)])] == [2]
    assert tr.active_ids == {1, 2}
    tr.update([_det(400, 0)])  # third miss: dropped
    assert tr.active_ids == {2}
    assert [t.track_id for t in tr.update([_det(0, 0), _det(400, 0)])] == [3, 2]  # ids not reused
    assert [t.track_id for t in tr.current()] == [2, 3]
    tr.reset()
    assert tr.current() == [] and [t.track_id for t in tr.update([_det(0, 0)])] == [1]


def test_a_jump_beyond_the_iou_threshold_is_a_new_track():
    tr = IoUTracker(iou_threshold=0.3)
    tr.update([_det(0, 0)])
    assert tr.update([_det(70, 0)])[0].track_id == 2  # IoU 30/170 < 0.3


def test_ema_smoother_per_track_and_pruning():
    sm = EmaSmoother(alpha=0.5)
    a, b = np.eye(7, dtype=np.float32)[0], np.eye(7, dtype=np.float32)[3]
    assert np.allclose(sm.update(1, a), a)  # first frame passes through
    assert np.allclose(sm.update(1, b), 0.5 * a + 0.5 * b)
    assert np.allclose(sm.update(1, b), 0.25 * a + 0.75 * b)
    assert np.allclose(sm.update(2, b), b)  # another track has its own state
    sm.prune({2})
    assert len(sm) == 1 and np.allclose(sm.update(1, a), a)
    with pytest.raises(ValueError):
        EmaSmoother(alpha=0.0)


def test_histogram_percentiles_within_half_a_percent():
    rng = np.random.default_rng(0)
    samples = rng.lognormal(mean=1.0, sigma=0.6, size=5000)
    h = LatencyHistogram()
    for v in samples:
        h.add(float(v))
    for q in (50, 95, 99):
        exact = np.percentile(samples, q, method="inverted_cdf")
        assert h.percentile(q) == pytest.approx(exact, rel=0.006)
    assert h.count == 5000 and h.max == pytest.approx(samples.max())
    assert math.isnan(LatencyHistogram().percentile(50))


def test_stage_meter_summary_and_budget_share():
    meter = StageMeter()
    for i in range(100):
        # processing 10 ms always; capture 20 ms, or 30 ms on every 4th frame -> total 40 ms
        meter.add({"capture": 30.0 if i % 4 == 0 else 20.0, "detect": 6.0, "preprocess": 1.0, "classify": 3.0})
    s = meter.summary()
    json.dumps(s)  # plain JSON types
    assert s["frames"] == 100 and s["budget_ms"] == pytest.approx(33.333)
    assert s["within_budget"] == {"processing": 1.0, "total": 0.75}
    st = s["stages_ms"]
    assert st["detect"]["p50"] == pytest.approx(6.0, rel=0.006)
    assert st["processing"]["p99"] == pytest.approx(10.0, rel=0.006)
    assert st["total"]["p50"] == pytest.approx(30.0, rel=0.006) and st["total"]["p99"] == pytest.approx(40.0, rel=0.006)
    assert st["draw"]["frames"] == 0  # a stage that never ran is listed with no numbers
    assert s["bottleneck_p95"] == "capture"
    assert "capture" in meter.format_line() and "within 33.3 ms: 100.0%" in meter.format_line()
    assert "processing 100.0%, total incl. capture 75.0%" in meter.format_summary()
    meter.reset()
    assert meter.summary()["frames"] == 0 and "no frames" in meter.format_summary()


def test_frame_timer_adds_repeated_stages():
    t = FrameTimer()
    for _ in range(3):
        with t.stage("detect"):
            sum(range(1000))
    with t.stage("classify"):
        pass
    assert set(t.ms) == {"detect", "classify"} and t.ms["detect"] > 0 and t.ms["classify"] >= 0
