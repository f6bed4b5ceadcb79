"""Recipe for fer-edge's shipped default model, ``edge-cnn-wide``: every number of the protocol is here.

Protocol: fer-edge's own ``fit`` on FER-2013 ``Training`` (minus the files whose identical pixels
appear under two or more labels), model selection and early stopping on ``PublicTest``, scored
once on ``PrivateTest`` at the end, through the int8 ``.tflite`` and the runtime interpreter.

Run from the repository root (``train`` is a namespace package):

    python -m train.edge_model train  --data /work/shared/data/fer2013 --run runs/edge
    python -m train.edge_model select --data /work/shared/data/fer2013 --run runs/edge --run runs/other
    python -m train.edge_model report --data /work/shared/data/fer2013 --run runs/edge
    python -m train.edge_model ship   --run runs/edge --force

``train`` writes ``RUN/<architecture>.keras`` (and keeps ``RUN/best.keras``, the best model so far, so
an interrupted run still leaves one); ``report`` converts it to int8, scores float and int8 on
both test splits, times the int8 invoke and writes ``train/edge/`` (metrics JSON, history CSV,
figures); ``ship`` copies the int8 file to ``fer_edge/assets/models/default.tflite`` with its card.

Other candidates ``train`` can make: ``--init RUN/x.keras`` starts from a trained model (a warm
restart), ``--average-from N`` averages the weights of epochs N.. at a constant rate (SWA), and
``--teacher T.keras`` or ``T.tflite`` (repeatable) mixes those models' mirror-averaged Training probabilities into
the targets (distillation, ``--distill-weight``); ``teachers`` puts the earlier shipped int8 models that
``train/edge/teachers.json`` names (with their sha256) into ``runs/teachers`` for that. ``select`` scores candidates on int8 PublicTest
only; ``train/edge/selection.md`` is the rule that picks the shipped one.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
from pathlib import Path
from typing import Any

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import click  # noqa: E402
import numpy as np  # noqa: E402

from fer_edge.atomic import write_text  # noqa: E402
from fer_edge.convert.keras_file import file_sha256  # noqa: E402
from fer_edge.data import FerDataset, load_dataset  # noqa: E402
from fer_edge.errors import FerEdgeError  # noqa: E402

ARCHITECTURE = "edge-cnn-wide"  # the earlier default, edge-cnn, is still registered (--arch edge-cnn)
SEED = 0
#: The training protocol (fer_edge.training.fit.TrainConfig fields).
PROTOCOL: dict[str, Any] = {
    "epochs": 60,  # ~50-85 s per epoch on 2 cores here: about 1 h 10 min
    "batch_size": 64,
    "learning_rate": 2e-3,
    "lr_schedule": "cosine",  # linear warm-up, then cosine decay to min_lr at the last epoch
    "warmup_epochs": 2,
    "min_lr": 1e-5,
    "weight_decay": 5e-3,  # AdamW
    "label_smoothing": 0.1,
    "augment": True,  # flip, <=10 % shift, <=~11 degree rotation, brightness/contrast
    "monitor": "val_accuracy",  # PublicTest accuracy selects the restored weights
    "patience": 12,
    "checkpoint": True,
    "seed": SEED,
    "verbose": 2,
}
DROP_CONFLICTING = True  # Training files whose identical pixels carry two or more labels
CALIBRATION_SAMPLES = 500  # stratified Training images for int8 calibration
LATENCY_WARMUP, LATENCY_INVOKES = 200, 3000  # single-image int8 invoke, one thread
REPO = Path(__file__).resolve().parents[1]
RESULTS = REPO / "train" / "edge"
ASSET = REPO / "fer_edge" / "assets" / "models" / "default.tflite"
#: Earlier shipped defaults, used as distillation teachers: names, sha256 and where each came from.
TEACHERS_MANIFEST = RESULTS / "teachers.json"


def shipped_teachers(manifest: Path = TEACHERS_MANIFEST) -> dict[str, dict[str, Any]]:
    """The manifest's teachers by name (``edge2_int8`` ...): sha256, card_sha256, size_bytes, origin."""
    try:
        raw = json.loads(Path(manifest).read_text())
        return {t["name"]: t for t in raw["teachers"]}
    except (OSError, json.JSONDecodeError, KeyError, TypeError) as e:
        raise FerEdgeError(
            f"{manifest}: not a teachers manifest ({type(e).__name__}: {e}); restore it from git"
        ) from None


