"""Per-frame cost of ``fer-edge camera`` at two revisions, measured side by side in one run.

Each revision is exported from git (``git archive``) into a temporary folder and run from there with the
same venv, on the same generated 640x480 one-face clip, headless, with the shipped default model. Runs
alternate (A, B, A, B, ...) so that machine noise falls on both alike; the figures are the medians over
rounds of each run's processing p50 / p95 (from the summary JSON the camera writes) and their ratio.

    .venv/bin/python benchmarks/compare_revisions.py --before 2802359 --after HEAD [--rounds 5] [--frames 600] [--model M]

With ``--model`` both revisions run the same classifier file, so the comparison is of the code alone.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def export(rev: str, into: Path) -> Path:
    """The tree of ``rev`` (``WORKTREE``: the files as they are now) in ``into``."""
    if rev == "WORKTREE":
        return ROOT
    archive = into / f"{rev}.tar"
    subprocess.run(["git", "-C", str(ROOT), "archive", "-o", str(archive), rev], check=True)
    tree = into / rev
    tree.mkdir()
    with tarfile.open(archive) as tar:
        tar.extractall(tree)
    return tree


def make_clip(path: Path, frames: int) -> Path:
    sys.path.insert(0, str(ROOT))
    from fer_edge.runtime.scenes import face_scene, write_video

    return write_video(path, [face_scene((200 + (i % 60) * 4, 240)) for i in range(frames)], fps=30.0)


def run_camera(tree: Path, clip: Path, frames: int, summary: Path, model: str | None) -> dict:
    env = {**os.environ, "PYTHONPATH": str(tree)}
    cmd = [sys.executable, "-m", "fer_edge.cli.main", "camera", "--source", str(clip), "--headless"]
    cmd += ["--model", model] if model else []
    cmd += ["--max-frames", str(frames), "--print-every", "0", "--summary-json", str(summary), "--force"]
    subprocess.run(cmd, env=env, cwd=tree, check=True, capture_output=True)
    return json.loads(summary.read_text())


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--before", required=True, help="git revision (or WORKTREE)")
    ap.add_argument("--after", default="WORKTREE", help="git revision (or WORKTREE, the default)")
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--frames", type=int, default=600)
    ap.add_argument(
        "--model", default=None, help="the same classifier .tflite for both (default: each tree's shipped one)"
    )
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        trees = {"before": export(args.before, work), "after": export(args.after, work)}
        clip = make_clip(work / "clip.avi", args.frames)
        figures: dict[str, dict[str, list[float]]] = {k: {"p50": [], "p95": []} for k in trees}
        for r in range(args.rounds):
            for name, tree in trees.items():
                s = run_camera(tree, clip, args.frames, work / f"{name}-{r}.json", args.model)
                figures[name]["p50"].append(s["stages_ms"]["processing"]["p50"])
                figures[name]["p95"].append(s["stages_ms"]["processing"]["p95"])
    model = args.model or "each revision's shipped default"
    print(
        f"fer-edge camera, {args.frames} frames x {args.rounds} alternating rounds, model {model}, processing per frame (ms):"
    )
    print(f"{'revision':<10} {'rev':<12} {'p50 (median)':>13} {'p95 (median)':>13}")
    med = {k: {q: statistics.median(v) for q, v in f.items()} for k, f in figures.items()}
    for name, rev in (("before", args.before), ("after", args.after)):
        print(f"{name:<10} {rev:<12} {med[name]['p50']:>13.3f} {med[name]['p95']:>13.3f}")
    print(
        f"after/before: p50 {med['after']['p50'] / med['before']['p50']:.3f}, "
        f"p95 {med['after']['p95'] / med['before']['p95']:.3f}"
    )
    for name in trees:
        print(f"{name} rounds p50: {', '.join(f'{v:.3f}' for v in figures[name]['p50'])}")


if __name__ == "__main__":
    main()
