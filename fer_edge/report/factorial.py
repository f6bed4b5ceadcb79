"""The factorial's report from its run folders: tables, ANOVA, per-class AUC, leakage, timings.

Everything is read from ``RESULTS/runs/<cell>/seed<k>/metrics.json`` (and nothing is typed in
by hand except the paper's published numbers in ``fer_edge.report.paper``), so the report can
be rebuilt at any time, also from a partial run: cells without runs are listed as missing.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from fer_edge.atomic import write_text
from fer_edge.labels import EMOTIONS
from fer_edge.report.anova import two_way_anova
from fer_edge.report.paper import PAPER1_TABLE1, PAPER1_TABLE2_AUC, PAPER1_TABLE2_CELL
from fer_edge.training.factorial import RUNS, Experiment, cell_name

METRICS = ("accuracy", "macro_precision", "macro_recall", "macro_f1")
METRIC_LABEL = {
    "accuracy": "accuracy",
    "macro_precision": "macro P",
    "macro_recall": "macro R",
    "macro_f1": "macro F1",
    "accuracy_leakage_free": "leakage-free accuracy (test images with a copy in training left out)",
}


def collect_runs(results_dir: Path, exp: Experiment) -> pd.DataFrame:
    """One row per finished run (percent for the four headline metrics, AUC as 0-1)."""
    arch_key = {v: k for k, v in exp.architectures.items()}
    rows: list[dict[str, Any]] = []
    for path in sorted((Path(results_dir) / RUNS).glob("*/seed*/metrics.json")):
        m = json.loads(path.read_text())
        data = m["data"].get("cell") or path.parts[-3].rsplit("_", 1)[0]
        row: dict[str, Any] = {
            "cell": m.get("cell") or path.parts[-3],
            "data": data,
            "arch": arch_key.get(m["arch"], m["arch"]),
            "seed": int(m["seed"]),
            "channels": m["channels"],
            "images": m["data"].get("images"),
            "n_test": m["test"]["n"],
            **{k: 100 * m["test"][k] for k in METRICS},
            **{f"auc_{e}": m["test"]["roc_auc"].get(e) for e in EMOTIONS},
            "test_with_copy_in_train": m["leakage"]["test_with_copy_in_train"],
            "accuracy_leakage_free": 100 * m["leakage"]["test_accuracy_leakage_free"],
            "macro_f1_leakage_free": 100 * m["test_leakage_free"]["macro_f1"],
            "accuracy_on_leaked": (
                100 * m["leakage"]["test_accuracy_on_leaked"]
                if m["leakage"]["test_accuracy_on_leaked"] is not None
                else np.nan
            ),
            "val_accuracy": 100 * m["val"]["accuracy"],
            "epochs_run": m["fit"]["epochs_run"],
            "best_epoch": m["fit"]["best_epoch"],
            "seconds_per_epoch": m["fit"]["seconds_per_epoch"],
            "seconds_fit": m["fit"]["seconds"],
            "seconds_total": m.get("seconds_total", np.nan),
            "parameters": m.get("parameters"),
        }
        rows.append(row)
    return pd.DataFrame(rows)


def _pm(values: pd.Series, digits: int = 2) -> str:
    v = values.dropna()
    if len(v) == 0:
        return "-"
    if len(v) == 1:
        return f"{v.iloc[0]:.{digits}f}"
    return f"{v.mean():.{digits}f} ± {v.std(ddof=1):.{digits}f}"


def _md_table(df: pd.DataFrame) -> str:
    cols = list(df.columns)
    lines = ["| " + " | ".join(str(c) for c in cols) + " |", "|" + "|".join("---" for _ in cols) + "|"]
    for _, r in df.iterrows():
        lines.append("| " + " | ".join(str(r[c]) for c in cols) + " |")
    return "\n".join(lines)


def _fmt_p(p: float) -> str:
    if p is None or np.isnan(p):
        return "n/a"
    return "< 0.001" if p < 0.001 else f"{p:.3f}"


def table1(runs: pd.DataFrame, exp: Experiment, data_cells: list[str]) -> pd.DataFrame:
    """Mean ± sd over seeds per cell, with the paper's value where the cell stands for one of its cells."""
    rows = []
    for d in data_cells:
        for a in exp.architectures:
            sub = runs[(runs.data == d) & (runs.arch == a)] if len(runs) else runs
            paper = PAPER1_TABLE1.get((exp.data[d].paper, a)) if exp.data[d].paper else None
            row: dict[str, Any] = {"cell": cell_name(d, a), "data": d, "arch": a, "seeds": len(sub)}
            for k in METRICS:
                col = sub[k] if len(sub) else pd.Series(dtype=float)
                row[f"{k}_mean"] = col.mean() if len(col) else np.nan
                row[f"{k}_sd"] = col.std(ddof=1) if len(col) > 1 else np.nan
                row[f"{k}_paper"] = paper[k] if paper else np.nan
            rows.append(row)
    return pd.DataFrame(rows)


