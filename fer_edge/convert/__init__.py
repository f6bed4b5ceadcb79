"""Keras -> TFLite conversion (float32, float16, dynamic range, full int8), verified file by file.

The TensorFlow converter runs in a child process (``fer_edge.convert.child``); the parent needs
no TensorFlow, only the runtime interpreter it verifies the files with.
"""

from fer_edge.convert.converter import ConvertedModel, VerificationError, convert_model, output_name
from fer_edge.convert.keras_file import KerasInfo, inspect_keras
from fer_edge.runtime.model_file import PRECISIONS

__all__ = [
    "PRECISIONS",
    "ConvertedModel",
    "KerasInfo",
    "VerificationError",
    "convert_model",
    "inspect_keras",
    "output_name",
]
