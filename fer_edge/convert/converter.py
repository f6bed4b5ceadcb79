"""``convert_model``: a .keras file to verified .tflite files, one per precision, each with its card."""

from __future__ import annotations

import logging
import shutil
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from fer_edge.atomic import atomic_path, check_destination, write_text
from fer_edge.convert import child
from fer_edge.convert.calibration import DEFAULT_SAMPLES, calibration_images, verification_images
from fer_edge.convert.job import ConvertJob, ConvertResult
from fer_edge.convert.keras_file import KerasInfo, inspect_keras
from fer_edge.convert.verify import op_counts, verify_tflite
from fer_edge.data.dataset import FerDataset
from fer_edge.errors import FerEdgeError
from fer_edge.labels import EMOTIONS
from fer_edge.model_card import ModelCard
from fer_edge.runtime.model_file import PRECISIONS

INT8_IO = ("int8", "uint8")
DENSE_QUANTIZATION = ("auto", "per-channel", "per-tensor")
log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ConvertedModel:
    path: Path
    precision: str
    size_bytes: int
    seconds: float
    op_types: dict[str, int]  # op name -> count, in graph order
    verification: dict[str, Any]
    card: ModelCard = field(repr=False)

    @property
    def passed(self) -> bool:
        return bool(self.verification.get("passed"))


class VerificationError(FerEdgeError):
    """Some produced file failed verification; nothing was written. ``results`` holds every file's checks.

    Exit code 1: the input was a valid model, the run itself failed (the error contract of ``fer-edge --help``).
    """

    exit_code = 1

    def __init__(self, message: str, results: list[ConvertedModel]) -> None:
        super().__init__(message)
        self.results = results


def output_name(stem: str, precision: str, int8_io: str) -> str:
    suffix = precision if precision != "int8" or int8_io == "int8" else "int8_uint8io"
    return f"{stem}_{suffix}.tflite"


def _check_request(precisions: Sequence[str], int8_io: str) -> list[str]:
    wanted = list(dict.fromkeys(precisions)) or ["float32"]
    unknown = [p for p in wanted if p not in PRECISIONS]
    if unknown:
        raise FerEdgeError(f"unknown precision {unknown[0]!r}; choose from {', '.join(PRECISIONS)}")
    if int8_io not in INT8_IO:
        raise FerEdgeError(f"--int8-io {int8_io!r}: choose int8 or uint8")
    return [p for p in PRECISIONS if p in wanted]  # a fixed order: float32 first, for the size ratio


def _card_for(info: KerasInfo, precision: str, int8_io: str, result: ConvertResult, extra: dict[str, Any]) -> ModelCard:
    source = info.card
    io = int8_io if precision == "int8" else "float32"
    step = result.precisions[precision]
    notes = dict(source.notes) if source else {}
    details = ", ".join(f"{k} {v}" for k, v in step.details.items())
    notes["conversion"] = (
        f"fer-edge convert {precision} from {info.path.name} (sha256 {info.sha256[:12]}): {result.route}"
        + (f"; {details}" if details else "")
    )
    notes["source_model"] = str(info.path.resolve())
    notes["source_sha256"] = info.sha256
    if precision == "int8":
        notes["calibration"] = extra["calibration"]
    return ModelCard(
        architecture=result.architecture or info.architecture_hint,
        input_shape=list(info.input_shape),
        labels=list(source.labels) if source else list(EMOTIONS),
        normalization="inside the model: feed raw pixels 0-255",
        precision=precision,
        input_dtype=io,
        output_dtype=io,
        training=dict(source.training) if source else {},
        metrics=dict(source.metrics) if source else {},
        notes=notes,
    )