def _table1_md(t1: pd.DataFrame, runs: pd.DataFrame) -> str:
    out = []
    for _, r in t1.iterrows():
        sub = runs[(runs.data == r.data) & (runs.arch == r.arch)] if len(runs) else runs
        row = {"cell": f"`{r.cell}`", "seeds": r.seeds}
        for k in METRICS:
            ours = _pm(sub[k]) if len(sub) else "no runs yet"
            paper = "" if np.isnan(r[f"{k}_paper"]) else f" (paper {r[f'{k}_paper']:.2f})"
            row[METRIC_LABEL[k]] = ours + paper
        out.append(row)
    return _md_table(pd.DataFrame(out))


def anova_tables(runs: pd.DataFrame, comparison: Any) -> dict[str, pd.DataFrame]:
    """Two-way ANOVA (factor x architecture) of accuracy and macro F1 over seeds for one comparison."""
    level_of = {d: lvl for lvl, d in comparison.levels.items()}
    sub = runs[runs.data.isin(level_of)].copy() if len(runs) else runs
    if len(sub) == 0:
        return {}
    sub["factor"] = sub.data.map(level_of)
    responses = ("accuracy", "macro_f1", "accuracy_leakage_free")
    return {resp: two_way_anova(sub, resp, "factor", "arch") for resp in responses}


def _cell_means(runs: pd.DataFrame, data: str, arch: str, col: str = "accuracy") -> float:
    sub = runs[(runs.data == data) & (runs.arch == arch)]
    return float(sub[col].mean()) if len(sub) else float("nan")


def _effect_lines(runs: pd.DataFrame, exp: Experiment, comparison: Any, tables: dict[str, pd.DataFrame]) -> list[str]:
    (lvl0, d0), (lvl1, d1) = list(comparison.levels.items())[:2]
    lines = []
    for a in exp.architectures:
        m0, m1 = _cell_means(runs, d0, a), _cell_means(runs, d1, a)
        if np.isnan(m0) or np.isnan(m1):
            continue
        text = f"{a}: {lvl1} − {lvl0} = {m1 - m0:+.2f} accuracy points ({m0:.2f} → {m1:.2f})"
        p0, p1 = (PAPER1_TABLE1.get((exp.data[d].paper, a)) for d in (d0, d1))
        if p0 and p1:
            text += f"; paper {p1['accuracy'] - p0['accuracy']:+.2f}"
        lines.append(f"- {text}")
    clean = [
        f"{a} {_cell_means(runs, d1, a, 'accuracy_leakage_free') - _cell_means(runs, d0, a, 'accuracy_leakage_free'):+.2f}"
        for a in exp.architectures
        if not np.isnan(_cell_means(runs, d0, a)) and not np.isnan(_cell_means(runs, d1, a))
    ]
    if clean:
        lines.append(f"- on the leakage-free test images: {lvl1} − {lvl0} = " + ", ".join(clean) + " points")
    acc = tables.get("accuracy")
    if acc is not None and not np.isnan(acc.loc["factor", "p"]):
        lines.append(
            f"- ANOVA on accuracy: {comparison.factor} F = {acc.loc['factor', 'F']:.2f}, p {_fmt_p(acc.loc['factor', 'p'])}; "
            f"architecture F = {acc.loc['arch', 'F']:.2f}, p {_fmt_p(acc.loc['arch', 'p'])}; "
            f"interaction F = {acc.loc['factor:arch', 'F']:.2f}, p {_fmt_p(acc.loc['factor:arch', 'p'])}"
        )
    return lines


