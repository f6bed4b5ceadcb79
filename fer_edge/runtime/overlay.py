"""Drawing results onto a BGR frame: a box and a label per face, the frame rate in a corner."""

from __future__ import annotations

import math

import cv2
import numpy as np

from fer_edge.runtime.pipeline import FrameResult

#: BGR colour per emotion (unknown labels fall back to white)
COLOURS: dict[str, tuple[int, int, int]] = {
    "angry": (40, 40, 220),
    "disgust": (40, 140, 40),
    "fear": (160, 60, 160),
    "happy": (40, 200, 240),
    "sad": (200, 120, 40),
    "surprise": (230, 200, 40),
    "neutral": (200, 200, 200),
}
FONT = cv2.FONT_HERSHEY_SIMPLEX


def _text(img: np.ndarray, text: str, org: tuple[int, int], colour: tuple[int, int, int], scale: float) -> None:
    (tw, th), base = cv2.getTextSize(text, FONT, scale, 1)
    x, y = org
    y = max(th + base, y)
    cv2.rectangle(img, (x, y - th - base), (x + tw + 4, y + 2), (0, 0, 0), -1)
    cv2.putText(img, text, (x + 2, y - base // 2), FONT, scale, colour, 1, cv2.LINE_AA)


def draw_result(frame_bgr: np.ndarray, result: FrameResult, fps: float | None = None) -> np.ndarray:
    """Draw in place and return the frame: per face ``#id label score``; FPS top-left when given."""
    h = frame_bgr.shape[0]
    scale = max(0.4, h / 960)
    for face in result.faces:
        colour = COLOURS.get(face.label, (255, 255, 255))
        b = face.bbox
        p1, p2 = (int(b.x1), int(b.y1)), (int(b.x2), int(b.y2))
        cv2.rectangle(frame_bgr, p1, p2, colour, max(1, int(round(2 * scale))), cv2.LINE_AA)
        _text(frame_bgr, f"#{face.track_id} {face.label} {face.score:.0%}", (p1[0], p1[1] - 4), colour, scale)
    if fps is not None and not math.isnan(fps):
        _text(frame_bgr, f"{fps:.1f} FPS", (4, 4), (255, 255, 255), scale)
    return frame_bgr
