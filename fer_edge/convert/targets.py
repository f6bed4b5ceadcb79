"""The converter's TensorFlow side, run in a child process: one function per precision.

Everything here imports TensorFlow lazily: the parent only imports this module to hand
``convert_job`` to the child. The child reads ``job.json`` from its work folder, writes one
``<precision>.tflite`` per precision, ``reference.npy`` (Keras outputs on the verification
images) and ``result.json``; ``progress.json`` names the step under way so the parent can say
what the converter was doing if the process dies.
"""

from __future__ import annotations

import json
import os
import sys
import time
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from fer_edge.atomic import write_bytes, write_text
from fer_edge.convert.job import ConvertJob, ConvertResult, PrecisionResult
from fer_edge.errors import FerEdgeError

#: Agreement needed between the model and its unrolled rebuild (the same weights, other op order).
UNROLL_TOLERANCE = 1e-5


def _write_json(path: Path, data: dict[str, Any]) -> None:
    write_text(path, json.dumps(data, indent=2))


class Job:
    """The work folder the parent prepared: the ``ConvertJob`` in, the ``ConvertResult`` out."""

    def __init__(self, work_dir: Path) -> None:
        self.dir = Path(work_dir)
        self.spec = ConvertJob.read(self.dir / "job.json")
        self.architecture: str | None = None
        self.route = ""
        self.precisions: dict[str, PrecisionResult] = {}

    def progress(self, stage: str, precision: str | None = None) -> None:
        _write_json(self.dir / "progress.json", {"stage": stage, "precision": precision})

    def array(self, key: str) -> np.ndarray | None:
        name = getattr(self.spec, key)
        return np.load(self.dir / name) if name else None

    def save_result(self) -> None:
        result = ConvertResult(self.architecture, self.route, dict(self.precisions))
        write_text(self.dir / "result.json", result.to_json())


# ----------------------------------------------------------------------------- model preparation


def _registry_architecture(hint: str) -> str | None:
    from fer_edge.models.registry import ARCHITECTURES

    return hint if hint in ARCHITECTURES else None


def keras_unroll_clone(model: Any) -> Any:
    """A clone of ``model`` whose recurrent layers have ``unroll=True`` (Keras' own unrolling); copy the weights in."""
    import keras

    def unroll(layer: Any) -> Any:
        config = layer.get_config()
        if "unroll" in config:
            config["unroll"] = True
        return layer.__class__.from_config(config)

    return keras.models.clone_model(model, clone_function=unroll)


def _unrolled(model: Any, architecture: str | None, channels: int) -> tuple[Any, str]:
    """The same weights as straight-line ops: the registry's unrolled build, else a clone with unroll=True."""
    if architecture is not None:
        from fer_edge.models import build_model

        twin = build_model(architecture, channels, unroll=True)
        route = f"rebuilt as {architecture} with unroll=True"
    else:
        try:
            twin = keras_unroll_clone(model)
        except Exception as e:  # noqa: BLE001 - any failure means this model cannot be unrolled here
            raise FerEdgeError(
                f"its recurrent layers could not be unrolled ({type(e).__name__}: {e}); register the "
                "architecture in fer_edge/models/registry.py or save a model card naming it"
            ) from None
        route = "cloned with unroll=True"
    ours, theirs = model.get_weights(), twin.get_weights()
    if len(ours) != len(theirs) or any(a.shape != b.shape for a, b in zip(ours, theirs)):
        raise FerEdgeError(
            f"its weights do not fit the {architecture or 'cloned'} architecture at {channels} channel(s); "
            "fix the architecture named in the model card beside the .keras file"
        )
    twin.set_weights(ours)
    return twin, route


