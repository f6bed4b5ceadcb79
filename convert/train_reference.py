"""Train the two paper-1 architectures on FER-2013 for the quantization report (not the factorial).

Protocol: fer_edge.training.fit with its defaults (Adam 1e-3, batch 64, EarlyStopping on
val_loss with patience 5 and best weights restored, ReduceLROnPlateau) on the ``Training``
usage; ``PublicTest`` is the validation set; ``PrivateTest`` is never touched here (it is the
held-out split the report evaluates on). Writes ``OUT/<arch>/model.keras`` with its card.

    python convert/train_reference.py --data /work/shared/data/fer2013 --out runs/convert-ref \\
        --arch paper1-cnn --arch paper1-cnn-lstm
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import click  # noqa: E402

from fer_edge.atomic import atomic_path  # noqa: E402
from fer_edge.data import load_dataset  # noqa: E402
from fer_edge.model_card import ModelCard  # noqa: E402

SEED = 0


@click.command()
@click.option("--data", type=click.Path(exists=True, path_type=Path), required=True)
@click.option("--out", type=click.Path(path_type=Path), required=True)
@click.option("--arch", "archs", multiple=True, default=("paper1-cnn", "paper1-cnn-lstm"))
@click.option("--epochs", type=int, default=50)
@click.option("--force", is_flag=True)
def main(data: Path, out: Path, archs: tuple[str, ...], epochs: int, force: bool) -> None:
    import keras

    from fer_edge.metrics import classification_metrics
    from fer_edge.models import build_model, get_architecture
    from fer_edge.training.fit import TrainConfig, fit, predict_proba

    ds = load_dataset(data)
    train, val = ds.with_usage("Training"), ds.with_usage("PublicTest")
    print(f"{data}: Training {len(train)}, PublicTest {len(val)} (PrivateTest not used)", flush=True)
    for arch in archs:
        path = out / arch / "model.keras"
        if path.exists() and not force:
            print(f"{path} exists; skipping (--force retrains)")
            continue
        channels = get_architecture(arch).default_channels
        keras.utils.set_random_seed(SEED)
        model = build_model(arch, channels)
        config = TrainConfig(epochs=epochs, seed=SEED, verbose=2)
        start = time.time()
        result = fit(model, train.images, train.labels, val.images, val.labels, config, out / arch)
        val_metrics = classification_metrics(val.labels, predict_proba(model, val.images))
        path.parent.mkdir(parents=True, exist_ok=True)
        with atomic_path(path, force=True) as tmp:
            model.save(tmp.with_suffix(".keras"))
            tmp.with_suffix(".keras").replace(tmp)
        ModelCard(
            architecture=arch,
            input_shape=[48, 48, channels],
            training={
                "data": {"path": str(data), "form": "dir"},
                "split": {"method": "usage", "train": "Training", "val": "PublicTest", "test": "PrivateTest"},
                "seed": SEED,
                "protocol": config.as_dict(),
                "epochs_run": result.epochs_run,
                "best_epoch": result.best_epoch,
                "seconds": round(time.time() - start, 1),
                "command": " ".join([Path(sys.argv[0]).name, *sys.argv[1:]]),
            },
            metrics={"val_accuracy": val_metrics["accuracy"], "val_macro_f1": val_metrics["macro_f1"]},
        ).save(path)
        print(json.dumps({"arch": arch, **result.as_dict(), "val_accuracy": val_metrics["accuracy"]}), flush=True)


if __name__ == "__main__":
    from fer_edge.errors import run_command

    sys.exit(run_command(main, prog_name="python convert/train_reference.py"))
