"""Grad-CAM (Selvaraju et al. 2017) for a Keras face classifier: where the last convolutional feature
map supports the explained class. TensorFlow is imported here, so only ``fer-edge explain --model X.keras``
loads this module; the runtime's occlusion maps need none of it."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from fer_edge.errors import FerEdgeError
from fer_edge.runtime.model_file import to_channels


def last_conv_layer(model) -> str:
    """The name of the last layer with a 4-D (N, H, W, C) output of more than 1x1 pixels."""
    for layer in reversed(model.layers):
        try:
            shape = layer.output.shape
        except (AttributeError, ValueError):
            continue
        if len(shape) == 4 and (shape[1] or 0) > 1 and layer.__class__.__name__ not in ("InputLayer", "Rescaling"):
            return layer.name
    raise FerEdgeError(f"{model.name}: no convolutional feature map to compute Grad-CAM on")


class KerasExplainer:
    """A Keras classifier with ``classify_batch`` (for occlusion) and ``gradcam`` (for one face)."""

    def __init__(self, model, labels: tuple[str, ...], layer_name: str | None = None) -> None:
        import keras

        self.model = model
        self.labels = tuple(labels)
        self.channels = int(model.input_shape[-1])
        self.layer_name = layer_name or last_conv_layer(model)
        self._grad_model = keras.Model(model.inputs, [model.get_layer(self.layer_name).output, model.outputs[0]])

    @classmethod
    def load(cls, path: Path, labels: tuple[str, ...]) -> KerasExplainer:
        from fer_edge.convert.keras_file import inspect_keras

        info = inspect_keras(Path(path))  # a FerEdgeError naming the file when it is not a Keras model
        import keras

        model = keras.models.load_model(path, compile=False)
        names = tuple(info.card.labels) if info.card is not None else labels
        return cls(model, names)

    def _input(self, faces: np.ndarray) -> np.ndarray:
        return to_channels(faces, self.channels)

    def classify_batch(self, faces_gray: np.ndarray) -> np.ndarray:
        return np.asarray(self.model.predict(self._input(faces_gray), batch_size=256, verbose=0), np.float32)

    def gradcam(self, face_gray: np.ndarray, target: int) -> np.ndarray:
        """(H, W) float32 in [0, 1]: ReLU of the gradient-weighted feature map for ``target``, upsampled."""
        import tensorflow as tf

        x = tf.constant(self._input(np.asarray(face_gray)[None]))
        with tf.GradientTape() as tape:
            features, probs = self._grad_model(x, training=False)
            score = probs[:, target]
        grads = tape.gradient(score, features)
        weights = tf.reduce_mean(grads, axis=(1, 2))  # (1, C)
        cam = tf.nn.relu(tf.reduce_sum(features * weights[:, None, None, :], axis=-1))[0].numpy()
        peak = float(cam.max())
        cam = cam / peak if peak > 0 else cam
        h, w = np.asarray(face_gray).shape
        return cv2.resize(cam.astype(np.float32), (w, h), interpolation=cv2.INTER_LINEAR)
