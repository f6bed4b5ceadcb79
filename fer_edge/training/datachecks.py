"""Facts about the factorial's data cells that the report's account needs, measured not assumed.

How far Keras' directory loader (TensorFlow's JPEG decoder, fast integer IDCT by default) is
from an accurate decode of the same files, whether its rgb mode carries anything beyond gray,
whether the CSV holds exactly the directory's images, and how many exact duplicates there are.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import numpy as np

from fer_edge.atomic import write_text
from fer_edge.data import Form, load_dataset
from fer_edge.data.audit import pixel_groups

CHECKS_FILE = "data_checks.json"


def data_checks(data_root: Path, csv_path: Path) -> dict[str, Any]:
    from fer_edge.training.datasets import load_keras_directory

    data_root = Path(data_root)
    t = time.perf_counter()
    out: dict[str, Any] = {"data_root": str(data_root), "csv": str(csv_path)}
    exact = [load_dataset(data_root / s, Form.DIR) for s in ("train", "test")]
    keras_gray = [load_keras_directory(data_root / s, "grayscale") for s in ("train", "test")]
    keras_rgb_train = load_keras_directory(data_root / "train", "rgb")
    out["keras_rgb_equals_keras_gray_on_train"] = bool(np.array_equal(keras_rgb_train.images, keras_gray[0].images))
    a = np.concatenate([d.images for d in exact]).astype(np.int16)
    b = np.concatenate([d.images for d in keras_gray]).astype(np.int16)
    same_order = all((x.sources == y.sources).all() for x, y in zip(exact, keras_gray))
    diff = np.abs(a - b) if same_order else None
    out["keras_vs_accurate_decode"] = {
        "images": int(len(a)),
        "same_file_order": bool(same_order),
        "mean_abs_difference": float(diff.mean()) if diff is not None else None,
        "max_abs_difference": int(diff.max()) if diff is not None else None,
        "fraction_of_pixels_differing": float((diff > 0).mean()) if diff is not None else None,
        "fraction_of_images_differing": float((diff > 0).any(axis=(1, 2)).mean()) if diff is not None else None,
    }
    csv = load_dataset(csv_path, Form.CSV)
    # one id per distinct picture (equal ids <=> identical pixels) over both sets at once
    ids = pixel_groups(np.concatenate([a.astype(np.uint8), csv.images]))
    h_dir, h_csv = ids[: len(a)], ids[len(a) :]
    labels_dir = np.concatenate([d.labels for d in exact])
    out["csv_equals_directory"] = {
        "rows": len(csv),
        "same_multiset_of_images": bool(np.array_equal(np.sort(h_dir), np.sort(h_csv))),
        "same_image_label_pairs": bool(
            sorted(zip(h_dir.tolist(), labels_dir.tolist())) == sorted(zip(h_csv.tolist(), csv.labels.tolist()))
        ),
    }
    h_train = h_dir[: len(exact[0])]
    out["exact_duplicates"] = {
        "train_images": len(h_train),
        "train_unique": int(len(set(h_train))),
        "all_images": len(h_dir),
        "all_unique": int(len(set(h_dir))),
    }
    out["seconds"] = round(time.perf_counter() - t, 1)
    return out


def ensure_data_checks(out_dir: Path, data_root: Path, csv_path: Path) -> dict[str, Any]:
    path = Path(out_dir) / CHECKS_FILE
    if path.exists():
        return json.loads(path.read_text())
    checks = data_checks(data_root, csv_path)
    write_text(path, json.dumps(checks, indent=2) + "\n")
    return checks
