"""The live loop behind ``fer-edge camera``: capture -> pipeline -> draw/display/record, timed per stage.

It ends cleanly (returning its meter and why it stopped) at ``max_frames``, at the end of a stream or
video, when a camera stops delivering, on Ctrl-C or SIGTERM (a systemd stop) and on ``q``/Esc in
the window. Frames are kept only as long as one iteration needs them; nothing is stored unless a
recorder is given.
"""

from __future__ import annotations

import os
import signal
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import cv2

from fer_edge.runtime.overlay import draw_result
from fer_edge.runtime.pipeline import FramePipeline, FrameResult
from fer_edge.runtime.sinks import VideoSink
from fer_edge.runtime.sources import Frame, Source, SourceKind
from fer_edge.runtime.timing import FrameTimer, StageMeter

WINDOW = "fer-edge (q or Esc quits)"


@dataclass(frozen=True)
class LiveOptions:
    max_frames: int | None = None
    display: bool = False
    print_every_s: float = 5.0  # 0 disables the periodic line


@dataclass(frozen=True)
class LiveOutcome:
    meter: StageMeter
    ended: str  # why the loop stopped


def display_available() -> tuple[bool, str]:
    """Whether an OpenCV window can open here, and if not, why (no display server, or an OpenCV built
    without GUI support such as opencv-python-headless)."""
    if sys.platform.startswith("linux") and not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")):
        return False, "no display (DISPLAY/WAYLAND_DISPLAY unset)"
    try:
        cv2.namedWindow(WINDOW, cv2.WINDOW_NORMAL)
    except cv2.error:
        return False, "this OpenCV has no GUI support (opencv-python-headless)"
    return True, ""


class _Stop(Exception):
    pass


def _raise_stop(signum: int, _frame: Any) -> None:
    raise _Stop(signal.Signals(signum).name)


def run_live(
    source: Source,
    pipeline: FramePipeline,
    options: LiveOptions,
    recorder: VideoSink | None = None,
    on_frame: Callable[[Frame, FrameResult], None] | None = None,
    echo: Callable[[str], None] = print,
) -> LiveOutcome:
    meter, window = StageMeter(), StageMeter()
    draw = options.display or recorder is not None
    in_main = threading.current_thread() is threading.main_thread()
    previous = signal.signal(signal.SIGTERM, _raise_stop) if in_main else None
    # A process started in the background by a non-interactive shell inherits SIGINT as ignored, and
    # Python then never turns it into KeyboardInterrupt; make `kill -INT` / Ctrl-C stop the loop anyway.
    previous_int = signal.signal(signal.SIGINT, signal.default_int_handler) if in_main else None
    last_print = time.monotonic()
    frames = iter(source)
    ended = "max frames reached"
    try:
        while options.max_frames is None or meter.frames < options.max_frames:
            timer = FrameTimer()
            with timer.stage("capture"):
                frame = next(frames, None)
            if frame is None:
                ended = "camera stopped delivering frames" if source.kind is SourceKind.CAMERA else "end of stream"
                break
            result = pipeline.process(frame.image, timer)
            quit_key = False
            if draw:
                with timer.stage("draw"):
                    image = draw_result(frame.image, result, window.fps)
                    if recorder is not None:
                        if recorder.frames == 0 and source.fps:
                            recorder.fps = source.fps  # known once the source has opened
                        recorder.write(image)
                    if options.display:
                        cv2.imshow(WINDOW, image)
                        quit_key = (cv2.waitKey(1) & 0xFF) in (ord("q"), 27)
            meter.add(timer.ms)
            window.add(timer.ms)
            if on_frame is not None:
                on_frame(frame, result)
            if quit_key:
                ended = "quit from the window"
                break
            if options.print_every_s and time.monotonic() - last_print >= options.print_every_s:
                echo(window.format_line())
                window.reset()
                last_print = time.monotonic()
    except KeyboardInterrupt:
        ended = "interrupted (Ctrl-C)"
    except _Stop as e:
        ended = f"stopped by {e}"
    finally:
        source.close()
        if in_main and previous is not None:
            signal.signal(signal.SIGTERM, previous)
        if in_main and previous_int is not None:
            signal.signal(signal.SIGINT, previous_int)
        if options.display:
            try:
                cv2.destroyAllWindows()
            except cv2.error:
                pass
    return LiveOutcome(meter, ended)
