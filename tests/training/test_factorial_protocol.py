"""A factorial rerun whose protocol differs from the finished runs' refuses (or retrains them with --force)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from fer_edge.errors import FerEdgeError

EXPERIMENT = {
    "name": "tiny",
    "seeds": 1,
    "split": "stratified",
    "protocol": {"epochs": 2, "batch_size": 64, "patience": 1, "verbose": 0},
    "architectures": {"cnn": "paper1-cnn"},
    "data": {"a-rgb": {"loader": "dir", "images": "train", "channels": 3, "paper": "directory"}},
    "variants": {"faithful": {"data": ["a-rgb"], "comparisons": []}},
}


@pytest.fixture()
def experiment(tmp_path):
    from fer_edge.training.factorial import load_experiment

    path = tmp_path / "factorial.json"
    path.write_text(json.dumps(EXPERIMENT))
    return load_experiment(path)


def _finished_run(out: Path, epochs: int) -> Path:
    """A finished run as train_run records it (only the fields the protocol check reads)."""
    from fer_edge.training.fit import TrainConfig

    run = out / "runs" / "a-rgb_cnn" / "seed0"
    run.mkdir(parents=True)
    config = TrainConfig(epochs=epochs, batch_size=64, patience=1, verbose=0).as_dict()
    (run / "metrics.json").write_text(
        json.dumps({"seed": 0, "fit": {"config": config}, "split": {"method": "stratified"}, "val": {"accuracy": 0.5}})
    )
    return run


def test_protocol_differences_names_the_changed_fields():
    from fer_edge.training.factorial import protocol_differences
    from fer_edge.training.fit import TrainConfig

    recorded = {"fit": {"config": TrainConfig(epochs=5, seed=2).as_dict()}, "split": {"method": "stratified"}}
    assert protocol_differences(recorded, TrainConfig(epochs=5), "stratified") == {}  # the seed is the run's own
    assert protocol_differences(recorded, TrainConfig(epochs=9), "stratified") == {"epochs": (5, 9)}
    assert protocol_differences(recorded, TrainConfig(epochs=5), "grouped") == {"split": ("stratified", "grouped")}
    old = {"fit": {"config": {"epochs": 5}}}  # fields an older version did not record count as defaults
    assert protocol_differences(old, TrainConfig(epochs=5), "stratified") == {}


def test_rerun_with_another_epochs_refuses_before_any_work(experiment, tmp_path):
    from fer_edge.training.factorial import run_factorial

    out = tmp_path / "results"
    _finished_run(out, epochs=2)
    calls: list[str] = []

    def loader(cell, *args):
        calls.append(cell.name)
        raise AssertionError("no data should be loaded")

    with pytest.raises(FerEdgeError, match=r"another protocol \(epochs 2 -> 5\).*--force"):
        run_factorial(experiment, tmp_path, out, ["faithful"], overrides={"epochs": 5}, loader=loader, log=print)
    assert calls == []
    # the same protocol: the finished run is skipped as before
    logs: list[str] = []
    run_factorial(experiment, tmp_path, out, ["faithful"], loader=loader, log=logs.append)
    assert any("done already, skipped" in line for line in logs)


def test_force_retrains_the_runs_of_another_protocol(experiment, tmp_path, monkeypatch):
    import fer_edge.training.factorial as factorial
    import fer_edge.training.run as run_module

    out = tmp_path / "results"
    _finished_run(out, epochs=2)
    trained: list[tuple[str, int, bool]] = []

    def fake_train_run(ds, spec, out_dir, force=False, log=print):
        trained.append((spec.cell, spec.config.epochs, force))
        return {"seconds_total": 0, "fit": {"seconds_per_epoch": 0}}

    monkeypatch.setattr(run_module, "train_run", fake_train_run)
    monkeypatch.setattr(factorial, "update_best", lambda out, cell: None)
    factorial.run_factorial(
        experiment, tmp_path, out, ["faithful"], overrides={"epochs": 5}, loader=lambda *a: [], log=print, force=True
    )
    assert trained == [("a-rgb_cnn", 5, True)]


def test_factorial_cli_refuses_with_one_line(experiment, tmp_path, capsys):
    from fer_edge.cli.main import main

    out = tmp_path / "results"
    _finished_run(out, epochs=2)
    (tmp_path / "fer" / "train").mkdir(parents=True)
    code = main(
        ["train", "factorial", "--data", str(tmp_path / "fer"), "--out", str(out), "--experiment",
         str(tmp_path / "factorial.json"), "--epochs", "3", "--variant", "faithful"]
    )  # fmt: skip
    err = capsys.readouterr().err
    assert code == 2
    assert [ln for ln in err.splitlines() if ln.startswith("error:")] == [err.strip().splitlines()[-1]]
    assert "--force" in err and "epochs 2 -> 3" in err
