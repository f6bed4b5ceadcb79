"""The README's factorial table says what the committed results say (train/results/table1.csv)."""

from __future__ import annotations

import csv
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
ROWS = {"Directory": "dir-rgb-28709", "CSV": "csv-gray-35887"}
CELL = re.compile(r"([\d.]+) % \[([\d.]+) to ([\d.]+)\] \(([\d.]+) %\)")


def _table1() -> dict[str, dict[str, str]]:
    with open(ROOT / "train/results/table1.csv", newline="") as f:
        return {r["cell"]: r for r in csv.DictReader(f) if r["variant"] == "faithful"}


def test_readme_factorial_table_matches_table1():
    table = _table1()
    readme = (ROOT / "README.md").read_text()
    seen = 0
    for line in readme.splitlines():
        for label, data in ROWS.items():
            if line.startswith(f"| {label} ("):
                cells = CELL.findall(line)
                assert len(cells) == 2, line
                for arch, (mean, low, high, paper) in zip(("cnn", "cnn-lstm"), cells):
                    row = table[f"{data}_{arch}"]
                    assert mean == f"{float(row['accuracy_mean']):.2f}", (data, arch)
                    assert (low, high) == (
                        f"{float(row['accuracy_ci_low']):.2f}",
                        f"{float(row['accuracy_ci_high']):.2f}",
                    )
                    assert paper == f"{float(row['accuracy_paper']):.2f}"
                seen += 1
    assert seen == 2


def test_readme_seed_counts_match_table1():
    table = _table1()
    line = next(x for x in (ROOT / "README.md").read_text().splitlines() if "Each faithful cell has" in x)
    for cell, row in table.items():
        assert f"`{cell}` {row['seeds']}" in line, cell
