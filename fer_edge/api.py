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

# `X as X`: an explicit re-export (the list of public names is fer_edge.__all__)
from fer_edge.errors import FerEdgeError as FerEdgeError
from fer_edge.runtime.detector import BBox as BBox
from fer_edge.runtime.frame import Frame as Frame
from fer_edge.runtime.pipeline import UNCERTAIN as UNCERTAIN
from fer_edge.runtime.pipeline import FaceResult as FaceResult
from fer_edge.runtime.pipeline import FrameResult as FrameResult
from fer_edge.runtime.recognizer import EmotionRecognizer as EmotionRecognizer
from fer_edge.runtime.recognizer import RecognizerOptions as RecognizerOptions
from fer_edge.runtime.session import CameraOptions as CameraOptions
from fer_edge.runtime.session import CameraSession as CameraSession
from fer_edge.runtime.session import CameraSummary as CameraSummary
from fer_edge.runtime.sources import CameraSettings as CameraSettings
