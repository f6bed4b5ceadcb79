"""The one video writer and the atomic writes under it: partial files keep the extension, nothing half-written stays."""

from __future__ import annotations

import os
import stat

import cv2
import numpy as np
import pytest

from fer_edge.atomic import PendingPath, write_bytes
from fer_edge.errors import FerEdgeError
from fer_edge.runtime.video import VideoSink, write_video


def _frames(n: int) -> list[np.ndarray]:
    return [np.full((48, 64, 3), 20 * i, np.uint8) for i in range(n)]


def test_video_is_written_under_a_partial_name_with_its_extension_then_renamed(tmp_path):
    path = tmp_path / "clip.avi"
    sink = VideoSink(path, fps=10.0)
    sink.write(_frames(1)[0])
    partial = [p.name for p in tmp_path.iterdir()]
    assert not path.exists() and len(partial) == 1 and partial[0].startswith(".clip.") and partial[0].endswith(".avi")
    for f in _frames(3):
        sink.write(f)
    sink.close()
    assert [p.name for p in tmp_path.iterdir()] == ["clip.avi"]
    cap = cv2.VideoCapture(str(path))
    assert int(cap.get(cv2.CAP_PROP_FRAME_COUNT)) == 4 and int(cap.get(cv2.CAP_PROP_FRAME_WIDTH)) == 64
    cap.release()


def test_an_aborted_video_leaves_nothing_and_an_existing_one_needs_force(tmp_path):
    path = write_video(tmp_path / "a.avi", _frames(2), fps=5.0)
    with pytest.raises(FerEdgeError, match="--force"):
        VideoSink(path, fps=5.0)
    with pytest.raises(RuntimeError), VideoSink(tmp_path / "b.mp4", fps=5.0) as sink:
        sink.write(_frames(1)[0])
        raise RuntimeError("killed")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.avi"]
    with pytest.raises(FerEdgeError, match=".mp4 or .avi"):
        VideoSink(tmp_path / "c.gif", fps=5.0)


def test_atomic_outputs_get_the_usual_permissions_not_mkstemps_private_ones(tmp_path):
    umask = os.umask(0o022)
    try:
        out = write_bytes(tmp_path / "x.bin", b"data")
        pending = PendingPath(tmp_path / "d", directory=True)
        pending.commit()
    finally:
        os.umask(umask)
    assert stat.S_IMODE(out.stat().st_mode) == 0o644 and stat.S_IMODE((tmp_path / "d").stat().st_mode) == 0o755
