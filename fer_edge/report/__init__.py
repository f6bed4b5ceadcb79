"""Reports: per-run figures, the factorial's tables and ANOVA (pandas, statsmodels, matplotlib)."""
