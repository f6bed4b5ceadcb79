"""Statistics of a seeds-as-replicates factorial: intervals, contrasts, a seed-blocked ANOVA, Holm, power.

All from statsmodels/scipy; the report only formats what these return.

- ``t_interval``: a cell mean with its 95 % t interval (n - 1 degrees of freedom).
- ``contrasts``: effects between cells as contrasts of a cell-means OLS model (``y ~ 0 + C(cell)``),
  so every effect's standard error and interval use the pooled residual variance of the comparison's
  cells and stay right for unequal seeds per cell. ``blocked=True`` adds ``C(seed)``: the
  randomized-block model, in which a seed's shared split (CNN and CNN-LSTM of one data cell draw the
  same split with the same seed) is a block rather than independent noise.
- ``blocked_anova``: the two-way ANOVA with seed as a block (``y ~ C(A) * C(B) + C(seed)``, Type II).
- ``holm``: Holm's step-down adjustment over one family of p-values.
- ``minimum_detectable_effect``: the smallest true difference a two-sided t test of a contrast with
  standard error ``se`` and ``df`` residual degrees of freedom detects with the given power.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd


@dataclass(frozen=True)
class Interval:
    estimate: float
    low: float
    high: float
    se: float = float("nan")
    df: float = float("nan")
    p: float = float("nan")

    @property
    def excludes_zero(self) -> bool:
        return bool(self.low > 0 or self.high < 0)

    def contains(self, value: float) -> bool:
        return bool(self.low <= value <= self.high)


NAN_INTERVAL = Interval(float("nan"), float("nan"), float("nan"))


def t_interval(values: Sequence[float] | pd.Series, level: float = 0.95) -> Interval:
    """Mean and its t interval; NaN bounds with fewer than two values."""
    from scipy import stats

    v = np.asarray(pd.Series(values, dtype=float).dropna())
    if len(v) == 0:
        return NAN_INTERVAL
    mean = float(v.mean())
    if len(v) < 2:
        return Interval(mean, float("nan"), float("nan"))
    se = float(v.std(ddof=1) / np.sqrt(len(v)))
    half = float(stats.t.ppf(0.5 + level / 2, len(v) - 1)) * se
    return Interval(mean, mean - half, mean + half, se, len(v) - 1)


def _design(df: pd.DataFrame, response: str, blocked: bool) -> tuple[pd.DataFrame, str]:
    data = pd.DataFrame({"y": df[response].astype(float), "cell": df["cellkey"].astype(str)})
    formula = "y ~ 0 + C(cell)"
    if blocked:
        data["seed"] = df["seed"].astype(int).astype(str)
        if data["seed"].nunique() > 1:
            formula += " + C(seed)"
    return data.dropna(), formula


def contrasts(
    df: pd.DataFrame, response: str, weights: dict[str, dict[str, float]], blocked: bool = False, level: float = 0.95
) -> dict[str, Interval]:
    """Estimate, interval and p of named contrasts over cells.

    ``df`` has a ``cellkey`` column naming each row's cell (and ``seed`` when ``blocked``);
    ``weights[name]`` maps cell keys to contrast weights (summing to zero). Contrasts naming a
    cell without rows, or a model without residual degrees of freedom, come back as NaN.
    """
    import statsmodels.formula.api as smf

    data, formula = _design(df, response, blocked)
    cells = sorted(data["cell"].unique())
    out = {name: NAN_INTERVAL for name in weights}
    if not cells or len(data) <= len(cells) + (data["seed"].nunique() - 1 if "seed" in data and blocked else 0):
        return out
    fitted = smf.ols(formula, data=data).fit()
    if fitted.df_resid < 1:
        return out
    names = list(fitted.params.index)
    for name, w in weights.items():
        if any(c not in cells for c in w):
            continue
        vec = np.zeros(len(names))
        for c, wt in w.items():
            vec[names.index(f"C(cell)[{c}]")] = wt
        t = fitted.t_test(vec)
        lo, hi = np.asarray(t.conf_int(alpha=1 - level)).ravel()
        out[name] = Interval(
            float(np.ravel(t.effect)[0]),
            float(lo),
            float(hi),
            float(np.ravel(t.sd)[0]),
            float(fitted.df_resid),
            float(np.ravel(t.pvalue)[0]),
        )
    return out


def blocked_anova(df: pd.DataFrame, response: str, a: str, b: str, block: str = "seed") -> pd.DataFrame:
    """Rows ``a``, ``b``, ``a:b``, ``block``, ``Residual``: the randomized-block two-way ANOVA (Type II)."""
    import statsmodels.formula.api as smf
    from statsmodels.stats.anova import anova_lm

    data = pd.DataFrame(
        {
            "y": df[response].astype(float),
            "A": df[a].astype(str),
            "B": df[b].astype(str),
            "K": df[block].astype(int).astype(str),
        }
    ).dropna()
    index = [a, b, f"{a}:{b}", block, "Residual"]
    n_params = data.groupby(["A", "B"]).ngroups + data["K"].nunique() - 1
    if len(data) <= n_params or data["A"].nunique() < 2 or data["B"].nunique() < 2 or data["K"].nunique() < 2:
        nan = float("nan")
        return pd.DataFrame({c: [nan] * 5 for c in ("sum_sq", "df", "F", "p", "partial_eta_sq")}, index=index)
    fitted = smf.ols("y ~ C(A) * C(B) + C(K)", data=data).fit()
    table = anova_lm(fitted, typ=2).rename(columns={"PR(>F)": "p"})
    table = table.rename(index={"C(A)": a, "C(B)": b, "C(A):C(B)": f"{a}:{b}", "C(K)": block}).loc[index]
    resid = table.loc["Residual", "sum_sq"]
    table["partial_eta_sq"] = table["sum_sq"] / (table["sum_sq"] + resid)
    table.loc["Residual", ["F", "p", "partial_eta_sq"]] = float("nan")
    return table[["sum_sq", "df", "F", "p", "partial_eta_sq"]]


def holm(pvalues: Sequence[float]) -> np.ndarray:
    """Holm-adjusted p-values (statsmodels ``multipletests``); NaNs stay NaN and are not counted."""
    from statsmodels.stats.multitest import multipletests

    p = np.asarray(pvalues, dtype=float)
    out = np.full(p.shape, np.nan)
    ok = ~np.isnan(p)
    if ok.any():
        out[ok] = multipletests(p[ok], method="holm")[1]
    return out


def minimum_detectable_effect(se: float, df: float, alpha: float = 0.05, power: float = 0.8) -> float:
    """Smallest |true effect| a two-sided level-``alpha`` t test detects with probability ``power``.

    Exact under the noncentral t: solves P(|T| > t_crit | noncentrality d / se) = power for d.
    For large ``df`` it tends to (z_{1-alpha/2} + z_power) * se = 2.80 se at the defaults.
    """
    from scipy import optimize, stats

    if not (se > 0 and df >= 1):
        return float("nan")
    crit = stats.t.ppf(1 - alpha / 2, df)

    def gap(d: float) -> float:
        nc = d / se
        reach = float(stats.nct.sf(crit, df, nc) + stats.nct.cdf(-crit, df, nc))
        return (1.0 if np.isnan(reach) else reach) - power  # scipy's nct gives NaN far in the tail, where power is 1

    return float(optimize.brentq(gap, 1e-9 * se, 60 * se))
