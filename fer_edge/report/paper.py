"""The published numbers the factorial is compared with (paper 1, FER-2013), in percent / AUC."""

from __future__ import annotations

#: Table 1: (paper format, architecture key) -> accuracy, macro precision, recall, F1 in %.
PAPER1_TABLE1: dict[tuple[str, str], dict[str, float]] = {
    ("directory", "cnn"): {"accuracy": 50.571, "macro_precision": 50.218, "macro_recall": 47.145, "macro_f1": 48.095},
    ("directory", "cnn-lstm"): {
        "accuracy": 49.819,
        "macro_precision": 50.672,
        "macro_recall": 46.787,
        "macro_f1": 48.037,
    },
    ("csv", "cnn"): {"accuracy": 55.001, "macro_precision": 53.031, "macro_recall": 52.461, "macro_f1": 52.525},
    ("csv", "cnn-lstm"): {"accuracy": 57.843, "macro_precision": 57.147, "macro_recall": 55.200, "macro_f1": 55.995},
}

#: Table 2: per-class one-vs-rest ROC-AUC of the paper's best cell.
PAPER1_TABLE2_CELL = ("csv", "cnn-lstm")
PAPER1_TABLE2_AUC: dict[str, float] = {
    "angry": 0.8225,
    "disgust": 0.8974,
    "fear": 0.7850,
    "happy": 0.9277,
    "sad": 0.7926,
    "surprise": 0.9255,
    "neutral": 0.8277,
}

#: Paper 2, for context only (different architectures and protocol).
PAPER2_ACCURACY = {"paper2-cnn": 63.25, "paper2-cnn-lstm": 46.82}
