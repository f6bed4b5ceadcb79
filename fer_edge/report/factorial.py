"""The factorial's report from its run records: tables, intervals, ANOVA, AUC, leakage, timings.

Everything is read from ``RESULTS/runs/<cell>/seed<k>/metrics.json`` through the typed
``RunRecord`` (and nothing is typed in by hand except the paper's published numbers in
``fer_edge.report.paper``), so the report can be rebuilt at any time, also from a partial run:
cells without runs are listed as missing. This module computes; it states no conclusions. The
study's prose is a template beside its results (``RESULTS/narrative.md``, see
``fer_edge.report.narrative``) filled with the sections and facts computed here.

Statistics (``fer_edge.report.stats``): every cell mean with its 95 % t interval; every effect
(one factor's difference per architecture and averaged, the architecture gap per level, the
interaction) as a contrast with its 95 % interval, once with seeds as independent replicates and
once with seed as a block; the two-way ANOVA beside the seed-blocked one; Holm's adjustment over
the family of every F test the report prints; the minimum detectable effect at the seeds used.
Verdicts come from intervals: an effect is "within noise" when its interval contains 0.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from fer_edge.atomic import write_text
from fer_edge.labels import EMOTIONS
from fer_edge.report.anova import two_way_anova
from fer_edge.report.narrative import load_template, render
from fer_edge.report.paper import PAPER1_TABLE1, PAPER1_TABLE2_AUC, PAPER2_ACCURACY
from fer_edge.report.stats import Interval, blocked_anova, contrasts, holm, minimum_detectable_effect, t_interval
from fer_edge.training.factorial import RUNS, Comparison, Experiment, cell_name
from fer_edge.training.record import METRICS_FILE, RunRecord

METRICS = ("accuracy", "macro_precision", "macro_recall", "macro_f1")
RESPONSES = ("accuracy", "macro_f1", "accuracy_leakage_free")
METRIC_LABEL = {
    "accuracy": "accuracy",
    "macro_precision": "macro P",
    "macro_recall": "macro R",
    "macro_f1": "macro F1",
    "accuracy_leakage_free": "leakage-free accuracy (test images with a copy in training left out)",
}
SOURCES = {"factor": "factor", "arch": "arch", "factor:arch": "interaction"}
NARRATIVE_FILE = "narrative.md"


# ----------------------------------------------------------------------------------------- runs
def load_records(results_dir: Path) -> list[tuple[Path, RunRecord]]:
    return [(p, RunRecord.load(p)) for p in sorted((Path(results_dir) / RUNS).glob(f"*/seed*/{METRICS_FILE}"))]


def collect_runs(results_dir: Path, exp: Experiment) -> pd.DataFrame:
    """One row per finished run (percent for the four headline metrics, AUC as 0-1)."""
    arch_key = {v: k for k, v in exp.all_architectures().items()}
    rows: list[dict[str, Any]] = []
    for path, r in load_records(results_dir):
        leaked_acc = r.accuracy_on_leaked
        rows.append(
            {
                "cell": r.cell or path.parts[-3],
                "data": r.data.get("cell") or path.parts[-3].rsplit("_", 1)[0],
                "arch": arch_key.get(r.arch, r.arch),
                "seed": int(r.seed),
                "channels": r.channels,
                "images": r.data.get("images"),
                "n_test": r.test["n"],
                **{k: 100 * r.test[k] for k in METRICS},
                **{f"auc_{e}": r.test["roc_auc"].get(e) for e in EMOTIONS},
                **{f"recall_{e}": 100 * r.test.get("per_class_recall", {}).get(e, np.nan) for e in EMOTIONS},
                "test_with_copy_in_train": r.leakage["test_with_copy_in_train"],
                "accuracy_leakage_free": 100 * r.leakage_free_accuracy,
                "macro_f1_leakage_free": 100 * r.test_leakage_free["macro_f1"],
                "accuracy_on_leaked": 100 * leaked_acc if leaked_acc is not None else np.nan,
                "val_accuracy": 100 * r.val["accuracy"],
                "epochs_run": r.fit["epochs_run"],
                "best_epoch": r.fit["best_epoch"],
                "seconds_per_epoch": r.fit["seconds_per_epoch"],
                "seconds_fit": r.fit["seconds"],
                "seconds_total": r.seconds_total if r.seconds_total is not None else np.nan,
                "parameters": r.parameters,
                "machine": (r.machine or {}).get("platform", ""),
                "cpu_count": (r.machine or {}).get("cpu_count", np.nan),
                "load_1min_at_start": ((r.machine or {}).get("load_average_1_5_15") or [np.nan])[0],
                "started_utc": (r.wall or {}).get("started_utc", ""),
                "schema_version": r.schema_version,
            }
        )
    return pd.DataFrame(rows)


def confusion_matrices(results_dir: Path) -> dict[str, list[np.ndarray]]:
    """Per cell, each seed's confusion matrix (counts; rows = true class)."""
    out: dict[str, list[np.ndarray]] = {}
    for path, r in load_records(results_dir):
        if r.confusion_matrix is not None:
            out.setdefault(r.cell or path.parts[-3], []).append(np.asarray(r.confusion_matrix, dtype=float))
    return out


# ------------------------------------------------------------------------------------ formatting
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


def _pm(values: pd.Series, digits: int = 2) -> str:
    v = values.dropna()
    if len(v) == 0:
        return "-"
    if len(v) == 1:
        return f"{v.iloc[0]:.{digits}f}"
    return f"{v.mean():.{digits}f} ± {v.std(ddof=1):.{digits}f}"


def _ci(iv: Interval, signed: bool = False, digits: int = 2) -> str:
    if np.isnan(iv.low):
        return "n/a"
    f = f"+.{digits}f" if signed else f".{digits}f"
    return f"{iv.low:{f}} to {iv.high:{f}}"


def effect_verdict(iv: Interval) -> str:
    """A verdict from an interval, never from a range or a p-value alone."""
    if np.isnan(iv.estimate):
        return "no runs"
    if np.isnan(iv.low):
        return "untested (one seed)"
    if iv.excludes_zero:
        return "positive (95 % CI excludes 0)" if iv.estimate > 0 else "negative (95 % CI excludes 0)"
    return "within noise (95 % CI includes 0)"


def paper_vs_interval(iv: Interval, paper: float) -> str:
    if np.isnan(paper) or np.isnan(iv.low):
        return "n/a"
    if iv.contains(paper):
        return "inside our 95 % CI"
    return "outside our 95 % CI (" + ("above" if paper > iv.high else "below") + ")"


def _key(text: str) -> str:
    return text.replace(" ", "_")


