"""``fer-edge convert``: a .keras model to verified TFLite files, several precisions per call."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from fer_edge.convert.converter import DENSE_QUANTIZATION, INT8_IO
from fer_edge.runtime.model_file import PRECISIONS

F = TypeVar("F", bound=Callable[..., Any])


def _size(n: int) -> str:
    return f"{n / 1024:.0f} KiB" if n < 1024 * 1024 else f"{n / 1024 / 1024:.2f} MiB"


def format_table(headers: list[str], rows: list[list[str]]) -> str:
    widths = [max(len(str(x)) for x in col) for col in zip(headers, *rows)]
    lines = ["  ".join(str(x).ljust(w) for x, w in zip(r, widths)).rstrip() for r in [headers, *rows]]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def results_table(results: list, keras_size: int) -> str:
    from fer_edge.convert.verify import summarize_ops

    base = next((r.size_bytes for r in results if r.precision == "float32"), None)
    rows = []
    for r in results:
        ratio = f"{r.size_bytes / base:.0%} of float32" if base else f"{r.size_bytes / keras_size:.0%} of .keras"
        v = r.verification
        check = "pass" if v.get("passed") else "FAIL: " + "; ".join(v.get("failures", []))
        detail = (
            f"max|diff| {v['max_abs_diff']:.1e}, top-1 agree {v['top1_agreement']:.0%}" if "max_abs_diff" in v else ""
        )
        if r.precision == "int8" and "float_ops" in v:
            detail += ", float ops: " + (", ".join(v["float_ops"]) or "none")
        rows.append(
            [
                r.precision,
                str(r.path),
                _size(r.size_bytes),
                ratio,
                f"{r.seconds:.1f} s",
                summarize_ops(r.op_types, 4),
                check,
                detail,
            ]
        )
    return format_table(["precision", "file", "size", "ratio", "convert", "ops", "verify", "checks"], rows)


#: one ``--<precision>`` flag per precision fer-edge makes (``PRECISIONS``), in that order
PRECISION_HELP = {
    "float32": "Plain float32 (the default when no precision is given).",
    "float16": "float16 weights, float32 compute (half the size).",
    "dynamic": "Dynamic range: int8 weights, float activations.",
    "int8": "Full integer: int8 weights and activations (needs calibration).",
}


def precision_flags(command: F) -> F:
    for p in reversed(PRECISIONS):
        command = click.option(f"--{p}", p, is_flag=True, help=PRECISION_HELP[p])(command)
    return command


@click.command()
@click.argument("model", type=click.Path(path_type=Path))
@precision_flags
@click.option(
    "--int8-io",
    type=click.Choice(INT8_IO),
    default="int8",
    show_default=True,
    help="Input/output type of the full-int8 model.",
)
@click.option(
    "--out", "out_dir", type=click.Path(file_okay=False, path_type=Path), help="Output folder [default: beside MODEL]."
)
@click.option(
    "--calibration",
    type=click.Path(path_type=Path),
    help="Training data for int8 calibration: dataset folder, CSV or .npy [default: the data the model card names].",
)
@click.option(
    "--samples",
    type=click.IntRange(min=1),
    default=500,
    show_default=True,
    help="Calibration images (stratified by class).",
)
@click.option(
    "--seed", type=click.IntRange(min=0), default=0, show_default=True, help="Seed of the calibration sample."
)
@click.option(
    "--dense-quantization",
    type=click.Choice(DENSE_QUANTIZATION),
    default="auto",
    show_default=True,
    help="int8/dynamic scales of Dense and LSTM kernels; auto = per-tensor for CNN-LSTMs, per-channel otherwise.",
)
@click.option(
    "--fit-temperature",
    "fit_temperature",
    type=click.Path(path_type=Path),
    help="Fit a confidence temperature per file on this dataset's PublicTest images (else the val part of an "
    "80/10/10 split) and record it in the card; the runtime applies it.",
)
@click.option(
    "--mirror-average",
    type=click.Choice(["batch2", "branches"]),
    help="Build one graph that averages the face and its horizontal mirror (batch2: one pass over both; "
    "branches: two passes, shared weights); MODEL_mirror-FORM.keras is written first, then converted.",
)
@click.option("--keep-names", is_flag=True, help="Keep tensor names in the files (bigger; handy in Netron).")
@click.option("--force", is_flag=True, help="Replace existing output files.")
def convert(
    model: Path,
    int8_io: str,
    out_dir: Path | None,
    calibration: Path | None,
    samples: int,
    seed: int,
    dense_quantization: str,
    fit_temperature: Path | None,
    mirror_average: str | None,
    keep_names: bool,
    force: bool,
    **flags: bool,
) -> None:
    """Convert MODEL (.keras) to TFLite, one verified file per precision, each with a model card.

    Every file is checked before the command returns: it loads in the runtime interpreter, its
    input/output match the card, float32 agrees with Keras to 1e-4 on 100 images, and an int8
    graph holds no float ops. Recurrent models (CNN-LSTM) are converted unrolled, batch 1.

    \b
    Example:
      fer-edge convert runs/cnn/model.keras --float16 --int8 --calibration data/fer2013
    """
    from fer_edge.convert import VerificationError, convert_model

    if mirror_average:
        from fer_edge.convert.mirror import write_mirrored

        model = write_mirrored(model, mirror_average, out_dir, force)
        click.echo(f"wrote {model} (mirror-averaged, form {mirror_average})", err=True)
    precisions = [p for p in PRECISIONS if flags[p]] or ["float32"]
    try:
        results = convert_model(
            model,
            out_dir,
            precisions,
            calibration=calibration,
            samples=samples,
            int8_io=int8_io,
            force=force,
            seed=seed,
            keep_names=keep_names,
            dense_quantization=dense_quantization,
        )
    except VerificationError as e:
        click.echo(results_table(e.results, model.stat().st_size), err=True)
        raise
    _print_results(results, model)
    if fit_temperature is not None:
        _fit_temperatures(results, fit_temperature)


def _print_results(results: list, model: Path) -> None:
    click.echo(results_table(results, model.stat().st_size))
    card = results[0].card
    click.echo(f"architecture {card.architecture}; {card.notes.get('conversion', '').split(': ', 1)[-1]}")
    if "calibration" in (results[-1].card.notes or {}):
        click.echo(f"int8 calibration: {results[-1].card.notes['calibration']}")


def _fit_temperatures(results: list, data: Path) -> None:
    from fer_edge.evaluation.calibration import fit_card_temperatures

    for path, cal in fit_card_temperatures([r.path for r in results], data):
        click.echo(
            f"{path.name}: temperature {cal.temperature:.3f} fitted on {cal.fitted_on}; "
            f"ECE there {100 * cal.before.ece:.2f} % -> {100 * cal.after.ece:.2f} % (in-sample; "
            "score held-out images with fer-edge evaluate --calibrate-on)"
        )
