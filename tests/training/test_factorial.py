"""The factorial runner on generated data: every cell x seed once, finished runs skipped, a killed run resumed."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from fer_edge.data.synthetic import make_synthetic

EXPERIMENT = {
    "name": "tiny",
    "seeds": 2,
    "split": "stratified",
    "protocol": {"epochs": 1, "batch_size": 64, "patience": 1, "verbose": 0},
    "architectures": {"cnn": "paper1-cnn"},
    "data": {
        "a-rgb": {"loader": "dir", "images": "train", "channels": 3, "paper": "directory"},
        "b-gray": {"loader": "csv", "images": "all", "channels": 1, "paper": "csv"},
    },
    "variants": {
        "faithful": {
            "data": ["a-rgb", "b-gray"],
            "comparisons": [{"factor": "format", "levels": {"directory": "a-rgb", "csv": "b-gray"}}],
        }
    },
}


@pytest.fixture()
def experiment(tmp_path):
    from fer_edge.training.factorial import load_experiment

    path = tmp_path / "factorial.json"
    path.write_text(json.dumps(EXPERIMENT))
    return load_experiment(path)


@pytest.fixture(scope="module")
def tiny_data():
    return {"a-rgb": make_synthetic(210, seed=1), "b-gray": make_synthetic(280, seed=2)}


def _loader(tiny_data, calls):
    def load(cell, data_root, cache_dir, csv_path):
        calls.append(cell.name)
        return tiny_data[cell.name]

    return load


def _metrics_files(out: Path) -> dict[str, float]:
    return {str(p.relative_to(out)): p.stat().st_mtime_ns for p in sorted(out.glob("runs/*/seed*/metrics.json"))}


def test_runs_every_cell_and_seed_then_skips_them(experiment, tiny_data, tmp_path):
    from fer_edge.training.factorial import run_factorial

    out = tmp_path / "results"
    calls: list[str] = []
    logs: list[str] = []
    results = run_factorial(experiment, tmp_path, out, ["faithful"], loader=_loader(tiny_data, calls), log=logs.append)
    assert len(results) == 4
    assert sorted(_metrics_files(out)) == [
        f"runs/{c}/seed{s}/metrics.json" for c in ("a-rgb_cnn", "b-gray_cnn") for s in (0, 1)
    ]
    m = json.loads((out / "runs/a-rgb_cnn/seed1/metrics.json").read_text())
    assert m["seed"] == 1 and m["channels"] == 3 and m["split"]["method"] == "stratified"
    assert {
        "history.csv",
        "model.keras",
        "model.json",
        "predictions.npz",
        "curves.png",
        "confusion.png",
        "roc.png",
    } <= {p.name for p in (out / "runs/a-rgb_cnn/seed1").iterdir()}
    assert (out / "runs/a-rgb_cnn/best/model.keras").exists()
    chosen = json.loads((out / "runs/a-rgb_cnn/best/chosen.json").read_text())
    assert chosen["seed"] in (0, 1)
    assert sorted(calls) == ["a-rgb", "b-gray"]  # each data cell loaded once

    before = _metrics_files(out)
    calls.clear()
    logs.clear()
    again = run_factorial(experiment, tmp_path, out, ["faithful"], loader=_loader(tiny_data, calls), log=logs.append)
    assert len(again) == 4
    assert _metrics_files(out) == before  # nothing retrained
    assert calls == []  # no data loaded when nothing is pending
    assert sum("skipped" in line for line in logs) == 4


def test_killed_run_resumes_without_redoing_finished_runs(experiment, tiny_data, tmp_path, monkeypatch):
    import fer_edge.training.run as run_module
    from fer_edge.training.factorial import run_factorial

    out = tmp_path / "results"
    real = run_module.train_run
    count = {"n": 0}

    def dies_on_third(ds, spec, out_dir, **kw):
        count["n"] += 1
        if count["n"] == 3:
            out_dir.parent.mkdir(parents=True, exist_ok=True)
            (out_dir.parent / f".{out_dir.name}.abc.tmp").mkdir()  # what a SIGKILL mid-run leaves behind
            raise KeyboardInterrupt
        return real(ds, spec, out_dir, **kw)

    monkeypatch.setattr(run_module, "train_run", dies_on_third)
    with pytest.raises(KeyboardInterrupt):
        run_factorial(experiment, tmp_path, out, ["faithful"], loader=_loader(tiny_data, []), log=lambda m: None)
    finished = _metrics_files(out)
    assert len(finished) == 2  # seed 0 of both cells (seed-major order)
    assert not list(out.glob("runs/*/.seed*.lock"))  # the killed run released its lock

    monkeypatch.setattr(run_module, "train_run", real)
    logs: list[str] = []
    run_factorial(experiment, tmp_path, out, ["faithful"], loader=_loader(tiny_data, []), log=logs.append)
    after = _metrics_files(out)
    assert len(after) == 4
    assert {k: after[k] for k in finished} == finished  # finished runs untouched
    assert not list(out.glob("runs/*/.seed*.tmp"))
    assert any("removed the unfinished run" in line for line in logs)


def test_unknown_variant_and_bad_definition_are_user_errors(experiment, tmp_path):
    from fer_edge.errors import FerEdgeError
    from fer_edge.training.factorial import load_experiment, run_factorial

    with pytest.raises(FerEdgeError, match="unknown variant"):
        run_factorial(experiment, tmp_path, tmp_path / "o", ["nope"], loader=lambda *a: None)
    bad = dict(EXPERIMENT, variants={"faithful": {"data": ["missing"], "comparisons": []}})
    (tmp_path / "bad.json").write_text(json.dumps(bad))
    with pytest.raises(FerEdgeError, match="missing"):
        load_experiment(tmp_path / "bad.json")
    with pytest.raises(FerEdgeError, match="not found"):
        load_experiment(tmp_path / "none.json")


def test_repository_experiment_defines_the_papers_cells():
    from fer_edge.training.factorial import default_experiment_path, load_experiment

    exp = load_experiment(default_experiment_path())
    assert exp.seeds == 3
    assert exp.protocol.epochs == 50 and exp.protocol.patience == 5 and exp.protocol.lr_patience == 3
    assert exp.protocol.augment is False
    faithful = exp.cells(["faithful"])
    assert len(faithful) == 4
    dir_cell = exp.data["dir-rgb-28709"]
    csv_cell = exp.data["csv-gray-35887"]
    assert (dir_cell.loader, dir_cell.images, dir_cell.channels) == ("keras-dir", "train", 3)
    assert (csv_cell.loader, csv_cell.images, csv_cell.channels) == ("csv", "all", 1)
    # controlled: the format comparison holds images and channels fixed
    fmt = next(c for c in exp.variants["controlled"].comparisons if c.factor == "format")
    a, b = (exp.data[d] for d in fmt.levels.values())
    assert a.loader != b.loader and (a.images, a.channels) == (b.images, b.channels)


def test_packaged_experiment_equals_the_repository_copy():
    from fer_edge.training.factorial import default_experiment_path

    repo = Path(__file__).resolve().parents[2] / "train" / "factorial.json"
    if not repo.exists():
        pytest.skip("no source checkout")
    assert json.loads(default_experiment_path().read_text()) == json.loads(repo.read_text())


def test_update_best_keeps_a_better_seed_whose_model_is_not_local(tmp_path):
    from fer_edge.training.factorial import update_best

    cell = tmp_path / "runs" / "c_cnn"
    for seed, val in ((0, 0.6), (1, 0.5)):
        d = cell / f"seed{seed}"
        d.mkdir(parents=True)
        rec = {k: {} for k in ("data", "split", "fit", "test", "leakage", "test_leakage_free")}
        (d / "metrics.json").write_text(
            json.dumps({**rec, "arch": "a", "channels": 1, "seed": seed, "val": {"accuracy": val}})
        )
    (cell / "seed1" / "model.keras").write_text("local but worse")
    (cell / "seed1" / "model.json").write_text("{}")
    assert update_best(tmp_path, "c_cnn") is None  # seed 0 is best, its model is not here: nothing copied
    assert not (cell / "best").exists()
    (cell / "seed0" / "model.keras").write_text("best")
    (cell / "seed0" / "model.json").write_text("{}")
    assert update_best(tmp_path, "c_cnn")["seed"] == 0
    assert (cell / "best" / "model.keras").read_text() == "best"


def test_variants_carry_their_own_architectures_and_splits(tmp_path, tiny_data):
    from fer_edge.training.factorial import load_experiment, run_factorial

    definition = json.loads(json.dumps(EXPERIMENT))
    definition["data"]["b-grouped"] = {
        "loader": "csv", "images": "all", "channels": 1, "split": "stratified-grouped", "same_test_as": "b-gray",
    }  # fmt: skip
    definition["variants"]["grouped"] = {"data": ["b-grouped"], "comparisons": []}
    definition["variants"]["other"] = {"data": ["b-gray"], "architectures": {"small": "edge-cnn"}, "comparisons": []}
    (tmp_path / "e.json").write_text(json.dumps(definition))
    exp = load_experiment(tmp_path / "e.json")
    assert exp.cells(["grouped", "other"]) == [("b-grouped", "cnn"), ("b-gray", "small")]
    data = {**tiny_data, "b-grouped": tiny_data["b-gray"]}
    out = tmp_path / "results"
    run_factorial(exp, tmp_path, out, ["grouped", "other"], seeds=1, loader=_loader(data, []), log=lambda m: None)
    grouped = json.loads((out / "runs/b-grouped_cnn/seed0/metrics.json").read_text())
    assert grouped["split"]["method"] == "stratified-grouped" and grouped["arch"] == "paper1-cnn"
    other = json.loads((out / "runs/b-gray_small/seed0/metrics.json").read_text())
    assert other["arch"] == "edge-cnn" and other["split"]["method"] == "stratified"
    assert json.loads((out / "experiment.json").read_text()) == definition


def test_a_run_held_by_a_live_runner_is_skipped_and_a_stale_lock_is_taken(experiment, tiny_data, tmp_path):
    import os
    import subprocess
    import sys

    from fer_edge.training.factorial import run_factorial

    out = tmp_path / "results"
    (out / "runs/a-rgb_cnn").mkdir(parents=True)
    holder = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        (out / "runs/a-rgb_cnn/.seed0.lock").write_text(str(holder.pid))
        (out / "runs/b-gray_cnn").mkdir(parents=True)
        dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
        (out / "runs/b-gray_cnn/.seed0.lock").write_text(dead.stdout.strip())
        logs: list[str] = []
        run_factorial(experiment, tmp_path, out, ["faithful"], seeds=1, loader=_loader(tiny_data, []), log=logs.append)
        assert not (out / "runs/a-rgb_cnn/seed0/metrics.json").exists()  # another runner holds it
        assert any("another runner is training it" in line for line in logs)
        assert (out / "runs/b-gray_cnn/seed0/metrics.json").exists()  # the dead runner's lock was stale
        assert not (out / "runs/b-gray_cnn/.seed0.lock").exists()
        assert (out / "runs/a-rgb_cnn/.seed0.lock").read_text() == str(holder.pid)
        assert os.path.exists(out / "runs/a-rgb_cnn")
    finally:
        holder.kill()
        holder.wait()
