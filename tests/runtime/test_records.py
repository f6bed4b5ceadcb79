"""Typed records: a schema version on write, old files without one still read, newer or foreign ones refused."""

from __future__ import annotations

import json

import pytest

from fer_edge.errors import FerEdgeError
from fer_edge.runtime.device_report import BenchReport, format_report

OLD_BENCH = {  # a device report as fer-edge bench wrote it before schema versions
    "created": "2026-12-01T10:00:00+0000",
    "system": {"board": None, "cpu": "x", "cores": 2, "os": "Linux", "userland_bits": 64, "python": "3.12"},
    "interpreter": {"backend": "litert", "version": "1.0"},
    "threads": 1,
    "frames": 10,
    "budget_ms": 33.333,
    "classifiers": [{"model": "m.tflite", "precision": "int8", "invoke_ms": {"p50": 0.2, "p95": 0.3}}],
    "precision_comparison": {"fastest": "int8", "note": ""},
    "detector": {"error": "no detector model"},
    "end_to_end": {"error": "no detector model"},
    "verdict": {"meets_30fps": None, "text": "incomplete: no detector model"},
    "command": "fer-edge bench --frames 10",
}


def test_an_old_bench_report_reads_and_writes_back_the_same_with_a_version():
    report = BenchReport.from_json(json.dumps(OLD_BENCH), "old.json")
    assert report.threads == 1 and report.classifiers[0]["precision"] == "int8"
    again = report.to_dict()
    assert next(iter(again)) == "schema_version" and again["schema_version"] == BenchReport.SCHEMA_VERSION
    assert {k: v for k, v in again.items() if k != "schema_version"} == OLD_BENCH
    assert BenchReport.from_json(report.to_json()) == report
    text = format_report(report)
    assert "classify int8 m.tflite" in text and "verdict: incomplete: no detector model" in text


def test_a_newer_or_foreign_file_is_one_line_naming_it():
    with pytest.raises(FerEdgeError, match=r"new\.json: BenchReport schema 99 is newer.*upgrade fer-edge"):
        BenchReport.from_json(json.dumps({**OLD_BENCH, "schema_version": 99}), "new.json")
    with pytest.raises(FerEdgeError, match=r"other\.json: not a BenchReport record"):
        BenchReport.from_json(json.dumps({"threads": 1}), "other.json")
    with pytest.raises(FerEdgeError, match=r"bad\.json: not valid JSON"):
        BenchReport.from_json("{", "bad.json")