def _anova_md(table: pd.DataFrame, factor: str) -> str:
    t = table.copy()
    t.index = [i.replace("factor", factor).replace("arch", "architecture") for i in t.index]
    rows = []
    for name, r in t.iterrows():
        rows.append(
            {
                "source": name,
                "SS": f"{r.sum_sq:.3f}" if not np.isnan(r.sum_sq) else "-",
                "df": f"{r.df:.0f}" if not np.isnan(r.df) else "-",
                "F": f"{r.F:.2f}" if not np.isnan(r.F) else "",
                "p": _fmt_p(r.p) if name != "Residual" else "",
                "partial η²": f"{r.partial_eta_sq:.3f}" if not np.isnan(r.partial_eta_sq) else "",
            }
        )
    return _md_table(pd.DataFrame(rows))


def table2(runs: pd.DataFrame, data: str, arch: str) -> pd.DataFrame:
    sub = runs[(runs.data == data) & (runs.arch == arch)]
    rows = []
    for e in EMOTIONS:
        col = sub[f"auc_{e}"].astype(float)
        rows.append(
            {
                "class": e,
                "auc_mean": col.mean(),
                "auc_sd": col.std(ddof=1) if len(col) > 1 else np.nan,
                "paper": PAPER1_TABLE2_AUC[e],
            }
        )
    return pd.DataFrame(rows)


def leakage_table(runs: pd.DataFrame, order: list[str] | None = None) -> pd.DataFrame:
    rows = []
    cells = [c for c in (order or []) if c in set(runs.cell)] + sorted(set(runs.cell) - set(order or []))
    for cell in cells:
        sub = runs[runs.cell == cell]
        rows.append(
            {
                "cell": cell,
                "seeds": len(sub),
                "test_images": sub.n_test.mean(),
                "test_with_copy_in_train_mean": sub.test_with_copy_in_train.mean(),
                "test_with_copy_in_train_min": sub.test_with_copy_in_train.min(),
                "test_with_copy_in_train_max": sub.test_with_copy_in_train.max(),
                "accuracy_full_mean": sub.accuracy.mean(),
                "accuracy_leakage_free_mean": sub.accuracy_leakage_free.mean(),
                "accuracy_on_leaked_mean": sub.accuracy_on_leaked.mean(),
                "macro_f1_full_mean": sub.macro_f1.mean(),
                "macro_f1_leakage_free_mean": sub.macro_f1_leakage_free.mean(),
            }
        )
    return pd.DataFrame(rows)


def timing_table(runs: pd.DataFrame, order: list[str] | None = None) -> pd.DataFrame:
    g = runs.groupby("cell", sort=False)
    cells = [c for c in (order or []) if c in set(runs.cell)] + sorted(set(runs.cell) - set(order or []))
    return (
        pd.DataFrame(
            {
                "seeds": g.size(),
                "epochs_run_mean": g.epochs_run.mean(),
                "seconds_per_epoch_mean": g.seconds_per_epoch.mean(),
                "seconds_per_run_mean": g.seconds_total.mean(),
                "seconds_per_run_max": g.seconds_total.max(),
            }
        )
        .loc[cells]
        .reset_index(names="cell")
    )


