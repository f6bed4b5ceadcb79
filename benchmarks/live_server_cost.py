"""What the live page's server costs the camera loop, per call: ``wants_frame``, ``publish_frame`` and
``publish_records`` (two faces), with no client and with one /stream.mjpg + one /events client that do
not read; and the JPEG encode a stream handler does (in its own thread) once per frame it sends.

    .venv/bin/python benchmarks/live_server_cost.py

Prints figures (best of 5 repeats per call); asserts nothing.
"""

from __future__ import annotations

import http.client
import statistics
import time
import timeit
from collections.abc import Callable

import cv2

from fer_edge.labels import EMOTIONS
from fer_edge.runtime.scenes import face_scene
from fer_edge.runtime.server import LiveServer


def per_call_us(fn: Callable[[], object], n: int = 20_000) -> float:
    return min(timeit.repeat(fn, number=n, repeat=5)) / n * 1e6


def main() -> None:
    img = face_scene([(200, 240), (450, 240)], s=170)
    records = [
        {"source": "x", "frame": 1, "track_id": k, "label": "happy", "score": 0.7, **{f"p_{n}": 0.1 for n in EMOTIONS}}
        for k in (1, 2)
    ]
    server = LiveServer("127.0.0.1", 0, snapshot=dict)
    server.start()
    try:
        print(
            f"no client:  wants_frame {per_call_us(server.wants_frame):.2f} us, "
            f"publish_frame {per_call_us(lambda: server.publish_frame(img)):.2f} us, "
            f"publish_records (2 faces) {per_call_us(lambda: server.publish_records(records)):.2f} us"
        )
        conns = []
        for path in ("/stream.mjpg", "/events"):
            conn = http.client.HTTPConnection("127.0.0.1", server.port)
            conn.request("GET", path)
            conns.append((conn, conn.getresponse()))
        while server.stream_clients < 1 or server.event_clients < 1:
            time.sleep(0.01)
        print(
            f"1 stream + 1 events client, neither reading: "
            f"publish_frame {per_call_us(lambda: server.publish_frame(img), 5000):.2f} us, "
            f"publish_records (2 faces) {per_call_us(lambda: server.publish_records(records), 5000):.2f} us"
        )
        params = [cv2.IMWRITE_JPEG_QUALITY, server.jpeg_quality]
        runs = [timeit.timeit(lambda: cv2.imencode(".jpg", img, params), number=50) / 50 * 1e3 for _ in range(5)]
        size = len(cv2.imencode(".jpg", img, params)[1]) / 1024
        print(
            f"JPEG encode {img.shape[1]}x{img.shape[0]} q{server.jpeg_quality} (stream handler thread, once per "
            f"sent frame): median {statistics.median(runs):.2f} ms of 5 x 50, {size:.0f} KiB"
        )
        for conn, _ in conns:
            conn.close()
    finally:
        server.close()


if __name__ == "__main__":
    main()
