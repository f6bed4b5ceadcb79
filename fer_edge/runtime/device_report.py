"""``fer-edge bench``: measure this device against the 30 FPS budget and say what holds.

Three measurements, all on this device and without TensorFlow: the classifier's invoke latency for
every precision at hand (so int8 is compared with float32/float16 here rather than assumed faster),
the face detector's latency, and whole frames through the runtime's ``FramePipeline`` (detect,
crop, classify) on generated 640x480 frames with a drawn face. The report adds what the device is
(board, CPU, OS, Python, interpreter) and a plain verdict with the slowest stage.
"""

from __future__ import annotations

import os
import platform
import re
import sys
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from fer_edge import __version__
from fer_edge.cpu import cpu_name, simd_flags, simd_summary
from fer_edge.errors import FerEdgeError
from fer_edge.records import Record
from fer_edge.runtime.interpreter import TfliteModel
from fer_edge.runtime.model_file import open_classifier, precision_of, time_invokes
from fer_edge.runtime.scenes import generated_frames
from fer_edge.runtime.timing import BUDGET_MS

MODELS_DIR = Path(__file__).resolve().parent.parent / "assets" / "models"
#: int8 counts as "not faster" unless its median beats the best float model's by this fraction.
NOT_FASTER_MARGIN = 0.05


# ----------------------------------------------------------------------------- what this device is


def _read(path: str) -> str | None:
    try:
        return Path(path).read_text(errors="replace").replace("\x00", "").strip() or None
    except OSError:
        return None


def board_model() -> str | None:
    """E.g. ``Raspberry Pi 4 Model B Rev 1.4`` (device tree), else the DMI product name, else None."""
    return _read("/proc/device-tree/model") or _read("/sys/devices/virtual/dmi/id/product_name")


def cpu_description() -> str:
    return cpu_name(_read("/proc/cpuinfo") or "")


def _simd(sysi: dict[str, Any]) -> str:
    """`` (SIMD avx2 avx512f)``, empty for a report saved before the field existed."""
    return f" (SIMD {simd_summary(sysi['cpu_simd'])})" if sysi.get("cpu_simd") is not None else ""


def os_description() -> str:
    release = _read("/etc/os-release") or ""
    m = re.search(r'^PRETTY_NAME="?([^"\n]+)"?$', release, re.M)
    return m.group(1) if m else platform.platform()


def cpu_temperature_c() -> float | None:
    raw = _read("/sys/class/thermal/thermal_zone0/temp")
    try:
        return round(int(raw) / 1000.0, 1) if raw else None
    except ValueError:
        return None


def system_info() -> dict[str, Any]:
    max_khz = _read("/sys/devices/system/cpu/cpu0/cpufreq/cpuinfo_max_freq")
    cpuinfo = _read("/proc/cpuinfo") or ""
    return {
        "board": board_model(),
        "cpu": cpu_name(cpuinfo),
        "cpu_simd": simd_flags(cpuinfo),
        "cores": os.cpu_count(),
        "cpu_max_mhz": int(max_khz) // 1000 if max_khz and max_khz.isdigit() else None,
        "machine": platform.machine(),
        "userland_bits": 64 if sys.maxsize > 2**32 else 32,
        "os": os_description(),
        "kernel": platform.release(),
        "python": platform.python_version(),
        "numpy": np.__version__,
        "opencv": cv2.__version__,
        "fer_edge": __version__,
    }


# ----------------------------------------------------------------------------- latency statistics


@dataclass(frozen=True)
class Latency:
    """Milliseconds over ``n`` timed calls."""

    p50: float
    p95: float
    mean: float
    min: float
    max: float
    n: int

    @classmethod
    def of(cls, samples_ms: np.ndarray) -> Latency:
        s = np.asarray(samples_ms, np.float64)
        p50, p95, mean, lo, hi = (round(float(v), 3) for v in (*np.percentile(s, [50, 95]), s.mean(), s.min(), s.max()))
        return cls(p50, p95, mean, lo, hi, len(s))

    def as_dict(self) -> dict[str, float]:
        return asdict(self)