def prepare(job: Job) -> tuple[Any, np.ndarray]:
    """Load the model, unroll recurrences, fix the batch at 1; returns the model and Keras reference outputs."""
    import keras

    spec = job.spec
    try:
        model = keras.models.load_model(spec.model_path, compile=False)
    except Exception as e:  # noqa: BLE001 - Keras raises many types for a bad file
        raise FerEdgeError(
            f"{spec.model_path}: Keras could not load it ({type(e).__name__}: {str(e).splitlines()[0] if str(e) else ''}); "
            "give a .keras file saved by fer-edge train or model.save()"
        ) from None
    out_shape = tuple(model.output_shape) if not isinstance(model.output_shape, list) else None
    if out_shape is None or out_shape[1:] != (7,):
        raise FerEdgeError(
            f"{spec.model_path}: output shape {model.output_shape} is not one 7-class vector; "
            "fer-edge converts FER classifiers with a (N, 7) softmax output"
        )
    verify = job.array("verify")
    reference = model.predict(verify, batch_size=50, verbose=0)
    architecture = _registry_architecture(spec.architecture_hint)
    job.architecture = architecture or spec.architecture_hint
    route = "as saved"
    source = model
    if spec.recurrent:
        source, route = _unrolled(model, architecture, spec.channels)
        diff = float(np.abs(source.predict(verify, batch_size=50, verbose=0) - reference).max())
        if diff > UNROLL_TOLERANCE:
            raise FerEdgeError(
                f"the unrolled rebuild disagrees with the saved model (max abs diff {diff:.2e}); "
                "the card's architecture does not match the file"
            )
        route += f" (agrees to {diff:.1e})"
    pixels = keras.Input(spec.input_shape, batch_size=1, name="pixels")
    fixed = keras.Model(pixels, source(pixels), name=model.name)
    job.route = f"{route}; batch fixed at 1"
    return fixed, reference


# ----------------------------------------------------------------------------- one function per precision


def _converter(model: Any) -> Any:
    import tensorflow as tf

    return tf.lite.TFLiteConverter.from_keras_model(model)


def export_float32(model: Any, job: Job) -> tuple[bytes, dict[str, Any]]:
    return _converter(model).convert(), {}


def export_float16(model: Any, job: Job) -> tuple[bytes, dict[str, Any]]:
    import tensorflow as tf

    conv = _converter(model)
    conv.optimizations = [tf.lite.Optimize.DEFAULT]
    conv.target_spec.supported_types = [tf.float16]
    return conv.convert(), {"weights": "float16, computed in float32"}


def _dense_per_tensor(conv: Any, job: Job) -> None:
    """Quantize Dense/LSTM kernels with one scale per tensor instead of one per output channel.

    Per-channel parameters cost 12 bytes per output channel in the file (a float32 scale and an
    int64 zero point): about 12 KB for an LSTM's two 512-column kernels, which is what keeps a
    CNN-LSTM's int8 file above 30 % of its float32 one. Convolutions stay per channel.
    """
    conv._experimental_disable_per_channel_quantization_for_dense_layers = job.spec.dense_quantization == "per-tensor"


def export_dynamic(model: Any, job: Job) -> tuple[bytes, dict[str, Any]]:
    import tensorflow as tf

    conv = _converter(model)
    conv.optimizations = [tf.lite.Optimize.DEFAULT]
    _dense_per_tensor(conv, job)
    info = {"weights": "int8, activations float (dynamic range)", "dense_quantization": job.spec.dense_quantization}
    return conv.convert(), info


def _float_op_names(content: bytes, job: Job) -> list[str]:
    """Ops that read or write a float tensor, by the same check the parent's verification makes."""
    from fer_edge.convert.verify import inspect_graph

    probe = job.dir / "probe.tflite"
    probe.write_bytes(content)
    try:
        return [op.name for op in inspect_graph(probe) if op.touches_float]
    finally:
        probe.unlink(missing_ok=True)


#: MLIR quantizer runs tried before the legacy one (see ``integer_conversion``).
MLIR_ATTEMPTS = 3


def integer_conversion(
    convert: Callable[[bool], bytes], float_ops: Callable[[bytes], list[str]], attempts: int = MLIR_ATTEMPTS
) -> tuple[bytes, str]:
    """The first all-integer result of up to ``attempts`` MLIR runs, else of the legacy quantizer.

    The MLIR quantizer sometimes leaves a float SPLIT (with its DEQUANTIZE/QUANTIZE) in an unrolled
    LSTM's first step, and not always: three conversions of one model with the same calibration
    images gave one such result and two all-integer ones (2026-12-04). So it is tried again before
    falling back to the legacy quantizer, which keeps that step integer. ``convert(True)`` runs the
    MLIR quantizer, ``convert(False)`` the legacy one; the string says which result was kept.
    When no run is all-integer, the first MLIR result is returned for the caller's check to reject.
    """
    first: bytes | None = None
    floats: list[str] = []
    for attempt in range(1, attempts + 1):
        content = convert(True)
        found = float_ops(content)
        if not found:
            retried = f" (run {attempt} of {attempts}; the earlier left float {_names(floats)})" if floats else ""
            return content, "mlir" + retried
        first, floats = first or content, floats or found
    legacy = convert(False)
    if not float_ops(legacy):
        return legacy, f"legacy (the MLIR quantizer left float {_names(floats)} in {attempts} runs)"
    return first or legacy, "mlir"


