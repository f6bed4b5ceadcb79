"""Accuracy after quantization for the factorial's models, each on its own held-out test split.

By default the best seed of each cell; with ``--every-seed``, every seed whose ``model.keras`` is
on this machine (per-seed models stay out of git, so the committed best model stands for its own
seed), with the float16/int8 change per cell as a mean and 95 % t interval over seeds and an exact
McNemar test of int8 against the Keras float model per model. Seeds whose models are gone can be
retrained into a scratch folder (``--results`` that folder, ``--committed train/results``): each row
then says whether the retrain reproduced the committed run (equal test predictions). The PASS thresholds are options
(``--max-int8-loss-pp``, ``--max-float16-loss-pp``) and the reports state the ones used.

The factorial trains on stratified 80/10/10 splits of its data cells (some cells include
FER-2013's PublicTest/PrivateTest images), so PrivateTest is not held out for every model. This
recipe rebuilds each model's data cell with the factorial's own loader and split (checked: the
split sizes match the card and the test indices match the run's ``predictions.npz``), calibrates
int8 on 500 stratified images of the model's training split, and scores Keras, float32, float16
and int8 on the model's test split through ``fer_edge.evaluation`` (one report per cell), plus a
summary table over the cells.

    python convert/factorial_quantization.py --results train/results --data /work/shared/data/fer2013 \\
        --models runs/convert-factorial --out convert/results/factorial
    python convert/factorial_quantization.py --results train/results --data /work/shared/data/fer2013 \\
        --every-seed --cell dir-rgb-28709_cnn ... --models runs/convert-factorial-seeds --out convert/results/factorial/seeds
    python convert/factorial_quantization.py --results runs/reproduce-faithful --committed train/results \\
        --data /work/shared/data/fer2013 --every-seed --seed 1 --seed 2 --cell csv-gray-35887_cnn ... \\
        --models runs/convert-factorial-seeds --out convert/results/factorial/seeds
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


def _cell_models(results: Path, only: tuple[str, ...], every_seed: bool = False) -> list[Path]:
    """Best-seed models, or every local seed's model (the best copy only for a seed not on this machine)."""
    runs = results / "runs"
    best = [p for p in sorted(runs.glob("*/best/model.keras")) if not only or p.parent.parent.name in only]
    if not every_seed:
        return best
    local = [p for p in runs.glob("*/seed*/model.keras") if not only or p.parent.parent.name in only]
    out: list[Path] = []
    for cell in sorted({p.parent.parent for p in best} | {p.parent.parent for p in local}):
        seeds = sorted(cell.glob("seed*/model.keras"))
        b = cell / "best" / "model.keras"
        if b.exists():
            chosen = json.loads((b.parent / "chosen.json").read_text())["run"]
            seeds += [] if any(s.parent.name == chosen for s in seeds) else [b]
        out += seeds
    return out


def _committed_run(committed: Path, cell: str, run: Path) -> dict:
    """The committed run this model retrains: its accuracy, and whether the retrain's test predictions equal it."""
    ref = committed / "runs" / cell / run.name
    if not (ref / "metrics.json").exists() or not (ref / "predictions.npz").exists():
        raise FerEdgeError(f"{ref}: no committed run to compare with; pass the --committed folder that holds {cell}")
    mine, theirs = np.load(run / "predictions.npz"), np.load(ref / "predictions.npz")
    same = all(np.array_equal(mine[k], theirs[k]) for k in ("index", "probs"))
    accuracy = json.loads((ref / "metrics.json").read_text())["test"]["accuracy"]
    return {"path": str(ref), "accuracy": accuracy, "identical_predictions": bool(same)}


def _model_column(row: dict) -> str:
    ref = row.get("committed_run")
    if ref is None:
        return "the run"
    if ref["identical_predictions"]:
        return "retrained, identical to the run"
    return f"retrained, differs (run: {100 * ref['accuracy']:.2f} %)"


