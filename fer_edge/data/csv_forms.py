"""The two CSV forms: Kaggle's ``emotion,pixels,Usage`` and the paper's label + 2,304 pixel columns."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from pathlib import Path

import numpy as np

from fer_edge.atomic import atomic_path
from fer_edge.data.dataset import IMAGE_SIZE, NUM_PIXELS, FerDataset
from fer_edge.data.pixels import RowError, parse_int_rows
from fer_edge.errors import FerEdgeError
from fer_edge.labels import NUM_CLASSES, USAGES


def read_header(path: Path) -> list[str]:
    with open(path, newline="") as f:
        first = f.readline()
    return next(csv.reader([first]), [])


def is_kaggle_csv(path: Path) -> bool:
    cols = [c.strip().lower() for c in read_header(path)]
    return "emotion" in cols and "pixels" in cols


def is_flat_csv(path: Path) -> bool:
    return len(read_header(path)) == NUM_PIXELS + 1


def _check_labels(labels: np.ndarray, path: Path, row_of: Callable[[int], int]) -> None:
    bad = np.flatnonzero((labels < 0) | (labels >= NUM_CLASSES))
    if bad.size:
        i = int(bad[0])
        raise FerEdgeError(
            f"{path}:{row_of(i)}: label {int(labels[i])} is outside 0-6 "
            "(FER-2013 order angry..neutral); fix or drop that row"
        )


def load_kaggle_csv(path: Path) -> FerDataset:
    import pandas as pd

    path = Path(path)
    try:
        df = pd.read_csv(path, dtype={"pixels": str, "Usage": str}, keep_default_na=False)
    except (pd.errors.ParserError, UnicodeDecodeError) as e:
        raise FerEdgeError(
            f"{path}: not a readable CSV ({str(e).splitlines()[0]}); expected emotion,pixels,Usage"
        ) from None
    df.columns = [c.strip() for c in df.columns]
    lower = {c.lower(): c for c in df.columns}
    if "emotion" not in lower or "pixels" not in lower:
        raise FerEdgeError(f"{path}: needs 'emotion' and 'pixels' columns (Kaggle's emotion,pixels,Usage)")
    if df.empty:
        raise FerEdgeError(f"{path}: no rows; the dataset is empty")
    labels = pd.to_numeric(df[lower["emotion"]], errors="coerce")
    if labels.isna().any() or (labels % 1 != 0).any():
        i = int(np.flatnonzero(labels.isna() | (labels % 1 != 0))[0])
        raise FerEdgeError(
            f"{path}:{i + 2}: emotion {df[lower['emotion']].iloc[i]!r} is not an integer 0-6; fix that row"
        )
    labels = labels.to_numpy(np.int64)
    _check_labels(labels, path, lambda i: i + 2)
    fields = df[lower["pixels"]].astype(str)
    unusable = fields.str.strip().eq("") | fields.str.contains("[\r\n]", regex=True)
    if unusable.any():  # an empty field (or one split over lines) would shift every later row
        i = int(np.flatnonzero(unusable.to_numpy())[0])
        raise FerEdgeError(f"{path}:{i + 2}: pixels empty or split over lines; each row needs 2,304 values 0-255")
    try:
        pixels = parse_int_rows("\n".join(fields).encode(), NUM_PIXELS)
    except RowError as e:
        raise FerEdgeError(f"{path}:{e.row + 2}: pixels {e}; each row needs 2,304 values 0-255") from None
    usage = df[lower["usage"]].to_numpy(object) if "usage" in lower else np.full(len(df), "", object)
    sources = np.array([f"{path}:{i + 2}" for i in range(len(df))], dtype=object)
    return FerDataset(pixels.astype(np.uint8).reshape(-1, IMAGE_SIZE, IMAGE_SIZE), labels, usage, sources)


def load_flat_csv(path: Path) -> FerDataset:
    """Label then 2,304 pixel columns, with or without a header row."""
    path = Path(path)
    text = path.read_bytes()
    first_end = text.find(b"\n")
    first = text[: first_end if first_end >= 0 else len(text)]
    has_header = any(ch.isalpha() for ch in first.decode("utf-8", "replace"))
    body = text[first_end + 1 :] if has_header else text
    body = body.rstrip(b"\r\n \t")
    if not body:
        raise FerEdgeError(f"{path}: no rows; the dataset is empty")
    offset = 2 if has_header else 1
    try:
        rows = parse_int_rows(body, NUM_PIXELS + 1, max_value=999)
    except RowError as e:
        msg = str(e).replace(str(NUM_PIXELS + 1), f"{NUM_PIXELS + 1} (a label and 2,304 pixels)")
        raise FerEdgeError(f"{path}:{e.row + offset}: row {msg}; fix or drop that row") from None
    labels = rows[:, 0]
    _check_labels(labels, path, lambda i: i + offset)
    pixels = rows[:, 1:]
    if pixels.max(initial=0) > 255:
        r = int(np.argmax(pixels.max(axis=1) > 255))
        raise FerEdgeError(f"{path}:{r + offset}: pixel value above 255; pixels must be 0-255")
    sources = np.array([f"{path}:{i + offset}" for i in range(len(rows))], dtype=object)
    return FerDataset(pixels.astype(np.uint8).reshape(-1, IMAGE_SIZE, IMAGE_SIZE), labels, sources=sources)


def _pixel_lines(ds: FerDataset, sep: str) -> list[str]:
    flat = ds.images.reshape(len(ds), -1)
    buf = io.StringIO()
    np.savetxt(buf, flat, fmt="%d", delimiter=sep)
    return buf.getvalue().splitlines()


def save_kaggle_csv(ds: FerDataset, dst: Path, force: bool = False) -> Path:
    lines = _pixel_lines(ds, " ")
    with atomic_path(Path(dst), force=force) as tmp, open(tmp, "w", newline="") as f:
        f.write("emotion,pixels,Usage\n")
        for label, px, usage in zip(ds.labels, lines, ds.usage):
            f.write(f"{label},{px},{usage or ''}\n")
    return Path(dst)


def save_flat_csv(ds: FerDataset, dst: Path, force: bool = False) -> Path:
    """The paper's form: a header ``label,pixel_0..pixel_2303`` then one row per image."""
    lines = _pixel_lines(ds, ",")
    with atomic_path(Path(dst), force=force) as tmp, open(tmp, "w", newline="") as f:
        f.write("label," + ",".join(f"pixel_{i}" for i in range(NUM_PIXELS)) + "\n")
        for label, px in zip(ds.labels, lines):
            f.write(f"{label},{px}\n")
    return Path(dst)


__all__ = ["USAGES", "load_kaggle_csv", "load_flat_csv", "save_kaggle_csv", "save_flat_csv"]