# ---------------------------------------------------------------------------------------- tables
def paper_values(exp: Experiment, data: str, arch: str) -> dict[str, float] | None:
    """The published numbers a cell stands beside: paper 1's Table 1, or paper 2's accuracy."""
    registered = exp.all_architectures().get(arch, arch)
    if registered in PAPER2_ACCURACY:
        return {"accuracy": PAPER2_ACCURACY[registered]}
    return PAPER1_TABLE1.get((exp.data[data].paper, arch)) if exp.data[data].paper else None


def table1(runs: pd.DataFrame, exp: Experiment, data_cells: list[str], archs: list[str] | None = None) -> pd.DataFrame:
    """Mean ± sd and 95 % t interval over seeds per cell, with the paper's value where it has one."""
    rows = []
    for d in data_cells:
        for a in archs or list(exp.architectures):
            sub = runs[(runs.data == d) & (runs.arch == a)] if len(runs) else runs
            paper = paper_values(exp, d, a)
            row: dict[str, Any] = {"cell": cell_name(d, a), "data": d, "arch": a, "seeds": len(sub)}
            for k in METRICS:
                col = sub[k] if len(sub) else pd.Series(dtype=float)
                iv = t_interval(col)
                row[f"{k}_mean"] = col.mean() if len(col) else np.nan
                row[f"{k}_sd"] = col.std(ddof=1) if len(col) > 1 else np.nan
                row[f"{k}_ci_low"], row[f"{k}_ci_high"] = iv.low, iv.high
                row[f"{k}_paper"] = paper.get(k, np.nan) if paper else np.nan
            rows.append(row)
    return pd.DataFrame(rows)


def _table1_md(t1: pd.DataFrame, runs: pd.DataFrame) -> str:
    out = []
    for _, r in t1.iterrows():
        sub = runs[(runs.data == r.data) & (runs.arch == r.arch)] if len(runs) else runs
        row = {"cell": f"`{r.cell}`", "seeds": r.seeds}
        for k in METRICS:
            ours = _pm(sub[k]) if len(sub) else "no runs yet"
            if not np.isnan(r[f"{k}_ci_low"]):
                ours += f" [{r[f'{k}_ci_low']:.2f}, {r[f'{k}_ci_high']:.2f}]"
            paper = "" if np.isnan(r[f"{k}_paper"]) else f" (paper {r[f'{k}_paper']:.2f})"
            row[METRIC_LABEL[k]] = ours + paper
        out.append(row)
    return _md_table(pd.DataFrame(out))


def _comparison_frame(runs: pd.DataFrame, comparison: Comparison) -> pd.DataFrame:
    level_of = {d: lvl for lvl, d in comparison.levels.items()}
    sub = runs[runs.data.isin(level_of)].copy() if len(runs) else runs
    if len(sub):
        sub["factor"] = sub.data.map(level_of)
        sub["cellkey"] = sub.cell
    return sub


def anova_tables(runs: pd.DataFrame, comparison: Comparison) -> dict[str, pd.DataFrame]:
    """Two-way ANOVA (factor x architecture) of each response over seeds for one comparison."""
    sub = _comparison_frame(runs, comparison)
    if len(sub) == 0:
        return {}
    return {resp: two_way_anova(sub, resp, "factor", "arch") for resp in RESPONSES}


def blocked_anova_tables(runs: pd.DataFrame, comparison: Comparison) -> dict[str, pd.DataFrame]:
    sub = _comparison_frame(runs, comparison)
    if len(sub) == 0:
        return {}
    return {resp: blocked_anova(sub, resp, "factor", "arch", "seed") for resp in RESPONSES}


@dataclass
class EffectRow:
    key: str  # facts key part: <arch>, mean, arch.<level>, arch.mean, interaction
    label: str
    plain: Interval
    blocked: Interval
    paper: float = float("nan")


def effect_weights(exp: Experiment, comparison: Comparison) -> list[tuple[str, str, dict[str, float], float]]:
    """(key, label, cell weights, paper value) of every effect of one comparison."""
    (lvl0, d0), (lvl1, d1) = list(comparison.levels.items())[:2]
    archs = list(exp.architectures)

    def paper(d: str, a: str) -> float:
        p = PAPER1_TABLE1.get((exp.data[d].paper, a)) if exp.data[d].paper else None
        return p["accuracy"] if p else float("nan")

    out: list[tuple[str, str, dict[str, float], float]] = []
    for a in archs:
        out.append(
            (a, f"{lvl1} − {lvl0}, {a}", {cell_name(d1, a): 1, cell_name(d0, a): -1}, paper(d1, a) - paper(d0, a))
        )
    n = len(archs)
    mean_w = {**{cell_name(d1, a): 1 / n for a in archs}, **{cell_name(d0, a): -1 / n for a in archs}}
    out.append(("mean", f"{lvl1} − {lvl0}, mean over architectures", mean_w, float(np.mean([o[3] for o in out]))))
    if n == 2:
        a0, a1 = archs
        for lvl, d in ((lvl0, d0), (lvl1, d1)):
            out.append(
                (
                    f"arch.{_key(lvl)}",
                    f"{a1} − {a0}, {lvl}",
                    {cell_name(d, a1): 1, cell_name(d, a0): -1},
                    paper(d, a1) - paper(d, a0),
                )
            )
        out.append(
            (
                "arch.mean",
                f"{a1} − {a0}, mean over {comparison.factor}",
                {cell_name(d0, a1): 0.5, cell_name(d1, a1): 0.5, cell_name(d0, a0): -0.5, cell_name(d1, a0): -0.5},
                float(np.mean([out[-2][3], out[-1][3]])),
            )
        )
        out.append(
            (
                "interaction",
                f"interaction: ({lvl1} − {lvl0}) of {a1} minus that of {a0}",
                {cell_name(d1, a1): 1, cell_name(d0, a1): -1, cell_name(d1, a0): -1, cell_name(d0, a0): 1},
                out[1][3] - out[0][3],
            )
        )
    return out


def effects(runs: pd.DataFrame, exp: Experiment, comparison: Comparison, response: str) -> list[EffectRow]:
    sub = _comparison_frame(runs, comparison)
    spec = effect_weights(exp, comparison)
    if not len(sub):
        return []
    weights = {k: w for k, _, w, _ in spec}
    plain = contrasts(sub, response, weights)
    blocked = contrasts(sub, response, weights, blocked=True)
    paper_ok = response == "accuracy"
    return [EffectRow(k, lab, plain[k], blocked[k], p if paper_ok else float("nan")) for k, lab, _, p in spec]


