"""The accuracy-after-quantization report: Markdown + CSV + JSON, and a PNG of per-class recall change."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

from fer_edge.atomic import check_destination, check_writable
from fer_edge.errors import FerEdgeError
from fer_edge.evaluation.data import LEAK_METHODS
from fer_edge.evaluation.evaluate import COVERAGE_TABLE, Evaluation
from fer_edge.evaluation.rows import EvalRow
from fer_edge.labels import EMOTIONS
from fer_edge.runtime.model_file import PRECISIONS

FILES = ("report.md", "report.csv", "report.json", "per_class_change.png", "reliability.png", "coverage.png")


def _fmt(v: Any, kind: str = "") -> str:
    if v is None:
        return "n/a"
    if kind == "pct":
        return f"{100 * v:.2f} %"
    if kind == "pp":
        return f"{v:+.2f}"
    if kind == "ratio":
        return f"{v:.1%}"
    if kind == "ms":
        return f"{v:.3f}"
    if kind == "x":
        return f"{v:.2f}x"
    if kind == "kib":
        return f"{v / 1024:,.0f} KiB"
    return str(v)


def _table(headers: list[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(headers) + " |", "|" + "|".join("---" for _ in headers) + "|"]
    lines += ["| " + " | ".join(r) + " |" for r in rows]
    return "\n".join(lines)


def _leakage(ev: Evaluation) -> str:
    d = ev.data
    if d.leaked is None:
        return "Leakage: not checked (" + "; ".join(d.notes or ["no training data"]) + ")."
    k, n = int(d.leaked.sum()), len(d.leaked)
    return (
        f"Leakage: {k:,} of {n:,} evaluation images ({k / max(n, 1):.1%}) have an {LEAK_METHODS[d.leak_kind]} in the "
        f"images the model saw ({d.train_source}). The table gives accuracy on the full "
        f"split and on its {n - k:,} leakage-free images."
    )


def wilson_interval(accuracy: float | None, n: int) -> tuple[float, float] | None:
    """95 % Wilson interval of an accuracy measured on ``n`` images (None when there is none)."""
    if accuracy is None or n == 0:
        return None
    from fer_edge.metrics import wilson_interval as wilson

    return wilson(round(accuracy * n), n)


def _with_ci(accuracy: float | None, n: int) -> str:
    ci = wilson_interval(accuracy, n)
    return _fmt(accuracy, "pct") + ("" if ci is None else f" [{100 * ci[0]:.1f}, {100 * ci[1]:.1f}]")


def _label(r: EvalRow) -> str:
    return f"{r.model} {r.precision}"


def _range(interval: tuple[float, float]) -> str:
    lo, hi = interval
    return "" if np.isnan(lo) else f" ({100 * lo:.1f}-{100 * hi:.1f})"


def calibration_section(ev: Evaluation, figures: dict[str, str] | None = None) -> list[str]:
    """Markdown lines: ECE before/after the temperature, and the coverage table of min-confidence thresholds."""
    figures = figures or {}
    out = ["## Calibration and abstaining", ""]
    if ev.calibrations:
        out.append(
            f"Temperature T fitted per model on {ev.calibration_data.description if ev.calibration_data else '?'} "
            "(minimum NLL of softmax(log p / T)); expected calibration error (ECE, 15 equal-width bins of top-1 "
            "confidence) and NLL on the scored images, before and after T; in brackets the bootstrap 95 % range "
            "(1,000 resamples of the scored images, T fixed; ECE is biased upward on resamples)."
        )
    else:
        out.append(
            "ECE (15 equal-width bins of top-1 confidence) of each model's raw outputs; give --calibrate-on USAGE to "
            "fit a temperature and report the ECE after it."
        )
    out.append("")
    rows = []
    for r in ev.rows:
        cal = ev.calibrations.get(r.file)
        rows.append(
            [
                r.model,
                r.precision,
                _fmt(r.ece, "pct") + ("" if cal is None else _range(cal.interval_before)),
                "n/a" if cal is None else f"{cal.temperature:.3f}",
                "n/a" if cal is None else _fmt(cal.after.ece, "pct") + _range(cal.interval_after),
                "n/a" if cal is None else f"{cal.nll_before:.4f} -> {cal.nll_after:.4f}",
                f"{r.card_temperature:.3f}",
            ]
        )
    out += [_table(["model", "precision", "ECE raw", "fitted T", "ECE after T", "NLL", "card T"], rows), ""]
    if figures.get("reliability"):
        out += [f"![reliability diagrams]({figures['reliability']})", ""]
    if ev.coverage:
        which = "calibrated" if ev.calibrations else "card-temperature"
        out.append(
            f"Abstaining (`--min-confidence P`: a face whose top {which} probability is below P is labelled "
            "uncertain): share of faces kept and accuracy on them."
        )
        out.append("")
        headers = ["model", "precision"] + [f"P = {t:.1f}" for t in COVERAGE_TABLE]
        rows = []
        for r in ev.rows:
            c = ev.coverage.get(r.file)
            if c is None:
                continue
            cells = []
            for t in COVERAGE_TABLE:
                i = int(np.argmin(np.abs(c["threshold"] - t)))
                acc = c["accuracy"][i]
                cells.append(
                    f"{100 * c['coverage'][i]:.1f} % kept, " + ("n/a" if np.isnan(acc) else f"{100 * acc:.1f} % acc.")
                )
            rows.append([r.model, r.precision, *cells])
        out += [_table(headers, rows), ""]
        if figures.get("coverage"):
            out += [f"![coverage vs accuracy]({figures['coverage']})", ""]
    return out


def markdown(ev: Evaluation, command: str, chart: str | None, figures: dict[str, str] | None = None) -> str:
    d = ev.data
    out = ["# Accuracy after quantization", ""]
    out.append(f"Data: {d.description}.")
    if d.class_map and any(k != v for k, v in d.class_map.items()):
        out.append("Class mapping: " + ", ".join(f"{k} -> {v}" for k, v in d.class_map.items()) + ".")
    if d.missing:
        out.append(f"Classes with no image here (no recall for them): {', '.join(d.missing)}.")
    if d.skipped:
        out.append(
            "Skipped classes that map to no FER-2013 emotion: "
            + ", ".join(f"{k} ({v} images)" for k, v in d.skipped.items())
            + "."
        )
    out += [_leakage(ev), ""]
    out.append(f"Command: `{command}`")
    env = ev.environment
    out.append(
        f"Machine: {env.get('processor', '?')} ({env.get('machine', '?')}{_simd(env)}), TFLite backend {env.get('tflite_backend', '?')}, Python {env.get('python', '?')}."
    )
    out += ["", "## Results", ""]
    out.append(
        "Deltas are against each model's float reference (the Keras model when given). Latency: median of "
        "single-image invokes on one thread (TFLite), the files timed in interleaved rounds on a shared CPU."
    )
    out.append("")
    n_all, n_clean = len(ev.data.dataset), ev.data.leakage_free_count
    headers = [
        "model",
        "precision",
        "size",
        "vs float32",
        "accuracy [95 % CI]",
        "leak-free acc. [95 % CI]",
        "macro F1",
        "Δ acc. (pp)",
        "agree w/ float",
        "latency ms",
        "speed-up vs float32",
    ]
    rows = [
        [
            r.model,
            r.precision,
            _fmt(r.size_bytes, "kib"),
            _fmt(r.size_vs_float32, "ratio"),
            _with_ci(r.accuracy, n_all),
            _with_ci(r.accuracy_leakage_free, n_clean),
            _fmt(r.macro_f1, "pct"),
            _fmt(r.delta_accuracy_pp, "pp"),
            _fmt(r.agreement_with_float, "pct"),
            _fmt(r.latency_ms, "ms"),
            _fmt(r.speedup_vs_float32, "x"),
        ]
        for r in ev.rows
    ]
    out += [_table(headers, rows), "", "## Targets", ""]
    mark = {True: "PASS", False: "FAIL", None: "n/a"}
    out.append(
        _table(
            ["model", "target", "measured", "result"],
            [[t["model"], t["target"], t["value"] or "not measurable", mark[t["passed"]]] for t in ev.targets],
        )
    )
    out += ["", "## Per-class recall (%), and change against the float model (pp)", ""]
    headers = ["model", "precision", *EMOTIONS]
    rows = []
    for r in ev.rows:
        cells = []
        for e in EMOTIONS:
            rec, delta = r.recall.get(e), r.delta_recall_pp.get(e)
            cells.append(
                "n/a"
                if rec is None
                else f"{100 * rec:.1f}" + ("" if delta is None or r.precision in ("keras",) else f" ({delta:+.1f})")
            )
        rows.append([r.model, r.precision, *cells])
    out += [_table(headers, rows), ""]
    if chart:
        out += [f"![per-class recall change]({chart})", ""]
    out += calibration_section(ev, figures)
    out += ["## Files", ""]
    for r in ev.rows:
        line = f"- `{r.file}` ({r.size_bytes:,} bytes): {r.inference}"
        if r.conversion:
            line += f"; {r.conversion}"
        if r.calibration:
            line += f"; calibration: {r.calibration}"
        out.append(line)
    return "\n".join(out) + "\n"


def _compared(ev: Evaluation) -> list[EvalRow]:
    """TFLite rows with a float model to compare against (not the reference itself)."""
    return [
        r
        for r in ev.rows
        if r.kind == "tflite"
        and r.delta_accuracy_pp is not None
        and r.reference != f"{r.precision} ({Path(r.file).name})"
    ]


def plot_per_class_change(ev: Evaluation, path: Path) -> None:
    """One panel per precision: per-class recall change (pp) of each model against its float model."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    compared = _compared(ev)
    precisions = [p for p in PRECISIONS if any(r.precision == p for r in compared)]
    fig, axes = plt.subplots(1, len(precisions), figsize=(4.2 * len(precisions), 3.6), sharey=True, squeeze=False)
    models = sorted({r.model for r in compared})
    width = 0.8 / max(1, len(models))
    x = np.arange(len(EMOTIONS))
    for ax, precision in zip(axes[0], precisions):
        for i, model in enumerate(models):
            row = next((r for r in compared if r.model == model and r.precision == precision), None)
            if row is None:
                continue
            deltas = [
                row.delta_recall_pp.get(e) if row.delta_recall_pp.get(e) is not None else np.nan for e in EMOTIONS
            ]
            ax.bar(x + (i - (len(models) - 1) / 2) * width, deltas, width, label=model)
        ax.axhline(0, color="black", linewidth=0.8)
        ax.set_xticks(x, EMOTIONS, rotation=45, ha="right")
        ax.set_title(f"{precision} vs float model")
        ax.grid(axis="y", alpha=0.3)
    axes[0][0].set_ylabel("recall change (pp)")
    axes[0][-1].legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=90, format="png")
    plt.close(fig)


