"""What a classifier looked at: occlusion sensitivity through the runtime, overlays, and example grids.

Occlusion sensitivity (Zeiler & Fergus 2014) needs nothing but the model's outputs, so it runs on any
``.tflite`` with LiteRT alone (a Pi included): a grey square slides over the 48x48 face, every occluded
copy is classified in one batch, and each pixel's score is the mean drop in the predicted class's
probability over the squares that covered it. A large drop marks a region the prediction depends on.
Everything here is NumPy + OpenCV; no TensorFlow.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import cv2
import numpy as np

GREY = 128  # the occluder's pixel value (mid-grey, 0-255)
ROWS = ("upper", "middle", "lower")  # of the face crop: brows/eyes, nose/cheeks, mouth/chin
COLS = ("left", "centre", "right")  # as seen in the image (the person's right is the image's left)


class BatchClassifier(Protocol):
    labels: tuple[str, ...]

    def classify_batch(self, faces_gray: np.ndarray) -> np.ndarray: ...


@dataclass(frozen=True)
class Region:
    """One occluded square: where (x, y, side in face pixels), which part of the face, how much it mattered."""

    x: int
    y: int
    size: int
    drop: float  # probability of the explained class without the square minus with it (> 0: it helped)
    part: str  # e.g. "upper centre"

    def as_dict(self, scale: float = 1.0, origin: tuple[float, float] = (0.0, 0.0)) -> dict[str, Any]:
        """In face-crop pixels, plus the frame box when the crop's ``scale`` and ``origin`` are given."""
        out: dict[str, Any] = {
            "x": self.x,
            "y": self.y,
            "size": self.size,
            "drop": round(self.drop, 5),
            "part": self.part,
        }
        if scale != 1.0 or origin != (0.0, 0.0):
            out["frame_box"] = [
                round(origin[0] + self.x * scale, 1),
                round(origin[1] + self.y * scale, 1),
                round(origin[0] + (self.x + self.size) * scale, 1),
                round(origin[1] + (self.y + self.size) * scale, 1),
            ]
        return out


@dataclass(frozen=True)
class Occlusion:
    """The face's probabilities, the class explained, the per-pixel mean drop and the squares ranked by drop."""

    probs: np.ndarray  # (n_labels,) of the unoccluded face
    target: int
    heat: np.ndarray  # (H, W) float32 mean drop in P(target) over the squares covering each pixel
    regions: tuple[Region, ...]  # every square, largest drop first


def part_of(x: float, y: float, width: int, height: int) -> str:
    """The face third a point falls in, e.g. ``"lower centre"`` (the mouth, in a centred crop)."""
    row = ROWS[min(2, int(3 * y / height))]
    col = COLS[min(2, int(3 * x / width))]
    return f"{row} {col}"


def occlusion_positions(size: int, patch: int, stride: int) -> list[int]:
    """Top-left offsets of the squares along one axis; the last square always touches the edge."""
    if not 0 < patch <= size or stride < 1:
        raise ValueError(f"patch {patch} must be in 1..{size} and stride {stride} >= 1")
    pos = list(range(0, size - patch + 1, stride))
    if pos[-1] != size - patch:
        pos.append(size - patch)
    return pos


