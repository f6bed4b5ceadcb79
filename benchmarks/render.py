"""pytest-benchmark JSON -> Markdown tables: per-frame latency with FPS and headroom against the
33.3 ms budget of 30 FPS, and the data benchmarks against their targets.

    python benchmarks/render.py runs/benchmarks.json [-o runs/benchmarks.md]
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from fer_edge.runtime.timing import BUDGET_MS

SECTIONS = (
    ("invoke", "Classifier invoke (bare `invoke` on typed input)"),
    ("detector", "Face detector (BlazeFace short range, 640x480 frame)"),
    ("frame", "Whole frame: detect -> crop -> classify (`FramePipeline`, 640x480, one face)"),
)


def _ms(seconds: float) -> float:
    return seconds * 1000.0


def _per_frame_row(b: dict[str, Any]) -> list[str]:
    info, st = b.get("extra_info", {}), b["stats"]
    median = _ms(st["median"])
    headroom = BUDGET_MS - median
    row = [
        info.get("arch", "-"),
        info.get("precision", "-"),
        str(info.get("threads", "-")),
        f"{median:.3f}",
        f"{_ms(st['mean']):.3f}",
        f"{_ms(st['min']):.3f}",
        f"{1000.0 / median:,.0f}" if median > 0 else "-",
        f"{headroom:+.1f} ms ({median / BUDGET_MS:.1%} used)",
    ]
    stages = info.get("stages_p50_ms")
    if stages is not None:
        row.append(" / ".join(f"{stages.get(k, float('nan')):.2f}" for k in ("detect", "preprocess", "classify")))
    return row


def _load_line(benches: list[dict[str, Any]]) -> list[str]:
    loads = [b["extra_info"]["loadavg_1min"] for b in benches if "loadavg_1min" in b.get("extra_info", {})]
    if not loads:
        return []
    return [
        f"- 1-minute load average while measuring: {min(loads):.1f} to {max(loads):.1f} (a shared machine inflates medians)"
    ]


def _table(header: list[str], rows: list[list[str]]) -> list[str]:
    out = ["| " + " | ".join(header) + " |", "|" + "|".join(" --- " for _ in header) + "|"]
    out += ["| " + " | ".join(r) + " |" for r in rows]
    return out


def render(doc: dict[str, Any]) -> str:
    benches = doc.get("benchmarks", [])
    mi = doc.get("machine_info", {})
    cpu = mi.get("cpu", {})
    commit = doc.get("commit_info", {})
    lines = [
        "# fer-edge benchmarks",
        "",
        f"- machine: {cpu.get('brand_raw', mi.get('processor', '?'))}, {cpu.get('count', '?')} logical cores, "
        f"{mi.get('system', '?')} {mi.get('release', '')}; Python {mi.get('python_version', '?')}",
        f"- run: {doc.get('datetime', '?')}; commit {str(commit.get('id', '?'))[:10]}"
        + (" (dirty tree)" if commit.get("dirty") else ""),
        f"- budget: {BUDGET_MS:.1f} ms per frame (30 FPS); FPS = 1000 / median; headroom = budget - median",
        *_load_line(benches),
        "",
    ]
    for group, title in SECTIONS:
        rows = sorted(
            (b for b in benches if b.get("group") == group),
            key=lambda b: (
                b.get("extra_info", {}).get("arch", ""),
                b.get("extra_info", {}).get("precision", ""),
                b.get("extra_info", {}).get("threads", 0),
            ),
        )
        if not rows:
            continue
        header = ["arch", "precision", "threads", "median ms", "mean ms", "min ms", "FPS", "headroom vs 33.3 ms"]
        if group == "frame":
            header.append("p50 detect / crop / classify ms")
        lines += [f"## {title}", "", *_table(header, [_per_frame_row(b) for b in rows]), ""]
    known = {g for g, _ in SECTIONS} | {"data"}
    others = [b for b in benches if b.get("group") not in known]
    if others:
        rows = []
        for b in others:
            st = b["stats"]
            median = _ms(st["median"])
            rows.append(
                [
                    b.get("fullname", b["name"]).split("::")[-1],
                    f"{median:.3f}",
                    f"{_ms(st['min']):.3f}",
                    f"{1000.0 / median:,.0f}" if median > 0 else "-",
                    f"{BUDGET_MS - median:+.1f} ms ({median / BUDGET_MS:.1%} used)",
                ]
            )
        header = ["benchmark", "median ms", "min ms", "FPS", "headroom vs 33.3 ms"]
        lines += ["## Other benchmarks in the run", "", *_table(header, rows), ""]
    data = [b for b in benches if b.get("group") == "data"]
    if data:
        rows = []
        for b in data:
            info, median = b.get("extra_info", {}), b["stats"]["median"]
            target = info.get("target_s")
            verdict = "-" if target is None else ("within" if median <= target else "OVER")
            rows.append(
                [
                    b["name"],
                    str(info.get("dataset", "-")),
                    f"{info.get('images', 0):,}",
                    f"{median:.2f}",
                    f"{b['stats']['min']:.2f}",
                    f"<= {target:g} s" if target is not None else "-",
                    verdict,
                ]
            )
        header = ["benchmark", "data", "images", "median s", "min s", "target", "verdict"]
        lines += ["## Data: loading and audit", "", *_table(header, rows), ""]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("json", type=Path, help="file written by pytest --benchmark-json")
    parser.add_argument("-o", "--out", type=Path, help="write the Markdown here (default: print it)")
    args = parser.parse_args(argv)
    try:
        doc = json.loads(args.json.read_text())
    except (OSError, json.JSONDecodeError) as e:
        print(f"error: {args.json}: not a readable pytest-benchmark JSON ({e})", file=sys.stderr)
        return 2
    text = render(doc)
    if args.out:
        args.out.write_text(text + "\n")
    else:
        print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
