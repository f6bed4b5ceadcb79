"""One training run, start to finish: split, fit, score, and write every artefact of the run.

A run directory holds ``model.keras`` (+ ``model.json`` card), ``history.csv``, ``metrics.json``,
``predictions.npz`` (test indices, labels, probabilities, leakage flags) and three PNG figures.
It is written under a temporary name and renamed when complete, so a directory that exists is a
finished run, and ``metrics.json`` is its marker.
"""

from __future__ import annotations

import platform
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np

from fer_edge.atomic import atomic_path
from fer_edge.cpu import cpu_description
from fer_edge.data import FerDataset
from fer_edge.data.audit import pixel_groups
from fer_edge.data.splits import SPLIT_METHODS, Split, split_dataset
from fer_edge.training.fit import TrainConfig
from fer_edge.training.record import METRICS_FILE, SCHEMA_VERSION, RunRecord

SPLITS = SPLIT_METHODS


@dataclass
class RunSpec:
    """What one run trains and how; everything here is recorded in ``metrics.json`` and the card."""

    arch: str
    channels: int
    seed: int
    config: TrainConfig
    split: str = "stratified"  # stratified 80/10/10 with `seed`, or usage: Training/PublicTest/PrivateTest
    data: dict[str, Any] = field(default_factory=dict)  # path, loader, image set, counts
    cell: str = ""
    command: str = ""


def make_split(ds: FerDataset, method: str, seed: int) -> Split:
    """See ``fer_edge.data.splits.split_dataset``."""
    return split_dataset(ds, method, seed)


def _versions() -> dict[str, str]:
    import keras
    import tensorflow as tf

    return {
        "tensorflow": tf.__version__,
        "keras": keras.__version__,
        "numpy": np.__version__,
        "python": platform.python_version(),
    }


#: Environment variables that set TensorFlow's and oneDNN's thread pools.
THREAD_ENV = ("TF_NUM_INTRAOP_THREADS", "TF_NUM_INTEROP_THREADS", "OMP_NUM_THREADS")


def _machine() -> dict[str, Any]:
    """Where a run ran, so timings quoted from it can be checked (load averages at start show contention)."""
    import os

    return {
        "platform": platform.platform(),
        "machine": platform.machine(),
        "processor": platform.processor() or platform.machine(),
        "cpu_count": os.cpu_count(),
        "cpu": cpu_description(),  # oneDNN picks kernels by its SIMD flags: a seed may differ on another CPU
        "load_average_1_5_15": [round(x, 2) for x in os.getloadavg()] if hasattr(os, "getloadavg") else None,
        # thread settings change float rounding (and so a seed's exact result) and the seconds per epoch
        "thread_env": {k: os.environ[k] for k in THREAD_ENV if k in os.environ},
    }


def _utc_now() -> str:
    from datetime import datetime, timezone

    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def _leakage(ds: FerDataset, split: Split) -> dict[str, np.ndarray]:
    hashes = pixel_groups(ds.images)  # equal ids <=> identical pixels
    train_h = hashes[split.train]
    test_h = hashes[split.test]
    return {
        "test_in_train": np.isin(test_h, train_h),
        "test_in_train_or_val": np.isin(test_h, np.concatenate([train_h, hashes[split.val]])),
        "val_in_train": np.isin(hashes[split.val], train_h),
    }


def _save_without_optimizer(model: Any, path: Path) -> None:
    """Keras 3's ``.keras`` keeps a compiled model's optimizer slots (3x the weights); save an uncompiled copy."""
    import keras

    bare = keras.Model.from_config(model.get_config())  # never compiled, so no optimizer state
    bare.set_weights(model.get_weights())
    bare.save(path)


