"""The two-way ANOVA against sums of squares and F computed by formula on a balanced 2x2."""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
import pytest


def _data() -> pd.DataFrame:
    # 2 formats x 2 architectures x 3 seeds, with a main effect, an interaction and noise.
    values = {
        ("dir", "cnn"): [50.0, 51.5, 49.0],
        ("dir", "lstm"): [49.0, 50.5, 48.0],
        ("csv", "cnn"): [55.0, 54.0, 56.5],
        ("csv", "lstm"): [58.0, 57.0, 59.5],
    }
    rows = [{"format": f, "arch": a, "acc": v} for (f, a), vs in values.items() for v in vs]
    return pd.DataFrame(rows)


def test_two_way_anova_matches_hand_computation():
    from fer_edge.report.anova import two_way_anova

    df = _data()
    y = df["acc"].to_numpy()
    grand = y.mean()
    n = 3  # per cell
    fa = {f: df[df.format == f].acc.mean() for f in ("dir", "csv")}
    fb = {a: df[df.arch == a].acc.mean() for a in ("cnn", "lstm")}
    cell = {(f, a): df[(df.format == f) & (df.arch == a)].acc.mean() for f, a in itertools.product(fa, fb)}
    ss_a = 2 * n * sum((m - grand) ** 2 for m in fa.values())
    ss_b = 2 * n * sum((m - grand) ** 2 for m in fb.values())
    ss_ab = n * sum((cell[f, a] - fa[f] - fb[a] + grand) ** 2 for f, a in cell)
    ss_err = sum((v - cell[f, a]) ** 2 for f, a, v in df[["format", "arch", "acc"]].itertuples(index=False))
    df_err = 4 * (n - 1)
    ms_err = ss_err / df_err

    table = two_way_anova(df, "acc", "format", "arch")

    assert list(table.index) == ["format", "arch", "format:arch", "Residual"]
    assert table.loc["format", "sum_sq"] == pytest.approx(ss_a)
    assert table.loc["arch", "sum_sq"] == pytest.approx(ss_b)
    assert table.loc["format:arch", "sum_sq"] == pytest.approx(ss_ab)
    assert table.loc["Residual", "sum_sq"] == pytest.approx(ss_err)
    assert table.loc["Residual", "df"] == df_err
    assert table.loc["format", "F"] == pytest.approx(ss_a / ms_err)
    assert table.loc["arch", "F"] == pytest.approx(ss_b / ms_err)
    assert table.loc["format:arch", "F"] == pytest.approx(ss_ab / ms_err)
    from scipy.stats import f as f_dist

    assert table.loc["format", "p"] == pytest.approx(f_dist.sf(ss_a / ms_err, 1, df_err))
    assert table.loc["format", "partial_eta_sq"] == pytest.approx(ss_a / (ss_a + ss_err))
    assert table.loc["format", "p"] < 0.001  # a 6-point format effect against ~1-point noise
    assert table.loc["arch", "p"] > 0.05


def test_one_seed_per_cell_gives_no_test():
    from fer_edge.report.anova import two_way_anova

    df = _data().groupby(["format", "arch"], as_index=False).first()
    table = two_way_anova(df, "acc", "format", "arch")
    assert np.isnan(table.loc["format", "p"])