def _names(ops: list[str]) -> str:
    return ", ".join(sorted(set(ops)))


def export_int8(model: Any, job: Job) -> tuple[bytes, dict[str, Any]]:
    """Full integer: int8 weights and activations, int8/uint8 input and output (``integer_conversion``)."""
    import tensorflow as tf

    calibration = job.array("calibration")
    if calibration is None:
        raise FerEdgeError("int8 needs calibration images from the training data (--calibration)")
    io_type = {"int8": tf.int8, "uint8": tf.uint8}[job.spec.int8_io]

    def representative() -> Any:
        for i in range(len(calibration)):
            yield [calibration[i : i + 1]]

    def convert(new_quantizer: bool) -> bytes:
        if not new_quantizer:  # _export announced the (first) MLIR run
            job.progress("converting (legacy quantizer)", "int8")
        conv = _converter(model)
        conv.optimizations = [tf.lite.Optimize.DEFAULT]
        conv.representative_dataset = representative
        conv.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
        conv.inference_input_type = io_type
        conv.inference_output_type = io_type
        conv.experimental_new_quantizer = new_quantizer
        _dense_per_tensor(conv, job)
        return conv.convert()

    content, quantizer = integer_conversion(convert, lambda c: _float_op_names(c, job))
    return content, {
        "quantizer": quantizer,
        "calibration_images": len(calibration),
        "io": job.spec.int8_io,
        "dense_quantization": job.spec.dense_quantization,
    }


EXPORTERS: dict[str, Callable[[Any, Job], tuple[bytes, dict[str, Any]]]] = {
    "float32": export_float32,
    "float16": export_float16,
    "dynamic": export_dynamic,
    "int8": export_int8,
}


def strip_names(content: bytes) -> bytes:
    """Drop tensor names, subgraph names and signature defs (TensorFlow's ``strip_strings``).

    The runtime addresses tensors by index, so nothing fer-edge does needs them; on an unrolled
    CNN-LSTM they are about 45 KB, 13 % of the int8 file. ``--keep-names`` keeps them (for Netron).
    """
    from tensorflow.lite.tools import flatbuffer_utils

    model = flatbuffer_utils.convert_bytearray_to_object(bytearray(content))
    flatbuffer_utils.strip_strings(model)
    return bytes(flatbuffer_utils.convert_object_to_bytearray(model))


def _export(model: Any, job: Job, precision: str) -> None:
    """Run one exporter, timed, logging the size; failures re-raised naming the precision."""
    job.progress("converting", precision)
    start = time.perf_counter()
    try:
        content, info = EXPORTERS[precision](model, job)
    except FerEdgeError:
        raise
    except Exception as e:  # noqa: BLE001 - the converter raises ConverterError, RuntimeError, ValueError...
        lines = [ln for ln in str(e).splitlines() if ln.strip()]
        raise FerEdgeError(f"{precision} conversion failed: {type(e).__name__}: {lines[-1] if lines else ''}") from e
    if job.spec.strip_names:
        content = strip_names(content)
        info = {**info, "names": "stripped"}
    seconds = time.perf_counter() - start
    write_bytes(job.dir / f"{precision}.tflite", content)
    job.precisions[precision] = PrecisionResult(seconds, len(content), info)
    print(f"fer-edge convert: {precision} {len(content)} bytes in {seconds:.1f} s", flush=True)
    job.save_result()


def convert_job(work_dir: str) -> None:
    """Child-process entry (its output goes to ``child.log``): exit 0, or 1/2 with ``error.json`` written."""
    work = Path(work_dir)
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    job = Job(work)
    try:
        job.progress("loading the model")
        model, reference = prepare(job)
        np.save(work / "reference.npy", reference)
        job.save_result()
        for precision in job.spec.precisions:
            _export(model, job, precision)
    except FerEdgeError as e:
        traceback.print_exc()
        _write_json(work / "error.json", {"message": str(e)})
        sys.stdout.flush()
        os._exit(2)
    except BaseException as e:  # noqa: BLE001 - report anything to the parent, which shows one line
        traceback.print_exc()
        _write_json(work / "error.json", {"message": f"{type(e).__name__}: {e}".splitlines()[0]})
        sys.stdout.flush()
        os._exit(1)
    sys.stdout.flush()
