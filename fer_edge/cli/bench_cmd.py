"""``fer-edge bench``: this device against the 30 FPS budget, without pytest or TensorFlow."""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path

import click

from fer_edge.atomic import check_destination, write_text


@click.command()
@click.option(
    "--model",
    "models",
    multiple=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="Classifier .tflite to measure; repeat for each precision (default: the shipped models).",
)
@click.option(
    "--threads",
    type=click.IntRange(min=1),
    default=None,
    help="Interpreter threads  [default: all cores]",
)
@click.option(
    "--frames", type=click.IntRange(min=10), default=200, show_default=True, help="Timed invokes and frames per stage."
)
@click.option(
    "--detect-every",
    type=click.IntRange(min=1),
    default=1,
    show_default=True,
    help="Run the detector every Nth frame in the whole-frame measurement (as fer-edge camera does).",
)
@click.option(
    "--out",
    type=click.Path(dir_okay=False, path_type=Path),
    default=Path("bench-report.json"),
    show_default=True,
    help="Device report JSON.",
)
@click.option("--force", is_flag=True, help="Replace --out if it exists.")
def bench(
    models: tuple[Path, ...], threads: int | None, frames: int, detect_every: int, out: Path, force: bool
) -> None:
    """Measure classifier precisions, the face detector and whole frames on this device.

    Prints a table and writes a device report (board, CPU, OS, Python, interpreter, per-stage
    p50/p95) with a verdict against 30 FPS and the slowest stage. float32, float16 and int8 are
    compared here: on some CPUs int8 is no faster, and the report says so.
    """
    from fer_edge.runtime.device_report import format_report, run_bench, shipped_models

    check_destination(out, force)
    paths = list(models) or shipped_models()
    threads = threads or os.cpu_count() or 1
    report = run_bench(
        paths, threads, frames, detect_every, progress=lambda m: click.echo(f"measuring {m} ...", err=True)
    )
    command = "fer-edge bench " + " ".join(
        [
            *(f"--model {p}" for p in models),
            f"--threads {threads}",
            f"--frames {frames}",
            f"--detect-every {detect_every}",
        ]
    )
    report = dataclasses.replace(report, command=command)
    write_text(out, report.to_json() + "\n", force=True)
    click.echo(format_report(report))
    click.echo(f"report saved to {out}")
