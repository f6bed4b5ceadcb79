"""Keep TensorFlow's native start-up lines off a CLI user's terminal.

TensorFlow 2.21 logs through absl before ``absl::InitializeLog()`` is called, so
``TF_CPP_MIN_LOG_LEVEL`` no longer silences its import-time lines ("oneDNN custom operations
are on", "Could not find cuda drivers", "All log messages before absl::InitializeLog()..."; a
known TensorFlow issue, tensorflow/tensorflow#100442). And on a machine without an NVIDIA driver,
its first op logs an *error* line, "failed call to cuInit", which reads like a failure.

``install()`` does two things, both only when the user has not asked for TensorFlow's logs
(``TF_CPP_MIN_LOG_LEVEL`` unset or >= 2):

- with no NVIDIA driver present, it sets ``CUDA_VISIBLE_DEVICES=-1`` so TensorFlow skips the
  CUDA probe (a machine with a GPU is left alone, and its GPU is used);
- it imports ``tensorflow``, the first time anything asks for it, with the process's stderr
  (file descriptor 2) captured, then writes back every captured line except the known noise.
  Real errors and warnings raised during the import still reach the terminal.
"""

from __future__ import annotations

import importlib.abc
import importlib.machinery
import os
import re
import sys
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from types import ModuleType

#: Native lines TensorFlow prints on every import or first op, harmless on a CPU machine.
NOISE = re.compile(
    r"All log messages before absl::InitializeLog\(\) is called"
    r"|oneDNN custom operations are on"
    r"|cudart_stub\.cc.*Could not find cuda drivers"
    r"|failed call to cuInit"
    r"|This TensorFlow binary is optimized to use available CPU instructions"
    r"|To enable the following instructions: .* rebuild TensorFlow"
)


def has_nvidia_driver() -> bool:
    return Path("/proc/driver/nvidia").exists() or any(Path("/dev").glob("nvidia[0-9]*"))


def wanted() -> bool:
    """Whether the user left TensorFlow's logs at fer-edge's quiet default."""
    try:
        return int(os.environ.get("TF_CPP_MIN_LOG_LEVEL", "3")) >= 2
    except ValueError:
        return True


@contextmanager
def filtered_stderr(noise: re.Pattern[str] = NOISE) -> Iterator[None]:
    """Capture fd 2 (native code writes there too), then replay the lines that are not noise."""
    sys.stderr.flush()
    saved = os.dup(2)
    with tempfile.TemporaryFile() as captured:
        os.dup2(captured.fileno(), 2)
        try:
            yield
        finally:
            sys.stderr.flush()
            os.dup2(saved, 2)
            os.close(saved)
            captured.seek(0)
            kept = [ln for ln in captured.read().decode(errors="replace").splitlines() if not noise.search(ln)]
            if kept:
                sys.stderr.write("\n".join(kept) + "\n")
                sys.stderr.flush()


class _QuietLoader(importlib.abc.Loader):
    def __init__(self, loader: importlib.abc.Loader) -> None:
        self._loader = loader

    def __getattr__(self, name: str) -> object:  # resource readers and the like: the real loader's
        return getattr(self._loader, name)

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> ModuleType | None:
        return self._loader.create_module(spec)

    def exec_module(self, module: ModuleType) -> None:
        sys.meta_path[:] = [f for f in sys.meta_path if not isinstance(f, _QuietTensorflowFinder)]
        with filtered_stderr():
            self._loader.exec_module(module)


class _QuietTensorflowFinder(importlib.abc.MetaPathFinder):
    """Wraps the one import of the top-level ``tensorflow`` package, then steps aside (when it runs:
    a mere ``importlib.util.find_spec("tensorflow")``, as ``fer-edge --help`` does, keeps it in place)."""

    def find_spec(
        self, name: str, path: Sequence[str] | None, target: ModuleType | None = None
    ) -> importlib.machinery.ModuleSpec | None:
        if name != "tensorflow":
            return None
        spec = importlib.machinery.PathFinder.find_spec(name, path)
        if spec is not None and spec.loader is not None:
            spec.loader = _QuietLoader(spec.loader)
        return spec


def install() -> None:
    """Quiet TensorFlow's start-up for this process (a no-op once TensorFlow is imported)."""
    if not wanted() or "tensorflow" in sys.modules:
        return
    if not has_nvidia_driver():
        os.environ.setdefault("CUDA_VISIBLE_DEVICES", "-1")
    if not any(isinstance(f, _QuietTensorflowFinder) for f in sys.meta_path):
        sys.meta_path.insert(0, _QuietTensorflowFinder())
