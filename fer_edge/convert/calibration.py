"""Calibration and verification images for the converter: from training data only, never test data."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from fer_edge.data.dataset import FerDataset
from fer_edge.errors import FerEdgeError
from fer_edge.model_card import ModelCard
from fer_edge.runtime.model_file import to_channels

DEFAULT_SAMPLES = 500
VERIFY_IMAGES = 100


def stratified_sample(labels: np.ndarray, n: int, seed: int) -> np.ndarray:
    """Sorted indices of ``n`` items with the class mix of ``labels`` (all of them when fewer)."""
    from sklearn.model_selection import train_test_split

    idx = np.arange(len(labels))
    if n >= len(labels):
        return idx
    try:
        picked, _ = train_test_split(idx, train_size=n, stratify=labels, random_state=seed)
    except ValueError:  # a class too rare to stratify: a plain random draw
        picked = np.random.default_rng(seed).choice(idx, size=n, replace=False)
    return np.sort(picked)


def training_part(ds: FerDataset, source: str, seed: int = 0) -> tuple[FerDataset, str]:
    """The images a converter may calibrate on: the Training usage, else the training split."""
    from fer_edge.data.splits import stratified_split

    usages = set(ds.usage.tolist())
    if "Training" in usages:
        return ds.with_usage("Training"), f"{source} (Training usage)"
    if usages - {""}:
        raise FerEdgeError(
            f"{source}: holds only {', '.join(sorted(usages - {''}))} images; calibration must come from "
            "training data, never test data: give the training set"
        )
    split = stratified_split(ds.labels, seed)
    return ds.subset(split.train), f"{source} (training part of the stratified split, seed {seed})"


def as_model_input(pixels: np.ndarray, channels: int, source: str) -> np.ndarray:
    """(N, 48, 48[, 1|C]) pixels 0-255 -> float32 (N, 48, 48, channels); FerEdgeError if it does not fit."""
    x = np.asarray(pixels)
    if x.ndim == 3:
        x = x[..., None]
    if x.ndim != 4 or x.shape[1:3] != (48, 48) or x.shape[3] not in (1, channels) or len(x) == 0:
        raise FerEdgeError(
            f"{source}: calibration images have shape {tuple(np.shape(pixels))}; the model takes "
            f"(N, 48, 48, {channels}) pixels 0-255 (or (N, 48, 48) grayscale): give 48x48 face crops"
        )
    if not np.issubdtype(x.dtype, np.number):
        raise FerEdgeError(f"{source}: calibration images are {x.dtype}, expected pixel numbers 0-255")
    x = x.astype(np.float32)
    if x.min() < 0 or x.max() > 255:
        raise FerEdgeError(f"{source}: calibration pixels span {x.min():g}..{x.max():g}; give raw pixels 0-255")
    if x.max() <= 1.0:
        raise FerEdgeError(
            f"{source}: calibration pixels lie in 0-1; the model normalizes inside, give raw pixels 0-255"
        )
    if x.shape[3] != channels:
        x = to_channels(x[..., 0], channels)
    return x


def _card_training_data(card: ModelCard | None) -> Path | None:
    """The training data path a model card names (``training.data`` as a path or ``{"path": ...}``)."""
    if card is None:
        return None
    for key in ("data", "data_path", "dataset"):
        value = card.training.get(key)
        if isinstance(value, dict):
            value = value.get("path")
        if value == "synthetic" or (isinstance(value, str) and value and Path(value).exists()):
            return Path(value)
    return None


def card_training_part(ds: FerDataset, card: ModelCard, source: str) -> tuple[FerDataset, str]:
    """The images the card's model trained on: its recorded stratified split, else the Training usage."""
    from fer_edge.data.splits import stratified_split

    split = card.training.get("split") or {}
    if split.get("method") != "stratified":
        return training_part(ds, source)
    seed = int(split.get("seed", card.training.get("seed", 0)))
    train = stratified_split(ds.labels, seed).train
    sizes = split.get("sizes") or []
    if sizes and int(sizes[0]) != len(train):
        raise FerEdgeError(
            f"{source}: the model card's stratified split (seed {seed}) had {sizes[0]} training images but this "
            f"data gives {len(train)}; pass --calibration with the model's training data"
        )
    return ds.subset(train), f"{source} (training part of the card's stratified split, seed {seed})"


def calibration_images(
    source: np.ndarray | FerDataset | Path | str | None,
    channels: int,
    samples: int,
    seed: int,
    card: ModelCard | None,
) -> tuple[np.ndarray, str]:
    """``samples`` stratified training images as float32 model input, and where they came from.

    ``source`` may be an array of pixels, a FerDataset, a dataset path (any form) or a ``.npy``
    array; None means the training data the model card names.
    """
    from fer_edge.data import load_dataset

    if samples < 1:
        raise FerEdgeError(f"--samples {samples}: give at least 1 calibration image (500 is the default)")
    if source is None:
        path = _card_training_data(card)
        if path is None or card is None:
            raise FerEdgeError(
                "int8 needs calibration images from the training data and the model card names none: "
                "pass --calibration TRAIN_DATA (a dataset folder, CSV or .npy of 48x48 pixels)"
            )
        ds, label = card_training_part(load_dataset(path), card, str(path))
    elif isinstance(source, (str, Path)):
        path = Path(source)
        if path.suffix.lower() == ".npy":
            if not path.is_file():
                raise FerEdgeError(f"{path}: no such calibration file")
            try:
                array = np.load(path, allow_pickle=False)
            except ValueError as e:
                raise FerEdgeError(f"{path}: not a readable .npy array ({e})") from None
            return _from_array(array, channels, samples, seed, str(path))
        ds, label = training_part(load_dataset(path), str(path), seed)
    elif isinstance(source, FerDataset):
        ds, label = training_part(source, "the given dataset", seed)
    else:
        return _from_array(source, channels, samples, seed, "the calibration array")
    idx = stratified_sample(ds.labels, samples, seed)
    x = as_model_input(ds.images[idx], channels, label)
    return x, f"{len(x)} stratified images from {label}"


def _from_array(array: np.ndarray, channels: int, samples: int, seed: int, label: str) -> tuple[np.ndarray, str]:
    x = as_model_input(array, channels, label)
    if len(x) > samples:
        x = x[np.sort(np.random.default_rng(seed).choice(len(x), size=samples, replace=False))]
    return x, f"{len(x)} images from {label}"


def verification_images(calibration: np.ndarray | None, channels: int, seed: int) -> tuple[np.ndarray, str]:
    """100 images to compare TFLite with Keras: training images when given, else synthetic faces."""
    if calibration is not None and len(calibration) >= 10:
        n = min(VERIFY_IMAGES, len(calibration))
        idx = np.sort(np.random.default_rng(seed + 1).choice(len(calibration), size=n, replace=False))
        return calibration[idx], "training images"
    from fer_edge.data.synthetic import make_synthetic

    faces = make_synthetic(VERIFY_IMAGES, seed=seed).images
    return as_model_input(faces, channels, "synthetic faces"), "synthetic faces (fer_edge.data.synthetic)"
