"""The mirror-averaged edge10 candidate of train/edge/selection.md's sixth amendment, step by step.

    python -m train.edge_mirror build  --data /work/shared/data/fer2013 --out runs/edge10-mirror
    python -m train.edge_mirror time   --out runs/edge10-mirror           # picks the form on invoke time only
    python -m train.edge_mirror select --data /work/shared/data/fer2013 --out runs/edge10-mirror
    python -m train.edge_mirror private --data /work/shared/data/fer2013 --out runs/edge10-mirror
    python -m train.edge_mirror ship --data /work/shared/data/fer2013 --out runs/edge10-mirror
    python -m train.edge_mirror record                                   # train/edge/metrics.json

``build``: edge10's Keras model rebuilt from the shipped int8 file (its .keras is lost), then converted
to int8 three ways with the recipe's calibration (500 stratified Training images): plain (the
control), ``--mirror-average batch2`` and ``--mirror-average branches``. ``time``: the two mirror
forms and the shipped file, single-image invokes on one thread, interleaved. ``select``: PublicTest
only, the rule's paired test. ``private``: PrivateTest, once, for the chosen form. Each step writes
a JSON record in --out; the numbers quoted in selection.md come from them (copies in train/edge/mirror/).
``record``: train/edge/metrics.json for the shipped model, assembled from those records, its card and
its weights' training record (edge10's, kept as train/edge/previous-edge10-metrics.json); it measures
nothing itself.
"""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

import click
import numpy as np

from fer_edge.runtime.classifier import DEFAULT_MODEL

FORMS = ("batch2", "branches")
RESULTS = Path(__file__).resolve().parent / "edge"
INCUMBENT_PUBLIC = 0.6522708275285595  # edge10 int8 PublicTest, from its card


def _convert(keras_path: Path, data: Path, out: Path, force: bool, mirror: str | None = None) -> None:
    """What ``fer-edge convert KERAS --int8 --calibration DATA --samples 500 --out OUT [--mirror-average M]`` does."""
    from fer_edge.convert import convert_model
    from fer_edge.convert.mirror import write_mirrored

    source = write_mirrored(keras_path, mirror, out, force) if mirror else keras_path
    [result] = convert_model(source, out, ["int8"], calibration=data, samples=500, force=force)
    click.echo(
        f"{result.path}: {result.size_bytes:,} bytes, verification {result.verification.get('passed')}", err=True
    )


def _files(out: Path) -> dict[str, Path]:
    return {
        "control": out / "edge10_int8.tflite",
        "batch2": out / "edge10_mirror-batch2_int8.tflite",
        "branches": out / "edge10_mirror-branches_int8.tflite",
    }


def _raw_probs(path: Path, images: np.ndarray) -> np.ndarray:
    """Raw outputs (no card temperature) through the runtime interpreter, as the selection rule scores."""
    from fer_edge.evaluation.models import predict_tflite
    from fer_edge.runtime.model_file import to_channels

    probs, how = predict_tflite(path, to_channels(images, 1))
    click.echo(f"{path.name}: {how}", err=True)
    return probs


def _load(data: Path, usage: str):
    from fer_edge.data import load_dataset

    return load_dataset(data).with_usage(usage)


def mcnemar_one_sided(candidate_right: np.ndarray, incumbent_right: np.ndarray) -> dict:
    """Exact McNemar: of the images exactly one model gets right, the chance of the candidate winning at
    least as many under p = 1/2 (one-sided, in the candidate's favour)."""
    from scipy.stats import binomtest

    b = int((candidate_right & ~incumbent_right).sum())  # candidate only
    c = int((~candidate_right & incumbent_right).sum())  # incumbent only
    p = binomtest(b, b + c, 0.5, alternative="greater").pvalue if b + c else 1.0
    return {"candidate_only": b, "incumbent_only": c, "p_one_sided": float(p)}


@click.group()
def cli() -> None:
    """The mirror-averaged candidate (selection.md, sixth amendment)."""


