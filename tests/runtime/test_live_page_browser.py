"""The live page in a real headless Chromium: stream frames arrive and change, the latency chart and the
emotion timeline are drawn, probability bars are shown, and the page carries its token to every
sub-request. Driven through Debian's ``chromium`` + ``chromium-driver`` with selenium (no downloads:
the driver is given by path, so selenium-manager never runs).

Skips when chromium, chromedriver or selenium is missing; ``make browser-check`` sets
``FER_EDGE_REQUIRE_BROWSER=1`` so that a missing browser fails instead. The screenshot goes to
``$FER_EDGE_SCREENSHOT`` when set, else into the test's tmp folder, after ``$FER_EDGE_SCREENSHOT_WAIT``
seconds more (default 1) of chart history.
"""

from __future__ import annotations

import math
import os
import shutil
import threading
import time
from pathlib import Path

import numpy as np
import pytest

from fer_edge.labels import EMOTIONS
from fer_edge.runtime.detector import BBox
from fer_edge.runtime.overlay import draw_result
from fer_edge.runtime.pipeline import FaceResult, FrameResult
from fer_edge.runtime.scenes import face_scene
from fer_edge.runtime.server import LiveServer
from fer_edge.runtime.sinks import face_records
from fer_edge.runtime.sources import Frame
from fer_edge.runtime.timing import StageMeter

pytestmark = pytest.mark.browser

TOKEN = "page-token-42"
CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
    "--window-size=1280,1090",
)


def _missing(reason: str) -> None:
    if os.environ.get("FER_EDGE_REQUIRE_BROWSER") == "1":
        pytest.fail(f"browser test required but {reason}")
    pytest.skip(reason)


def _browser() -> tuple[str, str]:
    chromium = next((p for p in map(shutil.which, ("chromium", "chromium-browser", "google-chrome")) if p), None)
    driver = shutil.which("chromedriver")
    if chromium is None:
        _missing("chromium is not installed (Debian: apt-get install chromium chromium-driver)")
    if driver is None:
        _missing("chromedriver is not installed (Debian: apt-get install chromium-driver)")
    try:
        import selenium  # noqa: F401
    except ImportError:
        _missing("selenium is not installed (pip install -e '.[test]')")
    return chromium, driver


class Camera:
    """A camera loop stand-in at about 30 FPS: two drawn faces moving, their probabilities drifting
    between emotions, the real overlay, records and a StageMeter snapshot."""

    def __init__(self, server: LiveServer) -> None:
        self.server = server
        self.meter = StageMeter()
        self.lock = threading.Lock()
        self.frames = self.faces = 0
        self.t0 = time.monotonic()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._rng = np.random.default_rng(0)

    def snapshot(self) -> dict:
        with self.lock:
            snap = self.meter.summary()
            snap.update(
                frames=self.frames,
                faces=self.faces,
                dropped_frames=3,
                stalls=0,
                reconnects=1,
                uptime_s=round(time.monotonic() - self.t0, 2),
            )
        return snap

    def _result(self, i: int) -> tuple[np.ndarray, FrameResult]:
        t = i / 30.0
        centres = [(190 + int(40 * math.sin(t)), 250), (460, 230 + int(30 * math.cos(1.3 * t)))]
        image = face_scene(centres, s=170, skins=[(140, 170, 215), (110, 140, 190)])
        faces = []
        for k, (cx, cy) in enumerate(centres):
            logits = np.array([math.sin(0.15 * t * (k + 1) + j) for j in range(len(EMOTIONS))]) * 2.5
            probs = np.exp(logits) / np.exp(logits).sum()
            box = BBox(cx - 75.0, cy - 100.0, cx + 75.0, cy + 110.0)
            faces.append(FaceResult(k + 1, box, 0.93, probs.astype(np.float32), EMOTIONS[int(probs.argmax())]))
        return image, FrameResult(tuple(faces))

    def _run(self) -> None:
        i = 0
        while not self._stop.is_set():
            image, result = self._result(i)
            timings = {
                "capture": 30.0 + self._rng.normal(0, 1.5),
                "detect": 9.0 + abs(self._rng.normal(0, 2.0)),
                "preprocess": 0.6 + abs(self._rng.normal(0, 0.1)),
                "classify": 1.8 + abs(self._rng.normal(0, 0.4)) + (12.0 if i % 50 == 0 else 0.0),
                "draw": 1.2 + abs(self._rng.normal(0, 0.2)),
            }
            with self.lock:
                self.meter.add(timings)
                self.frames += 1
                self.faces += len(result.faces)
            if self.server.wants_frame():
                self.server.publish_frame(draw_result(image, result, fps=self.meter.fps))
            frame = Frame(image, i, i / 30.0, "generated")
            self.server.publish_records(face_records(frame, result, EMOTIONS))
            i += 1
            time.sleep(1 / 30)

    def __enter__(self) -> Camera:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(5)


