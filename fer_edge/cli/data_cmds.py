"""``fer-edge data ...``: inspect and convert datasets between the three forms."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any

import click

from fer_edge.atomic import check_destination
from fer_edge.data import Form, detect_form, load_dataset, save_dataset
from fer_edge.errors import FerEdgeError
from fer_edge.labels import EMOTIONS


@click.group()
def data() -> None:
    """Read, convert, inspect and audit FER datasets (directory, Kaggle CSV, flat CSV)."""


@data.command()
@click.argument("path", type=click.Path(path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="Print the counts as JSON.")
def info(path: Path, as_json: bool) -> None:
    """Detect the form of PATH and print counts per class and per usage split."""
    form = detect_form(path)
    ds = load_dataset(path, form)
    summary: dict[str, Any] = {
        "path": str(path),
        "form": form.value,
        "images": len(ds),
        "classes": ds.class_counts(),
        "usage": ds.usage_counts(),
    }
    if form is Form.DIR:
        folders = Counter(Path(s).parent.parent.name if Path(s).parent.parent != path else "." for s in ds.sources)
        summary["folders"] = dict(sorted(folders.items()))
    if as_json:
        click.echo(json.dumps(summary, indent=2))
        return
    click.echo(f"{path}: {form.value} form, {len(ds)} images")
    if "folders" in summary:
        click.echo("per folder: " + "  ".join(f"{k}/ {v}" for k, v in summary["folders"].items()))
    click.echo("per class:  " + "  ".join(f"{k} {v}" for k, v in summary["classes"].items()))
    click.echo("per usage:  " + "  ".join(f"{k} {v}" for k, v in summary["usage"].items()))


@data.command()
@click.argument("src", type=click.Path(path_type=Path))
@click.argument("dst", type=click.Path(path_type=Path))
@click.option(
    "--to",
    "to",
    type=click.Choice([f.value for f in Form if f is not Form.SYNTHETIC]),
    required=True,
    help="Form to write.",
)
@click.option("--force", is_flag=True, help="Replace DST if it exists (written aside, then swapped in).")
def convert(src: Path, dst: Path, to: str, force: bool) -> None:
    """Convert dataset SRC (any form) to DST in the form given by --to.

    CSV forms are pixel-exact; the directory form is written as lossless PNG under
    train/ (Training) and test/ (PublicTest, PrivateTest).
    """
    if dst.exists() and src.resolve() == dst.resolve():
        raise FerEdgeError(f"{dst}: is the source itself; write the conversion to another path")
    check_destination(dst, force)
    ds = load_dataset(src)
    save_dataset(ds, dst, Form(to), force=force)
    click.echo(f"wrote {len(ds)} images to {dst} ({to})")


@data.command()
@click.argument("dst", type=click.Path(path_type=Path))
@click.option(
    "--to",
    "to",
    type=click.Choice([f.value for f in Form if f is not Form.SYNTHETIC]),
    default="dir",
    show_default=True,
)
@click.option(
    "-n",
    "--count",
    type=click.IntRange(min=1),
    default=2100,
    show_default=True,
    help="Number of images (classes balanced).",
)
@click.option("--seed", type=click.IntRange(min=0), default=0, show_default=True)
@click.option("--force", is_flag=True)
def synthetic(dst: Path, to: str, count: int, seed: int, force: bool) -> None:
    """Write the embedded synthetic dataset (drawn faces, NOT FER-2013) to DST."""
    from fer_edge.data.synthetic import make_synthetic

    check_destination(dst, force)  # before the images are drawn
    save_dataset(make_synthetic(count, seed), dst, Form(to), force=force)
    click.echo(f"wrote {count} synthetic images ({', '.join(EMOTIONS)}) to {dst} ({to}); this is not FER-2013")


@data.command()
@click.argument("path", type=click.Path(path_type=Path))
@click.option(
    "--out",
    type=click.Path(path_type=Path),
    default=None,
    help="Folder for audit.json and the CSV lists  [default: runs/audit/<dataset name>]",
)
@click.option("--near", is_flag=True, help="Also find near duplicates (perceptual hash), reported apart.")
@click.option(
    "--hamming",
    type=click.IntRange(0, 32),
    default=None,
    help="Near-duplicate threshold in differing pHash bits (implies --near)  [default: 4]",
)
@click.option(
    "--blank-std",
    type=click.FloatRange(min=0.0),
    default=None,
    help="Near-blank below this pixel std (grey levels)  [default: 5.0]",
)
@click.option("--force", is_flag=True, help="Replace the --out folder if it exists.")
def audit(path: Path, out: Path | None, near: bool, hamming: int | None, blank_std: float | None, force: bool) -> None:
    """Exact duplicates within and across usage splits, conflicting labels, near-blank images, class balance.

    Prints a summary and writes OUT/audit.json (counts, definitions, lists), OUT/duplicates.csv
    (every image with an exact copy, by group), OUT/near_blank.csv and, with --near,
    OUT/near_duplicates.csv (pairs of distinct images whose perceptual hashes are close).
    """
    from fer_edge.data.audit import BLANK_STD, HAMMING, audit_dataset, format_summary, save_audit

    out = out or Path("runs") / "audit" / (path.stem or "dataset")
    check_destination(out, force)
    ds = load_dataset(path)
    result = audit_dataset(
        ds,
        near=near or hamming is not None,
        hamming=HAMMING if hamming is None else hamming,
        blank_std=BLANK_STD if blank_std is None else blank_std,
    )
    save_audit(result, out, dataset=str(path), force=force)
    click.echo(f"{path}: audit of {len(ds):,} images")
    click.echo(format_summary(result.summary()))
    click.echo(f"wrote {out}/audit.json and the CSV lists of offending files")
