"""The audit finds exactly the duplicates, conflicts and blanks planted in generated data."""

from __future__ import annotations

import csv
import json

import numpy as np
import pytest

from fer_edge.cli.main import main
from fer_edge.data import FerDataset, load_dataset, save_dataset
from fer_edge.data.audit import (
    audit_dataset,
    duplicate_groups,
    hamming_distance,
    leakage_mask,
    near_pairs,
    phash,
    pixel_groups,
)
from fer_edge.data.forms import Form


@pytest.fixture(scope="module")
def planted(synthetic_small: FerDataset):
    """140 distinct synthetic faces (112 Training, 14 PublicTest, 14 PrivateTest) with planted faults."""
    ds = synthetic_small
    img, lab, use = ds.images.copy(), ds.labels.copy(), ds.usage.copy()
    assert list(use[[0, 111, 112, 125, 126, 139]]) == ["Training"] * 2 + ["PublicTest"] * 2 + ["PrivateTest"] * 2
    img[1] = img[2] = img[0]  # a Training picture three times, same label
    lab[1] = lab[2] = lab[0]
    img[4] = img[3]  # a Training picture twice under two labels
    lab[4] = (lab[3] + 1) % 7
    img[112], lab[112] = img[5], lab[5]  # a PublicTest image copied from Training
    img[113] = img[6]  # ... and another, with a different label
    lab[113] = (lab[6] + 2) % 7
    img[126], lab[126] = img[120], lab[120]  # a PrivateTest image copying a PublicTest one
    img[10] = 128  # two constant images (different values: blank, not copies of each other)
    img[11] = 30
    rng = np.random.default_rng(0)
    img[12] = np.clip(90 + rng.normal(0, 1.0, (48, 48)), 0, 255).astype(np.uint8)  # near-blank, std ~1
    img[20] = np.clip(img[21].astype(int) + 2, 0, 255).astype(np.uint8)  # near copy, not exact
    return FerDataset(img, lab, use, ds.sources.copy())


def test_synthetic_faces_are_distinct(synthetic_small):
    assert len(np.unique(duplicate_groups(synthetic_small))) == len(synthetic_small)


def test_audit_counts_exactly_the_planted_faults(planted):
    s = audit_dataset(planted).summary()
    ex = s["exact_duplicates"]
    assert ex["all"] == {
        "images": 140,
        "distinct": 134,
        "files_in_groups": 11,
        "groups": 5,
        "redundant_copies": 6,
        "conflicting_groups": 2,
        "conflicting_files": 4,
    }
    train = ex["within_usage"]["Training"]
    assert (train["groups"], train["files_in_groups"], train["redundant_copies"]) == (2, 5, 3)
    assert (train["conflicting_groups"], train["conflicting_files"]) == (1, 2)
    assert ex["within_usage"]["PublicTest"]["files_in_groups"] == 0
    assert ex["across_usage"]["PublicTest"] == {"Training": 2, "PrivateTest": 1}
    assert ex["across_usage"]["PrivateTest"] == {"Training": 0, "PublicTest": 1}
    assert ex["across_usage"]["Training"] == {"PublicTest": 2, "PrivateTest": 0}
    assert ex["test_with_copy_in_training"] == {"PublicTest": 2, "PrivateTest": 0}
    assert s["near_blank"]["files"] == 3 and s["near_blank"]["by_usage"]["Training"] == 3
    assert s["near_duplicates"] is None
    assert s["class_balance"]["all"] == planted.class_counts()


def test_duplicate_and_blank_lists_name_exactly_the_planted_files(planted):
    a = audit_dataset(planted)
    dup = a.duplicate_rows()
    src = planted.sources
    assert {r["source"] for r in dup} == set(src[[0, 1, 2, 3, 4, 5, 112, 6, 113, 120, 126]])
    assert {r["source"] for r in dup if r["conflicting"]} == set(src[[3, 4, 6, 113]])
    assert {r["source"] for r in dup if r["across_usage"]} == set(src[[5, 112, 6, 113, 120, 126]])
    assert len({r["pixel_hash"] for r in dup}) == 5
    assert {r["source"] for r in a.blank_rows()} == set(src[[10, 11, 12]])


def test_near_duplicates_are_reported_apart_from_exact_copies(planted):
    a = audit_dataset(planted, near=True, hamming=2)  # drawn faces differ by >= 4 bits
    rows = a.near_rows()
    assert [(r["source_a"], r["source_b"]) for r in rows] == [(planted.sources[20], planted.sources[21])]
    assert a.summary()["near_duplicates"]["pairs"] == 1
    assert {r["source"] for r in a.duplicate_rows()}.isdisjoint({planted.sources[20], planted.sources[21]})


