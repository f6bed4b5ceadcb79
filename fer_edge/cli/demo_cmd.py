"""``fer-edge demo``: the whole flow end to end on the embedded synthetic data (not FER-2013).

Each step is the real CLI command a user would type, run in this process, so the demo proves
the commands themselves: data -> train -> convert (verified) -> evaluate -> predict -> camera.
"""

from __future__ import annotations

import shlex
import time
from pathlib import Path

import click

from fer_edge.atomic import check_destination
from fer_edge.errors import FerEdgeError

#: What a demo folder holds; --force replaces such a folder and refuses any other.
DEMO_FILES = ("data", "model", "tflite", "eval", "scene.avi", "camera_summary.json")


def _step(title: str, args: list[str]) -> None:
    from fer_edge.cli.main import cli

    click.secho(f"\n== {title}\n$ fer-edge {shlex.join(args)}", bold=True)
    start = time.perf_counter()
    cli.main(args=args, prog_name="fer-edge", standalone_mode=False)
    click.echo(f"({time.perf_counter() - start:.1f} s)")


def _write_scene_video(path: Path, frames: int) -> None:
    """A 640x480 video with one drawn face drifting, written with OpenCV (what a camera would give)."""
    from fer_edge.runtime.scenes import generated_frames
    from fer_edge.runtime.video import write_video

    write_video(path, generated_frames(frames), fps=30.0)


@click.command()
@click.option("--out", type=click.Path(path_type=Path), default=Path("runs/demo"), show_default=True)
@click.option(
    "--images",
    type=click.IntRange(min=70),
    default=2100,
    show_default=True,
    help="Synthetic images to generate (classes balanced, at least 10 per class).",
)
@click.option(
    "--epochs",
    type=click.IntRange(min=1),
    default=15,
    show_default=True,
    help="At most this many epochs (early stopping).",
)
@click.option(
    "--frames",
    type=click.IntRange(min=1),
    default=150,
    show_default=True,
    help="Frames of the generated video for the camera loop.",
)
@click.option("--force", is_flag=True, help="Replace an existing --out.")
def demo(out: Path, images: int, epochs: int, frames: int, force: bool) -> None:
    """Run the whole flow on the embedded synthetic data, in about two minutes on 2 CPU cores.

    The synthetic faces are drawn by fer-edge (brows, eyes, mouth per class); they are NOT
    FER-2013 and a model trained on them is not meant for real faces. For real data see
    `fer-edge train model --help`.
    """
    import shutil

    check_destination(out, force)
    if out.exists():
        others = sorted(p.name for p in out.iterdir() if p.name not in DEMO_FILES) if out.is_dir() else [out.name]
        if others:  # --force replaces a demo, never a folder of the user's files
            raise FerEdgeError(
                f"{out}: holds files that are not a demo's ({', '.join(others[:3])}); choose a new folder for --out"
            )
        shutil.rmtree(out)
    out.mkdir(parents=True)
    try:
        _run_steps(out, images, epochs, frames)
    except BaseException:  # an interrupted or failed demo leaves no half-made folder
        shutil.rmtree(out, ignore_errors=True)
        raise


def _run_steps(out: Path, images: int, epochs: int, frames: int) -> None:
    data, model_dir, tflite, report = out / "data", out / "model", out / "tflite", out / "eval"
    _step("1/6 generate the synthetic dataset", ["data", "synthetic", str(data), "-n", str(images)])
    _step("2/6 inspect it", ["data", "info", str(data)])
    _step(
        "3/6 train paper1-cnn (1 channel) on Training, early-stop on PublicTest",
        ["train", "model", "--arch", "paper1-cnn", "--channels", "1", "--data", str(data), "--split", "usage",
         "--epochs", str(epochs), "--out", str(model_dir)],
    )  # fmt: skip
    _step(
        "4/6 convert to float32 and full-int8 TFLite, each verified",
        ["convert", str(model_dir / "model.keras"), "--float32", "--int8", "--out", str(tflite)],
    )
    int8 = tflite / "model_int8.tflite"
    _step(
        "5/6 accuracy after quantization on PrivateTest, through the runtime path",
        ["evaluate", str(model_dir / "model.keras"), str(tflite / "model_float32.tflite"), str(int8),
         "--data", str(data), "--usage", "PrivateTest", "--latency-runs", "100", "--out", str(report)],
    )  # fmt: skip
    video = out / "scene.avi"
    _write_scene_video(video, frames)
    _step(
        "6/6 the camera loop on a generated video: BlazeFace + the int8 classifier, per-stage latency",
        ["camera", "--source", str(video), "--model", str(int8), "--headless", "--summary-json",
         str(out / "camera_summary.json")],
    )  # fmt: skip
    click.secho(f"\ndemo finished: everything is under {out}/ (report: {report / 'report.md'})", bold=True)