def time_calls(fn: Callable[[int], object], n: int, warmup: int) -> np.ndarray:
    """Milliseconds of ``fn(i)`` for i in 0..n-1, after ``warmup`` untimed calls."""
    for i in range(warmup):
        fn(i)
    out = np.empty(n)
    for i in range(n):
        t0 = time.perf_counter()
        fn(i)
        out[i] = (time.perf_counter() - t0) * 1000.0
    return out


# ----------------------------------------------------------------------------- the classifier models


def shipped_models(directory: Path | None = None) -> list[Path]:
    """``default.tflite`` and its ``default-<precision>.tflite`` siblings, when this install ships them."""
    directory = Path(directory or MODELS_DIR)
    if not directory.is_dir():
        return []
    return sorted(p for p in directory.glob("default*.tflite") if p.is_file())


def typed_input(model: TfliteModel, rng: np.random.Generator) -> np.ndarray:
    """Random pixels 0-255 in the model's own input type (quantized when the model is int8)."""
    spec = model.input
    return spec.quantize(rng.integers(0, 256, spec.shape).astype(np.float32))


def bench_classifier(path: Path, threads: int, n: int, warmup: int = 10) -> dict[str, Any]:
    model, _ = open_classifier(path, threads=threads)
    try:
        x = typed_input(model, np.random.default_rng(0))
        ms = time_invokes([(model, x)], n, warmup)[0]
        return {
            "model": str(path),
            "precision": precision_of(path, model.input.dtype),
            "size_bytes": path.stat().st_size,
            "input": f"{'x'.join(map(str, model.input.shape))} {model.input.dtype}",
            "backend": model.backend,
            "backend_version": model.backend_version,
            "invoke_ms": Latency.of(ms).as_dict(),
        }
    finally:
        model.close()


def compare_precisions(results: list[dict[str, Any]]) -> dict[str, Any]:
    """Which precision is fastest here, and whether int8 actually beats the float models."""
    if not results:
        return {"fastest": None, "note": "no classifier measured"}
    fastest = min(results, key=lambda r: r["invoke_ms"]["p50"])
    out: dict[str, Any] = {"fastest": fastest["precision"], "fastest_model": fastest["model"], "note": ""}
    int8 = [r for r in results if r["precision"] == "int8"]
    floats = [r for r in results if r["precision"] in ("float32", "float16")]
    if int8 and floats:
        q = int8[0]["invoke_ms"]["p50"]
        best = min(floats, key=lambda r: r["invoke_ms"]["p50"])
        f = best["invoke_ms"]["p50"]
        out["int8_speedup_vs_" + best["precision"]] = round(f / q, 2) if q > 0 else None
        out["int8_faster"] = q < f * (1 - NOT_FASTER_MARGIN)
        if out["int8_faster"]:
            out["note"] = f"int8 is {f / q:.2f}x faster than {best['precision']} here ({q:.2f} vs {f:.2f} ms p50)"
        else:
            out["note"] = (
                f"int8 is NOT faster than {best['precision']} on this device ({q:.2f} vs {f:.2f} ms p50): "
                f"prefer the {best['precision']} model here unless its size matters"
            )
    elif int8 or floats:
        out["note"] = "only one kind of model measured; pass --model for each of float32, float16 and int8 to compare"
    return out


# ----------------------------------------------------------------------------- detector and whole frames


def bench_detector(threads: int, frames: list[np.ndarray], warmup: int = 5) -> dict[str, Any]:
    from fer_edge.runtime.detector import BlazeFaceDetector, DetectorOptions

    try:
        det = BlazeFaceDetector.create(DetectorOptions(num_threads=threads))
    except FerEdgeError as e:
        return {"error": str(e)}
    try:
        found = [len(det.detect(f)) for f in frames[:5]]
        ms = time_calls(lambda i: det.detect(frames[i % len(frames)]), len(frames), warmup)
        return {
            "model": str(det.model.path),
            "faces_found": int(min(found)),
            "ms": Latency.of(ms).as_dict(),
        }
    finally:
        det.close()


