"""The .tflite files the invoke benchmarks load: every architecture in every precision.

Converted straight from ``fer_edge.models.build_model`` with ``tf.lite.TFLiteConverter`` (untrained
weights: latency does not depend on them). A fixed batch of 1; the CNN-LSTMs unrolled, so no
WHILE loop is left; full-int8 calibrated on random pixels. Imports TensorFlow: benchmarks only.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from fer_edge.runtime.model_file import PRECISIONS  # noqa: E402

__all__ = ["PRECISIONS", "convert"]


def convert(arch_name: str, precision: str, dst: Path, seed: int = 0) -> Path:
    """Write ``dst`` (.tflite) for ``arch_name`` at ``precision``; returns ``dst``."""
    import keras
    import tensorflow as tf

    from fer_edge.models import get_architecture

    arch = get_architecture(arch_name)
    keras.utils.set_random_seed(seed)
    model = arch.build(unroll=arch.recurrent)
    shape = (1, 48, 48, arch.default_channels)
    pixels = keras.Input(shape[1:], batch_size=1, name="pixels")
    converter = tf.lite.TFLiteConverter.from_keras_model(keras.Model(pixels, model(pixels)))
    if precision != "float32":
        converter.optimizations = [tf.lite.Optimize.DEFAULT]
    if precision == "float16":
        converter.target_spec.supported_types = [tf.float16]
    elif precision == "int8":
        rng = np.random.default_rng(seed)

        def representative():
            for _ in range(32):
                yield [rng.integers(0, 256, shape).astype(np.float32)]

        converter.representative_dataset = representative
        converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
        converter.inference_input_type = tf.int8
        converter.inference_output_type = tf.int8
    elif precision not in ("float32", "dynamic"):
        raise ValueError(f"unknown precision {precision!r}; one of {', '.join(PRECISIONS)}")
    dst = Path(dst)
    dst.write_bytes(converter.convert())
    return dst
