"""Memory soak: 10,000 frames through the live loop (``CameraSession``: pipeline, tracker, smoothing, overlay,
stage meters), printing the process RSS at the start and the end (and along the way).

The frames (640x480, one face walking across) are decoded once from a video file and cycled in memory,
so the figure is the runtime's own memory, not the video decoder's. The classifier is the shipped
default model, else an untrained paper1-cnn int8 made with TensorFlow in a child process (so that
TensorFlow's memory is not in the figures).

    .venv/bin/python benchmarks/memory_soak.py [--frames 10000] [--every 1000] [--warmup 500]
"""

from __future__ import annotations

import argparse
import gc
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psutil

from fer_edge.runtime import classifier as classifier_mod
from fer_edge.runtime.overlay import draw_result
from fer_edge.runtime.pipeline import FrameResult
from fer_edge.runtime.recognizer import RecognizerOptions
from fer_edge.runtime.session import CameraOptions, CameraSession, CameraSummary
from fer_edge.runtime.sources import Frame, SourceKind
from fer_edge.testing.generate import video_frames

THREADS = 1  # as benchmarks/test_bench_runtime.py


class CyclingSource:
    """Quacks like ``Source`` for ``CameraSession``: the same decoded frames over and over, as a stream."""

    kind = SourceKind.STREAM
    is_live = False  # nothing to reconnect: no health counters in the stats lines
    finished = False  # it never ends; the session stops at max frames
    fps = 30.0
    name = "soak"
    failures: list = []

    def __init__(self, images: list) -> None:
        self.images = images
        self._next = 0

    def read(self, timeout: float | None = None) -> Frame:
        """The next frame, as ``Source.read`` gives it to the camera loop."""
        i = self._next
        self._next += 1
        # a fresh copy per frame, as a capture delivers: the overlay draws on it
        return Frame(self.images[i % len(self.images)].copy(), i, i / self.fps, "soak")

    def close(self) -> None:
        pass


def model_path(folder: Path) -> Path:
    if classifier_mod.DEFAULT_MODEL.is_file():
        return classifier_mod.DEFAULT_MODEL
    code = (
        "from pathlib import Path; from fer_edge.testing.generate import make_models; "
        f"make_models(Path({str(folder)!r}), only=('cnn-int8',))"
    )
    root = Path(__file__).resolve().parent.parent
    subprocess.run([sys.executable, "-c", code], cwd=root, check=True, capture_output=True)
    return folder / "cnn-int8.tflite"


def mib(n: int) -> str:
    return f"{n / 2**20:.1f} MiB"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--frames", type=int, default=10_000)
    ap.add_argument("--every", type=int, default=1_000, help="print RSS every this many frames")
    ap.add_argument("--warmup", type=int, default=500)
    args = ap.parse_args()
    proc = psutil.Process()
    tmp = tempfile.TemporaryDirectory()
    images = video_frames(Path(tmp.name))
    recognizer = RecognizerOptions(model=model_path(Path(tmp.name)), threads=THREADS, smooth=True)

    def session_run(frames: int, on_result) -> CameraSummary:
        opts = CameraOptions(source="soak", recognizer=recognizer, max_frames=frames, print_every_s=0)
        with CameraSession(opts, status=lambda _line: None, source=CyclingSource(images)) as session:  # type: ignore[arg-type]
            session.add_listener(on_result)
            if on_result is on_frame_rss:
                info = session.recognizer.info
                print(
                    f"model {info.path.name} ({info.precision}) on {info.backend} {info.backend_version}, {THREADS} thread"
                )
            return session.run()

    def draw(result: FrameResult) -> None:
        assert result.frame is not None
        draw_result(result.frame.image, result, 30.0)  # the overlay too (the loop itself draws only for a sink)

    def on_frame_rss(result: FrameResult) -> None:
        draw(result)
        n = result.frame_index + 1
        if n % args.every == 0:
            rss = proc.memory_info().rss
            samples.append((n, rss))
            print(f"  frame {n:>6}: RSS {mib(rss)}")

    # warm-up, the same work: allocator pools, interpreter arenas, OpenCV buffers
    session_run(args.warmup, draw)
    gc.collect()
    rss_start = proc.memory_info().rss
    samples = [(0, rss_start)]
    print(f"RSS at start (after {args.warmup} warm-up frames): {mib(rss_start)}")

    t0 = time.perf_counter()
    outcome = session_run(args.frames, on_frame_rss)
    wall = time.perf_counter() - t0
    gc.collect()
    rss_end = proc.memory_info().rss
    faces_ok = outcome.meter.frames == args.frames
    print(f"RSS at end after {outcome.meter.frames} frames: {mib(rss_end)} (change {mib(rss_end - rss_start)})")
    if len(samples) > 2:  # growth over the second half, where a leak would show as a steady slope
        half = samples[len(samples) // 2]
        per_k = (rss_end - half[1]) / max(1, args.frames - half[0]) * 1000
        print(f"slope over the second half: {per_k / 1024:.1f} KiB per 1000 frames")
    print(
        f"{outcome.meter.frames} frames in {wall:.1f} s ({outcome.meter.frames / wall:.0f} FPS); ended: {outcome.ended}"
    )
    print(outcome.meter.format_summary())
    tmp.cleanup()
    if not faces_ok:
        sys.exit(1)


if __name__ == "__main__":
    main()
