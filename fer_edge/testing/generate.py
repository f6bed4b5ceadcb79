"""Generated inputs shared by tests/, benchmarks/ and the CI scripts: drawn-face frames and videos, and
tiny .tflite classifiers made on the spot.

Importing this module does not import TensorFlow (a runtime-only install can use the scene helpers);
``make_models`` imports TensorFlow and Keras when it is called, so it needs the ``train`` extra.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from fer_edge.runtime.scenes import face_scene
from fer_edge.runtime.video import write_video

if TYPE_CHECKING:
    import keras

__all__ = ["PROBE_CENTRES", "face_scene", "make_models", "probe_label", "probe_model", "video_frames", "write_video"]

#: centres of the 7 brightness bins the probe model maps to classes 0..6
PROBE_CENTRES = np.array([18.0 + 36.0 * k for k in range(7)], np.float32)

#: every model ``make_models`` can make
MODEL_NAMES = ("cnn-f32", "cnn-int8", "probe-f32", "probe-int8", "cnn3-f32")


def probe_label(mean_pixel: float) -> int:
    """The class the probe model gives a face whose mean pixel is ``mean_pixel``."""
    return int(np.argmin(np.abs(PROBE_CENTRES - mean_pixel)))


def probe_model() -> keras.Model:
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


def _convert(model: Any, path: Path, calibration: np.ndarray | None = None) -> Path:
    """Write ``model`` as a float32 .tflite, or a full-int8 one calibrated on ``calibration`` when given."""
    import tensorflow as tf

    converter = tf.lite.TFLiteConverter.from_keras_model(model)
    if calibration is not None:

        def representative() -> Iterator[list[np.ndarray]]:
            for img in calibration:
                yield [img[None].astype(np.float32)]

        converter.optimizations = [tf.lite.Optimize.DEFAULT]
        converter.representative_dataset = representative
        converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
        converter.inference_input_type = tf.int8
        converter.inference_output_type = tf.int8
    path.write_bytes(converter.convert())
    return path


def _write_card(path: Path, architecture: str, channels: int, precision: str) -> None:
    from fer_edge.model_card import ModelCard

    ModelCard(
        architecture=architecture,
        input_shape=[48, 48, channels],
        precision=precision,
        input_dtype="int8" if precision == "int8" else "float32",
        output_dtype="int8" if precision == "int8" else "float32",
        training={"data": "untrained test fixture"},
    ).save(path)


def make_models(out: Path, only: tuple[str, ...] | None = None) -> dict[str, Path]:
    """Paths of tiny .tflite classifiers written to ``out``, each with its model card beside it:
    'cnn-f32' and 'cnn-int8' (paper1-cnn, 1 channel, untrained), 'probe-f32', 'probe-int8' (see
    ``probe_model``), 'cnn3-f32' (paper1-cnn with 3 channels); all of them, or those in ``only``."""
    import keras

    from fer_edge.data.synthetic import make_synthetic
    from fer_edge.models import build_model

    unknown = set(only or ()) - set(MODEL_NAMES)
    if unknown:
        raise ValueError(f"unknown test models {sorted(unknown)}; known: {', '.join(MODEL_NAMES)}")
    keras.utils.set_random_seed(0)
    out.mkdir(parents=True, exist_ok=True)
    wanted = set(only or MODEL_NAMES)
    paths = {}
    if wanted & {"cnn-f32", "cnn-int8"}:
        cnn = build_model("paper1-cnn", channels=1)
        if "cnn-f32" in wanted:
            paths["cnn-f32"] = _convert(cnn, out / "cnn-f32.tflite")
        if "cnn-int8" in wanted:
            calib = make_synthetic(56, seed=5).images[..., None].astype(np.float32)
            paths["cnn-int8"] = _convert(cnn, out / "cnn-int8.tflite", calibration=calib)
    if wanted & {"probe-f32", "probe-int8"}:
        probe = probe_model()
        if "probe-f32" in wanted:
            paths["probe-f32"] = _convert(probe, out / "probe-f32.tflite")
        if "probe-int8" in wanted:
            levels = np.repeat(np.linspace(0, 255, 56, dtype=np.float32)[:, None, None, None], 48, axis=1)
            levels = np.repeat(levels, 48, axis=2)
            paths["probe-int8"] = _convert(probe, out / "probe-int8.tflite", calibration=levels)
    if "cnn3-f32" in wanted:
        paths["cnn3-f32"] = _convert(build_model("paper1-cnn", channels=3), out / "cnn3-f32.tflite")
    for name, p in paths.items():
        arch = "probe" if name.startswith("probe") else "paper1-cnn"
        _write_card(p, arch, 3 if name.startswith("cnn3") else 1, "int8" if name.endswith("int8") else "float32")
    return paths


def video_frames(folder: Path, n: int = 120) -> list[np.ndarray]:
    """``n`` 640x480 frames with one face walking across, written to an .avi in ``folder`` and decoded
    back (so they carry the codec's artefacts, as a camera's frames carry its own)."""
    from fer_edge.runtime.sources import Source

    clip = write_video(folder / "bench.avi", [face_scene((160 + 3 * i, 240 + (i % 20) - 10)) for i in range(n)])
    return [f.image for f in Source(clip)]


def photo_clip(photo: Path, path: Path, frames: int = 30, fps: float = 15.0) -> Path:
    """A 640x480 clip of a photo's face twice, side by side, drifting a few pixels per frame: a real two-face
    video from one real portrait (``tests/assets/astronaut.jpg``, whose face is at about (90-250, 20-180))."""
    import cv2

    image = cv2.imread(str(photo))
    if image is None:
        raise FileNotFoundError(photo)
    face = cv2.resize(image[20:180, 90:250], (180, 180))
    canvas_frames = []
    for i in range(frames):
        canvas = np.full((480, 640, 3), 90, np.uint8)
        for x0 in (60 + 2 * i, 380 - 2 * i):
            canvas[140 : 140 + 180, x0 : x0 + 180] = face
        canvas_frames.append(canvas)
    return write_video(path, canvas_frames, fps=fps)
