"""Run the TensorFlow converter in a child process, so a crash in it is an error message, not a dead CLI.

TensorFlow's converter and calibrator are C++; on some graphs (a Keras 3 LSTM's WHILE loop under
full-int8 quantization) they segfault or abort. A fresh interpreter started with
``subprocess`` does the conversion (not multiprocessing: its spawn mode re-runs the caller's
``__main__``, which breaks scripts without a main guard); the parent turns its exit status into a
``FerEdgeError`` that says which precision was being converted and what to try.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

from fer_edge.errors import FerEdgeError

#: "module:function" the child runs with the work folder; tests point it elsewhere to simulate a crash.
WORKER = "fer_edge.convert.targets:convert_job"

_BOOT = "import importlib, sys; m, f = sys.argv[1].split(':'); getattr(importlib.import_module(m), f)(sys.argv[2])"

#: What to try, by the step the converter died in.
ADVICE = {
    "int8": "try --dynamic or --float16, or retrain with fer_edge.models.build_model so the architecture is known",
    "default": "try another precision, or check the model loads with keras.models.load_model",
}


def _signal_name(number: int) -> str:
    try:
        return signal.Signals(number).name
    except ValueError:
        return f"signal {number}"


def _read_json(path: Path) -> dict:
    try:
        return json.loads(path.read_text())
    except (OSError, json.JSONDecodeError):
        return {}


def log_tail(work_dir: Path, lines: int = 3) -> str:
    try:
        text = (Path(work_dir) / "child.log").read_text(errors="replace")
    except OSError:
        return ""
    useful = [ln.strip() for ln in text.splitlines() if ln.strip() and not ln.startswith(("W0000", "I0000"))]
    return " | ".join(useful[-lines:])


def run_child(work_dir: Path, model_name: str, timeout: float | None = None) -> None:
    """Run ``WORKER`` on ``work_dir`` in a fresh Python process; FerEdgeError on any failure."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in sys.path if p)  # the child imports what the caller can
    env.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    with open(Path(work_dir) / "child.log", "ab") as log:
        try:
            process = subprocess.run(
                [sys.executable, "-c", _BOOT, WORKER, str(work_dir)],
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                env=env,
                timeout=timeout,
                check=False,
            )
        except subprocess.TimeoutExpired:
            raise FerEdgeError(f"converting {model_name} took longer than {timeout:.0f} s and was stopped") from None
    code = process.returncode
    if code == 0:
        return
    progress = _read_json(Path(work_dir) / "progress.json")
    precision = progress.get("precision")
    stage = progress.get("stage", "starting")
    doing = f"{stage} {model_name}" + (f" to {precision}" if precision else "")
    if code is not None and code < 0:
        advice = ADVICE.get(precision or "", ADVICE["default"])
        raise FerEdgeError(
            f"converter crashed with {_signal_name(-code)} (signal {-code}) while {doing}; "
            f"no file was written; {advice}"
        )
    error = _read_json(Path(work_dir) / "error.json").get("message")
    if error:
        raise FerEdgeError(f"{model_name}: {error}")
    tail = log_tail(work_dir)
    raise FerEdgeError(f"converter exited with status {code} while {doing}" + (f": {tail}" if tail else ""))
