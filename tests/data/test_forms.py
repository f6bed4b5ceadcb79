"""The three on-disk forms load into one in-memory form and round-trip pixel-exactly."""

from __future__ import annotations

import numpy as np
import pytest

from fer_edge.data import Form, detect_form, load_dataset, save_dataset
from fer_edge.data.pixels import RowError, parse_int_rows
from fer_edge.errors import FerEdgeError


@pytest.mark.parametrize("form", [Form.DIR, Form.CSV, Form.FLAT_CSV])
def test_round_trip_is_pixel_exact(tmp_path, synthetic_small, form):
    dst = tmp_path / ("out" if form is Form.DIR else "out.csv")
    save_dataset(synthetic_small, dst, form)
    assert detect_form(dst) is form
    back = load_dataset(dst)
    # the directory form groups files by split and class, so compare as sorted multisets
    key = lambda ds: sorted(zip(ds.labels.tolist(), (im.tobytes() for im in ds.images)))  # noqa: E731
    assert key(back) == key(synthetic_small)
    if form is not Form.FLAT_CSV:  # the flat form has no usage column
        assert back.usage_counts() == synthetic_small.usage_counts()


def test_csv_keeps_row_order(tmp_path, synthetic_small):
    save_dataset(synthetic_small, tmp_path / "k.csv", Form.CSV)
    back = load_dataset(tmp_path / "k.csv")
    np.testing.assert_array_equal(back.images, synthetic_small.images)
    np.testing.assert_array_equal(back.labels, synthetic_small.labels)
    assert list(back.usage) == list(synthetic_small.usage)


def test_directory_usage_from_file_prefix(tmp_path, synthetic_small):
    save_dataset(synthetic_small, tmp_path / "d", Form.DIR)
    assert sorted(p.name for p in (tmp_path / "d").iterdir()) == ["test", "train"]
    ds = load_dataset(tmp_path / "d")
    assert ds.usage_counts() == {"Training": 112, "PublicTest": 14, "PrivateTest": 14}


def test_flat_csv_without_header(tmp_path, synthetic_small):
    rows = np.column_stack([synthetic_small.labels, synthetic_small.images.reshape(len(synthetic_small), -1)])
    np.savetxt(tmp_path / "noheader.csv", rows, fmt="%d", delimiter=",")
    ds = load_dataset(tmp_path / "noheader.csv")
    np.testing.assert_array_equal(ds.images, synthetic_small.images)


def test_existing_destination_is_not_overwritten(tmp_path, synthetic_small):
    dst = tmp_path / "keep.csv"
    dst.write_text("precious")
    with pytest.raises(FerEdgeError, match="--force"):
        save_dataset(synthetic_small, dst, Form.CSV)
    assert dst.read_text() == "precious"
    save_dataset(synthetic_small, dst, Form.CSV, force=True)
    assert len(load_dataset(dst)) == len(synthetic_small)
    assert [p.name for p in tmp_path.iterdir()] == ["keep.csv"]  # no temp files left behind


def test_failed_write_leaves_no_partial_file(tmp_path, synthetic_small, monkeypatch):
    import fer_edge.data.csv_forms as csv_forms

    def boom(*a, **k):
        raise RuntimeError("killed")

    monkeypatch.setattr(csv_forms, "_pixel_lines", boom)
    with pytest.raises(RuntimeError):
        save_dataset(synthetic_small, tmp_path / "x.csv", Form.CSV)
    assert list(tmp_path.iterdir()) == []


def test_parse_int_rows_values_and_separators():
    got = parse_int_rows(b"0 9 10\n99,100,255\n7\t8\t9", 3)
    np.testing.assert_array_equal(got, [[0, 9, 10], [99, 100, 255], [7, 8, 9]])


@pytest.mark.parametrize(
    "text, row, message",
    [
        (b"1 2 3\n1 2\n", 1, "2 values"),
        (b"1 2 3\n1 2 3\n4 5 256\n", 2, "256"),
        (b"1 2 3\n1 -2 3\n", 1, "'-'"),
        (b"1.5 2 3\n", 0, "'.'"),
        (b"1 2 3\n1 2 1000\n", 1, "above"),
    ],
)
def test_parse_int_rows_names_the_bad_row(text, row, message):
    with pytest.raises(RowError, match=message) as info:
        parse_int_rows(text, 3)
    assert info.value.row == row


def test_block_boundaries_keep_row_numbers():
    rows = [" ".join(["1"] * 4)] * 1500 + ["1 2 3"]
    with pytest.raises(RowError) as info:
        parse_int_rows("\n".join(rows).encode(), 4)
    assert info.value.row == 1500


def test_synthetic_is_the_default_dataset_name(tmp_path, monkeypatch):
    """'synthetic' names the embedded generated set wherever a dataset path is asked for."""
    from fer_edge.data import SYNTHETIC
    from fer_edge.data.synthetic import make_synthetic

    monkeypatch.chdir(tmp_path)
    assert detect_form(SYNTHETIC) is Form.SYNTHETIC
    ds = load_dataset(SYNTHETIC)
    np.testing.assert_array_equal(ds.images, make_synthetic().images)
    with pytest.raises(FerEdgeError, match="embedded"):
        save_dataset(ds, tmp_path / "x", Form.SYNTHETIC)
    (tmp_path / "synthetic").mkdir()  # a real folder of that name wins
    with pytest.raises(FerEdgeError, match="emotion subfolders"):
        detect_form(SYNTHETIC)
