"""Soak: `fer-edge camera` on a looped video for many frames, with the live page served and watched and the
event stream on, against the same run without the server.

Each run is the real command in its own process (`fer-edge camera --source clip --loop --max-frames N
--events ...`, plus `--serve 127.0.0.1:PORT` and one client reading `/stream.mjpg` in another process).
Runs alternate (served, plain, served, plain ...) so that machine noise falls on both alike. Reported per run:
the camera process's resident memory after the warm-up and at the end (sampled from outside with psutil),
event lines written against faces processed (from the summary: nothing may be lost), processing p50/p95,
stream frames the client received; then the served/plain ratio of the processing p95 medians.

    .venv/bin/python benchmarks/soak.py [--frames 50000] [--rounds 1] [--warmup 2000]
"""

from __future__ import annotations

import argparse
import json
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psutil

from fer_edge.testing.generate import face_scene, write_video

CLIENT = r"""
import sys, urllib.request
n = 0
with urllib.request.urlopen(sys.argv[1], timeout=30) as r:
    while True:
        line = r.readline()
        if not line:
            break
        if line.startswith(b"Content-Type: image/jpeg"):
            n += 1
            print(n, flush=True)
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def mib(n: float) -> str:
    return f"{n / 2**20:.1f} MiB"


def run(clip: Path, work: Path, frames: int, warmup: int, served: bool, tag: str) -> dict:
    events, summary = work / f"{tag}.jsonl", work / f"{tag}.json"
    cmd = [sys.executable, "-m", "fer_edge.cli.main", "camera", "--source", str(clip), "--loop", "--headless"]
    cmd += ["--max-frames", str(frames), "--print-every", "0", "--events", str(events), "--force"]
    cmd += ["--summary-json", str(summary)]
    port = free_port()
    if served:
        cmd += ["--serve", f"127.0.0.1:{port}"]
    cam = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    proc = psutil.Process(cam.pid)
    client = None
    rss_warm = rss_peak = 0
    t0 = time.monotonic()
    while cam.poll() is None:
        lines = events.stat().st_size if events.exists() else 0
        if served and client is None and lines:
            client = subprocess.Popen(
                [sys.executable, "-c", CLIENT, f"http://127.0.0.1:{port}/stream.mjpg"],
                stdout=subprocess.PIPE,
                stderr=subprocess.DEVNULL,
                text=True,
            )
        try:
            rss = proc.memory_info().rss
        except psutil.NoSuchProcess:
            break
        rss_peak = max(rss_peak, rss)
        if not rss_warm and events.exists() and sum(1 for _ in events.open()) >= warmup:
            rss_warm = rss
        rss_last = rss
        time.sleep(1.0)
    wall = time.monotonic() - t0
    err = cam.communicate()[1]
    if cam.returncode != 0:
        raise SystemExit(f"camera failed ({cam.returncode}): {err}")
    received = 0
    if client is not None:
        client.terminate()
        out = client.communicate()[0].split()
        received = int(out[-1]) if out else 0
    s = json.loads(summary.read_text())
    lines = sum(1 for _ in events.open())
    proc_ms = s["stages_ms"]["processing"]
    return {
        "tag": tag,
        "served": served,
        "frames": s["frames"],
        "faces": s["faces"],
        "event_lines": lines,
        "p50": proc_ms["p50"],
        "p95": proc_ms["p95"],
        "rss_warm": rss_warm,
        "rss_end": rss_last,
        "rss_peak": rss_peak,
        "stream_frames": received,
        "wall_s": wall,
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--frames", type=int, default=50_000)
    ap.add_argument("--rounds", type=int, default=1, help="pairs of (served, plain) runs")
    ap.add_argument("--warmup", type=int, default=2_000, help="RSS baseline after this many event lines")
    args = ap.parse_args()
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        steps = [*range(40), *range(39, -1, -1)]  # there and back: one face, one track, no jump at the loop
        clip = write_video(work / "walk.avi", [face_scene((200 + 6 * i, 240)) for i in steps], fps=30.0)
        for r in range(args.rounds):
            for served in (True, False):
                tag = f"{'served' if served else 'plain'}-{r}"
                res = run(clip, work, args.frames, args.warmup, served, tag)
                results.append(res)
                print(
                    f"{tag:<9} frames {res['frames']} faces {res['faces']} event lines {res['event_lines']} "
                    f"processing p50 {res['p50']:.2f} p95 {res['p95']:.2f} ms | RSS after warm-up "
                    f"{mib(res['rss_warm'])}, end {mib(res['rss_end'])} (growth {mib(res['rss_end'] - res['rss_warm'])}), "
                    f"peak {mib(res['rss_peak'])} | stream frames received {res['stream_frames']} | {res['wall_s']:.0f} s",
                    flush=True,
                )
    served = [r for r in results if r["served"]]
    plain = [r for r in results if not r["served"]]
    p95s, p95p = statistics.median(r["p95"] for r in served), statistics.median(r["p95"] for r in plain)
    p50s, p50p = statistics.median(r["p50"] for r in served), statistics.median(r["p50"] for r in plain)
    lost = sum(r["faces"] - r["event_lines"] for r in results)
    print(
        f"served/plain processing: p50 {p50s / p50p:.3f}, p95 {p95s / p95p:.3f} (medians over {args.rounds} round(s))"
    )
    print(f"event lines lost against faces processed, all runs: {lost}")


if __name__ == "__main__":
    main()
