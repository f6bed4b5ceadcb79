"""fer-edge: facial-expression recognition from a research table to a camera on a Raspberry Pi.

The public API (``fer_edge.EmotionRecognizer``, ``fer_edge.CameraSession`` and their options and results; see
``fer_edge.api``) is loaded on first use, so ``import fer_edge`` stays light. Importing the package (and anything
under ``fer_edge.runtime`` or ``fer_edge.data``) never imports TensorFlow; only ``fer_edge.models``,
``fer_edge.training`` and ``fer_edge.convert`` do.
"""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version
from typing import TYPE_CHECKING, Any

try:
    __version__ = version("fer-edge")
except PackageNotFoundError:  # running from a source tree that is not installed
    __version__ = "0.0.0+unknown"

if TYPE_CHECKING:
    from fer_edge.api import (
        UNCERTAIN,
        BBox,
        CameraOptions,
        CameraSession,
        CameraSettings,
        CameraSummary,
        EmotionRecognizer,
        FaceResult,
        FerEdgeError,
        Frame,
        FrameResult,
        RecognizerOptions,
    )

__all__ = [
    "__version__",
    "UNCERTAIN",
    "BBox",
    "CameraOptions",
    "CameraSession",
    "CameraSettings",
    "CameraSummary",
    "EmotionRecognizer",
    "FaceResult",
    "FerEdgeError",
    "Frame",
    "FrameResult",
    "RecognizerOptions",
]
_PUBLIC = frozenset(__all__) - {"__version__"}


def __getattr__(name: str) -> Any:
    if name in _PUBLIC:
        from fer_edge import api

        return getattr(api, name)
    raise AttributeError(f"module 'fer_edge' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(__all__)
