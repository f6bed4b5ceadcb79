"""End-to-end frame latency of the runtime against the 30 FPS budget (pytest-benchmark).

640x480 frames with one face, decoded from a video file up front (capture and decoding are not
timed), one interpreter thread, BlazeFace on every frame unless said otherwise. The classifier is
the shipped default model when this install has one, else an untrained paper1-cnn int8 (latency does
not depend on the weights). Each test prints wall-clock p50/p95/p99, the headroom p95 leaves against
33.3 ms, the thread CPU time per frame and the load average (the machine may be shared); nothing is
asserted about time.

    .venv/bin/python -m pytest benchmarks/test_bench_runtime.py --benchmark-only -s
"""

from __future__ import annotations

import itertools
import os
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from fer_edge.runtime import classifier as classifier_mod  # noqa: E402
from fer_edge.runtime.classifier import EmotionClassifier, crop_face  # noqa: E402
from fer_edge.runtime.detector import BlazeFaceDetector, DetectorOptions  # noqa: E402
from fer_edge.runtime.overlay import draw_result  # noqa: E402
from fer_edge.runtime.pipeline import FramePipeline  # noqa: E402
from fer_edge.runtime.smoothing import EmaSmoother  # noqa: E402
from fer_edge.runtime.timing import BUDGET_MS  # noqa: E402
from fer_edge.testing.generate import make_models, video_frames  # noqa: E402

ROUNDS = 1000
THREADS = 1


def classifier_path(folder: Path) -> Path:
    if classifier_mod.DEFAULT_MODEL.is_file():
        return classifier_mod.DEFAULT_MODEL
    return make_models(folder, only=("cnn-int8",))["cnn-int8"]


@pytest.fixture(scope="module")
def setup(tmp_path_factory):
    folder = tmp_path_factory.mktemp("bench")
    frames = video_frames(folder)
    clf = EmotionClassifier.create(classifier_path(folder), threads=THREADS)
    det = BlazeFaceDetector.create(DetectorOptions(num_threads=THREADS))
    assert all(len(det.detect(f)) == 1 for f in frames[:10]), "the benchmark frames must hold one detected face"
    return frames, clf, det


class CpuClock:
    """Wraps a step to also record this thread's CPU time per call: with one interpreter thread the
    work runs on the calling thread, so this is the frame's cost without the waits for a CPU that
    other processes cause (wall-clock percentiles include those waits)."""

    def __init__(self, step: Callable[[], object]) -> None:
        self.step, self.ms = step, []

    def __call__(self) -> object:
        t0 = time.thread_time()
        out = self.step()
        self.ms.append((time.thread_time() - t0) * 1000.0)
        return out


def _report(benchmark, name: str, capsys, clock: CpuClock | None = None) -> None:
    data = np.asarray(benchmark.stats.stats.data) * 1000.0
    p50, p95, p99 = np.percentile(data, [50, 95, 99])
    info = {"p50_ms": round(p50, 3), "p95_ms": round(p95, 3), "p99_ms": round(p99, 3), "budget_ms": round(BUDGET_MS, 3)}
    line = (
        f"\n{name}: {len(data)} frames, wall p50 {p50:.2f} ms, p95 {p95:.2f} ms, p99 {p99:.2f} ms; "
        f"headroom at p95 {BUDGET_MS - p95:.1f} ms of {BUDGET_MS:.1f} ms ({p95 / BUDGET_MS:.1%} of the budget)"
    )
    if clock is not None and clock.ms:
        cpu = np.asarray(clock.ms[-len(data) :])
        c50, c95 = np.percentile(cpu, [50, 95])
        info.update({"cpu_p50_ms": round(c50, 3), "cpu_p95_ms": round(c95, 3)})
        line += f"\n    thread CPU time p50 {c50:.2f} ms, p95 {c95:.2f} ms"
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    info["load_avg_1min"] = round(load, 2)
    benchmark.extra_info.update(info)
    with capsys.disabled():
        print(line + f"; load average {load:.1f} on {os.cpu_count()} CPUs")


def _cycle(frames: list[np.ndarray], step: Callable[[np.ndarray], object]) -> CpuClock:
    it = itertools.cycle(frames)
    return CpuClock(lambda: step(next(it)))


def test_end_to_end_frame(benchmark, setup, capsys):
    """detect + crop/gray/resize + classify (+ tracking) per frame: what fer-edge adds to capture."""
    frames, clf, det = setup
    pipe = FramePipeline(det, clf)
    benchmark.extra_info.update({"model": str(clf.info.path), "backend": clf.info.backend, "threads": THREADS})
    clock = _cycle(frames, pipe.process)
    benchmark.pedantic(clock, rounds=ROUNDS, iterations=1, warmup_rounds=30)
    _report(benchmark, "end-to-end (headless)", capsys, clock)


def test_end_to_end_frame_with_overlay_and_smoothing(benchmark, setup, capsys):
    frames, clf, det = setup
    pipe = FramePipeline(det, clf, smoother=EmaSmoother())
    copies = [f.copy() for f in frames]
    clock = _cycle(copies, lambda f: draw_result(f, pipe.process(f), 30.0))
    benchmark.pedantic(clock, rounds=ROUNDS, iterations=1, warmup_rounds=30)
    _report(benchmark, "end-to-end + overlay + smoothing", capsys, clock)


def test_end_to_end_detect_every_3(benchmark, setup, capsys):
    frames, clf, det = setup
    pipe = FramePipeline(det, clf, detect_every=3)
    clock = _cycle(frames, pipe.process)
    benchmark.pedantic(clock, rounds=ROUNDS, iterations=1, warmup_rounds=30)
    _report(benchmark, "end-to-end, --detect-every 3", capsys, clock)


def test_stage_detect(benchmark, setup, capsys):
    frames, _, det = setup
    clock = _cycle(frames, det.detect)
    benchmark.pedantic(clock, rounds=ROUNDS, iterations=1, warmup_rounds=30)
    _report(benchmark, "stage: detect (letterbox + BlazeFace + decode/NMS)", capsys, clock)


def test_stage_preprocess_and_classify(benchmark, setup, capsys):
    frames, clf, det = setup
    boxes = [det.detect(f)[0].bbox for f in frames]
    pairs = list(zip(frames, boxes))
    it = itertools.cycle(pairs)

    def step() -> object:
        frame, box = next(it)
        return clf.classify(crop_face(frame, box, det.crop, clf.input_size))

    clock = CpuClock(step)
    benchmark.pedantic(clock, rounds=ROUNDS, iterations=1, warmup_rounds=30)
    _report(benchmark, "stage: crop + gray + resize + classify", capsys, clock)
