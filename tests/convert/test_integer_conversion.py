"""int8 quantizer choice: the MLIR quantizer is retried before the legacy one (it is not deterministic on LSTMs)."""

from __future__ import annotations

from collections.abc import Iterator

from fer_edge.convert.targets import integer_conversion

FLOATY = b"mlir-with-float-split"


class Converter:
    """Stands in for TFLiteConverter.convert: MLIR results in the given order, then the legacy result."""

    def __init__(self, mlir: list[bytes], legacy: bytes = b"legacy") -> None:
        self.mlir: Iterator[bytes] = iter(mlir)
        self.legacy = legacy
        self.calls: list[str] = []

    def __call__(self, new_quantizer: bool) -> bytes:
        self.calls.append("mlir" if new_quantizer else "legacy")
        return next(self.mlir) if new_quantizer else self.legacy


def float_ops(content: bytes) -> list[str]:
    return ["SPLIT", "DEQUANTIZE"] if content in (FLOATY, b"legacy-floaty") else []


def test_an_all_integer_first_run_is_kept_after_one_conversion() -> None:
    conv = Converter([b"clean"])
    assert integer_conversion(conv, float_ops) == (b"clean", "mlir")
    assert conv.calls == ["mlir"]


def test_a_float_result_is_retried_with_mlir_before_legacy() -> None:
    conv = Converter([FLOATY, b"clean"])
    content, quantizer = integer_conversion(conv, float_ops, attempts=3)
    assert content == b"clean" and conv.calls == ["mlir", "mlir"]
    assert quantizer == "mlir (run 2 of 3; the earlier left float DEQUANTIZE, SPLIT)"


def test_legacy_after_every_mlir_run_left_floats() -> None:
    conv = Converter([FLOATY] * 3)
    content, quantizer = integer_conversion(conv, float_ops, attempts=3)
    assert content == b"legacy" and conv.calls == ["mlir", "mlir", "mlir", "legacy"]
    assert quantizer == "legacy (the MLIR quantizer left float DEQUANTIZE, SPLIT in 3 runs)"


def test_no_integer_result_returns_the_first_mlir_one_for_the_check_to_reject() -> None:
    conv = Converter([FLOATY, FLOATY], legacy=b"legacy-floaty")
    assert integer_conversion(conv, float_ops, attempts=2) == (FLOATY, "mlir")
