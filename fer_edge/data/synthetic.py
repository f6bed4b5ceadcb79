"""Deterministic synthetic 48x48 'faces' for the 7 classes: the embedded default data.

NOT FER-2013. Each class is a drawn expression (brows, eyes, mouth shaped per class) under
random pose, scale, lighting and noise, so a small CNN learns it quickly and the whole
toolchain (train, convert, evaluate, predict) can run end to end on a fresh machine.
"""

from __future__ import annotations

import cv2
import numpy as np

from fer_edge.data.dataset import IMAGE_SIZE, FerDataset
from fer_edge.labels import NUM_CLASSES

_S = 4  # draw at 4x and downsample, for anti-aliased strokes
_W = IMAGE_SIZE * _S

# Per class: brow inner/outer height offset, eye openness, mouth curve, mouth open height, mouth width.
_SHAPES = {
    0: dict(brow_in=7, brow_out=-5, eye=0.55, curve=-3, open=0, width=0.8),  # angry
    1: dict(brow_in=4, brow_out=0, eye=0.6, curve=-6, open=0, width=0.7, wrinkle=True, skew=True),  # disgust
    2: dict(brow_in=-9, brow_out=-3, eye=1.35, curve=-2, open=7, width=1.25),  # fear
    3: dict(brow_in=0, brow_out=0, eye=0.85, curve=14, open=0, width=1.15),  # happy
    4: dict(brow_in=-7, brow_out=5, eye=0.8, curve=-12, open=0, width=0.9),  # sad
    5: dict(brow_in=-12, brow_out=-12, eye=1.45, curve=0, open=18, width=0.6),  # surprise
    6: dict(brow_in=0, brow_out=0, eye=1.0, curve=0, open=0, width=1.0),  # neutral
}


def _curve(cx: float, cy: float, half_width: float, bend: float, n: int = 16) -> np.ndarray:
    """A parabola through the mouth corners; positive bend raises the corners (a smile)."""
    t = np.linspace(-1, 1, n)
    return np.stack([cx + t * half_width, cy - bend * t**2], axis=1)


def synthetic_face(label: int, rng: np.random.Generator) -> np.ndarray:
    """One 48x48 uint8 face of class ``label`` drawn with ``rng``'s variation."""
    shape = _SHAPES[int(label)]
    j = lambda s: rng.normal(0, s)  # noqa: E731 - small jitter helper
    bg = int(rng.integers(20, 235))
    skin = int(np.clip(bg + rng.choice([-1, 1]) * rng.integers(45, 110), 25, 235))
    feature = (
        int(np.clip(skin - rng.integers(70, 140), 0, 255))
        if skin > 110
        else min(255, skin + int(rng.integers(70, 140)))
    )
    img: np.ndarray = np.full((_W, _W), bg, np.uint8)
    c = _W / 2
    cv2.ellipse(img, (int(c), int(c + 8)), (int(68 + j(4)), int(86 + j(4))), 0, 0, 360, skin, -1, cv2.LINE_AA)
    lw = max(3, int(5 + j(1)))
    amp = 1.0 + j(0.15)  # how strongly the expression shows
    eye_y, eye_dx = c - 10 + j(2), 30 + j(2)
    for side in (-1, 1):
        ex = c + side * eye_dx
        h = max(2.0, 9 * shape["eye"] ** amp + j(0.8))
        cv2.ellipse(img, (int(ex), int(eye_y)), (int(13 + j(1)), int(h)), 0, 0, 360, feature, -1, cv2.LINE_AA)
        inner = (ex - side * 14, eye_y - 22 + amp * shape["brow_in"] + j(1.5))
        outer = (ex + side * 16, eye_y - 22 + amp * shape["brow_out"] + j(1.5))
        if shape.get("skew") and side == 1:
            inner, outer = (inner[0], inner[1] - 8), (outer[0], outer[1] - 6)
        cv2.line(img, tuple(int(v) for v in inner), tuple(int(v) for v in outer), feature, lw + 1, cv2.LINE_AA)
    if shape.get("wrinkle"):
        for k in (-1, 1):
            cv2.line(img, (int(c + k * 8), int(c + 10)), (int(c + k * 16), int(c + 22)), feature, 3, cv2.LINE_AA)
    mouth_y = c + 46 + j(2)
    half = 26 * shape["width"] * (1 + j(0.06))
    bend = amp * shape["curve"] + j(1.5)
    pts = _curve(c + j(1.5), mouth_y, half, bend)
    if shape.get("skew"):
        pts[:, 1] -= np.linspace(0, 9, len(pts))
    if shape["open"] > 0:
        o = amp * shape["open"] + j(1.5)
        lower = pts[::-1].copy()
        lower[:, 1] += o * np.sin(np.linspace(0, np.pi, len(pts)))
        poly = np.concatenate([pts, lower]).astype(np.int32)
        cv2.fillPoly(img, [poly], feature, cv2.LINE_AA)
    else:
        cv2.polylines(img, [pts.astype(np.int32)], False, feature, lw, cv2.LINE_AA)
    angle, scale = rng.uniform(-12, 12), rng.uniform(0.82, 1.12)
    m = np.asarray(cv2.getRotationMatrix2D((c, c), angle, scale), np.float64)  # float64 already; asarray types it
    m[:, 2] += rng.normal(0, 3 * _S, size=2)
    img = cv2.warpAffine(img, m, (_W, _W), borderValue=bg)
    small = cv2.resize(img, (IMAGE_SIZE, IMAGE_SIZE), interpolation=cv2.INTER_AREA).astype(np.float32)
    yy, xx = np.mgrid[0:IMAGE_SIZE, 0:IMAGE_SIZE] / IMAGE_SIZE - 0.5
    gx, gy = rng.normal(0, 40, size=2)
    small = small * rng.uniform(0.75, 1.2) + gx * xx + gy * yy + rng.normal(0, rng.uniform(2, 9), small.shape)
    return np.clip(small, 0, 255).astype(np.uint8)


def make_synthetic(n: int = 2100, seed: int = 0, splits: tuple[float, float, float] = (0.8, 0.1, 0.1)) -> FerDataset:
    """``n`` images, classes balanced, with usage tags Training/PublicTest/PrivateTest by ``splits``.

    The same ``n`` and ``seed`` give the same pixels on any machine (NumPy's PCG64 and OpenCV's
    deterministic drawing).
    """
    rng = np.random.default_rng(seed)
    labels = np.arange(n) % NUM_CLASSES
    rng.shuffle(labels)
    images = np.stack([synthetic_face(int(lbl), rng) for lbl in labels]) if n else np.zeros((0, 48, 48), np.uint8)
    cut1, cut2 = int(round(n * splits[0])), int(round(n * (splits[0] + splits[1])))
    usage = np.array(["Training"] * cut1 + ["PublicTest"] * (cut2 - cut1) + ["PrivateTest"] * (n - cut2), dtype=object)
    sources = np.array([f"synthetic:{seed}:{i}" for i in range(n)], dtype=object)
    return FerDataset(images, labels.astype(np.int64), usage, sources)
