"""The machine a training run records: the CPU's SIMD flags decide whether a seed reproduces elsewhere."""

from __future__ import annotations

from pathlib import Path

from fer_edge.training.run import cpu_description

CPUINFO = """processor\t: 0
vendor_id\t: GenuineIntel
model name\t: Intel(R) Xeon(R) Processor
flags\t\t: fpu sse2 ssse3 sse4_1 sse4_2 avx avx2 fma avx512f avx512_vnni amx_tile ht

processor\t: 1
model name\t: Intel(R) Xeon(R) Processor
flags\t\t: fpu sse2 ssse3 sse4_1 sse4_2 avx avx2 fma avx512f avx512_vnni amx_tile ht
"""


def test_cpu_description_keeps_model_name_and_simd_flags_only(tmp_path: Path) -> None:
    info = tmp_path / "cpuinfo"
    info.write_text(CPUINFO)
    cpu = cpu_description(info)
    assert cpu == {
        "model_name": "Intel(R) Xeon(R) Processor",
        "simd_flags": ["amx_tile", "avx", "avx2", "avx512_vnni", "avx512f", "fma", "sse4_1", "sse4_2"],
    }


def test_cpu_description_is_none_without_cpuinfo(tmp_path: Path) -> None:
    assert cpu_description(tmp_path / "missing") is None
