"""Which TFLite routes work for a Keras 3 LSTM: the facts behind fer-edge's unrolled, batch-1 conversion.

Each case converts an untrained paper1-cnn-lstm in its own Python process (a converter crash
kills only that process) and reports: converted or not, the exit signal if it died, op count,
WHILE present, float ops left in an int8 graph.

    python convert/lstm_routes.py [--arch paper1-cnn-lstm] [--json convert/results/lstm_routes.json]
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import tempfile
from pathlib import Path

import click
import numpy as np

#: (name, route, batch, precision, new quantizer). Routes: "while" = keras.layers.LSTM as trained;
#: "keras-unroll" = the same layer with unroll=True; "twin" = fer-edge's UnrolledLSTM (what
#: `fer-edge convert` uses). File sizes here keep tensor names (the converter strips them).
CASES = [
    ("WHILE loop, dynamic batch, float32", "while", None, "float32", True),
    ("WHILE loop, batch 1, float32", "while", 1, "float32", True),
    ("WHILE loop, batch 1, int8", "while", 1, "int8", True),
    ("Keras unroll=True, dynamic batch, float32", "keras-unroll", None, "float32", True),
    ("Keras unroll=True, batch 1, float32", "keras-unroll", 1, "float32", True),
    ("Keras unroll=True, batch 1, int8 (MLIR quantizer)", "keras-unroll", 1, "int8", True),
    ("Keras unroll=True, batch 1, int8 (legacy quantizer)", "keras-unroll", 1, "int8", False),
    ("fer-edge UnrolledLSTM, batch 1, float32", "twin", 1, "float32", True),
    ("fer-edge UnrolledLSTM, batch 1, int8 (MLIR quantizer)", "twin", 1, "int8", True),
    ("fer-edge UnrolledLSTM, batch 1, int8 (legacy quantizer)", "twin", 1, "int8", False),
]

CHILD = r"""
import json, os, sys
os.environ["TF_CPP_MIN_LOG_LEVEL"] = "3"
import numpy as np, keras, tensorflow as tf
from fer_edge.models import build_model
arch, route, batch, precision, new_q, out = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4], sys.argv[5] == "1", sys.argv[6]
keras.utils.set_random_seed(0)
model = build_model(arch, unroll=route == "twin")
if route == "keras-unroll":
    from fer_edge.convert.targets import keras_unroll_clone
    twin = keras_unroll_clone(model)
    twin.set_weights(model.get_weights())
    model = twin
c = model.input_shape[-1]
x = np.random.default_rng(0).uniform(0, 255, (32, 48, 48, c)).astype(np.float32)
inp = keras.Input((48, 48, c), batch_size=None if batch == "none" else 1)
conv = tf.lite.TFLiteConverter.from_keras_model(keras.Model(inp, model(inp)))
if precision == "int8":
    conv.optimizations = [tf.lite.Optimize.DEFAULT]
    conv.representative_dataset = lambda: ([x[i : i + 1]] for i in range(len(x)))
    conv.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
    conv.inference_input_type = conv.inference_output_type = tf.int8
    conv.experimental_new_quantizer = new_q
open(out, "wb").write(conv.convert())
"""


def inspect(path: Path) -> dict:
    from fer_edge.convert.verify import inspect_graph, op_counts
    from fer_edge.runtime.interpreter import TfliteModel

    ops = inspect_graph(path)
    counts = op_counts(ops)
    info = {
        "ops": sum(counts.values()),
        "while": "WHILE" in counts,
        "float_ops": sorted({o.name for o in ops if o.touches_float}),
    }
    try:
        with TfliteModel(path) as m:
            x = np.zeros(m.input.shape, np.float32)
            m.run(x)
        info["runs"] = True
    except Exception as e:  # noqa: BLE001
        info["runs"] = f"{type(e).__name__}: {str(e).splitlines()[0][:120]}"
    return info


@click.command()
@click.option("--arch", default="paper1-cnn-lstm", show_default=True)
@click.option("--json", "json_out", type=click.Path(path_type=Path))
def main(arch: str, json_out: Path | None) -> None:
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for i, (name, route, batch, precision, new_q) in enumerate(CASES):
            out = Path(tmp) / f"case{i}.tflite"
            args = [
                arch,
                route,
                "none" if batch is None else "1",
                precision,
                "1" if new_q else "0",
                str(out),
            ]
            proc = subprocess.run(
                [sys.executable, "-c", CHILD, *args],
                capture_output=True,
                text=True,
                env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)},
            )
            row = {"case": name, "exit": proc.returncode}
            if proc.returncode < 0:
                row["result"] = f"crashed: {signal.Signals(-proc.returncode).name}"
            elif proc.returncode:
                lines = [ln for ln in proc.stderr.splitlines() if "error" in ln.lower()]
                row["result"] = "failed: " + (
                    lines[-1].strip()[:160] if lines else proc.stderr.strip().splitlines()[-1][:160]
                )
            else:
                row["result"] = "converted"
                row.update({"size_bytes": out.stat().st_size, **inspect(out)})
            rows.append(row)
            print(json.dumps(row), flush=True)
    if json_out:
        json_out.parent.mkdir(parents=True, exist_ok=True)
        json_out.write_text(json.dumps({"arch": arch, "cases": rows}, indent=2) + "\n")


if __name__ == "__main__":
    from fer_edge.errors import run_command

    sys.exit(run_command(main, prog_name="python convert/lstm_routes.py"))
