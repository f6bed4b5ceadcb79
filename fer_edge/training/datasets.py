"""The data cells of the factorial: which images, through which loader, with how many channels.

Two loaders matter for the paper's comparison:

* ``keras-dir``: literally ``keras.utils.image_dataset_from_directory`` as the paper used it,
  with ``image_size=(48, 48)`` (its default is 256x256, which would upsample the 48x48 faces and
  make the CNN's Flatten 65,536 wide instead of the 2,304 of the paper's layer table).
  TensorFlow decodes JPEG with its fast integer IDCT by default, so these pixels differ slightly
  from an accurate decode (fer-edge's own loader, OpenCV).
* ``csv``: the Kaggle ``emotion,pixels,Usage`` CSV read by fer-edge; when no original CSV is
  given it is written once from the directory (accurate decode) in Kaggle's row order
  (Training, PublicTest, PrivateTest).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from fer_edge.data import FerDataset, Form, load_dataset, save_dataset
from fer_edge.data.directory import usage_from_name
from fer_edge.errors import FerEdgeError
from fer_edge.labels import USAGES, index_of

LOADERS = ("keras-dir", "dir", "csv")
IMAGE_SETS = ("train", "all")


@dataclass(frozen=True)
class DataCell:
    """One level of the 'format' factor: ``loader`` x ``images`` (train/ only, or all) x ``channels``."""

    name: str
    loader: str  # keras-dir | dir | csv
    images: str  # train (the 28,709 of train/) | all (train/ + test/, 35,887)
    channels: int
    about: str = ""
    paper: str = ""  # the paper's format this cell stands for ("directory" / "csv"), if any
    split: str = ""  # its own split method (fer_edge.data.splits.SPLIT_METHODS); "" = the experiment's
    same_test_as: str = ""  # the data cell whose test images this one's test part contains (a grouped twin)

    def __post_init__(self) -> None:
        if self.loader not in LOADERS:
            raise FerEdgeError(f"data cell {self.name!r}: loader must be one of {', '.join(LOADERS)}")
        if self.images not in IMAGE_SETS:
            raise FerEdgeError(f"data cell {self.name!r}: images must be one of {', '.join(IMAGE_SETS)}")
        if self.channels not in (1, 3):
            raise FerEdgeError(f"data cell {self.name!r}: channels must be 1 or 3")
        from fer_edge.data.splits import SPLIT_METHODS

        if self.split and self.split not in SPLIT_METHODS:
            raise FerEdgeError(f"data cell {self.name!r}: split must be one of {', '.join(SPLIT_METHODS)}")


def _split_folders(root: Path, images: str) -> list[Path]:
    names = ["train"] if images == "train" else ["train", "test"]
    folders = [root / n for n in names]
    missing = [f for f in folders if not f.is_dir()]
    if missing:
        raise FerEdgeError(
            f"{missing[0]}: missing; the factorial needs the FER-2013 directory form ROOT/train/<emotion>/*.jpg "
            "and ROOT/test/<emotion>/*.jpg"
        )
    return folders


def load_keras_directory(folder: Path, color_mode: str = "rgb") -> FerDataset:
    """Images of ``folder/<emotion>/`` exactly as ``image_dataset_from_directory`` yields them at 48x48.

    Keras gives float32 (48,48,3) for ``rgb``; for FER-2013's gray JPEGs the three channels are
    equal (checked), so the images are kept as uint8 gray and repeated to 3 channels when fed.
    """
    import keras
    import tensorflow as tf

    ds = keras.utils.image_dataset_from_directory(
        str(folder), labels="inferred", label_mode="int", color_mode=color_mode, image_size=(48, 48),
        batch_size=None, shuffle=False, verbose=False,
    )  # fmt: skip
    class_to_fer = np.array([index_of(name) for name in ds.class_names])
    xs, ys = [], []
    for x, y in ds.batch(4096).prefetch(tf.data.AUTOTUNE):
        xs.append(x.numpy())
        ys.append(y.numpy())
    x = np.concatenate(xs)
    if not np.array_equal(x, np.round(x)) or x.min() < 0 or x.max() > 255:
        raise FerEdgeError(f"{folder}: Keras returned non-integer pixels; the images are not 48x48")
    if x.shape[-1] == 3 and not (np.array_equal(x[..., 0], x[..., 1]) and np.array_equal(x[..., 1], x[..., 2])):
        raise FerEdgeError(f"{folder}: colour images found; the factorial expects FER-2013's grayscale faces")
    paths = np.array(ds.file_paths, dtype=object)
    usage = np.array([usage_from_name(Path(p).name, folder.name) for p in paths], dtype=object)
    return FerDataset(x[..., 0].astype(np.uint8), class_to_fer[np.concatenate(ys)], usage, paths)


def kaggle_order(ds: FerDataset) -> FerDataset:
    """Rows in the Kaggle CSV's order: Training, then PublicTest, then PrivateTest (stable)."""
    rank = {u: i for i, u in enumerate(USAGES)}
    order = np.argsort([rank.get(u, len(USAGES)) for u in ds.usage], kind="stable")
    return ds.subset(order)


def ensure_kaggle_csv(data_root: Path, cache_dir: Path) -> Path:
    """The Kaggle CSV of all images under ``data_root`` (train/ + test/), written once to ``cache_dir``."""
    dst = Path(cache_dir) / "fer2013_from_directory.csv"
    if not dst.exists():
        ds = FerDataset.concat([load_dataset(f) for f in _split_folders(Path(data_root), "all")])
        save_dataset(kaggle_order(ds), dst, Form.CSV)
    return dst


def load_cell(cell: DataCell, data_root: Path, cache_dir: Path, csv_path: Path | None = None) -> FerDataset:
    """The images of ``cell`` (gray uint8; channels are applied when fed to the model)."""
    data_root = Path(data_root)
    if cell.loader == "csv":
        path = Path(csv_path) if csv_path else ensure_kaggle_csv(data_root, cache_dir)
        ds = load_dataset(path, Form.CSV)
        return ds.with_usage("Training") if cell.images == "train" else ds
    folders = _split_folders(data_root, cell.images)
    if cell.loader == "keras-dir":
        mode = "rgb" if cell.channels == 3 else "grayscale"
        return FerDataset.concat([load_keras_directory(f, mode) for f in folders])
    return FerDataset.concat([load_dataset(f, Form.DIR) for f in folders])
