"""``fer-edge camera``: the live loop on a camera, video file or stream, with per-stage latency.

A thin shell over ``fer_edge.runtime.session.CameraSession``: parse the flags, build ``CameraOptions``, run,
print the summary. A missing camera, the end of a stream and Ctrl-C/SIGTERM all end with the summary written.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

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
@click.option(
    "--events-append", is_flag=True, help="Go on with an existing events file (e.g. a service that restarts)."
)
@click.option(
    "--serve",
    default=None,
    metavar="[HOST:]PORT",
    help="Serve the live page (stream, labels, latency, /metrics) on this port; host 127.0.0.1 unless given.",
)
@click.option(
    "--serve-fps", type=click.FloatRange(min=0.1, max=60), default=10.0, show_default=True, help="Stream frame cap."
)
@click.option("--token", default=None, help="Require this token on every request to the live page.")
@click.option(
    "--stall-timeout",
    type=click.FloatRange(min=0.1),
    default=5.0,
    show_default=True,
    help="Reopen a camera or stream that delivers nothing for this many seconds.",
)
@click.option(
    "--max-reconnects",
    type=click.IntRange(min=0),
    default=None,
    help="Reopen attempts in a row before a camera or stream counts as gone (exit 1) [forever].",
)
@click.option("--realtime", is_flag=True, help="Deliver a video file at its own frame rate, as a camera would.")
@click.option("--loop", is_flag=True, help="Start a video file or folder again at its end (demos, soaks).")
@click.option("--device", default=None, help="Device profile from fer_edge/assets/devices (e.g. raspberry-pi-4).")
@click.option(
    "--print-every",
    type=click.FloatRange(min=0.0),
    default=5.0,
    show_default=True,
    help="Seconds between stats lines (0: none).",
)
@click.option("--force", is_flag=True, help="Replace --record / --summary-json / --events outputs that exist.")
def camera(**kw: Any) -> None:
    """Live emotions per face from a camera, video file or stream, with per-stage latency against 30 FPS."""
    log_warnings_to_stderr()
    options = camera_options(kw)
    err = options.events == "-"  # with --events -, stdout carries the records: progress goes to stderr
    with CameraSession(options, status=lambda line: click.echo(line, err=err)) as session:
        summary = session.run()
    _print_summary(summary, err)
    summary.raise_for_status()


def parse_serve(value: str) -> tuple[str, int]:
    """``8080`` -> (127.0.0.1, 8080); ``0.0.0.0:8080`` and ``[::1]:8080`` as given."""
    host, sep, port = value.rpartition(":")
    host = host.strip("[]") if sep else "127.0.0.1"
    if not port.isdigit() or not 0 <= int(port) <= 65535 or (sep and not host):
        raise click.BadParameter(f"{value!r}: give PORT or HOST:PORT, e.g. 8080 or 0.0.0.0:8080", param_hint="--serve")
    return host, int(port)


def camera_options(kw: dict[str, Any]) -> CameraOptions:
    recognizer = RecognizerOptions(
        kw["model"],
        kw["detector"],
        kw["detector_model"],
        kw["threads"],
        kw["min_score"],
        kw["min_confidence"],
        kw["smooth"],
        kw["detect_every"],
    )
    stamp = time.strftime("%Y%m%d-%H%M%S")
    return CameraOptions(
        source=kw["source"],
        recognizer=recognizer,
        device=kw["device"],
        display=False if kw["headless"] else None,
        record=kw["record"],
        max_frames=kw["max_frames"],
        print_every_s=kw["print_every"],
        summary_json=kw["summary_json"] or DEFAULT_SUMMARY_DIR / f"summary-{stamp}.json",
        events=kw["events"],
        events_max_mb=kw["events_max_mb"],
        events_keep=kw["events_keep"],
        events_append=kw["events_append"],
        serve=parse_serve(kw["serve"]) if kw["serve"] else None,
        serve_fps=kw["serve_fps"],
        token=kw["token"],
        stall_timeout=kw["stall_timeout"],
        max_reconnects=kw["max_reconnects"],
        realtime=kw["realtime"],
        loop=kw["loop"],
        force=kw["force"],
    )


def _print_summary(summary: CameraSummary, err: bool) -> None:
    click.echo(f"ended: {summary.ended}", err=err)
    click.echo(summary.meter.format_summary(), err=err)
    if summary.summary_path is not None:
        click.echo(f"summary saved to {summary.summary_path}", err=err)
    if summary.recorded is not None:
        click.echo(f"recorded {summary.recorded_frames} annotated frames to {summary.recorded}", err=err)
    c = summary.counters
    if c.get("reconnects") or c.get("stalls") or c.get("dropped_frames"):
        click.echo(
            f"source: {c['dropped_frames']} dropped frame(s), {c['stalls']} stall(s), {c['reconnects']} reconnect(s)",
            err=err,
        )
    if summary.counters.get("event_records"):
        click.echo(
            f"{summary.counters['event_records']} event record(s) written to {summary.config['events']}", err=err
        )
