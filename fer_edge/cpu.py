"""What CPU this is, from ``/proc/cpuinfo``: its name and the SIMD extensions kernels are chosen by.

Timings and even training results depend on them: TFLite's XNNPACK and TensorFlow's oneDNN pick
kernels by these flags, so int8's speed-up over float32 and a CNN-LSTM seed's exact result change
between CPUs. Records that hold a timing or a trained model name both. No TensorFlow, no OpenCV.
"""

from __future__ import annotations

import platform
import re
from pathlib import Path
from typing import Any

CPUINFO = Path("/proc/cpuinfo")
#: ARM "CPU part" codes of the boards fer-edge targets.
ARM_PARTS = {"0xd03": "Cortex-A53", "0xd04": "Cortex-A35", "0xd08": "Cortex-A72", "0xd0b": "Cortex-A76"}
#: Flag prefixes of SIMD extensions (x86 ``flags``, ARM ``Features``).
SIMD_PREFIXES = ("sse4", "avx", "fma", "amx", "f16c", "neon", "asimd", "sve", "i8mm", "bf16")
#: The extensions a one-line summary names, when present.
HEADLINE = ("avx2", "avx512f", "avx512_vnni", "amx_tile", "neon", "asimd", "asimddp", "sve")


def cpu_name(cpuinfo: str) -> str:
    """``model name`` (x86), else the ARM core names from ``CPU part``, else what ``platform`` knows."""
    m = re.search(r"^model name\s*:\s*(.+)$", cpuinfo, re.M)
    if m:
        return m.group(1).strip()
    parts = sorted(set(re.findall(r"^CPU part\s*:\s*(\S+)$", cpuinfo, re.M)))
    if parts:
        return ", ".join(ARM_PARTS.get(p, f"ARM part {p}") for p in parts)
    return platform.processor() or platform.machine()


def simd_flags(cpuinfo: str) -> list[str]:
    """The SIMD flags of the first processor listed, sorted."""
    m = re.search(r"^(?:flags|Features)\s*:\s*(.*)$", cpuinfo, re.M)
    return sorted(f for f in (m.group(1).split() if m else []) if f.startswith(SIMD_PREFIXES))


def simd_summary(flags: list[str]) -> str:
    """E.g. ``avx2 avx512f avx512_vnni amx_tile``; ``none known`` when no headline extension is present."""
    return " ".join(f for f in HEADLINE if f in flags) or "none known"


def read_cpuinfo(path: Path = CPUINFO) -> str | None:
    try:
        return path.read_text(errors="replace")
    except OSError:
        return None


def cpu_description(path: Path = CPUINFO) -> dict[str, Any] | None:
    """Name and SIMD flags (for run records), None where ``/proc/cpuinfo`` is not readable."""
    text = read_cpuinfo(path)
    if text is None:
        return None
    return {"model_name": cpu_name(text), "simd_flags": simd_flags(text)}