@cli.command()
@click.option("--data", type=click.Path(exists=True, path_type=Path), required=True)
@click.option("--out", type=click.Path(path_type=Path), default=Path("runs/edge10-mirror"), show_default=True)
@click.option("--force", is_flag=True)
def build(data: Path, out: Path, force: bool) -> None:
    """Rebuild edge10's Keras model from the shipped int8 file, then convert it plain and mirror-averaged."""
    from fer_edge.convert.reconstruct import rebuild_edge_model
    from fer_edge.model_card import ModelCard

    out.mkdir(parents=True, exist_ok=True)
    keras_path = out / "edge10.keras"
    if keras_path.exists() and not force:
        raise click.ClickException(f"{keras_path} exists; pass --force")
    model = rebuild_edge_model(DEFAULT_MODEL, "edge-cnn-wide")
    model.save(keras_path)
    card = ModelCard.load(DEFAULT_MODEL)
    card.precision, card.input_dtype, card.output_dtype = "float32", "float32", "float32"
    card.temperature, card.ece = 1.0, {}
    card.notes = {
        **card.notes,
        "reconstruction": "Keras model rebuilt from the shipped edge10 int8 file's dequantized weights "
        "(fer_edge.convert.reconstruct; BatchNorm folded into the convolutions there, identity here)",
    }
    card.save(keras_path)
    _convert(keras_path, data, out, force)
    for form in FORMS:
        _convert(keras_path, data, out, force, form)
    shutil.copy(DEFAULT_MODEL, out / "incumbent_edge10_int8.tflite")
    click.echo(json.dumps({k: str(v) for k, v in _files(out).items()}, indent=2))


@cli.command("time")
@click.option("--out", type=click.Path(path_type=Path), default=Path("runs/edge10-mirror"), show_default=True)
@click.option("--runs", type=int, default=2000, show_default=True)
def time_(out: Path, runs: int) -> None:
    """Median single-image invoke, one thread, interleaved rounds: the two forms, the control, the shipped file."""
    from fer_edge.evaluation.models import tflite_latencies

    files = {**_files(out), "shipped": DEFAULT_MODEL}
    image = {1: np.full((1, 48, 48, 1), 128.0, np.float32)}
    lat = tflite_latencies(list(files.values()), image, runs, rounds=10)
    record = {name: {**lat[p], "size_bytes": p.stat().st_size, "file": str(p)} for name, p in files.items()}
    chosen = min(FORMS, key=lambda f: record[f]["median_ms"])
    record["chosen_form"] = chosen
    record["rule"] = "the faster mirror form (median invoke) is the candidate; chosen before any accuracy is computed"
    (out / "timing.json").write_text(json.dumps(record, indent=2) + "\n")
    for name in files:
        r = record[name]
        click.echo(f"{name:<9} {r['median_ms']:.4f} ms median (p90 {r['p90_ms']:.4f}), {r['size_bytes']:,} bytes")
    click.echo(f"chosen form: {chosen}")


@cli.command()
@click.option("--data", type=click.Path(exists=True, path_type=Path), required=True)
@click.option("--out", type=click.Path(path_type=Path), default=Path("runs/edge10-mirror"), show_default=True)
def select(data: Path, out: Path) -> None:
    """PublicTest only: the chosen form and the control against the shipped edge10, with the paired test."""
    timing = json.loads((out / "timing.json").read_text())
    form = timing["chosen_form"]
    files = _files(out)
    pub = _load(data, "PublicTest")
    y = pub.labels
    right = {
        name: _raw_probs(p, pub.images).argmax(1) == y
        for name, p in (("incumbent", DEFAULT_MODEL), ("candidate", files[form]), ("control", files["control"]))
    }
    acc = {k: float(v.mean()) for k, v in right.items()}
    test = mcnemar_one_sided(right["candidate"], right["incumbent"])
    t = timing[form]
    size_ok = files[form].stat().st_size < 500_000
    time_ok = t["median_ms"] <= 0.4
    kept = acc["candidate"] > acc["incumbent"] and test["p_one_sided"] < 0.10 and size_ok and time_ok
    record = {
        "images": len(y),
        "form": form,
        "accuracy": acc,
        "incumbent_from_card": INCUMBENT_PUBLIC,
        "mcnemar_candidate_vs_incumbent": test,
        "mcnemar_control_vs_incumbent": mcnemar_one_sided(right["control"], right["incumbent"]),
        "mcnemar_candidate_vs_control": mcnemar_one_sided(right["candidate"], right["control"]),
        "size_bytes": files[form].stat().st_size,
        "invoke_median_ms": t["median_ms"],
        "conditions": {
            "higher": acc["candidate"] > acc["incumbent"],
            "p_below_0.10": test["p_one_sided"] < 0.10,
            "under_500KB": size_ok,
            "at_most_0.4ms": time_ok,
        },
        "kept": kept,
    }
    (out / "select.json").write_text(json.dumps(record, indent=2) + "\n")
    click.echo(json.dumps(record, indent=2))


