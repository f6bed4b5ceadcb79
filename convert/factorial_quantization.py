"""Accuracy after quantization for the factorial's best-seed models, each on its own held-out test split.

The factorial trains on stratified 80/10/10 splits of its data cells (some cells include
FER-2013's PublicTest/PrivateTest images), so PrivateTest is not held out for every model. This
recipe rebuilds each model's data cell with the factorial's own loader and split (checked: the
split sizes match the card and the test indices match the run's ``predictions.npz``), calibrates
int8 on 500 stratified images of the model's training split, and scores Keras, float32, float16
and int8 on the model's test split through ``fer_edge.evaluation`` (one report per cell), plus a
summary table over the cells.

    python convert/factorial_quantization.py --results train/results --data /work/shared/data/fer2013 \\
        --models runs/convert-factorial --out convert/results/factorial
"""

from __future__ import annotations

import json
import os
import shlex
import sys
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import click  # noqa: E402
import numpy as np  # noqa: E402

from fer_edge.atomic import write_text  # noqa: E402
from fer_edge.errors import FerEdgeError  # noqa: E402
from fer_edge.runtime.model_file import PRECISIONS as ALL_PRECISIONS  # noqa: E402

PRECISIONS = tuple(p for p in ALL_PRECISIONS if p != "dynamic")  # the study's three


def _cell_models(results: Path, only: tuple[str, ...]) -> list[Path]:
    found = sorted((results / "runs").glob("*/best/model.keras"))
    return [p for p in found if not only or p.parent.parent.name in only]


def _rebuild(model_path: Path, results: Path, data_root: Path):
    """(card, dataset, split, run dir) of a best-seed model, with the split checked against the run."""
    from fer_edge.model_card import ModelCard
    from fer_edge.training.datasets import load_cell
    from fer_edge.training.factorial import load_experiment
    from fer_edge.training.run import make_split

    card = ModelCard.load(model_path)
    if card is None:
        raise FerEdgeError(f"{model_path}: no model card beside it")
    t = card.training
    exp = load_experiment(results.parent / "factorial.json" if (results.parent / "factorial.json").exists() else None)
    cell = exp.data[t["data"]["cell"]]
    ds = load_cell(cell, data_root, results / ".cache", Path(t["data"]["csv"]) if t["data"].get("csv") else None)
    split = make_split(ds, t["split"]["method"], int(t["split"]["seed"]))
    sizes = [len(split.train), len(split.val), len(split.test)]
    if sizes != list(t["split"]["sizes"]):
        raise FerEdgeError(f"{model_path}: rebuilt split sizes {sizes} differ from the card's {t['split']['sizes']}")
    chosen = json.loads((model_path.parent / "chosen.json").read_text())
    run = model_path.parent.parent / chosen["run"]
    recorded = np.load(run / "predictions.npz")["index"]
    if not np.array_equal(np.sort(recorded), np.sort(split.test)):
        raise FerEdgeError(f"{run}: the rebuilt test split is not the run's (predictions.npz index differs)")
    return card, ds, split, run


@click.command()
@click.option("--results", type=click.Path(exists=True, file_okay=False, path_type=Path), default=Path("train/results"))
@click.option("--data", "data_root", type=click.Path(exists=True, path_type=Path), required=True)
@click.option("--models", "models_dir", type=click.Path(path_type=Path), default=Path("runs/convert-factorial"))
@click.option("--out", type=click.Path(path_type=Path), default=Path("convert/results/factorial"))
@click.option("--cell", "only", multiple=True, help="Only these cells (e.g. dir-rgb-28709_cnn).")
@click.option("--latency-runs", type=int, default=200)
def main(results: Path, data_root: Path, models_dir: Path, out: Path, only: tuple[str, ...], latency_runs: int) -> None:
    from fer_edge.convert import convert_model
    from fer_edge.convert.calibration import as_model_input, stratified_sample
    from fer_edge.data.audit import leakage_mask
    from fer_edge.evaluation import EvalData, evaluate_models, write_report

    command = "python " + " ".join(shlex.quote(a) for a in sys.argv)
    summary = []
    for model_path in _cell_models(results, only):
        cell = model_path.parent.parent.name
        card, ds, split, run = _rebuild(model_path, results, data_root)
        metrics = json.loads((run / "metrics.json").read_text())
        train, test = ds.subset(split.train), ds.subset(split.test)
        channels = card.channels
        idx = stratified_sample(train.labels, 500, seed=0)
        calibration = as_model_input(train.images[idx], channels, f"{cell} training split")
        converted = convert_model(model_path, models_dir / cell, PRECISIONS, calibration=calibration, force=True)
        for c in converted:
            c.card.notes["calibration"] = (
                f"500 stratified images of the run's training split ({cell}, seed {card.training['seed']})"
            )
            c.card.save(c.path)
        data = EvalData(
            dataset=test,
            description=f"{cell} (best seed {card.training['seed']}): the run's own test split, "
            f"stratified 80/10/10 of {len(ds)} images via the factorial's {card.training['data']['loader']} loader, {len(test)} images",
            class_map={},
            missing=[],
            skipped={},
            leaked=leakage_mask(test, train),
            train_source=f"the run's training split ({len(train)} images)",
        )
        ev = evaluate_models([model_path, *(c.path for c in converted)], data, latency_runs=latency_runs)
        write_report(ev, out / cell, command, force=True)
        rows = {r.precision: r.to_dict() for r in ev.rows}
        summary.append({
            "cell": cell,
            "architecture": card.architecture,
            "seed": card.training["seed"],
            "test_images": len(test),
            "keras_accuracy_recorded": metrics["test"]["accuracy"],
            **{f"{p}_accuracy": rows[p]["accuracy"] for p in ("keras", *PRECISIONS)},
            "float16_delta_pp": rows["float16"]["delta_accuracy_pp"],
            "int8_delta_pp": rows["int8"]["delta_accuracy_pp"],
            "int8_agreement": rows["int8"]["agreement_with_float"],
            "int8_size_vs_float32": rows["int8"]["size_vs_float32"],
            "int8_speedup_vs_float32": rows["int8"]["speedup_vs_float32"],
            "targets": {t["target"]: t["passed"] for t in ev.targets},
        })  # fmt: skip
        print(json.dumps(summary[-1]), flush=True)
    if not summary:
        raise FerEdgeError(f"{results}/runs: no */best/model.keras yet")
    write_text(out / "summary.json", json.dumps({"command": command, "cells": summary}, indent=2) + "\n")
    lines = [
        "# Factorial best-seed models: accuracy after quantization",
        "",
        f"Command: `{command}`",
        "",
        "Each model on its own test split (see each cell's report.md); Keras accuracy recomputed here and as recorded by the run.",
        "",
        "| cell | seed | test images | Keras (recorded) | Keras | float16 Δ pp | int8 | int8 Δ pp | int8 agree | int8 size vs f32 | int8 speed-up |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for s in summary:
        lines.append(
            f"| {s['cell']} | {s['seed']} | {s['test_images']:,} | {100 * s['keras_accuracy_recorded']:.2f} % | "
            f"{100 * s['keras_accuracy']:.2f} % | {s['float16_delta_pp']:+.2f} | {100 * s['int8_accuracy']:.2f} % | "
            f"{s['int8_delta_pp']:+.2f} | {100 * s['int8_agreement']:.2f} % | {100 * s['int8_size_vs_float32']:.1f} % | "
            f"{s['int8_speedup_vs_float32']:.2f}x |"
        )
    write_text(out / "summary.md", "\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
