"""Data hygiene: exact and near duplicates, cross-split leakage, conflicting labels, blank images.

What every count means (the JSON report repeats these definitions):

- **exact copy**: two images whose 48x48 pixels are identical, compared byte for byte (no hash
  collisions possible); lists name each picture by ``pixel_hash``, BLAKE2b-64 of its pixels.
- **duplicate group**: the >= 2 images that share one pixel content. ``files_in_groups`` counts
  the images in such groups; ``redundant_copies`` = images - distinct pixel contents (per group,
  its size minus one): the images that could be removed without losing a picture.
- **across usage A -> B**: images tagged A whose exact pixels also occur among images tagged B.
- **conflicting group**: a duplicate group whose copies (within the scope counted) carry two or
  more different labels; counted as groups (distinct pictures) and as files.
- **near-blank**: pixel standard deviation below ``blank_std`` grey levels (constant images have 0).
- **near duplicate**: two *different* pixel contents whose 64-bit DCT perceptual hashes differ in at
  most ``hamming`` bits; reported apart from exact copies, per distinct picture.
"""

from __future__ import annotations

import csv
import hashlib
import json
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np

from fer_edge.atomic import atomic_path
from fer_edge.data.dataset import IMAGE_SIZE, FerDataset
from fer_edge.labels import EMOTIONS, NUM_CLASSES, USAGES

#: Images with a pixel standard deviation below this are near-blank (FER-2013's blanks have 0.0,
#: its least varied faces about 40).
BLANK_STD = 5.0
#: Default Hamming threshold for near duplicates on the 64-bit perceptual hash.
HAMMING = 4
UNKNOWN_USAGE = "unknown"

DEFINITIONS = {
    "exact_copy": "identical 48x48 pixels, compared byte for byte",
    "files_in_groups": "images sharing their exact pixels with at least one other image in the scope",
    "groups": "distinct pixel contents that occur two or more times in the scope",
    "redundant_copies": "images in the scope minus distinct pixel contents (sum over groups of size - 1)",
    "across_usage": "across_usage[A][B] = images tagged A whose exact pixels also occur among images tagged B",
    "conflicting": "duplicate groups (and their files) whose copies in the scope carry two or more labels",
    "near_blank": "images whose pixel standard deviation is below threshold_std grey levels",
    "near_duplicates": "pairs of distinct pixel contents whose 64-bit DCT pHashes differ in <= hamming bits",
    "pixel_hash": "BLAKE2b (8-byte digest) of the image's 2,304 pixel bytes",
}


# ---------------------------------------------------------------- exact copies


def pixel_groups(images: np.ndarray) -> np.ndarray:
    """Group id per image: equal ids <=> identical pixels; ids numbered by first appearance."""
    n = len(images)
    if n == 0:
        return np.zeros(0, np.int64)
    flat = np.ascontiguousarray(images.reshape(n, -1))
    rows = flat.view(np.dtype((np.void, flat.shape[1])))[:, 0]
    _, first, inverse = np.unique(rows, return_index=True, return_inverse=True)
    rank = np.empty(len(first), np.int64)
    rank[np.argsort(first, kind="stable")] = np.arange(len(first))
    return rank[inverse.reshape(-1)]


def duplicate_groups(ds: FerDataset) -> np.ndarray:
    """Group id per image of ``ds`` (copies share an id): the ``groups`` of a grouped split."""
    return pixel_groups(ds.images)


def near_duplicate_groups(ds: FerDataset, hamming: int = HAMMING) -> np.ndarray:
    """Group id per image: exact copies, joined with near duplicates (pHash within ``hamming`` bits).

    Connected components over the exact groups, so near-duplicate chains merge; on FER-2013 at
    the default 4 bits the largest component holds 11 distinct pictures.
    """
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    groups = pixel_groups(ds.images)
    if len(groups) == 0:
        return groups
    n = int(groups.max()) + 1
    first = np.full(n, -1, np.int64)
    first[groups[::-1]] = np.arange(len(groups))[::-1]  # one representative image per group
    i, j, _ = near_pairs(phash(ds.images[first]), hamming)
    _, component = connected_components(coo_matrix((np.ones(len(i)), (i, j)), shape=(n, n)), directed=False)
    return component.astype(np.int64)[groups]


def leakage_mask(test: FerDataset, train: FerDataset, near: bool = False, hamming: int = HAMMING) -> np.ndarray:
    """True for each image of ``test`` whose exact pixels (``near``: or a near duplicate) also occur in ``train``."""
    if near:
        groups = near_duplicate_groups(FerDataset.concat([test, train]), hamming)
    else:
        groups = pixel_groups(np.concatenate([test.images, train.images]))
    return np.isin(groups[: len(test)], groups[len(test) :])