@cli.command()
@click.option("--data", type=click.Path(exists=True, path_type=Path), required=True)
@click.option("--out", type=click.Path(path_type=Path), default=Path("runs/edge10-mirror"), show_default=True)
def private(data: Path, out: Path) -> None:
    """PrivateTest, once, for the chosen form (and the shipped edge10 beside it, on the same images)."""
    from fer_edge.metrics import classification_metrics

    if (out / "private.json").exists():
        raise click.ClickException(f"{out / 'private.json'} exists: PrivateTest is scored once")
    form = json.loads((out / "timing.json").read_text())["chosen_form"]
    priv = _load(data, "PrivateTest")
    y = priv.labels
    p_cand = _raw_probs(_files(out)[form], priv.images)
    p_inc = _raw_probs(DEFAULT_MODEL, priv.images)
    m = classification_metrics(y, p_cand)
    record = {
        "form": form,
        "images": len(y),
        "accuracy": m["accuracy"],
        "macro_f1": m["macro_f1"],
        "incumbent_accuracy": float((p_inc.argmax(1) == y).mean()),
        "mcnemar_candidate_vs_incumbent": mcnemar_one_sided(p_cand.argmax(1) == y, p_inc.argmax(1) == y),
    }
    (out / "private.json").write_text(json.dumps(record, indent=2) + "\n")
    click.echo(json.dumps(record, indent=2))


@cli.command()
@click.option("--data", type=click.Path(exists=True, path_type=Path), required=True)
@click.option("--out", type=click.Path(path_type=Path), default=Path("runs/edge10-mirror"), show_default=True)
def ship(data: Path, out: Path) -> None:
    """Copy the kept candidate to the shipped default with its card (metrics of the same deterministic
    predictions `select` and `private` scored; nothing is chosen here). Refuses unless `select` kept it."""
    from fer_edge.metrics import classification_metrics
    from fer_edge.model_card import ModelCard

    chosen = json.loads((out / "select.json").read_text())
    private_record = json.loads((out / "private.json").read_text())
    if not chosen["kept"]:
        raise click.ClickException("select did not keep the candidate: nothing to ship")
    form = chosen["form"]
    src = _files(out)[form]
    timing = json.loads((out / "timing.json").read_text())[form]
    card = ModelCard.load(src)
    previous = ModelCard.load(DEFAULT_MODEL)
    metrics = {
        "params": previous.metrics.get("params"),
        "macs_per_face": previous.metrics.get("macs"),
        "macs": 2 * previous.metrics.get("macs", 0),
        "size_bytes": src.stat().st_size,
    }
    for usage in ("PublicTest", "PrivateTest"):
        ds = _load(data, usage)
        m = classification_metrics(ds.labels, _raw_probs(src, ds.images))
        metrics[usage] = {"accuracy": m["accuracy"], "macro_f1": m["macro_f1"], "n": m["n"]}
        if usage == "PrivateTest":
            assert abs(m["accuracy"] - private_record["accuracy"]) < 1e-12, "PrivateTest differs from private.json"
            metrics["PrivateTest_per_class_recall"] = m["per_class_recall"]
    metrics["invoke_ms_median_1_thread"] = round(timing["median_ms"], 4)
    metrics["invoke_measured_on"] = previous.metrics.get("invoke_measured_on", "") + " (train.edge_mirror time)"
    metrics["edge10_without_mirror"] = {
        k: previous.metrics[k] for k in ("PublicTest", "PrivateTest") if k in previous.metrics
    }
    card.metrics = {**metrics, "verification": card.metrics.get("verification")}
    card.training = {
        **previous.training,
        "how_chosen": [
            *previous.training.get("how_chosen", []),
            f"edge10-mirror: edge10's weights (rebuilt from its int8 file) in a graph averaging face and mirror "
            f"(form {form}, chosen on invoke time); kept by train/edge/selection.md (sixth amendment) on int8 "
            f"PublicTest {100 * chosen['accuracy']['candidate']:.2f} % vs edge10 {100 * chosen['accuracy']['incumbent']:.2f} % "
            f"(exact McNemar one-sided p = {chosen['mcnemar_candidate_vs_incumbent']['p_one_sided']:.3f}); PrivateTest scored once.",
        ],
        "command": previous.training.get("command", "")
        + " && python -m train.edge_mirror build --data /work/shared/data/fer2013 --out runs/edge10-mirror"
        " && python -m train.edge_mirror time && python -m train.edge_mirror select --data /work/shared/data/fer2013"
        " && python -m train.edge_mirror private --data /work/shared/data/fer2013"
        " && python -m train.edge_mirror ship --data /work/shared/data/fer2013",
    }
    card.notes = {k: v for k, v in card.notes.items() if k not in ("source_model",)}
    card.temperature, card.ece = 1.0, {}  # refitted by `fer-edge evaluate --calibrate-on PublicTest --write-card`
    shutil.copy(src, DEFAULT_MODEL)
    card.save(DEFAULT_MODEL)
    click.echo(f"shipped {src} -> {DEFAULT_MODEL} ({src.stat().st_size:,} bytes); now refit its temperature")


