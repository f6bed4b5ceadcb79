"""The paper's training protocol: Adam, categorical cross-entropy, EarlyStopping + ReduceLROnPlateau.

Data go in as arrays and are fed through ``tf.data`` (batched, prefetched; augmentation as
Keras preprocessing layers inside the pipeline, training split only), never per-image loops.
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import keras
import numpy as np
import tensorflow as tf

from fer_edge.labels import NUM_CLASSES


@dataclass
class TrainConfig:
    """Every number of the protocol in one place (defaults = the paper's)."""

    epochs: int = 50
    batch_size: int = 64
    learning_rate: float = 1e-3
    patience: int = 5  # EarlyStopping on `monitor`, restore_best_weights=True
    lr_patience: int = 3  # ReduceLROnPlateau
    lr_factor: float = 0.5
    min_lr: float = 1e-5
    augment: bool = False  # flip, small shift/rotation, brightness/contrast; training split only
    seed: int = 0
    verbose: int = 2
    label_smoothing: float = 0.0
    monitor: str = "val_loss"
    jit_compile: bool = False  # XLA on CPU measured 3-6x slower per epoch here
    #: "plateau" (ReduceLROnPlateau), "cosine" (decay to min_lr over `epochs`) or "constant" (for averaging)
    lr_schedule: str = "plateau"
    warmup_epochs: int = 0  # cosine only: linear warm-up from min_lr
    weight_decay: float = 0.0  # > 0 switches Adam to AdamW
    checkpoint: bool = False  # with out_dir: keep the best model so far in out_dir/best.keras
    #: > 0: stochastic weight averaging. The weights at the end of every epoch from this one (1-based)
    #: on are averaged, BatchNorm is re-measured on the training pipeline, and the average is the
    #: result; early stopping and best-epoch restoring are off.
    average_from_epoch: int = 0
    #: With soft targets given to ``fit``: the weight of the teacher's probabilities in each target
    #: (the rest is the one-hot label). 0 ignores them.
    distill_weight: float = 0.0

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class FitResult:
    history: dict[str, list[float]]
    best_epoch: int  # 1-based epoch whose weights were restored
    epochs_run: int
    seconds: float
    seconds_per_epoch: float
    config: dict[str, Any] = field(default_factory=dict)
    #: With weight averaging: epochs averaged and the averaged model's validation metrics.
    averaged: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {
            **({"averaged": self.averaged} if self.averaged else {}),
            "best_epoch": self.best_epoch,
            "epochs_run": self.epochs_run,
            "seconds": round(self.seconds, 2),
            "seconds_per_epoch": round(self.seconds_per_epoch, 2),
            "config": self.config,
        }


def as_nhwc(x: np.ndarray, channels: int) -> np.ndarray:
    """(N,48,48) or (N,48,48,C) pixels -> (N,48,48,1 or channels), dtype kept (uint8 stays uint8).

    Gray input for a 3-channel model stays 1-channel here and is repeated per batch in the
    pipeline, so a 3-channel copy of the whole set is never held in memory.
    """
    x = np.asarray(x)
    if x.ndim == 3:
        x = x[..., None]
    if x.ndim != 4 or x.shape[-1] not in (1, channels):
        raise ValueError(f"cannot feed images of shape {x.shape[1:]} to a {channels}-channel model")
    return x


def augmentation() -> keras.Sequential:
    """Face-safe augmentation: mirror, <=10% shift, <=~10 degree rotation, brightness/contrast.

    Works on raw 0-255 pixels (value_range set) so the model's own Rescaling still applies.
    """
    layers = keras.layers
    return keras.Sequential(
        [
            layers.RandomFlip("horizontal"),
            layers.RandomTranslation(0.1, 0.1, fill_mode="nearest"),
            layers.RandomRotation(0.03, fill_mode="nearest"),
            layers.RandomBrightness(0.15, value_range=(0, 255)),
            layers.RandomContrast(0.2),
        ],
        name="augment",
    )


def make_dataset(
    x: np.ndarray,
    y: np.ndarray | None,
    batch_size: int,
    channels: int,
    shuffle: bool = False,
    seed: int = 0,
    augment: bool = False,
) -> tf.data.Dataset:
    """Arrays -> batched, prefetched ``tf.data`` of float32 (B,48,48,channels) and one-hot labels.

    ``y`` holds int labels (N,), or per-class target probabilities (N, 7) that are used as they are.
    """
    x = as_nhwc(x, channels)
    repeat = channels // x.shape[-1]

    def pixels(a: tf.Tensor) -> tf.Tensor:
        a = tf.cast(a, tf.float32)
        return tf.repeat(a, repeat, axis=-1) if repeat > 1 else a

    if y is None:
        ds = tf.data.Dataset.from_tensor_slices(x)
    else:
        y = np.asarray(y, np.float32 if np.ndim(y) == 2 else np.int64)
        ds = tf.data.Dataset.from_tensor_slices((x, y))
    if shuffle:
        ds = ds.shuffle(min(len(x), 40_000), seed=seed, reshuffle_each_iteration=True)
    ds = ds.batch(batch_size)
    if y is None:
        ds = ds.map(pixels, num_parallel_calls=tf.data.AUTOTUNE)
    else:
        aug = augmentation() if augment else None

        def prepare(a: tf.Tensor, b: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor]:
            a = pixels(a)
            if aug is not None:
                a = tf.clip_by_value(aug(a, training=True), 0.0, 255.0)
            return a, (b if b.dtype == tf.float32 else tf.one_hot(b, NUM_CLASSES))

        ds = ds.map(prepare, num_parallel_calls=tf.data.AUTOTUNE)
    return ds.prefetch(tf.data.AUTOTUNE)


class _EpochTimer(keras.callbacks.Callback):
    def on_train_begin(self, logs: dict | None = None) -> None:
        self.times: list[float] = []

    def on_epoch_begin(self, epoch: int, logs: dict | None = None) -> None:
        self._t = time.perf_counter()

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        self.times.append(time.perf_counter() - self._t)


def _optimizer(config: TrainConfig, steps_per_epoch: int) -> keras.optimizers.Optimizer:
    """Adam (AdamW with weight decay) at a fixed rate, or on a cosine schedule with optional warm-up."""
    if config.lr_schedule not in ("plateau", "cosine", "constant"):
        raise ValueError(f"lr_schedule must be 'plateau', 'cosine' or 'constant', not {config.lr_schedule!r}")
    lr: float | keras.optimizers.schedules.LearningRateSchedule = config.learning_rate
    if config.lr_schedule == "cosine":
        warmup = config.warmup_epochs * steps_per_epoch
        lr = keras.optimizers.schedules.CosineDecay(
            config.min_lr if warmup else config.learning_rate,
            decay_steps=max(1, (config.epochs - config.warmup_epochs) * steps_per_epoch),
            alpha=config.min_lr / config.learning_rate,
            warmup_target=config.learning_rate if warmup else None,
            warmup_steps=warmup,
        )
    if config.weight_decay > 0:
        return keras.optimizers.AdamW(lr, weight_decay=config.weight_decay)
    return keras.optimizers.Adam(lr)


def fit(
    model: keras.Model,
    x_train: np.ndarray,
    y_train: np.ndarray,
    x_val: np.ndarray,
    y_val: np.ndarray,
    config: TrainConfig,
    out_dir: Path | None = None,
    soft_targets: np.ndarray | None = None,
) -> FitResult:
    """Train ``model`` in place with the protocol in ``config``; returns history and timings.

    ``x`` are raw pixels 0-255, uint8 or float32, (N,48,48) or (N,48,48,C); ``y`` int labels 0-6.
    The best weights (lowest ``monitor``) are restored at the end, or, with
    ``config.average_from_epoch``, the average of the epochs from that one on. ``soft_targets``
    (N, 7) are a teacher's probabilities for ``x_train`` (distillation): each training target is
    ``distill_weight * soft + (1 - distill_weight) * one_hot(y)``. With ``out_dir`` the
    per-epoch history is written to ``out_dir/history.csv`` as training goes. The seed is set
    here for shuffling, dropout and augmentation; call ``keras.utils.set_random_seed(seed)``
    before building the model too, so its initial weights are reproducible.
    """
    from fer_edge.training.averaging import WeightAverage, recompute_batchnorm

    keras.utils.set_random_seed(config.seed)
    channels = int(model.input_shape[-1])
    targets: np.ndarray = np.asarray(y_train)
    if soft_targets is not None and config.distill_weight > 0:
        soft = np.asarray(soft_targets, np.float32)
        if soft.shape != (len(targets), NUM_CLASSES):
            raise ValueError(f"soft_targets must have shape ({len(targets)}, {NUM_CLASSES}), not {soft.shape}")
        one_hot = np.eye(NUM_CLASSES, dtype=np.float32)[targets]
        targets = config.distill_weight * soft + (1.0 - config.distill_weight) * one_hot
    train_ds = make_dataset(
        x_train, targets, config.batch_size, channels, shuffle=True, seed=config.seed, augment=config.augment
    )
    val_ds = make_dataset(x_val, y_val, config.batch_size, channels)
    model.compile(
        optimizer=_optimizer(config, steps_per_epoch=-(-len(x_train) // config.batch_size)),
        loss=keras.losses.CategoricalCrossentropy(label_smoothing=config.label_smoothing),
        metrics=["accuracy"],
        jit_compile=config.jit_compile,
    )
    mode = "max" if "acc" in config.monitor else "min"
    timer = _EpochTimer()
    callbacks: list[keras.callbacks.Callback] = [timer]
    averager = WeightAverage(config.average_from_epoch) if config.average_from_epoch > 0 else None
    if averager is not None:
        callbacks.append(averager)
    else:
        callbacks.append(
            keras.callbacks.EarlyStopping(
                monitor=config.monitor, patience=config.patience, mode=mode, restore_best_weights=True, verbose=1
            )
        )
    if config.lr_schedule == "plateau":
        callbacks.append(
            keras.callbacks.ReduceLROnPlateau(
                monitor=config.monitor,
                factor=config.lr_factor,
                patience=config.lr_patience,
                min_lr=config.min_lr,
                mode=mode,
                verbose=1,
            )
        )
    if out_dir is not None:
        Path(out_dir).mkdir(parents=True, exist_ok=True)
        callbacks.append(keras.callbacks.CSVLogger(str(Path(out_dir) / "history.csv")))
        if config.checkpoint and averager is None:
            callbacks.append(
                keras.callbacks.ModelCheckpoint(
                    str(Path(out_dir) / "best.keras"), monitor=config.monitor, mode=mode, save_best_only=True
                )
            )
    start = time.perf_counter()
    hist = model.fit(
        train_ds,
        validation_data=val_ds,
        epochs=config.epochs,
        callbacks=callbacks,
        verbose=config.verbose,
        shuffle=False,  # tf.data shuffles (seeded) above
    )
    history = {k: [float(v) for v in vals] for k, vals in hist.history.items()}
    epochs_run = len(timer.times)
    averaged: dict[str, Any] = {}
    if averager is not None:
        model.set_weights(averager.averaged_weights())
        batches = recompute_batchnorm(model, train_ds)
        scores = model.evaluate(val_ds, verbose=0, return_dict=True)
        averaged = {
            "from_epoch": config.average_from_epoch,
            "snapshots": averager.snapshots,
            "batchnorm_batches": batches,
            **{f"val_{k}": float(v) for k, v in scores.items()},
        }
        best = epochs_run
    else:
        monitored = history.get(config.monitor, [])
        if monitored:
            best = int(np.argmax(monitored) if mode == "max" else np.argmin(monitored)) + 1
        else:
            best = epochs_run
    seconds = time.perf_counter() - start
    return FitResult(
        history=history,
        best_epoch=best,
        epochs_run=epochs_run,
        seconds=seconds,
        seconds_per_epoch=float(np.mean(timer.times)) if timer.times else 0.0,
        config=config.as_dict(),
        averaged=averaged,
    )


def predict_proba(model: keras.Model, x: np.ndarray, batch_size: int = 256) -> np.ndarray:
    """Class probabilities (N, 7) for raw pixels, batched through ``tf.data``."""
    if len(x) == 0:
        return np.zeros((0, NUM_CLASSES), np.float32)
    ds = make_dataset(x, None, batch_size, int(model.input_shape[-1]))
    return np.asarray(model.predict(ds, verbose=0), dtype=np.float32)
