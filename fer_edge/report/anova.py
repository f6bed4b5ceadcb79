"""Two-way ANOVA with interaction (statsmodels ``ols`` + ``anova_lm``), over seeds as replicates."""

from __future__ import annotations

import pandas as pd


def two_way_anova(df: pd.DataFrame, response: str, a: str, b: str) -> pd.DataFrame:
    """Rows ``a``, ``b``, ``a:b``, ``Residual``; columns sum_sq, df, F, p, partial_eta_sq.

    Type II sums of squares (equal to Type I for a balanced design, which a full factorial with
    the same number of seeds per cell is). Needs at least two observations in some cell for a
    residual; with one per cell F and p come back as NaN.
    """
    import statsmodels.formula.api as smf
    from statsmodels.stats.anova import anova_lm

    data = pd.DataFrame({"y": df[response].astype(float), "A": df[a].astype(str), "B": df[b].astype(str)})
    index = [a, b, f"{a}:{b}", "Residual"]
    if len(data) <= data.groupby(["A", "B"]).ngroups or data["A"].nunique() < 2 or data["B"].nunique() < 2:
        nan = float("nan")
        return pd.DataFrame({c: [nan] * 4 for c in ("sum_sq", "df", "F", "p", "partial_eta_sq")}, index=index)
    fitted = smf.ols("y ~ C(A) * C(B)", data=data).fit()
    table = anova_lm(fitted, typ=2).rename(columns={"PR(>F)": "p"})
    table.index = index
    resid = table.loc["Residual", "sum_sq"]
    table["partial_eta_sq"] = table["sum_sq"] / (table["sum_sq"] + resid)
    table.loc["Residual", ["F", "p", "partial_eta_sq"]] = float("nan")
    return table[["sum_sq", "df", "F", "p", "partial_eta_sq"]]