def _run_dir(model_path: Path) -> Path:
    if model_path.parent.name.startswith("seed"):
        return model_path.parent
    chosen = json.loads((model_path.parent / "chosen.json").read_text())
    return model_path.parent.parent / chosen["run"]


def _loss_targets(targets: list[dict], rows: dict[str, dict], name: str, limits: dict[str, float]) -> list[dict]:
    """Replace the evaluator's accuracy-loss targets by the thresholds of this run (the ones its reports state)."""
    kept = [t for t in targets if "loses" not in t["target"]]
    for precision, limit in limits.items():
        delta = rows.get(precision, {}).get("delta_accuracy_pp")
        kept.insert(0, {
            "model": name,
            "target": f"{precision} loses <= {limit} pp accuracy vs the Keras float model",
            "value": None if delta is None else f"accuracy change {delta:+.2f} pp",
            "passed": None if delta is None else bool(-delta <= limit + 1e-9),
        })  # fmt: skip
    return kept


def _mcnemar(y: np.ndarray, a: np.ndarray, b: np.ndarray) -> dict:
    """Exact McNemar test of two classifiers' correctness on the same images."""
    from fer_edge.metrics import mcnemar_exact

    only_a, only_b, p = mcnemar_exact(a == y, b == y)
    return {"only_float_right": only_a, "only_int8_right": only_b, "p": p}


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
    from fer_edge.training.factorial import results_experiment_path

    exp = load_experiment(results_experiment_path(results))
    cell = exp.data[t["data"]["cell"]]
    ds = load_cell(cell, data_root, results / ".cache", Path(t["data"]["csv"]) if t["data"].get("csv") else None)
    split = make_split(ds, t["split"]["method"], int(t["split"]["seed"]))
    sizes = [len(split.train), len(split.val), len(split.test)]
    if sizes != list(t["split"]["sizes"]):
        raise FerEdgeError(f"{model_path}: rebuilt split sizes {sizes} differ from the card's {t['split']['sizes']}")
    run = _run_dir(model_path)
    recorded = np.load(run / "predictions.npz")["index"]
    if not np.array_equal(np.sort(recorded), np.sort(split.test)):
        raise FerEdgeError(f"{run}: the rebuilt test split is not the run's (predictions.npz index differs)")
    return card, ds, split, run


