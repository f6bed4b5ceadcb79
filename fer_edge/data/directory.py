"""The directory form: ``ROOT/<emotion>/*.jpg|png``, optionally under ``train/`` and ``test/``."""

from __future__ import annotations

import os
import re
from pathlib import Path

import cv2
import numpy as np

from fer_edge.atomic import atomic_path
from fer_edge.data.dataset import IMAGE_SIZE, FerDataset
from fer_edge.errors import FerEdgeError
from fer_edge.labels import EMOTIONS, USAGES, index_of

IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".bmp")
SPLIT_FOLDERS = ("train", "test", "val", "validation")
_USAGE_PREFIX = re.compile(r"^(Training|PublicTest|PrivateTest)_")


def is_directory_form(root: Path) -> bool:
    if not root.is_dir():
        return False
    subdirs = {p.name.lower() for p in root.iterdir() if p.is_dir()}
    return bool(subdirs & set(SPLIT_FOLDERS)) or bool(subdirs & set(EMOTIONS))


def class_folders(root: Path) -> list[tuple[Path, str]]:
    """(class folder, its split folder's name or "") under ROOT, or under ROOT/train, ROOT/test, ...
    when those exist; folder names are not checked here."""
    subdirs = sorted(p for p in Path(root).iterdir() if p.is_dir() and not p.name.startswith("."))
    splits = [p for p in subdirs if p.name.lower() in SPLIT_FOLDERS]
    if not splits:
        return [(d, "") for d in subdirs]
    return [
        (d, s.name) for s in splits for d in sorted(p for p in s.iterdir() if p.is_dir() and not p.name.startswith("."))
    ]


def image_names(folder: Path, strict: bool = True) -> list[str]:
    """Image file names in ``folder``, sorted; ``strict`` makes any other file an error, else it is ignored."""
    with os.scandir(folder) as it:
        names = sorted(e.name for e in it if e.is_file() and not e.name.startswith("."))
    for name in names:
        if strict and not name.lower().endswith(IMAGE_SUFFIXES):
            raise FerEdgeError(
                f"{folder / name}: not an image file (expected {', '.join(IMAGE_SUFFIXES)}); "
                "move it out of the class folder"
            )
    return [n for n in names if n.lower().endswith(IMAGE_SUFFIXES)]


def _read_image(path: Path) -> np.ndarray:
    data = np.fromfile(path, dtype=np.uint8)
    img = cv2.imdecode(data, cv2.IMREAD_UNCHANGED) if data.size else None
    if img is None:
        raise FerEdgeError(f"{path}: not a readable image (corrupt or not an image file); delete or replace it")
    if img.ndim == 3:
        code = cv2.COLOR_BGRA2GRAY if img.shape[2] == 4 else cv2.COLOR_BGR2GRAY
        img = cv2.cvtColor(img, code)
    if img.dtype != np.uint8:
        raise FerEdgeError(f"{path}: {img.dtype} pixels; FER images are 8-bit grayscale, convert it to 8-bit")
    if img.shape != (IMAGE_SIZE, IMAGE_SIZE):
        raise FerEdgeError(
            f"{path}: image is {img.shape[1]}x{img.shape[0]}, expected 48x48; resize it to 48x48 "
            "(or use `fer-edge predict`, which crops and resizes faces from any image)"
        )
    return img


def usage_from_name(name: str, split_folder: str) -> str:
    m = _USAGE_PREFIX.match(name)
    if m:
        return m.group(1)
    return {"train": "Training"}.get(split_folder.lower(), "")


def read_class_folders(folders: list[tuple[Path, int, str]], strict: bool = True) -> FerDataset | None:
    """Every image of the given (class folder, label, split folder name) triples; None when there is none."""
    entries = [
        (folder / name, label, usage_from_name(name, split))
        for folder, label, split in folders
        for name in image_names(folder, strict)
    ]
    if not entries:
        return None
    # Sequential on purpose: a 48x48 JPEG decodes in ~30 us, less than a thread pool's hand-off.
    images = [_read_image(e[0]) for e in entries]
    return FerDataset(
        np.stack(images),
        np.array([e[1] for e in entries], dtype=np.int64),
        np.array([e[2] for e in entries], dtype=object),
        np.array([str(e[0]) for e in entries], dtype=object),
    )


def load_directory(root: Path) -> FerDataset:
    root = Path(root)
    folders = []
    for folder, split in class_folders(root):
        try:
            folders.append((folder, index_of(folder.name), split))
        except FerEdgeError:
            raise FerEdgeError(
                f"{folder}: unknown class folder {folder.name!r}; expected one of {', '.join(EMOTIONS)} "
                "(rename it, or remove it from the dataset)"
            ) from None
    ds = read_class_folders(folders)
    if ds is None:
        raise FerEdgeError(f"{root}: no images found; expected ROOT/<emotion>/*.jpg or ROOT/train/<emotion>/*.jpg")
    return ds


def save_directory(ds: FerDataset, dst: Path, force: bool = False) -> Path:
    """Write lossless PNGs as ``DST/train|test/<emotion>/<Usage>_<n>.png`` (pixel-exact round trip)."""
    dst = Path(dst)
    with atomic_path(dst, force=force, directory=True) as tmp:
        for i, (img, label, usage) in enumerate(zip(ds.images, ds.labels, ds.usage)):
            split = "test" if usage in USAGES[1:] else "train"
            folder = tmp / split / EMOTIONS[label]
            folder.mkdir(parents=True, exist_ok=True)
            stem = f"{usage}_{i}" if usage else f"{i:06d}"
            if not cv2.imwrite(str(folder / f"{stem}.png"), img):
                raise FerEdgeError(f"{folder}: could not write images; check free space and permissions")
    return dst