def plot_summary(runs: pd.DataFrame, t1: pd.DataFrame, path: Path) -> Path:
    """Mean accuracy per cell with ± sd bars, seeds as dots, the paper's value as a red mark."""
    from fer_edge.training.figures import pyplot, save

    plt = pyplot()
    fig, ax = plt.subplots(figsize=(max(6, 1.1 * len(t1)), 4))
    x = np.arange(len(t1))
    ax.bar(x, t1.accuracy_mean, yerr=t1.accuracy_sd.fillna(0), color="#8fb3d9", capsize=4, label="ours, mean ± sd")
    for i, r in enumerate(t1.itertuples()):
        vals = runs[(runs.data == r.data) & (runs.arch == r.arch)].accuracy
        ax.plot(np.full(len(vals), i), vals, "k.", ms=4)
        if not np.isnan(r.accuracy_paper):
            ax.plot(i, r.accuracy_paper, marker="_", color="red", ms=28, mew=2.5)
    ax.plot([], [], marker="_", color="red", ls="", ms=12, mew=2.5, label="paper")
    ax.set_xticks(x, [c.replace("_", "\n") for c in t1.cell], fontsize=8)
    ax.set_ylabel("test accuracy (%)")
    lo = np.nanmin(np.concatenate([t1.accuracy_mean.to_numpy(), t1.accuracy_paper.to_numpy()]))
    ax.set_ylim(max(0, lo - 10), None)
    ax.grid(axis="y", alpha=0.3)
    ax.legend(fontsize=8)
    return save(fig, path)


def _best_cell(runs: pd.DataFrame, data_cells: list[str]) -> tuple[str, str] | None:
    sub = runs[runs.data.isin(data_cells)]
    if not len(sub):
        return None
    means = sub.groupby(["data", "arch"]).accuracy.mean()
    data, arch = means.idxmax()
    return str(data), str(arch)


def _paper_cell(exp: Experiment, fmt: str) -> str | None:
    return next((d for d, c in exp.data.items() if c.paper == fmt), None)


def _chain(exp: Experiment, start: str, end: str) -> list[tuple[str, ...]]:
    """Controlled comparisons linking ``start`` to ``end`` one factor at a time: (factor, from, to)."""
    steps: list[tuple[str, ...]] = []
    comps = [
        c
        for v in exp.variants.values()
        for c in v.comparisons
        if len(c.levels) == 2 and set(c.levels.values()) != {start, end}  # not the confounded contrast itself
    ]
    current, seen = start, {start}
    while current != end:
        nxt = next(
            (
                (c.factor, *list(c.levels.values()))
                for c in comps
                if list(c.levels.values())[0] == current and list(c.levels.values())[1] not in seen
            ),
            None,
        )
        if nxt is None:
            return []
        steps.append(nxt)
        current = nxt[2]
        seen.add(current)
    return steps