# ------------------------------------------------------------------------------ report assembly
@dataclass
class Computed:
    """Everything the report shows: named Markdown sections, facts for the narrative, files written."""

    sections: dict[str, str] = field(default_factory=dict)
    facts: dict[str, str] = field(default_factory=dict)
    written: list[Path] = field(default_factory=list)


def _anova_md(two: pd.DataFrame, blk: pd.DataFrame, factor: str, holm_p: dict[tuple[str, str], float]) -> str:
    rows = []
    for src, name in (("factor", factor), ("arch", "architecture"), ("factor:arch", f"{factor}:architecture")):
        r, b = two.loc[src], blk.loc[src]
        rows.append(
            {
                "source": name,
                "SS": f"{r.sum_sq:.3f}" if not np.isnan(r.sum_sq) else "-",
                "df": f"{r.df:.0f}" if not np.isnan(r.df) else "-",
                "F": f"{r.F:.2f}" if not np.isnan(r.F) else "",
                "p": _fmt_p(r.p),
                "p Holm": _fmt_p(holm_p.get(("two-way", src), np.nan)),
                "partial η²": f"{r.partial_eta_sq:.3f}" if not np.isnan(r.partial_eta_sq) else "",
                "seed-blocked F": f"{b.F:.2f}" if not np.isnan(b.F) else "",
                "seed-blocked p": _fmt_p(b.p),
                "seed-blocked p Holm": _fmt_p(holm_p.get(("seed-blocked", src), np.nan)),
            }
        )
    res, bres = two.loc["Residual"], blk.loc["Residual"]
    rows.append(
        {
            "source": "Residual",
            "SS": f"{res.sum_sq:.3f}" if not np.isnan(res.sum_sq) else "-",
            "df": f"{res.df:.0f}" if not np.isnan(res.df) else "-",
            "F": "",
            "p": "",
            "p Holm": "",
            "partial η²": "",
            "seed-blocked F": f"seed F {blk.loc['seed'].F:.2f}, residual df {bres.df:.0f}"
            if not np.isnan(bres.df)
            else "",
            "seed-blocked p": f"seed p {_fmt_p(blk.loc['seed'].p)}" if not np.isnan(bres.df) else "",
            "seed-blocked p Holm": "",
        }
    )
    return _md_table(pd.DataFrame(rows))


def _effects_md(rows: list[EffectRow], response: str) -> str:
    out = []
    for e in rows:
        row = {
            "effect (points)": e.label,
            "estimate": f"{e.plain.estimate:+.2f}" if not np.isnan(e.plain.estimate) else "-",
            "95 % CI, seeds independent": _ci(e.plain, signed=True),
            "95 % CI, seed-blocked": _ci(e.blocked, signed=True),
            "verdict": effect_verdict(e.plain),
            "seed-blocked verdict": effect_verdict(e.blocked),
        }
        if response == "accuracy":
            row["paper"] = f"{e.paper:+.2f}" if not np.isnan(e.paper) else ""
            row["paper in our CI"] = paper_vs_interval(e.plain, e.paper).replace(" our 95 % CI", "")
        out.append(row)
    return _md_table(pd.DataFrame(out))


def _facts_for_effects(facts: dict[str, str], prefix: str, rows: list[EffectRow]) -> None:
    for e in rows:
        k = f"{prefix}.{e.key}"
        facts[f"{k}.est"] = f"{e.plain.estimate:+.2f}" if not np.isnan(e.plain.estimate) else "n/a"
        facts[f"{k}.ci"] = _ci(e.plain, signed=True)
        facts[f"{k}.blocked_ci"] = _ci(e.blocked, signed=True)
        facts[f"{k}.verdict"] = effect_verdict(e.plain)
        facts[f"{k}.blocked_verdict"] = effect_verdict(e.blocked)
        facts[f"{k}.p"] = _fmt_p(e.plain.p)
        facts[f"{k}.paper"] = f"{e.paper:+.2f}" if not np.isnan(e.paper) else "n/a"
        facts[f"{k}.paper_vs_ci"] = paper_vs_interval(e.plain, e.paper)


def _mde(rows: list[EffectRow]) -> tuple[float, float]:
    by = {e.key: e.plain for e in rows}
    simple = [minimum_detectable_effect(iv.se, iv.df) for k, iv in by.items() if "." not in k and k != "mean"]
    main = by.get("mean")
    return (
        float(np.nanmax(simple)) if simple and not all(np.isnan(simple)) else float("nan"),
        minimum_detectable_effect(main.se, main.df) if main is not None else float("nan"),
    )


def _cell_facts(facts: dict[str, str], runs: pd.DataFrame, exp: Experiment) -> None:
    cells = exp.cells(list(exp.variants))
    cells += [(d, a) for d in exp.data for a in exp.architectures if (d, a) not in cells]
    for d, a in cells:
        c = cell_name(d, a)
        sub = runs[(runs.data == d) & (runs.arch == a)]
        facts[f"cell.{c}.seeds"] = str(len(sub))
        paper = paper_values(exp, d, a)
        for k in (*METRICS, "accuracy_leakage_free", "macro_f1_leakage_free"):
            iv = t_interval(sub[k]) if len(sub) else t_interval([])
            facts[f"cell.{c}.{k}.mean"] = f"{iv.estimate:.2f}" if not np.isnan(iv.estimate) else "n/a"
            facts[f"cell.{c}.{k}.sd"] = f"{sub[k].std(ddof=1):.2f}" if len(sub) > 1 else "n/a"
            facts[f"cell.{c}.{k}.ci"] = _ci(iv)
            p = paper.get(k, np.nan) if paper else np.nan
            facts[f"cell.{c}.{k}.paper"] = f"{p:.2f}" if not np.isnan(p) else "n/a"
            facts[f"cell.{c}.{k}.minus_paper"] = (
                f"{iv.estimate - p:+.2f}" if not (np.isnan(p) or np.isnan(iv.estimate)) else "n/a"
            )
            facts[f"cell.{c}.{k}.paper_vs_ci"] = paper_vs_interval(iv, p)
        params = sub.parameters.dropna().unique() if len(sub) else []
        facts[f"cell.{c}.parameters"] = f"{int(params[0]):,}" if len(params) else "n/a"


def _flatten(prefix: str, obj: Any, out: dict[str, str]) -> None:
    if isinstance(obj, dict):
        for k, v in obj.items():
            _flatten(f"{prefix}.{k}", v, out)
    elif isinstance(obj, float):
        out[prefix] = f"{obj:.2f}" if abs(obj) >= 1 else f"{obj:.4g}"
    elif isinstance(obj, int) and not isinstance(obj, bool):
        out[prefix] = f"{obj:,}"
    else:
        out[prefix] = str(obj)


