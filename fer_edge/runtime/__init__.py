"""Everything a device runs: load a .tflite, detect, classify, track, time. Never imports TensorFlow
(unless neither LiteRT nor tflite-runtime is installed, as the interpreter's last resort).

One job per module, in the order a frame meets them:

- ``sources``: one resolver for camera index, image, video, folder, glob or stream -> ``Frame`` (BGR)
- ``detector``: BlazeFace short range (anchors, decoding, weighted NMS in NumPy) or the whole frame
- ``classifier``: face crop -> gray 48x48 -> probabilities, with the model card's labels
- ``tracking`` / ``smoothing``: IoU track ids across frames; per-track EMA of probabilities
- ``pipeline``: one frame through all of the above -> ``FrameResult``
- ``timing``: per-stage timer and the p50/p95/p99 meter against the 33.3 ms budget
- ``overlay`` / ``sinks``: drawing; records (table/JSON/CSV) and annotated images or videos
- ``live``: the camera loop; ``devices``: ``--device`` profiles; ``factory``: what the CLI builds
- ``interpreter``: the TFLite backend (LiteRT, tflite-runtime or TensorFlow) behind ``TfliteModel``

Submodules are not imported here, so ``import fer_edge.runtime.interpreter`` stays light.
"""
