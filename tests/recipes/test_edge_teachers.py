"""The edge recipe's teachers: named with their sha256 in train/edge/teachers.json, verified, never read from git."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from fer_edge.errors import run_command


def _manifest(tmp_path: Path, files: dict[str, bytes]) -> Path:
    entries = [
        {"name": name, "sha256": hashlib.sha256(data).hexdigest(), "size_bytes": len(data), "origin": f"{name} origin"}
        for name, data in files.items()
    ]
    path = tmp_path / "teachers.json"
    path.write_text(json.dumps({"schema_version": 1, "teachers": entries}))
    return path


def test_teachers_copies_matching_files_under_their_names_and_verifies_them(tmp_path, capsys):
    from train.edge_model import cli

    manifest = _manifest(tmp_path, {"a_int8": b"model a", "b_int8": b"model b"})
    given = tmp_path / "given"
    given.mkdir()
    (given / "x.tflite").write_bytes(b"model a")
    (given / "y.tflite").write_bytes(b"model b")
    out = tmp_path / "out"
    args = [
        "teachers",
        str(given / "x.tflite"),
        str(given / "y.tflite"),
        "--out",
        str(out),
        "--manifest",
        str(manifest),
    ]
    assert run_command(cli, args) == 0
    assert (out / "a_int8.tflite").read_bytes() == b"model a" and (out / "b_int8.tflite").read_bytes() == b"model b"
    assert run_command(cli, ["teachers", "--out", str(out), "--manifest", str(manifest)]) == 0  # verify only
    capsys.readouterr()

    (out / "b_int8.tflite").write_bytes(b"altered")
    assert run_command(cli, ["teachers", "--out", str(out), "--manifest", str(manifest)]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "b_int8.tflite: sha256 differs" in err and "b_int8 origin" in err

    (out / "b_int8.tflite").unlink()
    assert run_command(cli, ["teachers", "--out", str(out), "--manifest", str(manifest)]) == 2
    assert "b_int8.tflite: missing" in capsys.readouterr().err

    stranger = given / "z.tflite"
    stranger.write_bytes(b"not a teacher")
    assert run_command(cli, ["teachers", str(stranger), "--out", str(out), "--manifest", str(manifest)]) == 2
    assert "matches no teacher" in capsys.readouterr().err


def test_the_shipped_manifest_names_the_teachers_the_shipped_model_learned_from():
    from train.edge_model import RESULTS, shipped_teachers

    teachers = shipped_teachers()
    metrics = json.loads((RESULTS / "metrics.json").read_text())
    assert {Path(t).stem for t in metrics["data"]["teachers"]} <= set(teachers)
    for t in teachers.values():
        assert len(t["sha256"]) == 64 and t["origin"]


def test_recipes_do_not_import_the_cli():
    for recipe in ("train/edge_model.py", "convert/peer/compare.py"):
        text = (Path(__file__).resolve().parents[2] / recipe).read_text()
        assert "fer_edge.cli" not in text and "git show" not in text