def bench_frames(classifier_path: Path, threads: int, frames: list[np.ndarray], detect_every: int) -> dict[str, Any]:
    """Whole frames through the runtime's FramePipeline: per-stage p50/p95 and the processing total."""
    from fer_edge.runtime.classifier import EmotionClassifier
    from fer_edge.runtime.detector import BlazeFaceDetector, DetectorOptions
    from fer_edge.runtime.pipeline import FramePipeline
    from fer_edge.runtime.timing import FrameTimer, StageMeter

    stages = ("detect", "preprocess", "classify")
    classifier = EmotionClassifier.create(classifier_path, threads=threads)
    precision = classifier.precision
    try:
        det = BlazeFaceDetector.create(DetectorOptions(num_threads=threads))
    except FerEdgeError as e:
        classifier.close()
        return {"error": str(e)}
    pipeline = FramePipeline(det, classifier, detect_every=detect_every)
    meter = StageMeter(stages=stages)
    faces = []
    try:
        for f in frames[:5]:  # warm-up: first invokes allocate
            pipeline.process(f)
        pipeline.reset()
        for f in frames:
            timer = FrameTimer()
            result = pipeline.process(f, timer)
            meter.add(timer.ms)
            faces.append(len(result.faces))
    finally:
        det.close()
        classifier.close()
    s = meter.summary()
    stats = {
        k: {"p50": v["p50"], "p95": v["p95"], "mean": v["mean"]}
        for k, v in s["stages_ms"].items()
        if v["frames"] and k != "total"  # no capture here: total == processing
    }
    return {
        "model": str(classifier_path),
        "precision": precision,
        "detect_every": detect_every,
        "frames": s["frames"],
        "faces_per_frame": round(float(np.mean(faces)), 2) if faces else 0.0,
        "stages_ms": stats,
        "within_budget": s["within_budget"]["processing"],
        "bottleneck_p95": max(stages, key=lambda n: stats.get(n, {}).get("p95", 0.0)),
    }


def verdict(report: dict[str, Any]) -> dict[str, Any]:
    """Plain words: does 30 FPS hold for the per-frame processing, and which stage limits it."""
    e2e = report.get("end_to_end") or {}
    if "stages_ms" not in e2e:
        why = e2e.get("error") or report.get("detector", {}).get("error") or "no whole-frame measurement"
        return {"meets_30fps": None, "text": f"incomplete: {why}"}
    proc = e2e["stages_ms"]["processing"]
    bottleneck = e2e["bottleneck_p95"]
    b = e2e["stages_ms"][bottleneck]
    meets = proc["p95"] <= BUDGET_MS
    setting = f"{e2e['precision']} model, {report['threads']} thread(s), detector every {e2e['detect_every']} frame(s)"
    if e2e["faces_per_frame"] < 1:
        note = " (the detector found no face in the generated frames, so classify did not run: treat as a lower bound)"
    else:
        note = ""
    if meets:
        text = (
            f"YES: 30 FPS holds here with the {setting}: per-frame processing p95 {proc['p95']:.1f} ms of the "
            f"{BUDGET_MS:.1f} ms budget ({BUDGET_MS - proc['p95']:.1f} ms headroom for capture and drawing); "
            f"slowest stage: {bottleneck} (p95 {b['p95']:.1f} ms){note}"
        )
    else:
        text = (
            f"NO: 30 FPS does not hold with the {setting}: per-frame processing p95 {proc['p95']:.1f} ms exceeds "
            f"the {BUDGET_MS:.1f} ms budget ({1000.0 / proc['p50']:.0f} FPS at the median); the bottleneck is "
            f"{bottleneck} (p95 {b['p95']:.1f} ms). Try --detect-every 2 or 3 (track between detector runs), "
            f"fewer camera pixels, or the fastest precision above{note}"
        )
    return {
        "meets_30fps": bool(meets),
        "processing_p95_ms": proc["p95"],
        "processing_p50_ms": proc["p50"],
        "headroom_ms": round(BUDGET_MS - proc["p95"], 3),
        "bottleneck": bottleneck,
        "text": text,
    }


# ----------------------------------------------------------------------------- the whole run


@dataclass(frozen=True)
class BenchReport(Record):
    """The device report ``fer-edge bench --out`` writes. The sections are the JSON objects the report
    always had (``system``, ``classifiers`` [one per model: precision, size, ``invoke_ms``], the
    precision comparison, ``detector``, ``end_to_end`` per-stage figures, ``verdict``)."""

    created: str
    system: dict[str, Any]
    interpreter: dict[str, str]
    threads: int
    frames: int
    budget_ms: float
    classifiers: list[dict[str, Any]]
    precision_comparison: dict[str, Any]
    detector: dict[str, Any]
    end_to_end: dict[str, Any]
    verdict: dict[str, Any]
    command: str | None = None


