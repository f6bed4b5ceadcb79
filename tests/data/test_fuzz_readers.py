"""Property-based fuzzing of the three data readers and the image decoder: random bytes and shapes
give a dataset, ``None`` (the decoder) or a one-line ``FerEdgeError``, never any other exception."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import cv2
import numpy as np
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from fer_edge.data import load_dataset
from fer_edge.data.csv_forms import load_flat_csv, load_kaggle_csv
from fer_edge.data.directory import load_directory
from fer_edge.errors import FerEdgeError
from fer_edge.runtime.sources import read_image

FUZZ = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@contextmanager
def scratch() -> Iterator[Path]:
    d = Path(tempfile.mkdtemp(prefix="fer-edge-fuzz-"))
    try:
        yield d
    finally:
        shutil.rmtree(d, ignore_errors=True)


def only_user_errors(load, path: Path) -> None:
    try:
        ds = load(path)
    except FerEdgeError as e:
        assert "\n" not in str(e) and str(e), repr(e)
        event("refused with FerEdgeError")
        return
    event("read a dataset")
    assert len(ds.images) == len(ds.labels) and ds.images.shape[1:] == (48, 48)
    assert ds.labels.min() >= 0 and ds.labels.max() <= 6


cells = st.one_of(
    st.integers(-300, 300).map(str),
    st.sampled_from(["", " ", "x", "1.5", "nan", "-", '"', "0x10", "\t", "255 255", "1e3"]),
)
# mostly valid values, so that whole files are sometimes valid too and the readers' success path is fuzzed
labels = st.one_of(st.integers(0, 6).map(str), st.integers(-2, 9).map(str), st.sampled_from(["", "a", "3.0", " 2"]))
usages = st.sampled_from(["Training"] * 4 + ["PublicTest", "PrivateTest", "", "training", "Other", "Training,"])


@st.composite
def kaggle_rows(draw) -> bytes:
    rows = []
    for _ in range(draw(st.integers(0, 4))):
        width = draw(st.sampled_from([2304] * 6 + [2303, 2305, 0, 5]))
        if draw(st.booleans()):
            pixels = " ".join(draw(st.lists(cells, min_size=width, max_size=width)) if width < 10 else ["7"] * width)
        elif draw(st.booleans()):
            pixels = " ".join(
                str(v) for v in draw(st.lists(st.integers(0, 255), min_size=16, max_size=16)) * (width // 16)
            )
        else:
            pixels = " ".join(
                str(v) for v in draw(st.lists(st.integers(-5, 300), min_size=10, max_size=10)) * (width // 10)
            )
        rows.append(f"{draw(labels)},{pixels},{draw(usages)}")
    header = draw(st.sampled_from(["emotion,pixels,Usage"] * 4 + ["emotion,pixels", "pixels,emotion,Usage"]))
    return ("\n".join([header, *rows]) + draw(st.sampled_from(["", "\n", "\r\n"]))).encode()


@given(body=st.one_of(kaggle_rows(), st.binary(max_size=3000).map(lambda b: b"emotion,pixels,Usage\n" + b)))
@FUZZ
def test_kaggle_csv_reader(body: bytes) -> None:
    with scratch() as d:
        path = d / "fer.csv"
        path.write_bytes(body)
        only_user_errors(load_kaggle_csv, path)
        only_user_errors(load_dataset, path)


@st.composite
def flat_rows(draw) -> bytes:
    rows = []
    for _ in range(draw(st.integers(0, 4))):
        width = draw(st.sampled_from([2305, 2305, 2304, 2306, 1, 3]))
        value = draw(cells)
        rows.append(",".join([draw(labels), *([value] * (width - 1))]))
    return "\n".join(rows).encode()


@given(body=st.one_of(flat_rows(), st.binary(max_size=3000)))
@FUZZ
def test_flat_csv_reader(body: bytes) -> None:
    with scratch() as d:
        path = d / "flat.csv"
        path.write_bytes(body)
        only_user_errors(load_flat_csv, path)
        only_user_errors(load_dataset, path)


@st.composite
def image_bytes(draw) -> bytes:
    """Random bytes, or a real encoding of a random array (any size, 1/3/4 channels, 8 or 16 bits)."""
    if draw(st.booleans()):
        return draw(st.binary(max_size=2000))
    h, w = (48, 48) if draw(st.booleans()) else (draw(st.integers(1, 80)), draw(st.integers(1, 80)))
    channels = draw(st.sampled_from([1, 3, 4]))
    ext = draw(st.sampled_from([".png", ".jpg", ".bmp", ".tiff"]))
    dtype = np.uint16 if ext in (".png", ".tiff") and draw(st.booleans()) else np.uint8
    rng = np.random.default_rng(draw(st.integers(0, 2**16)))
    array = rng.integers(0, np.iinfo(dtype).max, size=(h, w, channels) if channels > 1 else (h, w), dtype=dtype)
    if ext == ".jpg" and channels == 4:
        array = array[..., :3]
    ok, buf = cv2.imencode(ext, array)
    data = buf.tobytes() if ok else b""
    cut = draw(st.integers(0, len(data)))  # sometimes a truncated file
    return data if draw(st.booleans()) else data[:cut]


@given(files=st.lists(st.tuples(st.sampled_from(["angry", "happy", "neutral", "cat", "train"]), image_bytes()),
                      max_size=4))  # fmt: skip
@FUZZ
def test_directory_reader(files: list[tuple[str, bytes]]) -> None:
    with scratch() as d:
        root = d / "ds"
        root.mkdir()
        for i, (folder, data) in enumerate(files):
            (root / folder).mkdir(exist_ok=True)
            (root / folder / f"im{i}.png").write_bytes(data)
        only_user_errors(load_directory, root)
        only_user_errors(load_dataset, root)


@given(data=image_bytes(), ext=st.sampled_from([".png", ".jpg", ".bmp", ".webp", ".pgm"]))
@FUZZ
def test_image_decoder(data: bytes, ext: str) -> None:
    with scratch() as d:
        path = d / f"x{ext}"
        path.write_bytes(data)
        try:
            img = read_image(path)
        except FerEdgeError:
            return
        if img is not None:
            assert img.dtype == np.uint8 and img.ndim == 3 and img.shape[2] == 3


def test_kaggle_csv_row_with_empty_pixels_is_a_user_error_naming_the_row():
    """Found by the fuzzing above: an empty last pixels field shifted the rows (ValueError, a traceback)."""
    import pytest

    row = "0," + " ".join(["7"] * 2304) + ",Training"
    with scratch() as d:
        path = d / "fer.csv"
        path.write_text(f"emotion,pixels,Usage\n{row}\n{row}\n0,,Training\n")
        with pytest.raises(FerEdgeError, match=r"fer\.csv:4: pixels empty"):
            load_kaggle_csv(path)