def plot_summary(runs: pd.DataFrame, t1: pd.DataFrame, path: Path) -> Path:
    """Mean accuracy per cell with its 95 % interval, seeds as dots, the paper's value as a red mark."""
    from fer_edge.training.figures import pyplot, save

    plt = pyplot()
    fig, ax = plt.subplots(figsize=(max(6, 1.1 * len(t1)), 4))
    x = np.arange(len(t1))
    half = ((t1.accuracy_ci_high - t1.accuracy_ci_low) / 2).fillna(0)
    ax.bar(x, t1.accuracy_mean, yerr=half, color="#8fb3d9", capsize=4, label="ours, mean and 95 % CI")
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


def plot_retrained(per_seed: pd.DataFrame, path: Path) -> Path:
    """Per grouped cell, each seed's faithful − grouped difference on all, leakage-free and leaked test images."""
    from fer_edge.training.figures import pyplot, save

    plt = pyplot()
    cells = list(dict.fromkeys(per_seed.cell))
    parts = (("all", "all test images", "#1f77b4"), ("leakage_free", "leakage-free", "#2ca02c"),
             ("leaked", "leaked (÷5)", "#d62728"))  # fmt: skip
    fig, ax = plt.subplots(figsize=(max(6, 1.6 * len(cells)), 4))
    for k, (part, label, color) in enumerate(parts):
        for i, cell in enumerate(cells):
            vals = per_seed[per_seed.cell == cell][f"difference_{part}"] / (5 if part == "leaked" else 1)
            x = np.full(len(vals), i + (k - 1) * 0.22)
            ax.plot(x, vals, "o", color=color, ms=5, label=label if i == 0 else None)
            ax.plot([x[0] - 0.08, x[0] + 0.08], [vals.mean()] * 2, color=color, lw=2)
    ax.axhline(0, color="k", lw=0.8)
    ax.set_xticks(np.arange(len(cells)), [c.replace("_", "\n") for c in cells], fontsize=8)
    ax.set_ylabel("faithful − grouped accuracy (points)")
    ax.grid(axis="y", alpha=0.3)
    ax.legend(fontsize=8)
    return save(fig, path)


def plot_mean_confusions(mats: dict[str, list[np.ndarray]], cells: list[str], path: Path) -> Path:
    """Row-normalised confusion matrix averaged over seeds, one panel per cell."""
    from fer_edge.training.figures import pyplot, save

    plt = pyplot()
    cells = [c for c in cells if c in mats]
    fig, axes = plt.subplots(1, len(cells), figsize=(4.3 * len(cells), 4.2), squeeze=False)
    for ax, c in zip(axes[0], cells):
        norm = np.mean([m / np.maximum(m.sum(axis=1, keepdims=True), 1) for m in mats[c]], axis=0)
        ax.imshow(norm, cmap="Blues", vmin=0, vmax=1)
        ax.set_xticks(range(len(EMOTIONS)), EMOTIONS, rotation=45, ha="right", fontsize=7)
        ax.set_yticks(range(len(EMOTIONS)), EMOTIONS, fontsize=7)
        for i in range(norm.shape[0]):
            for j in range(norm.shape[1]):
                ax.text(j, i, f"{norm[i, j]:.2f}", ha="center", va="center", fontsize=6,
                        color="white" if norm[i, j] > 0.5 else "black")  # fmt: skip
        ax.set_title(f"{c} ({len(mats[c])} seeds)", fontsize=8)
        ax.set_xlabel("predicted", fontsize=7)
    axes[0][0].set_ylabel("true (row = fraction of the true class)", fontsize=7)
    return save(fig, path)


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


def _paper_cell(exp: Experiment, fmt: str) -> str | None:
    return next((d for d, c in exp.data.items() if c.paper == fmt), None)