def _account(runs: pd.DataFrame, exp: Experiment, results_dir: Path) -> list[str]:
    """What reproduced and what did not, stated from the numbers; and the known reasons why."""
    out = ["## What reproduced, what did not, and why", ""]
    d_dir, d_csv = _paper_cell(exp, "directory"), _paper_cell(exp, "csv")
    have = set(runs.data)
    out.append("**Cell by cell against the paper** (accuracy, %):")
    out.append("")
    for d in (d_dir, d_csv):
        if d is None:
            continue
        for a in exp.architectures:
            sub = runs[(runs.data == d) & (runs.arch == a)].accuracy
            paper = PAPER1_TABLE1.get((exp.data[d].paper, a))
            if not len(sub) or not paper:
                continue
            p = paper["accuracy"]
            inside = sub.min() <= p <= sub.max()
            out.append(
                f"- `{cell_name(d, a)}`: ours {_pm(sub)} over {len(sub)} seed(s) (range {sub.min():.2f}-{sub.max():.2f}), "
                f"paper {p:.2f}: {'within' if inside else 'outside'} our range, {sub.mean() - p:+.2f} points."
            )
    if d_dir is not None and d_csv is not None and d_dir in have and d_csv in have:
        out += ["", "**The paper's claims:**", ""]
        diffs = {a: _cell_means(runs, d_csv, a) - _cell_means(runs, d_dir, a) for a in exp.architectures}
        faithful = exp.variants.get("faithful")
        comp = next((c for c in (faithful.comparisons if faithful else []) if c.factor == "format"), None)
        acc = anova_tables(runs, comp).get("accuracy") if comp else None
        p_fmt = acc.loc["factor", "p"] if acc is not None else float("nan")
        p_int = acc.loc["factor:arch", "p"] if acc is not None else float("nan")
        same_sign = all(v > 0 for v in diffs.values() if not np.isnan(v))
        verdict = (
            "not reproduced" if not same_sign else
            "same direction; one seed per cell allows no test" if np.isnan(p_fmt) else
            "reproduced (significant)" if p_fmt < 0.05 else "same direction, not significant with these seeds"
        )  # fmt: skip
        paper_mean = np.mean(
            [PAPER1_TABLE1[("csv", a)]["accuracy"] - PAPER1_TABLE1[("directory", a)]["accuracy"] for a in diffs]
        )
        ours_mean = float(np.mean(list(diffs.values())))
        if same_sign and paper_mean > 0 and ours_mean < 0.5 * paper_mean:
            verdict += (
                f" in direction, but the gap averages {ours_mean:.2f} points against the paper's {paper_mean:.2f}"
            )
        out.append(
            "- *CSV beats Directory* (paper: "
            + ", ".join(
                f"{a} {PAPER1_TABLE1[('csv', a)]['accuracy'] - PAPER1_TABLE1[('directory', a)]['accuracy']:+.2f}"
                for a in exp.architectures
                if ("csv", a) in PAPER1_TABLE1
            )
            + "; ours: "
            + ", ".join(f"{a} {v:+.2f}" for a, v in diffs.items())
            + f", ANOVA p {_fmt_p(p_fmt)}): **{verdict}**."
        )
        lf = anova_tables(runs, comp).get("accuracy_leakage_free") if comp else None
        if lf is not None and not np.isnan(lf.loc["factor", "p"]):
            lf_diffs = {
                a: _cell_means(runs, d_csv, a, "accuracy_leakage_free")
                - _cell_means(runs, d_dir, a, "accuracy_leakage_free")
                for a in exp.architectures
            }
            out.append(
                "  Counting only test images without a copy in training, the gap is "
                + ", ".join(f"{a} {v:+.2f}" for a, v in lf_diffs.items())
                + f" (ANOVA p {_fmt_p(lf.loc['factor', 'p'])}): the CSV cell's random split of all 35,887 images "
                "leaks more test copies into training than the Directory cell's split of train/ alone."
                if np.mean(list(lf_diffs.values())) < np.mean(list(diffs.values()))
                else "  Counting only test images without a copy in training, the gap is "
                + ", ".join(f"{a} {v:+.2f}" for a, v in lf_diffs.items())
                + f" (ANOVA p {_fmt_p(lf.loc['factor', 'p'])})."
            )
        if "cnn" in exp.architectures and "cnn-lstm" in exp.architectures:
            gap = {d: _cell_means(runs, d, "cnn-lstm") - _cell_means(runs, d, "cnn") for d in (d_dir, d_csv)}
            paper_gap = {
                f: PAPER1_TABLE1[(f, "cnn-lstm")]["accuracy"] - PAPER1_TABLE1[(f, "cnn")]["accuracy"]
                for f in ("directory", "csv")
            }
            p_arch = acc.loc["arch", "p"] if acc is not None else float("nan")
            if gap[d_csv] > 0 and gap[d_dir] <= 0:
                arch_verdict = "same pattern"
            elif gap[d_csv] > 0 and gap[d_csv] > gap[d_dir]:
                arch_verdict = "partly: the CNN-LSTM is ahead on both formats, not only on CSV; its larger gain on CSV matches the paper"
            elif gap[d_csv] > 0:
                arch_verdict = "partly: the CNN-LSTM is ahead on both formats, and not by more on CSV"
            else:
                arch_verdict = "not reproduced: the CNN-LSTM is not ahead on CSV"
            significance = "" if np.isnan(p_int) else (
                "; the interaction (a different gain per format) is significant" if p_int < 0.05
                else "; the interaction (a different gain per format) is not significant"
            )  # fmt: skip
            out.append(
                f"- *The hybrid CNN-LSTM helps on CSV and not on Directory* (paper: CNN-LSTM − CNN "
                f"{paper_gap['csv']:+.2f} on CSV, {paper_gap['directory']:+.2f} on Directory; ours "
                f"{gap[d_csv]:+.2f} and {gap[d_dir]:+.2f}; architecture p {_fmt_p(p_arch)}, "
                f"interaction p {_fmt_p(p_int)}): **{arch_verdict}{significance}**."
            )
        steps = _chain(exp, d_dir, d_csv)
        if steps and all(s[1] in have and s[2] in have for s in steps):
            out += [
                "",
                "**Where the faithful Directory → CSV difference comes from** (the controlled cells change one "
                "thing at a time; the steps add up exactly to the faithful difference, mean accuracy points):",
                "",
            ]
            rows = []
            for a in exp.architectures:
                row = {"architecture": a}
                for factor, frm, to in steps:
                    row[f"{factor} ({frm} → {to})"] = f"{_cell_means(runs, to, a) - _cell_means(runs, frm, a):+.2f}"
                row["total (faithful CSV − Directory)"] = (
                    f"{_cell_means(runs, d_csv, a) - _cell_means(runs, d_dir, a):+.2f}"
                )
                rows.append(row)
            out += [_md_table(pd.DataFrame(rows)), ""]
    checks_path = Path(results_dir) / "data_checks.json"
    checks = json.loads(checks_path.read_text()) if checks_path.exists() else {}
    kd = checks.get("keras_vs_accurate_decode", {})
    dup = checks.get("exact_duplicates", {})
    ce = checks.get("csv_equals_directory", {})
    out += ["", "**Why the faithful cells differ in more than format** (measured on the data, `data_checks.json`):", ""]
    out.append(
        "- *Dataset size and test pool*: the paper's Directory cell uses only train/ (28,709 images), its CSV cell "
        "all 35,887 rows; the CSV cell trains on 25% more images and tests on a split drawn from a different pool."
    )
    out.append(
        "- *Colour mode*: Keras' default `color_mode='rgb'` repeats the gray face into three "
        + (
            "identical channels (checked: rgb = gray on every image)"
            if checks.get("keras_rgb_equals_keras_gray_on_train")
            else "channels"
        )
        + "; no information is added, only the first convolution's weights triple (319,527 vs 319,239 parameters)."
    )
    if kd.get("mean_abs_difference") is not None:
        out.append(
            f"- *Pixel decoding*: Keras' directory loader decodes JPEG with TensorFlow's fast integer IDCT; on the "
            f"{kd['images']:,} images it differs from an accurate decode by {kd['mean_abs_difference']:.2f} grey levels "
            f"on average (max {kd['max_abs_difference']}, {100 * kd['fraction_of_pixels_differing']:.0f}% of pixels)."
        )
    if ce:
        out.append(
            "- *Our CSV*: no original Kaggle CSV was available, so it was written from the directory's JPEGs "
            f"(accurate decode); it holds {'exactly the same images and labels' if ce.get('same_image_label_pairs') else 'NOT the same images'} "
            "as the directory. The paper's CSV held the original pixels, before the JPEG compression of the "
            "directory version, a difference this reproduction cannot include. Through fer-edge's own readers "
            "the two formats are therefore pixel-identical and a format effect would be zero by construction; "
            "the controlled format comparison reads the directory with Keras' loader, so what it can detect is "
            "TensorFlow's JPEG decoding plus the different row order (the same seed draws a different split)."
        )
    if dup:
        out.append(
            f"- *Duplicates*: {dup['train_images'] - dup['train_unique']:,} of train/'s {dup['train_images']:,} images repeat "
            f"another; {dup['all_images'] - dup['all_unique']:,} of all {dup['all_images']:,}. A random split lets copies of "
            "test images into training (see the leakage section)."
        )
    out.append(
        "- *One run vs seeds*: the paper reports one run per cell; the sd above shows how far a single run can move "
        "with the split and the initialization alone. Unstated details (batch size, dropout rate, learning rate, "
        "the exact split) were set to the protocol above."
    )
    return out + [""]