def check_report_folder(out_dir: Path, force: bool) -> bool:
    """Whether ``out_dir`` may be (re)written as a whole; raises when it may not.

    A new or empty folder is fine; an existing report needs ``force`` (the whole folder is then
    replaced, so no file of the previous run stays); a folder holding anything else is refused
    even with ``force``, so ``--out . --force`` never deletes a user's files.
    """
    out_dir = Path(out_dir)
    if out_dir.exists() and not out_dir.is_dir():
        raise FerEdgeError(f"{out_dir}: exists and is not a folder; give a folder for --out")
    if not out_dir.is_dir() or not any(out_dir.iterdir()):
        check_writable(out_dir / FILES[0])
        return True
    others = sorted(p.name for p in out_dir.iterdir() if p.name not in FILES and not p.name.startswith("."))
    if others:
        raise FerEdgeError(
            f"{out_dir}: holds files that are not an evaluate report ({', '.join(others[:3])}); "
            "choose a new or empty folder for --out"
        )
    check_destination(out_dir, force)
    return True


def write_report(ev: Evaluation, out_dir: Path, command: str, force: bool = False) -> list[Path]:
    """report.md, report.csv, report.json and per_class_change.png in ``out_dir``, written as a whole
    (an existing report is replaced with ``force``, none of its files left behind)."""
    import pandas as pd

    from fer_edge.atomic import atomic_path

    out_dir = Path(out_dir)
    check_report_folder(out_dir, force)
    replace = out_dir.exists()  # empty, or a previous report with force
    with atomic_path(out_dir, force=replace, directory=True) as tmp:
        names = _write_report_files(ev, tmp, command, pd)
    return [out_dir / name for name in names]