def train_run(
    ds: FerDataset,
    spec: RunSpec,
    out_dir: Path,
    force: bool = False,
    log: Callable[[str], None] = print,
) -> dict[str, Any]:
    """Train ``spec.arch`` on ``ds`` and write the run directory ``out_dir``; returns its metrics."""
    import keras

    from fer_edge.metrics import classification_metrics
    from fer_edge.model_card import ModelCard
    from fer_edge.models import build_model
    from fer_edge.training.figures import plot_confusion, plot_history, plot_roc
    from fer_edge.training.fit import fit, predict_proba

    started = time.perf_counter()
    started_utc = _utc_now()
    machine = _machine()
    split = make_split(ds, spec.split, spec.seed)
    leaks = _leakage(ds, split)
    config = replace(spec.config, seed=spec.seed)
    label = f"{spec.cell or spec.arch} seed {spec.seed}"
    log(
        f"[{label}] {spec.arch}, {spec.channels} channel(s), split {split.method} "
        f"train/val/test {len(split.train)}/{len(split.val)}/{len(split.test)}"
    )
    with atomic_path(Path(out_dir), force=force, directory=True) as tmp:
        keras.backend.clear_session()  # free the previous run's graph when many runs share a process
        keras.utils.set_random_seed(spec.seed)  # before building: the initial weights follow the seed
        model = build_model(spec.arch, channels=spec.channels)
        result = fit(
            model,
            ds.images[split.train],
            ds.labels[split.train],
            ds.images[split.val],
            ds.labels[split.val],
            config,
            out_dir=tmp,
        )
        probs = predict_proba(model, ds.images[split.test])
        val_probs = predict_proba(model, ds.images[split.val])
        y_test = ds.labels[split.test]
        leak = leaks["test_in_train"]
        test = classification_metrics(y_test, probs)
        clean = classification_metrics(y_test[~leak], probs[~leak])
        metrics: dict[str, Any] = {
            "schema_version": SCHEMA_VERSION,
            "cell": spec.cell,
            "arch": spec.arch,
            "channels": spec.channels,
            "seed": spec.seed,
            "parameters": int(model.count_params()),
            "data": {**spec.data, "images": len(ds), "classes": ds.class_counts()},
            "split": split.as_dict(),
            "fit": result.as_dict(),
            "val": {k: classification_metrics(ds.labels[split.val], val_probs)[k] for k in ("accuracy", "macro_f1")},
            "test": test,
            "leakage": {
                "method": "exact pixel equality (fer_edge.data.audit.pixel_groups; exact copies only)",
                "test_images": int(len(leak)),
                "test_with_copy_in_train": int(leak.sum()),
                "test_with_copy_in_train_or_val": int(leaks["test_in_train_or_val"].sum()),
                "val_with_copy_in_train": int(leaks["val_in_train"].sum()),
                "test_accuracy_full": test["accuracy"],
                "test_accuracy_leakage_free": clean["accuracy"],
                "test_accuracy_on_leaked": float((probs[leak].argmax(1) == y_test[leak]).mean())
                if leak.any()
                else None,
            },
            "test_leakage_free": clean,
            "command": spec.command,
            "versions": _versions(),
        }
        model_path = tmp / "model.keras"
        _save_without_optimizer(model, model_path)
        ModelCard(
            architecture=spec.arch,
            input_shape=[48, 48, spec.channels],
            training={
                "cell": spec.cell,
                "data": metrics["data"],
                "split": split.as_dict(),
                "seed": spec.seed,
                "protocol": config.as_dict(),
                "epochs_run": result.epochs_run,
                "best_epoch": result.best_epoch,
                "command": spec.command,
            },
            metrics={
                "test_accuracy": test["accuracy"],
                "test_macro_f1": test["macro_f1"],
                "test_accuracy_leakage_free": clean["accuracy"],
                "test_images": test["n"],
            },
            notes={
                "data": "FER-2013: web faces, posed and spontaneous, 48x48 gray; labels are noisy and classes imbalanced "
                "(disgust ~1.5%); not validated for decisions about people."
            },
        ).save(model_path)
        np.savez_compressed(
            tmp / "predictions.npz",
            index=split.test.astype(np.int32),
            y_true=y_test.astype(np.int8),
            probs=probs.astype(np.float16),
            leaked=leak,
        )
        title = f"{label}: test accuracy {test['accuracy']:.3f}"
        plot_history(result.history, tmp / "curves.png", title)
        plot_confusion(test["confusion_matrix"], tmp / "confusion.png", title)
        plot_roc(y_test, probs, tmp / "roc.png", title)
        metrics["seconds_total"] = round(time.perf_counter() - started, 1)
        metrics["wall"] = {"started_utc": started_utc, "finished_utc": _utc_now(), "seconds": metrics["seconds_total"]}
        metrics["machine"] = {**machine, "load_average_at_end": _machine()["load_average_1_5_15"]}
        record = RunRecord.from_dict(metrics)
        (tmp / METRICS_FILE).write_text(record.to_json())
    log(
        f"[{label}] done: {result.epochs_run} epochs (best {result.best_epoch}), "
        f"{result.seconds_per_epoch:.1f} s/epoch, {metrics['seconds_total']:.0f} s total; "
        f"test accuracy {test['accuracy']:.4f} (leakage-free {clean['accuracy']:.4f}, "
        f"{int(leak.sum())}/{len(leak)} test images have a copy in training)"
    )
    return record.to_dict()
