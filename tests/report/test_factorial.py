"""The report builder from metric files alone (no training): tables, ANOVA, AUC table, leakage."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from fer_edge.labels import EMOTIONS

# accuracy (%) per (data cell, arch) and seed: a clear format effect, no architecture effect
ACC = {
    ("dir-rgb-28709", "cnn"): [50.0, 51.0, 49.0],
    ("dir-rgb-28709", "cnn-lstm"): [49.5, 50.5, 50.0],
    ("csv-gray-35887", "cnn"): [55.0, 56.0, 54.0],
    ("csv-gray-35887", "cnn-lstm"): [56.0, 55.0, 55.5],
}
ARCH = {"cnn": "paper1-cnn", "cnn-lstm": "paper1-cnn-lstm"}


def _metrics(data: str, arch: str, seed: int, acc: float) -> dict:
    n = 200
    leaked = 10 + seed
    auc = {e: 0.80 + 0.01 * i + 0.001 * seed for i, e in enumerate(EMOTIONS)}
    block = {
        "n": n,
        "accuracy": acc / 100,
        "macro_precision": (acc - 1) / 100,
        "macro_recall": (acc - 2) / 100,
        "macro_f1": (acc - 3) / 100,
        "roc_auc": auc,
        "confusion_matrix": (np.eye(7, dtype=int) * 20 + 1).tolist(),
    }
    return {
        "cell": f"{data}_{arch}",
        "arch": ARCH[arch],
        "channels": 3 if "rgb" in data else 1,
        "seed": seed,
        "parameters": 1,
        "data": {"cell": data, "images": 1000},
        "split": {"seed": seed, "method": "stratified", "sizes": [800, 100, 100]},
        "fit": {"epochs_run": 12, "best_epoch": 7, "seconds": 120.0, "seconds_per_epoch": 10.0},
        "val": {"accuracy": acc / 100, "macro_f1": 0.4},
        "test": block,
        "test_leakage_free": {**block, "n": n - leaked, "accuracy": (acc - 1.5) / 100, "macro_f1": (acc - 4) / 100},
        "leakage": {
            "test_images": n,
            "test_with_copy_in_train": leaked,
            "test_accuracy_full": acc / 100,
            "test_accuracy_leakage_free": (acc - 1.5) / 100,
            "test_accuracy_on_leaked": 0.9,
        },
        "seconds_total": 130.0,
    }


@pytest.fixture()
def results(tmp_path) -> Path:
    for (data, arch), accs in ACC.items():
        for seed, acc in enumerate(accs):
            d = tmp_path / "runs" / f"{data}_{arch}" / f"seed{seed}"
            d.mkdir(parents=True)
            (d / "metrics.json").write_text(json.dumps(_metrics(data, arch, seed, acc)))
    return tmp_path


def _experiment():
    from fer_edge.training.factorial import default_experiment_path, load_experiment

    return load_experiment(default_experiment_path())  # the packaged paper-1 factorial


def test_report_tables_from_metric_files(results):
    from fer_edge.report.factorial import build_report

    written = build_report(results, _experiment())
    names = {p.name for p in written}
    assert {"report.md", "table1.csv", "anova.csv", "table2_auc.csv", "leakage.csv", "timings.csv", "runs.csv"} <= names

    t1 = pd.read_csv(results / "table1.csv")
    faithful = t1[t1.variant == "faithful"].set_index("cell")
    row = faithful.loc["csv-gray-35887_cnn-lstm"]
    assert row.seeds == 3
    assert row.accuracy_mean == pytest.approx(np.mean(ACC["csv-gray-35887", "cnn-lstm"]), abs=1e-3)
    assert row.accuracy_sd == pytest.approx(np.std(ACC["csv-gray-35887", "cnn-lstm"], ddof=1), abs=1e-3)
    assert row.macro_f1_mean == pytest.approx(np.mean(ACC["csv-gray-35887", "cnn-lstm"]) - 3, abs=1e-3)
    assert row.accuracy_paper == pytest.approx(57.843)
    assert faithful.loc["dir-rgb-28709_cnn"].macro_f1_paper == pytest.approx(48.095)
    controlled = t1[t1.variant == "controlled"].set_index("cell")
    assert controlled.loc["dir-gray-35887_cnn"].seeds == 0  # not run: listed, not invented

    anova = pd.read_csv(results / "anova.csv")
    anova = anova[anova.analysis == "two-way"]
    fmt = anova[(anova.variant == "faithful") & (anova.response == "accuracy") & (anova.source == "factor")]
    assert len(fmt) == 1 and fmt.p.iloc[0] < 0.001
    arch = anova[(anova.variant == "faithful") & (anova.response == "accuracy") & (anova.source == "arch")]
    assert arch.p.iloc[0] > 0.05

    t2 = pd.read_csv(results / "table2_auc.csv")
    # Table 2 for every faithful cell (issue 18 item 5)
    assert set(t2.cell) == {f"{d}_{a}" for d, a in ACC} and len(t2) == 28
    lstm = t2[t2.cell == "csv-gray-35887_cnn-lstm"].set_index("class")
    assert lstm.loc["happy"].paper == pytest.approx(0.9277)
    assert lstm.loc["angry"].auc_mean == pytest.approx(0.801, abs=1e-4)

    leak = pd.read_csv(results / "leakage.csv").set_index("cell")
    assert leak.loc["dir-rgb-28709_cnn"].test_with_copy_in_train_mean == pytest.approx(11.0)
    assert leak.loc["dir-rgb-28709_cnn"].accuracy_leakage_free_mean == pytest.approx(48.5, abs=1e-3)

    md = (results / "report.md").read_text()
    assert "50.00 ± 1.00 [47.52, 52.48] (paper 50.57)" in md  # mean ± sd [95 % t interval]
    assert "No runs for this comparison yet" in md  # controlled cells have no runs: listed, not invented
    assert "{{" not in md
    # without a narrative template the report states no conclusions, only computed sections
    assert "The paper did not measure this" not in md
    facts = json.loads((results / "facts.json").read_text())
    assert facts["effect.faithful.format.accuracy.mean.verdict"] == "positive (95 % CI excludes 0)"
    assert facts["effect.faithful.format.accuracy.arch.mean.verdict"] == "within noise (95 % CI includes 0)"
    assert facts["cell.dir-rgb-28709_cnn.accuracy.paper_vs_ci"] == "inside our 95 % CI"  # 50.57 in [47.5, 52.5]
    effects = pd.read_csv(results / "effects.csv")
    row = effects[(effects.variant == "faithful") & (effects.response == "accuracy")].iloc[0]
    assert row.estimate == pytest.approx(5.0)  # csv - directory for the cnn: 55 - 50
    assert (results / "figures" / "confusion_faithful.png").stat().st_size > 1000  # mean confusion per cell

    assert (results / "figures" / "accuracy_faithful.png").stat().st_size > 1000


def test_report_fills_a_narrative_template_and_rejects_unknown_names(results, tmp_path):
    from fer_edge.errors import FerEdgeError
    from fer_edge.report.factorial import build_report

    (results / "narrative.md").write_text(
        "{{ section.header }}\n\nCSV − Directory: {{ effect.faithful.format.accuracy.mean.est }} "
        "({{ effect.faithful.format.accuracy.mean.verdict }}).\n\n{{ section.leakage }}\n"
    )
    build_report(results, _experiment())
    md = (results / "report.md").read_text()
    assert "CSV − Directory: +5.25 (positive (95 % CI excludes 0))." in md
    assert "## Data leakage" in md and "## Variant" not in md  # only the sections the template names
    (results / "narrative.md").write_text("{{ no.such.fact }}")
    with pytest.raises(FerEdgeError, match="no.such.fact"):
        build_report(results, _experiment())


def test_old_run_records_read_and_new_ones_round_trip(results):
    from fer_edge.training.record import SCHEMA_VERSION, RunRecord

    path = next(results.glob("runs/*/seed0/metrics.json"))
    old = RunRecord.load(path)
    assert old.schema_version == 0 and old.machine is None
    new = RunRecord.from_dict({**old.to_dict(), "schema_version": SCHEMA_VERSION, "machine": {"cpu_count": 2}})
    again = RunRecord.from_dict(json.loads(new.to_json()))
    assert again == new and again.machine == {"cpu_count": 2}


def test_report_cli_and_empty_results(results, tmp_path):
    from fer_edge.cli.main import main

    assert main(["train", "report", str(results)]) == 0
    assert (results / "report.md").exists()
    empty = tmp_path / "empty"
    empty.mkdir()
    assert main(["train", "report", str(empty)]) == 2
