"""The source resolver: kinds, one Frame layout for every loader, and clean failures."""

from __future__ import annotations

import logging

import cv2
import numpy as np
import pytest

from fer_edge.errors import FerEdgeError
from fer_edge.runtime.sources import Source, SourceKind, classify_source
from fer_edge.testing.generate import face_scene, write_video


@pytest.fixture()
def media(tmp_path):
    cv2.imwrite(str(tmp_path / "a.jpg"), face_scene())
    cv2.imwrite(str(tmp_path / "b.png"), np.full((30, 40), 77, np.uint8))  # grayscale file
    (tmp_path / "c.jpg").write_bytes(b"\xff\xd8 broken jpeg")
    (tmp_path / "notes.txt").write_text("ignored")
    frames = [np.full((64, 80, 3), 10 * i, np.uint8) for i in range(6)]
    write_video(tmp_path / "clip.avi", frames, fps=20.0)
    return tmp_path


def test_kinds(media):
    assert classify_source("0") is SourceKind.CAMERA
    assert classify_source(2) is SourceKind.CAMERA
    assert classify_source("rtsp://cam.local/stream") is SourceKind.STREAM
    assert classify_source("https://example.org/live.m3u8") is SourceKind.STREAM
    assert classify_source(media) is SourceKind.FOLDER
    assert classify_source(str(media / "*.jpg")) is SourceKind.GLOB
    assert classify_source(media / "a.jpg") is SourceKind.IMAGE
    assert classify_source(media / "clip.avi") is SourceKind.VIDEO


def test_missing_and_unsupported_paths_name_themselves(media):
    with pytest.raises(FerEdgeError, match=r"nowhere\.jpg: no such file or folder"):
        Source(media / "nowhere.jpg")
    with pytest.raises(FerEdgeError, match=r"notes\.txt: unsupported file type \.txt"):
        Source(media / "notes.txt")
    with pytest.raises(FerEdgeError, match="no images or videos"):
        Source(str(media / "*.gif"))


def test_folder_yields_bgr_frames_skips_the_corrupt_image_and_reads_the_video(media, caplog):
    src = Source(media)
    with caplog.at_level(logging.WARNING, logger="fer_edge"):
        frames = list(src)
    names = [f.source.rsplit("/", 1)[-1] for f in frames]
    assert names == ["a.jpg", "b.png"] + ["clip.avi"] * 6
    assert all(f.image.ndim == 3 and f.image.shape[2] == 3 and f.image.dtype == np.uint8 for f in frames)
    assert frames[1].image.shape == (30, 40, 3)
    video = [f for f in frames if f.source.endswith("clip.avi")]
    assert [f.index for f in video] == list(range(6))
    assert [f.timestamp_s for f in video] == pytest.approx([i / 20.0 for i in range(6)])
    assert abs(int(video[3].image.mean()) - 30) <= 3  # the frames are the ones written, in order
    assert [f.source for f in src.failures] == [str(media / "c.jpg")]
    assert "c.jpg" in caplog.text and "skipped" in caplog.text


def test_glob_and_single_image(media):
    assert [f.source for f in Source(str(media / "*.jpg"))] == [str(media / "a.jpg")]
    (frame,) = list(Source(media / "a.jpg"))
    assert (frame.index, frame.timestamp_s) == (0, 0.0)
    src = Source(media / "c.jpg")
    assert list(src) == [] and len(src.failures) == 1


def test_corrupt_video_is_a_failure_not_a_crash(tmp_path):
    bad = tmp_path / "bad.mp4"
    bad.write_bytes(b"\x00" * 2048)
    src = Source(bad)
    assert list(src) == []
    assert src.failures and src.failures[0].source == str(bad)


def test_camera_that_does_not_open_says_which_and_what_to_do():
    src = Source("97")
    assert src.kind is SourceKind.CAMERA and src.is_live
    with pytest.raises(FerEdgeError) as e:
        next(iter(src))
    msg = str(e.value)
    assert "camera 97" in msg and "/dev/video" in msg and "--source PATH" in msg
