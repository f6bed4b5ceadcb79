"""``fer-edge train ...``: one model, the papers' factorial, and its report (TensorFlow imported lazily)."""

from __future__ import annotations

import shlex
import sys
from pathlib import Path

import click

from fer_edge.errors import FerEdgeError


def _command_line() -> str:
    """The command as run, rebuilt from Click's parsed parameters (also right when called in-process)."""
    ctx = click.get_current_context()
    parts = ctx.command_path.split()
    for param in ctx.command.params:
        value = ctx.params.get(param.name)
        if value is None or value == () or param.name in ("help",):
            continue
        if not isinstance(param, click.Option):  # an argument
            parts.append(str(value))
            continue
        flag = param.opts[0] if value is not False else next(iter(param.secondary_opts), "")
        if isinstance(value, bool):
            if value and not param.is_flag or not flag:
                continue
            parts.append(flag)
        elif isinstance(value, tuple):
            parts += [x for v in value for x in (flag, str(v))]
        else:
            parts += [flag, str(value)]
    return " ".join(shlex.quote(p) for p in parts)


def _echo(msg: str) -> None:
    click.echo(msg)
    sys.stdout.flush()


@click.group()
def train() -> None:
    """Train one model, or the papers' factorial experiment, and report it."""


@train.command("model")
@click.option("--arch", required=True, help="Architecture name (see `fer-edge models`).")
@click.option(
    "--data",
    "data_path",
    default="synthetic",
    show_default=True,
    type=click.Path(path_type=Path),
    help="Dataset: folder or CSV; 'synthetic' is the embedded generated set (NOT FER-2013).",
)
@click.option("--out", required=True, type=click.Path(path_type=Path), help="Run folder to create.")
@click.option(
    "--channels", type=click.IntRange(1, 3), default=None, help="Input channels (default: the architecture's)."
)
@click.option(
    "--seed", type=click.IntRange(min=0), default=0, show_default=True, help="Split, initial weights, shuffling."
)
@click.option(
    "--epochs",
    type=click.IntRange(min=1),
    default=50,
    show_default=True,
    help="At most this many epochs (early stopping).",
)
@click.option("--batch-size", type=click.IntRange(min=1), default=64, show_default=True)
@click.option("--augment/--no-augment", default=False, show_default=True, help="Flip, shift, rotate, brightness.")
@click.option(
    "--split",
    type=click.Choice(["stratified", "usage", "grouped", "grouped-clean"]),
    default="stratified",
    show_default=True,
    help="stratified 80/10/10 by class; usage: train on Training, stop on PublicTest, test on PrivateTest; "
    "grouped: stratified 80/10/10 with exact copies kept in one split (leakage-free); "
    "grouped-clean: grouped, and images whose copies carry different labels dropped.",
)
@click.option("--force", is_flag=True, help="Replace --out if it exists.")
def model_cmd(
    arch: str,
    data_path: Path,
    out: Path,
    channels: int | None,
    seed: int,
    epochs: int,
    batch_size: int,
    augment: bool,
    split: str,
    force: bool,
) -> None:
    """Train ARCH on a dataset; writes model.keras (+ card), history.csv, metrics.json and figures to --out."""
    from fer_edge.atomic import check_destination
    from fer_edge.data import detect_form, load_dataset
    from fer_edge.models.registry import get_architecture

    check_destination(out, force)
    spec_arch = get_architecture(arch)
    if channels not in (None, 1, 3):
        raise FerEdgeError("--channels must be 1 or 3")
    form = detect_form(data_path)
    ds = load_dataset(data_path, form)
    _echo(f"loaded {len(ds)} images from {data_path} ({form.value} form)")

    from fer_edge.training.fit import TrainConfig
    from fer_edge.training.run import RunSpec, train_run

    spec = RunSpec(
        arch=arch,
        channels=channels or spec_arch.default_channels,
        seed=seed,
        config=TrainConfig(epochs=epochs, batch_size=batch_size, augment=augment),
        split=split,
        data={"path": str(data_path), "form": form.value, "loader": "fer-edge"},
        command=_command_line(),
    )
    metrics = train_run(ds, spec, out, force=force, log=_echo)
    _echo(f"wrote {out}/model.keras (+ model.json card), metrics.json, history.csv, curves/confusion/roc PNG")
    _echo(
        f"test accuracy {metrics['test']['accuracy']:.4f}, macro F1 {metrics['test']['macro_f1']:.4f} "
        f"on {metrics['test']['n']} images"
    )