def splits(data: Path) -> tuple[FerDataset, FerDataset, FerDataset, dict[str, Any]]:
    """Training (conflicts dropped), PublicTest, PrivateTest, and what was dropped."""
    from fer_edge.data.audit import conflict_mask, pixel_groups

    ds = load_dataset(data)
    train = ds.with_usage("Training")
    public, private = ds.with_usage("PublicTest"), ds.with_usage("PrivateTest")
    if not (len(train) and len(public) and len(private)):
        raise FerEdgeError(f"{data}: needs Training, PublicTest and PrivateTest images (FER-2013 file prefixes)")
    info: dict[str, Any] = {"training_files": len(train), "public_test": len(public), "private_test": len(private)}
    if DROP_CONFLICTING:
        groups = pixel_groups(train.images)
        conflicting = conflict_mask(groups, train.labels)
        info["dropped_conflicting_files"] = int(conflicting.sum())
        info["dropped_conflicting_images"] = int(len(np.unique(groups[conflicting])))
        train = train.subset(~conflicting)
    info["training_used"] = len(train)
    return train, public, private, info


@click.group()
def cli() -> None:
    """Train, report and ship fer-edge's edge model."""


@cli.command()
@click.option("--data", type=click.Path(exists=True, path_type=Path), required=True)
@click.option("--run", "run_dir", type=click.Path(path_type=Path), default=Path("runs/edge"), show_default=True)
@click.option(
    "--epochs",
    type=int,
    default=None,
    help="Override the protocol's epochs (the cosine cycle's length; small values for smoke tests).",
)
@click.option("--limit", type=int, default=None, help="Use only the first N training images (smoke tests only).")
@click.option(
    "--init",
    type=click.Path(exists=True, path_type=Path),
    default=None,
    help="Start from this trained .keras of the same architecture (a second cosine cycle, a warm restart).",
)
@click.option("--learning-rate", type=float, default=None, help="Override the protocol's peak learning rate.")
@click.option(
    "--patience",
    type=int,
    default=None,
    help="Override the protocol's early-stopping patience (set it to --epochs to run the whole cosine cycle).",
)
@click.option("--arch", default=ARCHITECTURE, show_default=True, help="Registered edge architecture to train.")
@click.option(
    "--average-from",
    type=int,
    default=None,
    help="Weight averaging (SWA) at a constant learning rate: average the epochs from this one (1-based) on.",
)
@click.option(
    "--teacher",
    "teachers",
    multiple=True,
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="A trained .keras or .tflite whose (mirror-averaged) Training probabilities join the targets; repeatable.",
)
@click.option("--distill-weight", type=float, default=0.5, show_default=True, help="The teachers' share of a target.")
def train(
    data: Path,
    run_dir: Path,
    epochs: int | None,
    limit: int | None,
    init: Path | None,
    learning_rate: float | None,
    patience: int | None,
    arch: str,
    average_from: int | None,
    teachers: tuple[Path, ...],
    distill_weight: float,
) -> None:
    """Fit the edge model on Training, select on PublicTest; writes RUN/<arch>.keras and RUN/fit.json."""
    import keras

    from fer_edge.models import build_model
    from fer_edge.training.fit import TrainConfig, fit

    tr, public, _, info = splits(data)
    if limit:
        tr = tr.subset(np.random.default_rng(SEED).permutation(len(tr))[:limit])
        info["training_used"] = len(tr)
    overrides: dict[str, Any] = {"epochs": epochs, "learning_rate": learning_rate, "patience": patience}
    if average_from:
        overrides |= {"lr_schedule": "constant", "average_from_epoch": average_from}
    soft = None
    if teachers:
        soft = teacher_probabilities(teachers, tr.images)
        overrides["distill_weight"] = distill_weight
        info["teachers"] = [str(t) for t in teachers]
        info["teacher_training_accuracy"] = float((soft.argmax(1) == tr.labels).mean())
    config = TrainConfig(**{**PROTOCOL, **{k: v for k, v in overrides.items() if v is not None}})
    keras.utils.set_random_seed(SEED)
    model = build_model(arch)
    if init is not None:
        model.set_weights(keras.models.load_model(init, compile=False).get_weights())
        info["initialised_from"] = str(init)
    print(f"{arch}: {model.count_params():,} params; data {info}; {config}", flush=True)
    run_dir.mkdir(parents=True, exist_ok=True)
    (run_dir / "started.json").write_text(json.dumps({"architecture": arch, "argv": sys.argv[1:]}) + "\n")
    result = fit(model, tr.images, tr.labels, public.images, public.labels, config, out_dir=run_dir, soft_targets=soft)
    model.save(run_dir / f"{arch}.keras")
    summary = {
        "architecture": arch,
        "params": model.count_params(),
        "data": info,
        "command": "python -m train.edge_model " + " ".join(sys.argv[1:]),
        **result.as_dict(),
    }
    (run_dir / "fit.json").write_text(json.dumps(summary, indent=2) + "\n")
    print(json.dumps(summary, indent=2), flush=True)