def convert_model(
    model_path: Path,
    out_dir: Path | None = None,
    precisions: Sequence[str] = ("float32",),
    *,
    calibration: np.ndarray | FerDataset | Path | str | None = None,
    samples: int = DEFAULT_SAMPLES,
    int8_io: str = "int8",
    force: bool = False,
    seed: int = 0,
    timeout: float | None = None,
    keep_names: bool = False,
    dense_quantization: str = "auto",
) -> list[ConvertedModel]:
    """Convert ``model_path`` to each precision, verify every file, then write them all.

    Outputs are ``OUT/<stem>_<precision>.tflite`` plus a model card ``.json`` beside each; they are
    written only when every file passed verification (``VerificationError`` otherwise), and an
    existing output is replaced only with ``force``. The TensorFlow converter runs in a child
    process: a crash there is a ``FerEdgeError`` naming the precision, never a dead caller.

    Tensor names are stripped unless ``keep_names``. ``dense_quantization`` (int8 and dynamic):
    ``auto`` quantizes Dense/LSTM kernels per tensor in recurrent models and per channel otherwise.
    """
    wanted = _check_request(precisions, int8_io)
    if dense_quantization not in DENSE_QUANTIZATION:
        raise FerEdgeError(f"--dense-quantization {dense_quantization!r}: choose {', '.join(DENSE_QUANTIZATION)}")
    info = inspect_keras(Path(model_path))
    if dense_quantization == "auto":
        dense_quantization = "per-tensor" if info.recurrent else "per-channel"
    out_dir = Path(out_dir) if out_dir is not None else info.path.parent
    stem = info.path.stem
    targets = {p: out_dir / output_name(stem, p, int8_io) for p in wanted}
    for path in targets.values():
        check_destination(path, force)
        check_destination(ModelCard.path_for(path), force)

    calib, calib_source = None, ""
    if "int8" in wanted or calibration is not None:
        calib, calib_source = calibration_images(calibration, info.channels, samples, seed, info.card)
    verify, verify_source = verification_images(calib, info.channels, seed)

    with tempfile.TemporaryDirectory(prefix="fer-edge-convert-") as tmp:
        work = Path(tmp)
        job = ConvertJob(
            model_path=str(info.path.resolve()),
            architecture_hint=info.architecture_hint,
            recurrent=info.recurrent,
            channels=info.channels,
            input_shape=tuple(info.input_shape),
            precisions=tuple(wanted),
            int8_io=int8_io,
            strip_names=not keep_names,
            dense_quantization=dense_quantization,
            verify="verify.npy",
            calibration="calibration.npy" if calib is not None else None,
        )
        np.save(work / "verify.npy", verify)
        if calib is not None:
            np.save(work / "calibration.npy", calib)
        write_text(work / "job.json", job.to_json())
        start = time.perf_counter()
        child.run_child(work, info.path.name, timeout=timeout)
        result = ConvertResult.read(work / "result.json")
        reference = np.load(work / "reference.npy")
        log.info("converted %s in %.1f s", info.path.name, time.perf_counter() - start)

        produced = []
        for precision in wanted:
            tmp_file = work / f"{precision}.tflite"
            card = _card_for(info, precision, int8_io, result, {"calibration": calib_source})
            check, ops = verify_tflite(tmp_file, card, verify, reference, verify_source)
            card.metrics = {**card.metrics, "verification": check}
            produced.append(
                ConvertedModel(
                    path=targets[precision],
                    precision=precision,
                    size_bytes=tmp_file.stat().st_size,
                    seconds=float(result.precisions[precision].seconds),
                    op_types=op_counts(ops),
                    verification=check,
                    card=card,
                )
            )
        failed = [c for c in produced if not c.passed]
        if failed:
            detail = "; ".join(f"{c.precision}: {', '.join(c.verification['failures'])}" for c in failed)
            raise VerificationError(f"{info.path.name}: verification failed, no file written ({detail})", produced)
        for item in produced:
            with atomic_path(item.path, force=force) as dst:
                shutil.copyfile(work / f"{item.precision}.tflite", dst)
            item.card.save(item.path)
    return produced
