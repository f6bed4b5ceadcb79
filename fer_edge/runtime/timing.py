"""Per-stage latency: a ``FrameTimer`` times the stages of one frame, a ``StageMeter`` summarises frames.

Stages are capture, detect (including the tracker), preprocess (crop, gray, resize), classify (including
smoothing) and draw (overlay, display, recording). ``processing`` is every stage but capture: the work
fer-edge does per frame. ``total`` adds capture, which for a live camera also holds the wait for the
sensor's next frame, so a 30 FPS camera alone puts ``total`` near 33.3 ms.

The meter keeps a log-spaced histogram (bins 1 % wide), not every sample, so its memory stays constant
over a run of any length; percentiles are therefore accurate to within 0.5 %.
"""

from __future__ import annotations

import math
import time
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

STAGES: tuple[str, ...] = ("capture", "detect", "preprocess", "classify", "draw")
BUDGET_MS = 1000.0 / 30.0  # one frame at 30 FPS
PERCENTILES = (50, 95, 99)


class _Span:
    __slots__ = ("_timer", "_name", "_t0")

    def __init__(self, timer: FrameTimer, name: str) -> None:
        self._timer, self._name, self._t0 = timer, name, 0.0

    def __enter__(self) -> None:
        self._t0 = time.perf_counter()

    def __exit__(self, *exc: object) -> None:
        ms = self._timer.ms
        ms[self._name] = ms.get(self._name, 0.0) + (time.perf_counter() - self._t0) * 1000.0


class FrameTimer:
    """Milliseconds per stage for one frame: ``with timer.stage("detect"): ...`` (repeats add up)."""

    __slots__ = ("ms",)

    def __init__(self) -> None:
        self.ms: dict[str, float] = {}

    def stage(self, name: str) -> _Span:
        return _Span(self, name)


class LatencyHistogram:
    """Counts of durations in log-spaced bins from 1 us to 1 min; exact count, mean, min and max."""

    LO_MS, HI_MS, STEP = 1e-3, 60_000.0, 1.01

    def __init__(self) -> None:
        self._log_step = math.log(self.STEP)
        self._bins = np.zeros(int(math.ceil(math.log(self.HI_MS / self.LO_MS) / self._log_step)) + 1, np.int64)
        self.count = 0
        self.sum = 0.0
        self.min = math.inf
        self.max = 0.0

    def add(self, ms: float) -> None:
        i = int(math.log(ms / self.LO_MS) / self._log_step) if ms > self.LO_MS else 0
        self._bins[min(i, len(self._bins) - 1)] += 1
        self.count += 1
        self.sum += ms
        self.min = min(self.min, ms)
        self.max = max(self.max, ms)

    def percentile(self, q: float) -> float:
        """Nearest-rank percentile, as the geometric middle of its bin (clamped to the observed range)."""
        if not self.count:
            return math.nan
        rank = max(1, math.ceil(q / 100.0 * self.count))
        i = int(np.searchsorted(np.cumsum(self._bins), rank))
        mid = self.LO_MS * self.STEP ** (i + 0.5)
        return float(min(max(mid, self.min), self.max))

    def stats(self) -> dict[str, float]:
        out = {f"p{q}": round(self.percentile(q), 3) for q in PERCENTILES}
        out["mean"] = round(self.sum / self.count, 3) if self.count else math.nan
        out["max"] = round(self.max, 3) if self.count else math.nan
        out["frames"] = self.count
        return out


