"""``CameraSession``: the live loop as a library object (what ``fer-edge camera`` runs).

``CameraSession(options).run() -> CameraSummary``. The session owns everything a long run needs: the device
profile merge, the source, the recognizer, the loop (capture -> pipeline -> draw only when someone looks ->
sinks), per-stage timing, the periodic stats line, the annotated recording, per-face event records and the
summary JSON. Ctrl-C and SIGTERM finish the current frame and end the run normally, with the summary written.

Callers get every result as it happens through ``on_result`` callbacks (``session.add_listener(fn)``), and
nothing is drawn unless a window, a recording or another sink asks for the annotated image.
"""

from __future__ import annotations

import json
import signal
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING, Any, Protocol

import cv2
import numpy as np

from fer_edge.atomic import check_destination, write_text
from fer_edge.errors import FerEdgeError
from fer_edge.runtime.devices import DeviceProfile, load_profile
from fer_edge.runtime.events import EventLog
from fer_edge.runtime.live import WINDOW, display_available
from fer_edge.runtime.overlay import draw_result
from fer_edge.runtime.pipeline import FrameResult
from fer_edge.runtime.recognizer import EmotionRecognizer, RecognizerOptions
from fer_edge.runtime.sinks import BASE_FIELDS, face_records
from fer_edge.runtime.sources import CameraSettings, Failure, Frame, Source, SourceKind
from fer_edge.runtime.systemd import SystemdNotifier
from fer_edge.runtime.timing import FrameTimer, StageMeter
from fer_edge.runtime.video import VideoSink

if TYPE_CHECKING:
    from fer_edge.runtime.server import LiveServer

SUMMARY_SCHEMA_VERSION = 1
POLL_S = 0.5  # longest wait for a frame before the loop checks signals and pings systemd's watchdog
GONE = "source gone"


class SourceFailed(FerEdgeError):
    """The source delivered nothing usable (e.g. a video file that does not decode), or a live source is gone."""

    exit_code = 1


@dataclass(frozen=True)
class CameraOptions:
    """Everything a camera run needs besides the models (``recognizer``)."""

    source: str | int | Path = "0"
    recognizer: RecognizerOptions = field(default_factory=RecognizerOptions)
    device: str | None = None  # profile from fer_edge/assets/devices; explicit recognizer options win over it
    display: bool | None = False  # None: a window when one can open here; False: headless
    record: Path | None = None  # annotated frames to this .mp4/.avi
    max_frames: int | None = None
    print_every_s: float = 5.0  # seconds between stats lines (0: none)
    summary_json: Path | None = None  # where the summary JSON goes (None: not written)
    events: Path | str | None = None  # per-face records as JSON lines (.csv: CSV; "-": stdout)
    events_max_mb: float | None = None  # rotate the events file at this size
    events_keep: int = 5  # rotated events files kept
    events_append: bool = False  # go on with an existing events file (a service that restarts)
    serve: tuple[str, int] | None = None  # (host, port) of the live page; None: no server
    serve_fps: float = 10.0  # at most this many annotated frames per second to each browser
    token: str | None = None  # required on every request to the live page when set
    stall_timeout: float = 5.0  # seconds without a frame after which a live source is reopened
    max_reconnects: int | None = None  # reopen attempts in a row before a live source counts as gone (None: forever)
    realtime: bool = False  # deliver a video file at its own frame rate, as a camera would
    loop: bool = False  # start a video file or folder again at its end
    force: bool = False  # replace existing outputs


class FrameSink(Protocol):
    """Something that receives every processed frame: a recording, a window, a web page."""

    def wants_image(self) -> bool:
        """Whether this sink needs the annotated image of the coming frame (drawing is skipped otherwise)."""
        ...

    def on_frame(self, frame: Frame, result: FrameResult, annotated: np.ndarray | None) -> None: ...

    def close(self) -> None: ...


class _RecorderSink:
    def __init__(self, path: Path, force: bool) -> None:
        self.video = VideoSink(path, None, force)
        self.fps: float | None = None

    def wants_image(self) -> bool:
        return True

    def on_frame(self, frame: Frame, result: FrameResult, annotated: np.ndarray | None) -> None:
        if annotated is None:
            return
        if self.video.frames == 0 and self.fps:
            self.video.fps = self.fps  # known once the source has opened
        self.video.write(annotated)

    def close(self) -> None:
        if self.video.frames:
            self.video.close()
        else:
            self.video.abort()


class _WindowSink:
    def __init__(self) -> None:
        self.quit = False

    def wants_image(self) -> bool:
        return True

    def on_frame(self, frame: Frame, result: FrameResult, annotated: np.ndarray | None) -> None:
        if annotated is not None:
            cv2.imshow(WINDOW, annotated)
            self.quit = (cv2.waitKey(1) & 0xFF) in (ord("q"), 27)

    def close(self) -> None:
        try:
            cv2.destroyAllWindows()
        except cv2.error:
            pass


