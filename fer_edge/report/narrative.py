"""Compose a report from computed parts and a study's narrative template.

Design: ``fer_edge.report`` computes numbers, tables and figures and knows no study's conclusions.
A study states its conclusions in a Markdown template kept beside its results (for paper 1's
factorial: ``train/results/narrative.md``), in which ``{{ name }}`` stands for either

- a computed **section** (``section.variant.faithful``, ``section.leakage``, ...): a whole block of
  tables, generated from the runs, or
- a computed **fact** (``cell.csv-gray-35887_cnn-lstm.accuracy.mean``,
  ``effect.faithful.format.accuracy.mean.verdict``, ...): one number or one verdict word, which the
  code derives from intervals, never from prose.

So the prose can be edited without touching the package, and every number in it is recomputed
whenever the report is rebuilt. Every name a template may use is written to ``facts.json`` beside
the report. An unknown name is a user error naming the template and the name; without a template
the report is the computed sections in their default order.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path

from fer_edge.errors import FerEdgeError

PLACEHOLDER = re.compile(r"\{\{\s*([^{}\s]+)\s*\}\}")


def render(template: str, values: Mapping[str, str], source: str = "template") -> str:
    """Replace every ``{{ name }}`` of ``template`` by ``values[name]``."""
    unknown = sorted({m.group(1) for m in PLACEHOLDER.finditer(template)} - set(values))
    if unknown:
        raise FerEdgeError(
            f"{source}: unknown placeholder(s) {', '.join(unknown[:5])}; the names it can use are in facts.json"
        )
    return PLACEHOLDER.sub(lambda m: values[m.group(1)], template)


def load_template(path: Path | None) -> str | None:
    """The template at ``path``, or None when there is none."""
    if path is None or not Path(path).exists():
        return None
    return Path(path).read_text()
