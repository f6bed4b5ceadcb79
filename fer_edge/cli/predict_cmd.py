"""``fer-edge predict PATH...``: emotions per face in images, folders, globs and video files.

One record per face (per face per frame for videos, with frame index, timestamp and track id) on
stdout as a table, JSON or CSV (a frame without a face: one record with ``faces: 0``); progress, warnings
and the closing count on stderr. An unreadable file is reported and skipped; the exit code is 1 when any
input failed and 2 when none could be opened. Ctrl-C and SIGTERM close the output after the last complete
record and remove partial annotated files (exit 130). No TensorFlow needed.
"""

from __future__ import annotations

import sys
from pathlib import Path

import click

from fer_edge.cli.common import log_warnings_to_stderr, model_options
from fer_edge.errors import FerEdgeError
from fer_edge.runtime.overlay import draw_result
from fer_edge.runtime.recognizer import EmotionRecognizer, RecognizerOptions
from fer_edge.runtime.sinks import FORMATS, AnnotatedSink, RecordWriter, face_records
from fer_edge.runtime.sources import IMAGE_EXTS, Source


class InputsFailed(FerEdgeError):
    """Some inputs could not be read; the others were processed."""

    exit_code = 1


@click.command()
@click.argument("paths", nargs=-1, required=True)
@model_options()
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="table", show_default=True)
@click.option(
    "--save-annotated",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Write annotated images and videos into this folder.",
)
@click.option("--force", is_flag=True, help="Replace annotated files that already exist.")
def predict(
    paths: tuple[str, ...],
    model: Path | None,
    detector: str,
    detector_model: Path | None,
    threads: int,
    min_score: float,
    min_confidence: float,
    fmt: str,
    save_annotated: Path | None,
    force: bool,
) -> None:
    """Emotions per face in images, folders (or globs) and video files: box, label and 7 probabilities.

    An image or frame without a face gives one record too: `faces: 0` in JSON, an empty label in CSV.
    """
    log_warnings_to_stderr()
    # Every input is resolved and every annotated output checked before the models load and any record
    # is printed: a run never stops half-way on an existing output.
    sources, failed = _resolve(paths)
    if not sources:
        raise FerEdgeError(f"nothing to process: {failed[0][1] if len(failed) == 1 else 'no input could be opened'}")
    annotated = AnnotatedSink(save_annotated, force) if save_annotated is not None else None
    if annotated is not None:
        annotated.plan([f for src in sources for f in src.files])
    for _, message in failed:
        click.echo(f"warning: {message}; skipped", err=True)
    options = RecognizerOptions(model, detector, detector_model, threads, min_score, min_confidence)
    with EmotionRecognizer(options) as recognizer:
        click.echo(recognizer.describe(), err=True)
        writer = RecordWriter(fmt, recognizer.labels, sys.stdout)
        counts = {"images": 0, "videos": 0, "frames": 0, "faces": 0, "no_face": 0}
        failed_names = [spec for spec, _ in failed]
        try:
            for source in sources:
                _run_source(recognizer, source, writer, annotated, counts)
                failed_names += [f.source for f in source.failures]
        except BaseException:
            if annotated is not None:
                annotated.abort()
            raise
        finally:
            writer.close()
    if annotated is not None:
        annotated.close()
    click.echo(
        f"{counts['images']} image(s), {counts['videos']} video(s) ({counts['frames']} frames): "
        f"{counts['faces']} face record(s), {counts['no_face']} image(s) or frame(s) without a face; {len(failed_names)} failed",
        err=True,
    )
    if failed_names:
        n, shown = len(failed_names), ", ".join(failed_names[:5])
        raise InputsFailed(f"{n} input(s) could not be read: {shown}{' ...' if n > 5 else ''}")


def _resolve(paths: tuple[str, ...]) -> tuple[list[Source], list[tuple[str, str]]]:
    """The sources of ``paths``, and (spec, why) for those that cannot be opened."""
    sources, failed = [], []
    for spec in paths:
        try:
            source = Source(spec)
        except FerEdgeError as e:
            failed.append((spec, str(e)))
            continue
        if source.is_live:
            failed.append((spec, f"{spec}: a camera or stream; use `fer-edge camera --source {spec}`"))
            continue
        sources.append(source)
    return sources, failed


def _run_source(
    recognizer: EmotionRecognizer,
    source: Source,
    writer: RecordWriter,
    annotated: AnnotatedSink | None,
    counts: dict[str, int],
) -> None:
    current: str | None = None
    is_video = False
    for result in recognizer.stream_from(source):
        frame = result.frame
        assert frame is not None
        if frame.source != current:  # a new file (the stream restarts its tracks): close the previous video output
            current = frame.source
            is_video = Path(frame.source).suffix.lower() not in IMAGE_EXTS
            if annotated is not None:
                annotated.end_video()
            counts["videos" if is_video else "images"] += 1
        counts["frames"] += is_video
        counts["faces"] += len(result.faces)
        counts["no_face"] += not result.faces
        writer.write(face_records(frame, result, recognizer.labels, empty_record=True))
        if annotated is not None:
            image = draw_result(frame.image, result)
            if is_video:
                annotated.video_frame(frame, image, source.fps)
            else:
                annotated.image(frame, image)
    if annotated is not None:
        annotated.end_video()