def _wait(driver, script: str, what: str, timeout: float = 30.0):
    end = time.monotonic() + timeout
    while True:
        value = driver.execute_script(script)
        if value:
            return value
        if time.monotonic() > end:
            raise AssertionError(f"the page never showed {what} (last value {value!r})")
        time.sleep(0.2)


# Pixels of a colour (within +-40 per channel) in a canvas: proves something was drawn in that colour.
COUNT_COLOUR = """
const c = document.getElementById(arguments[0]);
const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
const [r, g, b] = arguments[1];
let n = 0;
for (let i = 0; i < d.length; i += 4)
  if (d[i + 3] > 200 && Math.abs(d[i] - r) < 40 && Math.abs(d[i + 1] - g) < 40 && Math.abs(d[i + 2] - b) < 40) n++;
return n;
"""

# A checksum of the stream image as drawn now, to see it change.
STREAM_SUM = """
const img = document.getElementById('stream');
if (!img.naturalWidth) return null;
const c = document.createElement('canvas');
c.width = 160; c.height = 120;
const ctx = c.getContext('2d');
ctx.drawImage(img, 0, 0, 160, 120);
const d = ctx.getImageData(0, 0, 160, 120).data;
let s = 0;
for (let i = 0; i < d.length; i += 4) s = (s * 31 + d[i] + 7 * d[i + 1] + 13 * d[i + 2]) % 1000000007;
return s;
"""


def chromium_driver(profile: Path):
    """A headless Chromium through Debian's chromedriver (given by path: selenium-manager never runs)."""
    chromium, driver_path = _browser()
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    for flag in (*CHROMIUM_FLAGS, f"--user-data-dir={profile}"):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(executable_path=driver_path), options=options)
    driver.set_page_load_timeout(30)  # a page whose load never ends fails here
    return driver


def check_live_page(driver, tracks: int, frame_size: tuple[int, int] = (640, 480)) -> None:
    """What a person should see on a loaded live page fed by a running camera: stream frames that change,
    one card with probability bars per track, the latency chart and the emotion timeline drawn."""
    # the stream: frames arrive (natural size of the camera) and keep changing
    size = _wait(
        driver,
        "const i = document.getElementById('stream'); "
        "return i.naturalWidth ? [i.naturalWidth, i.naturalHeight] : null;",
        "a stream frame",
    )
    assert size == list(frame_size)
    sums = {_wait(driver, STREAM_SUM, "a drawable frame")}
    end = time.monotonic() + 20
    while len(sums) < 3 and time.monotonic() < end:
        time.sleep(0.3)
        sums.add(driver.execute_script(STREAM_SUM))
    assert len(sums) >= 3, "the stream image did not change"

    # per-face cards with probability bars, one per track
    _wait(driver, f"return document.querySelectorAll('.face').length === {tracks}", f"{tracks} face cards")
    bars = driver.execute_script(
        "return [...document.querySelectorAll('.face')].map(f => [f.dataset.id, "
        "f.querySelector('.label').textContent, "
        "[...f.querySelectorAll('.fill')].map(b => b.getBoundingClientRect().width)])"
    )
    for _, label, widths in bars:
        assert label in EMOTIONS
        assert len(widths) == len(EMOTIONS) and max(widths) > 20

    # the latency chart: a few polls of /stats.json, then lines in the processing colour and the budget
    _wait(driver, "return window.ferEdge.statsPolls >= 4 && window.ferEdge.latency.length >= 4", "stats polls")
    end = time.monotonic() + 20
    while driver.execute_script(COUNT_COLOUR, "latency", [79, 179, 255]) <= 50:
        assert time.monotonic() < end, "the processing latency line was never drawn"
        time.sleep(0.3)
    assert driver.execute_script(COUNT_COLOUR, "latency", [255, 92, 92]) > 50  # the 33.3 ms budget line
    # the timeline: segments in the emotions' colours (neutral's is a light grey) for the tracks
    palette = driver.execute_script("return Object.values(EMOTION_COLOURS)")
    drawn = sum(
        driver.execute_script(COUNT_COLOUR, "timeline", [int(c[i : i + 2], 16) for i in (1, 3, 5)]) for c in palette
    )
    assert drawn > 200, "the emotion timeline was not drawn"


def save_screenshot(driver, default: Path) -> Path:
    shot = Path(os.environ.get("FER_EDGE_SCREENSHOT") or default)
    time.sleep(float(os.environ.get("FER_EDGE_SCREENSHOT_WAIT", "1")))  # more history in the charts
    shot.parent.mkdir(parents=True, exist_ok=True)
    assert driver.save_screenshot(str(shot))
    assert shot.stat().st_size > 10_000
    return shot