@click.command()
@click.option("--results", type=click.Path(exists=True, file_okay=False, path_type=Path), default=Path("train/results"))
@click.option(
    "--data", "data_root", type=click.Path(exists=True, path_type=Path), default=None, help="FER-2013 folder."
)
@click.option("--models", "models_dir", type=click.Path(path_type=Path), default=Path("runs/convert-factorial"))
@click.option("--out", type=click.Path(path_type=Path), default=Path("convert/results/factorial"))
@click.option("--cell", "only", multiple=True, help="Only these cells (e.g. dir-rgb-28709_cnn).")
@click.option("--latency-runs", type=int, default=200)
@click.option("--every-seed", is_flag=True, help="Every seed with a local model.keras, not only the best.")
@click.option("--seed", "seeds", type=int, multiple=True, help="With --every-seed: only these seeds.")
@click.option(
    "--committed",
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    default=None,
    help="When --results holds retrained runs: the results folder with the committed runs they retrain "
    "(each row then says whether the retrain's test predictions equal the committed run's).",
)
@click.option("--summary-only", is_flag=True, help="Only rewrite OUT/summary.md from OUT/summary.json (no conversion).")
@click.option("--max-int8-loss-pp", type=float, default=None, help="PASS threshold (default: the evaluator's, 1.0).")
@click.option("--max-float16-loss-pp", type=float, default=None, help="PASS threshold (default: the evaluator's, 0.1).")
def main(
    results: Path,
    data_root: Path,
    models_dir: Path,
    out: Path,
    only: tuple[str, ...],
    latency_runs: int,
    every_seed: bool,
    seeds: tuple[int, ...],
    committed: Path | None,
    summary_only: bool,
    max_int8_loss_pp: float | None,
    max_float16_loss_pp: float | None,
) -> None:
    from fer_edge.convert import convert_model
    from fer_edge.convert.calibration import as_model_input, stratified_sample
    from fer_edge.data.audit import leakage_mask
    from fer_edge.evaluation import EvalData, evaluate_models, write_report
    from fer_edge.evaluation.evaluate import MAX_LOSS_PP
    from fer_edge.evaluation.models import predict_keras, predict_tflite
    from fer_edge.runtime.model_file import to_channels

    limits = {
        "int8": MAX_LOSS_PP["int8"] if max_int8_loss_pp is None else max_int8_loss_pp,
        "float16": MAX_LOSS_PP["float16"] if max_float16_loss_pp is None else max_float16_loss_pp,
    }
    if summary_only:
        if not (out / "summary.json").exists():
            raise FerEdgeError(f"{out}/summary.json: no summary to rewrite; run without --summary-only first")
        previous = json.loads((out / "summary.json").read_text())
        if "limits_pp" not in previous or any("mcnemar_int8_vs_keras" not in r for r in previous["cells"]):
            raise FerEdgeError(
                f"{out}/summary.json: written by an older version of this script; rerun it without --summary-only"
            )
        commands = previous.get("commands", [previous["command"]])
        write_text(
            out / "summary.md", _summary_md(previous["cells"], "`; `".join(commands), previous["limits_pp"], every_seed)
        )
        return
    if data_root is None:
        raise click.UsageError("--data is required (the FER-2013 folder the runs were trained on)")
    command = "python " + " ".join(shlex.quote(a) for a in sys.argv)
    summary = []
    for model_path in _cell_models(results, only, every_seed):
        cell = model_path.parent.parent.name
        if seeds and int(_run_dir(model_path).name.removeprefix("seed")) not in seeds:
            continue
        card, ds, split, run = _rebuild(model_path, results, data_root)
        metrics = json.loads((run / "metrics.json").read_text())
        train, test = ds.subset(split.train), ds.subset(split.test)
        channels = card.channels
        idx = stratified_sample(train.labels, 500, seed=0)
        calibration = as_model_input(train.images[idx], channels, f"{cell} training split")
        tag = f"{cell}/seed{card.training['seed']}" if every_seed else cell
        converted = convert_model(model_path, models_dir / tag, PRECISIONS, calibration=calibration, force=True)
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
        rows = {r.precision: r.to_dict() for r in ev.rows}
        ev.targets = _loss_targets(ev.targets, rows, ev.targets[0]["model"] if ev.targets else cell, limits)
        write_report(ev, out / tag, command, force=True)
        int8_path = next(c.path for c in converted if c.precision == "int8")
        x = to_channels(test.images, channels)
        float_pred = predict_keras(model_path, x).argmax(1)
        int8_pred = predict_tflite(int8_path, x)[0].argmax(1)
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
            "mcnemar_int8_vs_keras": _mcnemar(test.labels, float_pred, int8_pred),
            "targets": {t["target"]: t["passed"] for t in ev.targets},
            **({"committed_run": _committed_run(committed, cell, run)} if committed else {}),
        })  # fmt: skip
        print(json.dumps(summary[-1]), flush=True)
    if not summary:
        raise FerEdgeError(f"{results}/runs: no */best/model.keras yet")
    commands = [command]
    if every_seed and (out / "summary.json").exists():  # runs per cell add up in one summary
        summary, commands = _merge(json.loads((out / "summary.json").read_text()), summary, command, limits)
    write_text(
        out / "summary.json",
        json.dumps({"command": command, "commands": commands, "limits_pp": limits, "cells": summary}, indent=2) + "\n",
    )
    write_text(out / "summary.md", _summary_md(summary, "`; `".join(commands), limits, every_seed))