def occlude(
    classifier: BatchClassifier,
    face_gray: np.ndarray,
    patch: int = 12,
    stride: int = 4,
    target: int | None = None,
    fill: int = GREY,
) -> Occlusion:
    """Occlusion sensitivity of ``face_gray`` (H, W uint8) for ``target`` (default: the predicted class).

    All occluded copies go through ``classifier.classify_batch`` in one call (batched invokes), after
    the unoccluded face, so the drop is measured with the classifier's own (calibrated) probabilities.
    """
    face = np.asarray(face_gray, np.uint8)
    h, w = face.shape
    ys, xs = occlusion_positions(h, patch, stride), occlusion_positions(w, patch, stride)
    squares = [(x, y) for y in ys for x in xs]
    batch = np.repeat(face[None], len(squares) + 1, axis=0)
    for i, (x, y) in enumerate(squares, start=1):
        batch[i, y : y + patch, x : x + patch] = fill
    out = classifier.classify_batch(batch)
    probs = out[0]
    target = int(np.argmax(probs)) if target is None else int(target)
    drops = probs[target] - out[1:, target]
    total = np.zeros((h, w), np.float64)
    count = np.zeros((h, w), np.float64)
    for (x, y), d in zip(squares, drops):
        total[y : y + patch, x : x + patch] += d
        count[y : y + patch, x : x + patch] += 1
    heat = (total / np.maximum(count, 1)).astype(np.float32)
    order = np.argsort(-drops, kind="stable")
    regions = tuple(
        Region(
            squares[i][0],
            squares[i][1],
            patch,
            float(drops[i]),
            part_of(squares[i][0] + patch / 2, squares[i][1] + patch / 2, w, h),
        )
        for i in order
    )
    return Occlusion(np.asarray(probs), target, heat, regions)


def distinct_regions(regions: Sequence[Region], k: int = 3, max_overlap: float = 0.25) -> list[Region]:
    """The ``k`` largest-drop squares that overlap each other by at most ``max_overlap`` of a square."""
    chosen: list[Region] = []
    for r in regions:
        if len(chosen) == k:
            break
        if all(_overlap(r, c) <= max_overlap for c in chosen):
            chosen.append(r)
    return chosen


def _overlap(a: Region, b: Region) -> float:
    ix = max(0, min(a.x + a.size, b.x + b.size) - max(a.x, b.x))
    iy = max(0, min(a.y + a.size, b.y + b.size) - max(a.y, b.y))
    return ix * iy / float(a.size * b.size)


def heat_overlay(face_gray: np.ndarray, heat: np.ndarray, size: int = 192, alpha: float = 0.45) -> np.ndarray:
    """A BGR ``size`` x ``size`` image: the face with the heat map (drops > 0, scaled to its maximum) over it."""
    face = cv2.resize(np.asarray(face_gray, np.uint8), (size, size), interpolation=cv2.INTER_CUBIC)
    base = cv2.cvtColor(face, cv2.COLOR_GRAY2BGR)
    pos = np.clip(heat, 0, None)
    peak = float(pos.max())
    norm = (pos / peak) if peak > 0 else pos
    colour = cv2.applyColorMap(
        cv2.resize((255 * norm).astype(np.uint8), (size, size), interpolation=cv2.INTER_CUBIC), cv2.COLORMAP_JET
    )
    weight = (alpha * cv2.resize(norm.astype(np.float32), (size, size)))[..., None]
    blended: np.ndarray = (base * (1 - weight) + colour * weight).astype(np.uint8)
    return blended


def _caption(
    img: np.ndarray, lines: Sequence[str], height: int = 16, colour: tuple[int, int, int] = (255, 255, 255)
) -> np.ndarray:
    bar = np.zeros((height * len(lines) + 4, img.shape[1], 3), np.uint8)
    for i, text in enumerate(lines):
        cv2.putText(bar, text, (4, height * (i + 1) - 3), cv2.FONT_HERSHEY_SIMPLEX, 0.42, colour, 1, cv2.LINE_AA)
    return np.vstack([img, bar])


def explanation_panel(
    face_gray: np.ndarray,
    heat: np.ndarray,
    labels: Sequence[str],
    probs: np.ndarray,
    target: int,
    regions: Sequence[Region] = (),
    method: str = "occlusion",
    size: int = 192,
) -> np.ndarray:
    """Face | heat overlay side by side (BGR), the top squares outlined, with the prediction as a caption."""
    face = cv2.cvtColor(
        cv2.resize(np.asarray(face_gray, np.uint8), (size, size), interpolation=cv2.INTER_CUBIC), cv2.COLOR_GRAY2BGR
    )
    over = heat_overlay(face_gray, heat, size)
    k = size / face_gray.shape[1]
    for r in regions:
        cv2.rectangle(
            over,
            (int(r.x * k), int(r.y * k)),
            (int((r.x + r.size) * k) - 1, int((r.y + r.size) * k) - 1),
            (255, 255, 255),
            1,
        )
    top = np.argsort(-probs)[:2]
    lines = [
        f"{labels[target]} {probs[target]:.2f} ({method})",
        "next: " + ", ".join(f"{labels[i]} {probs[i]:.2f}" for i in top if i != target)[:40],
    ]
    return _caption(np.hstack([face, over]), lines)


