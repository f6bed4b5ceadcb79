"""The edge recipe's provenance: the commands that rebuild a model from the runs it started from or learned from."""

from __future__ import annotations

import json
from pathlib import Path


def _run(tmp_path: Path, name: str, record: dict) -> str:
    run = tmp_path / name
    run.mkdir()
    (run / "fit.json").write_text(json.dumps(record))
    return str(run / "model.keras")


def test_upstream_commands_follow_init_and_teachers_once_each_in_order(tmp_path):
    from train.edge_model import upstream_commands

    first = _run(tmp_path, "first", {"architecture": "edge-cnn", "config": {"epochs": 40}, "data": {}})
    restart = _run(
        tmp_path,
        "restart",
        {
            "architecture": "edge-cnn",
            "command": "python -m train.edge_model train --run restart",
            "data": {"initialised_from": first},
        },
    )
    wide = _run(
        tmp_path,
        "wide",
        {
            "architecture": "edge-cnn-wide",
            "command": "python -m train.edge_model train --run wide --arch edge-cnn-wide",
            "data": {},
        },
    )
    student = {"data": {"initialised_from": None, "teachers": [restart, wide, restart]}}
    commands = upstream_commands(student, Path("/data/fer2013"))
    assert commands == [
        # no command recorded: rebuilt from the record, architecture and epochs included
        f"python -m train.edge_model train --data /data/fer2013 --run {tmp_path / 'first'} --arch edge-cnn --epochs 40",
        # recorded before --arch existed: the architecture it trained is appended
        "python -m train.edge_model train --run restart --arch edge-cnn",
        "python -m train.edge_model train --run wide --arch edge-cnn-wide",
    ]


def test_upstream_commands_of_a_run_from_random_weights_is_empty(tmp_path):
    from train.edge_model import upstream_commands

    assert upstream_commands({"data": {"training_used": 10}}, tmp_path) == []
    assert upstream_commands({}, tmp_path) == []


def test_a_tflite_teacher_gives_its_image_and_mirror_mean_through_the_runtime(tmp_path):
    import numpy as np

    from fer_edge.testing.generate import make_models
    from train.edge_model import int8_probs, teacher_probabilities

    # not the shipped model: it averages face and mirror inside its graph, so its mirror changes nothing
    ASSET = make_models(tmp_path, only=("cnn-int8",))["cnn-int8"]  # noqa: N806

    images = np.random.default_rng(0).integers(0, 256, (6, 48, 48), dtype=np.uint8)
    images[0] = np.arange(48, dtype=np.uint8)[None, :] * 5  # a ramp: its mirror is a different image
    soft = teacher_probabilities((ASSET, ASSET), images)
    expected = (int8_probs(ASSET, images) + int8_probs(ASSET, images[:, :, ::-1])) / 2
    assert soft.shape == (6, 7) and soft.dtype == np.float32
    np.testing.assert_allclose(soft, expected, atol=1e-6)
    np.testing.assert_allclose(soft.sum(1), 1.0, atol=0.02)  # int8 outputs: steps of 1/256
    assert not np.allclose(int8_probs(ASSET, images[:1]), soft[:1], atol=1e-4)  # the mirror counted


def test_shipped_tflite_teachers_are_rebuilt_by_one_teachers_command(tmp_path):
    from train.edge_model import upstream_commands

    student = {
        "data": {"teachers": ["runs/teachers/edge2_int8.tflite", "runs/teachers/edge3_int8.tflite", "other.tflite"]}
    }
    # the shipped ones come from git history, once; an unknown .tflite has no recorded origin
    assert upstream_commands(student, tmp_path) == ["python -m train.edge_model teachers --out runs/teachers"]