@train.command("factorial")
@click.option(
    "--data", "data_root", required=True, type=click.Path(path_type=Path), help="FER-2013 folder with train/ and test/."
)
@click.option("--out", required=True, type=click.Path(path_type=Path), help="Results folder (resumable).")
@click.option("--seeds", type=click.IntRange(1), default=None, help="Seeds per cell (default: the experiment's, 3).")
@click.option("--variant", "variant_names", multiple=True, metavar="NAME",
              help="A variant of the experiment (repeatable): faithful, controlled, grouped, grouped-near, paper2; "
              "'both' = faithful and controlled (the default), 'all' = every variant.")  # fmt: skip
@click.option("--experiment", type=click.Path(path_type=Path), default=None,
              help="Experiment definition (JSON); default: the packaged paper-1 factorial, = train/factorial.json.")  # fmt: skip
@click.option("--csv", "csv_path", type=click.Path(path_type=Path), default=None,
              help="An original Kaggle fer2013.csv; default: written once from --data into OUT/.cache.")  # fmt: skip
@click.option("--epochs", type=click.IntRange(1), default=None, help="Override the protocol's epochs (quick trials).")
@click.option("--only", multiple=True, help="Run only these cells (e.g. dir-rgb-28709_cnn or a data cell name).")
@click.option("--force", is_flag=True, help="Retrain finished runs whose recorded protocol differs from this one.")
def factorial_cmd(
    data_root: Path,
    out: Path,
    seeds: int | None,
    variant_names: tuple[str, ...],
    experiment: Path | None,
    csv_path: Path | None,
    epochs: int | None,
    only: tuple[str, ...],
    force: bool,
) -> None:
    """Run every cell x seed of the factorial; finished runs are skipped, a killed run resumes."""
    from fer_edge.atomic import check_writable
    from fer_edge.training.factorial import load_experiment, run_factorial

    check_writable(out / ".factorial.probe")  # an unwritable --out is refused before any work
    exp = load_experiment(experiment)
    if not (data_root / "train").is_dir():
        raise FerEdgeError(f"{data_root}: expected FER-2013 in directory form (train/<emotion>/, test/<emotion>/)")
    if csv_path is not None and not csv_path.exists():
        raise FerEdgeError(f"{csv_path}: no such CSV; leave --csv out to write one from --data")
    variants: list[str] = []
    for name in variant_names or ("both",):
        expanded = {"both": ["faithful", "controlled"], "all": list(exp.variants)}.get(name, [name])
        variants += [v for v in expanded if v not in variants]
    results = run_factorial(
        exp,
        data_root,
        out,
        variants,
        seeds=seeds,
        csv_path=csv_path,
        overrides={"epochs": epochs} if epochs else None,
        only=list(only) or None,
        command=_command_line(),
        log=_echo,
        force=force,
    )
    _echo("per run (seconds/epoch, seconds for the run, test accuracy):")
    for m in results:
        _echo(
            f"  {m['cell']:<26} seed {m['seed']}  {m['fit']['seconds_per_epoch']:6.1f} s/epoch  "
            f"{m['seconds_total']:7.0f} s  acc {m['test']['accuracy']:.4f}"
        )
    _echo(f"next: fer-edge train report {out}")


@train.command("report")
@click.argument("results_dir", type=click.Path(path_type=Path))
@click.option("--experiment", type=click.Path(path_type=Path), default=None,
              help="Default: RESULTS_DIR/experiment.json, else the packaged paper-1 factorial.")  # fmt: skip
@click.option("--out", type=click.Path(path_type=Path), default=None, help="Report folder (default: RESULTS_DIR).")
@click.option("--narrative", type=click.Path(path_type=Path), default=None,
              help="The study's prose, a Markdown template of {{ sections }} and {{ facts }} (default: RESULTS_DIR/narrative.md).")  # fmt: skip
def report_cmd(results_dir: Path, experiment: Path | None, out: Path | None, narrative: Path | None) -> None:
    """Tables (mean ± sd beside the paper), two-way ANOVA, per-class AUC and leakage from a factorial's runs."""
    from fer_edge.report.factorial import build_report
    from fer_edge.training.factorial import load_experiment, results_experiment_path

    exp = load_experiment(experiment or results_experiment_path(results_dir))
    written = build_report(results_dir, exp, out or results_dir, narrative)
    for p in written:
        _echo(f"wrote {p}")