def pixel_hash(image: np.ndarray) -> str:
    return hashlib.blake2b(np.ascontiguousarray(image, dtype=np.uint8).tobytes(), digest_size=8).hexdigest()


def _in_duplicate_group(groups: np.ndarray) -> np.ndarray:
    return np.bincount(groups)[groups] > 1 if len(groups) else np.zeros(0, bool)


def conflict_mask(groups: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """True for images whose copies (same group id) carry more than one distinct label."""
    if len(groups) == 0:
        return np.zeros(0, bool)
    pairs = np.unique(groups * NUM_CLASSES + labels)
    labels_per_group = np.bincount(pairs // NUM_CLASSES, minlength=int(groups.max()) + 1)
    return labels_per_group[groups] > 1


def _scope_counts(groups: np.ndarray, labels: np.ndarray) -> dict[str, int]:
    in_group = _in_duplicate_group(np.unique(groups, return_inverse=True)[1].reshape(-1))
    conflicting = conflict_mask(groups, labels) & in_group
    return {
        "images": int(len(groups)),
        "distinct": int(len(np.unique(groups))),
        "files_in_groups": int(in_group.sum()),
        "groups": int(len(np.unique(groups[in_group]))),
        "redundant_copies": int(len(groups) - len(np.unique(groups))),
        "conflicting_groups": int(len(np.unique(groups[conflicting]))),
        "conflicting_files": int(conflicting.sum()),
    }


# ---------------------------------------------------------------- blank images


_CHUNK = 2048  # images per step: float copies stay in cache instead of one 300 MB array


def pixel_std(images: np.ndarray) -> np.ndarray:
    """Pixel standard deviation per image (float64, exact to ~1e-12)."""
    flat = images.reshape(len(images), -1)
    out = np.empty(len(images))
    for s in range(0, len(images), _CHUNK):
        x = flat[s : s + _CHUNK].astype(np.float64)
        mean = x.mean(axis=1)
        out[s : s + _CHUNK] = np.sqrt(np.maximum(np.einsum("ij,ij->i", x, x) / x.shape[1] - mean**2, 0.0))
    return out


# ---------------------------------------------------------------- perceptual hash


def _dct_matrix(n: int) -> np.ndarray:
    """Orthonormal DCT-II matrix (rows are basis functions)."""
    k = np.arange(n)[:, None]
    m = np.cos(np.pi * (2 * np.arange(n)[None, :] + 1) * k / (2 * n)) * np.sqrt(2 / n)
    m[0] /= np.sqrt(2)
    return m


def _area_resize_matrix(src: int, dst: int) -> np.ndarray:
    """R (dst x src) with R @ X @ R.T equal to an area-average resize of X (like cv2.INTER_AREA)."""
    edges = np.linspace(0, src, dst + 1)
    r = np.zeros((dst, src))
    for i in range(dst):
        for j in range(src):
            r[i, j] = max(0.0, min(edges[i + 1], j + 1) - max(edges[i], j))
    return r / r.sum(axis=1, keepdims=True)


_PHASH_SIZE, _PHASH_BITS = 32, 8
_PHASH_M = _dct_matrix(_PHASH_SIZE)[:_PHASH_BITS] @ _area_resize_matrix(IMAGE_SIZE, _PHASH_SIZE)  # 8 x 48
#: coefficient (i, l) = sum_jk M[i, j] X[j, k] M[l, k]: one 2304 x 64 matrix on the flat pixels.
_PHASH_K = np.ascontiguousarray(np.einsum("ij,lk->jkil", _PHASH_M, _PHASH_M).reshape(IMAGE_SIZE * IMAGE_SIZE, 64))


def phash(images: np.ndarray) -> np.ndarray:
    """64-bit DCT perceptual hash per image (uint64), as imagehash.phash computes it.

    The image is area-resized to 32x32, its 8x8 lowest DCT frequencies kept, and each bit set
    where a coefficient exceeds their median. Both steps are linear, so they fold into one 8x48
    matrix applied on both sides of every image, here one 2304 x 64 product on the flat pixels.
    """
    flat = images.reshape(len(images), -1)
    coeffs = np.empty((len(images), 64))
    for s in range(0, len(images), _CHUNK):
        coeffs[s : s + _CHUNK] = flat[s : s + _CHUNK].astype(np.float64) @ _PHASH_K
    bits = coeffs > np.median(coeffs, axis=1, keepdims=True)
    return np.packbits(bits, axis=1, bitorder="little").view(np.uint64).reshape(-1)


_POPCOUNT8 = np.array([bin(i).count("1") for i in range(256)], np.uint8)


def _popcount(x: np.ndarray) -> np.ndarray:
    if hasattr(np, "bitwise_count"):  # NumPy >= 2.0
        return np.bitwise_count(x)
    return _POPCOUNT8[x.view(np.uint8)].reshape(*x.shape, 8).sum(axis=-1)


def hamming_distance(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Differing bits between 64-bit hashes (broadcasting)."""
    return _popcount(np.bitwise_xor(a, b))


def near_pairs(hashes: np.ndarray, max_distance: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """All index pairs i < j whose hashes differ in <= ``max_distance`` bits, with the distance.

    Brute force in blocks of rows (n^2/2 XOR + popcount, about 4 M element temporaries at a time):
    a few seconds for FER-2013's 34,000 distinct images.
    """
    hi, hj, hd = [], [], []
    n = len(hashes)
    block = max(16, (1 << 22) // max(n, 1))
    for start in range(0, n, block):
        a = hashes[start : start + block]
        d = _popcount(a[:, None] ^ hashes[None, start:])
        i, j = np.nonzero(d <= max_distance)
        keep = start + i < start + j
        hi.append(start + i[keep])
        hj.append(start + j[keep])
        hd.append(d[i[keep], j[keep]])
    if not hi:
        return np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0, np.int64)
    return (
        np.concatenate(hi).astype(np.int64),
        np.concatenate(hj).astype(np.int64),
        np.concatenate(hd).astype(np.int64),
    )


# ---------------------------------------------------------------- the audit


def usage_names(ds: FerDataset) -> np.ndarray:
    return np.array([u or UNKNOWN_USAGE for u in ds.usage], dtype=object)


def _usage_order(names: np.ndarray) -> list[str]:
    present = set(names.tolist())
    order = [*USAGES, UNKNOWN_USAGE]
    return sorted(present, key=lambda u: (order.index(u) if u in order else len(order), u))


@dataclass(frozen=True)
class NearDuplicates:
    """Near pairs between distinct pictures: ``first``/``second`` are group ids (see ``Audit.groups``)."""

    hamming: int
    first: np.ndarray
    second: np.ndarray
    distance: np.ndarray


@dataclass(frozen=True)
class Audit:
    ds: FerDataset
    groups: np.ndarray  # exact-copy group id per image
    std: np.ndarray  # pixel standard deviation per image
    blank_std: float
    near: NearDuplicates | None = None

    @cached_property
    def usages(self) -> np.ndarray:
        return usage_names(self.ds)

    @cached_property
    def usage_order(self) -> list[str]:
        return _usage_order(self.usages)

    @cached_property
    def group_sizes(self) -> np.ndarray:
        return np.bincount(self.groups)

    @cached_property
    def conflicting(self) -> np.ndarray:
        """Per image: its group carries two or more labels over the whole dataset."""
        return conflict_mask(self.groups, self.ds.labels)

    @cached_property
    def blank(self) -> np.ndarray:
        return self.std < self.blank_std

    def copy_in(self, usage: str) -> np.ndarray:
        """Per image: its exact pixels occur among the images tagged ``usage`` (itself excluded)."""
        members = self.usages == usage
        count = np.bincount(self.groups[members], minlength=len(self.group_sizes))[self.groups]
        return count - members > 0

    def _near_in(self, usage: str) -> np.ndarray:
        """Per image: a near (not exact) copy occurs among the images tagged ``usage``."""
        if self.near is None:
            return np.zeros(len(self.groups), bool)
        has = np.bincount(self.groups[self.usages == usage], minlength=len(self.group_sizes)) > 0
        hit = np.zeros(len(self.group_sizes), bool)
        a, b = self.near.first, self.near.second
        hit[a[has[b]]] = True
        hit[b[has[a]]] = True
        return hit[self.groups]

    def summary(self) -> dict[str, Any]:
        ds, usages, order = self.ds, self.usages, self.usage_order
        within = {u: _scope_counts(self.groups[usages == u], ds.labels[usages == u]) for u in order}
        across = {
            a: {b: int((self.copy_in(b) & (usages == a)).sum()) for b in order if b != a}
            for a in order
            if len(order) > 1
        }
        test_usages = [u for u in order if u in USAGES[1:]]
        counts_all = np.bincount(ds.labels, minlength=NUM_CLASSES)
        present = counts_all[counts_all > 0]
        out: dict[str, Any] = {
            "images": len(ds),
            "distinct_images": int(len(self.group_sizes)),
            "usage": {u: int((usages == u).sum()) for u in order},
            "class_balance": {
                "all": dict(zip(EMOTIONS, counts_all.tolist())),
                **{u: ds.subset(usages == u).class_counts() for u in order},
                "largest_to_smallest": round(float(present.max() / present.min()), 2) if len(present) else None,
            },
            "exact_duplicates": {
                "all": _scope_counts(self.groups, ds.labels),
                "within_usage": within,
                "across_usage": across,
                "test_with_copy_in_training": {
                    u: int((self.copy_in("Training") & (usages == u)).sum()) for u in test_usages
                }
                if "Training" in order
                else {},
            },
            "near_blank": {
                "threshold_std": self.blank_std,
                "files": int(self.blank.sum()),
                "distinct": int(len(np.unique(self.groups[self.blank]))),
                "by_usage": {u: int((self.blank & (usages == u)).sum()) for u in order},
            },
            "near_duplicates": None,
            "definitions": DEFINITIONS,
        }
        if self.near is not None:
            near_groups = np.unique(np.concatenate([self.near.first, self.near.second]))
            out["near_duplicates"] = {
                "hamming": self.near.hamming,
                "pairs": int(len(self.near.first)),
                "files": int(np.isin(self.groups, near_groups).sum()),
                "across_usage_not_exact": {
                    a: {b: int((self._near_in(b) & ~self.copy_in(b) & (usages == a)).sum()) for b in order if b != a}
                    for a in order
                    if len(order) > 1
                },
            }
        return out

    # ---- lists of offending files

    def duplicate_rows(self) -> list[dict[str, Any]]:
        """One row per image that has an exact copy anywhere in the dataset, grouped."""
        idx = np.flatnonzero(self.group_sizes[self.groups] > 1)
        idx = idx[np.lexsort((idx, self.groups[idx]))]
        rows = []
        for g in np.unique(self.groups[idx]):
            members = idx[self.groups[idx] == g]
            usages = sorted(set(self.usages[members].tolist()), key=self.usage_order.index)
            labels = sorted(set(self.ds.labels[members].tolist()))
            digest = pixel_hash(self.ds.images[members[0]])
            for i in members:
                rows.append(
                    {
                        "group": int(g),
                        "pixel_hash": digest,
                        "group_size": int(len(members)),
                        "source": self.ds.sources[i],
                        "usage": self.usages[i],
                        "label": int(self.ds.labels[i]),
                        "emotion": EMOTIONS[self.ds.labels[i]],
                        "group_usages": "+".join(usages),
                        "group_labels": "+".join(EMOTIONS[lbl] for lbl in labels),
                        "conflicting": bool(len(labels) > 1),
                        "across_usage": bool(len(usages) > 1),
                        "near_blank": bool(self.blank[i]),
                    }
                )
        return rows

    def blank_rows(self) -> list[dict[str, Any]]:
        return [
            {
                "source": self.ds.sources[i],
                "usage": self.usages[i],
                "label": int(self.ds.labels[i]),
                "emotion": EMOTIONS[self.ds.labels[i]],
                "std": round(float(self.std[i]), 3),
                "group": int(self.groups[i]),
            }
            for i in np.flatnonzero(self.blank)
        ]

    def near_rows(self) -> list[dict[str, Any]]:
        if self.near is None:
            return []
        first_member = np.full(len(self.group_sizes), -1, np.int64)
        first_member[self.groups[::-1]] = np.arange(len(self.groups))[::-1]
        rows = []
        for a, b, d in zip(self.near.first, self.near.second, self.near.distance):
            i, j = first_member[a], first_member[b]
            rows.append(
                {
                    "hamming": int(d),
                    "source_a": self.ds.sources[i],
                    "usage_a": self.usages[i],
                    "emotion_a": EMOTIONS[self.ds.labels[i]],
                    "copies_a": int(self.group_sizes[a]),
                    "source_b": self.ds.sources[j],
                    "usage_b": self.usages[j],
                    "emotion_b": EMOTIONS[self.ds.labels[j]],
                    "copies_b": int(self.group_sizes[b]),
                }
            )
        return rows


def audit_dataset(ds: FerDataset, near: bool = False, hamming: int = HAMMING, blank_std: float = BLANK_STD) -> Audit:
    """Exact copies, conflicts, blanks and class balance; near duplicates too when ``near``."""
    groups = pixel_groups(ds.images)
    near_dups = None
    if near:
        first = np.full(int(groups.max()) + 1 if len(groups) else 0, -1, np.int64)
        first[groups[::-1]] = np.arange(len(groups))[::-1]  # one representative image per group
        i, j, d = near_pairs(phash(ds.images[first]), hamming)
        near_dups = NearDuplicates(hamming, i, j, d)
    return Audit(ds, groups, pixel_std(ds.images), blank_std, near_dups)


# ---------------------------------------------------------------- writing and printing

OUTPUT_FILES = ("audit.json", "duplicates.csv", "near_blank.csv", "near_duplicates.csv")


def _write_csv(path: Path, rows: list[dict[str, Any]], fields: list[str]) -> None:
    with open(path, "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=fields)
        w.writeheader()
        w.writerows(rows)


def save_audit(result: Audit, out: Path, dataset: str, force: bool = False) -> Path:
    """Write ``audit.json`` (summary + lists) and the CSV lists into the folder ``out``, atomically."""
    dup, blank, near = result.duplicate_rows(), result.blank_rows(), result.near_rows()
    groups: dict[int, dict[str, Any]] = {}
    for r in dup:
        g = groups.setdefault(
            r["group"],
            {
                "group": r["group"],
                "pixel_hash": r["pixel_hash"],
                "usages": r["group_usages"].split("+"),
                "labels": r["group_labels"].split("+"),
                "conflicting": r["conflicting"],
                "sources": [],
            },
        )
        g["sources"].append(r["source"])
    doc = {
        "dataset": dataset,
        **result.summary(),
        "lists": {
            "duplicate_groups": list(groups.values()),
            "near_blank": [r["source"] for r in blank],
            "near_duplicate_pairs": near if result.near is not None else None,
        },
    }
    with atomic_path(Path(out), force=force, directory=True) as tmp:
        (tmp / "audit.json").write_text(json.dumps(doc, indent=2) + "\n")
        _write_csv(tmp / "duplicates.csv", dup, list(dup[0]) if dup else _DUP_FIELDS)
        _write_csv(tmp / "near_blank.csv", blank, ["source", "usage", "label", "emotion", "std", "group"])
        if result.near is not None:
            _write_csv(tmp / "near_duplicates.csv", near, _NEAR_FIELDS)
    return Path(out)


_DUP_FIELDS = [
    "group",
    "pixel_hash",
    "group_size",
    "source",
    "usage",
    "label",
    "emotion",
    "group_usages",
    "group_labels",
    "conflicting",
    "across_usage",
    "near_blank",
]
_NEAR_FIELDS = [
    "hamming",
    "source_a",
    "usage_a",
    "emotion_a",
    "copies_a",
    "source_b",
    "usage_b",
    "emotion_b",
    "copies_b",
]


def format_summary(summary: dict[str, Any]) -> str:
    """The printed form of ``Audit.summary()``: a few lines a person reads."""
    ex = summary["exact_duplicates"]
    lines = [
        f"{summary['images']:,} images, {summary['distinct_images']:,} distinct pixel contents; "
        + ", ".join(f"{u} {n:,}" for u, n in summary["usage"].items()),
        "exact duplicates (identical pixels):",
    ]
    for scope, c in [("all", ex["all"]), *ex["within_usage"].items()]:
        lines.append(
            f"  within {scope:<11} {c['redundant_copies']:>6,} redundant copies ({c['files_in_groups']:,} files in "
            f"{c['groups']:,} groups); conflicting labels: {c['conflicting_groups']:,} groups, "
            f"{c['conflicting_files']:,} files"
        )
    for a, row in ex["across_usage"].items():
        for b, n in row.items():
            lines.append(f"  {a} images with an exact copy in {b}: {n:,}")
    nb = summary["near_blank"]
    lines.append(
        f"near-blank (pixel std < {nb['threshold_std']:g}): {nb['files']:,} files ({nb['distinct']} distinct); "
        + ", ".join(f"{u} {n}" for u, n in nb["by_usage"].items())
    )
    nd = summary.get("near_duplicates")
    if nd:
        lines.append(
            f"near duplicates (pHash Hamming <= {nd['hamming']}, not exact): {nd['pairs']:,} pairs, {nd['files']:,} files"
        )
        for a, row in nd["across_usage_not_exact"].items():
            for b, n in row.items():
                if n:
                    lines.append(f"  {a} images with a near (not exact) copy in {b}: {n:,}")
    cb = summary["class_balance"]
    lines.append(
        "class balance: "
        + "  ".join(f"{k} {v:,}" for k, v in cb["all"].items())
        + f"  (largest/smallest {cb['largest_to_smallest']})"
    )
    return "\n".join(lines)
