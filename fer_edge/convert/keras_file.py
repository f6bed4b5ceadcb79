"""Read what the converter needs from a ``.keras`` file without loading TensorFlow.

A Keras 3 ``.keras`` file is a zip holding ``config.json`` (the architecture), ``metadata.json``
and ``model.weights.h5``. Reading the config is enough to name the architecture, find the input
shape and spot recurrent layers, so bad input is refused before a converter process starts.
"""

from __future__ import annotations

import hashlib
import json
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fer_edge.errors import FerEdgeError
from fer_edge.model_card import ModelCard

#: Keras layer classes that hold a recurrence (a WHILE loop in TFLite unless unrolled).
RECURRENT_LAYERS = frozenset({"LSTM", "GRU", "SimpleRNN", "RNN", "Bidirectional", "ConvLSTM1D", "ConvLSTM2D"})
SUPPORTED_CHANNELS = (1, 3)


@dataclass(frozen=True)
class KerasInfo:
    path: Path
    keras_name: str  # the model's own name, e.g. paper1_cnn
    architecture_hint: str  # the card's architecture, else the Keras name as a registry name
    input_shape: tuple[int, int, int]  # (48, 48, C), batch excluded
    recurrent: bool
    card: ModelCard | None
    sha256: str

    @property
    def channels(self) -> int:
        return self.input_shape[-1]


def _walk_layers(config: dict[str, Any]) -> list[dict[str, Any]]:
    """Every layer config in the tree (nested models included)."""
    found = []
    for layer in config.get("config", {}).get("layers", []) or []:
        found.append(layer)
        if isinstance(layer.get("config"), dict) and "layers" in layer["config"]:
            found.extend(_walk_layers(layer))
        inner = layer.get("config", {}).get("layer")  # Bidirectional / TimeDistributed wrap one layer
        if isinstance(inner, dict):
            found.append(inner)
    return found


def _input_shape(path: Path, config: dict[str, Any]) -> list[Any]:
    top = config.get("config", {}).get("layers", []) or []
    inputs = [layer for layer in top if layer.get("class_name") == "InputLayer"]
    if len(inputs) > 1:
        raise FerEdgeError(
            f"{path}: the model has {len(inputs)} inputs; the converter takes a classifier with one "
            "(48, 48, C) image input"
        )
    if inputs:
        cfg = inputs[0].get("config", {})
        shape = cfg.get("batch_shape") or cfg.get("batch_input_shape")
        if shape:
            return list(shape)
    build = config.get("build_config", {}) or {}
    if build.get("input_shape"):
        return list(build["input_shape"])
    if top and top[0].get("build_config", {}).get("input_shape"):
        return list(top[0]["build_config"]["input_shape"])
    raise FerEdgeError(f"{path}: the model declares no input shape; build it with keras.Input((48, 48, C)) and save it")


def file_sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def inspect_keras(path: Path) -> KerasInfo:
    """Architecture, input shape and recurrence of a ``.keras`` file; FerEdgeError if it is not one
    the converter can take."""
    path = Path(path)
    if not path.is_file():
        raise FerEdgeError(f"{path}: no such model file; give the .keras file written by `fer-edge train`")
    hint = "give a Keras 3 .keras file (re-save an old .h5 or SavedModel with model.save('model.keras'))"
    if not zipfile.is_zipfile(path):
        raise FerEdgeError(f"{path}: not a Keras model file; {hint}")
    try:
        with zipfile.ZipFile(path) as z:
            config = json.loads(z.read("config.json"))
            has_weights = any(n.endswith(".weights.h5") for n in z.namelist())
    except (KeyError, json.JSONDecodeError, zipfile.BadZipFile, UnicodeDecodeError):
        raise FerEdgeError(f"{path}: not a Keras model file (no readable config.json inside); {hint}") from None
    if not isinstance(config, dict) or "class_name" not in config or not has_weights:
        raise FerEdgeError(f"{path}: not a Keras model file (no model config or weights inside); {hint}")
    shape = _input_shape(path, config)
    if len(shape) != 4 or shape[1:3] != [48, 48] or shape[3] not in SUPPORTED_CHANNELS:
        raise FerEdgeError(
            f"{path}: input shape {tuple(shape)} cannot be converted for fer-edge; the runtime feeds 48x48 "
            "faces as (N, 48, 48, 1) or (N, 48, 48, 3): rebuild the model with fer_edge.models.build_model"
        )
    keras_name = str(config.get("config", {}).get("name", ""))
    card = ModelCard.load(path)
    recurrent = any(layer.get("class_name") in RECURRENT_LAYERS for layer in _walk_layers(config))
    return KerasInfo(
        path=path,
        keras_name=keras_name,
        architecture_hint=(card.architecture if card and card.architecture else keras_name.replace("_", "-")),
        input_shape=(48, 48, int(shape[3])),
        recurrent=recurrent,
        card=card,
        sha256=file_sha256(path),
    )
