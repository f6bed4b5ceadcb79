"""The split methods `fer-edge train` offers; grouped ones leave no exact copy across splits."""

from __future__ import annotations

import numpy as np
import pytest

from fer_edge.data import FerDataset
from fer_edge.data.synthetic import make_synthetic
from fer_edge.errors import FerEdgeError
from fer_edge.training.run import _leakage, make_split


@pytest.fixture(scope="module")
def with_copies() -> FerDataset:
    """280 synthetic images plus 70 exact copies of the first 70, one copy relabelled (a conflict)."""
    base = make_synthetic(280, seed=11)
    labels = base.labels[:70].copy()
    labels[0] = (labels[0] + 1) % 7
    return FerDataset.concat([base, FerDataset(base.images[:70].copy(), labels)])


def test_stratified_split_leaks_planted_copies(with_copies):
    split = make_split(with_copies, "stratified", seed=0)
    assert _leakage(with_copies, split)["test_in_train"].sum() > 0


@pytest.mark.parametrize("method", ["grouped", "grouped-clean"])
def test_grouped_splits_leak_nothing(with_copies, method):
    split = make_split(with_copies, method, seed=0)
    leaks = _leakage(with_copies, split)
    assert not leaks["test_in_train_or_val"].any() and not leaks["val_in_train"].any()
    used = np.concatenate([split.train, split.val, split.test])
    assert len(np.unique(used)) == len(used)
    # grouped keeps every image; grouped-clean drops exactly the conflicting pair (image 0 and its copy)
    assert len(used) == (350 if method == "grouped" else 348)
    if method == "grouped-clean":
        assert 0 not in used and 280 not in used


def test_unknown_split_is_a_user_error(with_copies):
    with pytest.raises(FerEdgeError, match="grouped"):
        make_split(with_copies, "random", seed=0)


def test_evaluation_scores_the_grouped_test_part(with_copies, tmp_path):
    """`fer-edge evaluate --split test --split-method grouped` takes the same images training held out."""
    from fer_edge.data import Form, save_dataset
    from fer_edge.evaluation import load_eval_data

    path = save_dataset(with_copies, tmp_path / "d.csv", Form.CSV)
    ev = load_eval_data(path, split="test", seed=0, split_method="grouped")
    assert "grouped" in ev.description
    assert len(ev.dataset) == len(make_split(with_copies, "grouped", seed=0).test)
    assert ev.leaked is not None and not ev.leaked.any()
