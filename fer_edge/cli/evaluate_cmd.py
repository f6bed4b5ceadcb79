"""``fer-edge evaluate``: Keras and TFLite models scored on the same held-out images, with a report."""

from __future__ import annotations

import shlex
import sys
from pathlib import Path

import click


def _pct(v: float | None) -> str:
    return "n/a" if v is None else f"{100 * v:.2f}"


@click.command()
@click.argument("models", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option(
    "--data",
    type=click.Path(path_type=Path),
    default="synthetic",
    show_default=True,
    help="Dataset: folder of class folders, Kaggle CSV or flat CSV; 'synthetic' is the embedded set (NOT FER-2013).",
)
@click.option(
    "--usage",
    help="Score the images with this usage tag (Training/PublicTest/PrivateTest) [default: PrivateTest when tagged].",
)
@click.option(
    "--split",
    type=click.Choice(["train", "val", "test"]),
    help="Score this part of a stratified 80/10/10 split instead (untagged data).",
)
@click.option("--split-seed", type=click.IntRange(min=0), default=0, show_default=True, help="Seed of --split.")
@click.option(
    "--split-method",
    type=click.Choice(["stratified", "grouped", "grouped-clean"]),
    default="stratified",
    show_default=True,
    help="How --split is drawn; grouped keeps exact copies in one part (the split `fer-edge train --split grouped` used).",
)
@click.option(
    "--label-map",
    "label_map",
    multiple=True,
    metavar="NAME=EMOTION",
    help="Map a dataset class to a FER-2013 emotion (NAME=skip drops it); repeatable.",
)
@click.option(
    "--train-data",
    type=click.Path(path_type=Path),
    help="Training data to check the scored images for exact copies [default: the training images of --data].",
)
@click.option(
    "--leak-check",
    type=click.Choice(["exact", "near"]),
    default="exact",
    show_default=True,
    help="What counts as a copy of a scored image: identical pixels, or also a near duplicate (pHash within 4 bits).",
)
@click.option(
    "--leak-also",
    "leak_also",
    multiple=True,
    metavar="USAGE",
    help="Also count copies in this usage of --data (e.g. PublicTest, when it chose or calibrated the model); repeatable.",
)
@click.option(
    "--latency-runs",
    type=click.IntRange(min=0),
    default=200,
    show_default=True,
    help="Single-image invokes timed per model (0 = skip).",
)
@click.option(
    "--out",
    "out_dir",
    type=click.Path(file_okay=False, path_type=Path),
    help="Write report.md/.csv/.json and per_class_change.png here.",
)
@click.option(
    "--calibrate-on",
    metavar="USAGE",
    help="Fit a temperature per model on this usage of --data (e.g. PublicTest) and report the ECE before/after it.",
)
@click.option(
    "--write-card",
    is_flag=True,
    help="With --calibrate-on: record each .tflite's fitted temperature and ECE in its model card (used at run time).",
)
@click.option("--force", is_flag=True, help="Replace an existing report.")
def evaluate(
    models: tuple[Path, ...],
    data: Path,
    usage: str | None,
    split: str | None,
    split_seed: int,
    split_method: str,
    label_map: tuple[str, ...],
    train_data: Path | None,
    leak_check: str,
    leak_also: tuple[str, ...],
    latency_runs: int,
    out_dir: Path | None,
    calibrate_on: str | None,
    write_card: bool,
    force: bool,
) -> None:
    """Score MODELS (.keras and .tflite) on the same held-out images of --data.

    Each TFLite file is compared with its float model (the .keras it was converted from, when
    given, else its float32 .tflite): accuracy, macro F1, per-class recall, top-1 agreement,
    file size and single-image latency on one thread, with the quantization targets as pass/fail.
    Every model's expected calibration error is reported; --calibrate-on fits a temperature per
    model on other images of --data and reports the ECE after it and a reliability diagram.

    \b
    Example:
      fer-edge evaluate runs/cnn/model.keras runs/cnn/model_int8.tflite \\
          --data data/fer2013 --usage PrivateTest --out reports/cnn
      fer-edge evaluate model_int8.tflite --data data/fer2013 --usage PrivateTest \\
          --calibrate-on PublicTest --write-card --out reports/calibration
    """

    from fer_edge.errors import FerEdgeError
    from fer_edge.evaluation import evaluate_models, write_report
    from fer_edge.evaluation.report import check_report_folder, markdown

    if out_dir is not None:
        check_report_folder(out_dir, force)
    if write_card and not calibrate_on:
        raise FerEdgeError("--write-card records a fitted temperature: give --calibrate-on USAGE too")
    loader = (data, split_seed, train_data, split_method, label_map, leak_check == "near", leak_also)
    eval_data, calibration_data = _load(loader, usage, split, calibrate_on)
    result = evaluate_models(models, eval_data, latency_runs=latency_runs, calibration_data=calibration_data)
    if write_card:
        from fer_edge.evaluation.calibration import write_card_temperatures

        for path in write_card_temperatures(result):
            click.echo(f"wrote {path}", err=True)
    command = (
        "fer-edge " + " ".join(shlex.quote(a) for a in sys.argv[1:])
        if sys.argv and "evaluate" in sys.argv
        else "fer-edge evaluate"
    )
    if out_dir is None:
        click.echo(markdown(result, command, None))
        return
    for path in write_report(result, out_dir, command, force=force):
        click.echo(f"wrote {path}", err=True)
    _print_table(result)


def _load(loader: tuple, usage: str | None, split: str | None, calibrate_on: str | None) -> tuple:
    """The scored images and, with --calibrate-on, the ones the temperature is fitted on (never the same)."""
    from fer_edge.errors import FerEdgeError
    from fer_edge.evaluation import load_eval_data, parse_label_map

    data, split_seed, train_data, split_method, label_map, near, leak_also = loader
    mapping = parse_label_map(label_map)
    eval_data = load_eval_data(data, usage, split, mapping, split_seed, train_data, split_method, near, leak_also)
    calibration_data = None
    if calibrate_on:
        if f": usage {calibrate_on}," in eval_data.description:
            raise FerEdgeError(
                f"--calibrate-on {calibrate_on}: fit the temperature on other images than the scored ones"
            )
        calibration_data = load_eval_data(data, calibrate_on, None, mapping, split_seed, train_data, split_method)
        click.echo(f"temperature fitted on {calibration_data.description}", err=True)
    click.echo(f"{eval_data.description}", err=True)
    if eval_data.missing:
        click.echo(f"note: no images of {', '.join(eval_data.missing)} in this data", err=True)
    if eval_data.skipped:
        skipped = ", ".join(f"{k} ({v})" for k, v in eval_data.skipped.items())
        click.echo(f"note: skipped classes that map to no emotion: {skipped}", err=True)
    return eval_data, calibration_data


def _print_table(result) -> None:
    header = (
        f"{'model':<28} {'precision':<9} {'acc %':>7} {'Δ pp':>7} {'agree %':>8} {'KiB':>7} {'ms':>8} "
        f"{'ECE %':>6} {'T':>6} {'ECE@T %':>8}"
    )
    click.echo(header)
    for r in result.rows:
        delta = "n/a" if r.delta_accuracy_pp is None else f"{r.delta_accuracy_pp:+.2f}"
        ms = "n/a" if r.latency_ms is None else f"{r.latency_ms:.3f}"
        click.echo(
            f"{r.model[:28]:<28} {r.precision:<9} {_pct(r.accuracy):>7} {delta:>7} "
            f"{_pct(r.agreement_with_float):>8} {r.size_bytes / 1024:>7.0f} {ms:>8} {_pct(r.ece):>6} "
            f"{'n/a' if r.temperature is None else format(r.temperature, '.3f'):>6} {_pct(r.ece_calibrated):>8}"
        )
    for t in result.targets:
        mark = {True: "PASS", False: "FAIL", None: "n/a"}[t["passed"]]
        click.echo(f"{mark:<4}  {t['model']}: {t['target']}: {t['value'] or 'not measurable'}")
