"""Classifier invoke latency per architecture x precision x threads (bare ``invoke`` on typed input)."""

from __future__ import annotations

import numpy as np
import pytest
from bench_support import BUDGET_MS, THREADS, record
from tflite_models import PRECISIONS

from fer_edge.models.registry import ARCHITECTURES
from fer_edge.runtime.device_report import typed_input
from fer_edge.runtime.interpreter import TfliteModel


@pytest.mark.parametrize("threads", THREADS)
@pytest.mark.parametrize("precision", PRECISIONS)
@pytest.mark.parametrize("arch", list(ARCHITECTURES))
def test_invoke(benchmark, model_files, arch, precision, threads):
    path = model_files.path(arch, precision)
    model = TfliteModel(path, num_threads=threads)
    x = typed_input(model, np.random.default_rng(0))
    benchmark.group = "invoke"
    benchmark(model.invoke_raw, x)
    record(
        benchmark,
        f"invoke {arch} {precision} {threads} thread(s)",
        f"<= {BUDGET_MS:.1f} ms per frame in all",
        kind="per_frame",
        stage="classify (invoke)",
        arch=arch,
        precision=precision,
        threads=threads,
        backend=f"{model.backend} {model.backend_version}",
        size_bytes=path.stat().st_size,
    )
