"""Occlusion sensitivity, region ranking and example grids, with classifiers whose answer is known."""

from __future__ import annotations

import numpy as np
import pytest

from fer_edge.runtime.explain import (
    distinct_regions,
    example_grid,
    explanation_panel,
    heat_overlay,
    occlude,
    occlusion_positions,
    part_of,
    pick_examples,
)

LABELS = ("angry", "disgust", "fear", "happy", "sad", "surprise", "neutral")


class MouthReader:
    """P(happy) rises with the brightness of the 'mouth' square (rows 32-43, columns 18-29); the
    rest of the face does not matter. Counts its calls to check that occlusion batches."""

    labels = LABELS

    def __init__(self) -> None:
        self.calls = 0

    def classify_batch(self, faces: np.ndarray) -> np.ndarray:
        self.calls += 1
        m = faces[:, 32:44, 18:30].astype(np.float64).mean(axis=(1, 2)) / 255.0
        p = np.full((len(faces), 7), 0.0)
        p[:, 3] = 0.1 + 0.8 * m
        p[:, 6] = 1.0 - p[:, 3]
        return p.astype(np.float32)


def face_with_bright_mouth() -> np.ndarray:
    face = np.full((48, 48), 60, np.uint8)
    face[32:44, 18:30] = 255
    return face


def test_positions_cover_the_face_to_its_edge():
    assert occlusion_positions(48, 12, 4) == list(range(0, 37, 4))
    assert occlusion_positions(48, 12, 5)[-1] == 36
    with pytest.raises(ValueError):
        occlusion_positions(48, 0, 4)


def test_occlusion_finds_the_region_the_prediction_depends_on_in_one_batch():
    clf = MouthReader()
    occ = occlude(clf, face_with_bright_mouth(), patch=12, stride=2)
    assert clf.calls == 1
    assert LABELS[occ.target] == "happy"
    best = occ.regions[0]
    assert (best.x, best.y) == (18, 32) and best.part == "lower centre"
    assert best.drop == pytest.approx(0.8 * (255 - 128) / 255, abs=0.01)
    # the heat peaks inside the mouth square and is zero where no covering square touched the mouth
    y, x = np.unravel_index(np.argmax(occ.heat), occ.heat.shape)
    assert 32 <= y < 44 and 18 <= x < 30
    assert occ.heat[5, 5] == pytest.approx(0.0, abs=1e-6)
    assert [r.drop for r in occ.regions] == sorted((r.drop for r in occ.regions), reverse=True)


def test_occlusion_of_another_class_and_distinct_regions():
    occ = occlude(MouthReader(), face_with_bright_mouth(), patch=12, stride=4, target=6)
    assert occ.target == 6 and occ.regions[-1].drop < 0  # covering the mouth raises P(neutral)
    assert occ.regions[-1].part == "lower centre"
    top = distinct_regions(occlude(MouthReader(), face_with_bright_mouth()).regions, k=3, max_overlap=0.25)
    assert len(top) == 3
    for i, a in enumerate(top):
        for b in top[i + 1 :]:
            ix = max(0, min(a.x + 12, b.x + 12) - max(a.x, b.x))
            iy = max(0, min(a.y + 12, b.y + 12) - max(a.y, b.y))
            assert ix * iy <= 0.25 * 144


def test_region_frame_box_maps_face_pixels_to_the_frame():
    r = occlude(MouthReader(), face_with_bright_mouth()).regions[0]
    d = r.as_dict(scale=2.0, origin=(100.0, 50.0))
    assert d["frame_box"] == [100 + 2 * r.x, 50 + 2 * r.y, 100 + 2 * (r.x + 12), 50 + 2 * (r.y + 12)]
    assert "frame_box" not in r.as_dict()


def test_parts_of_the_face():
    assert part_of(24, 5, 48, 48) == "upper centre"
    assert part_of(2, 47, 48, 48) == "lower left"
    assert part_of(47, 24, 48, 48) == "middle right"


def test_overlay_and_panel_are_colour_images_of_the_asked_size():
    occ = occlude(MouthReader(), face_with_bright_mouth())
    over = heat_overlay(face_with_bright_mouth(), occ.heat, 96)
    assert over.shape == (96, 96, 3) and over.dtype == np.uint8
    assert over[72, 48].tolist() != over[10, 10].tolist()  # the hot mouth is coloured, the cold corner not
    panel = explanation_panel(face_with_bright_mouth(), occ.heat, LABELS, occ.probs, occ.target, occ.regions[:2])
    assert panel.shape[1] == 2 * 192 and panel.shape[0] > 192


def test_grid_picks_right_and_wrong_examples_per_class():
    rng = np.random.default_rng(0)
    labels = np.repeat(np.arange(7), 10)
    probs = rng.dirichlet(np.ones(7), size=70).astype(np.float32)
    probs[::2] = np.eye(7)[labels[::2]] * 0.9 + 0.1 / 7  # half right
    pick = pick_examples(probs, labels, per_class=3, seed=1)
    pred = probs.argmax(1)
    for c in range(7):
        assert len(pick.correct[c]) == 3 and all(pred[i] == c == labels[i] for i in pick.correct[c])
        assert all(labels[i] == c and pred[i] != c for i in pick.wrong[c])
        confs = probs[pick.wrong[c]].max(1)
        assert list(confs) == sorted(confs, reverse=True)
    images = rng.integers(0, 256, (70, 48, 48), dtype=np.uint8)
    grid = example_grid(images, probs, labels, LABELS, per_class=3, cell=40)
    assert grid.ndim == 3 and grid.shape[1] > 6 * 40 and grid.shape[0] > 7 * 40
