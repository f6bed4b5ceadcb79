"""Leakage measured by retraining: a random-split run against its grouped twin, on the same test images.

A grouped data cell (``DataCell.same_test_as``) trains with the seed's stratified split, except
that the copies of its test images were moved into the test part
(``fer_edge.data.splits.copies_into_test``). Its test part therefore holds every test image of the
random-split run of the same seed, and neither training set differs by more than those copies. Per
seed, both runs' predictions (``predictions.npz``) are read on the random run's test images:

- on all of them (the number a paper reports): random minus grouped is the leakage effect, the
  accuracy the copies in training add, plus the difference of two trainings;
- on the part without an exact copy in the random run's training (neither model saw those
  images): a difference here is the two trainings alone;
- on the leaked images (an exact copy in the random run's training).

Per cell, the differences over seeds give a mean and a 95 % t interval; each seed adds an exact
McNemar test of the two models on all the test images.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from fer_edge.metrics import mcnemar_exact
from fer_edge.report.stats import t_interval
from fer_edge.training.factorial import RUNS, Experiment, cell_name

PREDICTIONS = "predictions.npz"


def _predictions(results_dir: Path, cell: str, seed: int) -> dict[str, np.ndarray] | None:
    path = Path(results_dir) / RUNS / cell / f"seed{seed}" / PREDICTIONS
    if not path.exists():
        return None
    with np.load(path) as z:
        return {k: z[k] for k in z.files}


def paired_seed(random: dict[str, np.ndarray], grouped: dict[str, np.ndarray]) -> dict[str, Any]:
    """Both runs of one seed scored on the random run's test images (percent)."""
    where = {int(i): k for k, i in enumerate(grouped["index"])}
    missing = [int(i) for i in random["index"] if int(i) not in where]
    if missing:
        raise ValueError(f"the grouped run does not test {len(missing)} of the random run's test images")
    rows = np.array([where[int(i)] for i in random["index"]])
    y = random["y_true"].astype(int)
    if not np.array_equal(grouped["y_true"][rows].astype(int), y):
        raise ValueError("the two runs label the same test images differently: not the same data")
    right_r = random["probs"].argmax(1) == y
    right_g = grouped["probs"][rows].argmax(1) == y
    leaked = random["leaked"].astype(bool)
    out: dict[str, Any] = {"test_images": len(y), "leaked_images": int(leaked.sum())}
    for part, mask in (("all", np.ones(len(y), bool)), ("leakage_free", ~leaked), ("leaked", leaked)):
        out[f"random_{part}"] = 100 * float(right_r[mask].mean()) if mask.any() else np.nan
        out[f"grouped_{part}"] = 100 * float(right_g[mask].mean()) if mask.any() else np.nan
        out[f"difference_{part}"] = out[f"random_{part}"] - out[f"grouped_{part}"]
    out["mcnemar_p_all"] = mcnemar_exact(right_r, right_g)[2]
    return out


def twins(exp: Experiment) -> list[tuple[str, str, str]]:
    """(variant, grouped data cell, random data cell) for every grouped cell the variants run."""
    out = []
    for vname, v in exp.variants.items():
        for d in v.data:
            base = exp.data[d].same_test_as
            if base:
                out.append((vname, d, base))
    return out


def per_seed_table(results_dir: Path, exp: Experiment) -> pd.DataFrame:
    """One row per (grouped cell, seed) with both runs finished."""
    rows = []
    for vname, d, base in twins(exp):
        for a in exp.variant_architectures(vname):
            g, r = cell_name(d, a), cell_name(base, a)
            seeds = sorted(
                int(p.name[4:]) for p in (Path(results_dir) / RUNS / g).glob("seed*") if p.name[4:].isdigit()
            )
            for seed in seeds:
                pr, pg = _predictions(results_dir, r, seed), _predictions(results_dir, g, seed)
                if pr is None or pg is None:
                    continue
                rows.append(
                    {"variant": vname, "cell": g, "random_cell": r, "arch": a, "seed": seed, **paired_seed(pr, pg)}
                )
    return pd.DataFrame(rows)


POOLED = "pooled"


def summary_table(per_seed: pd.DataFrame) -> pd.DataFrame:
    """Per grouped cell, then pooled per variant: means and the 95 % t interval of each difference.

    The pooled row treats every (cell, seed) pair of a variant as one replicate of "what the copies
    add": it assumes one leakage effect for all cells, which the per-cell rows let a reader check.
    """
    groups = [((v, c), sub) for (v, c), sub in per_seed.groupby(["variant", "cell"], sort=False)]
    for v, sub in per_seed.groupby("variant", sort=False):
        if sub.cell.nunique() > 1:
            groups.append(((v, f"{POOLED}-{v}"), sub))
    rows = []
    for (variant, cell), sub in groups:
        row: dict[str, Any] = {
            "variant": variant,
            "cell": cell,
            "random_cell": sub.random_cell.iloc[0] if sub.random_cell.nunique() == 1 else "all faithful cells",
            "seeds": len(sub),
            "test_images_mean": sub.test_images.mean(),
            "leaked_images_mean": sub.leaked_images.mean(),
        }
        for part in ("all", "leakage_free", "leaked"):
            iv = t_interval(sub[f"difference_{part}"])
            row[f"random_{part}_mean"] = sub[f"random_{part}"].mean()
            row[f"grouped_{part}_mean"] = sub[f"grouped_{part}"].mean()
            row[f"difference_{part}_mean"] = iv.estimate
            row[f"difference_{part}_ci_low"], row[f"difference_{part}_ci_high"] = iv.low, iv.high
        row["leave_out_estimate_mean"] = (sub.random_all - sub.random_leakage_free).mean()
        row["mcnemar_p_per_seed"] = " ".join(f"{p:.3g}" for p in sub.mcnemar_p_all)
        rows.append(row)
    return pd.DataFrame(rows)
