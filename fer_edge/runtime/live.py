"""Whether an OpenCV window can open here (the camera loop itself is ``session.CameraSession``)."""

from __future__ import annotations

import os
import sys

import cv2

WINDOW = "fer-edge (q or Esc quits)"


def display_available() -> tuple[bool, str]:
    """Whether an OpenCV window can open here, and if not, why (no display server, or an OpenCV built
    without GUI support such as opencv-python-headless)."""
    if sys.platform.startswith("linux") and not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")):
        return False, "no display (DISPLAY/WAYLAND_DISPLAY unset)"
    try:
        cv2.namedWindow(WINDOW, cv2.WINDOW_NORMAL)
    except cv2.error:
        return False, "this OpenCV has no GUI support (opencv-python-headless)"
    return True, ""