def teacher_probabilities(teachers: tuple[Path, ...], images: np.ndarray) -> np.ndarray:
    """The teachers' mean probabilities for each image and its mirror image (N, 7)."""
    import keras

    from fer_edge.training.fit import predict_proba

    mirrored = images[:, :, ::-1]
    total = np.zeros((len(images), 7), np.float64)
    for path in teachers:
        if path.suffix == ".tflite":  # a shipped int8 model, through the runtime interpreter
            total += int8_probs(path, images) + int8_probs(path, mirrored)
            continue
        teacher = keras.models.load_model(path, compile=False)
        total += predict_proba(teacher, images) + predict_proba(teacher, mirrored)
    return (total / (2 * len(teachers))).astype(np.float32)


def run_architecture(run_dir: Path) -> str:
    """The architecture a run trained (RUN/fit.json, or started.json while it runs; else the recipe's default)."""
    for name in ("fit.json", "started.json"):
        if (run_dir / name).is_file():
            return json.loads((run_dir / name).read_text()).get("architecture", ARCHITECTURE)
    return ARCHITECTURE


def trained_model(run_dir: Path) -> Path:
    """The finished model, else the best checkpoint of an interrupted run."""
    arch = run_architecture(run_dir)
    for name in (f"{arch}.keras", "best.keras"):
        if (run_dir / name).is_file():
            return run_dir / name
    raise FerEdgeError(f"{run_dir}: no {arch}.keras or best.keras; run `python -m train.edge_model train` first")


def fit_record(run_dir: Path) -> dict[str, Any]:
    """RUN/fit.json; for an unfinished run (only best.keras so far) what its history.csv says."""
    if (run_dir / "fit.json").is_file():
        return json.loads((run_dir / "fit.json").read_text())
    if not (run_dir / "history.csv").is_file():
        return {}
    import pandas as pd

    h = pd.read_csv(run_dir / "history.csv")
    monitor = PROTOCOL["monitor"]
    best = int(h[monitor].idxmax() if "acc" in monitor else h[monitor].idxmin())
    return {
        "epochs_run": len(h),
        "best_epoch": best + 1,
        "note": f"unfinished run: best.keras after {len(h)} of {PROTOCOL['epochs']} epochs",
    }


def upstream_commands(fit_summary: dict[str, Any], data_path: Path) -> list[str]:
    """The commands that made the runs this one started from (--init) or learned from (--teacher), in order."""
    data = fit_summary.get("data", {})
    commands: list[str] = []
    for source in [data.get("initialised_from"), *data.get("teachers", [])]:
        if source and Path(source).stem in shipped_teachers() and Path(source).suffix == ".tflite":
            command = f"python -m train.edge_model teachers --out {Path(source).parent}"
            if command not in commands:
                commands.append(command)
            continue
        record = Path(source).parent / "fit.json" if source else None
        if record is None or not record.is_file():
            continue
        earlier = json.loads(record.read_text())
        own = earlier.get("command") or (  # runs from before fit.json kept the command
            f"python -m train.edge_model train --data {data_path} --run {record.parent} "
            f"--arch {earlier.get('architecture', ARCHITECTURE)} --epochs {earlier.get('config', {}).get('epochs')}"
        )
        if "--arch" not in own:  # runs from before --arch existed trained the then-default edge-cnn
            own += f" --arch {earlier.get('architecture', ARCHITECTURE)}"
        for command in [*upstream_commands(earlier, data_path), own]:
            if command and command not in commands:
                commands.append(command)
    return commands


