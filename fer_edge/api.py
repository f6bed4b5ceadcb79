"""The public Python API of fer-edge. Everything here imports without TensorFlow.

```python
import cv2, fer_edge

with fer_edge.EmotionRecognizer() as recognizer:            # shipped model + BlazeFace
    result = recognizer.recognize(cv2.imread("photo.jpg"))  # one still image: no state carried over
    for face in result.faces:
        print(face.bbox, face.label, face.emotions)         # {label: probability}, card order
    for result in recognizer.stream("clip.mp4"):             # file, folder, glob, camera index, URL
        print(result.frame_index, result.timestamp_s, [f.track_id for f in result.faces])
```

``CameraSession(CameraOptions(...)).run()`` is what ``fer-edge camera`` runs, as a library object.
"""

from __future__ import annotations

from fer_edge.errors import FerEdgeError
from fer_edge.runtime.detector import BBox
from fer_edge.runtime.pipeline import UNCERTAIN, FaceResult, FrameResult
from fer_edge.runtime.recognizer import EmotionRecognizer, RecognizerOptions
from fer_edge.runtime.session import CameraOptions, CameraSession, CameraSummary
from fer_edge.runtime.sources import CameraSettings, Frame

__all__ = [
    "UNCERTAIN",
    "BBox",
    "CameraOptions",
    "CameraSession",
    "CameraSettings",
    "CameraSummary",
    "EmotionRecognizer",
    "FaceResult",
    "Frame",
    "FrameResult",
    "FerEdgeError",
    "RecognizerOptions",
]
