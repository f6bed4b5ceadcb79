"""Check a produced ``.tflite`` before it is handed over: it loads in the runtime interpreter, its
input and output match the card, its outputs agree with Keras, and an int8 graph computes in
integers only. No TensorFlow: this is the runtime's view of the file."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from fer_edge.model_card import ModelCard
from fer_edge.runtime.interpreter import TfliteModel

#: float32 TFLite against Keras on the verification images (the issue's tolerance).
FLOAT32_TOLERANCE = 1e-4


@dataclass(frozen=True)
class OpInfo:
    name: str
    input_dtypes: tuple[str, ...]
    output_dtypes: tuple[str, ...]

    @property
    def touches_float(self) -> bool:
        return any(d.startswith("float") for d in (*self.input_dtypes, *self.output_dtypes))


def inspect_graph(path: Path) -> list[OpInfo]:
    """Every op of the graph with the dtypes of the tensors it reads and writes."""
    with TfliteModel(path) as model:
        interp = model._interp  # noqa: SLF001 - the runtime exposes op names only; dtypes need the tensor table
        ops_details = getattr(interp, "_get_ops_details", None)
        if ops_details is None:
            return [OpInfo(name, (), ()) for name in model.op_types()]
        tensors = {t["index"]: np.dtype(t["dtype"]).name for t in interp.get_tensor_details()}
        return [
            OpInfo(
                op["op_name"],
                tuple(tensors[i] for i in op["inputs"] if i in tensors),
                tuple(tensors[i] for i in op["outputs"] if i in tensors),
            )
            for op in ops_details()
            if op["op_name"] != "DELEGATE"  # XNNPACK's partitions, added at load time, not part of the file
        ]


def op_counts(ops: list[OpInfo]) -> dict[str, int]:
    """Op name -> count, in order of first appearance."""
    return dict(Counter(op.name for op in ops))


def summarize_ops(counts: dict[str, int], limit: int = 6) -> str:
    ranked = sorted(counts.items(), key=lambda kv: -kv[1])
    text = ", ".join(f"{name}x{n}" for name, n in ranked[:limit])
    return text + (f", +{len(ranked) - limit} more" if len(ranked) > limit else "")


def _max_diff(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.abs(a.astype(np.float64) - b.astype(np.float64)).max())


def verify_tflite(
    path: Path, card: ModelCard, images: np.ndarray, reference: np.ndarray, images_source: str
) -> tuple[dict[str, Any], list[OpInfo]]:
    """Run every check; ``passed`` is False with ``failures`` naming each check that failed."""
    failures: list[str] = []
    result: dict[str, Any] = {"images": f"{len(images)} {images_source}"}
    try:
        model = TfliteModel(path, num_threads=1)
    except Exception as e:  # noqa: BLE001 - a file the runtime cannot load fails verification
        return {**result, "passed": False, "failures": [f"does not load in the runtime: {e}"]}, []
    with model:
        result["backend"] = f"{model.backend} {model.backend_version}"
        expected_in = (1, *card.input_shape)
        got_in, got_out = model.input, model.outputs
        if got_in.shape != expected_in or got_in.dtype.name != card.input_dtype:
            failures.append(
                f"input {got_in.dtype.name}{list(got_in.shape)}, card says {card.input_dtype}{list(expected_in)}"
            )
        if len(got_out) != 1 or got_out[0].shape != (1, len(card.labels)) or got_out[0].dtype.name != card.output_dtype:
            shown = ", ".join(f"{o.dtype.name}{list(o.shape)}" for o in got_out)
            failures.append(f"output {shown}, card says {card.output_dtype}[1, {len(card.labels)}]")
        outputs = (
            np.concatenate([model.run(images[i : i + 1])[0] for i in range(len(images))]) if not failures else None
        )
    if outputs is not None:
        diff = _max_diff(outputs, reference)
        result["max_abs_diff"] = diff
        result["top1_agreement"] = float((outputs.argmax(1) == reference.argmax(1)).mean())
        if not np.isfinite(outputs).all():
            failures.append("outputs hold NaN or inf")
        if card.precision == "float32" and not diff <= FLOAT32_TOLERANCE:
            failures.append(f"float32 differs from Keras by {diff:.2e} (> {FLOAT32_TOLERANCE:g})")
    ops = inspect_graph(path)
    if card.precision == "int8":
        floats = sorted({op.name for op in ops if op.touches_float})
        result["float_ops"] = floats
        if floats:
            failures.append(f"int8 graph still computes in float: {', '.join(floats)}")
    result["passed"] = not failures
    result["failures"] = failures
    return result, ops
