"""Per-face event records as JSON lines (or CSV), flushed per frame, rotated by size.

One line per face per processed frame, with the fields ``fer-edge predict --format json`` writes plus
``time`` (wall clock, ISO 8601, UTC). A frame's lines go out in one ``write`` and are flushed, so after a
SIGKILL every line but possibly the last is whole. With ``max_bytes`` the file is rotated like logrotate
(``ev.jsonl`` -> ``ev.jsonl.1`` -> ... -> ``ev.jsonl.<keep>``, the oldest deleted), so an SD card never fills.
"""

from __future__ import annotations

import csv
import io
import json
import os
import sys
from collections.abc import Sequence
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, TextIO

from fer_edge.errors import FerEdgeError, os_error_message

DEFAULT_KEEP = 5


def utc_now_iso() -> str:
    """Wall-clock time as ISO 8601 in UTC with milliseconds, e.g. ``2026-12-04T18:10:11.123Z``."""
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


class EventLog:
    """Writes records to ``path`` (``-``: stdout) as JSON lines, or CSV when the name ends in ``.csv``."""

    def __init__(
        self,
        path: Path | str,
        fields: Sequence[str],
        *,
        max_bytes: int | None = None,
        keep: int = DEFAULT_KEEP,
        force: bool = False,
        append: bool = False,
    ) -> None:
        self.to_stdout = str(path) == "-"
        self.path = Path(str(path))
        self.csv = not self.to_stdout and self.path.suffix.lower() == ".csv"
        self.fields = ["time", *fields]
        self.max_bytes = max_bytes if max_bytes and max_bytes > 0 else None
        if keep < 1:
            raise FerEdgeError(f"--events-keep must be at least 1, got {keep}")
        self.keep = keep
        self.lines = 0
        self.rotations = 0
        self._stream: TextIO | None = None
        self._size = 0
        if not self.to_stdout:
            if self.path.is_dir():
                raise FerEdgeError(f"{self.path}: is a folder; give a file for --events (e.g. events.jsonl)")
            if self.path.exists() and not (force or append):
                raise FerEdgeError(
                    f"{self.path} already exists: choose another --events file, --events-append to go on with it, "
                    "or --force to replace it"
                )
            self._open(truncate=not append)

    def _open(self, truncate: bool) -> None:
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._stream = open(self.path, "w" if truncate else "a", encoding="utf-8", newline="")  # noqa: SIM115
        except OSError as e:
            raise FerEdgeError(os_error_message(e, self.path)) from None
        self._size = self._stream.tell()
        if self.csv and self._size == 0:
            self._stream.write(",".join(self.fields) + "\n")

    def write(self, records: Sequence[dict[str, Any]]) -> None:
        """One frame's records, stamped with the wall-clock time, in one write, flushed."""
        if not records:
            return
        now = utc_now_iso()
        if self.csv:
            buf = io.StringIO()
            writer = csv.DictWriter(buf, fieldnames=self.fields, lineterminator="\n", extrasaction="ignore")
            for rec in records:
                writer.writerow({"time": now, **rec})
            text = buf.getvalue()
        else:
            text = "".join(json.dumps({"time": now, **rec}) + "\n" for rec in records)
        stream = sys.stdout if self.to_stdout else self._stream
        if stream is None:
            return
        try:
            stream.write(text)
            stream.flush()
        except OSError as e:
            raise FerEdgeError(
                f"{self.path}: cannot write events ({e.strerror}); free space or choose another path"
            ) from None
        self.lines += len(records)
        self._size += len(text.encode("utf-8"))
        if self.max_bytes is not None and self._size >= self.max_bytes:
            self._rotate()

    def _rotate(self) -> None:
        assert self._stream is not None
        self._stream.close()
        oldest = self._numbered(self.keep)
        oldest.unlink(missing_ok=True)
        for k in range(self.keep - 1, 0, -1):
            src = self._numbered(k)
            if src.exists():
                os.replace(src, self._numbered(k + 1))
        os.replace(self.path, self._numbered(1))
        self.rotations += 1
        self._open(truncate=True)

    def _numbered(self, k: int) -> Path:
        return self.path.with_name(f"{self.path.name}.{k}")

    def close(self) -> None:
        if self._stream is not None:
            self._stream.close()
            self._stream = None
        elif self.to_stdout:
            sys.stdout.flush()
