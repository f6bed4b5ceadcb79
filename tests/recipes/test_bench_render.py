"""benchmarks/render.py: pytest-benchmark JSON -> Markdown with FPS and headroom against 33.3 ms."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest

RENDER = Path(__file__).resolve().parents[2] / "benchmarks" / "render.py"


@pytest.fixture(scope="module")
def render():
    spec = importlib.util.spec_from_file_location("bench_render", RENDER)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _bench(group: str, name: str, median_s: float, **extra) -> dict:
    stats = {"median": median_s, "mean": median_s * 1.1, "min": median_s * 0.9, "max": median_s * 2}
    return {"group": group, "name": name, "stats": stats, "extra_info": extra}


DOC = {
    "machine_info": {"cpu": {"brand_raw": "Test CPU", "count": 4}, "system": "Linux", "python_version": "3.11"},
    "datetime": "2026-01-01T00:00:00",
    "commit_info": {"id": "abcdef1234567", "dirty": False},
    "benchmarks": [
        _bench("invoke", "test_invoke[a-int8-1]", 0.002, arch="paper1-cnn", precision="int8", threads=1),
        _bench("detector", "test_detector[1]", 0.040, threads=1),
        _bench(
            "frame",
            "test_frame[a-int8-1]",
            0.025,
            arch="paper1-cnn",
            precision="int8",
            threads=1,
            stages_p50_ms={"detect": 20.0, "preprocess": 0.5, "classify": 2.0},
        ),
        _bench("data", "test_load[dir]", 2.5, dataset="fer2013", images=35887, target_s=10.0),
        _bench("data", "test_audit_exact", 6.0, dataset="fer2013", images=35887, target_s=5.0),
    ],
}


def test_rows_carry_fps_and_headroom(render):
    md = render.render(DOC)
    assert "Test CPU, 4 logical cores" in md and "abcdef1234" in md
    invoke = next(line for line in md.splitlines() if line.startswith("| paper1-cnn | int8 | 1 | 2.000"))
    assert "| 500 |" in invoke and "+31.3 ms (6.0% used)" in invoke
    detector = next(line for line in md.splitlines() if "| 40.000 |" in line)
    assert "| 25 |" in detector and "-6.7 ms (120.0% used)" in detector  # over budget shows negative headroom
    frame = next(line for line in md.splitlines() if "| 25.000 |" in line)
    assert frame.endswith("| 20.00 / 0.50 / 2.00 |")


def test_data_rows_say_within_or_over_target(render):
    md = render.render(DOC)
    load = next(line for line in md.splitlines() if line.startswith("| test_load[dir]"))
    audit = next(line for line in md.splitlines() if line.startswith("| test_audit_exact"))
    assert "| 35,887 | 2.50 |" in load and load.endswith("| <= 10 s | within |")
    assert audit.endswith("| <= 5 s | OVER |")


def test_cli_writes_markdown_and_rejects_bad_json(render, tmp_path, capsys):
    src = tmp_path / "bench.json"
    src.write_text(json.dumps(DOC))
    out = tmp_path / "bench.md"
    assert render.main([str(src), "-o", str(out)]) == 0
    assert out.read_text().startswith("# fer-edge benchmarks")
    src.write_text("{not json")
    assert render.main([str(src)]) == 2
    assert "not a readable pytest-benchmark JSON" in capsys.readouterr().err


def test_benchmarks_of_other_suites_get_a_generic_table(render):
    doc = {**DOC, "benchmarks": [*DOC["benchmarks"], _bench(None, "test_end_to_end_frame", 0.010)]}
    doc["benchmarks"][0] = {
        **doc["benchmarks"][0],
        "extra_info": {**doc["benchmarks"][0]["extra_info"], "loadavg_1min": 3.5},
    }
    md = render.render(doc)
    assert "## Other benchmarks in the run" in md
    row = next(line for line in md.splitlines() if line.startswith("| test_end_to_end_frame |"))
    assert "| 10.000 |" in row and "| 100 |" in row and "+23.3 ms" in row
    assert "load average while measuring: 3.5 to 3.5" in md
