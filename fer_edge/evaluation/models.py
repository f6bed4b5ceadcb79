"""The models an evaluation compares: what each file is, its predictions, its single-image latency.

A ``.tflite`` runs through ``fer_edge.runtime.interpreter.TfliteModel`` (the path the Pi takes);
a ``.keras`` through Keras (TensorFlow imported only when one is given). Every model is fed the
same float32 pixels 0-255.
"""

from __future__ import annotations

import statistics
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from fer_edge.errors import FerEdgeError
from fer_edge.labels import EMOTIONS
from fer_edge.model_card import ModelCard
from fer_edge.runtime.interpreter import TfliteModel
from fer_edge.runtime.model_file import PRECISIONS, open_classifier, precision_of, time_invokes

PRECISION_ORDER = ("keras", *PRECISIONS)


@dataclass(frozen=True)
class Candidate:
    path: Path
    kind: str  # keras | tflite
    precision: str  # keras | float32 | float16 | dynamic | int8
    architecture: str
    group: str  # the source .keras file's sha256: a Keras model and its TFLite variants share it
    group_name: str
    channels: int
    size_bytes: int
    card: ModelCard | None

    @property
    def label(self) -> str:
        return f"{self.group_name} {self.precision}"


def display_name(model_path: Path) -> str:
    """A short name for a source model: its stem, with the run folder when the stem is generic."""
    path = Path(model_path)
    return f"{path.parent.name}/{path.stem}" if path.stem in ("model", "best") and path.parent.name else path.stem


def describe(path: Path) -> Candidate:
    """A Candidate for ``path`` (.keras or .tflite); FerEdgeError for anything else."""
    from fer_edge.convert.keras_file import inspect_keras

    path = Path(path)
    if not path.is_file():
        raise FerEdgeError(f"{path}: no such model file; give .keras and/or .tflite files")
    suffix = path.suffix.lower()
    if suffix == ".keras":
        info = inspect_keras(path)
        return Candidate(
            path,
            "keras",
            "keras",
            info.architecture_hint,
            info.sha256,
            display_name(path),
            info.channels,
            path.stat().st_size,
            info.card,
        )
    if suffix != ".tflite":
        raise FerEdgeError(f"{path}: not a model file; give .keras or .tflite files")
    model, card = open_classifier(path)
    with model:
        labels = card.labels if card is not None else list(EMOTIONS)
        if list(labels) != list(EMOTIONS):
            raise FerEdgeError(
                f"{path}: its card's labels ({', '.join(labels)}) are not the FER-2013 labels "
                f"({', '.join(EMOTIONS)}) evaluate scores; evaluate a model trained on FER-2013's labels"
            )
        precision = precision_of(path, model.input.dtype)
        channels = int(model.input.shape[3])
    notes = card.notes if card else {}
    source = notes.get("source_model")
    group = notes.get("source_sha256") or path.stem
    name = display_name(Path(source)) if source else path.stem
    architecture = card.architecture if card else "?"
    return Candidate(path, "tflite", precision, architecture, group, name, channels, path.stat().st_size, card)


def _run_tflite_batched(path: Path, x: np.ndarray, batch: int) -> np.ndarray | None:
    """Batched invokes after resizing the input; None when the graph cannot be resized (fixed batch)."""
    try:
        model = TfliteModel(path, num_threads=2)
        model.resize_batch(batch)
    except Exception:  # noqa: BLE001 - RuntimeError from a graph with a batch-1 reshape: fall back
        return None
    with model:
        out = []
        for start in range(0, len(x), batch):
            chunk = x[start : start + batch]
            pad = batch - len(chunk)
            if pad:
                chunk = np.concatenate([chunk, np.repeat(chunk[-1:], pad, axis=0)])
            out.append(model.run(chunk)[0][: batch - pad])
        return np.concatenate(out)


def predict_tflite(path: Path, x: np.ndarray, batch: int = 64) -> tuple[np.ndarray, str]:
    """Probabilities (N, 7), and how they were computed (batched after a resize, or one image at a time)."""
    with TfliteModel(path, num_threads=2) as single:
        head = np.concatenate([single.run(x[i : i + 1])[0] for i in range(min(4, len(x)))])
        batched = _run_tflite_batched(path, x, batch) if len(x) > 4 else None
        if batched is not None and np.allclose(batched[: len(head)], head, atol=1e-5):
            return batched, f"batch {batch}"
        out = np.concatenate([single.run(x[i : i + 1])[0] for i in range(len(x))])
        return out, "batch 1 (the graph's batch is fixed)"


def predict_keras(path: Path, x: np.ndarray) -> np.ndarray:
    import keras

    model = keras.models.load_model(path, compile=False)
    return np.asarray(model.predict(x, batch_size=256, verbose=0), dtype=np.float32)


def tflite_latencies(paths: list[Path], image: dict[int, np.ndarray], runs: int, rounds: int = 5) -> dict[Path, dict]:
    """Single-image invoke time per file on one thread: median and p90 in ms over ``runs`` invokes.

    The files are timed in interleaved rounds, so a change in the machine's load during the
    measurement touches every file alike (this CPU is shared).
    """
    models = {p: TfliteModel(p, num_threads=1) for p in paths}
    try:
        targets = [(m, m.input.quantize(image[m.input.shape[-1]])) for m in models.values()]
        times = time_invokes(targets, runs, warmup=10, rounds=rounds)
        return {
            p: {
                "median_ms": statistics.median(s),
                "p90_ms": float(np.percentile(s, 90)),
                "runs": len(s),
                "backend": f"{models[p].backend} {models[p].backend_version}",
            }
            for p, s in zip(models, times.tolist())
        }
    finally:
        for m in models.values():
            m.close()


def keras_latency(path: Path, image: np.ndarray, runs: int) -> dict:
    """One image through the Keras model as a direct call (eager TensorFlow: for reference only)."""
    import keras

    model = keras.models.load_model(path, compile=False)
    for _ in range(5):
        model(image, training=False)
    samples = []
    for _ in range(max(1, runs // 4)):  # eager calls are slow; a quarter of the runs is plenty
        t = time.perf_counter()
        model(image, training=False)
        samples.append((time.perf_counter() - t) * 1000)
    return {"median_ms": statistics.median(samples), "p90_ms": float(np.percentile(samples, 90)), "runs": len(samples)}