def compute(results_dir: Path, exp: Experiment, out_dir: Path) -> Computed:
    """Compute every table, figure, section and fact of the report; write the CSV tables and figures."""
    results_dir, out_dir = Path(results_dir), Path(out_dir)
    runs = collect_runs(results_dir, exp)
    if runs.empty:
        from fer_edge.errors import FerEdgeError

        raise FerEdgeError(
            f"{results_dir}: no finished runs (runs/<cell>/seed<k>/metrics.json); run `fer-edge train factorial` first"
        )
    c = Computed()
    runs = runs.sort_values(["data", "arch", "seed"]).reset_index(drop=True)
    c.written.append(write_text(out_dir / "runs.csv", runs.to_csv(index=False, float_format="%.4f")))
    c.facts["family.alpha"] = "0.05"
    _cell_facts(c.facts, runs, exp)
    c.sections["section.header"] = "\n".join(
        [
            f"# Factorial reproduction: {exp.name}",
            "",
            "Generated by `fer-edge train report` from the run records under `runs/`; the experiment is "
            f"defined in `{Path(exp.source).name}` (protocol: at most {exp.protocol.epochs} epochs, batch "
            f"{exp.protocol.batch_size}, Adam {exp.protocol.learning_rate:g}, EarlyStopping on {exp.protocol.monitor} "
            f"patience {exp.protocol.patience} restoring the best weights, ReduceLROnPlateau ×{exp.protocol.lr_factor:g} "
            f"after {exp.protocol.lr_patience}, augmentation {'on' if exp.protocol.augment else 'off'}; "
            f"{exp.split} 80/10/10 split drawn anew by each seed). Test metrics in %, mean ± sd over seeds "
            "(sample sd) and [95 % t interval of the mean]; the paper reports one run per cell.",
        ]
    )

    # pass 1: every ANOVA of every comparison, so Holm can adjust over the whole family
    plan: list[tuple[str, Comparison]] = [(v, comp) for v, var in exp.variants.items() for comp in var.comparisons]
    two = {(v, comp.factor): anova_tables(runs, comp) for v, comp in plan}
    blk = {(v, comp.factor): blocked_anova_tables(runs, comp) for v, comp in plan}
    family: list[tuple[tuple[str, str, str, str, str], float]] = []
    for (v, f), tables in two.items():
        for resp, t in tables.items():
            for src in SOURCES:
                family.append(((v, f, resp, "two-way", src), float(t.loc[src, "p"])))
                family.append(((v, f, resp, "seed-blocked", src), float(blk[v, f][resp].loc[src, "p"])))
    # one Holm family per analysis: every F test (factor, architecture, interaction) of every comparison
    # and response; the seed-blocked ANOVA re-tests the same hypotheses, so it is its own family
    adjusted: dict[tuple[str, str, str, str, str], float] = {}
    for an in ("two-way", "seed-blocked"):
        fam = [(k, p) for k, p in family if k[3] == an]
        adjusted.update(zip([k for k, _ in fam], holm([p for _, p in fam])))
    n_tests = int(sum(not np.isnan(p) for k, p in family if k[3] == "two-way"))
    c.facts["family.tests"] = str(n_tests)

    anova_rows, effect_rows, t1_all = [], [], []
    for vname, variant in exp.variants.items():
        lines: list[str] = [f"## Variant `{vname}`", "", variant.about, ""]
        present = [d for d in variant.data if d in set(runs.data)]
        if not present:
            c.sections[f"section.variant.{vname}"] = "\n".join([*lines, "No finished runs yet.", ""])
            continue
        t1 = table1(runs, exp, variant.data, list(exp.variant_architectures(vname)))
        t1.insert(0, "variant", vname)
        t1_all.append(t1)
        lines += [f"- `{d}`: {exp.data[d].about}" for d in variant.data]
        lines += ["", f"### Table 1 ({vname}): test metrics, mean ± sd [95 % CI] over seeds", "", _table1_md(t1, runs)]
        fig = plot_summary(runs, t1, out_dir / "figures" / f"accuracy_{vname}.png")
        c.written.append(fig)
        lines += ["", f"![accuracy per cell]({fig.relative_to(out_dir)})", ""]
        for comp in variant.comparisons:
            tables, btables = two[vname, comp.factor], blk[vname, comp.factor]
            lines += [f"### {comp.factor} × architecture ({vname})", "", comp.about + ".", ""]
            if not tables:
                lines += ["No runs for this comparison yet.", ""]
                continue
            fk = f"{vname}.{_key(comp.factor)}"
            for resp in RESPONSES:
                rows = effects(runs, exp, comp, resp)
                _facts_for_effects(c.facts, f"effect.{fk}.{resp}", rows)
                mde_simple, mde_main = _mde(rows)
                c.facts[f"mde.{fk}.{resp}.simple"] = f"{mde_simple:.2f}"
                c.facts[f"mde.{fk}.{resp}.main"] = f"{mde_main:.2f}"
                holm_p = {
                    (an, src): adjusted[vname, comp.factor, resp, an, src]
                    for an in ("two-way", "seed-blocked")
                    for src in SOURCES
                }
                for src, name in SOURCES.items():
                    c.facts[f"anova.{fk}.{resp}.{name}.F"] = f"{tables[resp].loc[src, 'F']:.2f}"
                    c.facts[f"anova.{fk}.{resp}.{name}.p"] = _fmt_p(tables[resp].loc[src, "p"])
                    c.facts[f"anova.{fk}.{resp}.{name}.p_holm"] = _fmt_p(holm_p["two-way", src])
                    c.facts[f"anova.{fk}.{resp}.{name}.blocked_p"] = _fmt_p(btables[resp].loc[src, "p"])
                    c.facts[f"anova.{fk}.{resp}.{name}.blocked_p_holm"] = _fmt_p(holm_p["seed-blocked", src])
                lines += [
                    f"**{METRIC_LABEL[resp]}**: effects with 95 % intervals (cell-means contrasts; seeds independent, "
                    "and seed as a block):",
                    "",
                    _effects_md(rows, resp),
                    "",
                    f"Minimum detectable effect (80 % power, two-sided α = 0.05, seeds independent): "
                    f"{mde_simple:.2f} points for one architecture's {comp.factor} effect, {mde_main:.2f} for the mean "
                    "over architectures.",
                    "",
                    f"Two-way ANOVA (seeds as replicates) and randomized-block ANOVA (seed as a block) on "
                    f"{METRIC_LABEL[resp]}; "
                    f"p Holm: adjusted over the {n_tests} F tests of the same analysis in this report:",
                    "",
                    _anova_md(tables[resp], btables[resp], comp.factor, holm_p),
                    "",
                ]
                for an, tab in (("two-way", tables[resp]), ("seed-blocked", btables[resp])):
                    t = tab.reset_index(names="source")
                    t["p_holm"] = [adjusted.get((vname, comp.factor, resp, an, s), np.nan) for s in t.source]
                    t.insert(0, "analysis", an)
                    t.insert(0, "response", resp)
                    t.insert(0, "factor", comp.factor)
                    t.insert(0, "variant", vname)
                    anova_rows.append(t)
                for e in rows:
                    effect_rows.append(
                        {
                            "variant": vname,
                            "factor": comp.factor,
                            "response": resp,
                            "effect": e.label,
                            "estimate": e.plain.estimate,
                            "ci_low": e.plain.low,
                            "ci_high": e.plain.high,
                            "df": e.plain.df,
                            "p": e.plain.p,
                            "blocked_ci_low": e.blocked.low,
                            "blocked_ci_high": e.blocked.high,
                            "blocked_p": e.blocked.p,
                            "paper": e.paper,
                        }
                    )
        c.sections[f"section.variant.{vname}"] = "\n".join(lines)
    if t1_all:
        c.written.append(write_text(out_dir / "table1.csv", pd.concat(t1_all).to_csv(index=False, float_format="%.4f")))
    if anova_rows:
        c.written.append(
            write_text(out_dir / "anova.csv", pd.concat(anova_rows).to_csv(index=False, float_format="%.6g"))
        )
    if effect_rows:
        c.written.append(
            write_text(out_dir / "effects.csv", pd.DataFrame(effect_rows).to_csv(index=False, float_format="%.4f"))
        )

    _table2_section(c, runs, exp, out_dir, results_dir)
    _decomposition_section(c, runs, exp)
    _leakage_section(c, runs, exp, out_dir)
    _retrained_section(c, exp, results_dir, out_dir)
    _paper2_section(c, runs, exp)
    _timing_section(c, runs, exp, out_dir)
    checks_path = results_dir / "data_checks.json"
    if checks_path.exists():
        _flatten("checks", json.loads(checks_path.read_text()), c.facts)
    return c


def table2(runs: pd.DataFrame, data: str, arch: str) -> pd.DataFrame:
    sub = runs[(runs.data == data) & (runs.arch == arch)]
    rows = []
    for e in EMOTIONS:
        iv = t_interval(sub[f"auc_{e}"].astype(float))
        rows.append(
            {
                "class": e,
                "auc_mean": iv.estimate,
                "auc_sd": sub[f"auc_{e}"].astype(float).std(ddof=1) if len(sub) > 1 else np.nan,
                "auc_ci_low": iv.low,
                "auc_ci_high": iv.high,
                "recall_mean": sub[f"recall_{e}"].mean(),
                "paper": PAPER1_TABLE2_AUC[e],
            }
        )
    return pd.DataFrame(rows)


