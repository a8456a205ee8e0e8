"""Numba kernels of the text edge-list reader: count lines and parse numeric fields per byte block.

A file is memory-mapped and cut at line ends into blocks; :func:`count_newlines` sizes each block's
output, then :func:`parse_block` parses each block into its rows of preallocated arrays. Both
release the GIL (``nogil=True``), so the reader runs the blocks of a chunk on a thread pool; one
serial kernel compiles far faster than a ``prange`` one and costs no thread-pool wake-up on small
chunks. A block stops at the first line it cannot take and reports that line's byte offset, so the
caller can check it precisely in Python (see :mod:`vastgraph.graph.text_reader`).
"""

from __future__ import annotations

import math

import numba as nb
import numpy as np

# column kinds
K_SKIP, K_ID, K_INT, K_FLOAT, K_REL = 0, 1, 2, 3, 4


@nb.njit(nogil=True, cache=True)
def count_newlines(buf, start, end):  # pragma: no cover - numba
    """Newlines in the byte block ``buf[start:end]``."""
    c = 0
    for i in range(start, end):
        if buf[i] == 10:
            c += 1
    return c


@nb.njit(nogil=True, cache=True)
def _is_end(b, delim, comment):  # pragma: no cover - numba
    """True if byte ``b`` ends a field (delimiter, line end or comment)."""
    if b == 10 or b == 13 or b == comment:
        return True
    if delim < 0:
        return b == 32 or b == 9
    return b == delim


@nb.njit(nogil=True, cache=True)
def _skip_pad(buf, i, end, pad):  # pragma: no cover - numba
    if pad:
        while i < end and (buf[i] == 32 or buf[i] == 9):
            i += 1
    return i


@nb.njit(nogil=True, cache=True)
def _parse_int(buf, i, end, canonical):  # pragma: no cover - numba
    """Parse ``[+-]digits`` (at most 18 digits) at ``i``; returns (value, next index, ok)."""
    neg = False
    if i < end and (buf[i] == 45 or buf[i] == 43):
        if canonical:
            return 0, i, False
        neg = buf[i] == 45
        i += 1
    v = 0
    nd = 0
    start = i
    while i < end and 48 <= buf[i] <= 57:
        v = v * 10 + (buf[i] - 48)
        nd += 1
        i += 1
    if nd == 0 or nd > 18 or (canonical and nd > 1 and buf[start] == 48):
        return 0, i, False
    return (-v if neg else v), i, True


@nb.njit(nogil=True, cache=True)
def _parse_float(buf, i, end):  # pragma: no cover - numba
    """Parse a decimal number ``[+-]d[.d][e[+-]d]`` at ``i``; returns (value, next index, ok)."""
    neg = False
    if i < end and (buf[i] == 45 or buf[i] == 43):
        neg = buf[i] == 45
        i += 1
    m = 0
    exp = 0
    nd = 0
    sig = 0
    while i < end and 48 <= buf[i] <= 57:
        if sig < 18:
            m = m * 10 + (buf[i] - 48)
            if m > 0:
                sig += 1
        else:
            exp += 1
        nd += 1
        i += 1
    if i < end and buf[i] == 46:
        i += 1
        while i < end and 48 <= buf[i] <= 57:
            if sig < 18:
                m = m * 10 + (buf[i] - 48)
                exp -= 1
                if m > 0:
                    sig += 1
            nd += 1
            i += 1
    if nd == 0:
        return 0.0, i, False
    if i < end and (buf[i] == 101 or buf[i] == 69):
        i += 1
        eneg = False
        if i < end and (buf[i] == 45 or buf[i] == 43):
            eneg = buf[i] == 45
            i += 1
        e = 0
        ne = 0
        while i < end and 48 <= buf[i] <= 57:
            if e < 10000:
                e = e * 10 + (buf[i] - 48)
            ne += 1
            i += 1
        if ne == 0:
            return 0.0, i, False
        exp += -e if eneg else e
    if m == 0:
        v = 0.0
    elif exp >= 0:
        v = float(m) * 10.0 ** min(exp, 400)
    elif exp >= -22:
        v = float(m) / 10.0 ** (-exp)
    else:
        v = float(m) * 10.0 ** max(exp, -400)
    return (-v if neg else v), i, True


@nb.njit(nogil=True, cache=True)
def parse_block(buf, i, end, row, kinds, slots, delim, comment, dense,
                ints, floats):  # pragma: no cover - numba
    """Parse the lines of one block into ``ints``/``floats`` from ``row`` on.

    Returns (next row, byte offset of the first line it could not take or -1, that line's
    index within the block).
    """
    ncols = kinds.shape[0]
    pad = delim >= 0 and delim != 32 and delim != 9
    line = 0
    while i < end:
        ls = i
        if delim < 0:
            while i < end and (buf[i] == 32 or buf[i] == 9):
                i += 1
        if i >= end or buf[i] == 10 or buf[i] == 13 or buf[i] == comment:
            while i < end and buf[i] != 10:
                i += 1
            i += 1
            line += 1
            continue
        col = 0
        ok = True
        while True:
            if col >= ncols:
                ok = False
                break
            kind = kinds[col]
            if kind == K_SKIP:
                fs = i
                while i < end and not _is_end(buf[i], delim, comment):
                    i += 1
                ok = i > fs
            elif kind == K_FLOAT:
                i = _skip_pad(buf, i, end, pad)
                v, i, ok = _parse_float(buf, i, end)
                if ok:
                    f = np.float32(v)
                    ok = not (math.isinf(f) or math.isnan(f))
                    floats[slots[col], row] = f
                i = _skip_pad(buf, i, end, pad)
            else:
                i = _skip_pad(buf, i, end, pad)
                iv, i, ok = _parse_int(buf, i, end, kind == K_REL)
                if ok and kind == K_ID and dense and iv < 0:
                    ok = False
                ints[slots[col], row] = iv
                i = _skip_pad(buf, i, end, pad)
            if not ok or (i < end and not _is_end(buf[i], delim, comment)):
                ok = False
                break
            col += 1
            if i >= end or buf[i] == 10 or buf[i] == 13 or buf[i] == comment:
                break
            if delim < 0:
                while i < end and (buf[i] == 32 or buf[i] == 9):
                    i += 1
                if i >= end or buf[i] == 10 or buf[i] == 13 or buf[i] == comment:
                    break
            else:
                i += 1
        if not ok or col < ncols:
            return row, ls, line
        if i < end and buf[i] == 13:
            i += 1
            if i < end and buf[i] != 10:
                return row, ls, line
        if i < end and buf[i] == comment:
            while i < end and buf[i] != 10:
                i += 1
        i += 1
        row += 1
        line += 1
    return row, -1, line
