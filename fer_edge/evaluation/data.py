"""The held-out images an evaluation runs on, mapped to FER-2013's seven classes.

Another dataset may name its classes differently ('anger', 'sadness'), lack a class, or carry
one FER-2013 does not have ('contempt'). Class names go through ``fer_edge.labels`` (synonyms)
and the user's ``--label-map NAME=EMOTION`` (``NAME=skip`` drops a class); a class that maps to
nothing is reported and its images skipped; a class with no image is reported, never a crash.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from fer_edge.data.dataset import FerDataset
from fer_edge.errors import FerEdgeError
from fer_edge.labels import EMOTIONS, index_of

SKIP_WORDS = ("skip", "none", "-", "ignore")
EVAL_SPLITS = ("train", "val", "test")


#: What counts as a copy of a scored image, per ``EvalData.leak_kind`` (the reports' wording).
LEAK_METHODS = {
    "exact": "exact pixel copy (identical 48x48 pixel bytes)",
    "near": "exact copy or near duplicate (64-bit pHash within 4 bits, joined transitively)",
}


@dataclass(frozen=True)
class EvalData:
    """``dataset`` is what is scored; ``leaked`` flags its images with an exact copy in ``train_source``."""

    dataset: FerDataset
    description: str
    class_map: dict[str, str]  # dataset class name -> FER-2013 emotion
    missing: list[str]  # FER-2013 classes with no image here
    skipped: dict[str, int]  # dataset class that maps to nothing -> images skipped
    leaked: np.ndarray | None = None
    train_source: str = ""
    notes: list[str] = field(default_factory=list)
    leak_kind: str = "exact"  # exact pixel copies, or "near": exact copies and near duplicates

    @property
    def leakage_free_count(self) -> int:
        """Images without a copy in ``train_source`` (0 when leakage was not checked)."""
        return 0 if self.leaked is None else len(self.leaked) - int(self.leaked.sum())


def parse_label_map(items: Sequence[str]) -> dict[str, str | None]:
    """``["sadness=sad", "contempt=skip"]`` -> {"sadness": "sad", "contempt": None} (emotion names checked)."""
    mapping: dict[str, str | None] = {}
    for item in items:
        name, sep, target = item.partition("=")
        if not sep or not name.strip() or not target.strip():
            raise FerEdgeError(f"--label-map {item!r}: expected NAME=EMOTION, e.g. sadness=sad or contempt=skip")
        target = target.strip().lower()
        mapping[name.strip().lower()] = None if target in SKIP_WORDS else EMOTIONS[index_of(target)]
    return mapping


def _map_name(name: str, label_map: Mapping[str, str | None]) -> int | None:
    key = name.strip().lower()
    if key in label_map:
        target = label_map[key]
        return None if target is None else index_of(target)
    try:
        return index_of(name)
    except FerEdgeError:
        return None


def load_directory_mapped(
    root: Path, label_map: Mapping[str, str | None]
) -> tuple[FerDataset, dict[str, str], dict[str, list[str]]]:
    """A class-folder dataset whose folder names may be anything; unmapped folders are skipped
    (returned as class name -> the usage tag of each skipped image)."""
    from fer_edge.data.directory import class_folders, image_names, read_class_folders, usage_from_name

    kept: list[tuple[Path, int, str]] = []
    class_map: dict[str, str] = {}
    skipped: dict[str, list[str]] = {}
    for folder, split in class_folders(root):
        label = _map_name(folder.name, label_map)
        if label is None:
            names = image_names(folder, strict=False)
            skipped.setdefault(folder.name, []).extend(usage_from_name(n, split) for n in names)
            continue
        class_map[folder.name] = EMOTIONS[label]
        kept.append((folder, label, split))
    ds = read_class_folders(kept, strict=False)
    if ds is None:
        raise FerEdgeError(
            f"{root}: no images in a class folder that maps to a FER-2013 emotion "
            f"(skipped: {', '.join(skipped) or 'none'}); map folders with --label-map NAME=EMOTION"
        )
    return ds, class_map, skipped


def _remap_codes(ds: FerDataset, label_map: Mapping[str, str | None], path: Path) -> tuple[FerDataset, dict, dict]:
    """Numeric labels (CSV forms) remapped by CODE=EMOTION entries; other names are an error here."""
    names = [k for k in label_map if not k.isdigit()]
    if names:
        raise FerEdgeError(
            f"{path}: its labels are numbers 0-6, not names; map them as CODE=EMOTION (e.g. 0=neutral), not {names[0]}=..."
        )
    codes = {int(k): (None if v is None else index_of(v)) for k, v in label_map.items()}
    keep = np.ones(len(ds), bool)
    labels = ds.labels.copy()
    skipped: dict[str, list[str]] = {}
    for code, target in codes.items():
        hit = ds.labels == code
        if target is None:
            keep &= ~hit
            if hit.any():
                skipped[str(code)] = ds.usage[hit].tolist()
        else:
            labels[hit] = target
    mapped = FerDataset(ds.images, labels, ds.usage, ds.sources).subset(keep)
    present = np.unique(ds.labels[keep])
    kept = {code: target for code, target in codes.items() if target is not None}
    class_map = {str(c): EMOTIONS[kept.get(int(c), int(c))] for c in present}
    return mapped, class_map, skipped


def load_mapped(
    path: Path, label_map: Mapping[str, str | None]
) -> tuple[FerDataset, dict[str, str], dict[str, list[str]]]:
    from fer_edge.data import SYNTHETIC, load_dataset

    path = Path(path)
    if str(path) == SYNTHETIC and not path.exists():
        return _remap_codes(load_dataset(path), label_map, path)
    if not path.exists():
        raise FerEdgeError(f"{path}: no such file or folder; give a dataset folder or CSV")
    if path.is_dir():
        return load_directory_mapped(path, label_map)
    return _remap_codes(load_dataset(path), label_map, path)


def _select(
    ds: FerDataset, usage: str | None, split: str | None, seed: int, path: Path, split_method: str = "stratified"
) -> tuple[np.ndarray, np.ndarray | None, str, Callable[[str], bool]]:
    """(evaluation index, training index or None, description, which usage tags the selection takes)."""
    from fer_edge.data.splits import split_dataset

    tags = set(ds.usage.tolist())
    if usage and split:
        raise FerEdgeError("give --usage or --split, not both")
    if split:
        if split not in EVAL_SPLITS:
            raise FerEdgeError(f"--split {split!r}: choose one of {', '.join(EVAL_SPLITS)}")
        parts = split_dataset(ds, split_method, seed)
        index = {"train": parts.train, "val": parts.val, "test": parts.test}[split]
        return index, parts.train, f"the {split} part of a {split_method} 80/10/10 split (seed {seed})", _any
    train = np.flatnonzero(ds.usage == "Training")
    if usage:
        index = np.flatnonzero(ds.usage == usage)
        if not len(index):
            shown = ", ".join(f"{k}: {v}" for k, v in ds.usage_counts().items())
            raise FerEdgeError(f"{path}: no {usage} images (usage tags here: {shown}); choose --usage or --split")
        return index, (train if usage != "Training" and len(train) else None), f"usage {usage}", usage.__eq__
    if "PrivateTest" in tags:
        return (
            np.flatnonzero(ds.usage == "PrivateTest"),
            (train if len(train) else None),
            "usage PrivateTest",
            "PrivateTest".__eq__,
        )
    if "Training" in tags and len(tags) > 1:
        return np.flatnonzero(ds.usage != "Training"), train, "every image not tagged Training", "Training".__ne__
    return np.arange(len(ds)), None, "every image", _any


def _any(tag: str) -> bool:
    return True


def load_eval_data(
    path: Path,
    usage: str | None = None,
    split: str | None = None,
    label_map: Mapping[str, str | None] | None = None,
    seed: int = 0,
    train_data: Path | None = None,
    split_method: str = "stratified",
    near: bool = False,
    seen_usages: Sequence[str] = (),
) -> EvalData:
    """The evaluation images of ``path`` (default: PrivateTest when tagged), mapped and checked for leakage.

    Leakage is checked against ``train_data`` when given, else against the training images of
    the same dataset (its Training usage, or the training part of ``split``), plus the images of
    ``seen_usages`` (e.g. PublicTest, when it chose or calibrated the model); ``near`` counts near
    duplicates (``fer_edge.data.audit.near_duplicate_groups``) as copies too.
    """
    from fer_edge.data.audit import leakage_mask

    label_map = dict(label_map or {})
    ds, class_map, skipped = load_mapped(Path(path), label_map)
    index, train_index, what, takes = _select(ds, usage, split, seed, Path(path), split_method)
    skipped_here = {name: sum(map(takes, tags)) for name, tags in skipped.items()}
    data = ds.subset(index)
    notes = []
    if train_data is not None:
        train, _, _ = load_mapped(Path(train_data), label_map)
        if "Training" in set(train.usage.tolist()):
            train = train.with_usage("Training")
        train_source = f"{train_data} ({len(train)} images)"
    elif train_index is not None:
        train = ds.subset(train_index)
        train_source = f"the training images of {path} ({len(train)})"
    else:
        train, train_source = None, ""
        notes.append("leakage not checked: no training data given (--train-data)")
    for tag in seen_usages:
        if tag in set(data.usage.tolist()):
            raise FerEdgeError(f"--leak-also {tag}: that is the usage being scored; name the images the model saw")
        seen = ds.with_usage(tag)
        if len(seen) == 0:
            raise FerEdgeError(f"--leak-also {tag}: {path} has no image tagged {tag}; tags: {ds.usage_counts()}")
        train = seen if train is None else FerDataset.concat([train, seen])
        train_source = f"{train_source} + {tag} ({len(seen)})" if train_source else f"{tag} of {path} ({len(seen)})"
    leaked = leakage_mask(data, train, near=near) if train is not None else None
    counts = np.bincount(data.labels, minlength=len(EMOTIONS))
    missing = [EMOTIONS[c] for c in range(len(EMOTIONS)) if counts[c] == 0]
    return EvalData(
        dataset=data,
        description=f"{path}: {what}, {len(data)} images",
        class_map=class_map,
        missing=missing,
        skipped={k: v for k, v in skipped_here.items() if v},
        leaked=leaked,
        train_source=train_source,
        notes=notes,
        leak_kind="near" if near else "exact",
    )
