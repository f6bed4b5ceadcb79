"""fer_edge.cpu: the CPU's name and SIMD flags that timings and a seed's exact training result depend on."""

from __future__ import annotations

from pathlib import Path

from fer_edge.cpu import cpu_description, cpu_name, simd_flags, simd_summary

X86 = """processor\t: 0
vendor_id\t: GenuineIntel
model name\t: Intel(R) Xeon(R) Processor
flags\t\t: fpu sse2 ssse3 sse4_1 sse4_2 avx avx2 fma avx512f avx512_vnni amx_tile ht

processor\t: 1
model name\t: Intel(R) Xeon(R) Processor
flags\t\t: fpu sse2 ssse3 sse4_1 sse4_2 avx avx2 fma avx512f avx512_vnni amx_tile ht
"""

PI4 = """processor\t: 0
BogoMIPS\t: 108.00
Features\t: fp asimd evtstrm crc32 cpuid
CPU part\t: 0xd08

processor\t: 1
Features\t: fp asimd evtstrm crc32 cpuid
CPU part\t: 0xd08
"""


def test_x86_name_and_simd_flags() -> None:
    assert cpu_name(X86) == "Intel(R) Xeon(R) Processor"
    flags = simd_flags(X86)
    assert flags == ["amx_tile", "avx", "avx2", "avx512_vnni", "avx512f", "fma", "sse4_1", "sse4_2"]
    assert simd_summary(flags) == "avx2 avx512f avx512_vnni amx_tile"


def test_raspberry_pi_core_and_features() -> None:
    assert cpu_name(PI4) == "Cortex-A72"
    assert simd_flags(PI4) == ["asimd"]
    assert simd_summary(simd_flags(PI4)) == "asimd"
    assert simd_summary([]) == "none known"


def test_description_for_run_records(tmp_path: Path) -> None:
    info = tmp_path / "cpuinfo"
    info.write_text(X86)
    assert cpu_description(info) == {"model_name": "Intel(R) Xeon(R) Processor", "simd_flags": simd_flags(X86)}
    assert cpu_description(tmp_path / "missing") is None