def build_report(results_dir: Path, exp: Experiment, out_dir: Path | None = None) -> list[Path]:
    """Write ``report.md`` and CSV tables (+ summary figure) for every variant of ``exp`` with runs."""
    results_dir = Path(results_dir)
    out_dir = Path(out_dir or results_dir)
    runs = collect_runs(results_dir, exp)
    written: list[Path] = []
    if runs.empty:
        from fer_edge.errors import FerEdgeError

        raise FerEdgeError(
            f"{results_dir}: no finished runs (runs/<cell>/seed<k>/metrics.json); run `fer-edge train factorial` first"
        )
    runs = runs.sort_values(["data", "arch", "seed"]).reset_index(drop=True)
    written.append(write_text(out_dir / "runs.csv", runs.to_csv(index=False, float_format="%.4f")))
    md: list[str] = [
        f"# Factorial reproduction: {exp.name}",
        "",
        "Generated by `fer-edge train report` from the run folders under `runs/`; the experiment is "
        f"defined in `{Path(exp.source).name}` (protocol: at most {exp.protocol.epochs} epochs, batch "
        f"{exp.protocol.batch_size}, Adam {exp.protocol.learning_rate:g}, EarlyStopping on {exp.protocol.monitor} "
        f"patience {exp.protocol.patience} restoring the best weights, ReduceLROnPlateau ×{exp.protocol.lr_factor:g} "
        f"after {exp.protocol.lr_patience}, augmentation {'on' if exp.protocol.augment else 'off'}; "
        f"{exp.split} 80/10/10 split drawn anew by each seed). Test metrics in %, mean ± sd over seeds "
        "(sample sd); the paper reports one run per cell.",
        "",
    ]
    anova_rows = []
    t1_all = []
    for vname, variant in exp.variants.items():
        present = [d for d in variant.data if d in set(runs.data)]
        if not present:
            md += [f"## Variant `{vname}`", "", "No finished runs yet.", ""]
            continue
        t1 = table1(runs, exp, variant.data)
        t1.insert(0, "variant", vname)
        t1_all.append(t1)
        md += [f"## Variant `{vname}`", "", variant.about, ""]
        for d in variant.data:
            md.append(f"- `{d}`: {exp.data[d].about}")
        md += ["", f"### Table 1 ({vname}): test metrics, mean ± sd over seeds", "", _table1_md(t1, runs), ""]
        fig = plot_summary(runs, t1, out_dir / "figures" / f"accuracy_{vname}.png")
        written.append(fig)
        md += [f"![accuracy per cell]({fig.relative_to(out_dir)})", ""]
        for comp in variant.comparisons:
            tables = anova_tables(runs, comp)
            md += [f"### {comp.factor} × architecture ({vname})", "", comp.about + ".", ""]
            if not tables:
                md += ["No runs for this comparison yet.", ""]
                continue
            md += _effect_lines(runs, exp, comp, tables) + [""]
            for resp, table in tables.items():
                md += [
                    f"Two-way ANOVA on {METRIC_LABEL[resp]} (seeds as replicates):",
                    "",
                    _anova_md(table, comp.factor),
                    "",
                ]
                t = table.reset_index(names="source")
                t.insert(0, "response", resp)
                t.insert(0, "factor", comp.factor)
                t.insert(0, "variant", vname)
                anova_rows.append(t)
    if t1_all:
        written.append(write_text(out_dir / "table1.csv", pd.concat(t1_all).to_csv(index=False, float_format="%.4f")))
    if anova_rows:
        written.append(
            write_text(out_dir / "anova.csv", pd.concat(anova_rows).to_csv(index=False, float_format="%.6g"))
        )

    # Table 2: per-class AUC of the best faithful cell, and of the paper's Table-2 cell if different.
    faithful = exp.variants.get("faithful")
    best = _best_cell(runs, faithful.data if faithful else list(exp.data))
    paper_data = _paper_cell(exp, PAPER1_TABLE2_CELL[0])
    paper_cell = (paper_data, PAPER1_TABLE2_CELL[1]) if paper_data is not None else None
    shown = [c for c in dict.fromkeys([best, paper_cell]) if c and c[0] in set(runs.data)]
    t2_all = []
    if shown:
        md += ["## Table 2: per-class one-vs-rest ROC-AUC", ""]
        for d, a in shown:
            if not len(runs[(runs.data == d) & (runs.arch == a)]):
                continue
            t2 = table2(runs, d, a)
            t2.insert(0, "cell", cell_name(d, a))
            t2_all.append(t2)
            why = "best cell by mean test accuracy" if (d, a) == best else "the paper's Table-2 cell"
            if (d, a) == best and d == paper_data and a == PAPER1_TABLE2_CELL[1]:
                why += ", also the paper's Table-2 cell"
            md += [f"`{cell_name(d, a)}` ({why}); paper: CSV + CNN-LSTM.", ""]
            rows = [
                {
                    "class": r["class"],
                    "ours": f"{r.auc_mean:.4f}" + (f" ± {r.auc_sd:.4f}" if not np.isnan(r.auc_sd) else ""),
                    "paper": f"{r.paper:.4f}",
                    "ours − paper": f"{r.auc_mean - r.paper:+.4f}",
                }
                for _, r in t2.iterrows()
            ]
            md += [_md_table(pd.DataFrame(rows)), ""]
        written.append(
            write_text(out_dir / "table2_auc.csv", pd.concat(t2_all).to_csv(index=False, float_format="%.4f"))
        )

    md += _account(runs, exp, results_dir)
    order = [cell_name(d, a) for d, a in exp.cells(list(exp.variants))]
    lk = leakage_table(runs, order)
    written.append(write_text(out_dir / "leakage.csv", lk.to_csv(index=False, float_format="%.4f")))
    md += [
        "## Data leakage: test images with an exact copy in training",
        "",
        "FER-2013 holds exact pixel copies; a random split of the pooled images lets copies of test images "
        "into the training split. Counted here per run by exact pixel equality of each test image against the "
        "training split of the same run (exact copies only; near-duplicates are not counted), with "
        "accuracy on the full test split and on its leakage-free part (test images without a copy in "
        "training). **The paper did not measure this.**",
        "",
        _md_table(
            pd.DataFrame(
                [
                    {
                        "cell": f"`{r.cell}`",
                        "test images": f"{r.test_images:.0f}",
                        "with a copy in train (mean, min-max)": f"{r.test_with_copy_in_train_mean:.1f} "
                        f"({r.test_with_copy_in_train_min:.0f}-{r.test_with_copy_in_train_max:.0f}), "
                        f"{100 * r.test_with_copy_in_train_mean / r.test_images:.1f}%",
                        "accuracy full": f"{r.accuracy_full_mean:.2f}",
                        "accuracy leakage-free": f"{r.accuracy_leakage_free_mean:.2f}",
                        "difference": f"{r.accuracy_full_mean - r.accuracy_leakage_free_mean:+.2f}",
                        "accuracy on the leaked images": "-"
                        if np.isnan(r.accuracy_on_leaked_mean)
                        else f"{r.accuracy_on_leaked_mean:.1f}",
                    }
                    for r in lk.itertuples()
                ]
            )
        ),
        "",
    ]

    tt = timing_table(runs, order)
    written.append(write_text(out_dir / "timings.csv", tt.to_csv(index=False, float_format="%.2f")))
    md += [
        "## Timings (as measured on the machine that ran it)",
        "",
        "Seconds per epoch (training + validation) and per run (loading excluded; fit, scoring, "
        "figures and saving included), mean over seeds.",
        "",
        _md_table(
            pd.DataFrame(
                [
                    {
                        "cell": f"`{r.cell}`",
                        "seeds": r.seeds,
                        "epochs (mean)": f"{r.epochs_run_mean:.1f}",
                        "s/epoch": f"{r.seconds_per_epoch_mean:.1f}",
                        "s/run (mean)": f"{r.seconds_per_run_mean:.0f}",
                        "s/run (max)": f"{r.seconds_per_run_max:.0f}",
                    }
                    for r in tt.itertuples()
                ]
            )
        ),
        "",
    ]
    notes = Path(results_dir) / "DISCUSSION.md"
    if notes.exists():
        md += [notes.read_text().strip(), ""]
    written.insert(0, write_text(out_dir / "report.md", "\n".join(md)))
    return written
