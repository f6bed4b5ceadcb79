"""Reading a live source in its own thread into a one-frame latest buffer, with a stall watchdog and reconnects.

``LatestFrameReader`` runs the capture in a daemon worker thread and keeps only the newest frame: the
consumer always takes the most recent one, and every frame overwritten before it was taken counts as
dropped (a slow consumer never builds a queue of stale frames). A supervisor thread watches the worker:
when the source delivers nothing for ``stall_timeout`` seconds (a stall) or ends or fails, it abandons
that capture and opens a fresh one after a backoff of ``backoff_base`` * 1, 2, 4 ... seconds (capped at
``backoff_cap``), up to ``max_reconnects`` attempts per outage (None: forever). A worker stuck in a
blocking ``cap.read()`` is never joined: it is left as a daemon thread that releases its own capture
when the read returns, so ``close()`` is prompt. Frame indexes keep increasing across reconnects.

The same reader paces files (``--realtime``): the capture iterator then gives each frame's duration and
the worker delivers frames at that rate, as a camera would; a slow consumer drops frames here too.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from fer_edge.runtime.frame import Frame

log = logging.getLogger("fer_edge")

STARTING, STREAMING, RECONNECTING, ENDED, GONE, CLOSED = (
    "starting",
    "streaming",
    "reconnecting",
    "ended",
    "gone",
    "closed",
)
FINISHED_STATES = frozenset({ENDED, GONE, CLOSED})
SUPERVISOR_JOIN_S = 0.5  # the supervisor only ever waits in short polls
WORKER_JOIN_S = 0.3  # how long close() waits for a worker that is not blocked to release its capture
LATE_RESYNC_S = 1.0  # a paced worker further behind than this restarts its clock instead of bursting


@dataclass(frozen=True)
class Captured:
    """One image from a capture iterator: ``duration_s`` paces it (files in real time); None means
    live (delivered as fast as it arrives, timestamped by the clock)."""

    image: np.ndarray
    source: str
    duration_s: float | None = None


@dataclass(frozen=True)
class SourceHealth:
    """A snapshot of a source's counters, safe to take from any thread.

    ``frames``: frames read from the source; ``taken``: frames the consumer took; ``dropped_frames``:
    frames overwritten in the one-frame buffer before being taken; ``stalls``: times the source
    delivered nothing for ``stall_timeout`` seconds; ``reconnects``: reopens that delivered a frame;
    ``state``: starting, streaming, reconnecting, ended, gone or closed; ``last_error``: the latest
    problem (one line) or None; ``reason``: why it finished (one line) once ended, gone or closed."""

    frames: int = 0
    taken: int = 0
    dropped_frames: int = 0
    stalls: int = 0
    reconnects: int = 0
    state: str = STARTING
    last_error: str | None = None
    reason: str | None = None

    @property
    def gone(self) -> bool:
        """The live source is gone for good (reconnect attempts used up): the caller should exit non-zero."""
        return self.state == GONE

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def backoff_delays(base: float = 1.0, cap: float = 30.0) -> Iterator[float]:
    """``base`` * 1, 2, 4, 8 ... capped at ``cap`` seconds."""
    delay = base
    while True:
        yield min(delay, cap)
        delay = min(delay * 2, cap)


def _one_line(error: BaseException | str) -> str:
    text = str(error).strip() or type(error).__name__
    return text.splitlines()[0]


class LatestFrameReader:
    """Reads ``connect()``'s capture iterator in a daemon thread into a one-frame latest buffer.

    ``connect`` opens the source and returns an iterator of ``Captured`` images (it is called in the
    worker thread, so a slow open never blocks the consumer; it raises or the iterator ends when the
    source fails). ``initial`` is an iterator that is already open (so a source that does not open at
    all can fail in the caller's thread first). ``live=True`` (camera, stream): an end, an error or a
    stall is an outage, reopened with backoff up to ``max_reconnects`` attempts in a row (None: forever;
    a reopen that delivers a frame resets the count). ``live=False`` (files): the end of the iterator
    ends the reader, or starts it again when ``loop`` (a pass that delivered nothing ends it instead).

    ``read()`` blocks for the newest frame; it returns None once the reader finished (ended, gone or
    closed; see ``health()``) or when ``timeout`` passes first (then ``finished`` is False)."""

    def __init__(
        self,
        connect: Callable[[], Iterator[Captured]],
        name: str,
        *,
        live: bool = True,
        loop: bool = False,
        stall_timeout: float = 5.0,
        max_reconnects: int | None = None,
        backoff_base: float = 1.0,
        backoff_cap: float = 30.0,
        initial: Iterator[Captured] | None = None,
    ) -> None:
        if stall_timeout <= 0:
            raise ValueError("stall_timeout must be positive")
        if max_reconnects is not None and max_reconnects < 0:
            raise ValueError("max_reconnects must be >= 0 or None")
        self.name = name
        self.live = live
        self.loop = loop
        self.stall_timeout = float(stall_timeout)
        self.max_reconnects = max_reconnects
        self.backoff_base = float(backoff_base)
        self.backoff_cap = float(backoff_cap)
        self._connect = connect
        self._initial = initial
        self._cond = threading.Condition()
        self._stop = threading.Event()
        self._events: queue.Queue[tuple[int, str, str]] = queue.Queue()
        self._latest: Frame | None = None
        self._gen = 0  # the worker generation allowed to publish; older workers are abandoned
        self._gen_frames = 0
        self._gen_is_reconnect = False
        self._gen_started = 0.0
        self._last_frame_at = 0.0
        self._next_index = 0
        self._media_s = 0.0  # running time of paced frames (files in real time)
        self._t0 = 0.0
        self._frames = self._taken = self._dropped = self._stalls = self._reconnects = 0
        self._state = STARTING
        self._last_error: str | None = None
        self._reason: str | None = None
        self._supervisor: threading.Thread | None = None
        self._worker: threading.Thread | None = None

    # --- consumer side ---------------------------------------------------------------------------

    def start(self) -> LatestFrameReader:
        if self._supervisor is None:
            self._t0 = time.monotonic()
            self._supervisor = threading.Thread(
                target=self._supervise, name=f"fer-edge source {self.name}", daemon=True
            )
            self._supervisor.start()
        return self

    def read(self, timeout: float | None = None) -> Frame | None:
        """The newest frame not yet taken (waiting for one), or None when finished or on ``timeout``."""
        with self._cond:
            self._cond.wait_for(lambda: self._latest is not None or self._state in FINISHED_STATES, timeout)
            frame, self._latest = self._latest, None
            if frame is not None:
                self._taken += 1
            return frame

    def __iter__(self) -> Iterator[Frame]:
        while (frame := self.read()) is not None:
            yield frame

    @property
    def finished(self) -> bool:
        with self._cond:
            return self._state in FINISHED_STATES

    @property
    def gone(self) -> bool:
        return self.health().gone

    @property
    def reason(self) -> str | None:
        return self.health().reason

    def health(self) -> SourceHealth:
        with self._cond:
            return SourceHealth(
                frames=self._frames,
                taken=self._taken,
                dropped_frames=self._dropped,
                stalls=self._stalls,
                reconnects=self._reconnects,
                state=self._state,
                last_error=self._last_error,
                reason=self._reason,
            )

    def close(self) -> None:
        """Stop reading; returns promptly even when the worker is blocked inside a capture read."""
        self._finish(CLOSED, "closed by the caller")
        self._stop.set()
        if self._supervisor is not None and self._supervisor is not threading.current_thread():
            self._supervisor.join(timeout=SUPERVISOR_JOIN_S)
        worker = self._worker
        if worker is not None and worker is not threading.current_thread():
            worker.join(timeout=WORKER_JOIN_S)  # a worker blocked in a read is left behind as a daemon

    stop = close

    def __enter__(self) -> LatestFrameReader:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- supervisor ------------------------------------------------------------------------------

    def _finish(self, state: str, reason: str) -> None:
        with self._cond:
            if self._state in FINISHED_STATES:
                return
            self._state = state
            self._reason = reason
            self._gen += 1  # no worker may publish any more
            if state == CLOSED:
                self._latest = None
            self._cond.notify_all()

    def _supervise(self) -> None:
        attempts = 0  # reopen attempts in a row without a frame
        delays = backoff_delays(self.backoff_base, self.backoff_cap)
        initial, self._initial = self._initial, None
        reconnecting = False
        try:
            while not self._stop.is_set():
                gen = self._launch(initial, reconnecting)
                initial = None
                outcome, detail = self._watch(gen)
                if outcome == "stop":
                    return
                if detail.startswith(f"{self.name}: "):
                    detail = detail[len(self.name) + 2 :]  # FerEdgeError messages name the source already
                with self._cond:
                    delivered = self._gen_frames > 0
                if not self.live:
                    if outcome == "ended" and self.loop and delivered:
                        continue  # the next pass of a looped file
                    if outcome == "ended":
                        self._finish(
                            ENDED, f"{self.name}: end of file" + (" (a pass gave no frame)" if self.loop else "")
                        )
                    else:
                        self._finish(GONE, f"{self.name}: {detail}")
                    return
                if delivered:
                    attempts = 0
                    delays = backoff_delays(self.backoff_base, self.backoff_cap)
                with self._cond:
                    if outcome == "stall":
                        self._stalls += 1
                    self._last_error = detail
                    if self._state not in FINISHED_STATES:
                        self._state = RECONNECTING
                if self.max_reconnects is not None and attempts >= self.max_reconnects:
                    tried = f"{attempts} reconnect attempt{'s' if attempts != 1 else ''}"
                    self._finish(GONE, f"{self.name}: source gone after {tried} ({detail})")
                    log.warning("%s", self.reason)
                    return
                delay = next(delays)
                log.warning("%s: %s; reconnecting in %g s", self.name, detail, delay)
                attempts += 1
                reconnecting = True
                if self._stop.wait(delay):
                    return
        except Exception as e:  # a bug here must not leave the consumer waiting forever
            self._finish(GONE, f"{self.name}: reader failed: {_one_line(e)}")

    def _launch(self, initial: Iterator[Captured] | None, reconnect: bool) -> int:
        with self._cond:
            self._gen += 1
            gen = self._gen
            self._gen_frames = 0
            self._gen_is_reconnect = reconnect
            self._gen_started = time.monotonic()
        worker = threading.Thread(target=self._work, args=(gen, initial), name=f"fer-edge capture {gen}", daemon=True)
        self._worker = worker
        worker.start()
        return gen

    def _watch(self, gen: int) -> tuple[str, str]:
        """Wait for the worker of ``gen`` to end or fail, for a stall (live only), or for close()."""
        while not self._stop.is_set():
            try:
                event_gen, outcome, detail = self._events.get(timeout=0.05)
            except queue.Empty:
                pass
            else:
                if event_gen == gen:
                    return outcome, detail
                continue
            if self.live:
                with self._cond:
                    since = max(self._last_frame_at, self._gen_started)
                    if time.monotonic() - since >= self.stall_timeout:
                        self._gen += 1  # abandon the worker; it may be blocked in a read
                        return "stall", f"no frame for {self.stall_timeout:g} s (stalled)"
        return "stop", ""

    # --- worker ----------------------------------------------------------------------------------

    def _work(self, gen: int, initial: Iterator[Captured] | None) -> None:
        frames: Iterator[Captured] | None = initial
        try:
            if frames is None:
                if self._stop.is_set() or self._gen != gen:
                    return  # closed while this worker was being started: open nothing
                frames = self._connect()
            due = time.monotonic()
            for item in frames:
                if self._stop.is_set() or self._gen != gen:
                    return
                if item.duration_s is not None:
                    wait = due - time.monotonic()
                    if wait > 0 and self._stop.wait(wait):
                        return
                    if wait < -LATE_RESYNC_S:
                        due = time.monotonic()
                    due += item.duration_s
                if not self._publish(gen, item):
                    return
            self._events.put((gen, "ended", "the source ended"))
        except Exception as e:
            self._events.put((gen, "error", _one_line(e)))
        finally:
            close = getattr(frames, "close", None)
            if close is not None:
                try:
                    close()  # a generator's finally releases its capture, in this thread
                except Exception as e:
                    log.debug("%s: closing a capture failed: %s", self.name, e)

    def _publish(self, gen: int, item: Captured) -> bool:
        with self._cond:
            if gen != self._gen or self._state in FINISHED_STATES:
                return False
            now = time.monotonic()
            if item.duration_s is None:
                ts = now - self._t0
            else:
                ts = self._media_s
                self._media_s += item.duration_s
            if self._latest is not None:
                self._dropped += 1
            self._latest = Frame(item.image, self._next_index, ts, item.source)
            self._next_index += 1
            self._frames += 1
            self._last_frame_at = now
            if self._gen_frames == 0 and self._gen_is_reconnect:
                self._reconnects += 1
                log.warning("%s: reconnected", self.name)
            self._gen_frames += 1
            self._state = STREAMING
            self._cond.notify_all()
            return True


__all__ = ["Captured", "LatestFrameReader", "SourceHealth", "backoff_delays"]