@cli.command()
@click.option("--records", type=click.Path(exists=True, path_type=Path), default=RESULTS / "mirror", show_default=True)
@click.option(
    "--weights",
    type=click.Path(exists=True, path_type=Path),
    default=RESULTS / "previous-edge10-metrics.json",
    show_default=True,
    help="The training record of the weights the mirror graph holds (edge10's `train.edge_model report`).",
)
@click.option("--out", type=click.Path(path_type=Path), default=RESULTS / "metrics.json", show_default=True)
def record(records: Path, weights: Path, out: Path) -> None:
    """Write the shipped mirror model's metrics record from timing/select/private.json, the shipped card
    and its weights' training record. Nothing is measured here; every figure is copied from those files."""
    import hashlib

    from fer_edge.atomic import write_text
    from fer_edge.model_card import ModelCard

    chosen = json.loads((records / "select.json").read_text())
    private_record = json.loads((records / "private.json").read_text())
    form = chosen["form"]
    timing = json.loads((records / "timing.json").read_text())[form]
    trained = json.loads(weights.read_text())
    card = ModelCard.load(DEFAULT_MODEL)
    if card is None or card.metrics.get("size_bytes") != DEFAULT_MODEL.stat().st_size:
        raise click.ClickException(f"{DEFAULT_MODEL}: its card does not describe it; ship the mirror model first")
    m = card.metrics
    metrics = {
        "model": f"edge10-mirror ({form})",
        "architecture": card.architecture,
        "graph": card.notes.get("mirror_average") or f"mean(model(face), model(horizontal mirror)), form {form}",
        "weights": f"edge10's, rebuilt from its int8 file; how they were trained: {weights.name}",
        "shipped_file": str(DEFAULT_MODEL.relative_to(RESULTS.parents[1])),
        "sha256": hashlib.sha256(DEFAULT_MODEL.read_bytes()).hexdigest(),
        "int8_size_bytes": DEFAULT_MODEL.stat().st_size,
        "params": m["params"],
        "macs_per_face": m["macs_per_face"],
        "macs": m["macs"],
        "int8_invoke": {**timing, "how": "python -m train.edge_mirror time (interleaved with the other forms)"},
        "int8_verification": m.get("verification"),
        "data": trained["data"],
        "protocol": trained["protocol"],
        "fit": trained["fit"],
        "results": {
            "int8_PublicTest": m["PublicTest"],
            "int8_PrivateTest": {**m["PrivateTest"], "per_class_recall": m["PrivateTest_per_class_recall"]},
        },
        "edge10_without_mirror": m.get("edge10_without_mirror", {}),
        "selection": {
            "rule": "train/edge/selection.md, sixth amendment",
            "PublicTest": chosen["accuracy"],
            "mcnemar_vs_edge10_PublicTest": chosen["mcnemar_candidate_vs_incumbent"],
            "conditions": chosen["conditions"],
            "kept": chosen["kept"],
        },
        "mcnemar_vs_edge10_PrivateTest": private_record["mcnemar_candidate_vs_incumbent"],
        "calibration": {"temperature": card.temperature, "ece": card.ece},
        "notes": [
            *trained.get("notes", []),
            *card.training.get("how_chosen", [])[1:],
            "history.csv, curves.png and confusion_private_int8.png in this folder are edge10's training run and "
            "its int8 PrivateTest confusion without the mirror (the shipped graph holds those weights).",
        ],
        "commands": [
            *trained.get("commands", []),
            "python -m train.edge_model ship --run runs/edge10 --force",
            "mv train/edge/metrics.json train/edge/previous-edge10-metrics.json",
            "python -m train.edge_mirror build --data /work/shared/data/fer2013 --out runs/edge10-mirror",
            "python -m train.edge_mirror time",
            "python -m train.edge_mirror select --data /work/shared/data/fer2013",
            "python -m train.edge_mirror private --data /work/shared/data/fer2013",
            "python -m train.edge_mirror ship --data /work/shared/data/fer2013",
            "fer-edge evaluate fer_edge/assets/models/default.tflite --data /work/shared/data/fer2013 --usage PrivateTest"
            " --calibrate-on PublicTest --latency-runs 0 --write-card --out train/edge/calibration --force",
            "cp runs/edge10-mirror/{timing,select,private}.json train/edge/mirror/",
            "python -m train.edge_mirror record",
        ],
    }
    write_text(out, json.dumps(metrics, indent=2) + "\n")
    click.echo(f"{out}: {metrics['model']}, int8 PrivateTest {100 * m['PrivateTest']['accuracy']:.2f} %", err=True)


if __name__ == "__main__":
    from fer_edge.errors import run_command

    sys.exit(run_command(cli, prog_name="python -m train.edge_mirror"))
