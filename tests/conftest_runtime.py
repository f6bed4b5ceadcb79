"""Fixtures for the runtime tests: tiny .tflite classifiers made here with TensorFlow, and frames with a
drawn face at a known place. A test module wraps ``shared_models`` in its own fixture (this is not a
conftest pytest loads by itself, so other test files are not slowed by TensorFlow)."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from fer_edge.runtime.scenes import BACKGROUND, FRAME_H, FRAME_W, draw_face, face_scene, write_video  # noqa: F401

#: centres of the 7 brightness bins the probe model maps to classes 0..6
PROBE_CENTRES = np.array([18.0 + 36.0 * k for k in range(7)], np.float32)


def _convert(model, path: Path, int8: bool = False, calibration: np.ndarray | None = None) -> Path:
    import tensorflow as tf

    converter = tf.lite.TFLiteConverter.from_keras_model(model)
    if int8:
        assert calibration is not None

        def representative():
            for img in calibration:
                yield [img[None].astype(np.float32)]

        converter.optimizations = [tf.lite.Optimize.DEFAULT]
        converter.representative_dataset = representative
        converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
        converter.inference_input_type = tf.int8
        converter.inference_output_type = tf.int8
    path.write_bytes(converter.convert())
    return path


def _card(path: Path, architecture: str, channels: int, precision: str) -> None:
    from fer_edge.model_card import ModelCard

    ModelCard(
        architecture=architecture,
        input_shape=[48, 48, channels],
        precision=precision,
        input_dtype="int8" if precision == "int8" else "float32",
        output_dtype="int8" if precision == "int8" else "float32",
        training={"data": "untrained test fixture"},
    ).save(path)


def probe_model():
    """A classifier whose answer is known: class k when the face's mean pixel is nearest
    ``PROBE_CENTRES[k]`` (logit_k = s * (2 c_k m - c_k^2), i.e. nearest centre, linear in m)."""
    import keras

    inp = keras.Input((48, 48, 1))
    mean = keras.layers.GlobalAveragePooling2D()(inp)
    dense = keras.layers.Dense(7, activation="softmax")
    out = dense(mean)
    s = 0.02
    dense.set_weights([(2 * PROBE_CENTRES * s)[None, :], -(PROBE_CENTRES**2) * s])
    return keras.Model(inp, out)


def probe_label(mean_pixel: float) -> int:
    return int(np.argmin(np.abs(PROBE_CENTRES - mean_pixel)))


def make_models(out: Path, only: tuple[str, ...] | None = None) -> dict[str, Path]:
    """paths: 'cnn-f32' and 'cnn-int8' (paper1-cnn, 1 channel, untrained), 'probe-f32', 'probe-int8',
    'cnn3-f32' (paper1-cnn with 3 channels), or just those in ``only``; each with its model card beside it."""
    import keras

    from fer_edge.data.synthetic import make_synthetic
    from fer_edge.models import build_model

    keras.utils.set_random_seed(0)
    out.mkdir(parents=True, exist_ok=True)
    wanted = set(only or ("cnn-f32", "cnn-int8", "probe-f32", "probe-int8", "cnn3-f32"))
    paths = {}
    if wanted & {"cnn-f32", "cnn-int8"}:
        cnn = build_model("paper1-cnn", channels=1)
        if "cnn-f32" in wanted:
            paths["cnn-f32"] = _convert(cnn, out / "cnn-f32.tflite")
        if "cnn-int8" in wanted:
            calib = make_synthetic(56, seed=5).images[..., None].astype(np.float32)
            paths["cnn-int8"] = _convert(cnn, out / "cnn-int8.tflite", int8=True, calibration=calib)
    if wanted & {"probe-f32", "probe-int8"}:
        probe = probe_model()
        if "probe-f32" in wanted:
            paths["probe-f32"] = _convert(probe, out / "probe-f32.tflite")
        if "probe-int8" in wanted:
            levels = np.repeat(np.linspace(0, 255, 56, dtype=np.float32)[:, None, None, None], 48, axis=1)
            levels = np.repeat(levels, 48, axis=2)
            paths["probe-int8"] = _convert(probe, out / "probe-int8.tflite", int8=True, calibration=levels)
    if "cnn3-f32" in wanted:
        paths["cnn3-f32"] = _convert(build_model("paper1-cnn", channels=3), out / "cnn3-f32.tflite")
    for name, p in paths.items():
        arch = "probe" if name.startswith("probe") else "paper1-cnn"
        _card(p, arch, 3 if name.startswith("cnn3") else 1, "int8" if name.endswith("int8") else "float32")
    return paths


_MODELS: dict[str, Path] = {}


def shared_models(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """``make_models`` once per test session, whichever test module asks first."""
    if not _MODELS:
        _MODELS.update(make_models(tmp_path_factory.mktemp("models")))
    return _MODELS
