"""Dataset loading (directory form and Kaggle CSV, target <= 10 s each) and the exact-duplicate
audit of all images (target <= 5 s), on FER-2013 when present and on generated data of its size."""

from __future__ import annotations

import pytest
from bench_support import record

from fer_edge.data import load_dataset
from fer_edge.data.audit import audit_dataset

ROUNDS = 3


@pytest.mark.parametrize("form", ["dir", "csv"])
def test_load(benchmark, data_source, form):
    benchmark.group = "data"
    ds = benchmark.pedantic(load_dataset, args=(data_source[form],), rounds=ROUNDS, iterations=1)
    name = f"load {data_source['name']} ({'directory form' if form == 'dir' else 'Kaggle CSV'}, {len(ds):,} images)"
    record(
        benchmark, name, "<= 10 s", kind="data", dataset=data_source["name"], form=form, images=len(ds), target_s=10.0
    )


@pytest.fixture(scope="module")
def loaded(data_source):
    return load_dataset(data_source["csv"]), data_source["name"]


def test_audit_exact(benchmark, loaded):
    ds, name = loaded
    benchmark.group = "data"

    def run():
        result = audit_dataset(ds)
        return result.summary()

    summary = benchmark.pedantic(run, rounds=ROUNDS, iterations=1)
    redundant = summary["exact_duplicates"]["all"]["redundant_copies"]
    record(
        benchmark,
        f"audit {name} exact duplicates ({len(ds):,} images; {redundant:,} redundant copies found)",
        "<= 5 s",
        kind="data",
        dataset=name,
        images=len(ds),
        target_s=5.0,
    )


def test_audit_near(benchmark, loaded):
    ds, name = loaded
    benchmark.group = "data"
    summary = benchmark.pedantic(lambda: audit_dataset(ds, near=True).summary(), rounds=1, iterations=1)
    pairs = summary["near_duplicates"]["pairs"]
    record(
        benchmark,
        f"audit {name} with near duplicates (pHash, Hamming <= 4; {pairs:,} pairs)",
        None,
        kind="data",
        dataset=name,
        images=len(ds),
    )
