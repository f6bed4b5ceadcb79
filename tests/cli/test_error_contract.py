"""The error contract, command by command: every `fer-edge` command against every kind of bad input.

Each case asserts the exit code of the contract (`fer-edge --help`), exactly one stderr line starting
with `error:`, no traceback, and no temporary file left behind. Cases run in-process through
``fer_edge.cli.main.main`` (fast); signals run in subprocesses (tests/cli/test_signals.py).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import click
import cv2
import numpy as np
import pytest

from fer_edge.cli.main import COMMANDS, cli, main

ROOT = os.geteuid() == 0


@pytest.fixture(scope="module")
def env(tmp_path_factory) -> dict[str, Path]:
    """Small inputs, good and bad, shared by every case (never ../shared)."""
    from fer_edge.data import Form, save_dataset
    from fer_edge.data.synthetic import make_synthetic
    from fer_edge.runtime.classifier import DEFAULT_MODEL

    d = tmp_path_factory.mktemp("inputs")
    save_dataset(make_synthetic(70, seed=0), d / "data", Form.DIR)
    zeros = " ".join(["0"] * 2304)
    (d / "wrong_width.csv").write_text("emotion,pixels,Usage\n0,1 2 3,Training\n")
    (d / "label_range.csv").write_text(f"emotion,pixels,Usage\n9,{zeros},Training\n")
    (d / "flat_wrong.csv").write_text("0," + ",".join(["1"] * 100) + "\n")
    (d / "corrupt" / "angry").mkdir(parents=True)
    (d / "corrupt" / "angry" / "x.png").write_bytes(b"\x89PNG not really")
    (d / "junk.tflite").write_text("this is text, not a model\n")
    (d / "junk.keras").write_text("this is text, not a model\n")
    cv2.imwrite(str(d / "img.png"), np.full((120, 160, 3), 90, np.uint8))
    writer = cv2.VideoWriter(str(d / "clip.avi"), cv2.VideoWriter_fourcc(*"MJPG"), 10.0, (160, 120))
    for i in range(6):
        writer.write(np.full((120, 160, 3), 40 + 20 * i, np.uint8))
    writer.release()
    (d / "afile").write_text("a regular file where a folder is expected\n")
    return {
        "d": d,
        "data": d / "data",
        "model": DEFAULT_MODEL,
        "img": d / "img.png",
        "clip": d / "clip.avi",
        "afile": d / "afile",
    }


@pytest.fixture(scope="module")
def keras_model(env) -> Path:
    """A tiny valid .keras (48x48x1 -> 7) for `fer-edge convert` cases."""
    import keras

    path = env["d"] / "tiny.keras"
    if not path.exists():
        model = keras.Sequential([keras.Input((48, 48, 1)), keras.layers.Flatten(), keras.layers.Dense(7)])
        model.save(path)
    return path


def _leftovers(folder: Path) -> list[Path]:
    return [p for p in Path(folder).rglob("*") if p.name.endswith(".tmp") or ".partial" in p.name]


def check(args: list[str], code: int, capsys, *, leftovers_in: list[Path] = ()) -> str:
    got = main([str(a) for a in args])
    out, err = capsys.readouterr()
    lines = [ln for ln in err.splitlines() if ln.startswith("error:")]
    assert got == code, f"exit {got}, expected {code}: {err}"
    assert len(lines) == 1, f"expected one error line, got: {err!r}"
    assert "Traceback" not in err + out
    for folder in leftovers_in:
        assert not _leftovers(folder), _leftovers(folder)
    return lines[0]


# ---- every command is covered --------------------------------------------------------------------------


def _all_command_paths() -> list[str]:
    ctx = click.Context(cli)
    paths = []
    for name in COMMANDS:
        cmd = cli.get_command(ctx, name)
        if isinstance(cmd, click.Group):
            paths += [f"{name} {sub}" for sub in cmd.list_commands(ctx)]
        else:
            paths.append(name)
    return paths


# ---- outputs: unwritable, existing -------------------------------------------------------------------

#: writer -> (command path, args given the output path, the output's name, whether the output is a folder)
WRITERS: dict[str, tuple[str, Callable[[dict, Path], list], str]] = {
    "synthetic": ("data synthetic", lambda e, o: ["data", "synthetic", o, "-n", "14"], "synth"),
    "convert-csv": ("data convert", lambda e, o: ["data", "convert", e["data"], o, "--to", "csv"], "out.csv"),
    "convert-dir": ("data convert", lambda e, o: ["data", "convert", e["data"], o, "--to", "dir"], "outdir"),
    "audit": ("data audit", lambda e, o: ["data", "audit", e["data"], "--out", o], "audit"),
    "train": (
        "train model",
        lambda e, o: ["train", "model", "--arch", "paper1-cnn", "--data", e["data"], "--epochs", "1", "--out", o],
        "run",
    ),
    "factorial": (
        "train factorial",
        lambda e, o: ["train", "factorial", "--data", e["data"], "--out", o, "--epochs", "1", "--variant", "faithful"],
        "results",
    ),
    "evaluate": ("evaluate", lambda e, o: ["evaluate", e["model"], "--data", e["data"], "--out", o], "report"),
    "predict": ("predict", lambda e, o: ["predict", e["img"], "--save-annotated", o], "annotated"),
    "camera-summary": (
        "camera",
        lambda e, o: ["camera", "--source", e["clip"], "--headless", "--print-every", "0", "--summary-json", o],
        "summary.json",
    ),
    "camera-record": (
        "camera",
        lambda e, o: [
            "camera",
            "--source",
            e["clip"],
            "--headless",
            "--print-every",
            "0",
            "--record",
            o,
            "--summary-json",
            o.parent / "s.json",
        ],
        "rec.avi",
    ),  # fmt: skip
    "camera-events": (
        "camera",
        lambda e, o: [
            "camera",
            "--source",
            e["clip"],
            "--headless",
            "--print-every",
            "0",
            "--events",
            o,
            "--summary-json",
            e["d"] / "events-run-summary.json",
        ],
        "events.jsonl",
    ),  # fmt: skip
    "explain": ("explain", lambda e, o: ["explain", e["img"], "--out", o], "explained"),
    "bench": ("bench", lambda e, o: ["bench", "--model", e["model"], "--frames", "10", "--out", o], "bench.json"),
    "demo": ("demo", lambda e, o: ["demo", "--out", o], "demo"),
    "convert": ("convert", lambda e, o: ["convert", e["keras"], "--out", o], "tflite"),
}


def _unwritable_base(kind: str, env: dict, tmp_path: Path) -> Path:
    if kind == "file-as-folder":
        return env["afile"]
    if kind == "too-long":
        return tmp_path / ("x" * 300)
    if kind == "sys":  # a kernel file system that refuses new files, also to root
        if not Path("/sys/kernel").is_dir():
            pytest.skip("no /sys here")
        return Path("/sys/kernel/fer-edge-test")
    if kind == "read-only-folder":
        if ROOT:
            pytest.skip("root ignores folder permissions (the other kinds cover it)")
        ro = tmp_path / "ro"
        ro.mkdir()
        ro.chmod(0o555)
        return ro
    raise AssertionError(kind)


@pytest.mark.parametrize("kind", ["file-as-folder", "too-long", "sys", "read-only-folder"])
@pytest.mark.parametrize("writer", list(WRITERS))
def test_unwritable_output_is_one_line_exit_2_before_any_work(writer, kind, env, tmp_path, capsys, request):
    command, args, name = WRITERS[writer]
    e = dict(env, keras=request.getfixturevalue("keras_model") if writer == "convert" else None)
    base = _unwritable_base(kind, env, tmp_path)
    out = base / name
    line = check(args(e, out), 2, capsys, leftovers_in=[tmp_path])
    assert str(base)[:60] in line or name in line, line  # the message names the path
    assert "codec" not in line and "try a .avi" not in line, line  # the folder is blamed, not the video format
    assert not os.path.exists(out)
    if kind == "read-only-folder":
        base.chmod(0o755)


def _make_existing(out: Path, name: str) -> None:
    if Path(name).suffix:
        out.write_text("old\n")
    else:
        out.mkdir()
        (out / "old.txt").write_text("old\n")


@pytest.mark.parametrize("writer", list(WRITERS))
def test_existing_output_needs_force_and_is_left_alone(writer, env, tmp_path, capsys, request):
    command, args, name = WRITERS[writer]
    e = dict(env, keras=request.getfixturevalue("keras_model") if writer == "convert" else None)
    out = tmp_path / name
    if writer == "predict":
        out.mkdir()
        target = out / env["img"].name  # what predict would write
        target.write_text("old\n")
    elif writer == "convert":
        out.mkdir()
        target = out / "tiny_float32.tflite"
        target.write_text("old\n")
    elif writer == "explain":
        out.mkdir()
        target = out / "explanations.json"
        target.write_text("old\n")
    elif writer == "factorial":
        pytest.skip("factorial resumes into an existing --out by design (its reruns: test_factorial_protocol.py)")
    else:
        _make_existing(out, name)
        target = out
    before = sorted((p.relative_to(tmp_path), p.read_bytes() if p.is_file() else b"") for p in tmp_path.rglob("*"))
    line = check(args(e, out), 2, capsys, leftovers_in=[tmp_path])
    if writer == "evaluate":
        assert "not an evaluate report" in line  # a folder of other files is never replaced, even with --force
    else:
        assert "--force" in line and str(target) in line, line
    after = sorted((p.relative_to(tmp_path), p.read_bytes() if p.is_file() else b"") for p in tmp_path.rglob("*"))
    assert after == before


# ---- inputs: missing, bad data, bad models -----------------------------------------------------------

MISSING: list[tuple[str, Callable[[dict, Path], list], int]] = [
    ("data info", lambda e, m: ["data", "info", m / "nope"], 2),
    ("data convert", lambda e, m: ["data", "convert", m / "nope", m / "o.csv", "--to", "csv"], 2),
    ("data audit", lambda e, m: ["data", "audit", m / "nope", "--out", m / "a"], 2),
    ("train model", lambda e, m: ["train", "model", "--arch", "paper1-cnn", "--data", m / "nope", "--out", m / "r"], 2),
    ("train factorial", lambda e, m: ["train", "factorial", "--data", m / "nope", "--out", m / "r"], 2),
    ("train report", lambda e, m: ["train", "report", m / "nope"], 2),
    ("evaluate", lambda e, m: ["evaluate", m / "nope.tflite", "--data", e["data"]], 2),
    ("evaluate", lambda e, m: ["evaluate", e["model"], "--data", m / "nope"], 2),
    ("convert", lambda e, m: ["convert", m / "nope.keras"], 2),
    ("predict", lambda e, m: ["predict", m / "nope.jpg"], 2),
    ("camera", lambda e, m: ["camera", "--source", m / "nope.avi", "--headless", "--summary-json", m / "s.json"], 2),
    ("bench", lambda e, m: ["bench", "--model", m / "nope.tflite", "--out", m / "b.json"], 2),
    ("explain", lambda e, m: ["explain", m / "nope.jpg", "--out", m / "x"], 2),
]


@pytest.mark.parametrize("case", range(len(MISSING)), ids=[f"{c[0]}-{i}" for i, c in enumerate(MISSING)])
def test_missing_input(case, env, tmp_path, capsys):
    command, args, code = MISSING[case]
    line = check(args(env, tmp_path), code, capsys, leftovers_in=[tmp_path])
    assert "nope" in line
    assert sorted(p.name for p in tmp_path.iterdir()) == []  # nothing written


BAD_DATA = ["wrong_width.csv", "label_range.csv", "flat_wrong.csv", "corrupt"]
DATA_READERS: list[tuple[str, Callable[[dict, Path, Path], list]]] = [
    ("data info", lambda e, bad, o: ["data", "info", bad]),
    ("data convert", lambda e, bad, o: ["data", "convert", bad, o / "c.csv", "--to", "csv"]),
    ("data audit", lambda e, bad, o: ["data", "audit", bad, "--out", o / "audit"]),
    ("train model", lambda e, bad, o: ["train", "model", "--arch", "paper1-cnn", "--data", bad, "--out", o / "r"]),
    ("evaluate", lambda e, bad, o: ["evaluate", e["model"], "--data", bad, "--out", o / "rep"]),
]


@pytest.mark.parametrize("bad", BAD_DATA)
@pytest.mark.parametrize("reader", range(len(DATA_READERS)), ids=[r[0] for r in DATA_READERS])
def test_bad_data_file(reader, bad, env, tmp_path, capsys):
    command, args = DATA_READERS[reader]
    line = check(args(env, env["d"] / bad, tmp_path), 2, capsys, leftovers_in=[tmp_path])
    assert bad in line or "angry" in line, line
    assert list(tmp_path.iterdir()) == []


MODEL_USERS: list[tuple[str, Callable[[dict, Path, Path], list]]] = [
    ("predict", lambda e, m, o: ["predict", e["img"], "--model", m]),
    (
        "camera",
        lambda e, m, o: ["camera", "--source", e["clip"], "--model", m, "--headless", "--summary-json", o / "s"],
    ),
    ("bench", lambda e, m, o: ["bench", "--model", m, "--frames", "10", "--out", o / "b.json"]),
    ("evaluate", lambda e, m, o: ["evaluate", m, "--data", e["data"]]),
    ("convert", lambda e, m, o: ["convert", m, "--out", o / "t"]),
    ("explain", lambda e, m, o: ["explain", e["img"], "--model", m, "--out", o / "x"]),
]


@pytest.mark.parametrize("user", range(len(MODEL_USERS)), ids=[u[0] for u in MODEL_USERS])
def test_bad_model_file(user, env, tmp_path, capsys):
    command, args = MODEL_USERS[user]
    junk = env["d"] / ("junk.keras" if command == "convert" else "junk.tflite")
    line = check(args(env, junk, tmp_path), 2, capsys, leftovers_in=[tmp_path])
    assert junk.name in line
    assert list(tmp_path.iterdir()) == []


# ---- arguments -----------------------------------------------------------------------------------------

BAD_ARGS: list[list[str]] = [
    ["data", "synthetic", "{o}", "-n", "-5"],
    ["data", "synthetic", "{o}", "-n", "0"],
    ["data", "synthetic", "{o}", "--seed", "-1"],
    ["data", "info"],
    ["data", "convert", "{data}", "{o}"],  # --to missing
    ["data", "audit", "{data}", "--hamming", "40"],
    ["data", "audit", "{data}", "--blank-std", "-1"],
    ["train", "model", "--arch", "paper1-cnn", "--out", "{o}", "--batch-size", "0"],
    ["train", "model", "--arch", "paper1-cnn", "--out", "{o}", "--epochs", "0"],
    ["train", "model", "--arch", "paper1-cnn", "--out", "{o}", "--channels", "5"],
    ["train", "model", "--arch", "paper1-cnn", "--out", "{o}", "--seed", "-3"],
    ["train", "model", "--arch", "no-such-arch", "--out", "{o}"],
    ["train", "factorial", "--data", "{data}", "--out", "{o}", "--epochs", "0"],
    ["train", "factorial", "--data", "{data}", "--out", "{o}", "--seeds", "0"],
    ["train", "report"],
    ["evaluate", "{model}", "--latency-runs", "-1"],
    ["evaluate", "{model}", "--split-seed", "-1"],
    ["evaluate"],
    ["convert", "{keras}", "--samples", "0"],
    ["convert", "{keras}", "--seed", "-1"],
    ["predict", "{img}", "--threads", "0"],
    ["predict", "{img}", "--min-score", "2"],
    ["predict", "{img}", "--format", "xml"],
    ["camera", "--source", "{clip}", "--max-frames", "0"],
    ["camera", "--source", "{clip}", "--detect-every", "0"],
    ["camera", "--source", "{clip}", "--print-every", "-1"],
    ["bench", "--frames", "1"],
    ["bench", "--threads", "0"],
    ["demo", "--images", "5"],
    ["demo", "--epochs", "0"],
    ["demo", "--frames", "0"],
    ["models", "--channels", "5"],
    ["explain", "{img}", "--out", "{o}", "--patch", "1"],
    ["explain", "{img}", "--out", "{o}", "--seed", "-1"],
    ["explain", "{img}"],  # --out missing
    ["no-such-command"],
]


@pytest.mark.parametrize("args", BAD_ARGS, ids=[" ".join(a[:3]) + f"-{i}" for i, a in enumerate(BAD_ARGS)])
def test_bad_argument_is_refused_before_any_work(args, env, tmp_path, capsys):
    fill = {"o": tmp_path / "o", "data": env["data"], "model": env["model"], "img": env["img"], "clip": env["clip"]}
    fill["keras"] = env["d"] / "junk.keras"  # never opened: the argument is refused first
    argv = [a.format(**{k: str(v) for k, v in fill.items()}) for a in args]
    line = check(argv, 2, capsys, leftovers_in=[tmp_path])
    assert "--help" in line or "Invalid value" in line or "Missing" in line or "no-such" in line, line
    assert list(tmp_path.iterdir()) == []


def _command_of(argv: list[str]) -> str:
    return f"{argv[0]} {argv[1]}" if argv[0] in ("data", "train") and len(argv) > 1 else argv[0]


def coverage() -> dict[str, set[str]]:
    """command path -> the kinds of bad input the tables above run it against."""
    cov: dict[str, set[str]] = {}
    for command, _, _ in WRITERS.values():
        cov.setdefault(command, set()).update({"unwritable output", "existing output"})
    for kind, table in (("missing input", MISSING), ("bad data", DATA_READERS), ("bad model", MODEL_USERS)):
        for row in table:
            cov.setdefault(row[0], set()).add(kind)
    for argv in BAD_ARGS:
        cov.setdefault(_command_of(argv), set()).add("bad argument")
    return cov


def test_every_command_of_the_help_is_in_the_tables():
    cov = coverage()
    for command in _all_command_paths():
        assert "bad argument" in cov.get(command, ()), command
        if command != "models":  # no inputs, no outputs: only its arguments can be bad
            assert len(cov[command]) >= 2, (command, cov.get(command))


# ---- a real read-only file system (EROFS also stops root), in a private mount namespace ----------------

RO_SCRIPT = r"""
import contextlib, io, json, sys
from fer_edge.cli.main import main
results = {}
for name, argv in json.loads(sys.argv[1]).items():
    err = io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
        code = main(argv)
    results[name] = [code, err.getvalue()]