def int8_probs(path: Path, images: np.ndarray) -> np.ndarray:
    """Single-image invokes through the runtime path (quantization handled by TfliteModel)."""
    from fer_edge.runtime.interpreter import TfliteModel
    from fer_edge.runtime.model_file import to_channels

    m = TfliteModel(path, num_threads=1)
    x = to_channels(images, 1)
    return np.concatenate([m.run(x[i : i + 1])[0] for i in range(len(x))])


def invoke_latency(path: Path) -> dict[str, Any]:
    """Median and p95 of single-image int8 invokes on one thread."""
    from fer_edge.runtime.interpreter import TfliteModel
    from fer_edge.runtime.model_file import time_invokes

    m = TfliteModel(path, num_threads=1)
    ms = time_invokes([(m, np.zeros(m.input.shape, m.input.dtype))], LATENCY_INVOKES, LATENCY_WARMUP)[0]
    return {
        "invokes": LATENCY_INVOKES,
        "threads": 1,
        "backend": f"{m.backend} {m.backend_version}",
        "median_ms": float(np.median(ms)),
        "p95_ms": float(np.percentile(ms, 95)),
    }


def figures(history_csv: Path, confusion: list[list[int]], out: Path, arch: str = ARCHITECTURE) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import pandas as pd

    from fer_edge.labels import EMOTIONS

    h = pd.read_csv(history_csv)
    fig, axes = plt.subplots(1, 2, figsize=(10, 3.8))
    for ax, key in zip(axes, ("loss", "accuracy")):
        ax.plot(h["epoch"] + 1, h[key], label="Training (augmented)")
        ax.plot(h["epoch"] + 1, h[f"val_{key}"], label="PublicTest")
        ax.set_xlabel("epoch")
        ax.set_title(key)
        ax.grid(alpha=0.3)
    axes[1].legend()
    fig.tight_layout()
    fig.savefig(out / "curves.png", dpi=100)
    plt.close(fig)
    cm = np.asarray(confusion, dtype=float)
    norm = cm / np.maximum(cm.sum(axis=1, keepdims=True), 1)
    fig, ax = plt.subplots(figsize=(5.5, 4.8))
    ax.imshow(norm, cmap="Blues", vmin=0, vmax=1)
    ax.set_xticks(range(7), EMOTIONS, rotation=45)
    ax.set_yticks(range(7), EMOTIONS)
    for i in range(7):
        for j in range(7):
            ax.text(
                j, i, f"{norm[i, j]:.2f}", ha="center", va="center", fontsize=7, color="w" if norm[i, j] > 0.5 else "k"
            )
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    ax.set_title(f"{arch} int8, FER-2013 PrivateTest (row-normalized)")
    fig.tight_layout()
    fig.savefig(out / "confusion_private_int8.png", dpi=100)
    plt.close(fig)


