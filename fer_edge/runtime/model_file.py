"""What a classifier ``.tflite`` is, in one place (no TensorFlow).

Every command that opens a classifier model (``predict``, ``camera``, ``bench``, ``evaluate``) and every
recipe that times or feeds one goes through here, so they agree on:

- ``PRECISIONS``: the TFLite precisions fer-edge makes, in the order it makes and lists them;
- the precision of a file: its model card, else its input type, else its file name;
- the model contract: a (1|N, 48, 48, 1|3) input of float32, int8 or uint8, and one output of 7 scores
  (or as many as the card's labels); a file outside it is refused with one line naming the fix;
- how pixels reach the model: gray faces repeated to the model's channels, float pixels quantized with
  the input's scale and zero point;
- how invokes are timed (``time_invokes``).
"""

from __future__ import annotations

import re
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from fer_edge.errors import FerEdgeError
from fer_edge.labels import EMOTIONS
from fer_edge.model_card import ModelCard
from fer_edge.runtime.interpreter import TfliteModel

#: The TFLite precisions, in conversion order (float32 first: the others' size is compared with it).
PRECISIONS: tuple[str, ...] = ("float32", "float16", "dynamic", "int8")
#: Face size (height, width) every classifier takes; the runtime crops and resizes faces to it.
FACE_SIZE = (48, 48)
CHANNELS = (1, 3)
INPUT_DTYPES = ("float32", "int8", "uint8")
CONVERT_HINT = "give a 48x48 face classifier made by `fer-edge convert`"


def to_channels(gray: np.ndarray, channels: int) -> np.ndarray:
    """Gray faces (..., H, W) of pixels 0-255 -> float32 (..., H, W, channels): the gray value repeated
    for 3-channel models (fer-edge models normalize inside, so no scaling here)."""
    x = np.asarray(gray).astype(np.float32)[..., None]
    return np.repeat(x, channels, axis=-1) if channels != 1 else x


def precision_of(path: Path, input_dtype: np.dtype | str | None = None) -> str:
    """The precision of a classifier file: its card's, else int8 for an integer input, else a precision
    named in the file name (``model-float16.tflite``), else float32. Opens the file when the input type
    is needed and not given."""
    path = Path(path)
    card = ModelCard.load(path)
    if card is not None and card.precision:
        return card.precision
    if input_dtype is None:
        with TfliteModel(path) as model:
            input_dtype = model.input.dtype
    if np.issubdtype(np.dtype(input_dtype), np.integer):
        return "int8"
    for p in PRECISIONS:
        if re.search(rf"(^|[-_.]){p}([-_.]|$)", path.stem):
            return p
    return "float32"


def check_classifier(model: TfliteModel, card: ModelCard | None) -> tuple[str, ...]:
    """The labels of a classifier that keeps the model contract; FerEdgeError (one line: the file and
    the fix) for one that does not."""
    path = model.path
    shape = tuple(model.input.shape)
    if len(shape) != 4 or shape[1:3] != FACE_SIZE or shape[3] not in CHANNELS:
        raise FerEdgeError(
            f"{path}: input {list(shape)} is not a face classifier's (1, 48, 48, 1 or 3); {CONVERT_HINT}"
        )
    if model.input.dtype.name not in INPUT_DTYPES:
        raise FerEdgeError(
            f"{path}: input type {model.input.dtype.name} is not one of {', '.join(INPUT_DTYPES)}; {CONVERT_HINT}"
        )
    if card is not None and card.channels != shape[3]:
        raise FerEdgeError(
            f"{ModelCard.path_for(path)}: card says {card.channels} channels but the model takes "
            f"{shape[3]}; regenerate the card with fer-edge convert"
        )
    labels = tuple(card.labels) if card is not None else EMOTIONS
    outputs = model.outputs
    n_out = int(outputs[0].shape[-1]) if outputs else 0
    if len(outputs) != 1 or n_out != len(labels):
        where = f"{len(labels)} labels in its card" if card is not None else f"the {len(EMOTIONS)} FER-2013 labels"
        raise FerEdgeError(
            f"{path}: {n_out} outputs but {where}; give a model with one score per label "
            f"(or a card {ModelCard.path_for(path).name} that lists its labels)"
        )
    return labels


def open_classifier(
    path: Path | str, threads: int = 1, backend: str | None = None
) -> tuple[TfliteModel, ModelCard | None]:
    """Open a classifier ``.tflite`` with its card, checked against the model contract."""
    path = Path(path)
    model = TfliteModel(path, num_threads=threads, backend=backend)
    try:
        card = ModelCard.load(path)
        check_classifier(model, card)
    except BaseException:
        model.close()
        raise
    return model, card


def time_invokes(
    targets: Sequence[tuple[TfliteModel, np.ndarray]], runs: int, warmup: int, rounds: int = 1
) -> np.ndarray:
    """Milliseconds per invoke, shape (len(targets), rounds * (runs // rounds)): each model invoked on its
    already-typed input, ``warmup`` untimed times first. With several targets the timing runs in
    interleaved rounds, so a change in a shared machine's load touches every model alike."""
    for model, x in targets:
        for _ in range(warmup):
            model.invoke_raw(x)
    per_round = max(1, runs // rounds)
    out = np.empty((len(targets), rounds * per_round))
    for r in range(rounds):
        for k, (model, x) in enumerate(targets):
            for i in range(per_round):
                t = time.perf_counter()
                model.invoke_raw(x)
                out[k, r * per_round + i] = (time.perf_counter() - t) * 1000.0
    return out