def run_bench(
    models: list[Path],
    threads: int,
    frames: int,
    detect_every: int = 1,
    progress: Callable[[str], None] = lambda _: None,
) -> BenchReport:
    """Measure ``models`` (all precisions given), the detector and whole frames; return the report."""
    if not models:
        raise FerEdgeError(
            "no classifier to measure: this install ships no default model; pass --model PATH.tflite "
            "(repeat it for the float32, float16 and int8 files made by fer-edge convert)"
        )
    temp_before = cpu_temperature_c()
    classifiers = []
    for path in models:
        progress(f"classifier {path.name}: {frames} invokes on {threads} thread(s)")
        classifiers.append(bench_classifier(path, threads, frames))
    comparison = compare_precisions(classifiers)
    images = generated_frames(frames)
    progress(f"detector: {frames} frames of 640x480")
    detector = bench_detector(threads, images)
    chosen = Path(comparison["fastest_model"])
    progress(f"whole frames: {frames} frames through detect -> crop -> classify ({chosen.name})")
    e2e = (
        bench_frames(chosen, threads, images, detect_every) if "error" not in detector else {"error": detector["error"]}
    )
    sections: dict[str, Any] = {
        "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "system": {**system_info(), "cpu_temp_c_before": temp_before, "cpu_temp_c_after": cpu_temperature_c()},
        "interpreter": {"backend": classifiers[0]["backend"], "version": classifiers[0]["backend_version"]},
        "threads": threads,
        "frames": frames,
        "budget_ms": round(BUDGET_MS, 3),
        "classifiers": classifiers,
        "precision_comparison": comparison,
        "detector": detector,
        "end_to_end": e2e,
    }
    return BenchReport(**sections, verdict=verdict(sections))


def format_report(bench: BenchReport) -> str:
    """The table ``fer-edge bench`` prints."""
    report = bench.to_dict()
    sysi = report["system"]
    lines = [
        f"device: {sysi['board'] or 'unknown board'} | {sysi['cpu']} x{sysi['cores']}{_simd(sysi)} | {sysi['os']} "
        f"({sysi['userland_bits']}-bit) | Python {sysi['python']}",
        f"interpreter: {report['interpreter']['backend']} {report['interpreter']['version']}, "
        f"{report['threads']} thread(s); budget {report['budget_ms']:.1f} ms per frame (30 FPS)",
        "",
        f"{'stage':<40} {'p50 ms':>8} {'p95 ms':>8} {'FPS@p50':>8} {'headroom@p95':>13}",
    ]

    def row(name: str, p50: float, p95: float) -> str:
        return f"{name[:40]:<40} {p50:>8.2f} {p95:>8.2f} {1000.0 / p50 if p50 > 0 else float('inf'):>8.0f} {BUDGET_MS - p95:>+12.1f}"

    for c in report["classifiers"]:
        lines.append(
            row(f"classify {c['precision']} {Path(c['model']).name}", c["invoke_ms"]["p50"], c["invoke_ms"]["p95"])
        )
    det = report["detector"]
    if "ms" in det:
        lines.append(row("detector (BlazeFace)", det["ms"]["p50"], det["ms"]["p95"]))
    else:
        lines.append(f"{'detector':<40} not measured: {det.get('error')}")
    e2e = report["end_to_end"]
    if "stages_ms" in e2e:
        for name in ("detect", "preprocess", "classify", "processing"):
            st = e2e["stages_ms"].get(name)
            if st:
                lines.append(row(f"frame: {name}", st["p50"], st["p95"]))
        lines.append(
            f"frames within budget: {e2e['within_budget'] * 100:.1f}%  faces per frame: {e2e['faces_per_frame']}"
        )
    lines += [
        "",
        f"precisions: {report['precision_comparison']['note'] or 'fastest ' + str(report['precision_comparison']['fastest'])}",
    ]
    lines.append(f"verdict: {report['verdict']['text']}")
    return "\n".join(lines)
