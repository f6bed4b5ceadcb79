"""Everything a device runs: load a .tflite, detect, classify, track, time. Never imports TensorFlow
(unless neither LiteRT nor tflite-runtime is installed, as the interpreter's last resort)."""
