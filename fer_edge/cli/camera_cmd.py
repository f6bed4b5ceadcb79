"""``fer-edge camera``: the live loop on a camera, video file or stream, with per-stage latency.

A thin shell over ``fer_edge.runtime.session.CameraSession``: parse the flags, build ``CameraOptions``, run,
print the summary. A missing camera, the end of a stream and Ctrl-C/SIGTERM all end with the summary written.
"""

from __future__ import annotations

import time
from pathlib import Path

import click

from fer_edge.cli.common import log_warnings_to_stderr, model_options
from fer_edge.runtime.recognizer import RecognizerOptions
from fer_edge.runtime.session import CameraOptions, CameraSession, CameraSummary

DEFAULT_SUMMARY_DIR = Path("runs") / "camera"


@click.command()
@click.option(
    "--source", default="0", show_default=True, help="Camera index, video file, image folder/glob or rtsp/http URL."
)
@model_options(min_score_default=None, threads_default=None)
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
@click.option(
    "--summary-json",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Where the final summary goes [runs/camera/summary-<time>.json].",
)
@click.option(
    "--events",
    default=None,
    help="Per-face records, one JSON line per face per frame (a .csv name: CSV; '-': stdout).",
)
@click.option(
    "--events-max-mb", type=click.FloatRange(min=0.01), default=None, help="Rotate the events file at this size (MB)."
)
@click.option(
    "--events-keep", type=click.IntRange(min=1), default=5, show_default=True, help="Rotated events files kept."
)
@click.option("--device", default=None, help="Device profile from fer_edge/assets/devices (e.g. raspberry-pi-4).")
@click.option(
    "--print-every",
    type=click.FloatRange(min=0.0),
    default=5.0,
    show_default=True,
    help="Seconds between stats lines (0: none).",
)
@click.option("--force", is_flag=True, help="Replace --record / --summary-json / --events outputs that exist.")
def camera(
    source: str,
    model: Path | None,
    detector: str,
    detector_model: Path | None,
    threads: int | None,
    min_score: float | None,
    min_confidence: float,
    headless: bool,
    record: Path | None,
    max_frames: int | None,
    smooth: bool,
    detect_every: int | None,
    summary_json: Path | None,
    events: str | None,
    events_max_mb: float | None,
    events_keep: int,
    device: str | None,
    print_every: float,
    force: bool,
) -> None:
    """Live emotions per face from a camera, video file or stream, with per-stage latency against 30 FPS."""
    log_warnings_to_stderr()
    recognizer = RecognizerOptions(
        model, detector, detector_model, threads, min_score, min_confidence, smooth, detect_every
    )
    # with --events -, stdout carries the records: progress and the summary go to stderr
    err = events == "-"
    options = CameraOptions(
        source=source,
        recognizer=recognizer,
        device=device,
        display=False if headless else None,
        record=record,
        max_frames=max_frames,
        print_every_s=print_every,
        summary_json=summary_json or DEFAULT_SUMMARY_DIR / f"summary-{time.strftime('%Y%m%d-%H%M%S')}.json",
        events=events,
        events_max_mb=events_max_mb,
        events_keep=events_keep,
        force=force,
    )
    with CameraSession(options, status=lambda line: click.echo(line, err=err)) as session:
        summary = session.run()
    _print_summary(summary, err)
    summary.raise_for_status()


def _print_summary(summary: CameraSummary, err: bool) -> None:
    click.echo(f"ended: {summary.ended}", err=err)
    click.echo(summary.meter.format_summary(), err=err)
    if summary.summary_path is not None:
        click.echo(f"summary saved to {summary.summary_path}", err=err)
    if summary.recorded is not None:
        click.echo(f"recorded {summary.recorded_frames} annotated frames to {summary.recorded}", err=err)
    if summary.counters.get("event_records"):
        click.echo(
            f"{summary.counters['event_records']} event record(s) written to {summary.config['events']}", err=err
        )
