"""``fer-edge camera``: the live loop on a camera, video file or stream, with per-stage latency.

Prints the interpreter backend, a stats line every few seconds and a final summary (p50/p95/p99 per
stage, share of frames within 33.3 ms), also saved as JSON. A missing camera, the end of a stream and
Ctrl-C/SIGTERM all end with the summary written. Frames are stored only with --record.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import Any

import click

from fer_edge.atomic import check_destination, write_text
from fer_edge.errors import FerEdgeError
from fer_edge.runtime.detector import DEFAULT_MIN_SCORE, DETECTORS
from fer_edge.runtime.devices import DeviceProfile, load_profile
from fer_edge.runtime.factory import describe, load_models, log_warnings_to_stderr
from fer_edge.runtime.live import LiveOptions, display_available, run_live
from fer_edge.runtime.pipeline import FramePipeline
from fer_edge.runtime.sinks import VideoSink
from fer_edge.runtime.smoothing import EmaSmoother
from fer_edge.runtime.sources import CameraSettings, Source, SourceKind
from fer_edge.runtime.timing import StageMeter

DEFAULT_SUMMARY_DIR = Path("runs") / "camera"


class SourceFailed(FerEdgeError):
    """The source delivered nothing usable (e.g. a video file that does not decode)."""

    exit_code = 1


def _pick(cli_value: Any, profile_value: Any, default: Any) -> Any:
    """An explicit command-line value wins over the device profile, which wins over the default."""
    if cli_value is not None:
        return cli_value
    return profile_value if profile_value is not None else default


@click.command()
@click.option(
    "--source", default="0", show_default=True, help="Camera index, video file, image folder/glob or rtsp/http URL."
)
@click.option(
    "--model",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Classifier .tflite (default: the shipped model).",
)
@click.option("--detector", type=click.Choice(DETECTORS), default="blazeface", show_default=True)
@click.option(
    "--detector-model",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="BlazeFace short-range .tflite.",
)
@click.option("--headless", is_flag=True, help="No window, even when a display exists (always so over SSH).")
@click.option(
    "--record",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Save the annotated frames to this .mp4/.avi.",
)
@click.option("--max-frames", type=click.IntRange(min=1), default=None, help="Stop after this many frames.")
@click.option("--smooth", is_flag=True, help="Smooth each face's probabilities over frames (per track).")
@click.option(
    "--detect-every",
    type=click.IntRange(min=1),
    default=None,
    help="Run the detector every Nth frame, track in between [1].",
)
@click.option("--threads", type=click.IntRange(min=1), default=None, help="Interpreter threads [1].")
@click.option(
    "--min-score",
    type=click.FloatRange(0.0, 1.0),
    default=None,
    help=f"Detector score threshold [{DEFAULT_MIN_SCORE}].",
)
@click.option(
    "--summary-json",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Where the final summary goes [runs/camera/summary-<time>.json].",
)
@click.option("--device", default=None, help="Device profile from fer_edge/assets/devices (e.g. raspberry-pi-4).")
@click.option(
    "--print-every",
    type=click.FloatRange(min=0.0),
    default=5.0,
    show_default=True,
    help="Seconds between stats lines (0: none).",
)
@click.option("--force", is_flag=True, help="Replace --record / --summary-json outputs that exist.")
def camera(
    source: str,
    model: Path | None,
    detector: str,
    detector_model: Path | None,
    headless: bool,
    record: Path | None,
    max_frames: int | None,
    smooth: bool,
    detect_every: int | None,
    threads: int | None,
    min_score: float | None,
    summary_json: Path | None,
    device: str | None,
    print_every: float,
    force: bool,
) -> None:
    """Live emotions per face from a camera, video file or stream, with per-stage latency against 30 FPS."""
    log_warnings_to_stderr()
    profile: DeviceProfile | None = load_profile(device) if device else None
    p = profile
    threads = _pick(threads, p and p.threads, 1)
    detect_every = _pick(detect_every, p and p.detect_every, 1)
    min_score = _pick(min_score, p and p.min_score, DEFAULT_MIN_SCORE)
    settings = CameraSettings(p.camera_width, p.camera_height, p.camera_fps) if p else CameraSettings()
    summary_path = summary_json or DEFAULT_SUMMARY_DIR / f"summary-{time.strftime('%Y%m%d-%H%M%S')}.json"
    check_destination(summary_path, force)
    if record is not None:
        check_destination(record, force)

    src = Source(source, settings)  # a missing path fails here, before the models load
    classifier, det = load_models(model, detector, detector_model, threads, min_score, p.precision if p else None)
    click.echo(describe(classifier, det))
    if p is not None:
        click.echo(f"device profile: {p.name} ({p.path})")
        if model is None and classifier.precision != p.precision:
            click.echo(f"note: the profile asks for {p.precision}; this install ships {classifier.precision} only")
    display = False
    if not headless:
        display, why = display_available()
        if not display:
            click.echo(f"no window: {why}; running headless")
    pipeline = FramePipeline(det, classifier, smoother=EmaSmoother() if smooth else None, detect_every=detect_every)
    recorder = VideoSink(record, None, force) if record is not None else None
    config = {
        "source": src.name,
        "source_kind": src.kind.value,
        "model": str(classifier.info.path),
        "precision": classifier.precision,
        "interpreter": {"backend": classifier.info.backend, "version": classifier.info.backend_version},
        "threads": threads,
        "detector": detector,
        "min_score": min_score,
        "detect_every": detect_every,
        "smooth": smooth,
        "device": p.name if p else None,
        "recorded": str(record) if record else None,
    }
    error: FerEdgeError | None = None
    outcome = None
    try:
        outcome = run_live(
            src,
            pipeline,
            LiveOptions(max_frames=max_frames, display=display, print_every_s=print_every),
            recorder=recorder,
            echo=click.echo,
        )
    except FerEdgeError as e:  # e.g. the camera did not open: still write what we have
        error = e
    finally:
        if recorder is not None:
            if recorder.frames:
                recorder.close()
            else:
                recorder.abort()
        det.close()
        classifier.close()

    meter = outcome.meter if outcome else StageMeter()
    ended = outcome.ended if outcome else f"error: {error}"
    summary = {"ended": ended, **config, **meter.summary()}
    failures = [{"source": f.source, "reason": f.reason} for f in src.failures]
    if failures:
        summary["failures"] = failures
    write_text(summary_path, json.dumps(summary, indent=2) + "\n", force=True)
    click.echo(f"ended: {ended}")
    click.echo(meter.format_summary())
    click.echo(f"summary saved to {summary_path}")
    if record is not None and recorder is not None and recorder.frames:
        click.echo(f"recorded {recorder.frames} annotated frames to {record}")
    if error is not None:
        raise error
    if meter.frames == 0 and src.kind not in (SourceKind.CAMERA, SourceKind.STREAM):
        reasons = "; ".join(f"{f.source}: {f.reason}" for f in src.failures) or "no frames"
        raise SourceFailed(f"{src.name}: nothing could be read ({reasons})")
    sys.stdout.flush()
