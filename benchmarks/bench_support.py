"""Constants and the figure recorder the benchmark modules share (imported by name: benchmarks/ is on sys.path)."""

from __future__ import annotations

import os
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
FER2013_IMAGES = 35_887
THREADS = sorted({1, os.cpu_count() or 1})

#: lines printed at the end of the run (conftest's terminal summary)
FIGURES: list[str] = []


def record(benchmark, what: str, target: str | None = None, **extra: object) -> None:
    """Attach ``extra`` to the benchmark's JSON entry and queue a printed line with its median."""
    benchmark.extra_info.update(extra)
    if hasattr(os, "getloadavg"):
        benchmark.extra_info["loadavg_1min"] = round(os.getloadavg()[0], 2)
    stats = getattr(benchmark, "stats", None)
    if stats is None:  # --benchmark-disable
        return
    median = stats.stats.median
    value = f"{median:.2f} s" if median >= 1 else f"{median * 1000:.3f} ms"
    line = f"{what}: median {value} over {stats.stats.rounds} rounds"
    if target:
        line += f" (target {target})"
    FIGURES.append(line)
