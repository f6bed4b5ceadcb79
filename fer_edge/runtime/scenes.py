"""Generated scenes: a drawn face BlazeFace detects (about 0.9 from 150 px up), frames and videos of it.

For tests, benchmarks, ``fer-edge bench`` and ``fer-edge demo``: a camera stand-in that needs no
data. The faces are cartoons; what a classifier says about them means nothing.
"""

from __future__ import annotations

import cv2
import numpy as np

from fer_edge.runtime.video import write_video  # noqa: F401 - the test scenes are written with it

FRAME_W, FRAME_H = 640, 480


def draw_face(img: np.ndarray, cx: int, cy: int, s: int, skin: tuple[int, int, int] = (140, 170, 215)) -> np.ndarray:
    """Draw (in place) a frontal cartoon face about ``s`` px tall centred at (cx, cy): hair, ears, skin
    oval, eyes with whites and pupils, brows, nose, lips and neck. BlazeFace scores it about 0.9 from
    s=150 up; fer-edge's 48x48 synthetic faces, upscaled, only reach 0.5-0.6."""

    def shade(f: float) -> tuple[int, int, int]:
        return tuple(int(c * f) for c in skin)  # type: ignore[return-value]

    hair, aa = (30, 40, 60), cv2.LINE_AA
    a, b = int(0.36 * s), int(0.5 * s)
    cv2.ellipse(img, (cx, cy - int(0.08 * s)), (int(a * 1.12), int(b * 1.05)), 0, 180, 360, hair, -1, aa)
    cv2.rectangle(
        img, (cx - int(0.15 * s), cy + int(0.35 * s)), (cx + int(0.15 * s), cy + int(0.75 * s)), shade(0.85), -1
    )
    for side in (-1, 1):
        cv2.ellipse(img, (cx + side * a, cy), (int(0.06 * s), int(0.1 * s)), 0, 0, 360, shade(0.9), -1, aa)
    cv2.ellipse(img, (cx, cy), (a, b), 0, 0, 360, skin, -1, aa)
    cv2.ellipse(img, (cx, cy - int(0.32 * s)), (int(a * 0.98), int(0.2 * s)), 0, 180, 360, hair, -1, aa)
    ey, ex = cy - int(0.06 * s), int(0.15 * s)
    for side in (-1, 1):
        x = cx + side * ex
        cv2.ellipse(img, (x, ey), (int(0.075 * s), int(0.035 * s)), 0, 0, 360, (245, 245, 245), -1, aa)
        cv2.circle(img, (x, ey), int(0.028 * s), (50, 60, 90), -1, aa)
        cv2.circle(img, (x, ey), int(0.012 * s), (10, 10, 10), -1, aa)
        cv2.ellipse(img, (x, ey), (int(0.075 * s), int(0.035 * s)), 0, 0, 360, (60, 70, 90), 2, aa)
        brow = ((x - int(0.08 * s), ey - int(0.08 * s)), (x + int(0.08 * s), ey - int(0.09 * s)))
        cv2.line(img, *brow, hair, max(2, int(0.02 * s)), aa)
    nose = np.array(
        [[cx, ey + int(0.02 * s)], [cx - int(0.05 * s), cy + int(0.14 * s)], [cx + int(0.05 * s), cy + int(0.14 * s)]]
    )
    cv2.polylines(img, [nose.astype(np.int32)], False, shade(0.7), 2, aa)
    for side in (-1, 1):
        cv2.circle(img, (cx + side * int(0.03 * s), cy + int(0.14 * s)), int(0.012 * s), shade(0.5), -1, aa)
    my = cy + int(0.27 * s)
    cv2.ellipse(img, (cx, my), (int(0.12 * s), int(0.03 * s)), 0, 0, 180, (60, 60, 170), -1, aa)
    cv2.ellipse(img, (cx, my), (int(0.12 * s), int(0.025 * s)), 0, 180, 360, (80, 80, 180), -1, aa)
    return img


BACKGROUND = (120, 150, 110)


def face_scene(
    centres: list[tuple[int, int]] | tuple[int, int] = (320, 240),
    s: int = 200,
    skins: list[tuple[int, int, int]] | None = None,
    size: tuple[int, int] = (FRAME_W, FRAME_H),
) -> np.ndarray:
    """A BGR frame with one drawn face per centre on a flat green background."""
    if isinstance(centres, tuple):
        centres = [centres]
    frame = np.empty((size[1], size[0], 3), np.uint8)
    frame[:] = BACKGROUND
    for i, (cx, cy) in enumerate(centres):
        draw_face(frame, cx, cy, s, skins[i] if skins else (140, 170, 215))
    return frame


def generated_frames(count: int, width: int = 640, height: int = 480, seed: int = 0) -> list[np.ndarray]:
    """``count`` BGR frames (at most 30 distinct, reused cyclically) with one face drifting a little
    and sensor-like noise, so the detector and tracker see a moving scene, not one cached image."""
    rng = np.random.default_rng(seed)
    frames = []
    for i in range(min(count, 30)):
        img = np.empty((height, width, 3), np.uint8)
        img[:] = BACKGROUND
        s = int(min(width, height) * 0.42)
        draw_face(img, width // 2 + int(12 * np.sin(i / 5)), height // 2 + int(8 * np.cos(i / 7)), s)
        noise = rng.normal(0, 4, img.shape)
        frames.append(np.clip(img + noise, 0, 255).astype(np.uint8))
    return [frames[i % len(frames)] for i in range(count)]
