"""Write outputs under a temporary name and rename, so a killed run never leaves half a file.

Temporary names carry the writer's pid (``.<name>.<pid>.<random>.tmp``), so a later run can tell
a leftover of a killed process (pid gone) from the work of a live one and remove it. Finished
outputs get the modes the umask gives (``mkstemp``/``mkdtemp`` create 0600/0700), and an
``OSError`` on an output becomes one ``FerEdgeError`` line naming the path and the fix.
"""

from __future__ import annotations

import contextlib
import errno
import os
import re
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

from fer_edge.errors import OS_ERROR_FIXES, FerEdgeError, output_error

#: ``.<name>.<pid>.<tag>.tmp`` (atomic_path) or ``.<name>.<pid>.partial<.ext>`` (videos keep their extension).
_TEMP_NAME = re.compile(r"^\..+\.(?P<pid>\d+)\.(?:[A-Za-z0-9_]+\.tmp|(?:[A-Za-z0-9_]+\.)?partial(?:\.[A-Za-z0-9]+)?)$")


def check_destination(dst: Path, force: bool) -> None:
    """Refuse to replace an existing output unless ``force``, and one that cannot be written at all
    (called before any work, so a long run never ends on an unwritable output)."""
    dst = Path(dst)
    _check_name_length(dst)
    if dst.exists() and not force:
        raise FerEdgeError(f"{dst} already exists: choose another output or pass --force to replace it")
    check_writable(dst)


#: Longest file-name component most file systems take (ext4, btrfs, xfs, tmpfs: 255 bytes).
NAME_MAX = 255


def _check_name_length(dst: Path) -> None:
    for part in dst.parts:
        if len(os.fsencode(part)) > NAME_MAX:
            raise FerEdgeError(f"{dst}: {OS_ERROR_FIXES[errno.ENAMETOOLONG]}")


def check_writable(dst: Path) -> None:
    """Raise a one-line ``FerEdgeError`` when ``dst`` could not be created: a name too long, a file
    where a folder is needed, or a nearest existing folder that refuses a new file (permission,
    read-only file system). The last is probed by creating and removing a hidden file there."""
    dst = Path(dst)
    _check_name_length(dst)
    folder = dst.parent
    while not (folder.exists() or folder.is_symlink()) and folder != folder.parent:
        folder = folder.parent
    if not folder.is_dir():
        raise FerEdgeError(f"{dst}: {folder} is a file, not a folder; choose another output path")
    probe = temp_name(folder / "fer-edge", "probe")
    try:
        fd = os.open(probe, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return
    except OSError as e:
        raise FerEdgeError(
            f"{dst}: cannot write in {folder}: {OS_ERROR_FIXES.get(e.errno or -1, e.strerror)}"
        ) from None
    os.close(fd)
    with contextlib.suppress(OSError):
        os.unlink(probe)


def pid_alive(pid: int) -> bool:
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OverflowError):
        return True
    return True


def temp_name(dst: Path, tag: str = "partial", keep_suffix: bool = False) -> Path:
    """A hidden sibling of ``dst`` owned by this process; ``keep_suffix`` keeps the extension last
    (video writers pick the container from it)."""
    dst = Path(dst)
    if keep_suffix:
        return dst.with_name(f".{dst.stem}.{os.getpid()}.{tag}{dst.suffix}")
    return dst.with_name(f".{dst.name}.{os.getpid()}.{tag}.tmp")


def _remove(p: Path) -> None:
    if p.is_dir() and not p.is_symlink():
        shutil.rmtree(p, ignore_errors=True)
    else:
        with contextlib.suppress(OSError):
            p.unlink()


def remove_stale(folder: Path) -> list[Path]:
    """Remove temporary outputs in ``folder`` left by processes that no longer run."""
    removed: list[Path] = []
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return removed
    for entry in entries:
        m = _TEMP_NAME.match(entry.name)
        if m and int(m["pid"]) != os.getpid() and not pid_alive(int(m["pid"])):
            _remove(Path(entry.path))
            removed.append(Path(entry.path))
    return removed


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def finalize_mode(path: Path) -> None:
    """Give a finished output the mode a plain ``open``/``mkdir`` would have (0644/0755 under umask 022)."""
    base = 0o777 if path.is_dir() else 0o666
    with contextlib.suppress(OSError):
        os.chmod(path, base & ~_umask())


def make_parent(dst: Path) -> None:
    try:
        dst.parent.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise output_error(e, dst) from None
    if not dst.parent.is_dir():
        raise FerEdgeError(f"{dst.parent}: is not a folder; choose another output path")


class PendingPath:
    """A temporary sibling of ``dst`` to write into; ``commit`` puts it in place, ``abort`` removes it.

    For writers that outlive one block (a video open across frames); ``atomic_path`` wraps it for the
    rest. ``keep_suffix`` ends the temporary name with ``dst``'s extension (``.clip.<pid>.x1y2.partial.mp4``),
    for writers that choose the format from it (OpenCV's video and image encoders). The existing ``dst``
    (with ``force``) is only removed after the new output is complete, and a folder is replaced as a whole.
    """

    def __init__(self, dst: Path, force: bool = False, directory: bool = False, keep_suffix: bool = False) -> None:
        self.dst = dst = Path(dst)
        check_destination(dst, force)
        make_parent(dst)
        remove_stale(dst.parent)
        pid = os.getpid()
        prefix = f".{dst.stem if keep_suffix else dst.name}.{pid}."
        suffix = f".partial{dst.suffix}" if keep_suffix else ".tmp"
        try:
            if directory:
                self.tmp = Path(tempfile.mkdtemp(prefix=prefix, suffix=suffix, dir=dst.parent))
            else:
                fd, name = tempfile.mkstemp(prefix=prefix, suffix=suffix, dir=dst.parent)
                os.close(fd)
                self.tmp = Path(name)
        except OSError as e:
            raise output_error(e, dst) from None

    def commit(self) -> Path:
        dst, tmp = self.dst, self.tmp
        try:
            finalize_mode(tmp)
            if tmp.is_file() and not dst.is_dir():  # one rename: readers see the old file or the new
                os.replace(tmp, dst)
            elif dst.exists() or dst.is_symlink():
                old = temp_name(dst, "old")
                _remove(old)
                dst.rename(old)
                try:
                    tmp.rename(dst)
                except BaseException:
                    old.rename(dst)
                    raise
                _remove(old)
            else:
                tmp.rename(dst)
        except OSError as e:
            self.abort()
            raise output_error(e, dst) from None
        return dst

    def abort(self) -> None:
        if self.tmp.exists() or self.tmp.is_symlink():
            _remove(self.tmp)


@contextlib.contextmanager
def atomic_path(dst: Path, force: bool = False, directory: bool = False, keep_suffix: bool = False) -> Iterator[Path]:
    """Yield a temporary sibling of ``dst``; on success it replaces ``dst``, on failure it is removed."""
    pending = PendingPath(dst, force=force, directory=directory, keep_suffix=keep_suffix)
    try:
        yield pending.tmp
    except OSError as e:
        pending.abort()
        if e.errno in (errno.ENOSPC, errno.EDQUOT, errno.EROFS):
            raise output_error(e, dst) from None
        raise
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
