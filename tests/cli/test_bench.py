"""``fer-edge bench``: a device report with per-stage latency, a precision comparison and a verdict."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from fer_edge.cli.main import main
from fer_edge.runtime import device_report as dr


def test_bench_writes_a_device_report(tflite_models, tmp_path, capsys):
    out = tmp_path / "report.json"
    args = ["bench", "--model", str(tflite_models["cnn-f32"]), "--model", str(tflite_models["cnn-int8"])]
    assert main([*args, "--frames", "12", "--threads", "1", "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    report = json.loads(out.read_text())
    assert [c["precision"] for c in report["classifiers"]] == ["float32", "int8"]
    for c in report["classifiers"]:
        assert c["invoke_ms"]["n"] == 12 and 0 < c["invoke_ms"]["p50"] <= c["invoke_ms"]["p95"]
    sysinfo = report["system"]
    assert sysinfo["cores"] >= 1 and sysinfo["python"] and sysinfo["os"] and sysinfo["cpu"]
    assert report["interpreter"]["backend"] in ("litert", "tflite-runtime", "tensorflow")
    assert report["threads"] == 1
    assert report["detector"]["faces_found"] == 1  # the generated frames hold one face BlazeFace finds
    e2e = report["end_to_end"]
    assert e2e["faces_per_frame"] == 1.0 and e2e["frames"] == 12
    assert set(e2e["stages_ms"]) == {"detect", "preprocess", "classify", "processing"}
    assert e2e["precision"] == report["precision_comparison"]["fastest"]
    v = report["verdict"]
    assert v["bottleneck"] in ("detect", "preprocess", "classify")
    assert v["meets_30fps"] == (e2e["stages_ms"]["processing"]["p95"] <= 1000 / 30)
    assert v["text"].startswith("YES" if v["meets_30fps"] else "NO")
    assert "verdict: " + v["text"] in printed and "classify int8" in printed and "frame: processing" in printed


def test_bench_refuses_to_overwrite_and_needs_a_model(tflite_models, tmp_path, monkeypatch, capsys):
    out = tmp_path / "report.json"
    out.write_text("{}")
    assert main(["bench", "--model", str(tflite_models["cnn-f32"]), "--out", str(out)]) == 2
    assert "already exists" in capsys.readouterr().err
    monkeypatch.setattr(dr, "MODELS_DIR", tmp_path / "no-models")
    assert main(["bench", "--out", str(tmp_path / "r2.json")]) == 2
    assert "pass --model" in capsys.readouterr().err
    assert main(["bench", "--model", str(tmp_path / "missing.tflite"), "--out", str(tmp_path / "r3.json")]) == 2
    assert "missing.tflite" in capsys.readouterr().err


def _result(precision: str, p50: float) -> dict:
    return {"precision": precision, "model": f"m-{precision}.tflite", "invoke_ms": {"p50": p50}}


def test_precision_comparison_says_when_int8_is_not_faster():
    slower = dr.compare_precisions([_result("float32", 2.0), _result("float16", 1.5), _result("int8", 1.6)])
    assert slower["fastest"] == "float16" and slower["int8_faster"] is False
    assert "NOT faster than float16" in slower["note"]
    same = dr.compare_precisions([_result("float32", 1.0), _result("int8", 0.98)])  # within 5 %: not faster
    assert same["int8_faster"] is False
    faster = dr.compare_precisions([_result("float32", 2.0), _result("int8", 0.5)])
    assert faster["int8_faster"] is True and faster["int8_speedup_vs_float32"] == 4.0
    assert "4.00x faster" in faster["note"]


def _report(detect: float, classify: float, processing: float) -> dict:
    stages = {
        "detect": {"p50": detect, "p95": detect},
        "preprocess": {"p50": 0.1, "p95": 0.2},
        "classify": {"p50": classify, "p95": classify},
        "processing": {"p50": processing * 0.9, "p95": processing},
    }
    bottleneck = max(("detect", "preprocess", "classify"), key=lambda n: stages[n]["p95"])
    e2e = {"stages_ms": stages, "precision": "int8", "detect_every": 1, "faces_per_frame": 1.0}
    return {"threads": 4, "end_to_end": {**e2e, "bottleneck_p95": bottleneck}}


def test_verdict_names_the_bottleneck():
    no = dr.verdict(_report(detect=30.0, classify=12.0, processing=42.5))
    assert no["meets_30fps"] is False and no["bottleneck"] == "detect"
    assert no["text"].startswith("NO") and "detect" in no["text"]
    yes = dr.verdict(_report(detect=5.0, classify=8.0, processing=13.5))
    assert yes["meets_30fps"] is True and yes["bottleneck"] == "classify"
    assert yes["headroom_ms"] == pytest.approx(1000 / 30 - 13.5, abs=1e-3)
    incomplete = dr.verdict({"threads": 1, "end_to_end": {"error": "no detector model"}})
    assert incomplete["meets_30fps"] is None and "no detector model" in incomplete["text"]


def test_precision_of_reads_card_then_name(tmp_path, tflite_models):
    assert dr.precision_of(tflite_models["cnn-int8"]) == "int8"  # from its card
    named = tmp_path / "model-float16.tflite"
    named.write_bytes(Path(tflite_models["cnn-f32"]).read_bytes())
    assert dr.precision_of(named) == "float16"


def test_board_and_cpu_come_from_the_system(monkeypatch, tmp_path):
    model = tmp_path / "model"
    model.write_bytes(b"Raspberry Pi 4 Model B Rev 1.4\x00")
    cpuinfo = tmp_path / "cpuinfo"
    cpuinfo.write_text("processor\t: 0\nCPU part\t: 0xd08\n\nprocessor\t: 1\nCPU part\t: 0xd08\n")
    files = {"/proc/device-tree/model": model, "/proc/cpuinfo": cpuinfo}
    real = dr._read
    monkeypatch.setattr(dr, "_read", lambda p: real(str(files[p])) if p in files else None)
    assert dr.board_model() == "Raspberry Pi 4 Model B Rev 1.4"
    assert dr.cpu_description() == "Cortex-A72"


def test_bench_does_not_import_tensorflow(tflite_models, tmp_path):
    code = (
        "import sys\n"
        "from fer_edge.cli.main import main\n"
        f"rc = main(['bench', '--model', {str(tflite_models['cnn-int8'])!r}, '--frames', '10', "
        f"'--out', {str(tmp_path / 'r.json')!r}])\n"
        "assert rc == 0, rc\n"
        "bad = [m for m in ('tensorflow', 'keras', 'pandas', 'sklearn', 'matplotlib') if m in sys.modules]\n"
        "assert not bad, bad\n"
    )
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr[-2000:]
