"""One TFLite interpreter behind a typed object: backend choice, threads, quantized I/O.

Backends, in order: ``ai-edge-litert`` (LiteRT, maintained, NumPy 2), ``tflite-runtime`` (last
release 2.14, NumPy 1 only), TensorFlow's own ``tf.lite.Interpreter`` (a training install).
Callers feed float pixels and get float outputs; int8/uint8 scale and zero point are applied here.
"""

from __future__ import annotations

import importlib
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from fer_edge.errors import FerEdgeError

__all__ = ["BACKENDS", "TensorSpec", "TfliteModel", "available_backends"]


#: backend name -> (module, attribute path of the Interpreter class)
@dataclass(frozen=True)
class TensorSpec:
    """One input or output tensor: shape, type, and its quantization (scale 0.0 when none)."""

    shape: tuple[int, ...]
    dtype: np.dtype
    scale: float
    zero_point: int

    @property
    def quantized(self) -> bool:
        return self.scale != 0.0 and np.issubdtype(self.dtype, np.integer)

    def quantize(self, x: np.ndarray) -> np.ndarray:
        """Float values -> this tensor's type: scale, zero point and clipping when it is quantized."""
        if self.quantized:
            info = np.iinfo(self.dtype)
            q = np.round(np.asarray(x, np.float32) / self.scale + self.zero_point)
            return np.clip(q, info.min, info.max).astype(self.dtype)
        return np.asarray(x).astype(self.dtype, copy=False)

    def dequantize(self, y: np.ndarray) -> np.ndarray:
        """This tensor's values as float32."""
        if self.quantized:
            y = (y.astype(np.float32) - self.zero_point) * self.scale
        return y.astype(np.float32, copy=False)


BACKENDS: dict[str, tuple[str, str]] = {
    "litert": ("ai_edge_litert.interpreter", "Interpreter"),
    "tflite-runtime": ("tflite_runtime.interpreter", "Interpreter"),
    "tensorflow": ("tensorflow", "lite.Interpreter"),
}
INSTALL_HINT = "pip install ai-edge-litert (or tflite-runtime with numpy<2 on older boards)"


def _import_backend(name: str) -> tuple[Any, str]:
    module_name, attr = BACKENDS[name]
    module = importlib.import_module(module_name)
    cls = module
    for part in attr.split("."):
        cls = getattr(cls, part)
    version = getattr(importlib.import_module(module_name.split(".")[0]), "__version__", "?")
    return cls, str(version)


def available_backends() -> list[str]:
    """Backends that import here (TensorFlow is only tried when named or as the last resort); the Raspberry
    Pi set-up script prints them."""
    found = []
    for name in ("litert", "tflite-runtime"):
        try:
            _import_backend(name)
            found.append(name)
        except Exception:  # noqa: BLE001 - any import failure means "not usable here"
            continue
    return found


def _spec(detail: dict[str, Any]) -> TensorSpec:
    scale, zero = detail.get("quantization", (0.0, 0))
    return TensorSpec(tuple(int(d) for d in detail["shape"]), np.dtype(detail["dtype"]), float(scale), int(zero))


class TfliteModel:
    """A loaded ``.tflite`` with one input and one output (both the classifier's and the detector's
    inputs are single tensors); ``outputs`` exposes all outputs for multi-output models."""

    def __init__(self, path: Path, num_threads: int = 1, backend: str | None = None) -> None:
        self.path = Path(path)
        if not self.path.is_file():
            raise FerEdgeError(
                f"{self.path}: no such model file; give a .tflite path (or omit --model for the default)"
            )
        self.backend, self.backend_version, self._interp = self._open(
            num_threads, backend or os.environ.get("FER_EDGE_BACKEND")
        )
        self._interp.allocate_tensors()
        self._in = self._interp.get_input_details()
        self._out = self._interp.get_output_details()
        self.num_threads = num_threads

    def _open(self, num_threads: int, backend: str | None) -> tuple[str, str, Any]:
        order = [backend] if backend else ["litert", "tflite-runtime", "tensorflow"]
        problems = []
        for name in order:
            if name not in BACKENDS:
                raise FerEdgeError(f"unknown interpreter backend {name!r}; choose one of {', '.join(BACKENDS)}")
            try:
                cls, version = _import_backend(name)
            except Exception as e:  # noqa: BLE001
                problems.append(f"{name}: {type(e).__name__}: {str(e).splitlines()[0] if str(e) else ''}")
                continue
            try:
                return name, version, cls(model_path=str(self.path), num_threads=num_threads)
            except ValueError as e:
                raise FerEdgeError(
                    f"{self.path}: not a TFLite model the interpreter can load ({str(e).splitlines()[0]}); "
                    "give a .tflite made by `fer-edge convert`"
                ) from None
            except Exception as e:  # noqa: BLE001 - e.g. tflite-runtime 2.14 under NumPy 2
                problems.append(f"{name} {version}: {type(e).__name__}: {str(e).splitlines()[0] if str(e) else ''}")
        raise FerEdgeError(f"no TFLite interpreter could load {self.path} ({'; '.join(problems)}); {INSTALL_HINT}")

    @property
    def input(self) -> TensorSpec:
        return _spec(self._in[0])

    @property
    def outputs(self) -> list[TensorSpec]:
        return [_spec(d) for d in self._out]

    @property
    def input_index(self) -> int:
        return int(self._in[0]["index"])

    def resize_batch(self, batch: int) -> None:
        """Resize the input to ``batch`` (models converted with a fixed batch of 1 allow this)."""
        shape = list(self._in[0]["shape"])
        if shape[0] != batch:
            self._interp.resize_tensor_input(self.input_index, [batch, *shape[1:]])
            self._interp.allocate_tensors()
            self._in = self._interp.get_input_details()
            self._out = self._interp.get_output_details()

    def run(self, x: np.ndarray) -> list[np.ndarray]:
        """Invoke on float input ``x`` (already shaped like the input); all outputs as float32."""
        self._interp.set_tensor(self.input_index, self.input.quantize(np.asarray(x, dtype=np.float32)))
        self._interp.invoke()
        return [_spec(d).dequantize(self._interp.get_tensor(d["index"])) for d in self._out]

    def invoke_raw(self, x: np.ndarray) -> None:
        """Set already-typed input and invoke: the bare cost benchmarks measure."""
        self._interp.set_tensor(self.input_index, x)
        self._interp.invoke()

    def op_types(self) -> list[str]:
        """Op names in the graph (for verifying int8 graphs hold no float compute)."""
        ops = getattr(self._interp, "_get_ops_details", None)
        return [op["op_name"] for op in ops()] if ops else []

    def close(self) -> None:
        self._interp = None

    def __enter__(self) -> TfliteModel:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
