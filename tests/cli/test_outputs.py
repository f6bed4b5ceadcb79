"""Outputs: modes follow the umask, `--force` replaces a whole folder, and existing outputs are found
before any record is printed."""

from __future__ import annotations

import json
import os
import stat
from collections.abc import Iterator
from pathlib import Path

import cv2
import numpy as np
import pytest

from fer_edge.cli.main import main


@pytest.fixture()
def umask() -> Iterator[callable]:
    previous = os.umask(0o022)
    try:
        yield os.umask
    finally:
        os.umask(previous)


@pytest.fixture(scope="module")
def data(tmp_path_factory) -> Path:
    from fer_edge.data import Form, save_dataset
    from fer_edge.data.synthetic import make_synthetic

    path = tmp_path_factory.mktemp("data") / "ds"
    save_dataset(make_synthetic(70, seed=0), path, Form.DIR)
    return path


def mode(p: Path) -> int:
    return stat.S_IMODE(p.stat().st_mode)


@pytest.mark.parametrize("mask", [0o022, 0o077, 0o002])
def test_outputs_follow_the_umask(mask, umask, data, tmp_path, capsys):
    from fer_edge.runtime.classifier import DEFAULT_MODEL

    umask(mask)
    assert main(["data", "synthetic", str(tmp_path / "syn"), "-n", "14"]) == 0
    assert main(["data", "convert", str(data), str(tmp_path / "d.csv"), "--to", "csv"]) == 0
    assert main(["data", "audit", str(data), "--out", str(tmp_path / "audit")]) == 0
    assert main(["bench", "--model", str(DEFAULT_MODEL), "--frames", "10", "--out", str(tmp_path / "b.json")]) == 0
    capsys.readouterr()
    folders = [tmp_path / "syn", tmp_path / "audit"]
    files = [tmp_path / "d.csv", tmp_path / "audit" / "audit.json", tmp_path / "b.json"]
    files += list((tmp_path / "syn").rglob("*.png"))[:3]
    assert {mode(p) for p in folders} == {0o777 & ~mask}
    assert {mode(p) for p in files} == {0o666 & ~mask}


def test_evaluate_force_replaces_the_whole_report_folder(data, tmp_path, capsys):
    from fer_edge.runtime.classifier import DEFAULT_MODEL

    out = tmp_path / "report"
    out.mkdir()
    for name in ("report.md", "report.json", "per_class_change.png"):  # a previous run with a comparison chart
        (out / name).write_text("old\n")
    args = ["evaluate", str(DEFAULT_MODEL), "--data", str(data), "--latency-runs", "0", "--out", str(out)]
    assert main(args) == 2
    assert "--force" in capsys.readouterr().err
    assert main([*args, "--force"]) == 0
    capsys.readouterr()
    names = {p.name for p in out.iterdir()}
    assert "per_class_change.png" not in names  # the old run's chart is gone with its folder
    assert {"report.csv", "report.json", "report.md"} <= names
    assert json.loads((out / "report.json").read_text())["rows"]


def test_evaluate_force_never_deletes_a_folder_of_other_files(data, tmp_path, capsys):
    from fer_edge.runtime.classifier import DEFAULT_MODEL

    (tmp_path / "notes.txt").write_text("mine\n")
    code = main(["evaluate", str(DEFAULT_MODEL), "--data", str(data), "--out", str(tmp_path), "--force"])
    assert code == 2 and "not an evaluate report" in capsys.readouterr().err
    assert (tmp_path / "notes.txt").read_text() == "mine\n"


def test_predict_finds_an_existing_annotated_output_before_printing_any_record(tmp_path, capsys):
    for name in ("a.png", "b.png", "c.png"):
        cv2.imwrite(str(tmp_path / name), np.full((60, 80, 3), 100, np.uint8))
    ann = tmp_path / "ann"
    ann.mkdir()
    (ann / "b.png").write_text("an earlier result\n")
    code = main(["predict", str(tmp_path / "a.png"), str(tmp_path / "b.png"), str(tmp_path / "c.png"),
                 "--format", "json", "--save-annotated", str(ann)])  # fmt: skip
    out, err = capsys.readouterr()
    assert code == 2 and out == ""  # no record printed, then a stop half-way
    assert [ln for ln in err.splitlines() if ln.startswith("error:")] == [
        f"error: {ann / 'b.png'} already exists: choose another output or pass --force to replace it"
    ]
    assert sorted(p.name for p in ann.iterdir()) == ["b.png"]


def test_predict_csv_has_an_empty_label_row_for_a_face_less_image(tmp_path, capsys):
    import csv
    import io

    cv2.imwrite(str(tmp_path / "wall.png"), np.full((60, 80, 3), 100, np.uint8))
    assert main(["predict", str(tmp_path / "wall.png"), "--format", "csv"]) == 0
    rows = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    assert len(rows) == 1 and rows[0]["source"].endswith("wall.png") and rows[0]["label"] == ""
    assert rows[0]["x1"] == "" and rows[0]["frame"] == "0"


def test_disk_full_during_a_write_is_one_line_and_leaves_nothing(tmp_path):
    import errno

    from fer_edge.atomic import atomic_path
    from fer_edge.errors import FerEdgeError

    dst = tmp_path / "out.csv"
    with pytest.raises(FerEdgeError, match=r"out\.csv: no space left on the device"):
        with atomic_path(dst) as tmp:
            tmp.write_text("half")
            raise OSError(errno.ENOSPC, "No space left on device", str(tmp))
    assert list(tmp_path.iterdir()) == []


def test_an_os_error_anywhere_in_a_command_is_one_line_naming_the_file(tmp_path, capsys, monkeypatch):
    import errno

    import fer_edge.data.synthetic as synthetic

    def disk_full(*args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device", str(tmp_path / "x.png"))

    monkeypatch.setattr(synthetic, "make_synthetic", disk_full)
    assert main(["data", "synthetic", str(tmp_path / "s"), "-n", "14"]) == 2
    err = capsys.readouterr().err
    assert (
        err.strip()
        == f"error: {tmp_path / 'x.png'}: no space left on the device; free some space or write the output elsewhere"
    )


def test_demo_force_never_deletes_a_folder_of_other_files(tmp_path, capsys):
    (tmp_path / "notes.txt").write_text("mine\n")
    assert main(["demo", "--out", str(tmp_path), "--force"]) == 2
    assert "not a demo's" in capsys.readouterr().err
    assert (tmp_path / "notes.txt").read_text() == "mine\n"
