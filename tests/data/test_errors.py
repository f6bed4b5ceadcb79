"""Bad input: one line naming the file (and row), exit 2, no traceback, nothing overwritten."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from fer_edge.cli.main import main
from fer_edge.data import Form, save_dataset


def run(capsys, *args):
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def kaggle_csv(path, rows):
    path.write_text("emotion,pixels,Usage\n" + "".join(f"{r}\n" for r in rows))
    return path


GOOD = "3," + " ".join(["7"] * 2304) + ",Training"


@pytest.mark.parametrize(
    "rows, needle",
    [
        ([GOOD, "3," + " ".join(["7"] * 2300) + ",Training"], ":3: pixels has 2300 values"),
        ([GOOD, GOOD.replace("3,", "9,", 1)], ":3: label 9 is outside 0-6"),
        ([GOOD.replace("3,", "x,", 1)], ":2: emotion 'x' is not an integer"),
        ([], "no rows"),
    ],
)
def test_bad_csv(tmp_path, capsys, rows, needle):
    path = kaggle_csv(tmp_path / "bad.csv", rows)
    code, out, err = run(capsys, "data", "info", str(path))
    assert code == 2
    assert needle in err and str(path) in err
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err


def test_flat_csv_wrong_width(tmp_path, capsys):
    path = tmp_path / "flat.csv"
    path.write_text(
        "label,"
        + ",".join(f"p{i}" for i in range(2304))
        + "\n"
        + "1,"
        + ",".join(["0"] * 2304)
        + "\n"
        + "1,"
        + ",".join(["0"] * 2000)
        + "\n"
    )
    code, _, err = run(capsys, "data", "info", str(path))
    assert code == 2 and f"{path}:3:" in err and "2001 values" in err


def make_dir(tmp_path, synthetic_small):
    root = tmp_path / "ds"
    save_dataset(synthetic_small, root, Form.DIR)
    return root


def test_corrupt_image(tmp_path, capsys, synthetic_small):
    root = make_dir(tmp_path, synthetic_small)
    bad = root / "train" / "happy" / "Training_broken.jpg"
    bad.write_bytes(b"\xff\xd8 not really a jpeg")
    code, _, err = run(capsys, "data", "info", str(root))
    assert code == 2 and str(bad) in err and "corrupt" in err


def test_non_image_file(tmp_path, capsys, synthetic_small):
    root = make_dir(tmp_path, synthetic_small)
    (root / "train" / "sad" / "notes.txt").write_text("hello")
    code, _, err = run(capsys, "data", "info", str(root))
    assert code == 2 and "notes.txt" in err and "not an image" in err


def test_wrong_size_image(tmp_path, capsys, synthetic_small):
    root = make_dir(tmp_path, synthetic_small)
    cv2.imwrite(str(root / "train" / "fear" / "big.png"), np.zeros((64, 64), np.uint8))
    code, _, err = run(capsys, "data", "info", str(root))
    assert code == 2 and "big.png" in err and "64x64" in err and "48x48" in err


def test_unknown_class_folder(tmp_path, capsys, synthetic_small):
    root = make_dir(tmp_path, synthetic_small)
    (root / "train" / "contempt").mkdir()
    code, _, err = run(capsys, "data", "info", str(root))
    assert code == 2 and "contempt" in err


def test_empty_dataset(tmp_path, capsys):
    (tmp_path / "empty" / "train" / "happy").mkdir(parents=True)
    code, _, err = run(capsys, "data", "info", str(tmp_path / "empty"))
    assert code == 2 and "no images" in err


def test_convert_refuses_to_overwrite(tmp_path, capsys, synthetic_small):
    root = make_dir(tmp_path, synthetic_small)
    dst = tmp_path / "out.csv"
    dst.write_text("mine")
    code, _, err = run(capsys, "data", "convert", str(root), str(dst), "--to", "csv")
    assert code == 2 and "--force" in err and dst.read_text() == "mine"
    code, out, _ = run(capsys, "data", "convert", str(root), str(dst), "--to", "csv", "--force")
    assert code == 0 and "140 images" in out


def test_info_counts(tmp_path, capsys, synthetic_small):
    root = make_dir(tmp_path, synthetic_small)
    code, out, _ = run(capsys, "data", "info", str(root), "--json")
    assert code == 0
    import json

    info = json.loads(out)
    assert info["images"] == 140 and info["form"] == "dir"
    assert sum(info["classes"].values()) == 140
    assert info["usage"] == {"Training": 112, "PublicTest": 14, "PrivateTest": 14}