def _write_report_files(ev: Evaluation, folder: Path, command: str, pd: Any) -> list[str]:
    written = []
    chart = bool(_compared(ev))
    if chart:
        plot_per_class_change(ev, folder / "per_class_change.png")
        written.append("per_class_change.png")
    figures: dict[str, str] = {}
    if ev.calibrations:
        from fer_edge.training.figures import plot_reliability

        panels = [(_label(r), ev.calibrations[r.file].before, ev.calibrations[r.file].after) for r in ev.rows]
        plot_reliability(panels[:6], folder / "reliability.png")
        figures["reliability"] = "reliability.png"
    if ev.coverage:
        from fer_edge.training.figures import plot_coverage

        plot_coverage(
            [(_label(r), ev.coverage[r.file]) for r in ev.rows if r.file in ev.coverage], folder / "coverage.png"
        )
        figures["coverage"] = "coverage.png"
    written += list(figures.values())
    (folder / "report.md").write_text(markdown(ev, command, "per_class_change.png" if chart else None, figures))
    (folder / "report.csv").write_text(pd.DataFrame([r.to_dict() for r in ev.rows]).to_csv(index=False))
    written += ["report.md", "report.csv"]
    d = ev.data
    payload = {
        "schema_version": EvalRow.SCHEMA_VERSION,  # of the report and its rows
        "command": command,
        "data": {
            "description": d.description,
            "images": len(d.dataset),
            "class_map": d.class_map,
            "missing_classes": d.missing,
            "skipped_classes": d.skipped,
            "leakage": None
            if d.leaked is None
            else {
                "train_source": d.train_source,
                "images_with_copy_in_train": int(d.leaked.sum()),
                "method": LEAK_METHODS[d.leak_kind],
            },
            "notes": d.notes,
        },
        "environment": ev.environment,
        "rows": [r.to_dict() for r in ev.rows],
        "accuracy_wilson_95": {
            f"{r.model} {r.precision}": {
                "all": wilson_interval(r.accuracy, len(d.dataset)),
                "leakage_free": wilson_interval(r.accuracy_leakage_free, d.leakage_free_count),
            }
            for r in ev.rows
        },
        "targets": ev.targets,
        "calibration": {
            f: {
                "temperature": c.temperature,
                **c.card_entry(),
                "reliability_before": c.before.as_dict(),
                "reliability_after": c.after.as_dict(),
            }
            for f, c in ev.calibrations.items()
        },
        "coverage": {
            f: {
                k: [None if np.isnan(v) else round(float(v), 6) for v in c[k]]
                for k in ("threshold", "coverage", "accuracy")
            }
            for f, c in ev.coverage.items()
        },
    }
    (folder / "report.json").write_text(json.dumps(payload, indent=2) + "\n")
    written.append("report.json")
    return written


def _simd(env: dict[str, str]) -> str:
    """``, SIMD avx2 avx512f`` (the extensions timings depend on); empty for reports without the field."""
    from fer_edge.cpu import simd_summary

    return f", SIMD {simd_summary(env['simd'].split())}" if "simd" in env else ""