@dataclass(frozen=True)
class CameraSummary:
    """How a run went: why it ended, what ran (``config``), per-stage latency (``meter``) and what failed."""

    ended: str
    config: dict[str, Any]
    meter: StageMeter
    failures: tuple[Failure, ...] = ()
    error: FerEdgeError | None = None
    summary_path: Path | None = None
    recorded: Path | None = None
    recorded_frames: int = 0
    counters: dict[str, int] = field(default_factory=dict)

    @property
    def frames(self) -> int:
        return self.meter.frames

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"schema_version": SUMMARY_SCHEMA_VERSION, "ended": self.ended, **self.config}
        out.update(self.counters)
        out.update(self.meter.summary())
        if self.failures:
            out["failures"] = [{"source": f.source, "reason": f.reason} for f in self.failures]
        return out

    def raise_for_status(self) -> None:
        """Raise the run's error, if it had one (the CLI turns it into one line and an exit code)."""
        if self.error is not None:
            raise self.error


class _StopRequest:
    """Ctrl-C and SIGTERM set a flag the loop checks between frames; a second signal interrupts at once."""

    def __init__(self) -> None:
        self.reason: str | None = None
        self._previous: dict[int, Any] = {}

    def _handle(self, signum: int, _frame: FrameType | None) -> None:
        if self.reason is not None:
            raise KeyboardInterrupt
        self.reason = "interrupted (Ctrl-C)" if signum == signal.SIGINT else f"stopped by {signal.Signals(signum).name}"

    def __enter__(self) -> _StopRequest:
        # Only the main thread may install handlers. A process started in the background by a non-interactive
        # shell inherits SIGINT as ignored; installing ours makes `kill -INT` / Ctrl-C stop the loop anyway.
        if threading.current_thread() is threading.main_thread():
            for sig in (signal.SIGINT, signal.SIGTERM):
                self._previous[sig] = signal.signal(sig, self._handle)
        return self

    def __exit__(self, *exc: object) -> None:
        for sig, handler in self._previous.items():
            signal.signal(sig, handler)


def resolve_options(options: RecognizerOptions, profile: DeviceProfile | None) -> RecognizerOptions:
    """Explicit options win over the device profile, which wins over the defaults."""
    if profile is None:
        return options
    return options.replace(
        threads=options.threads if options.threads is not None else profile.threads,
        detect_every=options.detect_every if options.detect_every is not None else profile.detect_every,
        min_score=options.min_score if options.min_score is not None else profile.min_score,
        precision=options.precision or (profile.precision if options.model is None else None),
    )