def test_leakage_mask_and_groups(planted):
    test, train = planted.with_usage("PublicTest"), planted.with_usage("Training")
    mask = leakage_mask(test, train)
    assert mask.dtype == bool and mask.shape == (len(test),)
    assert list(np.flatnonzero(mask)) == [0, 1]  # PublicTest images 112 and 113
    groups = duplicate_groups(planted)
    assert groups[0] == groups[1] == groups[2] and groups[3] == groups[4] and groups[5] == groups[112]
    assert len(np.unique(groups)) == 134
    assert list(pixel_groups(planted.images[[7, 0, 7, 8]])) == [0, 1, 0, 2]  # first-appearance order


def test_phash_is_stable_under_small_changes_and_separates_faces(synthetic_small):
    img = synthetic_small.images[:20]
    brighter = np.clip(img.astype(int) + 3, 0, 255).astype(np.uint8)
    h, hb = phash(img), phash(brighter)
    assert hamming_distance(h, hb).max() <= 2
    assert hamming_distance(h, phash(255 - img)).min() >= 32  # a negative flips most bits
    i, j, d = near_pairs(h, 3)
    assert len(i) == 0  # 20 different drawn faces: none within 3 bits
    i, j, d = near_pairs(np.concatenate([h, hb]), 2)
    assert set(zip(i.tolist(), j.tolist())) >= {(k, k + 20) for k in range(20)}


def test_audit_command_writes_json_and_csv(planted, tmp_path, capsys):
    src = tmp_path / "planted.csv"
    save_dataset(planted, src, Form.CSV)
    out = tmp_path / "audit"
    assert main(["data", "audit", str(src), "--out", str(out), "--hamming", "2"]) == 0
    printed = capsys.readouterr().out
    assert "PublicTest images with an exact copy in Training: 2" in printed
    assert "near-blank (pixel std < 5): 3 files" in printed
    doc = json.loads((out / "audit.json").read_text())
    assert doc["exact_duplicates"]["within_usage"]["Training"]["redundant_copies"] == 3
    assert doc["near_duplicates"]["pairs"] == 1
    rows = list(csv.DictReader(open(out / "duplicates.csv")))
    # CSV sources name the row: the header is line 1, image i is on line i + 2
    assert {r["source"] for r in rows if r["conflicting"] == "True"} == {f"{src}:{i + 2}" for i in (3, 4, 6, 113)}
    assert len(list(csv.DictReader(open(out / "near_blank.csv")))) == 3
    assert len(list(csv.DictReader(open(out / "near_duplicates.csv")))) == 1
    assert load_dataset(src).images.shape == (140, 48, 48)


def test_audit_command_refuses_to_overwrite(planted, tmp_path, capsys):
    src = tmp_path / "planted.csv"
    save_dataset(planted, src, Form.CSV)
    out = tmp_path / "audit"
    out.mkdir()
    assert main(["data", "audit", str(src), "--out", str(out)]) == 2
    assert "already exists" in capsys.readouterr().err
    assert main(["data", "audit", str(src), "--out", str(out), "--force"]) == 0
    assert (out / "audit.json").exists() and not (out / "near_duplicates.csv").exists()


def test_audit_of_a_form_without_usage_tags(planted, tmp_path, capsys):
    """The paper's flat CSV carries no usage split: everything is one 'unknown' scope, no cross-split counts."""
    src = tmp_path / "flat.csv"
    save_dataset(planted, src, Form.FLAT_CSV)
    out = tmp_path / "audit"
    assert main(["data", "audit", str(src), "--out", str(out)]) == 0
    doc = json.loads((out / "audit.json").read_text())
    assert list(doc["exact_duplicates"]["within_usage"]) == ["unknown"]
    assert doc["exact_duplicates"]["within_usage"]["unknown"]["redundant_copies"] == 6
    assert doc["exact_duplicates"]["across_usage"] == {} and doc["exact_duplicates"]["test_with_copy_in_training"] == {}
    assert "within unknown" in capsys.readouterr().out


def test_near_duplicate_groups_join_exact_and_near_copies(planted):
    from fer_edge.data.audit import near_duplicate_groups

    exact, near = duplicate_groups(planted), near_duplicate_groups(planted, hamming=2)
    assert near[20] == near[21] and exact[20] != exact[21]  # the planted near copy joins its original
    assert near[0] == near[1] == near[2] and near[5] == near[112]  # exact copies stay together
    same_exact = exact[:, None] == exact[None, :]
    assert np.all((near[:, None] == near[None, :])[same_exact])  # never splits an exact group
    assert len(np.unique(near)) == len(np.unique(exact)) - 1  # only the one near pair merges


def test_leakage_mask_near_counts_a_near_copy_exact_does_not(planted):
    test, train = planted.subset([20, 30]), planted.subset([21, 0])
    assert list(leakage_mask(test, train)) == [False, False]
    assert list(leakage_mask(test, train, near=True, hamming=2)) == [True, False]
