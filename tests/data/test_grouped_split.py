"""The duplicate-grouped split keeps every copy of a picture in one split."""

from __future__ import annotations

import numpy as np
import pytest

from fer_edge.data.splits import conflicting_groups, grouped_stratified_split
from fer_edge.errors import FerEdgeError


def _planted_groups(n: int = 700, seed: int = 0):
    """Labels balanced over 7 classes; 60 groups of 2-5 copies (10 with conflicting labels)."""
    rng = np.random.default_rng(seed)
    labels = np.arange(n) % 7
    groups = np.arange(n)
    members = rng.permutation(n)
    pos = 0
    conflicting = []
    for k in range(60):
        size = int(rng.integers(2, 6))
        m = members[pos : pos + size]
        pos += size
        groups[m] = groups[m[0]]
        labels[m] = labels[m[0]]
        if k < 10:
            labels[m[-1]] = (labels[m[0]] + 1) % 7
            conflicting.extend(m.tolist())
    return labels, groups, np.array(sorted(conflicting))


@pytest.mark.parametrize("seed", range(8))
def test_copies_never_straddle_splits(seed):
    labels, groups, _ = _planted_groups(seed=seed)
    s = grouped_stratified_split(labels, groups, seed=seed)
    parts = [set(groups[s.train]), set(groups[s.val]), set(groups[s.test])]
    assert not (parts[0] & parts[1]) and not (parts[0] & parts[2]) and not (parts[1] & parts[2])
    assert sorted(np.concatenate([s.train, s.val, s.test]).tolist()) == list(range(len(labels)))
    assert 0.75 < len(s.train) / len(labels) < 0.85  # close to 80/10/10
    assert abs(len(s.test) - 70) < 20


def test_grouped_split_is_reproducible_and_stratified():
    labels, groups, _ = _planted_groups()
    a, b = grouped_stratified_split(labels, groups, seed=3), grouped_stratified_split(labels, groups, seed=3)
    for x, y in ((a.train, b.train), (a.val, b.val), (a.test, b.test)):
        np.testing.assert_array_equal(x, y)
    assert not np.array_equal(grouped_stratified_split(labels, groups, seed=4).test, a.test)
    per_class = np.bincount(labels[a.test], minlength=7)
    assert per_class.min() >= 5 and per_class.max() <= 16  # ~10 per class
    assert a.method == "grouped-stratified"


def test_drop_conflicts_removes_exactly_the_conflicting_groups():
    labels, groups, conflicting = _planted_groups()
    np.testing.assert_array_equal(np.flatnonzero(conflicting_groups(labels, groups)), conflicting)
    s = grouped_stratified_split(labels, groups, seed=0, drop_conflicts=True)
    kept = np.concatenate([s.train, s.val, s.test])
    assert set(kept.tolist()) == set(range(len(labels))) - set(conflicting.tolist())
    assert f"dropped: {len(conflicting)} images" in s.method


def test_without_copies_it_is_a_plain_stratified_split_of_groups():
    labels = np.repeat(np.arange(7), 30)
    s = grouped_stratified_split(labels, np.arange(len(labels)), seed=1)
    assert (len(s.train), len(s.val), len(s.test)) == (168, 21, 21)


def test_too_few_distinct_images_is_a_user_error():
    labels = np.repeat(np.arange(7), 4)
    groups = np.repeat(np.arange(14), 2)  # every class has only 2 distinct pictures
    with pytest.raises(FerEdgeError, match="at least 3 distinct images"):
        grouped_stratified_split(labels, groups, seed=0)


@pytest.mark.parametrize("seed", range(6))
def test_copies_into_test_keeps_the_test_images_and_moves_their_copies_in(seed):
    from fer_edge.data.splits import copies_into_test, stratified_split

    labels, groups, _ = _planted_groups(seed=seed)
    plain = stratified_split(labels, seed)
    s = copies_into_test(plain, groups, "stratified-grouped")
    assert set(plain.test) <= set(s.test)  # the same test images, scored by both
    assert not set(groups[s.test]) & (set(groups[s.train]) | set(groups[s.val]))
    assert not set(groups[s.train]) & set(groups[s.val])
    assert sorted(np.concatenate([s.train, s.val, s.test]).tolist()) == list(range(len(labels)))
    moved = set(s.test) - set(plain.test)
    assert moved and all(groups[i] in set(groups[plain.test]) for i in moved)  # only copies of test images
    assert s.method == "stratified-grouped" and s.seed == seed


def test_split_dataset_offers_the_grouped_twins_of_the_stratified_split(synthetic_small):
    from fer_edge.data import FerDataset
    from fer_edge.data.splits import split_dataset

    img = synthetic_small.images.copy()
    plain = split_dataset(synthetic_small, "stratified", 0)
    img[plain.train[0]] = img[plain.test[0]]  # a training copy of a test image
    ds = FerDataset(img, synthetic_small.labels, synthetic_small.usage, synthetic_small.sources)
    for method in ("stratified-grouped", "stratified-grouped-near"):
        s = split_dataset(ds, method, 0)
        assert plain.train[0] in s.test and set(plain.test) <= set(s.test)
        assert s.method == method