@cli.command()
@click.argument("files", nargs=-1, type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--out", type=click.Path(file_okay=False, path_type=Path), default=Path("runs/teachers"), show_default=True
)
@click.option("--manifest", type=click.Path(path_type=Path), default=TEACHERS_MANIFEST, show_default=True)
def teachers(files: tuple[Path, ...], out: Path, manifest: Path) -> None:
    """Put the earlier shipped int8 models named in train/edge/teachers.json into OUT, to use as --teacher.

    FILES (.tflite models and their .json cards, from wherever you have them) are copied to
    OUT/<name> when their sha256 matches a teacher in the manifest; then every teacher in OUT is
    verified against its sha256. A missing or altered teacher is an error naming where it came from.
    """
    from fer_edge.atomic import atomic_path

    known = shipped_teachers(manifest)
    by_sha = {t["sha256"]: (name, ".tflite") for name, t in known.items()}
    by_sha.update({t["card_sha256"]: (name, ".json") for name, t in known.items() if t.get("card_sha256")})
    for path in files:
        match = by_sha.get(file_sha256(path))
        if match is None:
            raise FerEdgeError(f"{path}: its sha256 matches no teacher in {manifest}; give the files it names")
        name, suffix = match
        with atomic_path(out / f"{name}{suffix}", force=True) as tmp:
            shutil.copyfile(path, tmp)
        print(f"{out / name}{suffix}  <- {path}")
    for name, t in known.items():
        model, card = out / f"{name}.tflite", out / f"{name}.json"
        if not model.is_file():
            raise FerEdgeError(f"{model}: missing; it is {t['origin']}: pass that file to this command")
        if file_sha256(model) != t["sha256"]:
            raise FerEdgeError(f"{model}: sha256 differs from {manifest}'s; it should be {t['origin']}")
        if card.is_file() and t.get("card_sha256") and file_sha256(card) != t["card_sha256"]:
            raise FerEdgeError(f"{card}: sha256 differs from {manifest}'s card; delete it or pass the right card")
        print(f"{model}  sha256 ok ({t['sha256'][:12]})")


@cli.command()
@click.option("--data", type=click.Path(exists=True, path_type=Path), required=True)
@click.option(
    "--run", "run_dirs", type=click.Path(exists=True, file_okay=False, path_type=Path), multiple=True, required=True
)
@click.option("--force", is_flag=True, help="Replace an existing int8 file in RUN/tflite.")
def select(data: Path, run_dirs: tuple[Path, ...], force: bool) -> None:
    """Score candidate runs on PublicTest only (int8, runtime path): the selection rule's number.

    PrivateTest is not loaded into any model here, so choosing between runs never sees it.
    """
    from fer_edge.convert import convert_model
    from fer_edge.metrics import classification_metrics

    tr, public, _, _ = splits(data)
    rows = []
    for run_dir in run_dirs:
        (converted,) = convert_model(
            trained_model(run_dir),
            run_dir / "tflite",
            ("int8",),
            calibration=tr,
            samples=CALIBRATION_SAMPLES,
            int8_io="int8",
            force=force,
        )
        scores = classification_metrics(public.labels, int8_probs(converted.path, public.images))
        rows.append((run_dir, scores["accuracy"], scores["macro_f1"], converted.size_bytes))
    for run_dir, accuracy, macro_f1, size in sorted(rows, key=lambda r: -r[1]):
        print(
            f"{str(run_dir):<16} int8 PublicTest accuracy {100 * accuracy:.2f} %  macro F1 {100 * macro_f1:.2f} %  "
            f"{size / 1024:.1f} KB"
        )


