"""Detect which on-disk form a path holds and load or write any form."""

from __future__ import annotations

import enum
from pathlib import Path

from fer_edge.data.csv_forms import (
    is_flat_csv,
    is_kaggle_csv,
    load_flat_csv,
    load_kaggle_csv,
    save_flat_csv,
    save_kaggle_csv,
)
from fer_edge.data.dataset import FerDataset
from fer_edge.data.directory import is_directory_form, load_directory, save_directory
from fer_edge.errors import FerEdgeError


class Form(str, enum.Enum):
    DIR = "dir"
    CSV = "csv"  # Kaggle's emotion,pixels,Usage
    FLAT_CSV = "flat-csv"  # the paper's label + 2,304 pixel columns
    SYNTHETIC = "synthetic"  # the embedded generated faces (not FER-2013); the path is the word itself


#: The path that names the embedded synthetic dataset (2,100 images, seed 0) wherever a dataset is asked for.
SYNTHETIC = "synthetic"


def detect_form(path: Path) -> Form:
    path = Path(path)
    if str(path) == SYNTHETIC and not path.exists():
        return Form.SYNTHETIC
    if not path.exists():
        raise FerEdgeError(
            f"{path}: no such file or folder; give a dataset folder or CSV (see `fer-edge data info --help`)"
        )
    if path.is_dir():
        if is_directory_form(path):
            return Form.DIR
        raise FerEdgeError(
            f"{path}: a folder without emotion subfolders; expected ROOT/<emotion>/*.jpg or ROOT/train/<emotion>/"
        )
    if path.suffix.lower() != ".csv":
        raise FerEdgeError(f"{path}: not a dataset; expected a folder of emotion subfolders or a .csv file")
    try:
        if is_kaggle_csv(path):
            return Form.CSV
        if is_flat_csv(path):
            return Form.FLAT_CSV
    except UnicodeDecodeError:
        pass
    raise FerEdgeError(
        f"{path}: unrecognised CSV; expected Kaggle's emotion,pixels,Usage header or a label plus 2,304 pixel columns"
    )


def load_dataset(path: Path, form: Form | None = None) -> FerDataset:
    """Load any supported form; raises ``FerEdgeError`` naming the file (and row) on bad input."""
    path = Path(path)
    form = form or detect_form(path)
    if Form(form) is Form.SYNTHETIC:
        from fer_edge.data.synthetic import make_synthetic

        return make_synthetic()
    loader = {Form.DIR: load_directory, Form.CSV: load_kaggle_csv, Form.FLAT_CSV: load_flat_csv}[Form(form)]
    ds = loader(path)
    if len(ds) == 0:
        raise FerEdgeError(f"{path}: the dataset is empty")
    return ds


def save_dataset(ds: FerDataset, dst: Path, form: Form, force: bool = False) -> Path:
    if len(ds) == 0:
        raise FerEdgeError("nothing to write: the dataset is empty")
    if Form(form) is Form.SYNTHETIC:
        raise FerEdgeError("write to dir, csv or flat-csv; 'synthetic' names the embedded data, not a form to write")
    writer = {Form.DIR: save_directory, Form.CSV: save_kaggle_csv, Form.FLAT_CSV: save_flat_csv}[Form(form)]
    return writer(ds, Path(dst), force=force)
