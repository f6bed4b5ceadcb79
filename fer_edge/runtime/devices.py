"""Device profiles (``--device NAME``): recommended threads, precision, detector and camera settings,
read from ``fer_edge/assets/devices/NAME.json``. Options given on the command line win over a profile."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fer_edge.errors import FerEdgeError
from fer_edge.runtime.model_file import PRECISIONS

DEVICES_DIR = Path(__file__).resolve().parent.parent / "assets" / "devices"
#: what a profile may ask for: the precisions fer-edge ships as default-<precision>.tflite
PROFILE_PRECISIONS = tuple(p for p in reversed(PRECISIONS) if p != "dynamic")


@dataclass(frozen=True)
class DeviceProfile:
    name: str
    threads: int
    precision: str
    detect_every: int
    min_score: float
    camera_width: int
    camera_height: int
    camera_fps: int
    path: Path


def available_profiles(directory: Path | None = None) -> list[str]:
    folder = Path(directory) if directory is not None else DEVICES_DIR
    return sorted(p.stem for p in folder.glob("*.json")) if folder.is_dir() else []


def load_profile(name: str, directory: Path | None = None) -> DeviceProfile:
    """The profile ``name``; an unknown name lists the available ones, a malformed file names its problem."""
    directory = Path(directory) if directory is not None else DEVICES_DIR
    path = directory / f"{name}.json"
    if "/" in name or "\\" in name or not path.is_file():
        known = available_profiles(directory)
        raise FerEdgeError(
            f"unknown device profile {name!r}; available: {', '.join(known) if known else '(none in this install)'}"
        )
    try:
        raw = json.loads(path.read_text())
        return _parse(raw, path)
    except json.JSONDecodeError as e:
        raise FerEdgeError(f"{path}: not valid JSON ({e.msg} at line {e.lineno})") from None
    except (KeyError, TypeError, ValueError) as e:
        raise FerEdgeError(
            f"{path}: not a device profile ({type(e).__name__}: {e}); expected keys name, threads, precision, "
            "detector{detect_every, min_score}, camera{width, height, fps}"
        ) from None


def _parse(raw: dict[str, Any], path: Path) -> DeviceProfile:
    det, cam = raw["detector"], raw["camera"]
    precision = str(raw["precision"])
    if precision not in PROFILE_PRECISIONS:
        raise ValueError(f"precision {precision!r} is not one of {', '.join(PROFILE_PRECISIONS)}")
    profile = DeviceProfile(
        name=str(raw["name"]),
        threads=int(raw["threads"]),
        precision=precision,
        detect_every=int(det["detect_every"]),
        min_score=float(det["min_score"]),
        camera_width=int(cam["width"]),
        camera_height=int(cam["height"]),
        camera_fps=int(cam["fps"]),
        path=path,
    )
    if profile.threads < 1 or profile.detect_every < 1 or not 0.0 <= profile.min_score <= 1.0:
        raise ValueError("threads and detect_every must be >= 1 and min_score within [0, 1]")
    return profile