def _merge(previous: dict, new: list[dict], command: str, limits: dict[str, float]) -> tuple[list[dict], list[str]]:
    """The earlier summary's rows for other (cell, seed) models, then this run's; refuses other thresholds."""
    if previous.get("limits_pp") != limits:
        raise FerEdgeError(
            f"the summary in --out used thresholds {previous.get('limits_pp')}, this run {limits}; use another --out"
        )
    done = {(r["cell"], r["seed"]) for r in new}
    kept = [r for r in previous["cells"] if (r["cell"], r["seed"]) not in done]
    commands = [c for c in previous.get("commands", [previous.get("command", "")]) if c and c != command]
    return sorted(kept + new, key=lambda r: (r["cell"], r["seed"])), [*commands, command]


def _summary_md(summary: list[dict], command: str, limits: dict[str, float], every_seed: bool) -> str:
    from fer_edge.report.stats import holm, t_interval

    mark = {True: "PASS", False: "FAIL", None: "n/a"}
    adjusted = holm([s["mcnemar_int8_vs_keras"]["p"] for s in summary])
    lines = [
        f"# Factorial {'models, every local seed' if every_seed else 'best-seed models'}: accuracy after quantization",
        "",
        f"Command: `{command}`",
        "",
        "Each model on its own test split (see each model's report.md); Keras accuracy recomputed here and as recorded "
        f"by the run. PASS: int8 loses at most {limits['int8']} pp and float16 at most {limits['float16']} pp against "
        "the Keras float model (the thresholds this run used; the per-model reports state the same). McNemar: exact "
        "test of int8 against Keras on the same images (images only one of the two gets right). Model: the committed "
        "run's own model, or a retrain of that seed (`--committed`), identical when its test predictions equal the "
        "run's bit for bit; a retrain that differs is another model of the same seed and protocol, and its deltas "
        "are against its own Keras accuracy. Holm: the McNemar p adjusted over the "
        f"{len(summary)} models of this table (one family).",
        "",
        "| cell | seed | model | test images | Keras (recorded) | Keras | float16 Δ pp | int8 | int8 Δ pp | McNemar p (float only / int8 only right) | Holm p | int8 PASS | int8 size vs f32 | int8 speed-up |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for s, p_holm in zip(summary, adjusted, strict=True):
        mc = s["mcnemar_int8_vs_keras"]
        passed = s["targets"].get(f"int8 loses <= {limits['int8']} pp accuracy vs the Keras float model")
        lines.append(
            f"| {s['cell']} | {s['seed']} | {_model_column(s)} | {s['test_images']:,} | {100 * s['keras_accuracy_recorded']:.2f} % | "
            f"{100 * s['keras_accuracy']:.2f} % | {s['float16_delta_pp']:+.2f} | {100 * s['int8_accuracy']:.2f} % | "
            f"{s['int8_delta_pp']:+.2f} | {mc['p']:.3f} ({mc['only_float_right']} / {mc['only_int8_right']}) | "
            f"{p_holm:.3f} | {mark[passed]} | {100 * s['int8_size_vs_float32']:.1f} % | {s['int8_speedup_vs_float32']:.2f}x |"
        )
    if every_seed:
        lines += [
            "",
            "Per cell, over the seeds above: mean change [95 % t interval] in accuracy points.",
            "",
            "| cell | seeds | float16 Δ pp | int8 Δ pp |",
            "|---|---|---|---|",
        ]
        for cell in dict.fromkeys(s["cell"] for s in summary):
            rows = [s for s in summary if s["cell"] == cell]
            cells = []
            for key in ("float16_delta_pp", "int8_delta_pp"):
                iv = t_interval([r[key] for r in rows])
                ci = "" if np.isnan(iv.low) else f" [{iv.low:+.2f}, {iv.high:+.2f}]"
                cells.append(f"{iv.estimate:+.2f}{ci}")
            lines.append(f"| {cell} | {len(rows)} | {cells[0]} | {cells[1]} |")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    from fer_edge.errors import run_command

    sys.exit(run_command(main, prog_name="python convert/factorial_quantization.py"))
