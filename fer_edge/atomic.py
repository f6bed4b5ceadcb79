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


def _remove(path: Path) -> None:
    shutil.rmtree(path, ignore_errors=True) if path.is_dir() else path.unlink(missing_ok=True)


class PendingPath:
    """A temporary sibling of ``dst`` to write into; ``commit`` puts it in place, ``abort`` removes it.

    For writers that outlive one block (a video open across frames); ``atomic_path`` wraps it for the
    rest. ``keep_suffix`` ends the temporary name with ``dst``'s extension (``.clip.x1y2.partial.mp4``),
    for writers that choose the format from it (OpenCV's video and image encoders).
    """

    def __init__(self, dst: Path, force: bool = False, directory: bool = False, keep_suffix: bool = False) -> None:
        self.dst = Path(dst)
        check_destination(self.dst, force)
        self.dst.parent.mkdir(parents=True, exist_ok=True)
        prefix = f".{self.dst.stem if keep_suffix else self.dst.name}."
        suffix = f".partial{self.dst.suffix}" if keep_suffix else ".tmp"
        if directory:
            self.tmp = Path(tempfile.mkdtemp(prefix=prefix, suffix=suffix, dir=self.dst.parent))
        else:
            fd, name = tempfile.mkstemp(prefix=prefix, suffix=suffix, dir=self.dst.parent)
            os.close(fd)
            self.tmp = Path(name)
        # mkstemp/mkdtemp make private (0600/0700) entries; the output gets the usual umask permissions
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(self.tmp, (0o777 if directory else 0o666) & ~umask)

    def commit(self) -> Path:
        """Replace ``dst`` by the finished output; the existing ``dst`` is only removed after that."""
        dst = self.dst
        if self.tmp.is_file() and not dst.is_dir():  # one rename: readers see the old file or the new
            os.replace(self.tmp, dst)
        elif dst.exists() or dst.is_symlink():
            old = dst.with_name(f".{dst.name}.old")
            _remove(old)
            dst.rename(old)
            self.tmp.rename(dst)
            _remove(old)
        else:
            self.tmp.rename(dst)
        return dst

    def abort(self) -> None:
        _remove(self.tmp)


@contextlib.contextmanager
def atomic_path(dst: Path, force: bool = False, directory: bool = False, keep_suffix: bool = False) -> Iterator[Path]:
    """Yield a temporary sibling of ``dst``; on success it replaces ``dst``, on failure it is removed.

    The existing ``dst`` (with ``force``) is only removed after the new output is complete.
    """
    pending = PendingPath(dst, force=force, directory=directory, keep_suffix=keep_suffix)
    try:
        yield pending.tmp
    except BaseException:
        pending.abort()
        raise
    pending.commit()


def write_text(dst: Path, text: str, force: bool = True) -> Path:
    """Atomically write a small text file (reports, JSON); replaces by default."""
    with atomic_path(Path(dst), force=force) as tmp:
        tmp.write_text(text)
    return Path(dst)


def write_bytes(dst: Path, data: bytes, force: bool = True) -> Path:
    """Atomically write a file's bytes; replaces by default."""
    with atomic_path(Path(dst), force=force) as tmp:
        tmp.write_bytes(data)
    return Path(dst)
