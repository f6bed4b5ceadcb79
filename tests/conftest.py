"""Shared fixtures: small generated datasets, never ../shared."""

from __future__ import annotations

import os

import pytest

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


@pytest.fixture(scope="session")
def synthetic_small():
    from fer_edge.data.synthetic import make_synthetic

    return make_synthetic(140, seed=3)