def _table2_section(c: Computed, runs: pd.DataFrame, exp: Experiment, out_dir: Path, results_dir: Path) -> None:
    """Per-class AUC (and recall) of every faithful cell beside the paper's Table 2; mean confusion matrices."""
    faithful = exp.variants.get("faithful")
    cells = [(d, a) for d in (faithful.data if faithful else list(exp.data)) for a in exp.architectures]
    cells = [(d, a) for d, a in cells if len(runs[(runs.data == d) & (runs.arch == a)])]
    if not cells:
        return
    t2_all = []
    for d, a in cells:
        t2 = table2(runs, d, a)
        t2.insert(0, "cell", cell_name(d, a))
        t2_all.append(t2)
        for r in t2.itertuples():
            iv = Interval(r.auc_mean, r.auc_ci_low, r.auc_ci_high)
            c.facts[f"auc.{cell_name(d, a)}.{r._2}.mean"] = f"{r.auc_mean:.4f}"
            c.facts[f"auc.{cell_name(d, a)}.{r._2}.paper_vs_ci"] = paper_vs_interval(iv, r.paper)
    c.written.append(write_text(out_dir / "table2_auc.csv", pd.concat(t2_all).to_csv(index=False, float_format="%.4f")))
    rows = []
    for e in EMOTIONS:
        row: dict[str, Any] = {"class": e, "paper (CSV + CNN-LSTM)": f"{PAPER1_TABLE2_AUC[e]:.4f}"}
        for t2 in t2_all:
            r = t2.set_index("class").loc[e]
            ci = "" if np.isnan(r.auc_ci_low) else f" [{r.auc_ci_low:.3f}, {r.auc_ci_high:.3f}]"
            row[f"`{t2.cell.iloc[0]}`"] = f"{r.auc_mean:.4f}{ci}"
        rows.append(row)
    recall = []
    for e in EMOTIONS:
        row = {"class": e}
        for t2 in t2_all:
            row[f"`{t2.cell.iloc[0]}`"] = f"{t2.set_index('class').loc[e].recall_mean:.1f}"
        recall.append(row)
    mats = confusion_matrices(results_dir)
    with_cm = [cell_name(d, a) for d, a in cells if cell_name(d, a) in mats]
    fig = plot_mean_confusions(mats, with_cm, out_dir / "figures" / "confusion_faithful.png") if with_cm else None
    if fig:
        c.written.append(fig)
    c.sections["section.table2"] = "\n".join(
        [
            "## Table 2: per-class one-vs-rest ROC-AUC, every faithful cell",
            "",
            "Mean over seeds [95 % t interval]; the paper reports Table 2 for its CSV + CNN-LSTM cell only.",
            "",
            _md_table(pd.DataFrame(rows)),
            "",
            "Per-class recall (%), mean over seeds:",
            "",
            _md_table(pd.DataFrame(recall)),
            "",
            *(
                [
                    "Mean confusion matrix per cell (each seed's matrix row-normalised, then averaged):",
                    "",
                    f"![mean confusion matrices]({fig.relative_to(out_dir)})",
                    "",
                ]
                if fig
                else []
            ),
        ]
    )
    for d, a in cells:
        cm = mats.get(cell_name(d, a))
        if cm:
            norm = np.mean([m / np.maximum(m.sum(axis=1, keepdims=True), 1) for m in cm], axis=0)
            for i, e in enumerate(EMOTIONS):
                c.facts[f"confusion.{cell_name(d, a)}.{e}.recall"] = f"{100 * norm[i, i]:.1f}"


def _decomposition_section(c: Computed, runs: pd.DataFrame, exp: Experiment) -> None:
    d_dir, d_csv = _paper_cell(exp, "directory"), _paper_cell(exp, "csv")
    if not d_dir or not d_csv:
        return
    steps = _chain(exp, d_dir, d_csv)
    have = set(runs.data)
    if not steps or not all(s[1] in have and s[2] in have for s in steps):
        return
    lines = []
    for resp in ("accuracy", "accuracy_leakage_free"):
        rows = []
        for a in exp.architectures:
            row = {"architecture": a}
            for factor, frm, to in [*steps, ("total (faithful CSV − Directory)", d_dir, d_csv)]:
                sub = runs[runs.data.isin([frm, to]) & (runs.arch == a)].copy()
                sub["cellkey"] = sub.cell
                iv = contrasts(sub, resp, {"d": {cell_name(to, a): 1, cell_name(frm, a): -1}})["d"]
                label = factor if factor.startswith("total") else f"{factor} ({frm} → {to})"
                row[label] = f"{iv.estimate:+.2f} [{_ci(iv, signed=True)}]"
                c.facts[f"step.{resp}.{a}.{_key(factor.split(' (')[0])}.est"] = f"{iv.estimate:+.2f}"
                c.facts[f"step.{resp}.{a}.{_key(factor.split(' (')[0])}.verdict"] = effect_verdict(iv)
            rows.append(row)
        lines += [
            f"{METRIC_LABEL[resp].capitalize()}, mean difference [95 % CI] per step:",
            "",
            _md_table(pd.DataFrame(rows)),
            "",
        ]
    head = [
        "## From the faithful Directory cell to the CSV cell, one controlled step at a time",
        "",
        "Each step changes one thing (differences of cell means, 95 % interval pooled over the step's two cells). "
        "The steps add up to the total by construction (every intermediate cell is added and subtracted once), and "
        "their sizes depend on the order of the steps; this is one order of several.",
        "",
    ]
    c.sections["section.decomposition"] = "\n".join(head + lines)


def leakage_table(runs: pd.DataFrame, order: list[str] | None = None) -> pd.DataFrame:
    rows = []
    cells = [c for c in (order or []) if c in set(runs.cell)] + sorted(set(runs.cell) - set(order or []))
    for cell in cells:
        sub = runs[runs.cell == cell]
        diff = t_interval(sub.accuracy - sub.accuracy_leakage_free)
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
                "difference_ci_low": diff.low,
                "difference_ci_high": diff.high,
                "accuracy_on_leaked_mean": sub.accuracy_on_leaked.mean(),
                "macro_f1_full_mean": sub.macro_f1.mean(),
                "macro_f1_leakage_free_mean": sub.macro_f1_leakage_free.mean(),
            }
        )
    return pd.DataFrame(rows)


