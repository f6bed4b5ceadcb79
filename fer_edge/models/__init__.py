"""Keras model builders by name (imports TensorFlow/Keras: not for the runtime path)."""

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # keep TensorFlow's start-up chatter off the CLI

# ruff: noqa: E402

from fer_edge.models.registry import ARCHITECTURES, Architecture, build_model, get_architecture

__all__ = ["ARCHITECTURES", "Architecture", "build_model", "get_architecture"]
