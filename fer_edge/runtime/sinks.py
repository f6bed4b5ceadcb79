"""Where results go: one record per face (table, JSON or CSV, streamed), and annotated images or videos.

Records hold what joins a result back to the footage: source, frame index, timestamp, track id, box.
Annotated files are written under a temporary name and renamed when complete; existing files are
only replaced with ``force``.
"""

from __future__ import annotations

import csv
import json
import os
from pathlib import Path
from typing import Any, TextIO

import cv2
import numpy as np

from fer_edge.atomic import check_destination, write_bytes
from fer_edge.errors import FerEdgeError
from fer_edge.runtime.pipeline import FrameResult
from fer_edge.runtime.sources import IMAGE_EXTS, Frame
from fer_edge.runtime.video import VideoSink

FORMATS = ("table", "json", "csv")
BASE_FIELDS = ("source", "frame", "timestamp_s", "track_id", "x1", "y1", "x2", "y2", "det_score", "label", "score")


def face_records(
    frame: Frame, result: FrameResult, labels: tuple[str, ...], empty_record: bool = False
) -> list[dict[str, Any]]:
    """One flat dict per face: ``BASE_FIELDS`` then one probability per label (``p_<label>``).

    With ``empty_record``, a frame without a face gives one record too (``faces: 0``, no box and no
    label), so a listing of a folder tells "no face" apart from "not processed".
    """
    if empty_record and not result.faces:
        empty: dict[str, Any] = {
            "source": frame.source,
            "frame": frame.index,
            "timestamp_s": round(frame.timestamp_s, 4),
            "faces": 0,
        }
        empty.update({k: None for k in BASE_FIELDS if k not in empty})
        empty.update({f"p_{name}": None for name in labels})
        return [empty]
    out = []
    for face in result.faces:
        b = face.bbox
        rec = {
            "source": frame.source,
            "frame": frame.index,
            "timestamp_s": round(frame.timestamp_s, 4),
            "track_id": face.track_id,
            "x1": round(b.x1, 1),
            "y1": round(b.y1, 1),
            "x2": round(b.x2, 1),
            "y2": round(b.y2, 1),
            "det_score": round(face.detection_score, 4),
            "label": face.label,
            "score": round(face.score, 4),
        }
        rec.update({f"p_{name}": round(float(p), 4) for name, p in zip(labels, face.scores)})
        out.append(rec)
    return out


class RecordWriter:
    """Streams records to ``stream`` as a table, a JSON array or CSV; nothing is held in memory."""

    def __init__(self, fmt: str, labels: tuple[str, ...], stream: TextIO) -> None:
        if fmt not in FORMATS:
            raise FerEdgeError(f"unknown format {fmt!r}; choose one of {', '.join(FORMATS)}")
        self.fmt, self.stream = fmt, stream
        self.fields = [*BASE_FIELDS, *(f"p_{n}" for n in labels)]
        self._short = [n[:3] for n in labels]
        self._count = 0
        self._csv: csv.DictWriter[str] | None = None
        self._started = False

    def _start(self) -> None:
        self._started = True
        if self.fmt == "json":
            self.stream.write("[")
        elif self.fmt == "csv":
            # extrasaction: a face-less record's "faces": 0 is said by its empty label and box
            self._csv = csv.DictWriter(self.stream, fieldnames=self.fields, lineterminator="\n", extrasaction="ignore")
            self._csv.writeheader()
        else:
            probs = " ".join(f"{s:>5}" for s in self._short)
            self.stream.write(
                f"{'source':<32} {'frame':>6} {'time_s':>8} {'track':>5} {'box x1,y1,x2,y2':<21} {'label':<9} "
                f"{'score':>5}  {probs}\n"
            )

    def write(self, records: list[dict[str, Any]]) -> None:
        if not self._started:
            self._start()
        for rec in records:
            if self.fmt == "json":
                self.stream.write(("," if self._count else "") + "\n  " + json.dumps(rec))
            elif self.fmt == "csv":
                assert self._csv is not None
                self._csv.writerow(rec)
            else:
                self.stream.write(self._row(rec))
            self._count += 1

    def _row(self, r: dict[str, Any]) -> str:
        src = r["source"] if len(r["source"]) <= 32 else "..." + r["source"][-29:]
        if r.get("faces") == 0:
            return f"{src:<32} {r['frame']:>6} {r['timestamp_s']:>8.3f} {'-':>5} {'-':<21} {'(no face)':<9}\n"
        box = f"{r['x1']:.0f},{r['y1']:.0f},{r['x2']:.0f},{r['y2']:.0f}"
        probs = " ".join(f"{r[f]:>5.2f}" for f in self.fields[len(BASE_FIELDS) :])
        return (
            f"{src:<32} {r['frame']:>6} {r['timestamp_s']:>8.3f} {r['track_id']:>5} {box:<21} {r['label']:<9} "
            f"{r['score']:>5.2f}  {probs}\n"
        )

    def close(self) -> None:
        if not self._started:
            self._start()
        if self.fmt == "json":
            self.stream.write(("\n" if self._count else "") + "]\n")
        self.stream.flush()

    @property
    def count(self) -> int:
        return self._count


