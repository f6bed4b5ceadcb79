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
from fer_edge.model_card import ModelCard
from fer_edge.runtime.interpreter import TfliteModel

PRECISION_ORDER = ("keras", "float32", "float16", "dynamic", "int8")


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


def _tflite_precision(path: Path, card: ModelCard | None, model: TfliteModel) -> str:
    if card is not None and card.precision:
        return card.precision
    if model.input.dtype in (np.int8, np.uint8):
        return "int8"
    for p in ("float16", "dynamic", "int8"):
        if p in path.stem:
            return p
    return "float32"


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
    card = ModelCard.load(path)
    with TfliteModel(path) as model:
        shape = model.input.shape
        if len(shape) != 4 or tuple(shape[1:3]) != (48, 48):
            raise FerEdgeError(f"{path}: input {list(shape)} is not a 48x48 face classifier's input")
        precision = _tflite_precision(path, card, model)
        channels = int(shape[3])
    notes = card.notes if card else {}
    source = notes.get("source_model")
    group = notes.get("source_sha256") or path.stem
    name = display_name(Path(source)) if source else path.stem
    architecture = card.architecture if card else "?"
    return Candidate(path, "tflite", precision, architecture, group, name, channels, path.stat().st_size, card)


def as_input(images: np.ndarray, channels: int) -> np.ndarray:
    """uint8 (N, 48, 48) -> float32 (N, 48, 48, channels), gray repeated for 3-channel models."""
    x = images.astype(np.float32)[..., None]
    return np.repeat(x, channels, axis=3) if channels > 1 else x


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


def _typed_input(model: TfliteModel, x: np.ndarray) -> np.ndarray:
    spec = model.input
    if spec.quantized:
        info = np.iinfo(spec.dtype)
        return np.clip(np.round(x / spec.scale + spec.zero_point), info.min, info.max).astype(spec.dtype)
    return x.astype(spec.dtype)


def tflite_latencies(paths: list[Path], image: dict[int, np.ndarray], runs: int, rounds: int = 5) -> dict[Path, dict]:
    """Single-image invoke time per file on one thread: median and p90 in ms over ``runs`` invokes.

    The files are timed in interleaved rounds, so a change in the machine's load during the
    measurement touches every file alike (this CPU is shared).
    """
    models = {p: TfliteModel(p, num_threads=1) for p in paths}
    try:
        typed = {p: _typed_input(m, image[m.input.shape[-1]]) for p, m in models.items()}
        for p, m in models.items():  # warm-up
            for _ in range(10):
                m.invoke_raw(typed[p])
        samples: dict[Path, list[float]] = {p: [] for p in paths}
        per_round = max(1, runs // rounds)
        for _ in range(rounds):
            for p, m in models.items():
                for _ in range(per_round):
                    t = time.perf_counter()
                    m.invoke_raw(typed[p])
                    samples[p].append((time.perf_counter() - t) * 1000)
        return {
            p: {
                "median_ms": statistics.median(s),
                "p90_ms": float(np.percentile(s, 90)),
                "runs": len(s),
                "backend": f"{models[p].backend} {models[p].backend_version}",
            }
            for p, s in samples.items()
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
