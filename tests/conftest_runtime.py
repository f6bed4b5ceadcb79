"""Fixtures for the runtime tests: tiny .tflite classifiers made here with TensorFlow, and frames with a
drawn face at a known place. A test module wraps ``shared_models`` in its own fixture (this is not a
conftest pytest loads by itself, so other test files are not slowed by TensorFlow)."""

from __future__ import annotations

import os
from pathlib import Path

import cv2
import numpy as np
import pytest

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

FRAME_W, FRAME_H = 640, 480
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


def draw_face(img: np.ndarray, cx: int, cy: int, s: int, skin: tuple[int, int, int] = (140, 170, 215)) -> np.ndarray:
    """Draw (in place) a frontal cartoon face about ``s`` px tall centred at (cx, cy): hair, ears, skin
    oval, eyes with whites and pupils, brows, nose, lips and neck. BlazeFace scores it about 0.9 from
    s=150 up; fer-edge's 48x48 synthetic faces, upscaled, only reach 0.5-0.6."""

    def shade(f: float) -> tuple[int, int, int]:
        return tuple(int(c * f) for c in skin)  # type: ignore[return-value]

    hair, aa = (30, 40, 60), cv2.LINE_AA
    a, b = int(0.36 * s), int(0.5 * s)
    cv2.ellipse(img, (cx, cy - int(0.08 * s)), (int(a * 1.12), int(b * 1.05)), 0, 180, 360, hair, -1, aa)
    cv2.rectangle(
        img, (cx - int(0.15 * s), cy + int(0.35 * s)), (cx + int(0.15 * s), cy + int(0.75 * s)), shade(0.85), -1
    )
    for side in (-1, 1):
        cv2.ellipse(img, (cx + side * a, cy), (int(0.06 * s), int(0.1 * s)), 0, 0, 360, shade(0.9), -1, aa)
    cv2.ellipse(img, (cx, cy), (a, b), 0, 0, 360, skin, -1, aa)
    cv2.ellipse(img, (cx, cy - int(0.32 * s)), (int(a * 0.98), int(0.2 * s)), 0, 180, 360, hair, -1, aa)
    ey, ex = cy - int(0.06 * s), int(0.15 * s)
    for side in (-1, 1):
        x = cx + side * ex
        cv2.ellipse(img, (x, ey), (int(0.075 * s), int(0.035 * s)), 0, 0, 360, (245, 245, 245), -1, aa)
        cv2.circle(img, (x, ey), int(0.028 * s), (50, 60, 90), -1, aa)
        cv2.circle(img, (x, ey), int(0.012 * s), (10, 10, 10), -1, aa)
        cv2.ellipse(img, (x, ey), (int(0.075 * s), int(0.035 * s)), 0, 0, 360, (60, 70, 90), 2, aa)
        brow = ((x - int(0.08 * s), ey - int(0.08 * s)), (x + int(0.08 * s), ey - int(0.09 * s)))
        cv2.line(img, *brow, hair, max(2, int(0.02 * s)), aa)
    nose = np.array(
        [[cx, ey + int(0.02 * s)], [cx - int(0.05 * s), cy + int(0.14 * s)], [cx + int(0.05 * s), cy + int(0.14 * s)]]
    )
    cv2.polylines(img, [nose.astype(np.int32)], False, shade(0.7), 2, aa)
    for side in (-1, 1):
        cv2.circle(img, (cx + side * int(0.03 * s), cy + int(0.14 * s)), int(0.012 * s), shade(0.5), -1, aa)
    my = cy + int(0.27 * s)
    cv2.ellipse(img, (cx, my), (int(0.12 * s), int(0.03 * s)), 0, 0, 180, (60, 60, 170), -1, aa)
    cv2.ellipse(img, (cx, my), (int(0.12 * s), int(0.025 * s)), 0, 180, 360, (80, 80, 180), -1, aa)
    return img


BACKGROUND = (120, 150, 110)


def face_scene(
    centres: list[tuple[int, int]] | tuple[int, int] = (320, 240),
    s: int = 200,
    skins: list[tuple[int, int, int]] | None = None,
    size: tuple[int, int] = (FRAME_W, FRAME_H),
) -> np.ndarray:
    """A BGR frame with one drawn face per centre on a flat green background."""
    if isinstance(centres, tuple):
        centres = [centres]
    frame = np.empty((size[1], size[0], 3), np.uint8)
    frame[:] = BACKGROUND
    for i, (cx, cy) in enumerate(centres):
        draw_face(frame, cx, cy, s, skins[i] if skins else (140, 170, 215))
    return frame


def write_video(path: Path, frames: list[np.ndarray], fps: float = 30.0) -> Path:
    fourcc = cv2.VideoWriter_fourcc(*("MJPG" if path.suffix == ".avi" else "mp4v"))
    h, w = frames[0].shape[:2]
    writer = cv2.VideoWriter(str(path), fourcc, fps, (w, h))
    assert writer.isOpened(), f"OpenCV cannot write {path}"
    for f in frames:
        writer.write(f)
    writer.release()
    return path
