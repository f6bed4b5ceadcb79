"""The factorial's statistics on small synthetic numbers whose answers are known in closed form."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from fer_edge.report.stats import blocked_anova, contrasts, holm, minimum_detectable_effect, t_interval


def test_t_interval_of_three_values():
    iv = t_interval([56.14, 57.29, 57.79])
    half = 4.302653 * np.std([56.14, 57.29, 57.79], ddof=1) / np.sqrt(3)  # t_{0.975, 2}
    assert iv.estimate == pytest.approx(np.mean([56.14, 57.29, 57.79]))
    assert (iv.low, iv.high) == pytest.approx((iv.estimate - half, iv.estimate + half))
    assert iv.contains(57.84) and not iv.contains(60.0) and iv.excludes_zero
    assert np.isnan(t_interval([1.0]).low)


def _two_cells(a, b, seeds=None):
    return pd.DataFrame(
        {"cellkey": ["A"] * len(a) + ["B"] * len(b), "y": [*a, *b], "seed": seeds or [*range(len(a)), *range(len(b))]}
    )


def test_contrast_matches_the_pooled_two_sample_t_test():
    from scipy import stats

    a, b = [50.0, 51.0, 49.0], [55.0, 56.5, 54.0]
    iv = contrasts(_two_cells(a, b), "y", {"b-a": {"B": 1, "A": -1}})["b-a"]
    t = stats.ttest_ind(b, a, equal_var=True)
    assert iv.estimate == pytest.approx(np.mean(b) - np.mean(a))
    assert iv.p == pytest.approx(t.pvalue)
    assert iv.df == 4 and iv.excludes_zero


def test_blocked_contrast_is_the_paired_t_test():
    from scipy import stats

    # a large seed effect shared by both cells: unblocked it hides the +1 difference, blocked it does not
    a = [50.0, 55.0, 60.0, 65.0]
    b = [51.1, 55.9, 61.0, 66.0]
    df = _two_cells(a, b, seeds=[0, 1, 2, 3, 0, 1, 2, 3])
    plain = contrasts(df, "y", {"d": {"B": 1, "A": -1}})["d"]
    blocked = contrasts(df, "y", {"d": {"B": 1, "A": -1}}, blocked=True)["d"]
    assert blocked.estimate == pytest.approx(plain.estimate)
    assert blocked.p == pytest.approx(stats.ttest_rel(b, a).pvalue)
    assert not plain.excludes_zero and blocked.excludes_zero


def test_contrast_naming_a_cell_without_runs_is_nan():
    iv = contrasts(_two_cells([1.0, 2.0], [3.0, 4.0]), "y", {"c": {"C": 1, "A": -1}})["c"]
    assert np.isnan(iv.estimate)


def test_blocked_anova_with_a_pure_seed_effect():
    rows = []
    for seed, shift in enumerate([0.0, 3.0, 6.0]):
        for a in ("x", "y"):
            for b in ("u", "v"):
                noise = 0.1 * ((seed * 7 + len(a + b)) % 3 - 1) * (1 if b == "u" else -1)
                rows.append({"A": a, "B": b, "seed": seed, "r": 10 + (2.0 if a == "y" else 0.0) + shift + noise})
    df = pd.DataFrame(rows)
    table = blocked_anova(df, "r", "A", "B")
    assert list(table.index) == ["A", "B", "A:B", "seed", "Residual"]
    assert table.loc["A", "p"] < 0.001 and table.loc["seed", "p"] < 0.001
    assert table.loc["B", "p"] > 0.05
    assert table.loc["Residual", "df"] == 12 - 4 - 2


def test_holm_known_values():
    adj = holm([0.01, 0.04, 0.03, np.nan])
    # sorted 0.01, 0.03, 0.04 -> x3, x2, x1 with monotonicity: 0.03, 0.06, 0.06
    assert adj[:3] == pytest.approx([0.03, 0.06, 0.06])
    assert np.isnan(adj[3])


def test_minimum_detectable_effect_agrees_with_statsmodels_power():
    from statsmodels.stats.power import TTestIndPower

    n, sd = 3, 0.8
    se = sd * np.sqrt(2 / n)  # difference of two means of n seeds each, pooled df 2n - 2
    d = TTestIndPower().solve_power(nobs1=n, alpha=0.05, power=0.8, ratio=1.0)
    assert minimum_detectable_effect(se, 2 * n - 2) == pytest.approx(d * sd, rel=1e-3)
    # many degrees of freedom: the normal approximation (1.96 + 0.84) * se
    assert minimum_detectable_effect(1.0, 10_000) == pytest.approx(2.8016, abs=2e-3)