print(json.dumps(results))
"""


def _read_only_namespace_works(folder: Path) -> bool:
    import shutil
    import subprocess

    if not ROOT or shutil.which("unshare") is None:
        return False
    probe = subprocess.run(
        ["unshare", "-m", "--propagation", "private", "sh", "-c",
         f"mount --bind {folder} {folder} && mount -o remount,bind,ro {folder} && ! touch {folder}/x"],
        capture_output=True,
    )  # fmt: skip
    return probe.returncode == 0


def test_read_only_file_system_is_one_line_exit_2_for_every_writer(env, tmp_path, keras_model):
    import json
    import subprocess
    import sys

    ro = tmp_path / "ro"
    ro.mkdir()
    if not _read_only_namespace_works(ro):
        pytest.skip("needs root and unshare/mount for a read-only bind mount")
    e = dict(env, keras=keras_model)
    cases = {w: [str(a) for a in args(e, ro / name)] for w, (_, args, name) in WRITERS.items()}
    repo = Path(__file__).resolve().parents[2]
    script = f'mount --bind {ro} {ro} && mount -o remount,bind,ro {ro} && exec "$@"'
    proc = subprocess.run(
        ["unshare", "-m", "--propagation", "private", "sh", "-c", script, "sh",
         sys.executable, "-c", RO_SCRIPT, json.dumps(cases)],
        capture_output=True, text=True, timeout=600, env=dict(os.environ, PYTHONPATH=str(repo)),
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-2000:]
    results = json.loads(proc.stdout.strip().splitlines()[-1])
    for writer, (code, err) in results.items():
        lines = [ln for ln in err.splitlines() if ln.startswith("error:")]
        assert code == 2 and len(lines) == 1 and "Traceback" not in err, (writer, code, err)
        assert "read-only file system" in lines[0] and str(ro) in lines[0], (writer, lines[0])
    assert list(ro.iterdir()) == []
