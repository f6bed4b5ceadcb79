"""Shared fixtures: small generated datasets and models, never ../shared."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


@pytest.fixture(scope="session")
def synthetic_small():
    from fer_edge.data.synthetic import make_synthetic

    return make_synthetic(140, seed=3)


@pytest.fixture(scope="session")
def tflite_models(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Tiny .tflite classifiers (``fer_edge.testing.generate.make_models``), made once per session for
    every test that asks; TensorFlow is imported only then."""
    from fer_edge.testing.generate import make_models

    return make_models(tmp_path_factory.mktemp("models"))
