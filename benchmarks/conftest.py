"""Shared fixtures of the benchmark suites (not collected by the default ``pytest`` run: testpaths=tests).

- real FER-2013 at ``../shared/data/fer2013`` (or ``$FER_EDGE_FER2013``); its benchmarks skip,
  saying so, when it is absent, and a generated dataset of the same size is measured in any case;
- the ``.tflite`` files of every architecture x precision, converted once per session (kept across
  runs when ``$FER_EDGE_BENCH_MODELS`` names a folder);
- a figure list printed at the end of the run, each against its target.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from bench_support import FER2013_IMAGES, FIGURES, ROOT

FER2013 = Path(os.environ.get("FER_EDGE_FER2013", ROOT.parent / "shared" / "data" / "fer2013"))


def pytest_terminal_summary(terminalreporter) -> None:
    if FIGURES:
        terminalreporter.section("fer-edge benchmark figures")
        for line in FIGURES:
            terminalreporter.write_line(line)


# ----------------------------------------------------------------------------- datasets


@pytest.fixture(scope="session")
def fer2013_dir() -> Path:
    if not (FER2013 / "train").is_dir():
        pytest.skip(f"real FER-2013 not found at {FER2013} (set FER_EDGE_FER2013=PATH); the generated data still runs")
    return FER2013


@pytest.fixture(scope="session")
def fer2013_csv(fer2013_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The real data converted once to Kaggle's emotion,pixels,Usage CSV."""
    from fer_edge.data import Form, load_dataset, save_dataset

    dst = tmp_path_factory.mktemp("fer2013") / "fer2013.csv"
    return save_dataset(load_dataset(fer2013_dir), dst, Form.CSV)


@pytest.fixture(scope="session")
def generated_forms(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """35,887 synthetic faces (the size of FER-2013; NOT FER-2013) in the directory and CSV forms."""
    from fer_edge.data import Form, save_dataset
    from fer_edge.data.synthetic import make_synthetic

    ds = make_synthetic(FER2013_IMAGES, seed=0)
    out = tmp_path_factory.mktemp("generated")
    return {
        "dir": save_dataset(ds, out / "dir", Form.DIR),
        "csv": save_dataset(ds, out / "generated.csv", Form.CSV),
    }


@pytest.fixture(scope="session", params=["fer2013", "generated"])
def data_source(request: pytest.FixtureRequest) -> dict[str, Path | str]:
    """Paths of one dataset in both forms: the real FER-2013 (skips when absent) or the generated one."""
    if request.param == "fer2013":
        return {
            "name": "fer2013",
            "dir": request.getfixturevalue("fer2013_dir"),
            "csv": request.getfixturevalue("fer2013_csv"),
        }
    return {"name": "generated", **request.getfixturevalue("generated_forms")}


# ----------------------------------------------------------------------------- models


class ModelFiles:
    """``path(arch, precision)`` converts on first use and caches the file for the session."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        folder.mkdir(parents=True, exist_ok=True)

    def path(self, arch: str, precision: str) -> Path:
        from tflite_models import convert

        dst = self.folder / f"{arch}.{precision}.tflite"
        if not dst.is_file():
            convert(arch, precision, dst)
        return dst


@pytest.fixture(scope="session")
def model_files(tmp_path_factory: pytest.TempPathFactory) -> ModelFiles:
    keep = os.environ.get("FER_EDGE_BENCH_MODELS")
    return ModelFiles(Path(keep) if keep else tmp_path_factory.mktemp("tflite"))
