"""Vectorized parsing of rows of small integers (CSV pixel rows) without a Python loop per value.

FER-2013 as CSV is 35,887 rows of 2,304 numbers: splitting that into 82 M Python strings (or
``np.fromstring``) takes tens of seconds, so the digits are decoded with array arithmetic.
Values have at most three digits, so each number is read from the three bytes at its start.
Rows are parsed in blocks so the temporary arrays stay small enough to be reused (large
allocations are page-faulted afresh each time, which cost more than the arithmetic).
"""

from __future__ import annotations

import numpy as np

_ALLOWED = np.zeros(256, dtype=bool)
_ALLOWED[[ord(c) for c in "0123456789 ,\t\r\n"]] = True
_ZERO = ord("0")
_ROWS_PER_BLOCK = 512


class RowError(ValueError):
    """A row that does not hold the expected numbers; ``row`` is 0-based among the given lines."""

    def __init__(self, row: int, message: str) -> None:
        super().__init__(message)
        self.row = row


def _is_digit(a: np.ndarray) -> np.ndarray:
    return (a >= _ZERO) & (a <= _ZERO + 9)


def _parse_block(block: bytes, width: int, max_value: int) -> np.ndarray:
    """Rows of one block (ending in a newline); RowError rows are relative to the block."""
    n = len(block)
    buf = np.frombuffer(block + b"\n\n\n", dtype=np.uint8)  # padding for the 4-byte look-ahead
    newlines = np.flatnonzero(buf[:n] == ord("\n"))
    bad = ~_ALLOWED[buf[:n]]
    if bad.any():
        pos = int(np.argmax(bad))
        ch = chr(buf[pos]) if 32 <= buf[pos] < 127 else f"\\x{buf[pos]:02x}"
        raise RowError(int(np.searchsorted(newlines, pos)), f"holds {ch!r}: values must be integers 0-{max_value}")
    is_digit = _is_digit(buf)
    starts = np.flatnonzero(is_digit[1:n] & ~is_digit[: n - 1]) + 1
    if is_digit[0]:
        starts = np.concatenate(([0], starts))
    per_row = np.diff(np.searchsorted(starts, newlines), prepend=0)
    wrong = np.flatnonzero(per_row != width)
    if wrong.size:
        r = int(wrong[0])
        raise RowError(r, f"has {int(per_row[r])} values, expected {width}")
    d0 = buf[starts].astype(np.int32) - _ZERO
    d1, d2 = buf[1:][starts], buf[2:][starts]
    two = _is_digit(d1)
    three = two & _is_digit(d2)
    four = three & is_digit[3:][starts]
    if four.any():
        row = int(np.searchsorted(newlines, starts[np.argmax(four)]))
        raise RowError(row, f"holds a value above {max_value}")
    values = np.where(two, d0 * 10 + d1 - _ZERO, d0)
    values = np.where(three, values * 10 + d2 - _ZERO, values)
    if values.size and values.max() > max_value:
        t = int(np.argmax(values > max_value))
        row = int(np.searchsorted(newlines, starts[t]))
        raise RowError(row, f"holds the value {int(values[t])}, above {max_value}")
    return values.reshape(len(newlines), width)


def parse_int_rows(text: bytes, width: int, max_value: int = 255) -> np.ndarray:
    """Parse newline-separated rows of ``width`` integers 0-``max_value`` (``max_value`` < 1000).

    Separators may be spaces, commas or tabs. Returns int32 (rows, width); raises ``RowError``
    naming the first bad row (0-based).
    """
    if not text.endswith(b"\n"):
        text += b"\n"
    ends = np.flatnonzero(np.frombuffer(text, dtype=np.uint8) == ord("\n")) + 1
    out = np.empty((len(ends), width), dtype=np.int32)
    begin = 0
    for r0 in range(0, len(ends), _ROWS_PER_BLOCK):
        r1 = min(r0 + _ROWS_PER_BLOCK, len(ends))
        end = int(ends[r1 - 1])
        try:
            out[r0:r1] = _parse_block(text[begin:end], width, max_value)
        except RowError as e:
            raise RowError(e.row + r0, str(e)) from None
        begin = end
    return out