@cli.command()
@click.option("--data", type=click.Path(exists=True, path_type=Path), required=True)
@click.option("--run", "run_dir", type=click.Path(path_type=Path), default=Path("runs/edge"), show_default=True)
@click.option("--out", type=click.Path(path_type=Path), default=RESULTS, show_default=True)
@click.option("--force", is_flag=True, help="Replace an existing int8 file in RUN/tflite.")
@click.option("--note", "notes", multiple=True, help="A sentence kept in metrics.json (say how the run was chosen).")
def report(data: Path, run_dir: Path, out: Path, force: bool, notes: tuple[str, ...]) -> None:
    """Convert to int8, score float and int8 on PublicTest and (once) PrivateTest, time the invoke."""
    import keras

    from fer_edge.convert import convert_model
    from fer_edge.metrics import classification_metrics
    from fer_edge.models.edge import count_macs
    from fer_edge.training.fit import predict_proba

    tr, public, private, info = splits(data)
    model_path = trained_model(run_dir)
    model = keras.models.load_model(model_path)
    (converted,) = convert_model(
        model_path,
        run_dir / "tflite",
        ("int8",),
        calibration=tr,
        samples=CALIBRATION_SAMPLES,
        int8_io="int8",
        force=force,
    )
    results: dict[str, Any] = {}
    for split, ds in (("PublicTest", public), ("PrivateTest", private)):
        results[f"float32_{split}"] = classification_metrics(ds.labels, predict_proba(model, ds.images))
        results[f"int8_{split}"] = classification_metrics(ds.labels, int8_probs(converted.path, ds.images))
    fit_summary = fit_record(run_dir)
    commands = [
        *upstream_commands(fit_summary, data),
        fit_summary.get("command", f"python -m train.edge_model train --data {data} --run {run_dir}"),
    ]
    metrics = {
        "architecture": run_architecture(run_dir),
        "model_file": model_path.name,
        "params": int(model.count_params()),
        "macs": count_macs(model),
        "int8_file": str(converted.path),
        "int8_size_bytes": converted.size_bytes,
        "int8_ops": converted.op_types,
        "int8_verification": converted.verification,
        "int8_invoke": invoke_latency(converted.path),
        "data": fit_summary.get("data", info),
        "protocol": fit_summary.get("config", PROTOCOL),
        "drop_conflicting": DROP_CONFLICTING,
        "calibration_samples": CALIBRATION_SAMPLES,
        "fit": {
            k: v
            for k, v in fit_summary.items()
            if k in ("best_epoch", "epochs_run", "seconds", "seconds_per_epoch", "note")
        },
        "results": results,
        "notes": list(notes),
        "commands": [
            *commands,
            f"python -m train.edge_model report --data {data} --run {run_dir}"
            + ("" if out == RESULTS else f" --out {out}")
            + (" --force" if force else ""),
        ],
    }
    out.mkdir(parents=True, exist_ok=True)
    write_text(out / "metrics.json", json.dumps(metrics, indent=2) + "\n")
    if (run_dir / "history.csv").is_file():
        shutil.copyfile(run_dir / "history.csv", out / "history.csv")
        figures(out / "history.csv", results["int8_PrivateTest"]["confusion_matrix"], out, metrics["architecture"])
    for key in ("float32_PublicTest", "int8_PublicTest", "float32_PrivateTest", "int8_PrivateTest"):
        r = results[key]
        print(f"{key:<20} accuracy {100 * r['accuracy']:.2f} %  macro F1 {100 * r['macro_f1']:.2f} %")
    inv = metrics["int8_invoke"]
    print(
        f"params {metrics['params']:,}  MACs {metrics['macs'] / 1e6:.1f} M  int8 {converted.size_bytes / 1024:.1f} KB  "
        f"invoke median {inv['median_ms']:.3f} ms (p95 {inv['p95_ms']:.3f}) on 1 thread"
    )


