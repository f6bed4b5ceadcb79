"""Reproducible stratified splits (scikit-learn), plain and duplicate-grouped."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from fer_edge.data.dataset import FerDataset
from fer_edge.errors import FerEdgeError


@dataclass(frozen=True)
class Split:
    """Index arrays into a dataset; ``seed`` and ``method`` recorded for the results."""

    train: np.ndarray
    val: np.ndarray
    test: np.ndarray
    seed: int
    method: str

    def as_dict(self) -> dict[str, object]:
        return {"seed": self.seed, "method": self.method, "sizes": [len(self.train), len(self.val), len(self.test)]}


def stratified_split(labels: np.ndarray, seed: int, fractions: tuple[float, float, float] = (0.8, 0.1, 0.1)) -> Split:
    """Stratified train/val/test indices; the same seed gives the same indices on any machine."""
    from sklearn.model_selection import train_test_split

    labels = np.asarray(labels)
    idx = np.arange(len(labels))
    if len(labels) and np.bincount(labels).min() < 3:
        raise FerEdgeError("every class needs at least 3 images for a stratified 80/10/10 split")
    train_f, val_f, test_f = fractions
    rest_idx, test_idx = train_test_split(idx, test_size=test_f, stratify=labels, random_state=seed)
    train_idx, val_idx = train_test_split(
        rest_idx, test_size=val_f / (train_f + val_f), stratify=labels[rest_idx], random_state=seed
    )
    return Split(np.sort(train_idx), np.sort(val_idx), np.sort(test_idx), seed, "stratified")


def conflicting_groups(labels: np.ndarray, groups: np.ndarray) -> np.ndarray:
    """Per image: its group (copies of one picture) carries more than one distinct label."""
    labels, groups = np.asarray(labels, np.int64), np.asarray(groups, np.int64)
    if len(groups) == 0:
        return np.zeros(0, bool)
    _, g = np.unique(groups, return_inverse=True)
    g = g.reshape(-1)
    width = int(labels.max()) + 1
    pairs = np.unique(g * width + labels)
    return np.bincount(pairs // width, minlength=g.max() + 1)[g] > 1


def grouped_stratified_split(
    labels: np.ndarray,
    groups: np.ndarray,
    seed: int,
    fractions: tuple[float, float, float] = (0.8, 0.1, 0.1),
    drop_conflicts: bool = False,
) -> Split:
    """Stratified train/val/test indices where images sharing a group id never straddle two splits.

    ``groups`` holds one id per image, copies sharing an id (``fer_edge.data.audit.duplicate_groups``).
    The groups themselves are split, stratified by each group's majority label (ties: the lower
    label), with scikit-learn's ``train_test_split`` exactly as ``stratified_split`` splits images;
    every image then follows its group. Fractions hold for groups, so image counts deviate by the
    few groups with several copies. (scikit-learn's ``StratifiedGroupKFold`` balances the same
    way but loops over groups in Python: ~30 s for FER-2013's 34,000 groups against well under
    a second here.) With ``drop_conflicts`` the images of groups whose copies carry different
    labels are left out of every split. The same seed gives the same indices on any machine.
    """
    from sklearn.model_selection import train_test_split

    labels, groups = np.asarray(labels, np.int64), np.asarray(groups, np.int64)
    if labels.shape != groups.shape:
        raise ValueError("labels and groups need one entry per image")
    keep = ~conflicting_groups(labels, groups) if drop_conflicts else np.ones(len(labels), bool)
    idx = np.flatnonzero(keep)
    uniq, g = np.unique(groups[idx], return_inverse=True)
    g = g.reshape(-1)
    votes = np.zeros((len(uniq), int(labels.max(initial=0)) + 1), np.int64)
    np.add.at(votes, (g, labels[idx]), 1)
    group_label = votes.argmax(axis=1)
    if len(uniq) == 0 or np.bincount(group_label).min() < 3:
        raise FerEdgeError("every class needs at least 3 distinct images for a grouped stratified 80/10/10 split")
    train_f, val_f, test_f = fractions
    gid = np.arange(len(uniq))
    rest, test_g = train_test_split(gid, test_size=test_f, stratify=group_label, random_state=seed)
    train_g, val_g = train_test_split(
        rest, test_size=val_f / (train_f + val_f), stratify=group_label[rest], random_state=seed
    )
    part = np.empty(len(uniq), np.int64)
    part[train_g], part[val_g], part[test_g] = 0, 1, 2
    where = part[g]
    method = "grouped-stratified"
    if drop_conflicts:
        method += f" (conflicting-label groups dropped: {int((~keep).sum())} images)"
    return Split(idx[where == 0], idx[where == 1], idx[where == 2], seed, method)


def copies_into_test(split: Split, groups: np.ndarray, method: str) -> Split:
    """``split`` with every group that has a member in its test part moved whole into that part.

    The test part keeps all its images (and gains their copies), so a model trained on the result
    is scored on a superset of the images ``split`` tested: the two are compared on the same
    images, with the copies of those images absent from this training set. A group straddling
    train and validation only goes to train. ``groups`` holds one id per image.
    """
    groups = np.asarray(groups, np.int64)
    n_groups = int(groups.max(initial=-1)) + 1
    touches = [np.zeros(n_groups, bool) for _ in range(3)]
    for t, part in zip(touches, (split.train, split.val, split.test)):
        t[groups[part]] = True
    where = np.where(touches[2], 2, np.where(touches[0], 0, 1))[groups]
    used = np.zeros(len(groups), bool)
    used[np.concatenate([split.train, split.val, split.test])] = True
    train, val, test = (np.flatnonzero(used & (where == k)) for k in range(3))
    return Split(train, val, test, split.seed, method)


SPLIT_METHODS = ("stratified", "usage", "grouped", "grouped-clean", "stratified-grouped", "stratified-grouped-near")


def split_dataset(ds: FerDataset, method: str, seed: int) -> Split:
    """The train/val/test split every command offers, by name.

    ``stratified``: 80/10/10 by class; ``usage``: the dataset's own Training/PublicTest/PrivateTest;
    ``grouped``: stratified 80/10/10 with exact pixel copies kept in one split (leakage-free);
    ``grouped-clean``: grouped, and the images whose copies carry different labels left out;
    ``stratified-grouped``: the seed's stratified split with the exact copies of its test images moved
    into the test part (``copies_into_test``), so it tests the same images as ``stratified`` without
    their copies in training; ``stratified-grouped-near``: the same with near duplicates too
    (``fer_edge.data.audit.near_duplicate_groups``).
    """
    from fer_edge.data.audit import duplicate_groups, near_duplicate_groups

    if method == "stratified":
        return stratified_split(ds.labels, seed)
    if method == "stratified-grouped":
        return copies_into_test(stratified_split(ds.labels, seed), duplicate_groups(ds), method)
    if method == "stratified-grouped-near":
        return copies_into_test(stratified_split(ds.labels, seed), near_duplicate_groups(ds), method)
    if method in ("grouped", "grouped-clean"):
        return grouped_stratified_split(ds.labels, duplicate_groups(ds), seed, drop_conflicts=method == "grouped-clean")
    if method == "usage":
        parts = [np.flatnonzero(ds.usage == u) for u in ("Training", "PublicTest", "PrivateTest")]
        if any(len(p) == 0 for p in parts):
            raise FerEdgeError(
                f"--split usage needs Training, PublicTest and PrivateTest images; this dataset has "
                f"{ds.usage_counts()}. Use --split stratified, or give the whole FER-2013 (train/ and test/, "
                "or the Kaggle CSV)"
            )
        return Split(parts[0], parts[1], parts[2], seed, "usage")
    raise FerEdgeError(f"unknown split {method!r}; choose one of {', '.join(SPLIT_METHODS)}")
