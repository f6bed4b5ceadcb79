"""``fer-edge explain``: what the classifier looked at, per face, and a grid of right and wrong examples.

Runs in the runtime-only install (LiteRT, NumPy, OpenCV): occlusion sensitivity goes through the
``.tflite`` with batched invokes. Grad-CAM needs the Keras model (``--model X.keras``) and imports
TensorFlow only then.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click
import cv2
import numpy as np

from fer_edge.errors import FerEdgeError
from fer_edge.runtime.detector import DEFAULT_MIN_SCORE, DETECTORS


def _write_png(path: Path, image: np.ndarray, force: bool) -> Path:
    from fer_edge.atomic import atomic_path

    ok, buf = cv2.imencode(".png", image)
    if not ok:
        raise FerEdgeError(f"{path}: could not encode the image")
    with atomic_path(path, force=force) as tmp:
        tmp.write_bytes(buf.tobytes())
    return path


def _write_json(path: Path, payload: object, force: bool) -> Path:
    from fer_edge.atomic import check_destination, write_text

    check_destination(path, force)
    return write_text(path, json.dumps(payload, indent=2) + "\n")


@click.command()
@click.argument("source")
@click.option(
    "--out", "out_dir", type=click.Path(file_okay=False, path_type=Path), required=True, help="Output folder."
)
@click.option(
    "--model",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Classifier: a .tflite (occlusion, default: the shipped model) or a .keras (occlusion and Grad-CAM; needs TensorFlow).",
)
@click.option("--detector", type=click.Choice(DETECTORS), default="blazeface", show_default=True)
@click.option("--detector-model", type=click.Path(dir_okay=False, path_type=Path), default=None)
@click.option("--min-score", type=click.FloatRange(0.0, 1.0), default=DEFAULT_MIN_SCORE, show_default=True)
@click.option("--patch", type=click.IntRange(2, 48), default=12, show_default=True, help="Occluder side (face pixels).")
@click.option("--stride", type=click.IntRange(min=1), default=4, show_default=True, help="Occluder step (face pixels).")
@click.option("--top", type=click.IntRange(min=1), default=3, show_default=True, help="Regions listed per face.")
@click.option(
    "--grid",
    is_flag=True,
    help="SOURCE is a labelled dataset (folder, Kaggle CSV or flat CSV): draw correct and wrong examples per class.",
)
@click.option("--usage", help="With --grid: the images with this usage tag [default: PrivateTest when tagged].")
@click.option("--per-class", type=click.IntRange(1, 12), default=4, show_default=True, help="With --grid.")
@click.option(
    "--seed", type=click.IntRange(min=0), default=0, show_default=True, help="With --grid: which examples are drawn."
)
@click.option("--force", is_flag=True, help="Replace existing output files.")
def explain(
    source: str,
    out_dir: Path,
    model: Path | None,
    detector: str,
    detector_model: Path | None,
    min_score: float,
    patch: int,
    stride: int,
    top: int,
    grid: bool,
    usage: str | None,
    per_class: int,
    seed: int,
    force: bool,
) -> None:
    """Explain the predictions on SOURCE (an image, a folder or a glob; a video gives its first frame).

    Per face: FACE.png (the face and its occlusion map: where a grey square lowers the predicted
    class's probability most) and a record in explanations.json with the top regions in face
    and frame pixels. With a .keras model, a Grad-CAM panel too. With --grid, SOURCE is a labelled
    dataset and grid.png shows, per true class, faces the model got right and wrong.

    \b
    Examples:
      fer-edge explain photo.jpg --out explained/
      fer-edge explain data/fer2013 --grid --usage PrivateTest --out explained/
    """
    from fer_edge.atomic import check_destination
    from fer_edge.cli.common import log_warnings_to_stderr
    from fer_edge.runtime.recognizer import EmotionRecognizer

    log_warnings_to_stderr()
    keras_path = model if model is not None and model.suffix.lower() == ".keras" else None
    if keras_path is not None and not keras_path.is_file():
        raise FerEdgeError(f"{keras_path}: no such model file")
    # the run's index file, checked before any work (also an --out that cannot be written)
    check_destination(out_dir / ("grid.json" if grid else "explanations.json"), force)
    recognizer = EmotionRecognizer(
        model=None if keras_path is not None else model,
        detector="whole-frame" if grid else detector,
        detector_model=detector_model,
        min_score=min_score,
    )
    with recognizer:
        classifier, det = recognizer.classifier, recognizer.detector
        gradcam = None
        which: Any = classifier
        if keras_path is not None:
            from fer_edge.evaluation.gradcam import KerasExplainer

            gradcam = KerasExplainer.load(keras_path, classifier.labels)
            click.echo(f"model: {keras_path} (Keras; occlusion and Grad-CAM through TensorFlow)", err=True)
            which = gradcam
        else:
            click.echo(recognizer.describe(), err=True)
        if grid:  # (each write makes --out when it is missing)
            _grid(source, which, out_dir, usage, per_class, seed, force)
        else:
            _faces(source, which, det, gradcam, out_dir, patch, stride, top, force)


def _grid(source: str, clf, out_dir: Path, usage: str | None, per_class: int, seed: int, force: bool) -> None:
    from fer_edge.data import load_dataset
    from fer_edge.runtime.explain import example_grid, pick_examples

    ds = load_dataset(Path(source))
    tags = set(ds.usage.tolist())
    chosen = usage or ("PrivateTest" if "PrivateTest" in tags else None)
    if chosen:
        ds = ds.with_usage(chosen)
        if not len(ds):
            raise FerEdgeError(f"{source}: no {chosen} images (usage tags here: {', '.join(sorted(tags))})")
    probs = clf.classify_batch(ds.images)
    acc = float((probs.argmax(1) == ds.labels).mean())
    image = example_grid(ds.images, probs, ds.labels, clf.labels, per_class, seed)
    written = [_write_png(out_dir / "grid.png", image, force)]
    pick = pick_examples(probs, ds.labels, per_class, seed)

    def entry(i: int) -> dict:
        return {
            "source": str(ds.sources[i]) if ds.sources is not None else int(i),
            "true": clf.labels[int(ds.labels[i])],
            "predicted": clf.labels[int(probs[i].argmax())],
            "probability": round(float(probs[i].max()), 4),
        }

    payload = {
        "data": f"{source}" + (f" (usage {chosen})" if chosen else ""),
        "images": len(ds),
        "accuracy": round(acc, 5),
        "per_class": {
            clf.labels[c]: {"correct": [entry(i) for i in pick.correct[c]], "wrong": [entry(i) for i in pick.wrong[c]]}
            for c in range(len(clf.labels))
        },
        "how": f"per true class, {per_class} correct and {per_class} wrong predictions drawn at random (seed {seed}), "
        "most confident first",
    }
    written.append(_write_json(out_dir / "grid.json", payload, force))
    click.echo(f"{len(ds)} images, accuracy {100 * acc:.2f} %", err=True)
    for p in written:
        click.echo(f"wrote {p}", err=True)


def _faces(source: str, clf, det, gradcam, out_dir: Path, patch: int, stride: int, top: int, force: bool) -> None:
    from fer_edge.runtime.classifier import crop_face
    from fer_edge.runtime.explain import distinct_regions, explanation_panel, occlude
    from fer_edge.runtime.sources import Source

    src = Source(source)
    if src.is_live:
        raise FerEdgeError(f"{source}: a camera or stream; explain takes images, folders or globs")
    records, written, names = [], [], set()
    size = (48, 48)
    for frame in src:
        if frame.index > 0:  # a video: its first frame only
            continue
        detections = det.detect(frame.image)
        if not detections:
            click.echo(f"{frame.source}: no face found", err=True)
        for k, d in enumerate(detections):
            face = crop_face(frame.image, d.bbox, det.crop, size)
            occ = occlude(clf, face, patch, stride)
            regions = distinct_regions(occ.regions, top)
            stem = Path(frame.source).stem
            name = f"{stem}_face{k}"
            while name in names:
                name += "_"
            names.add(name)
            panels = [explanation_panel(face, occ.heat, clf.labels, occ.probs, occ.target, regions, "occlusion")]
            scale, origin = _crop_geometry(d.bbox, det.crop)
            record = {
                "source": frame.source,
                "face": k,
                "box": [round(v, 1) for v in d.bbox.as_tuple()],
                "label": clf.labels[occ.target],
                "probabilities": {n: round(float(p), 4) for n, p in zip(clf.labels, occ.probs)},
                "occlusion": {
                    "patch": patch,
                    "stride": stride,
                    "fill": "grey 128",
                    "meaning": "drop in the predicted class's probability when the square is covered",
                    "top_regions": [r.as_dict(scale, origin) for r in regions],
                },
                "image": f"{name}.png",
            }
            if gradcam is not None:
                heat = gradcam.gradcam(face, occ.target)
                panels.append(explanation_panel(face, heat, clf.labels, occ.probs, occ.target, (), "Grad-CAM"))
                record["gradcam_layer"] = gradcam.layer_name
            written.append(_write_png(out_dir / f"{name}.png", np.vstack(panels), force))
            records.append(record)
            best = ", ".join(f"{r.part} ({r.drop:+.2f})" for r in regions)
            click.echo(
                f"{frame.source} face {k}: {record['label']} {occ.probs[occ.target]:.2f}; regions: {best}", err=True
            )
    written.append(_write_json(out_dir / "explanations.json", records, force))
    for p in written:
        click.echo(f"wrote {p}", err=True)
    if src.failures:
        raise FerEdgeError(f"{len(src.failures)} input(s) could not be read: {src.failures[0].source} ...")


def _crop_geometry(bbox, crop) -> tuple[float, tuple[float, float]]:
    """Frame pixels per face pixel, and the crop's top-left corner in the frame (as ``crop_face`` cuts it)."""
    side = max(bbox.width, bbox.height) * (1.0 + 2.0 * crop.margin)
    cx, cy = bbox.center
    cy += crop.shift_y * max(bbox.width, bbox.height)
    return side / 48.0, (cx - side / 2, cy - side / 2)