@cli.command()
@click.option("--run", "run_dir", type=click.Path(path_type=Path), default=Path("runs/edge"), show_default=True)
@click.option("--metrics", "metrics_path", type=click.Path(path_type=Path), default=RESULTS / "metrics.json")
@click.option("--dest", type=click.Path(path_type=Path), default=ASSET, show_default=True)
@click.option("--force", is_flag=True, help="Replace the shipped default model.")
def ship(run_dir: Path, metrics_path: Path, dest: Path, force: bool) -> None:
    """Copy the reported int8 file to the package's default model and write its model card."""
    from fer_edge.atomic import atomic_path
    from fer_edge.model_card import ModelCard
    from fer_edge.runtime.interpreter import TfliteModel

    if not metrics_path.is_file():
        raise FerEdgeError(f"{metrics_path}: no metrics; run `python -m train.edge_model report` first")
    metrics = json.loads(metrics_path.read_text())
    if "int8_file" not in metrics:
        raise FerEdgeError(
            f"{metrics_path}: not a `train.edge_model report` record (the shipped mirror model's, written by "
            "`python -m train.edge_mirror record`?); run `report` for your run first, or give --metrics"
        )
    src = Path(metrics["int8_file"])
    m = TfliteModel(src)
    private, public = metrics["results"]["int8_PrivateTest"], metrics["results"]["int8_PublicTest"]
    fit_info, data = metrics["fit"], metrics["data"]
    card = ModelCard(
        architecture=metrics["architecture"],
        input_shape=[48, 48, 1],
        precision="int8",
        input_dtype=m.input.dtype.name,
        output_dtype=m.outputs[0].dtype.name,
        training={
            "data": "FER-2013 (Kaggle ICML 2013 challenge), directory form train/ + test/",
            "train_split": f"Training: {data['training_used']:,} images ({data['training_files']:,} minus "
            f"{data.get('dropped_conflicting_files', 0)} files whose identical pixels carry two or more labels, "
            f"{data.get('dropped_conflicting_images', 0)} distinct images)",
            "selection_split": f"PublicTest ({data['public_test']:,}): early stopping and best-epoch selection",
            "test_split": f"PrivateTest ({data['private_test']:,}): scored once at the end",
            "protocol": metrics["protocol"],
            "epochs_run": fit_info.get("epochs_run"),
            "best_epoch": fit_info.get("best_epoch"),
            **({"note": fit_info["note"]} if "note" in fit_info else {}),
            **(
                {
                    "distillation": {
                        "teachers": data["teachers"],
                        "teachers_share_of_target": metrics["protocol"].get("distill_weight"),
                        "teacher_mean_training_accuracy": round(data["teacher_training_accuracy"], 4),
                        "teacher_files": "earlier shipped fer-edge int8 models, named with their sha256 in "
                        "train/edge/teachers.json (train/edge/selection.md, third and fifth amendments)",
                    }
                }
                if data.get("teachers")
                else {}
            ),
            **({"how_chosen": metrics["notes"]} if metrics.get("notes") else {}),
            "seed": SEED,
            "calibration": f"{metrics['calibration_samples']} stratified Training images",
            "command": " && ".join(
                [
                    *metrics["commands"],
                    f"python -m train.edge_model ship --run {run_dir}"
                    + ("" if metrics_path == RESULTS / "metrics.json" else f" --metrics {metrics_path}")
                    + (" --force" if force else ""),
                ]
            ),
        },
        metrics={
            "params": metrics["params"],
            "macs": metrics["macs"],
            "size_bytes": metrics["int8_size_bytes"],
            "PrivateTest": {"accuracy": private["accuracy"], "macro_f1": private["macro_f1"], "n": private["n"]},
            "PublicTest": {"accuracy": public["accuracy"], "macro_f1": public["macro_f1"], "n": public["n"]},
            "PrivateTest_per_class_recall": private["per_class_recall"],
            "float32_PrivateTest_accuracy": metrics["results"]["float32_PrivateTest"]["accuracy"],
            "invoke_ms_median_1_thread": round(metrics["int8_invoke"]["median_ms"], 4),
            "invoke_measured_on": "x86_64 AMD EPYC (2 shared cores), " + metrics["int8_invoke"]["backend"],
        },
        notes={
            "limitations": "48x48 grayscale face crops only (the runtime detects, crops and resizes faces first); "
            "FER-2013 labels are one annotator's guess per image and many are ambiguous or posed (its authors "
            "put human accuracy at about 65 %); accuracy on your camera, lighting and people will differ from the "
            "PrivateTest figure. Recall is lowest for fear, sad and disgust (see PrivateTest_per_class_recall).",
            "bias": "Trained only on FER-2013: faces scraped from web image search, mostly frontal; its "
            "demographic make-up was never recorded and may be skewed, and bias across age, gender or skin tone "
            "has NOT been measured for this model. Classes are imbalanced (happy ~25 %, disgust ~1.5 % of "
            "Training), so 'disgust' has the fewest examples to learn from. Expressions are not emotions: a label says what a face "
            "looks like, not what a person feels. Do not use it for decisions about people.",
            "privacy": "Runs entirely on the device: frames and faces are processed in memory and never stored "
            "or sent anywhere unless you ask (`fer-edge camera --record`, or an output path for `predict`).",
        },
    )
    dest.parent.mkdir(parents=True, exist_ok=True)
    with atomic_path(dest, force=force) as tmp:
        shutil.copyfile(src, tmp)
    card.save(dest)
    print(
        f"shipped {src} -> {dest} ({dest.stat().st_size / 1024:.1f} KB), PrivateTest {100 * private['accuracy']:.2f} %"
    )


if __name__ == "__main__":
    from fer_edge.errors import run_command

    sys.exit(run_command(cli, prog_name="python -m train.edge_model"))