def test_live_page_in_headless_chromium(tmp_path):
    _browser()
    server = LiveServer("127.0.0.1", 0, token=TOKEN, serve_fps=10)
    camera = Camera(server)
    server.snapshot = camera.snapshot
    server.start()
    driver = None
    try:
        driver = chromium_driver(tmp_path / "profile")
        # opened before the first frame: the page finishes loading and says it waits
        driver.get(f"{server.url}?token={TOKEN}")
        assert driver.execute_script("return document.readyState") == "complete"
        assert driver.find_element("id", "waiting").is_displayed()
        with camera:
            check_live_page(driver, tracks=2)
            ids = driver.execute_script("return [...document.querySelectorAll('.face')].map(f => f.dataset.id)")
            assert ids == ["1", "2"]
            # the header shows the snapshot's counters
            assert driver.find_element("id", "s-reconnects").text == "1"
            assert driver.find_element("id", "s-dropped").text == "3"
            assert not driver.find_element("id", "waiting").is_displayed()
            save_screenshot(driver, tmp_path / "live-page.png")
            # every sub-request carried the token (a 401 would be logged as a failed resource)
            errors = [e for e in driver.get_log("browser") if e.get("level") == "SEVERE"]
            assert not errors, errors
    finally:
        if driver is not None:
            driver.quit()
        server.close()


def test_an_open_page_recovers_when_the_server_restarts(tmp_path):
    """As after systemd restarts the service: the same port goes away and comes back; the open page picks
    the stream and the events up again without a reload."""
    _browser()
    server = LiveServer("127.0.0.1", 0, serve_fps=10)
    camera = Camera(server)
    server.snapshot = camera.snapshot
    server.start()
    port = server.port
    driver = chromium_driver(tmp_path / "profile")
    try:
        driver.get(server.url)
        with camera:
            _wait(driver, "return document.getElementById('stream').naturalWidth > 0", "a first frame")
        server.close()
        _wait(driver, "return window.ferEdge.down", "the page noticing the outage")
        assert driver.find_element("id", "notice").is_displayed()

        server = LiveServer("127.0.0.1", port, serve_fps=10)
        camera = Camera(server)
        server.snapshot = camera.snapshot
        server.start()
        with camera:
            _wait(driver, "return window.ferEdge.restarts === 1", "the page reconnecting")
            _wait(driver, "return document.querySelectorAll('.face').length === 2", "face cards again")
            events = driver.execute_script("return window.ferEdge.events")
            check_live_page(driver, tracks=2)  # among others: stream frames change again (no frozen image)
            assert driver.execute_script("return window.ferEdge.events") > events  # events flow again
        assert not driver.find_element("id", "notice").is_displayed()
    finally:
        driver.quit()
        server.close()


def test_live_page_from_a_running_fer_edge_camera(tmp_path):
    """The issue's newcomer path: `fer-edge camera --source clip --realtime --loop --serve ... --events ...` in a
    subprocess, the page opened in Chromium: faces, labels, the latency chart, the timeline."""
    import signal
    import socket
    import subprocess
    import sys

    from fer_edge.runtime.classifier import DEFAULT_MODEL
    from fer_edge.runtime.video import write_video

    _browser()
    if not DEFAULT_MODEL.is_file():
        pytest.skip("this checkout ships no default model")
    steps = [*range(30), *range(29, -1, -1)]  # there and back: the loop never jumps, so the two tracks go on
    clip = write_video(
        tmp_path / "two.avi", [face_scene([(190 + 2 * i, 240), (450 - 2 * i, 240)], s=150) for i in steps], fps=30.0
    )
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    cmd = [sys.executable, "-m", "fer_edge.cli.main", "camera", "--source", str(clip), "--realtime", "--loop"]
    cmd += ["--serve", f"127.0.0.1:{port}", "--events", str(tmp_path / "ev.jsonl"), "--headless", "--print-every", "0"]
    cmd += ["--summary-json", str(tmp_path / "s.json"), "--token", TOKEN]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    driver = None
    try:
        url = f"http://127.0.0.1:{port}/?token={TOKEN}"
        driver = chromium_driver(tmp_path / "profile")
        end = time.monotonic() + 60
        while True:  # the models load first; the page is there once the server listens
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=1):
                    break
            except OSError:
                assert proc.poll() is None, proc.communicate()
                assert time.monotonic() < end, "the live page never came up"
                time.sleep(0.2)
        driver.get(url)
        check_live_page(driver, tracks=2)
        save_screenshot(driver, tmp_path / "camera-page.png")
        errors = [e for e in driver.get_log("browser") if e.get("level") == "SEVERE"]
        assert not errors, errors
    finally:
        if driver is not None:
            driver.quit()
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=30)
    assert proc.returncode == 0, err
    assert (tmp_path / "ev.jsonl").read_text().count("\n") > 0