def _leakage_section(c: Computed, runs: pd.DataFrame, exp: Experiment, out_dir: Path) -> None:
    order = [cell_name(d, a) for d, a in exp.cells(list(exp.variants))]
    lk = leakage_table(runs, order)
    c.written.append(write_text(out_dir / "leakage.csv", lk.to_csv(index=False, float_format="%.4f")))
    rows = [
        {
            "cell": f"`{r.cell}`",
            "test images": f"{r.test_images:.0f}",
            "with a copy in train (mean, min-max)": f"{r.test_with_copy_in_train_mean:.1f} "
            f"({r.test_with_copy_in_train_min:.0f}-{r.test_with_copy_in_train_max:.0f}), "
            f"{100 * r.test_with_copy_in_train_mean / r.test_images:.1f}%",
            "accuracy full": f"{r.accuracy_full_mean:.2f}",
            "accuracy leakage-free": f"{r.accuracy_leakage_free_mean:.2f}",
            "difference [95 % CI]": f"{r.accuracy_full_mean - r.accuracy_leakage_free_mean:+.2f}"
            + ("" if np.isnan(r.difference_ci_low) else f" [{r.difference_ci_low:+.2f}, {r.difference_ci_high:+.2f}]"),
            "accuracy on the leaked images": "-"
            if np.isnan(r.accuracy_on_leaked_mean)
            else f"{r.accuracy_on_leaked_mean:.1f}",
        }
        for r in lk.itertuples()
    ]
    for r in lk.itertuples():
        c.facts[f"leakage.{r.cell}.copies_mean"] = f"{r.test_with_copy_in_train_mean:.1f}"
        c.facts[f"leakage.{r.cell}.difference"] = f"{r.accuracy_full_mean - r.accuracy_leakage_free_mean:+.2f}"
    c.sections["section.leakage"] = "\n".join(
        [
            "## Data leakage: test images with an exact copy in training",
            "",
            "Counted per run by exact pixel equality of each test image against the training split of the same run "
            "(exact copies only; near-duplicates are not counted), with accuracy on the full test split and on its "
            "leakage-free part (test images without a copy in training).",
            "",
            _md_table(pd.DataFrame(rows)),
            "",
        ]
    )


def _retrained_section(c: Computed, exp: Experiment, results_dir: Path, out_dir: Path) -> None:
    """Leakage by retraining: each grouped twin against its random-split cell on the same test images."""
    from fer_edge.report.retrained import per_seed_table, summary_table, twins

    if not twins(exp):
        return
    per_seed = per_seed_table(results_dir, exp)
    head = [
        "## Leakage by retraining: the faithful cells without the copies of their test images",
        "",
        "Each grouped cell uses the same seed's stratified split as its faithful cell, except that every image "
        "that copies a test image (`grouped`: exact pixel copies; `grouped-near`: exact copies and near duplicates) "
        "is moved from training or validation into the test part. Both runs of a seed are scored on the faithful "
        "run's test images (`fer_edge/report/retrained.py`). Random − grouped on all of them is the accuracy the "
        "copies in training add, plus the difference between two trainings; on the leakage-free part (no exact copy "
        "in the faithful run's training, so neither model saw them) only the second remains. Means over seeds with "
        "95 % t intervals; one exact McNemar test per seed on all test images.",
        "",
    ]
    if per_seed.empty:
        c.sections["section.leakage_retrained"] = "\n".join([*head, "No grouped runs yet.", ""])
        return
    c.written.append(write_text(out_dir / "leakage_retrained.csv", per_seed.to_csv(index=False, float_format="%.4f")))
    summary = summary_table(per_seed)
    fig = plot_retrained(per_seed, out_dir / "figures" / "leakage_retrained.png")
    c.written.append(fig)
    rows = []
    for r in summary.itertuples():
        iv = {
            part: Interval(
                getattr(r, f"difference_{part}_mean"),
                getattr(r, f"difference_{part}_ci_low"),
                getattr(r, f"difference_{part}_ci_high"),
            )
            for part in ("all", "leakage_free", "leaked")
        }
        key = f"retrained.{r.cell}"
        c.facts[f"{key}.seeds"] = str(r.seeds)
        for part, v in iv.items():
            c.facts[f"{key}.{part}.est"] = f"{v.estimate:+.2f}"
            c.facts[f"{key}.{part}.ci"] = _ci(v, signed=True)
            c.facts[f"{key}.{part}.verdict"] = effect_verdict(v)
            c.facts[f"{key}.{part}.random"] = f"{getattr(r, f'random_{part}_mean'):.2f}"
            c.facts[f"{key}.{part}.grouped"] = f"{getattr(r, f'grouped_{part}_mean'):.2f}"
        c.facts[f"{key}.leave_out_estimate"] = f"{r.leave_out_estimate_mean:+.2f}"
        rows.append(
            {
                "grouped cell (vs faithful)": f"`{r.cell}` (`{r.random_cell}`)"
                if not r.cell.startswith("pooled")
                else f"**{r.variant}, pooled over its cells**",
                "seeds": r.seeds if not r.cell.startswith("pooled") else f"{r.seeds} (cell, seed) pairs",
                "test images (leaked)": f"{r.test_images_mean:.0f} ({r.leaked_images_mean:.0f})"
                + (" a cell, mean" if r.cell.startswith("pooled") else ""),
                "accuracy faithful / grouped": f"{r.random_all_mean:.2f} / {r.grouped_all_mean:.2f}",
                "difference, all [95 % CI]": f"{iv['all'].estimate:+.2f} [{_ci(iv['all'], signed=True)}]",
                "difference, leakage-free [95 % CI]": f"{iv['leakage_free'].estimate:+.2f} "
                f"[{_ci(iv['leakage_free'], signed=True)}]",
                "leaked images: faithful / grouped [difference, 95 % CI]": f"{r.random_leaked_mean:.1f} / "
                f"{r.grouped_leaked_mean:.1f} [{_ci(iv['leaked'], signed=True)}]",
                "leave-out estimate": f"{r.leave_out_estimate_mean:+.2f}",
                "McNemar p per seed": r.mcnemar_p_per_seed if not r.cell.startswith("pooled") else "(per cell above)",
            }
        )
    c.sections["section.leakage_retrained"] = "\n".join(
        [
            *head,
            _md_table(pd.DataFrame(rows)),
            "",
            "Leave-out estimate: the faithful runs' own accuracy on all test images minus on the leakage-free part "
            "(the measure of the section above), for comparison. The pooled row takes every (cell, seed) pair of the "
            "variant as one replicate, which assumes one leakage effect for all cells. Per-seed rows: "
            "`leakage_retrained.csv`.",
            "",
            f"![faithful minus grouped, per seed]({fig.relative_to(out_dir)})",
            "",
            "Dots: one seed each; bars: the mean. The leaked-image differences are divided by 5 to share the axis.",
            "",
        ]
    )