def write_image(path: Path, image_bgr: np.ndarray, force: bool = False) -> Path:
    """Encode and write an image atomically (format from the extension)."""
    path = Path(path)
    check_destination(path, force)
    ok, buf = cv2.imencode(path.suffix or ".jpg", image_bgr)
    if not ok:
        raise FerEdgeError(f"{path}: OpenCV cannot encode {path.suffix} images; use .jpg or .png")
    return write_bytes(path, buf.tobytes(), force=force)


class AnnotatedSink:
    """``--save-annotated DIR``: each input image to ``DIR/<name>``, each video to ``DIR/<stem>.mp4``
    (names made unique within a run when two inputs share one)."""

    def __init__(self, directory: Path, force: bool = False) -> None:
        self.directory = Path(directory)
        if self.directory.exists() and not self.directory.is_dir():
            raise FerEdgeError(f"{self.directory}: exists and is not a folder; give a folder for --save-annotated")
        self.force = force
        self._used: set[str] = set()
        self._planned: dict[str, Path] = {}  # input file -> its annotated output (``plan``)
        self._video: VideoSink | None = None
        self._video_source: str | None = None
        self.written: list[Path] = []

    @staticmethod
    def _wanted(source: str | Path) -> str:
        p = Path(source)
        return p.name if p.suffix.lower() in IMAGE_EXTS else p.stem + ".mp4"

    def plan(self, inputs: list[Path]) -> list[Path]:
        """Name every input's output now and check them all (exists without ``force``, unwritable) before
        any work, so a run never stops on an existing output after some records were printed."""
        outputs = []
        for src in inputs:
            if str(src) not in self._planned:
                self._planned[str(src)] = self._name(self._wanted(src))
                outputs.append(self._planned[str(src)])
        for out in outputs:
            check_destination(out, self.force)
        return outputs

    def _output(self, source: str) -> Path:
        return self._planned.get(source) or self._name(self._wanted(source))

    def _name(self, wanted: str) -> Path:
        stem, suffix = os.path.splitext(wanted)
        name, k = wanted, 2
        while name in self._used:
            name, k = f"{stem}-{k}{suffix}", k + 1
        self._used.add(name)
        return self.directory / name

    def image(self, frame: Frame, annotated: np.ndarray) -> None:
        self.end_video()
        self.written.append(write_image(self._output(frame.source), annotated, self.force))

    def video_frame(self, frame: Frame, annotated: np.ndarray, fps: float | None) -> None:
        if self._video_source != frame.source:
            self.end_video()
            self._video = VideoSink(self._output(frame.source), fps, self.force)
            self._video_source = frame.source
        assert self._video is not None
        self._video.write(annotated)

    def end_video(self) -> None:
        if self._video is not None:
            self._video.close()
            self.written.append(self._video.path)
        self._video, self._video_source = None, None

    def close(self) -> None:
        self.end_video()

    def abort(self) -> None:
        if self._video is not None:
            self._video.abort()
        self._video, self._video_source = None, None
