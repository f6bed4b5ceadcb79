"""Write outputs under a temporary name and rename, so a killed run never leaves half a file."""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

from fer_edge.errors import FerEdgeError


def check_destination(dst: Path, force: bool) -> None:
    """Refuse to replace an existing output unless ``force``."""
    if dst.exists() and not force:
        raise FerEdgeError(f"{dst} already exists: choose another output or pass --force to replace it")


@contextlib.contextmanager
def atomic_path(dst: Path, force: bool = False, directory: bool = False) -> Iterator[Path]:
    """Yield a temporary sibling of ``dst``; on success it replaces ``dst``, on failure it is removed.

    The existing ``dst`` (with ``force``) is only removed after the new output is complete.
    """
    dst = Path(dst)
    check_destination(dst, force)
    dst.parent.mkdir(parents=True, exist_ok=True)
    if directory:
        tmp = Path(tempfile.mkdtemp(prefix=f".{dst.name}.", suffix=".tmp", dir=dst.parent))
    else:
        fd, name = tempfile.mkstemp(prefix=f".{dst.name}.", suffix=".tmp", dir=dst.parent)
        os.close(fd)
        tmp = Path(name)
    try:
        yield tmp
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True) if tmp.is_dir() else tmp.unlink(missing_ok=True)
        raise
    if dst.exists() or dst.is_symlink():
        old = dst.with_name(f".{dst.name}.old")
        shutil.rmtree(old, ignore_errors=True) if old.is_dir() else old.unlink(missing_ok=True)
        dst.rename(old)
        tmp.rename(dst)
        shutil.rmtree(old, ignore_errors=True) if old.is_dir() else old.unlink(missing_ok=True)
    else:
        tmp.rename(dst)


def write_text(dst: Path, text: str, force: bool = True) -> Path:
    """Atomically write a small text file (reports, JSON); replaces by default."""
    with atomic_path(Path(dst), force=force) as tmp:
        tmp.write_text(text)
    return Path(dst)