class StageMeter:
    """Summary of per-frame stage timings: p50/p95/p99 per stage, ``processing`` and ``total``, the
    share of frames within ``budget_ms`` and the measured frame rate. Constant memory; JSON-able."""

    def __init__(self, stages: Sequence[str] = STAGES, budget_ms: float = BUDGET_MS) -> None:
        self.stages = tuple(stages)
        self.budget_ms = budget_ms
        self.reset()

    def reset(self) -> None:
        self._hist = {name: LatencyHistogram() for name in (*self.stages, "processing", "total")}
        self._within = {"processing": 0, "total": 0}
        self.frames = 0
        self._first: float | None = None
        self._last: float | None = None

    def add(self, timings: Mapping[str, float]) -> None:
        """Record one frame's ``{stage: ms}`` (stages that did not run on this frame are left out)."""
        now = time.perf_counter()
        if self._first is None:
            self._first = now
        self._last = now
        total = 0.0
        for name, ms in timings.items():
            hist = self._hist.get(name)
            if hist is None:
                hist = self._hist[name] = LatencyHistogram()
            hist.add(ms)
            total += ms
        processing = total - timings.get("capture", 0.0)
        self._hist["processing"].add(processing)
        self._hist["total"].add(total)
        self._within["processing"] += processing <= self.budget_ms
        self._within["total"] += total <= self.budget_ms
        self.frames += 1

    @property
    def fps(self) -> float:
        """Frames per second of wall-clock time between the first and the last frame recorded."""
        if self.frames < 2 or self._first is None or self._last is None or self._last <= self._first:
            return math.nan
        return (self.frames - 1) / (self._last - self._first)

    def summary(self) -> dict[str, Any]:
        """Everything as plain JSON types."""
        stages = {n: h.stats() for n, h in self._hist.items() if h.count or n in self.stages}
        measured = [n for n in self._hist if n not in ("processing", "total") and self._hist[n].count]
        bottleneck = max(measured, key=lambda n: self._hist[n].percentile(95)) if measured else None
        return {
            "frames": self.frames,
            "budget_ms": round(self.budget_ms, 3),
            "fps": None if math.isnan(self.fps) else round(self.fps, 2),
            "stages_ms": {n: {k: _json_num(v) for k, v in s.items()} for n, s in stages.items()},
            "within_budget": {k: (round(v / self.frames, 4) if self.frames else None) for k, v in self._within.items()},
            "bottleneck_p95": bottleneck,
        }

    def format_line(self) -> str:
        """One line for the periodic print: p50/p95 per stage, processing, share within budget, FPS."""
        parts = []
        for name in (*self.stages, "processing"):
            h = self._hist[name]
            if h.count:
                parts.append(f"{name} {h.percentile(50):.1f}/{h.percentile(95):.1f}")
        share = self._within["processing"] / self.frames * 100 if self.frames else 0.0
        fps = "-" if math.isnan(self.fps) else f"{self.fps:.1f}"
        return (
            f"frames {self.frames} fps {fps} | p50/p95 ms: {' '.join(parts)} | "
            f"processing within {self.budget_ms:.1f} ms: {share:.1f}%"
        )

    def format_summary(self) -> str:
        """A small table: one row per stage with p50/p95/p99, then the budget shares and the bottleneck."""
        s = self.summary()
        lines = [f"{'stage':<11} {'frames':>7} {'p50':>8} {'p95':>8} {'p99':>8} {'max':>8}  (ms)"]
        for name, st in s["stages_ms"].items():
            if st["frames"]:
                lines.append(
                    f"{name:<11} {st['frames']:>7} {st['p50']:>8.2f} {st['p95']:>8.2f} {st['p99']:>8.2f} {st['max']:>8.2f}"
                )
        wb = s["within_budget"]
        if self.frames:
            lines.append(
                f"frames within {self.budget_ms:.1f} ms: processing {wb['processing'] * 100:.1f}%, "
                f"total incl. capture {wb['total'] * 100:.1f}%"
                + (f"; {s['fps']:.1f} FPS measured" if s["fps"] is not None else "")
            )
            lines.append(f"slowest stage at p95: {s['bottleneck_p95']}")
        else:
            lines.append("no frames processed")
        return "\n".join(lines)


def _json_num(v: float) -> float | int | None:
    return None if isinstance(v, float) and math.isnan(v) else v
