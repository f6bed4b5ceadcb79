"""The per-face event log: JSON lines or CSV, refusing to replace a file unless asked, appending across
restarts, rotating by size with a bounded number of old files."""

from __future__ import annotations

import csv
import json

import pytest

from fer_edge.errors import FerEdgeError
from fer_edge.runtime.events import EventLog

FIELDS = ["source", "frame", "label", "score"]


def rec(i: int) -> dict:
    return {"source": "cam", "frame": i, "label": "happy", "score": 0.5}


def test_existing_file_needs_force_or_append(tmp_path):
    path = tmp_path / "ev.jsonl"
    log = EventLog(path, FIELDS)
    log.write([rec(0), rec(1)])
    log.close()
    with pytest.raises(FerEdgeError, match="--events-append"):
        EventLog(path, FIELDS)
    again = EventLog(path, FIELDS, append=True)  # a restarted service goes on with the same file
    again.write([rec(2)])
    again.close()
    assert [json.loads(line)["frame"] for line in path.read_text().splitlines()] == [0, 1, 2]
    EventLog(path, FIELDS, force=True).close()
    assert path.read_text() == ""


def test_csv_has_one_header_also_when_appending(tmp_path):
    path = tmp_path / "ev.csv"
    for _ in range(2):
        log = EventLog(path, FIELDS, append=True)
        log.write([rec(0)])
        log.close()
    rows = list(csv.DictReader(path.open()))
    assert len(rows) == 2 and rows[0]["label"] == "happy" and rows[0]["time"].endswith("Z")


def test_rotation_keeps_the_newest_files(tmp_path):
    path = tmp_path / "ev.jsonl"
    log = EventLog(path, FIELDS, max_bytes=500, keep=2)
    for i in range(60):
        log.write([rec(i)])
    log.close()
    names = sorted(p.name for p in tmp_path.iterdir())
    assert names == ["ev.jsonl", "ev.jsonl.1", "ev.jsonl.2"] and log.rotations >= 3
    frames = [
        json.loads(line)["frame"]
        for name in ("ev.jsonl.2", "ev.jsonl.1", "ev.jsonl")
        for line in (tmp_path / name).read_text().splitlines()
    ]
    assert frames == list(range(60 - len(frames), 60))  # the newest records, in order, nothing torn
    assert log.lines == 60


def test_stdout(capsys):
    log = EventLog("-", FIELDS)
    log.write([rec(7)])
    log.close()
    assert json.loads(capsys.readouterr().out)["frame"] == 7


def test_a_folder_is_refused(tmp_path):
    with pytest.raises(FerEdgeError, match="is a folder"):
        EventLog(tmp_path, FIELDS)