class CameraSession:
    """The camera loop: ``with CameraSession(options) as s: summary = s.run()``.

    Opening checks the outputs (nothing is replaced without ``force``), resolves the source (a missing path
    fails here, before any model loads) and loads the models. ``status`` receives progress lines (the models,
    notes, a stats line every ``print_every_s``); ``add_listener`` callbacks receive every ``FrameResult``.
    """

    def __init__(
        self,
        options: CameraOptions,
        *,
        status: Callable[[str], None] = print,
        source: Source | None = None,
    ) -> None:
        self.options = options
        self.status = status
        self.profile: DeviceProfile | None = load_profile(options.device) if options.device else None
        p = self.profile
        self.recognizer_options = resolve_options(options.recognizer, p)
        for out in (options.summary_json, options.record):
            if out is not None:
                check_destination(Path(out), options.force)
        settings = CameraSettings(p.camera_width, p.camera_height, p.camera_fps) if p else CameraSettings()
        self.source = source if source is not None else self._make_source(settings)
        self._snapshot: dict[str, Any] = {}
        self._snapshot_lock = threading.Lock()
        self._started = time.monotonic()
        self.server: LiveServer | None = None
        self._notifier = SystemdNotifier()
        self._listeners: list[Callable[[FrameResult], None]] = []
        self._sinks: list[FrameSink] = []
        self.events: EventLog | None = None
        self.recorder: _RecorderSink | None = None
        self._window: _WindowSink | None = None
        self.recognizer = EmotionRecognizer(self.recognizer_options)
        try:
            self._open_outputs()
        except BaseException:
            self.close()
            raise

    def _make_source(self, settings: CameraSettings) -> Source:
        o = self.options
        return Source(
            o.source,
            settings,
            realtime=o.realtime,
            loop=o.loop,
            stall_timeout=o.stall_timeout,
            max_reconnects=o.max_reconnects,
        )

    def _open_outputs(self) -> None:
        opts = self.options
        self.status(self.recognizer.describe())
        p = self.profile
        if p is not None:
            self.status(f"device profile: {p.name} ({p.path})")
            precision = self.recognizer.classifier.precision
            if opts.recognizer.model is None and precision != p.precision:
                self.status(f"note: the profile asks for {p.precision}; this install ships {precision} only")
        if opts.display is not False:
            ok, why = display_available()
            if ok:
                self._window = _WindowSink()
                self._sinks.append(self._window)
            else:
                self.status(f"no window: {why}; running headless")
        if opts.record is not None:
            self.recorder = _RecorderSink(Path(opts.record), opts.force)
            self._sinks.append(self.recorder)
        if opts.events is not None:
            fields = [*BASE_FIELDS, *(f"p_{n}" for n in self.recognizer.labels)]
            max_bytes = int(opts.events_max_mb * 2**20) if opts.events_max_mb else None
            self.events = EventLog(
                opts.events,
                fields,
                max_bytes=max_bytes,
                keep=opts.events_keep,
                force=opts.force,
                append=opts.events_append,
            )
        if opts.serve is not None:
            from fer_edge.runtime.server import LivePageSink, LiveServer

            host, port = opts.serve
            self.server = LiveServer(
                host,
                port,
                token=opts.token,
                serve_fps=opts.serve_fps,
                labels=self.recognizer.labels,
                snapshot=self.snapshot,
            )
            self.server.start()
            self._sinks.append(LivePageSink(self.server, self.recognizer.labels))
            self.status(f"live page: {self.server.url}")

    # -- extension points
    def add_listener(self, callback: Callable[[FrameResult], None]) -> None:
        """Call ``callback(result)`` for every processed frame (in the loop's thread: keep it short)."""
        self._listeners.append(callback)

    def add_sink(self, sink: FrameSink) -> None:
        self._sinks.append(sink)

    @property
    def config(self) -> dict[str, Any]:
        r, info = self.recognizer_options, self.recognizer.info
        return {
            "source": self.source.name,
            "source_kind": self.source.kind.value,
            "model": str(info.path),
            "precision": self.recognizer.classifier.precision,
            "interpreter": {"backend": info.backend, "version": info.backend_version},
            "threads": r.resolved_threads,
            "detector": r.detector,
            "min_score": r.resolved_min_score,
            "min_confidence": r.min_confidence,
            "detect_every": r.resolved_detect_every,
            "smooth": r.smooth,
            "device": self.profile.name if self.profile else None,
            "recorded": str(self.options.record) if self.options.record else None,
            "events": str(self.options.events) if self.options.events is not None else None,
            "served": self.server.url if self.server is not None else None,
            "realtime": self.options.realtime,
            "loop": self.options.loop,
        }

    def health_counters(self) -> dict[str, int]:
        """``dropped_frames``, ``stalls`` and ``reconnects`` of the source so far (thread-safe)."""
        h = self.source.health() if hasattr(self.source, "health") else None
        if h is None:
            return {"dropped_frames": 0, "stalls": 0, "reconnects": 0}
        return {"dropped_frames": h.dropped_frames, "stalls": h.stalls, "reconnects": h.reconnects}

    def snapshot(self) -> dict[str, Any]:
        """What the live page's /stats.json and /metrics show: counters, uptime and the last second's
        per-stage latency. Safe from any thread (a copy, refreshed by the loop about once a second)."""
        with self._snapshot_lock:
            snap = dict(self._snapshot)
        snap.update(self.health_counters())
        snap["uptime_s"] = round(time.monotonic() - self._started, 3)
        return snap

    def _refresh_snapshot(self, meter: StageMeter, recent: StageMeter, faces: int) -> None:
        last = recent.summary()
        snap = {
            "frames": meter.frames,
            "faces": faces,
            "fps": last["fps"],
            "budget_ms": last["budget_ms"],
            "stages_ms": last["stages_ms"],
            "within_budget": last["within_budget"],
            "source": self.source.name,
            "state": self.source.health().state if hasattr(self.source, "health") else None,
        }
        with self._snapshot_lock:
            self._snapshot = snap

    # -- the loop
    def run(self) -> CameraSummary:
        """Run until ``max_frames``, the end of the source, a window's q/Esc, Ctrl-C or SIGTERM; write the summary
        JSON (also when the source failed) and return the summary. Errors are in ``summary.error``."""
        meter, window = StageMeter(), StageMeter()
        error: FerEdgeError | None = None
        ended = "max frames reached"
        counters = {"event_records": 0}
        self._faces = 0
        try:
            ended = self._loop(meter, window)
        except FerEdgeError as e:  # e.g. the camera did not open: still write what we have
            error, ended = e, f"error: {e}"
        finally:
            self._notifier.stopping()  # once per run, before the outputs are closed
            self._close_sinks()
        if self.events is not None:
            counters["event_records"] = self.events.lines
        counters.update(self.health_counters())
        counters["faces"] = self._faces
        if error is None and ended.startswith(GONE):
            error = SourceFailed(f"{self.source.name}: {ended}")
        if error is None and meter.frames == 0 and self.source.kind not in (SourceKind.CAMERA, SourceKind.STREAM):
            reasons = "; ".join(f"{f.source}: {f.reason}" for f in self.source.failures) or "no frames"
            error = SourceFailed(f"{self.source.name}: nothing could be read ({reasons})")
        recorder = self.recorder
        summary = CameraSummary(
            ended=ended,
            config=self.config,
            meter=meter,
            failures=tuple(self.source.failures),
            error=error,
            summary_path=Path(self.options.summary_json) if self.options.summary_json else None,
            recorded=Path(self.options.record) if self.options.record and recorder and recorder.video.frames else None,
            recorded_frames=recorder.video.frames if recorder else 0,
            counters=counters,
        )
        if summary.summary_path is not None:
            write_text(summary.summary_path, json.dumps(summary.to_dict(), indent=2) + "\n", force=True)
        return summary

    def _loop(self, meter: StageMeter, window: StageMeter) -> str:
        opts = self.options
        pipeline = self.recognizer.pipeline(stream=True)
        labels = self.recognizer.labels
        last_print = last_snapshot = time.monotonic()
        recent = StageMeter()  # the last second, for the live page's chart
        faces = 0
        current: str | None = None
        notifier = self._notifier
        notifier.ready(f"processing {self.source.name}")
        timer: FrameTimer | None = None
        with _StopRequest() as stop:
            while opts.max_frames is None or meter.frames < opts.max_frames:
                notifier.watchdog()
                if stop.reason is not None:
                    return stop.reason
                timer = timer or FrameTimer()  # a wait that timed out goes on counting as this frame's capture
                with timer.stage("capture"):
                    frame = self.source.read(POLL_S)
                now = time.monotonic()
                if opts.print_every_s and now - last_print >= opts.print_every_s:
                    self.status(window.format_line() + self._health_line())
                    window.reset()
                    last_print = now
                if frame is None:
                    if stop.reason is not None:
                        return stop.reason
                    if not self.source.finished:
                        continue  # a live source is reconnecting: keep pinging, keep listening for signals
                    return self._why_finished()
                if frame.source != current:  # a new file of a folder: fresh tracks
                    current = frame.source
                    if meter.frames:
                        pipeline.reset()
                result = pipeline.process(frame.image, timer, frame)
                wanted = [s for s in self._sinks if s.wants_image()]
                annotated = None
                if wanted:
                    with timer.stage("draw"):
                        annotated = draw_result(frame.image, result, window.fps)
                        if self.recorder is not None and self.recorder.fps is None:
                            self.recorder.fps = self.source.fps
                        for sink in wanted:
                            sink.on_frame(frame, result, annotated)
                meter.add(timer.ms)
                window.add(timer.ms)
                recent.add(timer.ms)
                timer = None
                faces += len(result.faces)
                self._faces = faces
                if self.events is not None and result.faces:
                    self.events.write(face_records(frame, result, labels))
                for sink in self._sinks:
                    if sink not in wanted:
                        sink.on_frame(frame, result, None)
                for listener in self._listeners:
                    listener(result)
                if self._window is not None and self._window.quit:
                    return "quit from the window"
                if self.server is not None and now - last_snapshot >= 1.0:
                    self._refresh_snapshot(meter, recent, faces)
                    recent.reset()
                    last_snapshot = now
        return "max frames reached"

    def _why_finished(self) -> str:
        h = self.source.health() if hasattr(self.source, "health") else None
        if h is not None and h.gone:
            return f"{GONE}: {h.reason or 'no frames'}"
        return "camera stopped delivering frames" if self.source.kind is SourceKind.CAMERA else "end of stream"

    def _health_line(self) -> str:
        if not (self.source.is_live or self.options.realtime):
            return ""
        c = self.health_counters()
        return f" | dropped {c['dropped_frames']} stalls {c['stalls']} reconnects {c['reconnects']}"

    # -- lifetime
    def _close_sinks(self) -> None:
        self.source.close()
        for sink in self._sinks:
            sink.close()
        self._sinks = []
        if self.events is not None:
            self.events.close()

    def close(self) -> None:
        self._close_sinks()
        self._notifier.close()
        self.recognizer.close()

    def __enter__(self) -> CameraSession:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