@dataclass(frozen=True)
class GridPick:
    """The examples a grid shows per class: indices of correct and of wrong predictions (most confident first)."""

    correct: dict[int, list[int]]
    wrong: dict[int, list[int]]


def pick_examples(probs: np.ndarray, labels: np.ndarray, per_class: int = 4, seed: int = 0) -> GridPick:
    """Per true class, ``per_class`` correct and ``per_class`` wrong examples drawn at random (``seed``),
    then shown most confident first, so the grid is neither cherry-picked nor only the easiest faces."""
    rng = np.random.default_rng(seed)
    pred = probs.argmax(1)
    conf = probs.max(1)
    correct: dict[int, list[int]] = {}
    wrong: dict[int, list[int]] = {}
    for c in range(probs.shape[1]):
        for ok, store in ((True, correct), (False, wrong)):
            idx = np.flatnonzero((labels == c) & ((pred == c) == ok))
            take = rng.choice(idx, size=min(per_class, len(idx)), replace=False) if len(idx) else idx
            store[c] = [int(i) for i in sorted(take, key=lambda i: -conf[i])]
    return GridPick(correct, wrong)


def example_grid(
    images: np.ndarray,
    probs: np.ndarray,
    labels: np.ndarray,
    names: Sequence[str],
    per_class: int = 4,
    seed: int = 0,
    cell: int = 72,
) -> np.ndarray:
    """Paper 1's Fig. 11 as one BGR image: a row per true class, ``per_class`` correct faces (green
    caption: the prediction) then ``per_class`` wrong ones (red caption: what the model said instead)."""
    pick = pick_examples(probs, labels, per_class, seed)
    label_w, cap = 78, 14
    header = np.full((22, label_w + 2 * per_class * cell + 8, 3), 255, np.uint8)
    cv2.putText(header, "correct", (label_w + 4, 16), cv2.FONT_HERSHEY_SIMPLEX, 0.5, (0, 120, 0), 1, cv2.LINE_AA)
    cv2.putText(
        header,
        "wrong",
        (label_w + per_class * cell + 12, 16),
        cv2.FONT_HERSHEY_SIMPLEX,
        0.5,
        (0, 0, 200),
        1,
        cv2.LINE_AA,
    )
    rows = [header]
    for c, name in enumerate(names):
        row = np.full((cell + cap, header.shape[1], 3), 255, np.uint8)
        cv2.putText(row, name, (4, cell // 2 + 6), cv2.FONT_HERSHEY_SIMPLEX, 0.5, (0, 0, 0), 1, cv2.LINE_AA)
        for block, (ids, colour) in enumerate(((pick.correct[c], (0, 120, 0)), (pick.wrong[c], (0, 0, 200)))):
            for j, i in enumerate(ids):
                x = label_w + block * (per_class * cell + 8) + j * cell
                face = cv2.resize(images[i], (cell - 4, cell - 4), interpolation=cv2.INTER_CUBIC)
                row[2 : cell - 2, x + 2 : x + cell - 2] = face[..., None]
                p = int(probs[i].argmax())
                text = f"{names[p][:7]} {probs[i, p]:.2f}"
                cv2.putText(row, text, (x + 2, cell + cap - 4), cv2.FONT_HERSHEY_SIMPLEX, 0.33, colour, 1, cv2.LINE_AA)
        rows.append(row)
    return np.vstack(rows)