def _paper2_section(c: Computed, runs: pd.DataFrame, exp: Experiment) -> None:
    """Paper 2's two models beside its numbers, and their gap paired by seed (one split per seed)."""
    if "paper2" not in exp.variants:
        return
    v = exp.variants["paper2"]
    archs = list(exp.variant_architectures("paper2"))
    lines = ["## Paper 2: its tuned CNN and row-sequence CNN-LSTM", "", v.about + ".", ""]
    rows = []
    for d in v.data:
        for a in archs:
            sub = runs[(runs.data == d) & (runs.arch == a)] if len(runs) else runs
            iv = t_interval(sub.accuracy) if len(sub) else t_interval([])
            paper = PAPER2_ACCURACY[exp.all_architectures()[a]]
            rows.append(
                {
                    "cell": f"`{cell_name(d, a)}`",
                    "seeds": len(sub),
                    "parameters": f"{int(sub.parameters.iloc[0]):,}" if len(sub) else "-",
                    "accuracy mean ± sd [95 % CI]": (_pm(sub.accuracy) + (f" [{_ci(iv)}]" if len(sub) > 1 else ""))
                    if len(sub)
                    else "no runs yet",
                    "paper 2": f"{paper:.2f}",
                    "paper vs our CI": paper_vs_interval(iv, paper),
                    "macro F1": _pm(sub.macro_f1) if len(sub) else "-",
                    "epochs run": _pm(sub.epochs_run, 1) if len(sub) else "-",
                }
            )
        if len(archs) == 2:
            a, b = archs
            A = runs[(runs.data == d) & (runs.arch == a)].set_index("seed").accuracy if len(runs) else pd.Series()
            B = runs[(runs.data == d) & (runs.arch == b)].set_index("seed").accuracy if len(runs) else pd.Series()
            both = A.index.intersection(B.index)
            gap = t_interval((A[both] - B[both]).astype(float))
            paper_gap = PAPER2_ACCURACY[exp.all_architectures()[a]] - PAPER2_ACCURACY[exp.all_architectures()[b]]
            c.facts["paper2.gap.seeds"] = str(len(both))
            c.facts["paper2.gap.est"] = f"{gap.estimate:+.2f}" if len(both) else "n/a"
            c.facts["paper2.gap.ci"] = _ci(gap, signed=True)
            c.facts["paper2.gap.verdict"] = effect_verdict(gap)
            c.facts["paper2.gap.paper"] = f"{paper_gap:+.2f}"
            c.facts["paper2.gap.paper_vs_ci"] = paper_vs_interval(gap, paper_gap)
    lines += [_md_table(pd.DataFrame(rows)), ""]
    if "paper2.gap.est" in c.facts:
        lines += [
            f"CNN − CNN-LSTM, paired by seed (both models of a seed share its split), over "
            f"{c.facts['paper2.gap.seeds']} seeds: {c.facts['paper2.gap.est']} points "
            f"[{c.facts['paper2.gap.ci']}]; paper 2: {c.facts['paper2.gap.paper']} "
            f"({c.facts['paper2.gap.paper_vs_ci']}).",
            "",
        ]
    c.sections["section.paper2"] = "\n".join(lines)


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
                "runs_with_machine_record": g.machine.apply(lambda s: int((s != "").sum())),
                "load_1min_at_start_mean": g.load_1min_at_start.mean(),
            }
        )
        .loc[cells]
        .reset_index(names="cell")
    )


def _timing_section(c: Computed, runs: pd.DataFrame, exp: Experiment, out_dir: Path) -> None:
    order = [cell_name(d, a) for d, a in exp.cells(list(exp.variants))]
    tt = timing_table(runs, order)
    c.written.append(write_text(out_dir / "timings.csv", tt.to_csv(index=False, float_format="%.2f")))
    rows = [
        {
            "cell": f"`{r.cell}`",
            "seeds": r.seeds,
            "epochs (mean)": f"{r.epochs_run_mean:.1f}",
            "s/epoch": f"{r.seconds_per_epoch_mean:.1f}",
            "s/run (mean)": f"{r.seconds_per_run_mean:.0f}",
            "s/run (max)": f"{r.seconds_per_run_max:.0f}",
            "runs with a machine record": r.runs_with_machine_record,
            "load at start (1-min, mean)": "-"
            if np.isnan(r.load_1min_at_start_mean)
            else f"{r.load_1min_at_start_mean:.1f}",
        }
        for r in tt.itertuples()
    ]
    c.sections["section.timings"] = "\n".join(
        [
            "## Timings (as measured on the machine that ran it)",
            "",
            "Seconds per epoch (training + validation) and per run (loading excluded; fit, scoring, figures and "
            "saving included), mean over seeds. Runs with run-record schema 1 also record the machine, its load "
            "average at start and end, and UTC start/end (`machine`, `wall` in metrics.json); older runs do not.",
            "",
            _md_table(pd.DataFrame(rows)),
            "",
        ]
    )


DEFAULT_ORDER = (
    "section.header",
    "section.variant.*",
    "section.table2",
    "section.decomposition",
    "section.leakage",
    "section.leakage_retrained",
    "section.paper2",
    "section.timings",
)


def compose(c: Computed, template: str | None, source: str = NARRATIVE_FILE) -> str:
    """The report: the template filled with sections and facts, or the sections in the default order."""
    if template is None:
        names = []
        for pat in DEFAULT_ORDER:
            names += [k for k in c.sections if k.startswith(pat[:-1])] if pat.endswith("*") else [pat]
        return "\n\n".join(c.sections[k] for k in names if k in c.sections).rstrip() + "\n"
    values = {**c.facts, **c.sections}
    return render(template, values, source).rstrip() + "\n"


def build_report(
    results_dir: Path, exp: Experiment, out_dir: Path | None = None, narrative: Path | None = None
) -> list[Path]:
    """Write ``report.md`` (narrative template filled, else computed sections), CSV tables, figures, facts.json."""
    results_dir = Path(results_dir)
    out_dir = Path(out_dir or results_dir)
    narrative = Path(narrative) if narrative else results_dir / NARRATIVE_FILE
    c = compute(results_dir, exp, out_dir)
    c.written.append(
        write_text(
            out_dir / "facts.json", json.dumps(dict(sorted(c.facts.items())), indent=1, ensure_ascii=False) + "\n"
        )
    )
    report = compose(c, load_template(narrative), str(narrative))
    return [write_text(out_dir / "report.md", report), *c.written]
